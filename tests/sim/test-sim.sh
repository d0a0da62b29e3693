#!/bin/bash
# SPDX-License-Identifier: MIT
# Checks that mdev-sim answers like the kernel's mdev sysfs: the tree and its links, every
# errno of create and remove, the shared pools, the write log, 32 racing creates, and
# both ways of unmounting.  Needs root and /dev/fuse; skips (77) otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=sim-lib.sh source-path=SCRIPTDIR
. "$here/sim-lib.sh"

if ! sim_available; then
	echo "SKIP: $SIM_UNAVAILABLE"
	exit 77
fi
SIM_WRITE=${SIM_WRITE:-$(dirname "$MDEV_SIM")/sim-write}
if [[ ! -x $SIM_WRITE ]]; then
	echo "SKIP: sim-write not built"
	exit 77
fi

work=$(mktemp -d /tmp/test-sim.XXXXXX)
roots=()
cleanup() {
	local r
	for r in "${roots[@]}"; do
		sim_stop "$r" || true
	done
	rm -rf -- "$work"
}
trap cleanup EXIT

failures=0
checks=0
# check WHAT EXPECTED ACTUAL
check() {
	checks=$((checks + 1))
	if [[ $2 == "$3" ]]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected [$2], got [$3]"
		failures=$((failures + 1))
	fi
}

# wr FILE DATA...: the answers of open and of each write, e.g. "0 EINVAL"
wr() {
	"$SIM_WRITE" "$@" || true
}

start() {
	local r=$work/$1
	shift
	roots+=("$r")
	sim_start "$r" "$@"
}

u1=0f7c7a36-7c4f-4e21-9d2b-6a3b9c1d2e3f
u2=11111111-2222-3333-4444-555555555555
u3=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee

# ------------------------------------------------------------------ profile gvt
start gvt gvt --log "$work/gvt.log"
S=$work/gvt/sys
P=$S/class/mdev_bus/0000:00:02.0
T=$P/mdev_supported_types

avail() {
	local t out=''
	for t in 8 4 2 1; do
		out+="$(cat "$T/i915-GVTg_V5_$t/available_instances") "
	done
	echo "${out% }"
}

check 'parent link' '../../devices/pci0000:00/0000:00:02.0' "$(readlink "$P")"
check 'parent resolves inside the root' "$S/devices/pci0000:00/0000:00:02.0" \
	"$(readlink -e "$P")"
check 'pci link resolves' "$S/devices/pci0000:00/0000:00:02.0" \
	"$(readlink -e "$S/bus/pci/devices/0000:00:02.0")"
check 'vendor/device/class' '0x8086 0x3e92 0x030000' \
	"$(cat "$P/vendor") $(cat "$P/device") $(cat "$P/class")"
check 'types' 'i915-GVTg_V5_1 i915-GVTg_V5_2 i915-GVTg_V5_4 i915-GVTg_V5_8' \
	"$(cd "$T" && echo *)"
check 'type files' 'available_instances create description device_api devices name' \
	"$(cd "$T/i915-GVTg_V5_4" && echo *)"
check 'name' 'GVTg_V5_4' "$(cat "$T/i915-GVTg_V5_4/name")"
check 'device_api' 'vfio-pci' "$(cat "$T/i915-GVTg_V5_4/device_api")"
check 'description _4' \
	$'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4' \
	"$(cat "$T/i915-GVTg_V5_4/description")"
check 'description _8' \
	$'low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\nresolution: 1024x768\nweight: 2' \
	"$(cat "$T/i915-GVTg_V5_8/description")"
check 'create mode' '200' "$(stat -c %a "$T/i915-GVTg_V5_4/create")"
check 'read create' 'EACCES' "$(wr -r "$T/i915-GVTg_V5_4/create")"
check 'write a read-only file' 'EACCES' "$(wr "$T/i915-GVTg_V5_4/name" x)"
check 'missing type' 'ENOENT' "$(wr "$T/i915-GVTg_V5_9/create" "$u1")"
check 'mkdir refused' 'no' "$(mkdir "$S/x" 2>/dev/null && echo yes || echo no)"
check 'available at start' '2 2 2 1' "$(avail)"

C=$T/i915-GVTg_V5_4/create
check 'create 0 bytes' '0 0' "$(wr "$C" '')"
check 'nothing created' '' "$(ls "$S/bus/mdev/devices")"
check 'create 35 bytes' '0 EINVAL' "$(wr "$C" "${u1:0:35}")"
check 'create 38 bytes' '0 EINVAL' "$(wr "$C" "$u1\n\n")"
check 'create leading space' '0 EINVAL' "$(wr "$C" " ${u1:0:35}")"
check 'create braces' '0 EINVAL' "$(wr "$C" "{${u1:0:34}}")"
check 'create no dashes' '0 EINVAL' "$(wr "$C" "${u1//-/0}")"
check 'create non-hex' '0 EINVAL' "$(wr "$C" "g${u1:1}")"
check 'create upper case, 36 bytes' '0 0' "$(wr "$C" "${u1^^}")"
check 'named in lower case' "$u1" "$(ls "$S/bus/mdev/devices")"
check 'available after a _4' '1 1 1 0' "$(avail)"
check 'same UUID again' '0 EEXIST' "$(wr "$T/i915-GVTg_V5_8/create" "$u1\n")"
check 'create 37 bytes (X)' '0 0' "$(wr "$C" "${u2}X")"
check 'pool exhausted' '0 ENOSPC' "$(wr "$T/i915-GVTg_V5_8/create" "$u3")"
check 'available when full' '0 0 0 0' "$(avail)"

D=$S/bus/mdev/devices/$u1
check 'bus link' "../../../devices/pci0000:00/0000:00:02.0/$u1" "$(readlink "$D")"
check 'device resolves' "$S/devices/pci0000:00/0000:00:02.0/$u1" "$(readlink -e "$D")"
check 'mdev_type link' '../mdev_supported_types/i915-GVTg_V5_4' "$(readlink "$D/mdev_type")"
check 'mdev_type resolves' \
	"$S/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4" \
	"$(readlink -e "$D/mdev_type")"
check 'type devices link' "$S/devices/pci0000:00/0000:00:02.0/$u1" \
	"$(readlink -e "$T/i915-GVTg_V5_4/devices/$u1")"
check 'device files' 'mdev_type remove' "$(cd "$D" && echo *)"
check 'remove mode' '200' "$(stat -c %a "$D/remove")"
check 'ls -l works' 'ok' \
	"$(ls -lR "$S" >/dev/null && ls -l "$D/" "$T"/*/devices/ >/dev/null && echo ok)"

R=$D/remove
check 'remove bad words' '0 EINVAL EINVAL EINVAL EINVAL' "$(wr "$R" abc ' 1' -1 '1x')"
check 'remove overflow' '0 ERANGE' "$(wr "$R" 99999999999999999999999)"
check 'remove 0 and empty' '0 0 0' "$(wr "$R" 0 '')"
check 'still there' "$u1 $u2" "$(cd "$S/bus/mdev/devices" && echo *)"
check 'remove 0x1, then the fd is stale' '0 0 ENODEV' "$(wr "$R" 0x1 1)"
check 'gone from the bus' "$u2" "$(ls "$S/bus/mdev/devices")"
check 'gone from the type' "$u2" "$(ls "$T/i915-GVTg_V5_4/devices")"
check 'open remove of a gone device' 'ENOENT' "$(wr "$R" 1)"
check 'available after one remove' '1 1 1 0' "$(avail)"
check 'remove 1\n' '0 0' "$(wr "$S/bus/mdev/devices/$u2/remove" '1\n')"
check 'available back up' '2 2 2 1' "$(avail)"
check 'create _1' '0 0' "$(wr "$T/i915-GVTg_V5_1/create" "$u3")"
check 'available after a _1' '0 0 0 0' "$(avail)"
check 'remove 2' '0 0' "$(wr "$S/bus/mdev/devices/$u3/remove" 2)"

# Exactly the bytes written, in order, one line each; 0-byte writes never reach FUSE.
cp=devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/create
check 'log: create lines' \
	"$cp ${u1}\\n\\n EINVAL|$cp \\x20${u1:0:35} EINVAL|$cp ${u1^^} 0|$cp ${u2}X 0" \
	"$(grep -F -e "$cp ${u1^^} " -e "$cp ${u2}X " -e "$cp \\x20" -e "$cp ${u1}\\n\\n" \
		"$work/gvt.log" | paste -sd '|')"
rp=devices/pci0000:00/0000:00:02.0/$u1/remove
check 'log: remove lines' "$rp 0x1 0|$rp 1 ENODEV" \
	"$(grep -F -e "$u1/remove 0x1 " -e "$u1/remove 1 " "$work/gvt.log" | paste -sd '|')"
check 'log: pool line' \
	"devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/create $u3 ENOSPC" \
	"$(grep -F ENOSPC "$work/gvt.log")"

# 32 writers at once on _4: the pool holds two, never more.
pids=()
for i in $(seq -w 1 32); do
	wr "$C" "0000${i}00-0000-4000-8000-0000000000${i}" >"$work/race.$i" &
	pids+=($!)
done
wait "${pids[@]}"
check '32 racing creates' '2 30' \
	"$(grep -lx '0 0' "$work"/race.* | wc -l) $(grep -lx '0 ENOSPC' "$work"/race.* | wc -l)"
devs=("$S"/bus/mdev/devices/*)
check 'two devices after the race' '2' "${#devs[@]}"
check 'available after the race' '0 0 0 0' "$(avail)"
for d in "$S"/bus/mdev/devices/*; do
	wr "$d/remove" 1 >/dev/null
done
check 'available after cleanup' '2 2 2 1' "$(avail)"

check 'sim_stop' '0' "$(sim_stop "$work/gvt" && echo $?)"
check 'unmounted' 'no' "$(_sim_mounted "$S" && echo yes || echo no)"

# A small aperture lists fewer types, as GVT-g does.
start small gvt --low-gm 128 --high-gm 512 --fences 4
check 'small aperture types' 'i915-GVTg_V5_4 i915-GVTg_V5_8' \
	"$(cd "$work/small/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types" && echo *)"
sim_stop "$work/small"

# -------------------------------------------------------------- profile samples
start samples samples
S=$work/samples/sys
M=$S/class/mdev_bus
MT=$M/mtty/mdev_supported_types
MD=$M/mdpy/mdev_supported_types
MB=$M/mbochs/mdev_supported_types

# counts DIR TYPE...: available_instances of each type, space-separated
counts() {
	local dir=$1 t out=''
	shift
	for t in "$@"; do
		out+="$(cat "$dir/$t/available_instances") "
	done
	echo "${out% }"
}

check 'sample parents' 'mbochs mdpy mtty' "$(cd "$M" && echo *)"
check 'mtty link' "$S/devices/virtual/mtty/mtty" "$(readlink -e "$M/mtty")"
check 'mtty types' 'mtty-1 mtty-2' "$(cd "$MT" && echo *)"
check 'mtty names' 'Single port serial|Dual port serial' \
	"$(cat "$MT/mtty-1/name")|$(cat "$MT/mtty-2/name")"
check 'mtty has no description' 'no' \
	"$([[ -e $MT/mtty-1/description ]] && echo yes || echo no)"
check 'mtty pool' '24 12' "$(counts "$MT" mtty-1 mtty-2)"
check 'create mtty-2' '0 0' "$(wr "$MT/mtty-2/create" "$u1")"
check 'mtty pool after mtty-2' '22 11' "$(counts "$MT" mtty-1 mtty-2)"
check 'mtty device link' "$S/devices/virtual/mtty/mtty/$u1" \
	"$(readlink -e "$S/bus/mdev/devices/$u1")"
check 'EEXIST across parents' '0 EEXIST' "$(wr "$MD/mdpy-vga/create" "$u1")"
check 'mdpy description' 'virtual display, 640x480 framebuffer' \
	"$(cat "$MD/mdpy-vga/description")"
for i in 1 2 3 4; do
	wr "$MD/mdpy-xga/create" "0000000$i-0000-0000-0000-000000000000" >/dev/null
done
check 'mdpy pool shared' '0 0 0' "$(counts "$MD" mdpy-vga mdpy-xga mdpy-hd)"
check 'mdpy exhausted' '0 EUSERS' "$(wr "$MD/mdpy-hd/create" "$u2")"
check 'mbochs pool' '64 16 4' "$(counts "$MB" mbochs-small mbochs-medium mbochs-large)"
check 'mbochs description' 'virtual display, 4 MB video memory' \
	"$(cat "$MB/mbochs-small/description")"
check 'create mbochs-large' '0 0' "$(wr "$MB/mbochs-large/create" "$u2")"
check 'mbochs pool after large' '48 12 3' \
	"$(counts "$MB" mbochs-small mbochs-medium mbochs-large)"
for i in 1 2 3; do
	wr "$MB/mbochs-large/create" "1000000$i-0000-0000-0000-000000000000" >/dev/null
done
check 'mbochs exhausted' '0 ENOSPC' "$(wr "$MB/mbochs-large/create" "$u3")"
check 'remove mtty device' '0 0' "$(wr "$S/bus/mdev/devices/$u1/remove" 1)"
check 'mtty pool back' '24 12' "$(counts "$MT" mtty-1 mtty-2)"
sim_stop "$work/samples"

# -------------------------------------- daemon mode, and unmounting with fusermount3
S=$work/daemon/sys
mkdir -p "$work/daemon"
roots+=("$work/daemon")
check 'daemon returns once mounted' '0' "$("$MDEV_SIM" "$S" >/dev/null 2>&1; echo $?)"
T=$S/class/mdev_bus/0000:00:02.0/mdev_supported_types
check 'tree ready at once' '2' "$(cat "$T/i915-GVTg_V5_4/available_instances")"
fusermount3 -u "$S"
for ((i = 0; i < 100; i++)); do
	_sim_mounted "$S" || break
	sleep 0.05
done
check 'fusermount3 -u unmounts' 'no' "$(_sim_mounted "$S" && echo yes || echo no)"

echo "# $checks checks, $failures failed"
[[ $failures -eq 0 ]]
