#!/bin/bash
# SPDX-License-Identifier: MIT
# Build (once) the stock Debian 12 tree that tests/host boots: debootstrap's minimal
# variant with systemd, udev and AppArmor, then libvirt, QEMU and mdevctl installed by apt
# as an administrator would (no recommends; a policy-rc.d refusing service starts, since
# nothing may run in a chroot).  The tree is cached under CACHE as tree-<key>, the key a
# hash of this script and packages.list; a tree of another key is deleted.  Prints the
# tree's path as its last line.  Usage: tree.sh CACHE LOGDIR
# Environment: GVTG_HOST_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:?usage: tree.sh CACHE LOGDIR}
logdir=${2:?usage: tree.sh CACHE LOGDIR}
mirror=${GVTG_HOST_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

key=$(cat "$here/tree.sh" "$here/packages.list" | sha256sum | cut -c1-16)
tree=$cache/tree-$key
list() { sed -n "s/^$1: *//p" "$here/packages.list" | tr '\n' ' '; }

mkdir -p "$cache" "$logdir"
# Two runs at once (two build directories) build the tree once.
exec {lock}>"$cache/.lock"
timeout 900 flock "$lock" || { echo "tree.sh: waited 900 s for $cache/.lock" >&2; exit 1; }
if [[ -e $tree/.complete ]]; then
	echo "$tree"
	exit 0
fi
find "$cache" -mindepth 1 -maxdepth 1 -name 'tree-*' ! -name "tree-$key" -exec rm -rf {} +
rm -rf "$tree"
log=$logdir/tree-build.log
: >"$log"
t0=$SECONDS

include=$(list include | tr ' ' ',' | sed 's/,$//')
echo "debootstrap --variant=minbase --include=$include $suite $tree $mirror" >>"$log"
timeout 900 debootstrap --variant=minbase --include="$include" "$suite" "$tree" "$mirror" \
	>>"$log" 2>&1 || { echo "tree.sh: debootstrap failed (see $log)" >&2; exit 1; }
echo "debootstrap: $((SECONDS - t0)) s" >>"$log"

# A stock installation also follows the point releases and the security archive.
security=${mirror%/debian}/debian-security
cat >"$tree/etc/apt/sources.list" <<SRC
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
SRC

umount_all() { umount -l "$tree/proc" 2>/dev/null || true; }
trap umount_all EXIT
mount -t proc proc "$tree/proc"
printf '#!/bin/sh\nexit 101\n' >"$tree/usr/sbin/policy-rc.d"
chmod 0755 "$tree/usr/sbin/policy-rc.d"
in_tree() {
	timeout 900 chroot "$tree" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@" >>"$log" 2>&1
}
# shellcheck disable=SC2046 # one package name per word
# apt's own cache is made here once: made at each boot of the tree it costs half a minute.
if ! in_tree apt-get -q update ||
	! in_tree apt-get -q -y --no-install-recommends install $(list install) ||
	! in_tree apt-get clean || ! in_tree apt-cache gencaches; then
	echo "tree.sh: apt-get install in the tree failed (see $log)" >&2
	exit 1
fi
rm -f "$tree/usr/sbin/policy-rc.d"
umount_all
trap - EXIT
# A fixed machine id: systemd then boots it as an installed system, not a first boot.
echo 5f0d8d2e6b7a4c1e9a3b2c4d5e6f7081 >"$tree/etc/machine-id"
echo gvtg-host >"$tree/etc/hostname"
echo "tree built in $((SECONDS - t0)) s, $(du -sm "$tree" | cut -f1) MB" >>"$log"
touch "$tree/.complete"
echo "$tree"
