#!/usr/bin/env bash
# Regenerate the generated trace set from MANIFEST (fixed seeds).
# usage: conformance/traces/gen/regen.sh   (from anywhere in the workspace)
# The files are byte-for-byte deterministic: conformance/tests/corpus.rs
# fails if a checked-in file differs from what `gen` produces now.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
cd "$ROOT"
cargo build -q -p mpath-verify
BIN="$ROOT/target/debug/mpath-verify"
n=0
while read -r file seed ops rev driver kernel; do
    case "$file" in ''|'#'*) continue;; esac
    args=(gen --seed "$seed" --ops "$ops" -o "$HERE/$file")
    if [ "${kernel:-}" = kernel ]; then
        args+=(--kernel)
    else
        args+=(--revision "$rev" --driver "$driver")
    fi
    "$BIN" "${args[@]}"
    n=$((n + 1))
done < "$HERE/MANIFEST"
echo "regen: wrote $n traces into $HERE" >&2
