# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by guest.sh once its own domains are done, with its helpers (virsh, expect,
# pass, fail, probe...): gvtgctl attach gives a defined plain domain a vGPU, the domain
# starts with it through the hook, detach gives back the definition it had, and the
# domain starts again without a vGPU.

F=1f3a5c7e-0000-4000-8000-0000000000f2
attach_dom=vm-f
if [[ -z ${GVTGCTL:-} ]]; then
	skipped "gvtgctl attach: gvtgctl is not built"
elif "$GVTGCTL" attach x --dry-run 2>&1 | grep -q 'built without libvirt'; then
	skipped "gvtgctl attach: gvtgctl was built without libvirt"
else
	stage "gvtgctl attach $attach_dom"
	cat >/tmp/gvtg-vm-$attach_dom.xml <<-XML
		<domain type='qemu'>
		  <name>$attach_dom</name>
		  <uuid>2b4d0000-0000-4000-8000-0000000000f2</uuid>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='pc'>hvm</type></os>
		  <devices>
		    <emulator>/usr/bin/qemu-system-x86_64</emulator>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	XML
	if out=$(virsh define "/tmp/gvtg-vm-$attach_dom.xml" 2>&1); then
		before=$(virsh dumpxml --inactive "$attach_dom")
		# mtty-1 is only mtty's: the parent is found as the hook finds it.
		if out=$("$GVTGCTL" attach "$attach_dom" --type mtty-1 --uuid "$F" 2>&1); then
			pass "gvtgctl attach $attach_dom --type mtty-1"
		else
			fail "gvtgctl attach $attach_dom: $out"
		fi
		expect "gvtgctl attach says what it added" \
			"Added vGPU $F to the definition of $attach_dom (qemu:///system): parent mtty (automatic), type mtty-1 (--type)." \
			"$(head -n 1 <<<"$out")"
		if out=$(virsh start "$attach_dom" 2>&1); then
			pass "virsh start $attach_dom after gvtgctl attach"
		else
			fail "virsh start $attach_dom after gvtgctl attach: $out"
			show_hook_log
		fi
		expect "$attach_dom's vGPU exists as mtty-1" "$F mtty mtty-1" "$(probe device "$F")"
		expect_true "QEMU runs with $attach_dom's vGPU" \
			grep -qE "sysfsdev(=|\":\")/sys/bus/mdev/devices/$F" <<<"$(qemu_cmdline "$attach_dom")"
		expect_true "the record says created, held by $attach_dom" record_is "$F" created "$attach_dom"
		virsh destroy "$attach_dom" >/dev/null 2>&1
		expect_true "the hook removed $attach_dom's vGPU" no_device "$F"
		if out=$("$GVTGCTL" detach "$attach_dom" 2>&1); then
			pass "gvtgctl detach $attach_dom"
		else
			fail "gvtgctl detach $attach_dom: $out"
		fi
		expect "the definition after detach is the one before attach" "$before" \
			"$(virsh dumpxml --inactive "$attach_dom")"
		if out=$(virsh start "$attach_dom" 2>&1); then
			pass "virsh start $attach_dom without a vGPU after detach"
		else
			fail "virsh start $attach_dom after detach: $out"
		fi
		expect_true "no vGPU for $attach_dom after detach" no_device "$F"
		virsh destroy "$attach_dom" >/dev/null 2>&1
		virsh undefine "$attach_dom" >/dev/null 2>&1
	else
		fail "virsh define $attach_dom: $out"
	fi
fi
