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
  <metadata>
    <app:note xmlns:app='urn:example:app'>kept <app:b>as</app:b> written</app:note>
  </metadata>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video><model type='qxl'/></video>
  </devices>
</domain>
EOF
dumpxml "$work/orig-node.xml" >"$work/orig.xml"
grep -q "kept <app:b>as</app:b> written" "$work/orig.xml" || fail "the test driver drops mixed content"

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
grep -q "<qemu:arg value=.gtk,gl=on,zoom-to-fit=off./>" "$work/gtk-attached.xml" || fail "gtk: no GTK display"

# --dry-run prints what is defined: the text of mixed-content metadata is in it
grep -q "kept <app:b>as</app:b> written" "$work/plain-attached.xml" ||
	fail "attach --dry-run dropped the text of mixed-content metadata"

# No secret in metadata: a display's password stays in the secure definition (on the
# vGPU's SPICE display), and detach puts it back where it was.
secure() {
	virsh -q -c "test://$1" dumpxml --inactive --security-info win10
}
sed -e "s|<graphics type='vnc' port='-1' autoport='yes'|& passwd='s3cret'|" \
	"$work/orig.xml" | node "$work/pw-node.xml"
secure "$work/pw-node.xml" >"$work/pw-orig.xml"
grep -q "passwd='s3cret'" "$work/pw-orig.xml" || fail "pw: the test driver lost the password"
if "$gvtgctl" --root "$root" attach --connect "test://$work/pw-node.xml" win10 --type i915-GVTg_V5_4 \
	--uuid "$U" --display=spice --dry-run >"$work/pw-attached.xml" 2>"$work/pw.err"; then
	node "$work/pw-node2.xml" <"$work/pw-attached.xml"
	dumpxml "$work/pw-node2.xml" >"$work/pw-public.xml"
	if grep -q "s3cret" "$work/pw-public.xml"; then
		fail "pw: a client without the secure flag reads the password after attach"
	else
		echo "ok: pw: no password where a read-only client reads"
	fi
	sed -n '/<metadata>/,/<\/metadata>/p' "$work/pw-attached.xml" | grep -q "s3cret" &&
		fail "pw: the password is in the metadata"
	secure "$work/pw-node2.xml" | grep -q "<graphics type='spice' passwd='s3cret'" ||
		fail "pw: the vGPU's SPICE display does not keep the password"
	secure "$work/pw-node2.xml" | node "$work/pw-node3.xml"
	"$gvtgctl" --root "$root" detach --connect "test://$work/pw-node3.xml" win10 --dry-run \
		>"$work/pw-detached.xml" 2>"$work/pw.err" || fail "pw: detach: $(cat "$work/pw.err")"
	node "$work/pw-node4.xml" <"$work/pw-detached.xml"
	secure "$work/pw-node4.xml" >"$work/pw-back.xml"
	if cmp -s "$work/pw-orig.xml" "$work/pw-back.xml"; then
		echo "ok: pw: detach gives back the definition with its password"
	else
		fail "pw: not the same after detach:"
		diff -u "$work/pw-orig.xml" "$work/pw-back.xml" || true
	fi
else
	fail "pw: attach --display=spice: $(cat "$work/pw.err")"
fi
# a GTK display has no place for the password: refused, saying what to do
if "$gvtgctl" --root "$root" attach --connect "test://$work/pw-node.xml" win10 --type i915-GVTg_V5_4 \
	--uuid "$U" --display=gtk --dry-run >/dev/null 2>"$work/pw-gtk.err"; then
	fail "pw: attach --display=gtk of a domain with a password succeeded"
fi
grep -q "has a password, and a GTK display has no place to keep it. Use --display=spice" \
	"$work/pw-gtk.err" || fail "pw: gtk refusal: $(cat "$work/pw-gtk.err")"

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
