#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs INSIDE the stock Debian host that tests/host/run.sh boots: as the unit
# gvtg-host-check.service (after multi-user.target and libvirtd.service) with "run", and
# at shutdown, as the ExecStop of gvtg-host-last.service (stopped after gvtg-boot.service)
# with "shutdown".  Each check does what an administrator does on such a host: install the
# package with apt, restart libvirtd as the README says, start and stop domains with virsh
# under the confined daemon, ask gvtgctl check, configure a boot vGPU, suspend, remove and
# purge the package.  One PASS/FAIL line per check on ttyS1 (run.sh reads it) and on the
# console; "shutdown" ends with "GUEST-RESULT: N passed, N failed".
# The small predicates below are called through expect_true, which shellcheck cannot see.
# shellcheck disable=SC2317
# No -e: a failing check is counted and the next one runs.
set -uo pipefail

envfile=${1:?usage: guest.sh ENVFILE run|shutdown}
mode=${2:?usage: guest.sh ENVFILE run|shutdown}
# shellcheck source=/dev/null
. "$envfile"
# The host's paths, as this host sees them.
DEB=/host$DEB
DEB_CONTENTS=/host$DEB_CONTENTS
VM_SAMPLES=/host$VM_SAMPLES

exec 3>>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null || true
counts=/run/gvtg-host-counts
npass=0
nfail=0
[[ $mode == shutdown && -r $counts ]] && read -r npass nfail <"$counts"

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
info() { result "INFO: $*"; }
stage() {
	local up
	read -r up _ </proc/uptime
	echo "guest: [${up}s] $*"
}
one_line() { tr '\n' '|' <<<"$1" | head -c 400; }
# expect NAME EXPECTED ACTUAL
expect() {
	if [[ $3 == "$2" ]]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$(one_line "$3")'"
	fi
}
expect_true() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
expect_false() {
	local name=$1
	shift
	if "$@"; then fail "$name"; else pass "$name"; fi
}
# show TAG TEXT: the details, on the console only
show() { awk -v t="$1| " '{ print t $0 }' <<<"$2"; }
# wait_for SECONDS COMMAND...: poll every 0.2 s
wait_for() {
	local n=$(($1 * 5))
	shift
	while ((n-- > 0)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
contains() {
	local text=$1 w
	shift
	for w; do [[ $text == *"$w"* ]] || return 1; done
}

has_device() { [[ -e /sys/bus/mdev/devices/$1 ]]; }
no_device() { [[ ! -e /sys/bus/mdev/devices/$1 ]]; }
mdev_type_of() { basename "$(readlink "/sys/bus/mdev/devices/$1/mdev_type" 2>/dev/null)"; }
virsh() { timeout 120 /usr/bin/virsh -q -c qemu:///system "$@"; }
state() { virsh domstate "$1" 2>/dev/null | head -n1; }
running() { [[ $(state "$1") == running ]]; }
daemon_pid() { pidof -s libvirtd; }
confinement() {
	local pid
	pid=$(daemon_pid) || return 0
	tr -d '\0' <"/proc/$pid/attr/current" 2>/dev/null
}
denials() { dmesg | grep -c 'apparmor="DENIED"'; }
failed_units() { systemctl --failed --no-legend --plain 2>/dev/null; }
# qemu_holds DOMAIN UUID: that domain's QEMU has the vGPU's VFIO group open
qemu_holds() {
	local pid group
	pid=$(cat "/run/libvirt/qemu/$1.pid" 2>/dev/null) || return 1
	group=$(basename "$(readlink "/sys/bus/mdev/devices/$2/iommu_group" 2>/dev/null)")
	[[ -n $group ]] || return 1
	local fd
	for fd in /proc/"$pid"/fd/*; do
		[[ $(readlink "$fd") == "/dev/vfio/$group" ]] && return 0
	done
	return 1
}
# The hook's syslog lines since a point in time (journalctl -t gvtg-hook, as the README).
hook_journal() { journalctl -q -o cat -t gvtg-hook --since "@$1" 2>/dev/null; }
now() { date +%s.%N | cut -c1-14; }

# The package's files (dpkg-deb -c, made on the host): path and kind.
package_paths() { awk '{ p = substr($2, 2); sub(/\/$/, "", p); if (p != "") print $1 " " p }' \
	"$DEB_CONTENTS"; }
# apt_get ARGS...: apt-get as an admin runs it, each output line stamped with the uptime
# (under TCG the time goes into the maintainer scripts: the log says where).
apt_get() {
	timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 "$@" 2>&1 |
		while IFS= read -r l; do
			read -r up _ </proc/uptime
			printf '%s %s\n' "$up" "$l"
		done
	return "${PIPESTATUS[0]}"
}
# The suspend unit as the package installs it (found in the package: its place is the
# packaging's business).
sleep_unit() { dpkg -L gvtg-hook 2>/dev/null | grep '/gvtg-sleep\.service$' | head -n1; }
config=/etc/gvtg-hook.conf

BOOT_U=5f0d8d2e-0000-4000-8000-00000000b007
V1=1f3a5c7e-0000-4000-8000-0000000000a1

# domain_xml NAME UUID [VGPU-UUID]: a 64 MiB type='qemu' domain without disk, with one
# mtty vGPU (its parent and type in the project's metadata) or none
domain_xml() {
	printf "<domain type='qemu'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n" "$1" "$2"
	printf "  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n"
	printf "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
	if [[ -n ${3:-} ]]; then
		printf "  <metadata><gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>\n"
		printf "    <gvtg:device uuid='%s' parent='mtty' type='mtty-1'/>\n" "$3"
		printf "  </gvtg:vgpu></metadata>\n"
	fi
	printf "  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
	if [[ -n ${3:-} ]]; then
		printf "    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n"
		printf "      <source><address uuid='%s'/></source>\n    </hostdev>\n" "$3"
	fi
	printf "    <memballoon model='none'/>\n  </devices>\n</domain>\n"
}
define() {
	domain_xml "$@" >"/root/$1.xml"
	if out=$(virsh define "/root/$1.xml" 2>&1); then
		pass "virsh define $1"
	else
		fail "virsh define $1: $(one_line "$out")"
	fi
}
start() {
	local t0
	t0=$(now)
	if out=$(virsh start "$1" 2>&1); then
		pass "virsh start $1 under the confined libvirtd"
	else
		fail "virsh start $1: $(one_line "$out")"
		show journal "$(journalctl -q -o short-monotonic --since "@$t0" 2>/dev/null | tail -n 20)"
	fi
}
destroy() {
	if out=$(virsh destroy "$1" 2>&1); then
		pass "virsh destroy $1"
	else
		fail "virsh destroy $1: $(one_line "$out")"
	fi
}

# ===================================================================== at shutdown ======
if [[ $mode == shutdown ]]; then
	stage "shutdown checks (gvtg-boot.service has been stopped)"
	expect_true "at shutdown: gvtg-boot.service removed the idle boot vGPU $BOOT_U" \
		no_device "$BOOT_U"
	show gvtg-boot "$(journalctl -q -o short-monotonic -u gvtg-boot.service | tail -n 8)"
	expect "at shutdown: no AppArmor denial in the kernel log" 0 "$(denials)"
	echo "---- dmesg"
	dmesg | sed 's/^/dmesg| /'
	result "GUEST-RESULT: $npass passed, $nfail failed"
	exit 0
fi

# ===================================================================== the host as booted
stage "kernel $(uname -r), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
expect "no failed unit after boot (systemctl --failed)" "" "$(failed_units)"
expect "AppArmor is enabled" Y "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)"
expect_true "the packaged libvirtd profile is loaded in enforce mode" \
	grep -qx 'libvirtd (enforce)' /sys/kernel/security/apparmor/profiles
expect "libvirtd.service is active" active "$(systemctl is-active libvirtd.service)"
# Debian's libvirtd exits when idle (--timeout 120): virsh starts it again by its socket.
virsh version >/dev/null 2>&1
expect "libvirtd runs confined: /proc/PID/attr/current" "libvirtd (enforce)" "$(confinement)"
expect "mdev parents mtty, mdpy, mbochs registered" "mbochs mdpy mtty" \
	"$(find /sys/class/mdev_bus -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ' | sed 's/ $//')"
info "$(virsh version 2>/dev/null | tr '\n' ';')"

# ===================================================================== the package ======
# First the Ansible role, from a stock host back to one (ansible.sh, beside this copy).
# shellcheck source=tests/host/ansible.sh
. "$(dirname "${BASH_SOURCE[0]}")/ansible.sh"
ansible_checks

stage "apt-get install ./$(basename "$DEB")"
cp "$DEB" /root/
cd /root || exit 1
out=$(apt_get install "./$(basename "$DEB")" 2>&1)
rc=$?
show apt "$out"
expect "apt-get install ./$(basename "$DEB") (offline, as an admin): exit status" 0 "$rc"
expect "the package is installed" "install ok installed" \
	"$(dpkg-query -W -f='${Status}' gvtg-hook 2>/dev/null)"
expect "apt printed no warning or error (W:/E: lines)" "" "$(grep -E '^[0-9.]+ (W|E): ' <<<"$out")"
expect_true "the package tells the admin to restart libvirtd" \
	contains "$out" "systemctl restart libvirtd"
info "the package's own messages: $(sed -n 's/^[0-9.]* \(gvtg-hook.*\)/\1/p' <<<"$out" | tr '\n' ' ')"
expect "no failed unit after the installation" "" "$(failed_units)"

# libvirt looks for hooks when it starts: gvtgctl check must say the daemon predates it.
virsh version >/dev/null 2>&1
before=$(timeout 60 gvtgctl check 2>&1)
show "check before restart" "$before"
expect_true "before the restart, gvtgctl check says libvirtd predates the hook" \
	grep -qE '^WARN +libvirtd \(pid [0-9]+\) started before the hook was installed' <<<"$before"

stage "systemctl restart libvirtd"
expect_true "systemctl restart libvirtd (as the README says)" timeout 120 systemctl restart libvirtd
virsh version >/dev/null 2>&1
expect "libvirtd after the restart runs confined" "libvirtd (enforce)" "$(confinement)"

# ===================================================================== domains =========
# As a stock host runs them: libvirt's own configuration, its AppArmor security driver
# (virt-aa-helper makes a profile for each QEMU), the default namespaces.
d0=$(denials)
stage "a domain without vGPU"
define plain 2b4d0000-0000-4000-8000-0000000000f0
start plain
plain_ok=false
running plain && plain_ok=true
expect "plain runs" running "$(state plain)"
destroy plain
expect "no AppArmor denial while a domain without vGPU started and stopped" 0 \
	"$(($(denials) - d0))"

stage "a domain with an mtty vGPU"
d0=$(denials)
t0=$(now)
define vgpu1 2b4d0000-0000-4000-8000-0000000000a1 "$V1"
start vgpu1
expect "vgpu1's vGPU was created as mtty-1" mtty-1 "$(mdev_type_of "$V1")"
expect_true "vgpu1's QEMU holds the vGPU's VFIO group" qemu_holds vgpu1 "$V1"
expect "the hook's record says created, held by vgpu1" "origin=created domain_name=vgpu1" \
	"$(grep -E '^(origin|domain_name)=' "/run/gvtg-hook/$V1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
destroy vgpu1
expect_true "the hook removed vgpu1's vGPU" wait_for 10 no_device "$V1"
journal=$(hook_journal "$t0")
show "journalctl -t gvtg-hook" "$journal"
expect_true "journalctl -t gvtg-hook shows the vGPU created" \
	grep -qiE "creat.*$V1|$V1.*creat" <<<"$journal"
expect_true "journalctl -t gvtg-hook shows the vGPU removed" \
	grep -qiE "remov.*$V1|$V1.*remov" <<<"$journal"
expect "no AppArmor denial while a vGPU domain started and stopped" 0 "$(($(denials) - d0))"

# ===================================================================== gvtgctl check ===
# Every line it prints must be true of this host; the lines this host can contradict are
# checked against what it is, the others are recorded.
stage "gvtgctl check"
virsh version >/dev/null 2>&1
out=$(timeout 60 gvtgctl check 2>&1)
show "gvtgctl check" "$out"
info "gvtgctl check on this host: $(tr -s ' ' <<<"$out" | tr '\n' ';')"
pid=$(daemon_pid)
bad=""
unverified=0
hook_fail=0
while IFS= read -r line; do
	[[ -z $line ]] && continue
	st=${line%% *}
	what=$(sed -E 's/^[A-Z]+ +//' <<<"$line")
	ok=unknown
	case $what in
	*iGPU*) [[ $st != PASS ]] && ok=yes || ok=no ;;
	"module "*"not loaded"*)
		# "module kvmgt not loaded", "module mdev (or vfio_mdev) not loaded"
		ok=yes
		[[ $st == PASS ]] && ok=no
		read -r -a mods <<<"$(sed -E 's/^module ([a-z0-9_]+)( \(or ([a-z0-9_]+)\))?.*/\1 \3/' <<<"$what")"
		for m in "${mods[@]}"; do
			[[ -e /sys/module/$m ]] && ok=no
		done ;;
	"module "*" loaded"*)
		m=$(awk '{print $2}' <<<"$what")
		[[ $st == PASS && -e /sys/module/$m ]] && ok=yes || ok=no ;;
	"/dev/vfio/vfio"*)
		[[ -e /dev/vfio/vfio ]] && want=PASS || want=FAIL
		[[ $st == "$want" ]] && ok=yes || ok=no ;;
	*IOMMU*)
		[[ -n $(ls /sys/class/iommu 2>/dev/null) ]] && want=PASS || want=FAIL
		[[ $st == "$want" ]] && ok=yes || ok=no ;;
	*hook* | *AppArmor* | *apparmor*)
		# Judged together below: the confined daemon did or did not run the hook.
		[[ $st == FAIL ]] && hook_fail=$((hook_fail + 1))
		ok=yes ;;
	"libvirtd (pid "*)
		[[ $st == PASS && $what == "libvirtd (pid $pid) started after"* ]] && ok=yes || ok=no ;;
	"configuration "*) [[ $st == PASS && -r $config ]] && ok=yes || ok=no ;;
	esac
	case $ok in
	yes) ;;
	no) bad+="$line; " ;;
	*) unverified=$((unverified + 1)) ;;
	esac
done <<<"$out"
if $plain_ok; then
	expect "the confined libvirtd runs the hook, and no hook or AppArmor line of gvtgctl check fails" \
		0 "$hook_fail"
else
	expect_true "the confined libvirtd cannot run the hook, and a hook or AppArmor line of gvtgctl check says so" \
		test "$hook_fail" -gt 0
fi
expect "every line of gvtgctl check that this host can contradict is true" "" "$bad"
info "gvtgctl check: $unverified line(s) this host cannot contradict (recorded above)"

# ===================================================================== boot vGPUs ======
# The admin marks a vGPU boot = yes (and idle vGPUs to go over a suspend); its parent
# registers after boot (kvmgt loaded late): udev's rule starts gvtg-boot.service.
stage "a boot vGPU, its parent registering after boot"
sed -i 's/^#remove_idle = no$/remove_idle = yes/' "$config"
printf '\n[%s]\nparent = mtty\ntype = mtty-1\nboot = yes\n' "$BOOT_U" >>"$config"
expect "the configuration now sets remove_idle = yes and the boot vGPU" "1 1" \
	"$(grep -c '^remove_idle = yes$' "$config") $(grep -c "^\[$BOOT_U\]$" "$config")"
boot_vgpu_by_udev() {
	local t0
	t0=$(now)
	expect_true "$1: rmmod mtty" timeout 30 rmmod mtty
	expect_true "$1: insmod mtty.ko (the parent registers)" timeout 30 insmod "$VM_SAMPLES/mtty.ko"
	expect_true "$1: the boot vGPU appears within 30 s" wait_for 30 has_device "$BOOT_U"
	expect "$1: it is mtty-1" mtty-1 "$(mdev_type_of "$BOOT_U")"
	expect "$1: gvtg-boot.service is active" active "$(systemctl is-active gvtg-boot.service)"
	expect_true "$1: systemd started gvtg-boot.service after the registration" \
		test -n "$(journalctl -q -u gvtg-boot.service --since "@$t0" 2>/dev/null)"
	expect_true "$1: gvtgctl's record says origin=boot" \
		grep -qx origin=boot "/run/gvtg-hook/$BOOT_U"
}
boot_vgpu_by_udev "boot vGPU"

# ===================================================================== suspend =========
# With the idle boot vGPU and a running vGPU domain: the suspend unit's commands (pre),
# the kernel's freezer test, then post.  systemd runs the unit itself further down.
stage "suspend"
start vgpu1
expect_true "vgpu1's QEMU holds its vGPU" qemu_holds vgpu1 "$V1"
unit=$(sleep_unit)
expect_true "the package installs gvtg-sleep.service ($unit), wanted by sleep.target" \
	test -f "$unit" -a -L "$(dirname "$unit")/sleep.target.wants/gvtg-sleep.service"
sleep_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
read -r -a pre_cmd <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
read -r -a post_cmd <<<"$(sed -n 's/^ExecStop=//p' "$unit")"
out=$(timeout 60 "${sleep_env[@]}" "${pre_cmd[@]}" 2>&1)
rc=$?
show "sleep pre" "$out"
expect "gvtg-sleep.service's ExecStart (${pre_cmd[*]}): exit status" 0 "$rc"
expect_true "pre: the idle boot vGPU was removed" no_device "$BOOT_U"
expect_true "pre: vgpu1's vGPU is untouched" qemu_holds vgpu1 "$V1"
dmesg_before=$(dmesg | wc -l)
echo freezer >/sys/power/pm_test
out=$(timeout 90 sh -c 'echo freeze >/sys/power/state' 2>&1)
rc=$?
echo none >/sys/power/pm_test
freeze_log=$(dmesg | tail -n "+$((dmesg_before + 1))")
show "freezer" "$freeze_log"
expect "the kernel's freezer test (pm_test=freezer, freeze): exit status" 0 "$rc"
expect_true "every task froze (no 'refusing to freeze', no 'Freezing of tasks failed')" \
	test -z "$(grep -E 'refusing to freeze|Freezing of tasks failed|Freezing .* aborted' <<<"$freeze_log")"
expect_true "the kernel froze and thawed user space" \
	grep -q 'Restarting tasks' <<<"$freeze_log"
out=$(timeout 60 "${sleep_env[@]}" "${post_cmd[@]}" 2>&1)
rc=$?
show "sleep post" "$out"
expect "gvtg-sleep.service's ExecStop (${post_cmd[*]}): exit status" 0 "$rc"
expect_true "post: the idle boot vGPU is back" wait_for 10 has_device "$BOOT_U"
expect "post: it is mtty-1 again" mtty-1 "$(mdev_type_of "$BOOT_U")"
expect_true "post: vgpu1's vGPU is untouched, its QEMU holds it" qemu_holds vgpu1 "$V1"
expect "post: vgpu1 still runs" running "$(state vgpu1)"

# The same through systemd: systemctl suspend starts gvtg-sleep.service before
# sleep.target (pre) and stops it after the resume (post), in its sandbox, around the
# kernel's suspend, stopped by pm_test after the freezer.  The idle boot vGPU is made anew
# (kernfs gives the new directory another inode); vgpu1's is left alone.
stage "systemctl suspend (pm_test=freezer)"
ino=$(stat -c %i "/sys/bus/mdev/devices/$BOOT_U" 2>/dev/null)
t0=$(now)
echo freezer >/sys/power/pm_test
timeout 120 systemctl suspend
rc=$?
expect "systemctl suspend (pm_test=freezer): exit status" 0 "$rc"
# systemctl only queues the job: pm_test must stay set until the kernel is back.
returned() {
	journalctl -q -o cat --since "@$t0" -u systemd-suspend.service 2>/dev/null |
		grep -q 'System returned from sleep state'
}
if wait_for 90 returned; then
	echo none >/sys/power/pm_test
fi
sleep_log=$(journalctl -q -o short-monotonic --since "@$t0" 2>/dev/null | grep -E 'sleep|gvtg|[Ff]reez|PM: ')
show "systemctl suspend" "$sleep_log"
expect_true "systemd-sleep entered the sleep state and returned" \
	contains "$sleep_log" "Entering sleep state" "System returned from sleep state"
expect_true "no task refused to freeze" test -z "$(grep -E 'refusing to freeze|Freezing of tasks failed' <<<"$sleep_log")"
made_anew() {
	wait_for 10 has_device "$BOOT_U" &&
		[[ -n $1 && $(stat -c %i "/sys/bus/mdev/devices/$BOOT_U") != "$1" ]]
}
expect_true "gvtg-sleep.service removed the idle boot vGPU and made it again" made_anew "$ino"
unit_log=$(journalctl -q -o cat --since "@$t0" -u gvtg-sleep.service 2>/dev/null)
show "journalctl -u gvtg-sleep.service" "$unit_log"
expect_true "its journal: removed for suspend, created again after resume" \
	contains "$unit_log" "removed idle vGPU $BOOT_U for suspend" "created vGPU $BOOT_U again after resume"
sleep_unit_inactive() { [[ $(systemctl is-active gvtg-sleep.service) == inactive ]]; }
expect_true "gvtg-sleep.service is inactive again after the resume (within 10 s)" \
	wait_for 10 sleep_unit_inactive
expect_true "vgpu1's vGPU is untouched, its QEMU holds it" qemu_holds vgpu1 "$V1"
expect "vgpu1 still runs" running "$(state vgpu1)"

# ===================================================================== remove, purge ===
stage "apt-get remove while vgpu1 runs"
out=$(apt_get remove gvtg-hook 2>&1)
rc=$?
show "apt remove" "$out"
expect "apt-get remove gvtg-hook: exit status" 0 "$rc"
expect_true "apt-get remove warns that vgpu1 holds a vGPU nothing will remove" \
	contains "$out" "running domains hold vGPUs gvtg-hook made: vgpu1"
expect "after remove: vgpu1 still runs" running "$(state vgpu1)"
expect_true "after remove: vgpu1's QEMU still holds its vGPU" qemu_holds vgpu1 "$V1"
expect_true "after remove: the hook's link is gone" \
	test ! -e /etc/libvirt/hooks/qemu.d/50-gvtg-hook -a ! -L /etc/libvirt/hooks/qemu.d/50-gvtg-hook
expect_true "after remove: gvtg-boot.service was stopped and removed the idle boot vGPU" \
	no_device "$BOOT_U"
expect "after remove: the configuration is kept (conffile)" config-files \
	"$(dpkg-query -W -f='${db:Status-Status}' gvtg-hook 2>/dev/null)"
expect "after remove: no failed unit" "" "$(failed_units)"

stage "apt-get purge while vgpu1 runs"
out=$(apt_get purge gvtg-hook 2>&1)
rc=$?
show "apt purge" "$out"
expect "apt-get purge gvtg-hook: exit status" 0 "$rc"
expect "after purge: vgpu1 still runs" running "$(state vgpu1)"
expect_true "after purge: vgpu1's QEMU still holds its vGPU" qemu_holds vgpu1 "$V1"
left=""
while read -r kind path; do
	[[ $kind == d* ]] && continue
	[[ -e $path || -L $path ]] && left+="$path "
done < <(package_paths)
[[ -e $config ]] && left+="$config "
expect "after purge: none of the package's files or its configuration is left" "" "$left"
# The records stay while they name a running domain: a reinstalled hook releases its vGPU.
expect_true "purge says it keeps /run/gvtg-hook for vgpu1" \
	contains "$out" "purge keeps /run/gvtg-hook: it records the vGPUs of running domains (vgpu1)"
expect_true "after purge: vgpu1's record is kept" grep -qx domain_name=vgpu1 "/run/gvtg-hook/$V1"
# Nor anything else its maintainer scripts made: all that was written since boot is in
# the overlay's upper layer (/mnt/upper) or on a tmpfs (/run, /dev/shm); this test's own
# files and the kept records aside.
expect "after purge: no file named *gvtg* written since boot (but this test's and the records)" "" \
	"$(find /mnt/upper /run /dev/shm \( -path /mnt/upper/root -o -path /mnt/upper/mnt -o \
		-path /run/gvtg-hook \) -prune -o \
		-name '*gvtg*' ! -name '*gvtg-host-*' ! -type c -print 2>/dev/null | tr '\n' ' ')"
info "after purge, AppArmor profiles still loaded: $(grep -i gvtg /sys/kernel/security/apparmor/profiles | tr '\n' ' ')"
expect "after purge: dpkg knows no gvtg-hook" "" \
	"$(dpkg-query -W -f='${db:Status-Status}' gvtg-hook 2>/dev/null | grep -v not-installed)"
expect "after purge: systemd has no gvtg unit loaded" "" \
	"$(systemctl list-units --all --no-legend --plain 'gvtg-*' 2>/dev/null | grep -v gvtg-host)"
expect "after purge: no failed unit" "" "$(failed_units)"
info "after purge, still there: vgpu1's vGPU $V1 (QEMU holds it)"

# A reinstall takes over what is left: the running domain and its vGPU.
stage "reinstall while vgpu1 runs"
out=$(apt_get install "./$(basename "$DEB")" 2>&1)
rc=$?
show "apt reinstall" "$out"
expect "reinstall after purge: exit status" 0 "$rc"
expect_true "reinstall after purge: the package says again to restart libvirtd" \
	contains "$out" "systemctl restart libvirtd"
t0=$(now)
expect_true "systemctl restart libvirtd (vgpu1 running)" timeout 120 systemctl restart libvirtd
expect "libvirtd runs confined" "libvirtd (enforce)" "$(confinement)"
expect "vgpu1 survived the restart (the hook's reconnect)" running "$(state vgpu1)"
# libvirtd reconnects to running domains in threads of their own, after it answers.
reconnected() { grep -qx domain_name=vgpu1 "/run/gvtg-hook/$V1" 2>/dev/null; }
expect_true "reconnect: the hook recorded vgpu1's vGPU again (within 30 s)" \
	wait_for 30 reconnected
show "journalctl -t gvtg-hook" "$(hook_journal "$t0")"
expect_true "reconnect: the record kept across the purge still says the hook made it" \
	grep -qx origin=created "/run/gvtg-hook/$V1"
destroy vgpu1
# The record kept across the purge: the reinstalled hook releases the vGPU as its own.
expect_true "after the destroy, the reinstalled hook removed vgpu1's vGPU" \
	wait_for 10 no_device "$V1"

# The boot vGPU again, from the reinstalled package; it must go at shutdown.
sed -i 's/^#remove_idle = no$/remove_idle = yes/' "$config"
printf '\n[%s]\nparent = mtty\ntype = mtty-1\nboot = yes\n' "$BOOT_U" >>"$config"
boot_vgpu_by_udev "after reinstall"

# shellcheck source=tests/host/guest-upgrade.sh
. "$(dirname "$0")/guest-upgrade.sh"
upgrade_while_running

stage "end"
expect "no failed unit at the end (systemctl --failed)" "" "$(failed_units)"
expect "no AppArmor denial in the kernel log" 0 "$(denials)"
if ((nfail)); then
	show dmesg-denied "$(dmesg | grep 'apparmor="DENIED"' | head -n 20)"
fi
for d in $(virsh list --name 2>/dev/null); do virsh destroy "$d" >/dev/null 2>&1; done
echo "$npass $nfail" >"$counts"
systemctl start gvtg-host-last.service || result "FAIL: systemctl start gvtg-host-last.service"
stage "powering off"
systemctl --no-block poweroff
exit 0
