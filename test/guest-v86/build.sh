#!/bin/bash
# Builds the i386 test guest for v86 from Debian packages: a bzImage and a gzip'd initramfs with
# busybox, the virtio-gpu and bochs-drm modules (dependency order) and test/guest-v86/init.
#
# usage: test/guest-v86/build.sh [OUTDIR]        (default: .cache/guest-v86 in the repo)
#   -> OUTDIR/bzImage, OUTDIR/initrd.cpio.gz, OUTDIR/kernel-version, OUTDIR/modules
#
# Only Debian packages: linux-image-6.1.0-NN-686-unsigned:i386 (what linux-image-686:i386
# depends on; downloaded and unpacked, never installed) and busybox-static:i386. Needs the i386
# architecture in dpkg (added here when missing, as root) and cpio, kmod, gzip on the host.
# Cached: the .debs stay in OUTDIR/cache; the outputs are rebuilt only when this script, init or
# a package version changes (about 10 s; 0.1 s when up to date).
# env: NO_APT=1 never call apt-get; KERNEL_PKG=linux-image-6.1.0-NN-686-unsigned to pin one.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$HERE/../../.cache/guest-v86}
mkdir -p "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/cache
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

say() { echo "guest-v86: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

for tool in cpio depmod gzip dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool missing (apt-get install cpio kmod gzip)"
done

UPDATED=0
apt_update() {
	[ "${NO_APT:-0}" = 1 ] && die "package lists needed but NO_APT=1"
	[ $UPDATED = 1 ] && return 0
	timeout 300 apt-get update -q >/dev/null
	UPDATED=1
}
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	[ "${NO_APT:-0}" = 1 ] && die "dpkg has no i386 architecture (NO_APT=1)"
	say "adding the i386 architecture to dpkg"
	dpkg --add-architecture i386
	apt_update
fi

# The newest 686 kernel: linux-image-686 depends on linux-image-6.1.0-NN-686 (signed template);
# its -unsigned twin has the same kernel without the signing wrapper.
if [ -z "${KERNEL_PKG:-}" ]; then
	dep() { apt-cache depends linux-image-686:i386 2>/dev/null | awk '/Depends: linux-image-6/{print $2; exit}'; }
	KERNEL_PKG=$(dep || true)
	if [ -z "$KERNEL_PKG" ] && [ "${NO_APT:-0}" != 1 ]; then apt_update; KERNEL_PKG=$(dep); fi
	if [ -z "$KERNEL_PKG" ] && [ -s "$CACHE/kernel-pkg" ]; then KERNEL_PKG=$(cat "$CACHE/kernel-pkg"); fi
	[ -n "$KERNEL_PKG" ] || die "cannot resolve linux-image-686:i386"
	KERNEL_PKG=${KERNEL_PKG%:i386}
	case "$KERNEL_PKG" in *-unsigned) ;; *) KERNEL_PKG=$KERNEL_PKG-unsigned ;; esac
fi
echo "$KERNEL_PKG" >"$CACHE/kernel-pkg"

# fetch NAME: the cached .deb of NAME:i386, downloading it when missing.
fetch() {
	local name=$1 deb
	deb=$(ls "$CACHE/${name}"_*_i386.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		[ "${NO_APT:-0}" = 1 ] && die "$name not cached (NO_APT=1)"
		say "downloading $name:i386"
		(cd "$CACHE" && { timeout 600 apt-get download -q -o APT::Sandbox::User=root "$name:i386" >/dev/null 2>&1 ||
			{ apt_update && timeout 600 apt-get download -q -o APT::Sandbox::User=root "$name:i386" >/dev/null; }; })
		deb=$(ls "$CACHE/${name}"_*_i386.deb | head -n1)
	fi
	echo "$deb"
}
KDEB=$(fetch "$KERNEL_PKG")
BDEB=$(fetch busybox-static)

KEY=$({ cat "${BASH_SOURCE[0]}" "$HERE/init"; basename "$KDEB"; basename "$BDEB"; } | sha256sum | cut -c1-16)
if [ -s "$OUT/bzImage" ] && [ -s "$OUT/initrd.cpio.gz" ] && [ "$(cat "$OUT/.key" 2>/dev/null)" = "$KEY" ]; then
	say "up to date ($(cat "$OUT/kernel-version"), key $KEY)"
	exit 0
fi

WORK=$CACHE/work
rm -rf "$WORK"
mkdir -p "$WORK/kernel" "$WORK/busybox" "$WORK/root"
trap 'rm -rf "$WORK"' EXIT
say "unpacking $(basename "$KDEB")"
dpkg-deb -x "$KDEB" "$WORK/kernel"
dpkg-deb -x "$BDEB" "$WORK/busybox"
KV=$(ls "$WORK/kernel/lib/modules" | head -n1)
[ -n "$KV" ] || die "no modules in $KDEB"
MODDIR=$WORK/kernel/lib/modules/$KV
depmod -b "$WORK/kernel" "$KV"

ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
install -m 0755 "$WORK/busybox/bin/busybox" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
install -m 0755 "$HERE/init" "$ROOT/init"

# Modules and their dependencies, each after what it needs: modules.dep lists a module's
# dependencies so that loading them last-to-first works (modprobe's order). virtio_gpu is the
# device under test; bochs drives v86's own VGA (PCI 1234:1111) for the benchmark's comparison.
: >"$ROOT/lib/modules/load-order"
for m in virtio_pci virtio_gpu bochs; do
	line=$(grep -E "/${m//_/[_-]}\.ko:" "$MODDIR/modules.dep" || true)
	[ -n "$line" ] || die "module $m not in modules.dep"
	list=
	for d in ${line#*:}; do list="$d $list"; done
	for f in $list ${line%%:*}; do
		grep -qxF "${f##*/}" "$ROOT/lib/modules/load-order" && continue
		case "$f" in *.ko) ;; *) die "compressed module $f" ;; esac
		install -m 0644 "$MODDIR/$f" "$ROOT/lib/modules/${f##*/}"
		echo "${f##*/}" >>"$ROOT/lib/modules/load-order"
	done
done

# A reproducible archive: fixed times and owners, sorted names.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -n -9 >"$OUT/initrd.cpio.gz.tmp"
mv "$OUT/initrd.cpio.gz.tmp" "$OUT/initrd.cpio.gz"
cp "$WORK/kernel/boot/vmlinuz-$KV" "$OUT/bzImage"
tr '\n' ' ' <"$ROOT/lib/modules/load-order" >"$OUT/modules"
echo "$KV" >"$OUT/kernel-version"
echo "$KEY" >"$OUT/.key"
say "built $OUT: bzImage $(stat -c %s "$OUT/bzImage") B, initrd $(stat -c %s "$OUT/initrd.cpio.gz") B, kernel $KV, modules: $(cat "$OUT/modules")"
