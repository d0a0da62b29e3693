#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the test VM's initramfs (busybox sh, run as PID 1).  It loads the modules
# needed to see the host's root over 9p, stacks a tmpfs overlay on it so the guest can
# write (/etc/libvirt, /var, /run) without touching the host, chroots into it and runs the
# guest script named on the kernel command line.  Whatever happens it then powers the VM
# off: QEMU runs with -no-reboot, so the reboot ends the run.
export PATH=/bin
busybox mkdir -p /proc /sys /dev /mnt/host /mnt/rw /mnt/root
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev

finish() {
	echo "GVTG-INIT: $*"
	busybox sync
	busybox reboot -f
	# reboot -f does not return; if it ever did, PID 1 must not exit (a panic).
	while :; do busybox sleep 60; done
}

script=
envfile=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	gvtg.script=*) script=${arg#gvtg.script=} ;;
	gvtg.env=*) envfile=${arg#gvtg.env=} ;;
	esac
done
if [ -z "$script" ] || [ -z "$envfile" ]; then
	finish "no gvtg.script= or gvtg.env= on the command line"
fi

# The order matters: insmod does not resolve dependencies.
while read -r m; do
	busybox insmod "/modules/$m.ko" || finish "insmod $m failed"
done </modules.order

# multidevs=remap: the host's root spans several filesystems whose inode numbers would
# otherwise collide in the guest.
busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose \
	hostroot /mnt/host || finish "mounting the host root over 9p failed"
busybox mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || finish "tmpfs failed"
busybox mkdir -p /mnt/rw/upper /mnt/rw/work
busybox mount -t overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
	overlay /mnt/root || finish "overlay mount failed"

r=/mnt/root
busybox mount -t proc proc $r/proc
busybox mount -t sysfs sysfs $r/sys
busybox mount -t devtmpfs devtmpfs $r/dev
busybox mkdir -p $r/dev/pts $r/dev/shm
busybox mount -t devpts devpts $r/dev/pts
busybox mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
# A fresh /run: the host's own daemons' sockets and records must not show through.  /tmp
# stays the host's (read-only below, writable in the overlay): a build directory may be there.
busybox mount -t tmpfs -o mode=0755 tmpfs $r/run

echo "GVTG-INIT: running $script"
busybox chroot $r /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 TERM=dumb /bin/bash "$script" "$envfile"
finish "guest script exited with status $?"
