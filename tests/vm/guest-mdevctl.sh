#!/bin/bash
# SPDX-License-Identifier: MIT
# Sourced by guest.sh once libvirtd is up: definitions.  A vGPU defined through libvirt's
# node devices (virsh nodedev-define, which writes mdevctl's definition) is started by
# the hook with its VM, through Debian's mdevctl (its callouts run), although the
# configuration's [defaults] names another type; it is stopped again after the VM, and
# the definition stays.  A definition that contradicts the domain's metadata makes the
# start fail with one line naming the file, and nothing is left behind.  A vGPU that
# gvtgctl define wrote is given to a domain by virt-install, and started by the hook.
# Uses guest.sh's helpers (pass, fail, expect, virsh, probe, qemu_cmdline, ...).
# shellcheck shell=bash disable=SC2154

definitions_checks() {
	if ! command -v mdevctl >/dev/null; then
		skipped "definitions: mdevctl is not installed (package mdevctl)"
		return 0
	fi
	local N=3c9e1d20-5b7a-4e2f-9d41-00000000def1
	local DOM_N=2b4d0000-0000-4000-8000-0000000def01 DOM_M=2b4d0000-0000-4000-8000-0000000def02
	local calls=/run/gvtg-callouts.log cdir=/etc/mdevctl.d/scripts.d/callouts
	local conf=${GVTG_CONFIG_FILE:-/etc/gvtg-hook.conf} node out f

	# libvirt hands mdevctl the definition as --jsonfile /dev/stdin: the guest's /dev
	# is a bare devtmpfs, without the links udev or systemd would make.
	[[ -e /dev/stdin ]] || ln -s /proc/self/fd/0 /dev/stdin
	[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd
	# mdevctl refuses every command without its scripts.d directories.
	mkdir -p "$cdir" /etc/mdevctl.d/scripts.d/notifiers
	cat >"$cdir/50-gvtg-test" <<-EOF
		#!/bin/sh
		# A callout: note every call; handle only the events of our test vGPU.  mdevctl
		# writes the device's JSON to stdin (1.2.0 fails on a closed pipe): read it.
		cat >/dev/null
		echo "\$*" >>$calls
		case " \$* " in *" -e get "*) exit 2 ;; *" -u $N "*) exit 0 ;; esac
		exit 2
	EOF
	chmod 0755 "$cdir/50-gvtg-test"
	: >"$calls"
	mkdir -p "$(dirname "$conf")"
	printf '[defaults]\nparent = mtty\ntype = mtty-2\n' >"$conf"

	f=/tmp/gvtg-nodedev.xml
	cat >"$f" <<-EOF
		<device>
		  <parent>mtty_mtty</parent>
		  <capability type='mdev'>
		    <type id='mtty-1'/>
		    <uuid>$N</uuid>
		  </capability>
		</device>
	EOF
	stage "virsh nodedev-define"
	if out=$(virsh nodedev-define "$f" 2>&1); then
		pass "virsh nodedev-define of an mtty-1 vGPU on mtty_mtty"
	else
		fail "virsh nodedev-define: $out"
		return 0
	fi
	expect_true "mdevctl wrote the definition /etc/mdevctl.d/mtty/$N (start manual)" \
		grep -q '"start": *"manual"' "/etc/mdevctl.d/mtty/$N"
	expect_true "gvtgctl list --defined shows it, inactive, from mdevctl manual" \
		grep -qE "^$N +mtty +mtty-1 +mdevctl manual +no +/etc/mdevctl.d/mtty/$N\$" \
		<<<"$("$GVTGCTL" list --defined 2>&1)"
	expect_true "no device before the VM starts" no_device "$N"

	# A domain that names only the UUID: the definition decides, not [defaults].
	f=/tmp/gvtg-vm-n.xml
	cat >"$f" <<-EOF
		<domain type='qemu'>
		  <name>vm-n</name>
		  <uuid>$DOM_N</uuid>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='pc'>hvm</type></os>
		  <devices>
		    <emulator>/usr/bin/qemu-system-x86_64</emulator>
		    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
		      <source><address uuid='$N'/></source>
		    </hostdev>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	EOF
	virsh define "$f" >/dev/null 2>&1 || fail "virsh define vm-n"
	stage "start vm-n"
	if out=$(virsh start vm-n 2>&1); then
		pass "virsh start vm-n, whose vGPU is defined (config [defaults] says mtty-2)"
	else
		fail "virsh start vm-n: $out"
		show_hook_log
	fi
	expect "vm-n's vGPU is the definition's: mtty-1" "$N mtty mtty-1" "$(probe device "$N")"
	expect_true "QEMU holds it (sysfsdev=/sys/bus/mdev/devices/$N)" \
		grep -qE "sysfsdev(=|\":\")/sys/bus/mdev/devices/$N" <<<"$(qemu_cmdline vm-n)"
	expect_true "the record says origin=defined, held by vm-n" record_is "$N" defined vm-n
	expect_true "mdevctl ran the callout for the start (pre and post)" \
		contains "$(cat "$calls")" "-e pre -a start" "-e post -a start" "-u $N -p mtty"
	echo "callouts: $(tr '\n' '|' <"$calls")"

	if out=$(virsh destroy vm-n 2>&1); then pass "virsh destroy vm-n"; else fail "virsh destroy vm-n: $out"; fi
	expect_true "after the destroy the vGPU is gone" no_device "$N"
	expect_true "no record left for it" no_records "$N"
	expect_true "mdevctl ran the callout for the stop" contains "$(cat "$calls")" "-a stop"
	# libvirt names it mdev_<uuid>, with the parent appended in newer versions.
	node=$(virsh nodedev-list --cap mdev --inactive 2>&1 | grep -m1 "^mdev_${N//-/_}")
	if [[ -n $node ]]; then
		pass "virsh nodedev-list --cap mdev --inactive still lists it: $node"
	else
		fail "virsh nodedev-list --cap mdev --inactive: $(virsh nodedev-list --cap mdev --inactive 2>&1 | tr '\n' ' ')"
		node=mdev_${N//-/_}
	fi
	expect_true "the definition file stays" test -f "/etc/mdevctl.d/mtty/$N"

	# The domain's metadata asks for another type than the definition: refused.
	domain_xml vm-m "$DOM_M" "$N:mtty:mtty-2" >/tmp/gvtg-vm-m.xml
	virsh define /tmp/gvtg-vm-m.xml >/dev/null 2>&1 || fail "virsh define vm-m"
	if out=$(virsh start vm-m 2>&1); then
		fail "virsh start vm-m, whose metadata contradicts the definition, succeeded"
		virsh destroy vm-m >/dev/null 2>&1
	else
		pass "virsh start vm-m (metadata mtty-2, definition mtty-1) fails"
	fi
	echo "vm-m's error: $(tr '\n' ' ' <<<"$out")"
	expect_true "vm-m's error is gvtg-hook's, naming both types and the file" \
		contains "$out" "gvtg-hook:" "mtty-2" "mtty-1" "/etc/mdevctl.d/mtty/$N"
	expect_true "vm-m: nothing left behind (no device)" no_device "$N"
	expect_true "vm-m: nothing left behind (no record)" no_records "$N"

	# Debian 12's rule runs /usr/sbin/mdevctl; the package has /usr/bin/mdevctl.
	# (/lib is /usr/lib on a merged /usr: the rule is found under either name.)
	if [[ ! -e /usr/sbin/mdevctl && -r /lib/udev/rules.d/60-mdevctl.rules ]]; then
		out=$("$GVTGCTL" check 2>&1)
		if grep -qE "^WARN  mdevctl's udev rule (/usr)?/lib/udev/rules.d/60-mdevctl.rules runs /usr/sbin/mdevctl, which does not exist" <<<"$out"; then
			pass "gvtgctl check warns that mdevctl's udev rule runs a missing program"
		else
			fail "gvtgctl check does not warn about mdevctl's udev rule: $(grep -i mdevctl <<<"$out" | tr '\n' '|')"
		fi
	fi

	virsh undefine vm-n >/dev/null 2>&1
	virsh undefine vm-m >/dev/null 2>&1
	if out=$(virsh nodedev-undefine "$node" 2>&1) && [[ ! -e /etc/mdevctl.d/mtty/$N ]]; then
		pass "virsh nodedev-undefine $node removes the definition"
	else
		fail "virsh nodedev-undefine $node: $out"
		rm -f "/etc/mdevctl.d/mtty/$N"
	fi
	define_with_virt_install
	rm -f "$conf" "$cdir/50-gvtg-test"
	stage "definitions checks done"
}

# gvtgctl define, then a client gvtg-hook did not write: virt-install --import defines a
# domain with the vGPU that starts with it (the hook starts it from the definition) and
# stops without it; the definition stays until gvtgctl undefine.  virt-install 4.1 turns
# '--hostdev NAME' (NAME as 'virsh nodedev-list --cap mdev --inactive' prints it) into a
# hostdev only for GVT-g (i915-GVTg_V*), NVIDIA, vfio-ccw and vfio-ap types; for the
# sample driver's mtty type here the same hostdev is given through its --xml.
define_with_virt_install() {
	local D=3c9e1d20-5b7a-4e2f-9d41-00000000def3 DOM_I=2b4d0000-0000-4000-8000-0000000def03
	local img=/tmp/gvtg-vm-i.img node='' out i
	if ! command -v virt-install >/dev/null; then
		skipped "gvtgctl define with virt-install: virt-install is not installed (package virtinst)"
		return 0
	fi
	stage "gvtgctl define, virt-install"
	if out=$("$GVTGCTL" define --type mtty-1 "$D" 2>&1); then
		pass "gvtgctl define --type mtty-1 $D"
	else
		fail "gvtgctl define: $out"
		return 0
	fi
	expect_true "gvtgctl define ran mdevctl, which wrote /etc/mdevctl.d/mtty/$D" \
		grep -q '"mdev_type": *"mtty-1"' "/etc/mdevctl.d/mtty/$D"
	expect_true "no device after define" no_device "$D"
	# libvirt's node-device driver notices mdevctl's directory change on its own.
	for ((i = 0; i < 100; i++)); do
		node=$(virsh nodedev-list --cap mdev --inactive 2>/dev/null | grep -m1 "^mdev_${D//-/_}") && break
		sleep 0.1
	done
	if [[ -z $node ]]; then
		fail "virsh nodedev-list --cap mdev --inactive does not list $D: $(virsh nodedev-list --cap mdev --inactive 2>&1 | tr '\n' ' ')"
		"$GVTGCTL" undefine "$D" >/dev/null 2>&1
		return 0
	fi
	pass "virsh nodedev-list --cap mdev --inactive lists it: $node"
	truncate -s 1M "$img"
	# No --noreboot: with --import it would leave the domain defined but shut off.
	if out=$(timeout 120 virt-install --name vm-i --uuid "$DOM_I" --memory 64 --vcpus 1 \
		--virt-type qemu --arch x86_64 --machine pc --osinfo generic --import \
		--disk "path=$img,format=raw" --graphics none --console none --network none \
		--controller usb,model=none --noautoconsole \
		--xml ./devices/hostdev/@mode=subsystem --xml ./devices/hostdev/@type=mdev \
		--xml ./devices/hostdev/@model=vfio-pci \
		--xml "./devices/hostdev/source/address/@uuid=$D" 2>&1); then
		pass "virt-install --import with the mdev hostdev of $D defines and starts vm-i"
	else
		fail "virt-install: $out"
		show_hook_log
	fi
	expect "vm-i runs" "running" "$(state vm-i)"
	expect "vm-i's vGPU is the definition's, started by the hook: mtty-1" "$D mtty mtty-1" \
		"$(probe device "$D")"
	expect_true "the record says origin=defined, held by vm-i" record_is "$D" defined vm-i
	expect_true "vm-i's definition has the mdev hostdev" \
		grep -q "<address uuid='$D'/>" <<<"$(virsh dumpxml --inactive vm-i 2>&1)"
	if out=$(virsh destroy vm-i 2>&1); then pass "virsh destroy vm-i"; else fail "virsh destroy vm-i: $out"; fi
	expect_true "after vm-i stops the vGPU is gone" no_device "$D"
	expect_true "no record left for it" no_records "$D"
	expect_true "the definition stays" test -f "/etc/mdevctl.d/mtty/$D"
	virsh undefine vm-i >/dev/null 2>&1
	rm -f "$img"
	if out=$("$GVTGCTL" undefine "$D" 2>&1) && [[ ! -e /etc/mdevctl.d/mtty/$D ]]; then
		pass "gvtgctl undefine $D removes the definition"
	else
		fail "gvtgctl undefine $D: $out"
		rm -f "/etc/mdevctl.d/mtty/$D"
	fi
}

definitions_checks
