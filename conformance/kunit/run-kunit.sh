#!/usr/bin/env bash
# Build and run one mpath-verify KUnit suite against Linux 6.12 NVMe multipath
# under UML, then restore the kernel tree exactly.
#
# usage: run-kunit.sh <tree> <suite.c> <build-dir> [ktap-out]
#   tree       unpacked linux-source-6.12 (see setup-kernel.sh), or a tree
#              carrying the libmultipath series (`mpath-verify series prepare`)
#   suite.c    the nvme-6.12 KUnit suite; it may #include "mpv_harness.h"
#   MPV_LIB_SUITE (env) the libmultipath suite (lib/mpv_lib_test.c). A tree
#              that carries the series (lib/multipath.c) is always wired for
#              both suites, so one build directory serves both backends;
#              MPV_KUNIT_FILTER picks the suite that runs.
#   build-dir  kbuild output dir (O=), outside the tree; reuse it for
#              incremental builds
#   ktap-out   raw console/KTAP output file (default <build-dir>/mpv.ktap)
#
# Environment: MPV_JOBS (default 2), MPV_TIMEOUT (seconds, default 300),
#   MPV_KUNIT_FILTER (optional kunit.py filter_glob, e.g. "mpv_*"),
#   MPV_PATCHES (newline-separated patch files against files of the
#   tree, -p1 paths, '--- a/' and '+++ b/' names): applied in order after the wiring (the race
#   suite's schedule points, a mutant as C) and reverted with it; a patch
#   that does not apply exactly (no fuzz: a drifted tree must not get its
#   points in the wrong place) stops the run with exit 6 naming the hunk. A
#   reverted file gets a new mtime, so its object is rebuilt next time.
#   MPV_DEBUG=1 adds nvme-6.12-debug.kunitconfig (lockdep, DEBUG_LIST,
#   soft-lockup panic with watchdog_thresh=5); use a separate build dir for
#   it, since switching configs in one build dir rebuilds nearly everything.
#   MPV_KASAN=0 (x86_64 only) leaves out x86_64-kasan.kunitconfig: the
#   benchmark build (`mpath-verify bench run --arch x86_64`), whose timings
#   must not include KASAN's instrumentation; it needs its own build dir.
#
# Output: ktap_verdict.py's report on stdout (FAIL <case> at <trace>:<step>,
#   UNFINISHED at <trace>:<step>, closing "mpv-kunit: N passed, N failed");
#   progress and errors on stderr.
# Exit codes: 0 all cases ok; 1 some case not ok; 2 usage (or an unusable
#   build dir); 3 tree invalid; 4 kunit.py failed (config/build/boot) before
#   any KTAP; 5 KTAP incomplete (kernel crash, or a hang killed by kunit.py
#   --timeout); 6 a patch of MPV_PATCHES does not apply; 7 another run holds
#   the tree (MPV_WAIT_FOR_TREE=1 waits for it instead); 130 interrupted.
#
# Interruption: SIGINT / SIGTERM at any stage (wiring, build, boot, verdict)
#   stops the build or boot (its own session) and restores the tree: every
#   touched file's content back, every added file gone (further signals are
#   ignored while restoring). The run also stops when the process that
#   started it dies. A run killed outright (SIGKILL) leaves its backup next
#   to the tree; the next run restores from it first. Tested with a stand-in
#   tree by conformance/tests/interrupt.rs (MPV_TEST_HOLD=<stage> parks the
#   script at a stage so a signal lands there).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { local c=$1; shift; echo "run-kunit: error: $*" >&2; exit "$c"; }

[ $# -ge 3 ] && [ $# -le 4 ] || die 2 "usage: run-kunit.sh <tree> <suite.c> <build-dir> [ktap-out]"
TREE="$(cd "$1" 2>/dev/null && pwd)" || die 3 "no such tree: $1"
SUITE="$2"
[ -f "$SUITE" ] || die 2 "no such suite file: $SUITE"
SUITE="$(cd "$(dirname "$SUITE")" && pwd)/$(basename "$SUITE")"
mkdir -p "$3" 2>/dev/null || die 2 "cannot create build dir $3"
BUILD="$(cd "$3" && pwd)"
# An unusable build dir (read-only, full) is a one-line error here, not a
# traceback from kunit.py later.
probe="$BUILD/.mpv-write-probe.$$"
if ! { : > "$probe" && printf 'mpath-verify write probe\n' >> "$probe"; } 2>/dev/null; then
    rm -f "$probe" 2>/dev/null
    die 2 "build dir $BUILD is not writable (read-only, permissions or a full disk)"
fi
rm -f "$probe"
KTAP="${4:-$BUILD/mpv.ktap}"
case "$BUILD/" in "$TREE"/*) die 2 "build dir must be outside the tree";; esac
JOBS="${MPV_JOBS:-2}"
# MPV_ARCH: um (default; UML, one CPU, Tiny SRCU, no NUMA) or x86_64 (QEMU,
# KVM when /dev/kvm is usable, TCG otherwise; SMP, Tree SRCU, NUMA nodes as
# MPV_QEMU_ARGS describes them, default two nodes of one CPU each).
TIMEOUT="${MPV_TIMEOUT:-300}"
ARCH="${MPV_ARCH:-um}"
case "$ARCH" in um|x86_64) ;; *) die 2 "MPV_ARCH must be um or x86_64, not $ARCH";; esac
QEMU_TOPOLOGY="${MPV_QEMU_ARGS:--smp 2 -object memory-backend-ram,size=512M,id=m0 -object memory-backend-ram,size=512M,id=m1 -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1}"

# KVM when /dev/kvm is there and a 5 s probe of `-accel kvm -cpu host` does
# not abort (nested KVM on some hosts refuses an MSR and QEMU asserts);
# TCG otherwise, with a notice. MPV_QEMU_ACCEL=kvm|tcg forces a choice.
# The chosen accelerator is also written to $KTAP.accel (the benches label
# their figures with it: TCG timings are emulated, not comparable).
qemu_accel() {
    local out rc
    case "${MPV_QEMU_ACCEL:-auto}" in
        kvm) echo "-accel kvm -cpu host"; return;;
        tcg) echo "-accel tcg"; return;;
    esac
    if [ -w /dev/kvm ]; then
        out=$(timeout 5 qemu-system-x86_64 -accel kvm -cpu host -nodefaults -display none \
              -no-reboot -m 64 -bios qboot.rom 2>&1)
        rc=$?
        if [ $rc -eq 124 ] || [ $rc -eq 0 ]; then
            echo "-accel kvm -cpu host"
            return
        fi
        # MPV_KVM_CPU_FALLBACK=1 (the benches): a host that refuses only
        # IA32_ARCH_CAPABILITIES (MSR 0x10a, nested KVM) runs the guest
        # without that CPUID bit instead of falling back to TCG.
        if [ "${MPV_KVM_CPU_FALLBACK:-0}" = 1 ] && echo "$out" | grep -q 'MSR 0x10a'; then
            timeout 5 qemu-system-x86_64 -accel kvm -cpu host,-arch-capabilities -nodefaults -display none \
                -no-reboot -m 64 -bios qboot.rom > /dev/null 2>&1
            rc=$?
            if [ $rc -eq 124 ] || [ $rc -eq 0 ]; then
                echo "run-kunit: NOTICE: KVM refuses MSR 0x10a with -cpu host: running -cpu host,-arch-capabilities" >&2
                echo "-accel kvm -cpu host,-arch-capabilities"
                return
            fi
        fi
        echo "run-kunit: NOTICE: KVM unusable here ($(echo "$out" | head -n 1)): QEMU runs under TCG (slower, same results)" >&2
    else
        echo "run-kunit: NOTICE: /dev/kvm is not usable here: QEMU runs under TCG (slower, same results)" >&2
    fi
    echo "-accel tcg"
}

# Boot the built kernel of $BUILD once with the KUnit filter
# $MPV_KUNIT_FILTER, console to $KTAP, in the background (sets $child).
boot_kernel() {
    if [ "$ARCH" = um ]; then
        echo "um" > "$KTAP.accel"
        kargs=(mem=1G console=tty kunit_shutdown=halt kunit.enable=1)
        [ -n "${MPV_KUNIT_FILTER:-}" ] && kargs+=("kunit.filter_glob=$MPV_KUNIT_FILTER")
        [ "${MPV_DEBUG:-0}" = 1 ] && kargs+=(watchdog_thresh=5)
        ( exec setsid timeout --signal=KILL "$TIMEOUT" "$BUILD/linux" "${kargs[@]}" ) \
            < /dev/null > "$KTAP" 2>> "$KTAP.stderr" &
    else
        accel=$(qemu_accel)
        echo "$accel" > "$KTAP.accel"
        # A KVM that passes the probe but cannot boot the guest is given
        # MPV_KVM_TIMEOUT; boot_and_wait then boots again under TCG.
        local t="$TIMEOUT"
        local kasan_args=()
        [ "${MPV_KASAN:-1}" = 0 ] || kasan_args=(--kernel_args=kasan_multi_shot)
        case "$accel" in *kvm*) t="${MPV_KVM_TIMEOUT:-180}";; esac
        # tsc=unstable: no switch to the TSC clocksource late in the boot.
        # That switch is a stop_machine(), which waits for every CPU; a
        # selection the trace expects to spin holds one CPU (no preemption)
        # until the watcher on the other lets it out, and the watcher then
        # sits in the stop_machine: the boot hung (measured: 1 boot in 5
        # under TCG, where the TSC refinement lands seconds into the tests).
        # kasan_multi_shot: every KASAN report is printed, not only a boot's
        # first (one boot runs many cases).
        ( cd "$TREE" && exec setsid timeout --signal=KILL "$t" python3 tools/testing/kunit/kunit.py exec \
            --arch=x86_64 --build_dir="$BUILD" --raw_output=all --timeout="$t" \
            --kernel_args=tsc=unstable ${kasan_args[@]+"${kasan_args[@]}"} \
            --qemu_args="$accel $QEMU_TOPOLOGY" ${MPV_KUNIT_FILTER:+"$MPV_KUNIT_FILTER"} ) \
            < /dev/null > "$KTAP" 2>> "$KTAP.stderr" &
    fi
    child=$!
}

# Boot and wait; a KVM boot that never reached KUnit is retried under TCG.
boot_and_wait() {
    local rc
    boot_kernel
    wait "$child"
    rc=$?
    if [ "$ARCH" = x86_64 ] && [[ "$accel" == *kvm* ]] && ! grep -q 'KTAP version' "$KTAP"; then
        echo "run-kunit: NOTICE: the guest did not reach KUnit under KVM (exit $rc): booting it again under TCG" >&2
        MPV_QEMU_ACCEL=tcg boot_kernel
        wait "$child"
        rc=$?
    fi
    return $rc
}

# MPV_BOOT_ONLY=1: boot what is built, touch nothing (a case expected to
# oops runs alone this way).
if [ "${MPV_BOOT_ONLY:-0}" = 1 ]; then
    [ -e "$BUILD/.config" ] || die 4 "nothing built in $BUILD"
    boot_and_wait
    exit 0
fi

HOSTDIR="$TREE/drivers/nvme/host"
for f in "$HOSTDIR/multipath.c" "$HOSTDIR/Kconfig" "$HOSTDIR/Makefile" "$TREE/tools/testing/kunit/kunit.py"; do
    [ -f "$f" ] || die 3 "tree lacks $f"
done

# Files we modify (backed up and restored) and files we add (removed).
TOUCHED=(drivers/nvme/host/Kconfig drivers/nvme/host/Makefile)
ADDED=(drivers/nvme/host/mpv_test.c drivers/nvme/host/mpv_harness.h drivers/nvme/host/mpv_common.h)
LIB=0
if [ -f "$TREE/lib/multipath.c" ]; then
    LIB=1
    [ -n "${MPV_LIB_SUITE:-}" ] && [ -f "$MPV_LIB_SUITE" ] || die 2 "tree carries lib/multipath.c: MPV_LIB_SUITE must name the libmultipath suite"
    MPV_LIB_SUITE="$(cd "$(dirname "$MPV_LIB_SUITE")" && pwd)/$(basename "$MPV_LIB_SUITE")"
    TOUCHED+=(lib/Kconfig.debug lib/Makefile)
    ADDED+=(lib/mpv_lib_test.c)
fi
BACKUP="$TREE.mpv-backup"   # next to the tree, shared by all build dirs

restore() {
    local f
    trap '' INT TERM   # a second signal must not cut the restore short
    [ -n "${watcher:-}" ] && kill "$watcher" 2>/dev/null
    if [ -d "$BACKUP" ]; then
        for f in "${TOUCHED[@]}"; do
            [ -f "$BACKUP/$f" ] && cp -p "$BACKUP/$f" "$TREE/$f"
        done
    fi
    for f in "${ADDED[@]}"; do rm -f "$TREE/$f"; done
    # Patched files: content back, mtime now (their objects must rebuild).
    if [ -f "$BACKUP/patched.list" ]; then
        while IFS= read -r f; do
            [ -n "$f" ] && [ -f "$BACKUP/patched/$f" ] && cat "$BACKUP/patched/$f" > "$TREE/$f.mpv-new" && mv "$TREE/$f.mpv-new" "$TREE/$f"
        done < "$BACKUP/patched.list"
    fi
    [ -f "$BACKUP/hostdir.mtime" ] && touch -r "$BACKUP/hostdir.mtime" "$HOSTDIR"
    [ -f "$BACKUP/libdir.mtime" ] && touch -r "$BACKUP/libdir.mtime" "$TREE/lib"
    rm -rf "$BACKUP"
    : > "$LOCK" 2>/dev/null   # no holder any more
}

# MPV_TEST_HOLD=<stage> (tests only): park at that stage until signalled.
hold() {
    [ "${MPV_TEST_HOLD:-}" = "$1" ] || return 0
    echo "$1" > "$BUILD/mpv-hold"
    while :; do sleep 0.05; done
}

# One run per tree at a time (they edit the same Kconfig/Makefile). The lock
# file sits next to the tree, not inside it; it is an flock, so a killed
# run's lock is released with its process, and the file names the holder.
LOCK="$TREE.mpv-lock"
{ exec 9<>"$LOCK"; } 2>/dev/null || die 3 "cannot create lock file $LOCK"
if ! flock -n 9; then
    holder=$(head -c 200 "$LOCK" 2>/dev/null | tr '\n' ' ')
    [ "${MPV_WAIT_FOR_TREE:-0}" = 1 ] || die 7 "$TREE is in use by another mpath-verify run (${holder:-holder unknown}); wait for it, or set MPV_WAIT_FOR_TREE=1 to queue behind it"
    echo "run-kunit: waiting for another run on $TREE (${holder:-holder unknown})" >&2
    flock 9 || die 3 "cannot lock $LOCK"
fi
prev=$(head -c 200 "$LOCK" 2>/dev/null | sed -n 's/^pid \([0-9][0-9]*\) .*/\1/p')
if [ -n "$prev" ] && [ -d "$BACKUP" ]; then
    echo "run-kunit: the previous run on $TREE (pid $prev) was killed before it could restore the tree: its lock was stale and is cleared" >&2
fi
printf 'pid %s started %s by %s\n' "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${USER:-uid $(id -u)}" > "$LOCK"

# A previous run killed before its trap ran leaves a backup: restore it first.
if [ -d "$BACKUP" ]; then
    echo "run-kunit: restoring tree from a previous interrupted run" >&2
    restore
fi
if grep -q MPATH_VERIFY "$HOSTDIR/Kconfig" "$HOSTDIR/Makefile" || { [ $LIB = 1 ] && grep -q MPATH_VERIFY "$TREE/lib/Kconfig.debug" "$TREE/lib/Makefile"; }; then
    die 3 "tree already contains mpath-verify wiring with no backup to restore from; re-unpack it"
fi
if grep -q MPV_SCHED "$HOSTDIR/multipath.c"; then
    die 3 "$HOSTDIR/multipath.c carries mpath-verify schedule points with no backup to restore from; re-unpack the tree"
fi

mkdir -p "$BACKUP"
touch -r "$HOSTDIR" "$BACKUP/hostdir.mtime"   # adding/removing files changes it
touch -r "$TREE/lib" "$BACKUP/libdir.mtime"
for f in "${TOUCHED[@]}"; do
    mkdir -p "$BACKUP/$(dirname "$f")"
    cp -p "$TREE/$f" "$BACKUP/$f" || die 3 "cannot back up $f"
done
trap restore EXIT
trap 'exit 130' INT TERM
# Stop (and restore) when the process that started this run goes away, e.g.
# `mpath-verify kunit run` killed with SIGTERM alone.
parent=$PPID
( trap - INT TERM; exec 9>&-
  while kill -0 "$parent" 2>/dev/null && kill -0 $$ 2>/dev/null; do sleep 1; done
  kill -TERM $$ 2>/dev/null ) &
watcher=$!

# Append by writing a new file and renaming it over the old one: the tree
# may share inodes with another (cp -al) and must never be edited in place.
append() { cat "$TREE/$1" "$2" > "$TREE/$1.mpv-new" && mv "$TREE/$1.mpv-new" "$TREE/$1"; }
append drivers/nvme/host/Kconfig "$HERE/wiring/Kconfig.fragment"
append drivers/nvme/host/Makefile "$HERE/wiring/Makefile.fragment"
cp "$HERE/nvme-6.12/mpv_harness.h" "$HOSTDIR/mpv_harness.h"
cp "$HERE/mpv_common.h" "$HOSTDIR/mpv_common.h"
# Copy suites only when they changed, so an unchanged suite is not rebuilt.
place() { cmp -s "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
place "$SUITE" "$HOSTDIR/mpv_test.c"
if [ $LIB = 1 ]; then
    append lib/Kconfig.debug "$HERE/wiring/lib-Kconfig.fragment"
    append lib/Makefile "$HERE/wiring/lib-Makefile.fragment"
    place "$MPV_LIB_SUITE" "$TREE/lib/mpv_lib_test.c"
fi

# MPV_PATCHES: a patch names its files in '+++ b/<file>' lines; each file's
# part is applied on its own: the file is backed up once, patched into a
# new file and renamed over the old one.
while IFS= read -r p; do
    [ -n "$p" ] || continue
    [ -f "$p" ] || die 2 "no such patch: $p"
    files=$(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p")
    [ -n "$files" ] || die 6 "$p: names no file (no '+++ b/<file>' line)"
    for f in $files; do
        [ -f "$TREE/$f" ] || die 6 "$p: names $f, which $TREE lacks"
        # This file's part: from its '--- a/<file>' line to the next file's.
        awk -v f="a/$f" '/^--- a\//{ keep = ($2 == f) } keep' "$p" > "$BACKUP/one.patch"
        if [ ! -f "$BACKUP/patched/$f" ]; then
            mkdir -p "$BACKUP/patched/$(dirname "$f")"
            cp -p "$TREE/$f" "$BACKUP/patched/$f" || die 3 "cannot back up $f"
            echo "$f" >> "$BACKUP/patched.list"
        fi
        if ! out=$(patch -N -F 0 -o "$TREE/$f.mpv-new" "$TREE/$f" -i "$BACKUP/one.patch" 2>&1); then
            rm -f "$TREE/$f.mpv-new" "$TREE/$f.mpv-new.rej"
            why=$(echo "$out" | grep -i 'hunk #\|malformed\|reversed\|only garbage' | tr '\n' ' ')
            [ -n "$why" ] || why=$(echo "$out" | head -n 1)
            die 6 "$(basename "$p") does not apply to $f in $TREE: $why"
        fi
        mv "$TREE/$f.mpv-new" "$TREE/$f"
        echo "run-kunit: applied $(basename "$p") to $f" >&2
    done
done <<< "${MPV_PATCHES:-}"
hold wired

start=$(date +%s)
# kunit.py builds the kernel; the UML binary is then run directly with its
# console on a regular file. (Through kunit.py the console is a pipe, and
# UML's console drops whatever it cannot write at once: large suites lost
# KTAP lines that way.) Each runs in its own session (setsid) in the
# background, so that a signal to this script stops it and its children at
# once, and the tree is restored only after they are gone.
child=
stop_child() {
    [ -n "$child" ] && kill -TERM -- "-$child" 2>/dev/null && wait "$child" 2>/dev/null
    exit 130
}
trap stop_child INT TERM
build_args=(build --kunitconfig="$HERE/nvme-6.12.kunitconfig" --arch="$ARCH"
            --build_dir="$BUILD" --jobs="$JOBS")
[ "$ARCH" = x86_64 ] && build_args+=(--kunitconfig="$HERE/x86_64-numa.kunitconfig")
[ "$ARCH" = x86_64 ] && [ "${MPV_KASAN:-1}" != 0 ] && build_args+=(--kunitconfig="$HERE/x86_64-kasan.kunitconfig")
[ $LIB = 1 ] && build_args+=(--kunitconfig="$HERE/libmultipath.kunitconfig")
[ "${MPV_DEBUG:-0}" = 1 ] && build_args+=(--kunitconfig="$HERE/nvme-6.12-debug.kunitconfig")
( cd "$TREE" && exec setsid python3 tools/testing/kunit/kunit.py "${build_args[@]}" ) \
    > "$KTAP.build" 2> "$KTAP.stderr" &
child=$!
wait "$child"
rc=$?
if [ $rc -ne 0 ]; then
    : > "$KTAP"
    # One line: the first compiler error, or the reason a Python traceback
    # ends with (a full disk is OSError: [Errno 28]); the logs keep the rest.
    why=$(grep -h -m1 -E ': error: |No space left on device|Read-only file system|Permission denied' "$KTAP.build" "$KTAP.stderr" 2>/dev/null | head -n 1)
    [ -n "$why" ] || why=$(grep -h -v '^[[:space:]]' "$KTAP.stderr" "$KTAP.build" 2>/dev/null | grep -v '^Traceback' | tail -n 1)
    [ "${MPV_VERBOSE:-0}" = 1 ] && { tail -n 30 "$KTAP.build"; tail -n 30 "$KTAP.stderr"; } >&2
    case "$why" in *"No space left"*) why="no space left on the build dir's disk ($BUILD): $why";; esac
    die 4 "kunit.py build failed (exit $rc): ${why:-no message}; logs: $KTAP.build, $KTAP.stderr"
fi
boot_and_wait
rc=$?
child=
trap 'exit 130' INT TERM
end=$(date +%s)
echo "run-kunit: build + $ARCH run exit $rc after $((end - start)) s; output in $KTAP" >&2

# Verdict from the raw KTAP (kunit.py does not parse it with --raw_output,
# and exits 0 even when tests fail).
if ! grep -q '^KTAP version' "$KTAP"; then
    tail -n 30 "$KTAP.stderr" >&2
    tail -n 30 "$KTAP" >&2
    die 5 "no KTAP in $KTAP (UML exit $rc)"
fi
hold verdict
python3 "$HERE/ktap_verdict.py" "$KTAP"
v=$?
case $v in
    0) exit 0;;
    1) exit 1;;
    *) [ $rc -ne 0 ] && echo "run-kunit: UML exit $rc (137 = killed at MPV_TIMEOUT=$TIMEOUT s)" >&2
       exit 5;;
esac
