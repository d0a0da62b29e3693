#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs INSIDE the test VM (see run.sh), as root, in a chroot onto the host's root under a
# tmpfs overlay.  Loads the real mdev stack, then checks the library (mdev-probe), gvtgctl
# and the hook under a real libvirtd against the kernel's real sysfs.  Every check prints
# one PASS/FAIL/SKIP line; the last line is "GUEST-RESULT: N passed, N failed".  Both go
# to ttyS1, which run.sh reads; the console (ttyS0) gets them too, among the details.
# The small predicates below are called through expect_true, which shellcheck cannot see.
# shellcheck disable=SC2317
# No -e: a failing check is counted and the next one runs.
set -uo pipefail

envfile=${1:?usage: guest.sh ENVFILE}
# shellcheck source=/dev/null
. "$envfile"

exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null || true

npass=0
nfail=0
result() {
	printf '%s\n' "$*"
	printf '%s\n' "$*" >&3
}
pass() {
	npass=$((npass + 1))
	result "PASS: $*"
}
fail() {
	nfail=$((nfail + 1))
	result "FAIL: $*"
}
skipped() { result "SKIP: $*"; }
# Progress with the guest's uptime, on the console only: where the time goes under TCG.
stage() {
	local up
	read -r up _ </proc/uptime
	echo "guest: [${up}s] $*"
}
# expect NAME EXPECTED ACTUAL
expect() {
	if [[ $3 == "$2" ]]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$(printf '%s' "$3" | tr '\n' '|')'"
	fi
}
# expect_true NAME COMMAND...
expect_true() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
probe() { "$MDEV_PROBE" "$@" 2>&1; }
# Every device and record is gone: the state each group of checks starts from.
no_device() { [[ ! -e /sys/bus/mdev/devices/$1 ]]; }
has_device() { [[ -e /sys/bus/mdev/devices/$1 ]]; }
# no_records UUID...: none of them has an ownership record
no_records() {
	local u
	for u; do [[ ! -e /run/gvtg-hook/$u ]] || return 1; done
}
has_record() { [[ -e /run/gvtg-hook/$1 ]]; }
# record_is UUID ORIGIN [DOMAIN]
record_is() {
	grep -qx "origin=$2" "/run/gvtg-hook/$1" 2>/dev/null &&
		{ [[ -z ${3:-} ]] || grep -qx "domain_name=$3" "/run/gvtg-hook/$1"; }
}
# has_devices UUID...: all of them exist
has_devices() {
	local u
	for u; do [[ -e /sys/bus/mdev/devices/$u ]] || return 1; done
}
# contains TEXT WORD...: every word occurs in the text
contains() {
	local text=$1 w
	shift
	for w; do [[ $text == *"$w"* ]] || return 1; done
}

finish() {
	if [[ -n ${libvirtd_pid:-} ]]; then kill "$libvirtd_pid" 2>/dev/null || true; fi
	if [[ -n ${virtlogd_pid:-} ]]; then kill "$virtlogd_pid" 2>/dev/null || true; fi
	stage "done"
	echo "---- dmesg"
	dmesg | sed 's/^/dmesg| /'
	result "GUEST-RESULT: $npass passed, $nfail failed"
	exit 0
}

stage "kernel $(uname -r), $(nproc) CPUs"

# ---- the real mdev stack ------------------------------------------------------------

load_ok=true
load() {
	local out
	if ! out=$(insmod "$1" 2>&1); then
		fail "insmod $(basename "$1"): $out"
		load_ok=false
	fi
}
# mtty comes later, on its own: the udev rule's check watches its parent register.
for m in "$VM_KMODS/drivers/vfio/vfio.ko" "$VM_KMODS/drivers/vfio/vfio_iommu_type1.ko" \
	"$VM_KMODS/drivers/vfio/mdev/mdev.ko" "$VM_SAMPLES/mdpy.ko" "$VM_SAMPLES/mbochs.ko"; do
	load "$m"
done

# ---- the udev rule on a real parent's registration --------------------------------------

# The generated rule, under a real systemd-udevd (no systemd as PID 1, so the rule runs
# gvtgctl itself), sees mtty's parent register and creates the vGPU the configuration
# marks boot = yes.  Everything it needs is put in place in the overlay and taken away
# again, udevd included, so the checks after this one start from the same state.
BOOT_U=5f0d8d2e-0000-4000-8000-00000000b007
UDEVD=/lib/systemd/systemd-udevd
rule_runs=/run/gvtg-rule-runs.log
monitor_log=/run/gvtg-udev-monitor.log
udev_up=false
udevd_pid=
monitor_pid=
saved=()

# The rule's gvtgctl path: a small wrapper that notes which event ran it, then runs the
# built gvtgctl with the rule's arguments.
udev_setup() {
	local f rule_dst=/etc/udev/rules.d/85-gvtg-hook.rules
	expect_true "the generated rule runs $GVTG_RULE_GVTGCTL boot" \
		grep -qF "$GVTG_RULE_GVTGCTL boot" "$GVTG_UDEV_RULE"
	# The rule hands the work to systemctl when systemd runs: it must not think so here.
	if [[ -d /run/systemd/system ]]; then
		fail "udev rule: /run/systemd/system exists in the guest"
		return 1
	fi
	for f in "$GVTG_RULE_GVTGCTL" "$GVTG_CONFIG_FILE"; do
		if [[ -e $f || -L $f ]]; then
			mv -f "$f" "$f.gvtg-test-saved" && saved+=("$f")
		fi
		mkdir -p "$(dirname "$f")"
	done
	# First the rule's "change" line alone: the kernel's "add" for mtty's parent comes just
	# before the registration, and the "add" line would create the vGPU whenever udevd
	# handles that event after the registration.  The whole rule comes in for the coldplug.
	mkdir -p /etc/udev/rules.d
	grep -v '^ACTION=="add"' "$GVTG_UDEV_RULE" >"$rule_dst"
	expect "the rule's change line alone: 1 change line, no add line" "1 0" \
		"$(grep -c '^ACTION=="change"' "$rule_dst") $(grep -c '^ACTION=="add"' "$rule_dst")"
	: >"$rule_runs"
	cat >"$GVTG_RULE_GVTGCTL" <<-WRAP
		#!/bin/sh
		echo "run: ACTION=\$ACTION MDEV_STATE=\${MDEV_STATE:-} DEVPATH=\$DEVPATH args=\$*" >>$rule_runs
		exec $GVTGCTL "\$@" >>$rule_runs 2>&1
	WRAP
	chmod 0755 "$GVTG_RULE_GVTGCTL"
	cat >"$GVTG_CONFIG_FILE" <<-CONF
		[$BOOT_U]
		parent = mtty
		type = mtty-1
		boot = yes
	CONF
	# udevadm does nothing in a chroot unless told to go on: the guest runs in one.
	export SYSTEMD_IGNORE_CHROOT=1
	stage "starting systemd-udevd"
	if ! out=$("$UDEVD" --daemon 2>&1); then
		fail "systemd-udevd --daemon: $(head -c 300 <<<"$out")"
		return 1
	fi
	udevd_pid=$(pgrep -x systemd-udevd | head -n1)
	stage "systemd-udevd forked (pid ${udevd_pid:-?})"
	if ! timeout 20 udevadm control --ping --timeout=15 >/dev/null 2>&1; then
		fail "systemd-udevd answers udevadm control --ping within 15 s"
		return 1
	fi
	pass "systemd-udevd runs without systemd as PID 1 ($(udevadm --version))"
	stage "systemd-udevd answers"
	udev_up=true
	# Which events the kernel and udevd see for the parent and its devices, for the log.
	timeout 60 udevadm monitor --kernel --udev --property --subsystem-match=mtty \
		--subsystem-match=mdev >"$monitor_log" 2>&1 &
	monitor_pid=$!
	for _ in $(seq 1 50); do
		grep -q '^UDEV - ' "$monitor_log" 2>/dev/null && break
		sleep 0.1
	done
}

udev_teardown() {
	local f
	if [[ -n $monitor_pid ]]; then
		kill "$monitor_pid" 2>/dev/null
		wait "$monitor_pid" 2>/dev/null
		echo "---- udevadm monitor --property (mtty, mdev)"
		sed 's/^/monitor| /' "$monitor_log"
	fi
	echo "---- runs of the rule's gvtgctl"
	sed 's/^/rule| /' "$rule_runs" 2>/dev/null
	if [[ -n $udevd_pid ]]; then
		timeout 15 udevadm control --exit --timeout=10 >/dev/null 2>&1
		for _ in $(seq 1 50); do
			kill -0 "$udevd_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$udevd_pid" 2>/dev/null; then
			fail "systemd-udevd exits on udevadm control --exit within 5 s"
			kill -KILL "$udevd_pid"
		fi
	fi
	# libvirtd reads udev's database when there is one: leave none behind.
	rm -rf /run/udev /etc/udev/rules.d/85-gvtg-hook.rules
	rm -f "$GVTG_RULE_GVTGCTL" "$GVTG_CONFIG_FILE"
	for f in "${saved[@]}"; do mv -f "$f.gvtg-test-saved" "$f"; done
	unset SYSTEMD_IGNORE_CHROOT
	stage "udev rule's setup taken away"
}

# wait_device UUID: up to 10 s for it to appear (udevd has finished its queue by then,
# this only covers a slow worker)
wait_device() {
	for _ in $(seq 1 100); do
		has_device "$1" && return 0
		sleep 0.1
	done
	return 1
}
mdev_type_of() { basename "$(readlink "/sys/bus/mdev/devices/$1/mdev_type")"; }
settle() { timeout 15 udevadm settle --timeout=10; }
# ran_on FROM-LINE ACTION MDEV-STATE: a run of the rule's gvtgctl on that event for mtty's
# parent, after the first FROM-LINE lines of the log
ran_on() {
	tail -n "+$(($1 + 1))" "$rule_runs" |
		grep -qx "run: ACTION=$2 MDEV_STATE=$3 DEVPATH=/devices/virtual/mtty/mtty args=boot"
}
# boot_vgpu_made HOW: the boot vGPU exists as mtty-1 with a boot record
boot_vgpu_made() {
	expect_true "$1: the boot vGPU $BOOT_U exists" wait_device "$BOOT_U"
	expect "$1: its mdev_type is mtty-1" "mtty-1" "$(mdev_type_of "$BOOT_U")"
	expect_true "$1: gvtgctl's record says origin=boot" record_is "$BOOT_U" boot
}
boot_vgpu_removed() {
	if out=$("$GVTGCTL" boot --stop 2>&1) && no_device "$BOOT_U" && no_records "$BOOT_U"; then
		pass "$1: gvtgctl boot --stop removed it and its record"
	else
		fail "$1: gvtgctl boot --stop: $(head -c 300 <<<"$out")"
		probe remove "$BOOT_U" >/dev/null
		rm -f "/run/gvtg-hook/$BOOT_U"
	fi
}

if [[ -z ${GVTG_UDEV_RULE:-} || ! -r $GVTG_UDEV_RULE ]]; then
	skipped "udev rule: this build generates none"
elif [[ -z ${GVTGCTL:-} || ! -x $GVTGCTL ]]; then
	skipped "udev rule: gvtgctl is not built"
elif [[ -z ${GVTG_RULE_GVTGCTL:-} || -z ${GVTG_CONFIG_FILE:-} ]]; then
	skipped "udev rule: GVTG_RULE_GVTGCTL or GVTG_CONFIG_FILE not given (run through meson test)"
elif [[ ! -x $UDEVD ]] || ! command -v udevadm >/dev/null; then
	skipped "udev rule: $UDEVD or udevadm is missing (package udev)"
else
	udev_setup
fi

load "$VM_SAMPLES/mtty.ko"
if ! $load_ok; then
	udev_teardown
	finish
fi
pass "vfio, vfio_iommu_type1, mdev, mtty, mdpy, mbochs loaded"
stage "modules loaded"

if $udev_up; then
	expect_true "udevadm settle after loading mtty" settle
	boot_vgpu_made "mtty registered"
	expect_true "the rule ran on the kernel's change event with MDEV_STATE=registered" \
		ran_on 0 change registered
	boot_vgpu_removed "mtty registered"
	# Coldplug: a parent registered before udevd started is found by the "add" line.
	install -m 0644 "$GVTG_UDEV_RULE" /etc/udev/rules.d/85-gvtg-hook.rules
	expect_true "udevadm control --reload with the whole generated rule" \
		timeout 15 udevadm control --reload --timeout=10
	parent_path=$(readlink -f /sys/class/mdev_bus/mtty)
	runs_before=$(wc -l <"$rule_runs")
	expect_true "udevadm trigger --action=add on ${parent_path#/sys}" \
		timeout 15 udevadm trigger --action=add "$parent_path"
	expect_true "udevadm settle after the trigger" settle
	boot_vgpu_made "coldplug add"
	expect_true "the rule ran on the triggered add event" ran_on "$runs_before" add ""
	boot_vgpu_removed "coldplug add"
	stage "udev rule checks done"
fi
udev_teardown

# ---- a. the library against real sysfs --------------------------------------------------

U1=6a0e2f8e-1c4b-4d7a-9a51-3f1e0b7c2d01
U1_UPPER=${U1^^}
U2=6a0e2f8e-1c4b-4d7a-9a51-3f1e0b7c2d02
MIXED=0E3C5A7B-2D4F-4A6B-8C1D-9E0F1A2B3C4D
mixed_lower=${MIXED,,}

expect "parents: mbochs, mdpy, mtty" "mbochs mdpy mtty" "$(probe parents | tr '\n' ' ' | sed 's/ $//')"

expect "types of mtty" \
	'mtty-1 available=24 device_api=vfio-pci name="Single port serial" description="-"
mtty-2 available=12 device_api=vfio-pci name="Dual port serial" description="-"' \
	"$(probe types mtty)"

types_mdpy=$(probe types mdpy)
expect "types of mdpy: ids" "mdpy-hd mdpy-vga mdpy-xga" "$(cut -d' ' -f1 <<<"$types_mdpy" | tr '\n' ' ' | sed 's/ $//')"
expect "types of mdpy: 4 available each, vfio-pci, a description" "3" \
	"$(grep -c '^mdpy-[a-z]* available=4 device_api=vfio-pci name="mdpy-[a-z]*" description="virtual display, [0-9]*x[0-9]* framebuffer"$' <<<"$types_mdpy")"
expect "type mdpy-vga" \
	'mdpy-vga available=4 device_api=vfio-pci name="mdpy-vga" description="virtual display, 640x480 framebuffer"' \
	"$(probe type mdpy mdpy-vga)"

types_mbochs=$(probe types mbochs)
expect "types of mbochs: ids and counts" \
	"mbochs-large:4 mbochs-medium:16 mbochs-small:64" \
	"$(sed -n 's/^\([^ ]*\) available=\([0-9]*\) .*/\1:\2/p' <<<"$types_mbochs" | tr '\n' ' ' | sed 's/ $//')"
expect "types of mbochs: vfio-pci and a description" "3" \
	"$(grep -c ' device_api=vfio-pci name="[^"]*" description="virtual display, [0-9]* MB video memory"$' <<<"$types_mbochs")"

expect "type of a missing type: -ENOENT" "-ENOENT" "$(probe type mtty mtty-9)"
expect "types of a missing parent: -ENOENT" "-ENOENT" "$(probe types nope)"

expect "create mtty-1" "0" "$(probe create mtty mtty-1 "$U1")"
expect "the device shows parent and type" "$U1 mtty mtty-1" "$(probe device "$U1")"
expect "devices lists it" "$U1 mtty mtty-1" "$(probe devices)"
expect_true "sysfs has it under the type" test -e "/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/devices/$U1"
expect "mtty-1 available 24 -> 23" "23" "$(probe available mtty mtty-1)"
expect "mtty-2 available 12 -> 11 (one pool of ports)" "11" "$(probe available mtty mtty-2)"
expect "create the same UUID again: -EEXIST" "-EEXIST" "$(probe create mtty mtty-1 "$U1")"
expect "create the same UUID as mtty-2: -EEXIST" "-EEXIST" "$(probe create mtty mtty-2 "$U1")"
expect "create the same UUID on mdpy: -EEXIST" "-EEXIST" "$(probe create mdpy mdpy-vga "$U1")"
expect "create the same UUID in upper case: -EEXIST" "-EEXIST" "$(probe create mbochs mbochs-small "$U1_UPPER")"
expect "mdpy still has 4 after the refusals" "4" "$(probe available mdpy mdpy-vga)"
expect "create on a missing type: -ENOENT" "-ENOENT" "$(probe create mtty mtty-9 "$U2")"
expect "create on a missing parent: -ENOENT" "-ENOENT" "$(probe create nope mtty-1 "$U2")"
expect_true "nothing created by the refusals" no_device "$U2"
expect "remove" "0" "$(probe remove "$U1")"
expect "the device is gone" "-ENOENT" "$(probe device "$U1")"
expect_true "gone from sysfs" no_device "$U1"
expect "mtty-1 available back to 24" "24" "$(probe available mtty mtty-1)"
expect "remove again: -ENOENT" "-ENOENT" "$(probe remove "$U1")"

expect "create with an UPPER-case UUID" "0" "$(probe create mtty mtty-1 "$MIXED")"
expect_true "the kernel names it in lower case" has_device "$mixed_lower"
expect "devices shows the lower-case name" "$mixed_lower mtty mtty-1" "$(probe devices)"
expect "remove by the UPPER-case UUID" "0" "$(probe remove "$MIXED")"
expect_true "upper-case device gone" no_device "$mixed_lower"

# ENOSPC: mtty's 24 ports, taken by 12 dual-port devices.
ok=0
for i in $(seq 1 12); do
	[[ $(probe create mtty mtty-2 "$(printf '7b1d0000-0000-4000-8000-%012d' "$i")") == 0 ]] &&
		ok=$((ok + 1))
done
expect "12 x mtty-2 created" "12" "$ok"
expect "mtty-1 available 0" "0" "$(probe available mtty mtty-1)"
expect "mtty-2 available 0" "0" "$(probe available mtty mtty-2)"
expect "mtty-1 when the ports are used up: -ENOSPC" "-ENOSPC" \
	"$(probe create mtty mtty-1 "$U2")"
expect "mtty-2 when the ports are used up: -ENOSPC" "-ENOSPC" \
	"$(probe create mtty mtty-2 "$U2")"
ok=0
for i in $(seq 1 12); do
	[[ $(probe remove "$(printf '7b1d0000-0000-4000-8000-%012d' "$i")") == 0 ]] &&
		ok=$((ok + 1))
done
expect "12 x mtty-2 removed" "12" "$ok"
expect "mtty-1 available back to 24 after the 12" "24" "$(probe available mtty mtty-1)"

# EUSERS: mdpy's 4 instances, one pool for its three types.
mdpy_uuids=()
for i in 1 2 3 4; do mdpy_uuids+=("$(printf '8c2e0000-0000-4000-8000-%012d' "$i")"); done
got=""
for i in 0 1 2 3; do
	t=(mdpy-vga mdpy-xga mdpy-hd mdpy-vga)
	got+="$(probe create mdpy "${t[$i]}" "${mdpy_uuids[$i]}") "
done
expect "4 x mdpy created across its types" "0 0 0 0 " "$got"
expect "mdpy-hd available 0" "0" "$(probe available mdpy mdpy-hd)"
expect "a 5th mdpy: -EUSERS" "-EUSERS" "$(probe create mdpy mdpy-xga "$U2")"
for u in "${mdpy_uuids[@]}"; do probe remove "$u" >/dev/null; done
expect "mdpy-xga available back to 4" "4" "$(probe available mdpy mdpy-xga)"
expect "no devices left after the library checks" "" "$(probe devices)"

stage "library checks done"

# ---- gvtgctl against real sysfs ---------------------------------------------------------

if [[ -n ${GVTGCTL:-} && -x $GVTGCTL ]]; then
	if out=$("$GVTGCTL" list --json 2>&1); then
		if python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$out" 2>/dev/null ||
			{ ! command -v python3 >/dev/null && [[ $out == [\{\[]* ]]; }; then
			pass "gvtgctl list --json is JSON"
		else
			fail "gvtgctl list --json is not JSON: $(head -c 200 <<<"$out")"
		fi
		expect_true "gvtgctl list --json names mtty" contains "$out" mtty
	else
		fail "gvtgctl list --json failed: $(head -c 300 <<<"$out")"
	fi
	if out=$("$GVTGCTL" create --parent mtty --type mtty-1 2>&1); then
		u=$(grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' <<<"$out" | head -n1)
		if [[ -n $u ]] && has_device "$u"; then
			pass "gvtgctl create made $u on mtty"
			expect "gvtgctl's device is mtty-1" "$u mtty mtty-1" "$(probe device "$u")"
			if out=$("$GVTGCTL" remove "$u" 2>&1) && no_device "$u"; then
				pass "gvtgctl remove $u"
			else
				fail "gvtgctl remove $u: $(head -c 300 <<<"$out")"
				probe remove "$u" >/dev/null
			fi
		else
			fail "gvtgctl create printed no UUID of a new device: $(head -c 300 <<<"$out")"
		fi
	else
		fail "gvtgctl create --parent mtty --type mtty-1 failed: $(head -c 300 <<<"$out")"
	fi
else
	skipped "gvtgctl checks: gvtgctl is not built"
fi

# ---- b. the hook under a real libvirtd ---------------------------------------------------

# Everything below writes only into the overlay: the host's /etc/libvirt stays as it is.
# Whatever the host has there (hooks, domains, autostarted networks) must not take part.
rm -rf /etc/libvirt/hooks /etc/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu \
	/var/log/libvirt
mkdir -p /etc/libvirt/hooks/qemu.d /etc/libvirt/qemu/networks/autostart \
	/var/lib/libvirt/qemu /var/log/libvirt
# Inside a TCG guest: without namespaces = [] QEMU cannot open /dev/vfio/N.
cat >/etc/libvirt/qemu.conf <<'EOF'
namespaces = []
stdio_handler = "file"
security_driver = "none"
EOF
ln -s "$GVTG_HOOK" /etc/libvirt/hooks/qemu.d/50-gvtg-hook
rm -f /etc/gvtg-hook.conf

vlog=/var/log/libvirt/gvtg-test.log
daemon_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
	LIBVIRT_LOG_FILTERS="1:util.hook 1:util.command" LIBVIRT_LOG_OUTPUTS="1:file:$vlog")
stage "starting virtlogd and libvirtd"
"${daemon_env[@]}" virtlogd -d -p /run/gvtg-virtlogd.pid
"${daemon_env[@]}" libvirtd -d -p /run/gvtg-libvirtd.pid
virsh() { timeout 120 /usr/bin/virsh -q -c qemu:///system "$@"; }
up=false
for _ in $(seq 1 120); do
	if timeout 10 /usr/bin/virsh -c qemu:///system version >/dev/null 2>&1; then
		up=true
		break
	fi
	sleep 0.5
done
virtlogd_pid=$(cat /run/gvtg-virtlogd.pid 2>/dev/null || true)
libvirtd_pid=$(cat /run/gvtg-libvirtd.pid 2>/dev/null || true)
if ! $up; then
	fail "libvirtd answers within 60 s"
	tail -n 30 "$vlog" 2>/dev/null
	finish
fi
pass "libvirtd answers ($(/usr/bin/virsh -c qemu:///system version 2>/dev/null | grep -i 'running hypervisor' | sed 's/.*: *//'))"

stage "libvirtd is up"

# domain_xml NAME DOMAIN-UUID UUID:PARENT:TYPE...
domain_xml() {
	local name=$1 duuid=$2 spec
	shift 2
	printf "<domain type='qemu'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n" "$name" "$duuid"
	printf "  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n"
	printf "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
	printf "  <metadata><gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>\n"
	for spec in "$@"; do
		IFS=: read -r u p t <<<"$spec"
		printf "    <gvtg:device uuid='%s' parent='%s' type='%s'/>\n" "$u" "$p" "$t"
	done
	printf "  </gvtg:vgpu></metadata>\n  <devices>\n"
	printf "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
	for spec in "$@"; do
		IFS=: read -r u _ _ <<<"$spec"
		printf "    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n"
		printf "      <source><address uuid='%s'/></source>\n    </hostdev>\n" "$u"
	done
	printf "    <memballoon model='none'/>\n  </devices>\n</domain>\n"
}
define() {
	local name=$1 f
	f=/tmp/gvtg-vm-$name.xml
	domain_xml "$@" >"$f"
	stage "define $name"
	if ! out=$(virsh define "$f" 2>&1); then
		fail "virsh define $name: $out"
		return 1
	fi
}
qemu_cmdline() {
	local pid
	pid=$(cat "/run/libvirt/qemu/$1.pid" 2>/dev/null) || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true
}
state() { virsh domstate "$1" 2>/dev/null | head -n1; }
show_hook_log() {
	echo "---- libvirt hook log (last lines)"
	grep -E 'hook|Result|Calling' "$vlog" 2>/dev/null | tail -n 20
}

A=1f3a5c7e-0000-4000-8000-00000000000a
C1=1f3a5c7e-0000-4000-8000-0000000000c1
C2=1f3a5c7e-0000-4000-8000-0000000000c2
D1=1f3a5c7e-0000-4000-8000-0000000000d1
D2=1f3a5c7e-0000-4000-8000-0000000000d2
E=1f3a5c7e-0000-4000-8000-00000000000e

# Start and destroy: the hook creates the vGPU, QEMU gets it, the hook removes it.
define vm-a 2b4d0000-0000-4000-8000-00000000000a "$A:mtty:mtty-1"
if out=$(virsh start vm-a 2>&1); then
	pass "virsh start vm-a (mtty-1 from the metadata)"
else
	fail "virsh start vm-a: $out"
	show_hook_log
fi
expect "vm-a's vGPU exists as mtty-1" "$A mtty mtty-1" "$(probe device "$A")"
cmdline=$(qemu_cmdline vm-a)
expect_true "QEMU runs with sysfsdev=/sys/bus/mdev/devices/$A" \
	grep -qE "sysfsdev(=|\":\")/sys/bus/mdev/devices/$A" <<<"$cmdline"
expect_true "the hook recorded vm-a's vGPU in /run/gvtg-hook" has_record "$A"
expect_true "the record says created, held by vm-a" record_is "$A" created vm-a

# The same UUID for a second domain while the first runs.
define vm-b 2b4d0000-0000-4000-8000-00000000000b "$A:mtty:mtty-1"
if out=$(virsh start vm-b 2>&1); then
	fail "virsh start vm-b with vm-a's vGPU succeeded"
	virsh destroy vm-b >/dev/null 2>&1
else
	pass "virsh start vm-b with vm-a's vGPU fails"
fi
expect_true "the error comes from gvtg-hook" contains "$out" "gvtg-hook:"
expect_true "the error says domain 'vm-a' holds it" contains "$out" "domain 'vm-a' holds it"
echo "vm-b's error: $out"
expect_true "vm-a's vGPU is still there" has_device "$A"
expect_true "vm-a's record is still there, naming vm-a" record_is "$A" created vm-a
expect "vm-a still runs" "running" "$(state vm-a)"

if out=$(virsh destroy vm-a 2>&1); then pass "virsh destroy vm-a"; else fail "virsh destroy vm-a: $out"; fi
expect_true "the hook removed vm-a's vGPU" no_device "$A"
expect_true "no record left for vm-a's vGPU" no_records "$A"

# Two vGPUs, the second impossible (a type mtty does not have): nothing is left behind.
define vm-c 2b4d0000-0000-4000-8000-00000000000c "$C1:mtty:mtty-1" "$C2:mtty:mtty-9"
if out=$(virsh start vm-c 2>&1); then
	fail "virsh start vm-c with a missing type succeeded"
	virsh destroy vm-c >/dev/null 2>&1
else
	pass "virsh start vm-c (second vGPU of a missing type) fails"
fi
expect_true "vm-c's error comes from gvtg-hook and names mtty-9" \
	contains "$out" "gvtg-hook:" "mtty-9"
expect_true "vm-c: the first vGPU was removed again" no_device "$C1"
expect_true "vm-c: no second vGPU" no_device "$C2"
expect_true "vm-c: no records" no_records "$C1" "$C2"

# Two vGPUs, the second's pool exhausted (mdpy taken by devices nobody recorded).
for u in "${mdpy_uuids[@]}"; do probe create mdpy mdpy-vga "$u" >/dev/null; done
expect "mdpy exhausted by hand" "0" "$(probe available mdpy mdpy-vga)"
define vm-d 2b4d0000-0000-4000-8000-00000000000d "$D1:mtty:mtty-1" "$D2:mdpy:mdpy-vga"
if out=$(virsh start vm-d 2>&1); then
	fail "virsh start vm-d with mdpy exhausted succeeded"
	virsh destroy vm-d >/dev/null 2>&1
else
	pass "virsh start vm-d (mdpy exhausted) fails"
fi
expect_true "vm-d's error comes from gvtg-hook and names mdpy-vga" \
	contains "$out" "gvtg-hook:" "mdpy-vga"
echo "vm-d's error: $out"
expect_true "vm-d: the mtty vGPU was removed again" no_device "$D1"
expect_true "vm-d: no mdpy vGPU" no_device "$D2"
expect_true "vm-d: no records" no_records "$D1" "$D2"
expect_true "vm-d: the hand-made mdpy devices are untouched" has_devices "${mdpy_uuids[@]}"
for u in "${mdpy_uuids[@]}"; do probe remove "$u" >/dev/null; done

# A vGPU made before the start (no record): adopted, used, and left in place.
expect "make vm-e's vGPU by hand" "0" "$(probe create mtty mtty-1 "$E")"
define vm-e 2b4d0000-0000-4000-8000-00000000000e "$E:mtty:mtty-1"
if out=$(virsh start vm-e 2>&1); then
	pass "virsh start vm-e with an existing vGPU"
else
	fail "virsh start vm-e: $out"
	show_hook_log
fi
expect_true "vm-e's record says adopted, held by vm-e" record_is "$E" adopted vm-e
expect_true "QEMU runs with vm-e's vGPU" \
	grep -qE "sysfsdev(=|\":\")/sys/bus/mdev/devices/$E" <<<"$(qemu_cmdline vm-e)"
if out=$(virsh destroy vm-e 2>&1); then pass "virsh destroy vm-e"; else fail "virsh destroy vm-e: $out"; fi
expect_true "the adopted vGPU is still there after the destroy" has_device "$E"
expect_true "no record left for the adopted vGPU" no_records "$E"
expect "remove the adopted vGPU by hand" "0" "$(probe remove "$E")"

# A vGPU a running QEMU holds while its record says idle (a hot-plug libvirt runs no hook
# for, a domain started before libvirtd was restarted): sleep pre and boot --stop look at
# the device itself, leave it alone, say who holds it, and return promptly.
H=1f3a5c7e-0000-4000-8000-0000000000f1
if [[ -n ${GVTGCTL:-} && -x $GVTGCTL ]]; then
	define vm-h 2b4d0000-0000-4000-8000-0000000000f1 "$H:mtty:mtty-1"
	if out=$(virsh start vm-h 2>&1); then
		pass "virsh start vm-h"
	else
		fail "virsh start vm-h: $out"
	fi
	printf 'origin=boot\ndomain_name=\ndomain_uuid=\nparent=mtty\ntype=mtty-1\ntime=1\n' \
		>"/run/gvtg-hook/$H"
	printf '[sleep]\nremove_idle = yes\n[hook]\nremove_timeout = 2\n' >/tmp/gvtg-held.conf
	for cmd in "sleep pre" "boot --stop"; do
		t0=$(date +%s)
		# shellcheck disable=SC2086
		out=$(timeout 60 "$GVTGCTL" --config /tmp/gvtg-held.conf $cmd 2>&1)
		took=$(($(date +%s) - t0))
		echo "gvtgctl $cmd: $out"
		expect_true "gvtgctl $cmd names the QEMU that holds the vGPU" \
			contains "$out" "$H" "has the vGPU's VFIO node" "qemu"
		expect_true "gvtgctl $cmd returned within 10 s ($took s)" test "$took" -le 10
		expect_true "gvtgctl $cmd left the held vGPU in place" has_device "$H"
		expect "vm-h still runs after gvtgctl $cmd" "running" "$(state vm-h)"
		expect "no gvtgctl process left after $cmd" "" "$(pgrep -x gvtgctl || true)"
	done
	rm -f /run/gvtg-hook/sleep
	if out=$(virsh destroy vm-h 2>&1); then pass "virsh destroy vm-h"; else fail "virsh destroy vm-h: $out"; fi
	expect_true "vm-h's boot vGPU stays after the stop" has_device "$H"
	if out=$("$GVTGCTL" remove "$H" 2>&1) && no_device "$H"; then
		pass "gvtgctl remove $H once QEMU let go"
	else
		fail "gvtgctl remove $H: $out"
		probe remove "$H" >/dev/null
	fi
	rm -f /tmp/gvtg-held.conf
else
	skipped "held vGPU checks: gvtgctl is not built"
fi

. "$(dirname "${BASH_SOURCE[0]}")/guest-shape.sh" # hot-plugged vGPUs; hooks/qemu copy
. "$(dirname "${BASH_SOURCE[0]}")/guest-mdevctl.sh"
. "$(dirname "${BASH_SOURCE[0]}")/guest-attach.sh" # gvtgctl attach/detach, then starts

expect "no mdev devices left at the end" "" "$(probe devices)"
expect "no records left at the end" "" "$(find /run/gvtg-hook -mindepth 1 -maxdepth 1 \
	-name '*-*-*-*-*' 2>/dev/null)"
# The same again under libvirtd confined by AppArmor, as Debian and Ubuntu run it.
# shellcheck source=tests/vm/guest-confined.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest-confined.sh"
if ((nfail)); then show_hook_log; fi
finish
