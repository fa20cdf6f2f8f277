#!/usr/bin/env bash
# Regenerate the kernel-drivable traces (revision nvme-6.12, node 0) with
# fixed seeds. conformance/tests checks the files equal what gen produces.
set -euo pipefail
cd "$(dirname "$0")"
MPV=${MPV:-../../../target/release/mpath-verify}
for s in 1 2 3 4 5 6 7 8; do
    paths=$(( (s * 5) % 14 + 1 ))
    "$MPV" gen --kernel --seed "$s" --ops 120 --paths "$paths" -o "k-seed-$s.jsonl"
done
