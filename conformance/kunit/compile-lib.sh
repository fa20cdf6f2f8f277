#!/usr/bin/env bash
# Compile-check an exported libmultipath KUnit suite against a kernel tree
# that does not carry the series (Linux 6.12): the suite is built as one
# object with the kernel's own flags, against the declarations-only
# libmultipath/multipath.h. It does not link or run. The tree is restored.
#
# usage: compile-lib.sh <tree> <suite.c> <configured-build-dir>
#   configured-build-dir: an O= dir with a .config that has CONFIG_KUNIT=y
#   (the UML dir kunit.py made for the nvme-6.12 run).
# Exit codes: 0 compiled; 1 compile errors; 2 usage; 3 tree/build dir invalid.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { local c=$1; shift; echo "compile-lib: error: $*" >&2; exit "$c"; }
[ $# -eq 3 ] || die 2 "usage: compile-lib.sh <tree> <suite.c> <configured-build-dir>"
TREE="$(cd "$1" 2>/dev/null && pwd)" || die 3 "no such tree: $1"
SUITE="$(cd "$(dirname "$2")" 2>/dev/null && pwd)/$(basename "$2")"
[ -f "$SUITE" ] || die 2 "no such suite: $2"
BUILD="$(cd "$3" 2>/dev/null && pwd)" || die 3 "no such build dir: $3"
[ -f "$BUILD/.config" ] || die 3 "$BUILD has no .config (run the nvme-6.12 kunit run first)"
grep -q '^CONFIG_KUNIT=y' "$BUILD/.config" || die 3 "$BUILD/.config lacks CONFIG_KUNIT=y"
[ -f "$TREE/lib/Makefile" ] || die 3 "tree lacks lib/Makefile"

ADDED=(lib/mpv_lib_test.c)
OWN_HEADER=1
if [ ! -f "$TREE/include/linux/multipath.h" ]; then
    OWN_HEADER=0
    ADDED+=(include/linux/multipath.h)
fi
BACKUP="$BUILD/.mpv-lib-backup"
restore() {
    [ -f "$BACKUP/Makefile" ] && cp -p "$BACKUP/Makefile" "$TREE/lib/Makefile"
    local f; for f in "${ADDED[@]}"; do rm -f "$TREE/$f"; done
    rm -rf "$BACKUP"
}
[ -d "$BACKUP" ] && restore
mkdir -p "$BACKUP" && cp -p "$TREE/lib/Makefile" "$BACKUP/Makefile" || die 3 "cannot back up lib/Makefile"
trap restore EXIT
trap 'exit 130' INT TERM
[ "$OWN_HEADER" = 0 ] && cp "$HERE/libmultipath/multipath.h" "$TREE/include/linux/multipath.h"
cp "$SUITE" "$TREE/lib/mpv_lib_test.c"
echo 'obj-y += mpv_lib_test.o' >> "$TREE/lib/Makefile"
echo "compile-lib: building lib/mpv_lib_test.o ($([ "$OWN_HEADER" = 1 ] && echo "tree's own multipath.h" || echo "declarations-only multipath.h"))" >&2
if make -s -C "$TREE" ARCH=um O="$BUILD" -j"${MPV_JOBS:-2}" lib/mpv_lib_test.o; then
    echo "compile-lib: OK"
    exit 0
fi
echo "compile-lib: FAILED" >&2
exit 1
