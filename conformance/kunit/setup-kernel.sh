#!/usr/bin/env bash
# Install the Debian packages needed for a UML KUnit build of Linux 6.12 and
# unpack linux-source-6.12 into a cache directory outside the repository.
# Idempotent. The last line of stdout is the path of the kernel tree.
#
# Exit codes:
#   0 ok
#   2 neither root nor sudo available to install packages
#   3 apt-get install failed
#   4 tarball /usr/src/linux-source-6.12.tar.xz missing after install
#   5 unpack failed
#   6 unpacked tree looks wrong (no Makefile / kunit.py / multipath.c)
set -euo pipefail

# qemu-system-x86 (with qemu-system-data's qboot.rom) boots the x86_64 run.
PKGS=(linux-source-6.12 flex bison bc make gcc libc6-dev python3 xz-utils tar qemu-system-x86 qemu-system-data perl)
TARBALL=/usr/src/linux-source-6.12.tar.xz
CACHE="${MPATH_KERNEL_CACHE:-$HOME/.cache/mpath-verify}"
TREE="$CACHE/linux-source-6.12"
MARKER="$TREE/.mpv-unpacked"

die() { local code=$1; shift; echo "setup-kernel: error: $*" >&2; exit "$code"; }
log() { echo "setup-kernel: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=(__none__)
fi

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    [ "${SUDO[0]:-}" = "__none__" ] && die 2 "need root or sudo to install: ${missing[*]}"
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache show linux-source-6.12 >/dev/null 2>&1; then
        "${SUDO[@]}" apt-get update -qq >&2 || true
    fi
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; then
        log "apt-get install failed; retrying after apt-get update"
        "${SUDO[@]}" apt-get update -qq >&2 || true
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
            || die 3 "apt-get install failed for: ${missing[*]}"
    fi
fi

[ -f "$TARBALL" ] || die 4 "$TARBALL not found (is linux-source-6.12 installed?)"

if [ ! -f "$MARKER" ]; then
    log "unpacking $TARBALL into $CACHE"
    mkdir -p "$CACHE" || die 5 "cannot create $CACHE"
    rm -rf "$TREE" "$CACHE/.unpack.tmp"
    mkdir -p "$CACHE/.unpack.tmp"
    tar -C "$CACHE/.unpack.tmp" -xJf "$TARBALL" || { rm -rf "$CACHE/.unpack.tmp"; die 5 "tar failed on $TARBALL"; }
    mv "$CACHE/.unpack.tmp/linux-source-6.12" "$TREE" || die 5 "unexpected tarball layout"
    rmdir "$CACHE/.unpack.tmp" 2>/dev/null || true
    for f in Makefile tools/testing/kunit/kunit.py drivers/nvme/host/multipath.c; do
        [ -f "$TREE/$f" ] || die 6 "unpacked tree lacks $f"
    done
    dpkg-query -W -f='${Version}\n' linux-source-6.12 > "$MARKER" 2>/dev/null || echo unknown > "$MARKER"
else
    log "reusing $TREE ($(cat "$MARKER"))"
fi

for f in Makefile tools/testing/kunit/kunit.py drivers/nvme/host/multipath.c; do
    [ -f "$TREE/$f" ] || die 6 "tree $TREE lacks $f (delete it to re-unpack)"
done

echo "$TREE"
