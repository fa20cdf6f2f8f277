#!/usr/bin/env bash
# Build and run one mpath-verify KUnit suite against Linux 6.12 NVMe multipath
# under UML, then restore the kernel tree exactly.
#
# usage: run-kunit.sh <tree> <suite.c> <build-dir> [ktap-out]
#   tree       unpacked linux-source-6.12 (see setup-kernel.sh)
#   suite.c    the KUnit suite; it may #include "mpv_harness.h"
#   build-dir  kbuild output dir (O=), outside the tree; reuse it for
#              incremental builds
#   ktap-out   raw console/KTAP output file (default <build-dir>/mpv.ktap)
#
# Environment: MPV_JOBS (default 2), MPV_TIMEOUT (seconds, default 300),
#   MPV_KUNIT_FILTER (optional kunit.py filter_glob, e.g. "mpv_*").
#
# Exit codes: 0 all tests ok; 1 some test not ok; 2 usage; 3 tree invalid;
#   4 kunit.py failed (config/build/boot) before any result; 5 no result for
#   any suite in the output (crash/timeout).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { local c=$1; shift; echo "run-kunit: error: $*" >&2; exit "$c"; }

[ $# -ge 3 ] && [ $# -le 4 ] || die 2 "usage: run-kunit.sh <tree> <suite.c> <build-dir> [ktap-out]"
TREE="$(cd "$1" 2>/dev/null && pwd)" || die 3 "no such tree: $1"
SUITE="$2"
[ -f "$SUITE" ] || die 2 "no such suite file: $SUITE"
SUITE="$(cd "$(dirname "$SUITE")" && pwd)/$(basename "$SUITE")"
mkdir -p "$3" || die 2 "cannot create build dir $3"
BUILD="$(cd "$3" && pwd)"
KTAP="${4:-$BUILD/mpv.ktap}"
case "$BUILD/" in "$TREE"/*) die 2 "build dir must be outside the tree";; esac
JOBS="${MPV_JOBS:-2}"
TIMEOUT="${MPV_TIMEOUT:-300}"

HOSTDIR="$TREE/drivers/nvme/host"
for f in "$HOSTDIR/multipath.c" "$HOSTDIR/Kconfig" "$HOSTDIR/Makefile" "$TREE/tools/testing/kunit/kunit.py"; do
    [ -f "$f" ] || die 3 "tree lacks $f"
done

# Files we modify (backed up and restored) and files we add (removed).
TOUCHED=(drivers/nvme/host/Kconfig drivers/nvme/host/Makefile)
ADDED=(drivers/nvme/host/mpv_test.c drivers/nvme/host/mpv_harness.h)
BACKUP="$BUILD/.mpv-backup"

restore() {
    local f
    if [ -d "$BACKUP" ]; then
        for f in "${TOUCHED[@]}"; do
            [ -f "$BACKUP/$f" ] && cp -p "$BACKUP/$f" "$TREE/$f"
        done
    fi
    for f in "${ADDED[@]}"; do rm -f "$TREE/$f"; done
    rm -rf "$BACKUP"
}

# A previous run killed before its trap ran leaves a backup: restore it first.
if [ -d "$BACKUP" ]; then
    echo "run-kunit: restoring tree from a previous interrupted run" >&2
    restore
fi
if grep -q NVME_MPATH_VERIFY "$HOSTDIR/Kconfig" "$HOSTDIR/Makefile"; then
    die 3 "tree already contains mpath-verify wiring with no backup to restore from; re-unpack it"
fi

mkdir -p "$BACKUP"
for f in "${TOUCHED[@]}"; do
    mkdir -p "$BACKUP/$(dirname "$f")"
    cp -p "$TREE/$f" "$BACKUP/$f" || die 3 "cannot back up $f"
done
trap restore EXIT
trap 'exit 130' INT TERM

cat "$HERE/wiring/Kconfig.fragment" >> "$HOSTDIR/Kconfig"
cat "$HERE/wiring/Makefile.fragment" >> "$HOSTDIR/Makefile"
cp "$HERE/nvme-6.12/mpv_harness.h" "$HOSTDIR/mpv_harness.h"
cp "$SUITE" "$HOSTDIR/mpv_test.c"

args=(run --kunitconfig="$HERE/nvme-6.12.kunitconfig" --arch=um
      --build_dir="$BUILD" --jobs="$JOBS" --timeout="$TIMEOUT" --raw_output=all)
[ -n "${MPV_KUNIT_FILTER:-}" ] && args+=("$MPV_KUNIT_FILTER")

start=$(date +%s)
( cd "$TREE" && python3 tools/testing/kunit/kunit.py "${args[@]}" ) > "$KTAP" 2> "$KTAP.stderr"
rc=$?
end=$(date +%s)
echo "run-kunit: kunit.py exit $rc after $((end - start)) s; output in $KTAP" >&2

# Verdict from the raw KTAP (kunit.py does not parse it with --raw_output).
if ! grep -Eq '^[[:space:]]*(ok|not ok) [0-9]+ ' "$KTAP"; then
    tail -n 30 "$KTAP.stderr" >&2
    tail -n 30 "$KTAP" >&2
    [ $rc -ne 0 ] && die 4 "kunit.py failed (exit $rc) before producing results; see $KTAP.stderr"
    die 5 "no KTAP results in $KTAP"
fi
if grep -Eq '^[[:space:]]*not ok [0-9]+ ' "$KTAP"; then
    grep -E '^[[:space:]]*(not ok [0-9]+ |# mpv: |.*Expected|.*EXPECTATION FAILED)' "$KTAP" | grep -B3 -A3 -E 'not ok|FAILED|Expected' >&2 || true
    echo "run-kunit: FAILED" >&2
    exit 1
fi
echo "run-kunit: all ok" >&2
exit 0
