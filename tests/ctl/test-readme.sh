#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The README's "Using it" section, run as written: every console block's commands
# ("# gvtgctl ...") run on the simulated GVT-g host (mdev-sim) and their output is compared
# with the lines the README shows under them; the error example of step 4 is what the
# built hook prints in that situation.  Differences allowed: a fresh UUID (gvtgctl makes
# one) reads as the README's, this build's install paths read as a default build's, and
# the libvirt URI (libvirt's in-process test driver stands for qemu:///system).
#
# gvtgctl(8)'s script examples (jq) run on the same host afterwards.
#
# Environment: GVTGCTL, GVTG_HOOK, MDEV_SIM, README, MANPAGE, and the build's CONFIG_FILE,
# HOOK_PATH, HOOKS_DIR.  Exit 77 where the simulator cannot run or gvtgctl has no
# libvirt.
set -euo pipefail

gvtgctl_bin=${GVTGCTL:?GVTGCTL: path to gvtgctl}
hook=${GVTG_HOOK:?GVTG_HOOK: path to the built hook}
readme=${README:?README: path to README.md}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../sim/sim-lib.sh"
if ! sim_available; then
	echo "SKIP: $SIM_UNAVAILABLE"
	exit 77
fi
if "$gvtgctl_bin" attach x --dry-run 2>&1 | grep -q 'built without libvirt'; then
	echo "SKIP: gvtgctl was built without libvirt"
	exit 77
fi

work=$(mktemp -d)
sim=$work/sim
host=$work/host
cleanup() {
	sim_stop "$sim" || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$sim"
sim_start "$sim" gvt

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

README_UUID=4b20d080-1b54-4048-85b3-a6a62d165c01
WIN11_VGPU=6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10
DEFAULT_CONFIG=/usr/local/etc/gvtg-hook.conf
DEFAULT_HOOK=/etc/libvirt/hooks/qemu.d/50-gvtg-hook
DEFAULT_HOOKS_DIR=/etc/libvirt/hooks

# ---- the host 'gvtgctl check' looks at: everything GVT-g needs (a plain tree, since the
# simulator serves only the mdev part of /sys) ----------------------------------------
pdir=$host/sys/devices/pci0000:00/0000:00:02.0
mkdir -p "$host/sys/class/mdev_bus" "$host/sys/bus/pci/devices" "$host/sys/module/i915/parameters" \
	"$host/sys/module/kvmgt" "$host/sys/module/vfio" "$host/sys/module/mdev" \
	"$host/sys/class/iommu/dmar0" "$host/dev/vfio" "$host/proc/1234" "$host/run" \
	"$host/${HOOK_PATH%/*}" "$host/$HOOKS_DIR/qemu.d"
mkdir -p "$pdir"
echo 0x8086 >"$pdir/vendor"
echo 0x3e92 >"$pdir/device"
echo 0x030000 >"$pdir/class"
ln -s ../../../devices/pci0000:00/0000:00:02.0 "$host/sys/bus/pci/devices/0000:00:02.0"
ln -s ../../devices/pci0000:00/0000:00:02.0 "$host/sys/class/mdev_bus/0000:00:02.0"
for k in 1 2 4 8; do
	t=$pdir/mdev_supported_types/i915-GVTg_V5_$k
	mkdir -p "$t/devices"
	echo "GVTg_V5_$k" >"$t/name"
	echo vfio-pci >"$t/device_api"
	echo 1 >"$t/available_instances"
	: >"$t/create"
done
echo Y >"$host/sys/module/i915/parameters/enable_gvt"
echo 0 >"$host/sys/module/i915/parameters/enable_guc"
: >"$host/dev/vfio/vfio"
echo 'BOOT_IMAGE=/vmlinuz quiet' >"$host/proc/cmdline"
# The hook passes its self-test; libvirtd (pid 1234) started after it was installed.
printf '#!/bin/sh\nexit 0\n' >"$host/$HOOK_PATH"
chmod 755 "$host/$HOOK_PATH"
[[ $HOOK_PATH == "$HOOKS_DIR/qemu.d/50-gvtg-hook" ]] ||
	ln -s "$HOOK_PATH" "$host/$HOOKS_DIR/qemu.d/50-gvtg-hook"
printf 'cpu 1 2 3 4\nbtime %s\n' $(($(date +%s) + 3600)) >"$host/proc/stat"
echo '1234 (libvirtd) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 17 0 1000 123456 100' \
	>"$host/proc/1234/stat"
echo 1234 >"$host/run/libvirtd.pid"

# ---- libvirt: a defined, shut-off domain win10 in the in-process test driver ----------
cat >"$work/node.xml" <<'EOF'
<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>win10</name>
    <uuid>d0d0d0d0-4444-4444-8444-444444444444</uuid>
    <memory unit='MiB'>4096</memory>
    <vcpu>2</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices/>
    <test:runstate>5</test:runstate>
  </domain>
</node>
EOF
export LIBVIRT_DEFAULT_URI=test://$work/node.xml

# The README's commands run through this: check looks at the full host, the rest at the
# simulated one.
gvtgctl() {
	local root=$sim
	[[ ${1:-} == check ]] && root=$host
	timeout 20 "$gvtgctl_bin" --root "$root" "$@"
}

# What the README may differ in: UUIDs, install paths, the URI.
normalise() {
	sed -E -e "s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/$README_UUID/g" \
		-e "s|$CONFIG_FILE|$DEFAULT_CONFIG|g" -e "s|$HOOK_PATH|$DEFAULT_HOOK|g" \
		-e "s|$HOOKS_DIR/|$DEFAULT_HOOKS_DIR/|g" -e "s|test://$work/node.xml|qemu:///system|g"
}

# ---- the section, block by block --------------------------------------------------------
section=$work/section.md
awk '/^## Using it$/ { on = 1; next } on && /^##/ { exit } on { print }' "$readme" >"$section"
[[ -s $section ]] || { fail "no '## Using it' section in $readme"; exit 1; }

# Each console block: "# command" lines, each followed by its expected output.
blocks=0
commands=0
in_block=0
cmd=
expected=$work/expected
run_pending() {
	[[ -n $cmd ]] || return 0
	commands=$((commands + 1))
	local got=$work/got rc=0
	# The steps that need the vGPU of step 4 running: win10 started through the hook.
	if [[ $cmd == "gvtgctl list"* ]]; then
		start_win10
	fi
	eval "$cmd" >"$work/raw" 2>&1 || rc=$?
	normalise <"$work/raw" >"$got"
	if ! diff -u "$expected" "$got" >"$work/diff"; then
		fail "README: '$cmd' (exit $rc) prints otherwise:"
		cat "$work/diff"
	else
		echo "ok: $cmd"
	fi
	cmd=
}

# win10 as the hook starts it: the README's block in the domain, prepare begin.
started=0
start_win10() {
	((started)) && return 0
	started=1
	cat >"$work/win10.xml" <<EOF
<domain type='kvm'>
  <name>win10</name>
  <uuid>d0d0d0d0-4444-4444-8444-444444444444</uuid>
  <metadata>
    <gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>
      <gvtg:device uuid='$README_UUID' parent='0000:00:02.0' type='i915-GVTg_V5_4'/>
    </gvtg:vgpu>
  </metadata>
  <devices>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>
      <source><address uuid='$README_UUID'/></source>
    </hostdev>
  </devices>
</domain>
EOF
	GVTG_ROOT=$sim timeout 20 "$hook" win10 prepare begin - <"$work/win10.xml" ||
		fail "the hook did not start win10 (exit $?)"
}

while IFS= read -r line; do
	if ((!in_block)); then
		[[ $line == '```console' ]] && { in_block=1; blocks=$((blocks + 1)); }
		continue
	fi
	if [[ $line == '```' ]]; then
		run_pending
		in_block=0
		continue
	fi
	if [[ $line == '# '* ]]; then
		run_pending
		cmd=${line#\# }
		: >"$expected"
		continue
	fi
	printf '%s\n' "$line" >>"$expected"
done <"$section"
((blocks >= 5)) || fail "only $blocks console blocks in the section"

# ---- step 4's error: win11 asks for a type with no instance left while win10 runs ------
start_win10
cat >"$work/win11.xml" <<EOF
<domain type='kvm'>
  <name>win11</name>
  <uuid>e1e1e1e1-5555-4555-8555-555555555555</uuid>
  <metadata>
    <gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>
      <gvtg:device uuid='$WIN11_VGPU' type='i915-GVTg_V5_1'/>
    </gvtg:vgpu>
  </metadata>
  <devices>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>
      <source><address uuid='$WIN11_VGPU'/></source>
    </hostdev>
  </devices>
</domain>
EOF
rc=0
GVTG_ROOT=$sim timeout 20 "$hook" win11 prepare begin - <"$work/win11.xml" 2>"$work/hook.err" || rc=$?
want=$(grep -m1 '^error: Hook script execution failed' "$section" | sed 's/.*unexpected exit status 1: //')
got=$(head -n 1 "$work/hook.err")
if ((rc != 1)) || [[ $got != "$want" ]]; then
	fail "README step 4: the hook (exit $rc) says: $got"
	echo "the README shows: $want"
else
	echo "ok: the hook's refusal of win11 is the README's"
fi

# ---- gvtgctl(8)'s script examples, on the same host: win10's vGPU and one made by hand --
manpage=${MANPAGE:-}
if [[ -n $manpage ]] && command -v jq >/dev/null 2>&1; then
	manual=$(gvtgctl create --type i915-GVTg_V5_8) || fail "gvtgctl create: exit $?"
	n=0
	while IFS= read -r ex; do
		n=$((n + 1))
		ex=${ex#\$ }
		ex=${ex//\\-/-}
		out=$(eval "$ex" 2>&1) || fail "gvtgctl(8): '$ex' exited $?"
		case $ex in
		*"gvtgctl list"*)
			# the vGPUs no domain holds: the one made by hand, not win10's
			[[ $out == "$manual" ]] || fail "gvtgctl(8): '$ex' prints '$out', not '$manual'"
			;;
		*"gvtgctl check"*)
			# the ready host: no failing check
			[[ -z $out ]] || fail "gvtgctl(8): '$ex' prints '$out' on a ready host"
			;;
		*) fail "gvtgctl(8): an example this test does not know: $ex" ;;
		esac
	done < <(grep '^\$ gvtgctl' "$manpage")
	if ((n >= 2)); then
		echo "ok: gvtgctl(8)'s $n script examples"
	else
		fail "gvtgctl(8): only $n script examples found"
	fi
else
	echo "note: gvtgctl(8)'s jq examples not run (no jq, or MANPAGE unset)"
fi

echo "$commands commands in $blocks blocks"
if ((failures)); then
	exit 1
fi
echo "ok: the README's 'Using it' section as written"
