# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154 # daemon_env, vlog, libvirtd_pid: guest.sh's
# Sourced by guest.sh after its own domains, with its helpers (virsh, expect, pass, fail,
# probe, daemon_env...) and its libvirtd running with the hook linked from qemu.d.
#
# 1. A vGPU hot-plugged into a running domain: libvirt runs no hook for the plug, so the
#    records still say nobody holds the vGPUs; `gvtgctl sleep pre` and `gvtgctl boot
#    --stop` must see the QEMU that has them open, leave them, return promptly and leave
#    no process behind (a writer blocked in the kernel's remove would stay in D state).
# 2. The hook as `meson install --destdir` lays it out, its executable copied as a plain
#    hooks/qemu file (qemu.d empty), its module only in the compiled install directory:
#    a plain domain and a vGPU domain start and stop through it.  The qemu.d link and
#    the daemon are put back afterwards for the checks that follow.

# ---- 1. held by a hot-plug ------------------------------------------------------------

HM=1f3a5c7e-0000-4000-8000-0000000000f4 # made by gvtgctl create (origin manual)
HB=1f3a5c7e-0000-4000-8000-0000000000f5 # made by gvtgctl boot (origin boot)
hp_dom=vm-hp
hp_conf=/tmp/gvtg-hotplug.conf
# Processes in uninterruptible sleep, and gvtgctl or mdev writers left over.
stuck_procs() {
	ps -e -o pid=,stat=,comm= | awk '$2 ~ /^D/ || $3 == "gvtgctl" { print $1 "/" $2 "/" $3 }'
}
# no_domain_named UUID...: their records name no domain
no_domain_named() {
	local u
	for u; do
		[[ -f /run/gvtg-hook/$u ]] && ! grep -q '^domain_name=.' "/run/gvtg-hook/$u" ||
			return 1
	done
}
# holds_groups PID UUID...: the process has every vGPU's /dev/vfio/<group> open
holds_groups() {
	local pid=$1 u g
	shift
	for u; do
		g=$(readlink "/sys/bus/mdev/devices/$u/iommu_group") || return 1
		[[ -n $(find "/proc/$pid/fd" -lname "/dev/vfio/${g##*/}" 2>/dev/null) ]] || return 1
	done
}
if [[ -z ${GVTGCTL:-} || ! -x ${GVTGCTL:-} ]]; then
	skipped "hot-plugged vGPU checks: gvtgctl is not built"
else
	stage "hot-plug into $hp_dom"
	cat >"$hp_conf" <<-CONF
		[sleep]
		remove_idle = yes
		[hook]
		remove_timeout = 2
		[$HB]
		parent = mtty
		type = mtty-1
		boot = yes
	CONF
	if out=$("$GVTGCTL" --config "$hp_conf" create --parent mtty --type mtty-1 "$HM" 2>&1); then
		pass "gvtgctl create $HM"
	else
		fail "gvtgctl create $HM: $out"
	fi
	if out=$("$GVTGCTL" --config "$hp_conf" boot 2>&1); then
		pass "gvtgctl boot creates $HB"
	else
		fail "gvtgctl boot: $out"
	fi
	expect_true "$HM's record says manual" record_is "$HM" manual
	expect_true "$HB's record says boot" record_is "$HB" boot
	cat >"/tmp/gvtg-vm-$hp_dom.xml" <<-XML
		<domain type='qemu'>
		  <name>$hp_dom</name>
		  <uuid>2b4d0000-0000-4000-8000-0000000000f4</uuid>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='pc'>hvm</type></os>
		  <features><acpi/></features>
		  <devices>
		    <emulator>/usr/bin/qemu-system-x86_64</emulator>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	XML
	virsh define "/tmp/gvtg-vm-$hp_dom.xml" >/dev/null 2>&1
	if out=$(virsh start --paused "$hp_dom" 2>&1); then
		pass "virsh start --paused $hp_dom (no hostdev)"
	else
		fail "virsh start --paused $hp_dom: $out"
	fi
	for u in "$HM" "$HB"; do
		printf "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n  <source><address uuid='%s'/></source>\n</hostdev>\n" \
			"$u" >"/tmp/gvtg-hostdev-$u.xml"
		if out=$(virsh attach-device "$hp_dom" "/tmp/gvtg-hostdev-$u.xml" --live 2>&1); then
			pass "virsh attach-device $hp_dom $u --live"
		else
			fail "virsh attach-device $hp_dom $u --live: $out"
		fi
	done
	hp_pid=$(cat "/run/libvirt/qemu/$hp_dom.pid" 2>/dev/null)
	expect_true "QEMU ($hp_pid) has both vGPUs' VFIO groups open" \
		holds_groups "$hp_pid" "$HM" "$HB"
	expect_true "the records still name no domain (libvirt ran no hook for the plug)" \
		no_domain_named "$HM" "$HB"
	for cmd in "sleep pre" "boot --stop"; do
		t0=$(date +%s)
		rc=0
		# shellcheck disable=SC2086
		out=$(timeout 60 "$GVTGCTL" --config "$hp_conf" $cmd 2>&1) || rc=$?
		took=$(($(date +%s) - t0))
		echo "gvtgctl $cmd (exit $rc): $out"
		expect_true "gvtgctl $cmd on hot-plugged vGPUs returned within 10 s ($took s, exit $rc)" \
			test "$took" -le 10 -a "$rc" -ne 124 -a "$rc" -ne 137
		expect_true "gvtgctl $cmd names QEMU $hp_pid as the holder of $HB" \
			contains "$out" "$HB" "process $hp_pid (qemu" "has the vGPU's VFIO node"
		if [[ $cmd == "sleep pre" ]]; then
			expect_true "gvtgctl sleep pre names QEMU $hp_pid as the holder of $HM too" \
				contains "$(grep -F "$HM" <<<"$out")" "process $hp_pid (qemu"
		fi
		expect_true "gvtgctl $cmd left both hot-plugged vGPUs in place" has_devices "$HM" "$HB"
		expect "$hp_dom still runs (paused) after gvtgctl $cmd" "paused" "$(state "$hp_dom")"
		expect "no process in D state or gvtgctl left after $cmd" "" "$(stuck_procs)"
	done
	rm -f /run/gvtg-hook/sleep
	if out=$(virsh destroy "$hp_dom" 2>&1); then pass "virsh destroy $hp_dom"; else fail "virsh destroy $hp_dom: $out"; fi
	virsh undefine "$hp_dom" >/dev/null 2>&1
	expect_true "the hot-plugged vGPUs outlive the domain (the hook never lent them)" \
		has_devices "$HM" "$HB"
	if out=$(timeout 60 "$GVTGCTL" --config "$hp_conf" boot --stop 2>&1) && no_device "$HB"; then
		pass "gvtgctl boot --stop removes $HB once QEMU let go"
	else
		fail "gvtgctl boot --stop after the destroy: $out"
	fi
	if out=$(timeout 60 "$GVTGCTL" remove "$HM" 2>&1) && no_device "$HM"; then
		pass "gvtgctl remove $HM once QEMU let go"
	else
		fail "gvtgctl remove $HM: $out"
	fi
	for u in "$HM" "$HB"; do has_device "$u" && probe remove "$u" >/dev/null; done
	rm -f /run/gvtg-hook/"$HM" /run/gvtg-hook/"$HB" "$hp_conf" /tmp/gvtg-hostdev-*.xml
fi

# ---- 2. the installed hook copied as hooks/qemu ---------------------------------------

# libvirtd reads its hooks only when it starts.
restart_libvirtd() {
	kill "$libvirtd_pid" 2>/dev/null
	for _ in $(seq 1 60); do
		kill -0 "$libvirtd_pid" 2>/dev/null || break
		sleep 0.5
	done
	rm -f /run/gvtg-libvirtd.pid
	"${daemon_env[@]}" libvirtd -d -p /run/gvtg-libvirtd.pid
	for _ in $(seq 1 120); do
		timeout 10 /usr/bin/virsh -c qemu:///system version >/dev/null 2>&1 && break
		sleep 0.5
	done
	libvirtd_pid=$(cat /run/gvtg-libvirtd.pid 2>/dev/null || true)
	timeout 10 /usr/bin/virsh -c qemu:///system version >/dev/null 2>&1
}

S=1f3a5c7e-0000-4000-8000-0000000000f6
copy=/etc/libvirt/hooks/qemu
link=/etc/libvirt/hooks/qemu.d/50-gvtg-hook
shape_build=$(dirname "$(readlink -f "$GVTG_HOOK")")/..
shape_dir=$(sed -n 's/^#define GVTG_HOOK_DIR "\(.*\)"$/\1/p' "$shape_build/config.h" 2>/dev/null)
shape_dest=/tmp/gvtg-shape-destdir
stage "meson install --destdir $shape_dest"
# A module the host has installed there (README's first command) is hidden under an
# empty tmpfs in the guest: the copy must find the module of its own build, and the
# host's files stay as they are.
shape_hidden=0
if [[ -d $shape_dir ]] && mount -t tmpfs -o mode=0755 tmpfs "$shape_dir"; then
	shape_hidden=1
fi
if [[ -z $shape_dir ]]; then
	fail "hooks/qemu copy: no GVTG_HOOK_DIR in $shape_build/config.h"
elif [[ -e $shape_dir/gvtg-hook-core.so ]]; then
	fail "hooks/qemu copy: $shape_dir still holds a module: the fallback cannot be told apart"
elif ! out=$(timeout 180 meson install -C "$shape_build" --no-rebuild --destdir "$shape_dest" 2>&1); then
	fail "hooks/qemu copy: meson install --destdir $shape_dest: $(tail -n 3 <<<"$out")"
else
	shape_exe=$(find "$shape_dest" -type f -perm -u+x -exec cmp -s {} "$GVTG_HOOK" \; -print -quit)
	# The overlay takes the module where the hook was compiled to look for it.
	if [[ -n $shape_exe && -f $shape_dest$shape_dir/gvtg-hook-core.so ]] &&
		install -D -m 0644 "$shape_dest$shape_dir/gvtg-hook-core.so" "$shape_dir/gvtg-hook-core.so" &&
		rm -f "$link" && install -m 0755 "$shape_exe" "$copy"; then
		pass "hooks/qemu copy: ${shape_exe#"$shape_dest"} copied as $copy, module only in $shape_dir"
	else
		fail "hooks/qemu copy: the installed tree lacks the executable or $shape_dir/gvtg-hook-core.so"
	fi
	expect "hooks/qemu copy: qemu.d is empty, nothing beside the copy" "" \
		"$(ls -A /etc/libvirt/hooks/qemu.d; ls /etc/libvirt/hooks/*.so 2>/dev/null)"
	mark=$(wc -l <"$vlog")
	# (No <(...) here: the guest's /dev has no /dev/fd.)
	if restart_libvirtd && tail -n +"$mark" "$vlog" | grep "Found hook script $copy\$" >/dev/null; then
		pass "hooks/qemu copy: the restarted libvirtd found $copy"
	else
		fail "hooks/qemu copy: libvirtd did not come back with $copy as its hook"
	fi
	cat >/tmp/gvtg-vm-vm-sp.xml <<-XML
		<domain type='qemu'>
		  <name>vm-sp</name>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='pc'>hvm</type></os>
		  <devices>
		    <emulator>/usr/bin/qemu-system-x86_64</emulator>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	XML
	define vm-sv 2b4d0000-0000-4000-8000-0000000000f6 "$S:mtty:mtty-1"
	mark=$(wc -l <"$vlog")
	for dom in vm-sp vm-sv; do
		[[ $dom == vm-sp ]] && virsh define /tmp/gvtg-vm-vm-sp.xml >/dev/null 2>&1
		if out=$(virsh start "$dom" 2>&1); then
			pass "hooks/qemu copy: virsh start $dom"
		else
			fail "hooks/qemu copy: virsh start $dom: $out"
			show_hook_log
		fi
		if [[ $dom == vm-sv ]]; then
			expect "hooks/qemu copy: the hook created vm-sv's vGPU" "$S mtty mtty-1" \
				"$(probe device "$S")"
			expect_true "hooks/qemu copy: the record says created, held by vm-sv" \
				record_is "$S" created vm-sv
		fi
		if out=$(virsh destroy "$dom" 2>&1); then
			pass "hooks/qemu copy: virsh destroy $dom"
		else
			fail "hooks/qemu copy: virsh destroy $dom: $out"
		fi
		virsh undefine "$dom" >/dev/null 2>&1
	done
	expect_true "hooks/qemu copy: the hook removed vm-sv's vGPU at the destroy" no_device "$S"
	expect_true "hooks/qemu copy: no record left for vm-sv" no_records "$S"
	calls=$(tail -n +"$mark" "$vlog" | grep -c "About to run .* $copy vm-s[pv] " || true)
	expect_true "hooks/qemu copy: libvirt ran the copy for both domains ($calls calls)" \
		test "$calls" -ge 10
	expect "hooks/qemu copy: every hook call exited 0" "" \
		"$(tail -n +"$mark" "$vlog" | grep "unexpected exit status" | grep -F " $copy " || true)"
	# Back to the link for what follows.
	rm -f "$copy" "$shape_dir/gvtg-hook-core.so"
	((shape_hidden)) && umount "$shape_dir"
	ln -s "$GVTG_HOOK" "$link"
	rm -rf "$shape_dest"
	restart_libvirtd || fail "libvirtd did not come back with the qemu.d link"
fi
