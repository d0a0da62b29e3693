#!/bin/bash
# SPDX-License-Identifier: MIT
# Sourced by tests/vm/run.sh and tests/host/run.sh: the kernel image of the archive's
# current ABI, the kernel's sample mdev drivers built against its headers, and a busybox
# initramfs that loads the modules needed to reach the host's root over 9p.
# The caller defines say, skip and die, and sets cache (kept between runs), logdir, work
# (this run's scratch directory) and vm_init (the initramfs's /init).
# Sets abi, vmlinuz, kmods (the image's lib/modules/<abi>/kernel), samples (the built
# sample drivers, one .ko each) and initrd.
# shellcheck disable=SC2034,SC2154 # variables of the caller, and for the caller

src_tar=/usr/src/linux-source-6.1.tar.xz
[[ -r $src_tar ]] || skip "$src_tar is missing (package linux-source-6.1)"

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
	install -m 0755 "$vm_init" "$root/init"
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
