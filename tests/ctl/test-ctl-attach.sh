#!/bin/bash
# SPDX-License-Identifier: MIT
#
# gvtgctl attach/detach without a daemon: libvirt's in-process test driver holds the
# domain (test:///<file>), so this runs anywhere libvirt's client is installed, without
# root.  For each display: attach --dry-run gives a definition that libvirt accepts
# and that holds the hostdev and the metadata; detach --dry-run of that definition gives
# back, as libvirt formats it, exactly the definition before attach.  (The test driver
# drops QEMU's own elements; tests/ctl/test-ctl-libvirt.sh covers those with the real
# daemon.)
#
# Environment: GVTGCTL.  Exit 77 without virsh or when gvtgctl has no libvirt.
set -euo pipefail

gvtgctl=${GVTGCTL:?GVTGCTL: path to gvtgctl}
command -v virsh >/dev/null 2>&1 || { echo "SKIP: no virsh (Debian: libvirt-clients)"; exit 77; }
if "$gvtgctl" attach x --dry-run 2>&1 | grep -q 'built without libvirt'; then
	echo "SKIP: gvtgctl was built without libvirt"
	exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# A fake sysfs with one GVT-g parent and two types.
pdir=$root/sys/devices/pci0000:00/0000:00:02.0
mkdir -p "$root/sys/class/mdev_bus" "$root/etc"
for k in 4 8; do
	t=$pdir/mdev_supported_types/i915-GVTg_V5_$k
	mkdir -p "$t/devices"
	echo vfio-pci >"$t/device_api"
	echo 2 >"$t/available_instances"
	: >"$t/create"
done
ln -s ../../devices/pci0000:00/0000:00:02.0 "$root/sys/class/mdev_bus/0000:00:02.0"

TEST_NS="xmlns:test='http://libvirt.org/schemas/domain/test/1.0'"
# A node file for the test driver around one domain's XML (on stdin), shut off.
node() {
	sed -e "0,/<domain /s|<domain |<domain $TEST_NS |" -e 's|^</domain>$|<test:runstate>5</test:runstate></domain>|' |
		{ echo '<node>'; cat; echo '</node>'; } >"$1"
}
dumpxml() {
	virsh -q -c "test://$1" dumpxml --inactive win10
}

cat <<'EOF' | node "$work/orig-node.xml"
<domain type='test'>
  <name>win10</name>
  <uuid>d0d0d0d0-4444-4444-8444-444444444444</uuid>
  <memory unit='MiB'>4096</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video><model type='qxl'/></video>
  </devices>
</domain>
EOF
dumpxml "$work/orig-node.xml" >"$work/orig.xml"

U=4b20d080-1b54-4048-85b3-a6a62d165c01
cycle() {
	local tag=$1
	shift
	if ! "$gvtgctl" --root "$root" attach --connect "test://$work/orig-node.xml" win10 --type i915-GVTg_V5_4 --uuid "$U" --dry-run "$@" \
		>"$work/$tag-attached.xml" 2>"$work/$tag.err"; then
		fail "$tag: attach --dry-run: $(cat "$work/$tag.err")"
		return
	fi
	node "$work/$tag-node.xml" <"$work/$tag-attached.xml"
	if ! dumpxml "$work/$tag-node.xml" >"$work/$tag-libvirt.xml" 2>"$work/$tag.err"; then
		fail "$tag: libvirt does not take the attached domain: $(cat "$work/$tag.err")"
		return
	fi
	grep -q "<address uuid='$U'/>" "$work/$tag-libvirt.xml" || fail "$tag: no hostdev for $U"
	grep -q "<gvtg:device uuid=.$U. parent=.0000:00:02.0. type=.i915-GVTg_V5_4./>" "$work/$tag-libvirt.xml" ||
		fail "$tag: no metadata for $U"
	# detach, on the definition as libvirt keeps it
	dumpxml "$work/$tag-node.xml" | node "$work/$tag-node2.xml"
	if ! "$gvtgctl" --root "$root" detach --connect "test://$work/$tag-node2.xml" win10 --dry-run \
		>"$work/$tag-detached.xml" 2>"$work/$tag.err"; then
		fail "$tag: detach --dry-run: $(cat "$work/$tag.err")"
		return
	fi
	node "$work/$tag-node3.xml" <"$work/$tag-detached.xml"
	dumpxml "$work/$tag-node3.xml" >"$work/$tag-back.xml"
	if cmp -s "$work/orig.xml" "$work/$tag-back.xml"; then
		echo "ok: $tag: attach then detach gives back the definition"
	else
		fail "$tag: not the same after detach:"
		diff -u "$work/orig.xml" "$work/$tag-back.xml" || true
	fi
}
cycle plain
cycle spice --display=spice
cycle gtk --display=gtk --ramfb --romfile /var/lib/libvirt/vbios.rom
grep -q "<graphics type='spice'" "$work/spice-libvirt.xml" || fail "spice: no SPICE graphics"
grep -q "<graphics type='vnc'" "$work/spice-libvirt.xml" && fail "spice: the VNC graphics is still there"
grep -q "<graphics" "$work/gtk-libvirt.xml" && fail "gtk: a <graphics> is still there"
grep -q "<qemu:arg value='gtk,gl=on,zoom-to-fit=off'/>" "$work/gtk-attached.xml" || fail "gtk: no GTK display"

# detach of a domain with two vGPUs needs the UUID; with it, only that one goes
"$gvtgctl" --root "$root" attach --connect "test://$work/plain-node2.xml" win10 --type i915-GVTg_V5_8 \
	--uuid 6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10 --dry-run | node "$work/two-node.xml"
if "$gvtgctl" --root "$root" detach --connect "test://$work/two-node.xml" win10 --dry-run \
	>/dev/null 2>"$work/two.err"; then
	fail "detach of one of two vGPUs without a UUID succeeded"
fi
grep -q "the domain has 2 vGPUs: $U, 6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10. Name the one" "$work/two.err" ||
	fail "detach without a UUID: $(cat "$work/two.err")"
"$gvtgctl" --root "$root" detach --connect "test://$work/two-node.xml" win10 "$U" --dry-run >"$work/one.xml"
grep -q "6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10" "$work/one.xml" || fail "detach took the other vGPU too"
grep -q "$U" "$work/one.xml" && fail "detach left $U"

# attach refuses a UUID the domain already has, and changes nothing
if "$gvtgctl" --root "$root" attach --connect "test://$work/plain-node2.xml" win10 --type i915-GVTg_V5_4 \
	--uuid "$U" >/dev/null 2>"$work/again.err"; then
	fail "a second attach of $U succeeded"
fi
grep -q "the domain already has the vGPU $U" "$work/again.err" || fail "attach again: $(cat "$work/again.err")"

if ((failures)); then
	exit 1
fi
echo "ok: attach/detach on libvirt's test driver"
