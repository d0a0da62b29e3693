#!/bin/bash
# SPDX-License-Identifier: MIT
# Real-stack tier 2: boot Debian's kernel under QEMU (TCG) with the kernel's sample mdev
# drivers (mtty, mdpy, mbochs) and run tests/vm/guest.sh inside it.  The guest sees the
# host's root read-only over 9p under a tmpfs overlay, so the built binaries run there
# as they are and nothing the guest writes (libvirt's configuration, hooks, records)
# reaches the host.
#
# Host side, in order: find the kernel ABI, get the image (apt-get download) and the
# headers, build the sample drivers, pack a busybox initramfs, boot, then judge the
# guest's summary line and the console (an oops, BUG or panic fails the run).
# Everything downloaded or built is cached under $GVTG_VM_CACHE.
#
# Environment: GVTG_HOOK, MDEV_PROBE (required), GVTGCTL (optional), GVTG_VM_CACHE,
# GVTG_TEST_LOGDIR, GVTG_VM_TIMEOUT (seconds for the whole VM run, default 420).
# For the udev rule's check (all optional; without them the guest skips it):
# GVTG_UDEV_RULE (the generated 85-gvtg-hook.rules), GVTG_RULE_GVTGCTL (the gvtgctl path
# written into it), GVTG_CONFIG_FILE (the configuration file gvtgctl was built to read).
# For the run under a confined libvirtd (optional): GVTG_HOOK_DIR (where the hook looks for
# its core module), GVTG_AA_PROFILE (the hook's AppArmor profile for /usr/sbin/gvtg-hook).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GVTG_VM_CACHE:-$PWD/tests/vm/cache}
logdir=${GVTG_TEST_LOGDIR:-$PWD/tests/vm/log}
vm_timeout=${GVTG_VM_TIMEOUT:-420}
start_s=$SECONDS

say() { printf '[%3ds] %s\n' "$((SECONDS - start_s))" "$*"; }
skip() {
	echo "SKIP: $*"
	exit 77
}
die() {
	echo "FAIL: $*"
	echo "0 passed, 1 failed"
	exit 1
}

# ---- what this run needs ------------------------------------------------------------

# Root: QEMU's 9p server must read every file of the host's root for the guest.
[[ $EUID -eq 0 ]] || skip "needs root"
for tool in qemu-system-x86_64 cpio tar xz dpkg-deb make gcc timeout; do
	command -v "$tool" >/dev/null || skip "$tool is missing (see scripts/packages.d/vm.list)"
done
# The initramfs has no libraries: only the static busybox will do.
if [[ ! -x /bin/busybox ]] || LC_ALL=C ldd /bin/busybox >/dev/null 2>&1; then
	skip "a static /bin/busybox is missing (package busybox-static)"
fi
src_tar=/usr/src/linux-source-6.1.tar.xz
[[ -r $src_tar ]] || skip "$src_tar is missing (package linux-source-6.1)"
for var in GVTG_HOOK MDEV_PROBE; do
	[[ -n ${!var:-} && -x ${!var} ]] || die "$var does not name a built program; run through meson test"
done
gvtgctl=${GVTGCTL:-}
[[ -n $gvtgctl && ! -x $gvtgctl ]] && gvtgctl=
udev_rule=${GVTG_UDEV_RULE:-}
[[ -n $udev_rule && ! -r $udev_rule ]] && udev_rule=

# The paths travel on the kernel command line: no spaces allowed there.
for p in "$here" "$cache" "$GVTG_HOOK" "$MDEV_PROBE" "$gvtgctl"; do
	[[ $p != *[[:space:]]* ]] || skip "path with white space: '$p'"
done

mkdir -p "$cache" "$logdir"
work=$logdir/work
rm -rf "$work"
mkdir -p "$work"

apt_usable() {
	command -v apt-get >/dev/null && command -v apt-cache >/dev/null
}

# The one place the kernel ABI is decided.  Image, headers and module build must agree,
# and the archive moves the ABI on (and keeps only the newest linux-source-6.1), so it is
# read from the archive's linux-image-amd64 rather than written down anywhere.
kernel_abi() {
	local abi=
	if apt_usable; then
		abi=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n1)
	fi
	if [[ -z $abi ]]; then
		# No package lists: the newest installed headers decide.
		abi=$(find /usr/src -maxdepth 1 -name 'linux-headers-6.1.*-amd64' -printf '%f\n' |
			sed 's/^linux-headers-//' | sort -V | tail -n1)
	fi
	echo "$abi"
}

abi=$(kernel_abi)
[[ -n $abi ]] || skip "cannot tell the kernel ABI: no package lists and no headers installed"
say "kernel ABI $abi"

# ---- the kernel image and its modules -------------------------------------------------

img=$cache/image-$abi
samples=$cache/samples-$abi
# The archive moved on: what was cached for an older ABI is of no use any more.
find "$cache" -mindepth 1 -maxdepth 1 \( -name 'image-*' -o -name 'samples-*' \) \
	! -name "image-$abi" ! -name "samples-$abi" -exec rm -rf {} +
if [[ ! -e $img/.complete ]]; then
	rm -rf "$img" "$cache/dl"
	mkdir -p "$img" "$cache/dl"
	if [[ -r /boot/vmlinuz-$abi && -d /lib/modules/$abi/kernel ]]; then
		deb=
	else
		apt_usable || skip "linux-image-$abi is not installed and apt-get is not usable"
		# The sandbox user cannot write into a root-owned build directory.
		(cd "$cache/dl" && timeout 300 apt-get -q -o APT::Sandbox::User=root \
			download "linux-image-$abi") >"$logdir/image-download.log" 2>&1 ||
			skip "apt-get download linux-image-$abi failed (see $logdir/image-download.log)"
		deb=$(find "$cache/dl" -name "linux-image-${abi}_*.deb" | head -n1)
		[[ -n $deb ]] || skip "apt-get download left no linux-image-$abi .deb"
	fi
	# Only what the VM needs: the kernel, VFIO/mdev, virtio, 9p and overlay.
	parts=(boot/vmlinuz-"$abi" "lib/modules/$abi/kernel/drivers/vfio"
		"lib/modules/$abi/kernel/drivers/virtio" "lib/modules/$abi/kernel/fs/9p"
		"lib/modules/$abi/kernel/fs/fscache" "lib/modules/$abi/kernel/fs/netfs"
		"lib/modules/$abi/kernel/fs/overlayfs" "lib/modules/$abi/kernel/net/9p")
	if [[ -n $deb ]]; then
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$img" "${parts[@]/#/./}"
		rm -f "$deb"
	else
		(cd / && tar -c "${parts[@]}") | tar -x -C "$img"
	fi
	touch "$img/.complete"
	say "kernel image unpacked into $img"
fi
vmlinuz=$img/boot/vmlinuz-$abi
kmods=$img/lib/modules/$abi/kernel

# ---- the sample mdev drivers, built against the same ABI's headers ---------------------

headers=/usr/src/linux-headers-$abi
if [[ ! -e $headers/Makefile ]] && apt_usable; then
	say "installing linux-headers-$abi"
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -q -y \
		-o DPkg::Lock::Timeout=120 install "linux-headers-$abi" \
		>"$logdir/headers-install.log" 2>&1 || true
fi
[[ -e $headers/Makefile ]] ||
	skip "linux-headers-$abi is missing and could not be installed (see $logdir)"

sample_mods=(mtty mdpy mdpy-fb mbochs)
if [[ ! -e $samples/.complete ]]; then
	rm -rf "$samples"
	mkdir -p "$samples"
	src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown)
	say "building the sample mdev drivers from linux-source-6.1 $src_ver"
	tar -xJf "$src_tar" -C "$samples" --strip-components=3 --wildcards \
		'linux-source-6.1/samples/vfio-mdev/*'
	# The upstream Makefile keys on CONFIG_SAMPLE_VFIO_MDEV_*, which Debian leaves unset.
	echo 'obj-m += mtty.o mdpy.o mdpy-fb.o mbochs.o' >"$samples/Kbuild"
	timeout 300 make -C "$headers" M="$samples" -j"$(nproc)" modules \
		>"$logdir/samples-build.log" 2>&1 ||
		die "building the sample mdev drivers failed (see $logdir/samples-build.log)"
	for m in "${sample_mods[@]}"; do
		[[ $(modinfo -F vermagic "$samples/$m.ko" 2>/dev/null) == "$abi "* ]] ||
			die "$m.ko does not carry the vermagic of $abi"
	done
	touch "$samples/.complete"
fi

# ---- initramfs: busybox, the modules to reach the host's root, /init ------------------

initrd=$work/initramfs.cpio.gz
boot_mods=(virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev
	virtio/virtio_pci_legacy_dev virtio/virtio_pci 9p/9pnet 9p/9pnet_virtio
	netfs/netfs fscache/fscache 9p/9p overlayfs/overlay)
(
	set -euo pipefail
	root=$work/initramfs
	mkdir -p "$root"/{bin,dev,modules}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install -m 0755 "$here/initramfs-init.sh" "$root/init"
	# The kernel opens /dev/console before /init runs, before devtmpfs is mounted.
	mknod -m 0600 "$root/dev/console" c 5 1
	for m in "${boot_mods[@]}"; do
		dir=${m%/*}
		name=${m#*/}
		case $dir in
		virtio) from=$kmods/drivers/virtio ;;
		9p) [[ $name == 9p ]] && from=$kmods/fs/9p || from=$kmods/net/9p ;;
		*) from=$kmods/fs/$dir ;;
		esac
		cp "$from/$name.ko" "$root/modules/"
		echo "$name" >>"$root/modules.order"
	done
	cd "$root"
	find . | cpio -o -H newc --quiet | gzip -1 >"$initrd"
)

# ---- what the guest needs to know -----------------------------------------------------

envfile=$work/guest.env
{
	printf 'GVTG_HOOK=%q\n' "$GVTG_HOOK"
	printf 'MDEV_PROBE=%q\n' "$MDEV_PROBE"
	printf 'GVTGCTL=%q\n' "$gvtgctl"
	printf 'GVTG_UDEV_RULE=%q\n' "$udev_rule"
	printf 'GVTG_RULE_GVTGCTL=%q\n' "${GVTG_RULE_GVTGCTL:-}"
	printf 'GVTG_CONFIG_FILE=%q\n' "${GVTG_CONFIG_FILE:-}"
	printf 'GVTG_HOOK_DIR=%q\n' "${GVTG_HOOK_DIR:-}"
	printf 'GVTG_AA_PROFILE=%q\n' "${GVTG_AA_PROFILE:-}"
	printf 'VM_KMODS=%q\n' "$kmods"
	printf 'VM_SAMPLES=%q\n' "$samples"
} >"$envfile"

# ---- boot -----------------------------------------------------------------------------

console=$logdir/console.log
results=$logdir/results.log
rm -f "$console" "$results"
say "booting the VM (TCG, 2 GiB, bound ${vm_timeout}s); console: $console"
vm_rc=0
# -no-reboot: the guest's final reboot, and the reboot after a panic (panic=-1), end
# QEMU.  ttyS0 is the console (kernel and script), ttyS1 carries only the result lines.
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
	-accel tcg -machine pc -m 2048 -smp 2 \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 oops=panic mitigations=off gvtg.script=$here/guest.sh gvtg.env=$envfile" \
	-serial "file:$console" -serial "file:$results" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null >"$logdir/qemu.log" 2>&1 || vm_rc=$?
say "VM ended (status $vm_rc)"

# ---- verdict --------------------------------------------------------------------------

passed=0
failed=0
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "PASS: host: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: host: $name"
	fi
}

touch "$console" "$results"
tr -d '\r' <"$results" >"$results.txt"
tr -d '\r' <"$console" >"$console.txt"
grep -E '^(PASS|FAIL|SKIP): ' "$results.txt" || true

not_timed_out() { [[ $vm_rc -ne 124 && $vm_rc -ne 137 ]]; }
qemu_clean() { [[ $vm_rc -eq 0 ]]; }
# The guest also dumps its dmesg into the console before it ends, so this sees
# everything the kernel said, whatever the loglevel.
oops_re='Oops|BUG:|Kernel panic|general protection fault|WARNING: CPU|Call Trace'
no_oops() { ! grep -E "$oops_re" "$console.txt" >/dev/null; }
summary=$(grep -E '^GUEST-RESULT: [0-9]+ passed, [0-9]+ failed$' "$results.txt" | tail -n1 || true)
has_summary() { [[ -n $summary ]]; }
guest_clean() {
	[[ $summary =~ ^GUEST-RESULT:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] &&
		[[ ${BASH_REMATCH[2]} -eq 0 && ${BASH_REMATCH[1]} -gt 0 ]]
}

check "the VM ended within ${vm_timeout}s" not_timed_out
check "QEMU exited cleanly" qemu_clean
check "no oops, BUG, WARNING or panic on the console" no_oops
check "the guest printed its summary line" has_summary
check "every guest check passed (${summary:-no summary})" guest_clean

if ! no_oops; then
	echo "--- kernel trouble on the console:"
	grep -E -B2 -A12 "$oops_re" "$console.txt" | head -n 60
fi
if ! has_summary || ! guest_clean; then
	echo "--- last console lines ($console):"
	tail -n 40 "$console.txt"
fi

g_pass=0
g_fail=0
if [[ $summary =~ ^GUEST-RESULT:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	g_pass=${BASH_REMATCH[1]}
	g_fail=${BASH_REMATCH[2]}
fi
say "done"
echo "$((passed + g_pass)) passed, $((failed + g_fail)) failed"
[[ $failed -eq 0 ]]
