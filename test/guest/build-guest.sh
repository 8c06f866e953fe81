#!/bin/bash
# Build a tiny Linux guest (Debian kernel + busybox initramfs) that loads the
# virtio-gpu DRM driver and draws a deterministic picture. The project's end-to-end
# tests and `pnpm bench` boot it under QEMU (test/guest/harness.ts); .ci/run builds it
# into .cache/guest. Started from the team's shared guest scripts; see README.md here.
#
# usage: build-guest.sh OUTDIR
#   -> OUTDIR/vmlinuz, OUTDIR/initramfs.cpio.gz, OUTDIR/kernel-version
#      OUTDIR/qemu/qemu-system-x86_64, OUTDIR/qemu/vhost-user-gpu  (QEMU 10 from
#      bookworm-backports, unpacked privately; see below)
#
# Only Debian packages are used: linux-image-amd64 (downloaded + unpacked, not
# installed), busybox-static, libdrm-tests (modetest), cpio, kmod (depmod); gcc,
# libc6-dev and libdrm-dev build kmsbench.c into a static /usr/bin/kmsbench.
# Idempotent: the kernel .deb (and backports QEMU) are cached in OUTDIR; the
# initramfs is rebuilt only when init / this script / package versions change.
#
# env: NO_APT=1        never call apt-get (fail if something is missing)
#      KERNEL_PKG=...  e.g. linux-image-6.1.0-56-amd64 (default: what linux-image-amd64 depends on)
#      EXTRA_MODULES="virtio_input ..."  more modules to load in the guest
#      QEMU_BACKPORTS=0  skip fetching QEMU from bookworm-backports.
#
# Why backports QEMU: bookworm's QEMU 7.2 refuses vhost-user-gpu without KVM
# ("vhost initialization failed: requires kvm"; check removed in QEMU 8.0). The
# backports .debs are downloaded with a private apt config (system sources are
# not touched) and unpacked into OUTDIR/qemu/root; nothing is installed except
# missing bookworm runtime libraries it depends on.
set -euo pipefail

OUT=${1:?usage: build-guest.sh OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/cache
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

say() { echo "build-guest: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---- host packages ---------------------------------------------------------
# build: busybox-static libdrm-tests cpio kmod, gcc libc6-dev libdrm-dev (kmsbench);
# run: qemu-system-x86 (+ qemu-system-gui for the reference /usr/lib/qemu/vhost-user-gpu backend).
PKGS="busybox-static libdrm-tests cpio kmod gzip gcc libc6-dev libdrm-dev qemu-system-x86 qemu-system-gui"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
APT_UPDATED=0
apt_update() {
	[ $APT_UPDATED = 1 ] && return 0
	timeout 300 apt-get update -q >/dev/null
	APT_UPDATED=1
}
if [ -n "$missing" ]; then
	[ "${NO_APT:-0}" = 1 ] && die "missing packages:$missing (NO_APT=1)"
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root or install them)"
	say "installing$missing"
	apt_update
	timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $missing >/dev/null
fi

# ---- kernel ---------------------------------------------------------------
if [ -z "${KERNEL_PKG:-}" ]; then
	if [ -s "$CACHE/kernel-pkg" ]; then
		KERNEL_PKG=$(cat "$CACHE/kernel-pkg")
	else
		KERNEL_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}' || true)
		if [ -z "$KERNEL_PKG" ] && [ "${NO_APT:-0}" != 1 ]; then
			apt_update
			KERNEL_PKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
		fi
		[ -n "$KERNEL_PKG" ] || die "cannot resolve linux-image-amd64"
	fi
fi
KDEB=$(ls "$CACHE"/"${KERNEL_PKG}"_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$KDEB" ]; then
	[ "${NO_APT:-0}" = 1 ] && die "$KERNEL_PKG not cached (NO_APT=1)"
	say "downloading $KERNEL_PKG"
	(cd "$CACHE" && { timeout 600 apt-get download -q -o APT::Sandbox::User=root "$KERNEL_PKG" >/dev/null ||
		{ apt_update && timeout 600 apt-get download -q -o APT::Sandbox::User=root "$KERNEL_PKG" >/dev/null; }; })
	KDEB=$(ls "$CACHE"/"${KERNEL_PKG}"_*.deb | head -n1)
fi
echo "$KERNEL_PKG" >"$CACHE/kernel-pkg"

# ---- QEMU from bookworm-backports (private, not installed) ---------------------
fetch_qemu_bpo() {
	local Q=$OUT/qemu BPO=$CACHE/apt-bpo deb deps missing_libs=
	local PKGS_Q="qemu-system-x86 qemu-system-common qemu-system-data qemu-system-gui qemu-system-modules-opengl seabios"
	if [ -x "$Q/root/usr/bin/qemu-system-x86_64" ] && [ -e "$Q/.done" ]; then return 0; fi
	[ "${NO_APT:-0}" = 1 ] && { say "QEMU backports not cached (NO_APT=1), skipping"; return 0; }
	say "fetching QEMU from bookworm-backports"
	mkdir -p "$BPO/lists/partial" "$BPO/parts" "$BPO/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" >"$BPO/sources.list"
	local APTO=(-o "Dir::Etc::sourcelist=$BPO/sources.list" -o "Dir::Etc::sourceparts=$BPO/parts"
		-o "Dir::State::Lists=$BPO/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		-o APT::Sandbox::User=root -q)
	timeout 300 apt-get "${APTO[@]}" update >/dev/null
	rm -f "$BPO"/debs/*.deb
	# shellcheck disable=SC2046
	(cd "$BPO/debs" && timeout 600 apt-get "${APTO[@]}" download $(for p in $PKGS_Q; do echo "$p/bookworm-backports"; done) >/dev/null)
	rm -rf "$Q"
	mkdir -p "$Q/root"
	for deb in "$BPO"/debs/*.deb; do dpkg-deb -x "$deb" "$Q/root"; done
	# runtime libraries (all in bookworm main): install the missing ones
	deps=$(for deb in "$BPO"/debs/qemu-system-{x86,common,gui,modules-opengl}_*.deb; do dpkg-deb -f "$deb" Depends; done |
		tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g' | grep -v -E '^(qemu-|seabios|ipxe-qemu|$)' | sort -u)
	for p in $deps; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing_libs="$missing_libs $p"
	done
	if [ -n "$missing_libs" ]; then
		say "installing QEMU runtime libraries:$missing_libs"
		apt_update
		timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends $missing_libs >/dev/null
	fi
	if ldd "$Q/root/usr/bin/qemu-system-x86_64" "$Q/root/usr/lib/qemu/vhost-user-gpu" | grep -q 'not found'; then
		die "backports QEMU has unresolved libraries: $(ldd "$Q/root/usr/bin/qemu-system-x86_64" | grep 'not found' | tr '\n' ' ')"
	fi
	cat >"$Q/qemu-system-x86_64" <<'WRAP'
#!/bin/sh
# QEMU from bookworm-backports, unpacked next to this wrapper (see build-guest.sh)
R=$(dirname "$(readlink -f "$0")")/root
export QEMU_MODULE_DIR="$R/usr/lib/x86_64-linux-gnu/qemu"
exec "$R/usr/bin/qemu-system-x86_64" -L "$R/usr/share/qemu" -L "$R/usr/share/seabios" "$@"
WRAP
	ln -sf root/usr/lib/qemu/vhost-user-gpu "$Q/vhost-user-gpu"
	chmod +x "$Q/qemu-system-x86_64"
	"$Q/qemu-system-x86_64" --version | head -n1 >"$Q/.done"
	say "QEMU ready: $(cat "$Q/.done") in $Q"
}
[ "${QEMU_BACKPORTS:-1}" = 1 ] && fetch_qemu_bpo

# ---- cache key ---------------------------------------------------------------
ver() { dpkg-query -W -f='${Package}=${Version} ' "$@"; }
KEY=$( {
	cat "$HERE/init" "$HERE/kmsbench.c" "${BASH_SOURCE[0]}"
	echo "$KERNEL_PKG $(basename "$KDEB") ${EXTRA_MODULES:-}"
	ver busybox-static libdrm-tests libdrm2 libdrm-dev libc6 libc6-dev
	gcc --version | head -n1
} | sha256sum | cut -c1-16)
if [ -s "$OUT/initramfs.cpio.gz" ] && [ -s "$OUT/vmlinuz" ] && [ "$(cat "$OUT/.key" 2>/dev/null)" = "$KEY" ]; then
	say "up to date ($(cat "$OUT/kernel-version" 2>/dev/null), key $KEY)"
	exit 0
fi

# ---- unpack kernel (temporary: ~400 MB unpacked, only the .deb is cached) --------
KROOT=$CACHE/kernel-root
rm -rf "$KROOT"
mkdir -p "$KROOT"
say "unpacking $(basename "$KDEB")"
dpkg-deb -x "$KDEB" "$KROOT"
KV=$(ls "$KROOT/lib/modules" | head -n1)
[ -n "$KV" ] || die "no modules in $KDEB"
MODDIR=$KROOT/lib/modules/$KV
depmod -b "$KROOT" "$KV"

# ---- initramfs -----------------------------------------------------------
ROOT=$CACHE/initramfs-root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root,lib/modules/"$KV"}
cp /usr/bin/busybox "$ROOT/bin/busybox"
for a in $("$ROOT/bin/busybox" --list-full); do
	[ -e "$ROOT/$a" ] || ln -s /bin/busybox "$ROOT/$a"
done
install -m 0755 "$HERE/init" "$ROOT/init"
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true

# modetest + its shared libraries (host = Debian 12, same libs as the package)
copy_bin() {
	install -D -m 0755 "$1" "$ROOT$1"
	ldd "$1" | awk '/=> \//{print $3} /^[ \t]*\/lib/{print $1}' | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		install -D -m 0755 "$(readlink -f "$lib")" "$ROOT$lib"
	done
}
copy_bin /usr/bin/modetest
copy_bin /usr/bin/modeprint
# page-flip benchmark (guest.draw=bench guest.bench=flip): static, libdrm linked in
gcc -static -s -O2 -Wall -Wextra -I/usr/include/libdrm -o "$ROOT/usr/bin/kmsbench" "$HERE/kmsbench.c" -ldrm ||
	die "cannot build kmsbench.c"

# kernel modules: closure from modules.dep, load order = reversed deps then module
WANT="virtio_pci virtio_gpu ${EXTRA_MODULES:-}"
: >"$ROOT/lib/modules/$KV/load-order"
for m in $WANT; do
	line=$(grep -E "/${m//_/[_-]}\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" || true)
	if [ -z "$line" ]; then
		grep -qE "/${m//_/[_-]}\.ko" "$MODDIR/modules.builtin" && { say "$m is built-in"; continue; }
		die "module $m not found"
	fi
	mod=${line%%:*}
	deps=${line#*:}
	list=
	for d in $deps; do list="$d $list"; done
	for f in $list $mod; do
		grep -qxF "$f" "$ROOT/lib/modules/$KV/load-order" && continue
		case "$f" in *.ko) ;; *) die "compressed module $f not supported" ;; esac
		install -D -m 0644 "$MODDIR/$f" "$ROOT/lib/modules/$KV/$f"
		echo "$f" >>"$ROOT/lib/modules/$KV/load-order"
	done
done
cp "$MODDIR"/modules.{builtin,order} "$ROOT/lib/modules/$KV/" 2>/dev/null || true
depmod -b "$ROOT" "$KV" 2>/dev/null || true
say "modules: $(tr '\n' ' ' <"$ROOT/lib/modules/$KV/load-order")"

# deterministic archive
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -n -6 >"$OUT/initramfs.cpio.gz.tmp"
mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
cp "$KROOT/boot/vmlinuz-$KV" "$OUT/vmlinuz"
echo "$KV" >"$OUT/kernel-version"
echo "$KEY" >"$OUT/.key"
rm -rf "$KROOT" "$ROOT"
say "built $OUT: vmlinuz ($(stat -c %s "$OUT/vmlinuz") B), initramfs.cpio.gz ($(stat -c %s "$OUT/initramfs.cpio.gz") B), kernel $KV"
