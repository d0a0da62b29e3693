#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of tests/host's initramfs (busybox sh, PID 1), built by tests/vm/kernel.sh like
# the VM tier's.  It boots the stock Debian tree as a host boots: the modules to reach the
# host's root over 9p, the mdev stack and the sample drivers (as kvmgt would be loaded
# early), the tree (read-only, from the host's cache) under a tmpfs overlay as the root,
# the host's root at /host, then systemd as PID 1.  Only two things are added to the
# tree, in the overlay: the unit that runs the checks, and no login prompt on the console;
# the upper layer is at /mnt.
export PATH=/bin
busybox mkdir -p /proc /sys /dev /mnt/host /mnt/rw /newroot
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev

fail() {
	echo "GVTG-INIT: $*"
	busybox sync
	busybox reboot -f
	while :; do busybox sleep 60; done
}

tree=''
script=''
envfile=''
kmods=''
samples=''
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	gvtg.tree=*) tree=${arg#gvtg.tree=} ;;
	gvtg.script=*) script=${arg#gvtg.script=} ;;
	gvtg.env=*) envfile=${arg#gvtg.env=} ;;
	gvtg.kmods=*) kmods=${arg#gvtg.kmods=} ;;
	gvtg.samples=*) samples=${arg#gvtg.samples=} ;;
	esac
done
if [ -z "$tree" ] || [ -z "$script" ] || [ -z "$envfile" ] || [ -z "$kmods" ] ||
	[ -z "$samples" ]; then
	fail "gvtg.tree, .script, .env, .kmods or .samples missing on the command line"
fi

while read -r m; do
	busybox insmod "/modules/$m.ko" || fail "insmod $m failed"
done </modules.order
busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose \
	hostroot /mnt/host || fail "mounting the host root over 9p failed"
h=/mnt/host
for m in "$h$kmods/drivers/vfio/vfio.ko" "$h$kmods/drivers/vfio/vfio_iommu_type1.ko" \
	"$h$kmods/drivers/vfio/mdev/mdev.ko" "$h$samples/mtty.ko" "$h$samples/mdpy.ko" \
	"$h$samples/mbochs.ko"; do
	busybox insmod "$m" || fail "insmod $m failed"
done

busybox mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "tmpfs failed"
busybox mkdir -p /mnt/rw/upper /mnt/rw/work
busybox mount -t overlay -o "lowerdir=$h$tree,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work" \
	overlay /newroot || fail "overlay of $tree failed"
busybox mkdir -p /newroot/host
busybox mount --move /mnt/host /newroot/host || fail "moving the host root to /host failed"

u=/newroot/etc/systemd/system
busybox mkdir -p "$u/multi-user.target.wants"
cat >"$u/gvtg-host-check.service" <<UNIT
[Unit]
Description=gvtg-hook checks on a stock Debian host
After=multi-user.target libvirtd.service

[Service]
Type=oneshot
ExecStart=/bin/bash /host$script /host$envfile run
StandardOutput=journal+console
StandardError=journal+console
UNIT
busybox ln -s ../gvtg-host-check.service "$u/multi-user.target.wants/"
# Started by the checks at their end: stopped after gvtg-boot.service at shutdown, it
# sees what that service's stop left, and prints the summary.
cat >"$u/gvtg-host-last.service" <<UNIT
[Unit]
Description=gvtg-hook checks at shutdown
Before=gvtg-boot.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/bash /host$script /host$envfile shutdown
StandardOutput=journal+console
StandardError=journal+console
UNIT
busybox ln -s /dev/null "$u/serial-getty@ttyS0.service"

# The overlay's upper layer holds everything written since boot: the checks look there
# for what a purge left, rather than walk the whole tree over 9p.
busybox mount --move /mnt/rw /newroot/mnt || fail "moving the upper layer to /mnt failed"
busybox mount --move /dev /newroot/dev || fail "moving /dev failed"
busybox umount /proc /sys
echo "GVTG-INIT: switching to systemd on $tree"
exec busybox switch_root /newroot /lib/systemd/systemd
