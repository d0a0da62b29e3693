#!/bin/bash
# SPDX-License-Identifier: MIT
#
# gvtgctl attach/detach against this machine's real libvirt daemon: a plain domain is
# defined, gvtgctl attaches a vGPU on a fake sysfs root with GVT-g types (--root for
# sysfs, the real daemon for the domain), the inactive definition then holds the mdev
# hostdev and our metadata and passes virt-xml-validate, and detach gives back a
# definition byte-identical to the one before.  The same with a SPICE display (which
# replaces the domain's <graphics> and <video>), and the refusals that change nothing.
#
# Starts virtlogd and libvirtd by hand (no systemd needed) and stops them again; run it
# under the tier-1 lock.  Environment: GVTGCTL (the built gvtgctl).  Exit 77 when not
# root, libvirt is missing, or gvtgctl was built without libvirt.
set -euo pipefail

SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH="$SYS_PATH:$PATH"
export LC_ALL=C
URI=qemu:///system
gvtgctl=${GVTGCTL:?GVTGCTL: path to gvtgctl}

skip() {
	echo "SKIP: $*"
	exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (starts the system libvirt daemon)"
for prog in libvirtd virtlogd virsh virt-xml-validate qemu-system-x86_64; do
	command -v "$prog" >/dev/null 2>&1 ||
		skip "$prog not found (Debian: libvirt-daemon-system libvirt-clients qemu-system-x86)"
done
if "$gvtgctl" attach x --dry-run 2>&1 | grep -q 'built without libvirt'; then
	skip "gvtgctl was built without libvirt"
fi
for p in libvirtd virtqemud virtlogd; do
	if pgrep -x "$p" >/dev/null; then
		echo "FAIL: a $p is already running; this test starts its own daemons: stop it first"
		exit 1
	fi
done

work=$(mktemp -d)
root=$work/root
DOM=gvtg-test-attach-$$
LIBVIRTD_PID=
VIRTLOGD_PID=
HAD_RUN_LIBVIRT=0
[[ -e /run/libvirt ]] && HAD_RUN_LIBVIRT=1
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
ok() {
	echo "ok: $*"
}

stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		[[ $(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) == Z ]] && return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
	local rc=$?
	set +e
	if [[ -n $LIBVIRTD_PID ]]; then
		timeout 30 virsh -c "$URI" undefine "$DOM" >/dev/null 2>&1
	fi
	rm -f "/etc/libvirt/qemu/$DOM.xml"
	stop_pid "$LIBVIRTD_PID"
	stop_pid "$VIRTLOGD_PID"
	if ((!HAD_RUN_LIBVIRT)) && [[ -n $VIRTLOGD_PID ]] && ! pgrep -x libvirtd >/dev/null &&
		! pgrep -x virtlogd >/dev/null; then
		rm -rf /run/libvirt
	fi
	if ((failures > 0 || rc != 0)); then
		echo "files kept in $work"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT

# ---- the daemons ----------------------------------------------------------------------
env -i PATH="$SYS_PATH" virtlogd -d -p "$work/virtlogd.pid" >"$work/virtlogd.log" 2>&1
env -i PATH="$SYS_PATH" LIBVIRT_LOG_OUTPUTS="3:file:$work/libvirtd.log" \
	libvirtd -d -p "$work/libvirtd.pid" >"$work/libvirtd.stderr" 2>&1
for ((i = 0; i < 100; i++)); do
	[[ -s $work/virtlogd.pid && -s $work/libvirtd.pid ]] && break
	sleep 0.1
done
VIRTLOGD_PID=$(cat "$work/virtlogd.pid" 2>/dev/null || true)
LIBVIRTD_PID=$(cat "$work/libvirtd.pid" 2>/dev/null || true)
[[ -n $LIBVIRTD_PID ]] || { fail "libvirtd did not start: $(cat "$work/libvirtd.stderr")"; exit 1; }
for ((i = 0; i < 300; i++)); do
	timeout 5 virsh -c "$URI" version >/dev/null 2>&1 && break
	sleep 0.1
done

# ---- a fake sysfs root: one GVT-g parent with four types ------------------------------
pdir=$root/sys/devices/pci0000:00/0000:00:02.0
mkdir -p "$root/sys/class/mdev_bus" "$root/etc" "$root/run"
for k in 1 2 4 8; do
	t=$pdir/mdev_supported_types/i915-GVTg_V5_$k
	mkdir -p "$t/devices"
	echo "GVTg_V5_$k" >"$t/name"
	echo vfio-pci >"$t/device_api"
	printf 'low_gm_size: %dMB\nhigh_gm_size: %dMB\nfence: 4\nresolution: 1920x1200\nweight: %d\n' \
		$((512 / k)) $((2048 / k)) $((16 / k)) >"$t/description"
	echo 2 >"$t/available_instances"
	: >"$t/create"
done
ln -s ../../devices/pci0000:00/0000:00:02.0 "$root/sys/class/mdev_bus/0000:00:02.0"

ctl() {
	timeout 60 "$gvtgctl" --root "$root" --config /etc/gvtg-test.conf "$@"
}
dump() {
	timeout 30 virsh -c "$URI" dumpxml --inactive "$DOM" >"$work/$1.xml"
}

# ---- a plain domain -------------------------------------------------------------------
cat >"$work/domain.xml" <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video><model type='cirrus' vram='16384' heads='1'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
timeout 30 virsh -c "$URI" define "$work/domain.xml" >"$work/define.out" 2>&1 ||
	{ fail "virsh define: $(cat "$work/define.out")"; exit 1; }
dump before

U=4b20d080-1b54-4048-85b3-a6a62d165c01
attach_cycle() {
	local tag=$1
	shift
	if ! ctl attach "$DOM" --type i915-GVTg_V5_4 --uuid "$U" "$@" >"$work/$tag.out" 2>&1; then
		fail "$tag: attach exited non-zero: $(cat "$work/$tag.out")"
		return 1
	fi
	head -n 1 "$work/$tag.out" | grep -qx "Added vGPU $U to the definition of $DOM ($URI): parent 0000:00:02.0 (automatic), type i915-GVTg_V5_4 (--type)." ||
		fail "$tag: attach said: $(head -n 1 "$work/$tag.out")"
	dump "$tag-attached"
	grep -q "<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='$DISPLAY_ATTR'>" "$work/$tag-attached.xml" ||
		fail "$tag: no mdev hostdev (display='$DISPLAY_ATTR') in the definition"
	grep -q "<address uuid='$U'/>" "$work/$tag-attached.xml" ||
		fail "$tag: the hostdev does not name $U"
	# libvirt keeps foreign metadata as libxml2 writes it: double quotes.
	grep -q "<gvtg:device uuid=.$U. parent=.0000:00:02.0. type=.i915-GVTg_V5_4./>" "$work/$tag-attached.xml" ||
		fail "$tag: no metadata with parent and type in the definition"
	grep -q "<gvtg:vgpu xmlns:gvtg=.urn:gvtg-hook:vgpu:1.>" "$work/$tag-attached.xml" ||
		fail "$tag: our namespace is missing"
	if virt-xml-validate "$work/$tag-attached.xml" domain >"$work/$tag-validate.out" 2>&1; then
		ok "$tag: the attached definition passes virt-xml-validate"
	else
		fail "$tag: virt-xml-validate: $(cat "$work/$tag-validate.out")"
	fi
	if ! ctl detach "$DOM" >"$work/$tag-detach.out" 2>&1; then
		fail "$tag: detach exited non-zero: $(cat "$work/$tag-detach.out")"
		return 1
	fi
	grep -qx "Removed vGPU $U from the definition of $DOM ($URI)." "$work/$tag-detach.out" ||
		fail "$tag: detach said: $(cat "$work/$tag-detach.out")"
	dump "$tag-detached"
	if cmp -s "$work/before.xml" "$work/$tag-detached.xml"; then
		ok "$tag: attach then detach leaves the definition byte-identical"
	else
		fail "$tag: the definition differs after detach: $(diff "$work/before.xml" "$work/$tag-detached.xml" | tr '\n' ' ')"
	fi
}

DISPLAY_ATTR=off attach_cycle plain
DISPLAY_ATTR=on attach_cycle spice --display=spice --ramfb
if ! grep -q "<graphics type='spice'" "$work/spice-attached.xml" ||
	! grep -q "<gl enable='yes'/>" "$work/spice-attached.xml"; then
	fail "spice: no SPICE graphics with OpenGL in the attached definition"
fi
grep -q "<qemu:device alias='ua-gvtg-4b20d080'>" "$work/spice-attached.xml" ||
	fail "spice: no QEMU override for the vGPU's alias"
grep -q "<graphics type='vnc'" "$work/spice-attached.xml" &&
	fail "spice: the domain's VNC graphics is still there beside SPICE"
DISPLAY_ATTR=off attach_cycle gtk --display=gtk

# --dry-run prints the result and changes nothing
if ctl attach "$DOM" --type i915-GVTg_V5_4 --uuid "$U" --dry-run >"$work/dry.out" 2>&1 &&
	grep -q "<address uuid=.$U./>" "$work/dry.out" && head -n 1 "$work/dry.out" | grep -q "^<domain type=.qemu."; then
	dump after-dry
	if cmp -s "$work/before.xml" "$work/after-dry.xml"; then
		ok "--dry-run prints the domain and changes nothing"
	else
		fail "--dry-run changed the definition"
	fi
else
	fail "--dry-run: $(head -c 300 "$work/dry.out")"
fi

# No secret in metadata: with a VNC password, a read-only client reads no password
# after attach, and detach gives back the definition with it.
sdump() {
	timeout 30 virsh -c "$URI" dumpxml --inactive --security-info "$DOM" >"$work/$1.xml"
}
sed -e "s|<graphics type='vnc' port='-1' autoport='yes'|& passwd='s3cret'|" \
	"$work/before.xml" >"$work/domain-pw.xml"
timeout 30 virsh -c "$URI" define "$work/domain-pw.xml" >"$work/define-pw.out" 2>&1 ||
	fail "virsh define (password): $(cat "$work/define-pw.out")"
sdump pw-before
if ! grep -q "passwd='s3cret'" "$work/pw-before.xml"; then
	fail "pw: the daemon did not keep the password"
elif ctl attach "$DOM" --type i915-GVTg_V5_4 --uuid "$U" --display=spice >"$work/pw.out" 2>&1; then
	timeout 30 virsh -r -c "$URI" dumpxml --inactive "$DOM" >"$work/pw-ro.xml" 2>&1
	if grep -q "s3cret" "$work/pw-ro.xml"; then
		fail "pw: 'virsh -r dumpxml' shows the password after attach"
	elif grep -q "gvtg:replaced" "$work/pw-ro.xml"; then
		ok "pw: 'virsh -r dumpxml' after attach shows no password"
	else
		fail "pw: no kept graphics in: $(tr '\n' ' ' <"$work/pw-ro.xml" | head -c 400)"
	fi
	ctl detach "$DOM" >"$work/pw-detach.out" 2>&1 || fail "pw: detach: $(cat "$work/pw-detach.out")"
	sdump pw-after
	if cmp -s "$work/pw-before.xml" "$work/pw-after.xml"; then
		ok "pw: detach gives back the definition with its password"
	else
		fail "pw: differs after detach: $(diff "$work/pw-before.xml" "$work/pw-after.xml" | tr '\n' ' ')"
	fi
else
	fail "pw: attach --display=spice: $(cat "$work/pw.out")"
fi
timeout 30 virsh -c "$URI" define "$work/before.xml" >/dev/null 2>&1 || fail "redefining the plain domain"

# refusals change nothing
refused() {
	local tag=$1 words=$2
	shift 2
	if ctl "$@" >"$work/$tag.out" 2>&1; then
		fail "$tag: gvtgctl $* succeeded"
		return
	fi
	grep -q -- "$words" "$work/$tag.out" || fail "$tag: no '$words' in: $(cat "$work/$tag.out")"
	dump "$tag"
	if cmp -s "$work/before.xml" "$work/$tag.xml"; then
		ok "$tag: refused, definition unchanged"
	else
		fail "$tag: the definition changed"
	fi
}
refused no-type "has several types and none is chosen" attach "$DOM"
refused bad-type "Did you mean 'i915-GVTg_V5_4'" attach "$DOM" --type GVTg_V5_4
refused bad-parent "is not registered" attach "$DOM" --type i915-GVTg_V5_4 --parent 0000:00:09.9
refused session "qemu:///session runs hooks as the user" attach "$DOM" --type i915-GVTg_V5_4 --connect qemu:///session
refused no-vgpu "has no vGPU in gvtg-hook's metadata" detach "$DOM"
refused no-domain "no domain of that name" attach "$DOM-x" --type i915-GVTg_V5_4

if ((failures)); then
	echo "$failures failed"
	exit 1
fi
echo "ok: gvtgctl attach/detach under the real libvirt daemon"
