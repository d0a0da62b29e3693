# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by guest.sh after the unconfined run, with libvirtd still running unconfined:
# the same domains again, with libvirtd confined by Debian's AppArmor profile
# (/etc/apparmor.d/usr.sbin.libvirtd, from libvirt-daemon-system) as a stock Debian or
# Ubuntu host runs it, and the hook installed in the packages' layout (/usr/sbin/gvtg-hook,
# linked from qemu.d, its module in GVTG_HOOK_DIR) under its own profile.  All of it is
# written into the guest's overlay.  Any apparmor="DENIED" in the kernel log fails.
# Uses guest.sh's helpers (pass, fail, expect, define, virsh, probe, ...).
# The small predicates below are called through expect_true, which shellcheck cannot see.
# shellcheck disable=SC2317
# daemon_env, libvirtd_pid, A, C1, E and the helpers come from guest.sh.
# shellcheck disable=SC2154

confined_skip() {
	skipped "confined run: $*"
}

# Stop the running libvirtd and start it again under Debian's profile.
confined_libvirtd() {
	kill "$libvirtd_pid" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$libvirtd_pid" 2>/dev/null || break; sleep 0.1; done
	rm -f /run/gvtg-libvirtd.pid
	"${daemon_env[@]}" aa-exec -p libvirtd -- libvirtd -d -p /run/gvtg-libvirtd.pid
	local up=false
	for _ in $(seq 1 120); do
		if timeout 10 /usr/bin/virsh -c qemu:///system version >/dev/null 2>&1; then
			up=true
			break
		fi
		sleep 0.5
	done
	libvirtd_pid=$(cat /run/gvtg-libvirtd.pid 2>/dev/null || true)
	if ! $up; then
		fail "confined libvirtd answers within 60 s"
		return 1
	fi
	expect "libvirtd runs confined" "libvirtd (enforce)" \
		"$(cat "/proc/$libvirtd_pid/attr/current" 2>/dev/null)"
}

confined_run() {
	local aa=/tmp/gvtg-apparmor hook=/usr/sbin/gvtg-hook label pid out
	stage "confined run"
	if ! mountpoint -q /sys/kernel/security; then
		mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
	fi
	if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) != Y ]]; then
		confined_skip "AppArmor is not enabled in this kernel"
		return
	fi
	for tool in apparmor_parser aa-exec; do
		command -v "$tool" >/dev/null ||
			{ confined_skip "$tool is missing (package apparmor)"; return; }
	done
	if [[ ! -r /etc/apparmor.d/usr.sbin.libvirtd || ! -r ${GVTG_AA_PROFILE:-} ]]; then
		confined_skip "libvirtd's or the hook's AppArmor profile is missing"
		return
	fi

	# The packages' layout, in the overlay.
	install -m 0755 "$GVTG_HOOK" "$hook"
	install -D -m 0755 "$(dirname "$GVTG_HOOK")/gvtg-hook-core.so" \
		"$GVTG_HOOK_DIR/gvtg-hook-core.so"
	ln -sfn "$hook" /etc/libvirt/hooks/qemu.d/50-gvtg-hook

	# The guest runs in a chroot: paths must be judged relative to it.
	mkdir -p "$aa"
	for f in /etc/apparmor.d/usr.sbin.libvirtd "$GVTG_AA_PROFILE"; do
		sed 's|flags=(attach_disconnected)|flags=(attach_disconnected,chroot_relative)|' \
			"$f" >"$aa/$(basename "$f")"
		if out=$(apparmor_parser -r -K -I /etc/apparmor.d "$aa/$(basename "$f")" 2>&1); then
			pass "apparmor_parser -r loads $(basename "$f")"
		else
			fail "apparmor_parser -r $(basename "$f"): $out"
			return
		fi
	done
	expect "profiles libvirtd and gvtg-hook are loaded (enforce)" \
		"gvtg-hook (enforce)|libvirtd (enforce)" \
		"$(grep -E '^(libvirtd|gvtg-hook) \(' /sys/kernel/security/apparmor/profiles | sort |
			tr '\n' '|' | sed 's/|$//')"

	# The hook under its own profile when the libvirtd profile executes it (PUx): seen
	# while it waits for the domain XML on stdin.
	rm -f /tmp/gvtg-fifo
	mkfifo /tmp/gvtg-fifo
	aa-exec -p libvirtd -- /bin/sh -c "exec $hook probe prepare begin -" \
		</tmp/gvtg-fifo >/dev/null 2>&1 &
	pid=$!
	exec 5>/tmp/gvtg-fifo
	label=
	for _ in $(seq 1 50); do
		label=$(cat "/proc/$pid/attr/current" 2>/dev/null)
		[[ $label == "gvtg-hook (enforce)" ]] && break
		sleep 0.1
	done
	echo "<domain><name>probe</name><uuid>2b4d0000-0000-4000-8000-0000000000ff</uuid></domain>" >&5
	exec 5>&-
	wait "$pid"
	local rc=$?
	expect "libvirtd's profile runs $hook under the profile gvtg-hook" \
		"gvtg-hook (enforce)" "$label"
	expect "the confined hook handles a domain without vGPU (exit 0)" "0" "$rc"

	# libvirtd again, confined.
	confined_libvirtd || return

	if [[ -n ${GVTGCTL:-} ]]; then
		out=$("$GVTGCTL" check 2>&1)
		# The profile is loaded: the kernel answers (libapparmor), not the text.
		expect_true "gvtgctl check asks the kernel: the confined libvirtd may execute the hook" \
			grep -qF "libvirtd (AppArmor libvirtd) may execute hook /etc/libvirt/hooks/qemu.d/50-gvtg-hook (-> $hook): the loaded profile allows it (asked the kernel)" <<<"$out"
		echo "$out" | grep -F AppArmor
	fi

	# A domain without vGPU: every start runs the hook.
	define vm-p 2b4d0000-0000-4000-8000-0000000000a0 || return
	if out=$(virsh start vm-p 2>&1); then
		pass "confined: virsh start of a domain without vGPU"
	else
		fail "confined: virsh start of a domain without vGPU: $out"
		show_hook_log
	fi
	if out=$(virsh destroy vm-p 2>&1); then
		pass "confined: virsh destroy of the domain without vGPU"
	else
		fail "confined: virsh destroy vm-p: $out"
	fi

	# A vGPU created on start and removed on stop, by the confined hook.
	if out=$(virsh start vm-a 2>&1); then
		pass "confined: virsh start vm-a (mtty-1 from the metadata)"
	else
		fail "confined: virsh start vm-a: $out"
		show_hook_log
	fi
	expect "confined: vm-a's vGPU exists as mtty-1" "$A mtty mtty-1" "$(probe device "$A")"
	expect_true "confined: the record says created, held by vm-a" record_is "$A" created vm-a
	if out=$(virsh destroy vm-a 2>&1); then
		pass "confined: virsh destroy vm-a"
	else
		fail "confined: virsh destroy vm-a: $out"
	fi
	expect_true "confined: the hook removed vm-a's vGPU" no_device "$A"
	expect_true "confined: no record left for vm-a's vGPU" no_records "$A"

	# A failed start rolls back: the first vGPU is removed again.
	if out=$(virsh start vm-c 2>&1); then
		fail "confined: virsh start vm-c with a missing type succeeded"
		virsh destroy vm-c >/dev/null 2>&1
	else
		pass "confined: virsh start vm-c (second vGPU of a missing type) fails"
	fi
	expect_true "confined: vm-c's error comes from gvtg-hook and names mtty-9" \
		contains "$out" "gvtg-hook:" "mtty-9"
	expect_true "confined: vm-c's first vGPU was removed again" no_device "$C1"

	# A vGPU made before the start is adopted and left in place.
	expect "confined: make vm-e's vGPU by hand" "0" "$(probe create mtty mtty-1 "$E")"
	if out=$(virsh start vm-e 2>&1); then
		pass "confined: virsh start vm-e with an existing vGPU"
	else
		fail "confined: virsh start vm-e: $out"
	fi
	expect_true "confined: vm-e's record says adopted" record_is "$E" adopted vm-e
	virsh destroy vm-e >/dev/null 2>&1
	expect_true "confined: the adopted vGPU is still there after the destroy" has_device "$E"
	probe remove "$E" >/dev/null

	# A libvirtd restart while a domain runs: the hook's reconnect, then its release.
	if out=$(virsh start vm-a 2>&1); then
		pass "confined: virsh start vm-a before a libvirtd restart"
	else
		fail "confined: virsh start vm-a before a libvirtd restart: $out"
	fi
	confined_libvirtd || return
	expect "confined: vm-a still runs after the restart" "running" "$(state vm-a)"
	expect_true "confined: vm-a's record survives the restart" record_is "$A" created vm-a
	virsh destroy vm-a >/dev/null 2>&1
	expect_true "confined: after the restart, the hook removed vm-a's vGPU" no_device "$A"

	# mdevctl under the hook's own profile, as the hook runs it for defined vGPUs.
	if command -v mdevctl >/dev/null; then
		local M=1f3a5c7e-0000-4000-8000-0000000000f1
		if out=$(aa-exec -p gvtg-hook -- mdevctl start -u "$M" -p mtty -t mtty-1 2>&1); then
			pass "confined: mdevctl start under the profile gvtg-hook"
		else
			fail "confined: mdevctl start under the profile gvtg-hook: $out"
		fi
		expect_true "confined: mdevctl made the vGPU" has_device "$M"
		out=$(aa-exec -p gvtg-hook -- mdevctl list 2>&1)
		expect_true "confined: mdevctl list under the profile gvtg-hook names it" \
			contains "$out" "$M"
		if out=$(aa-exec -p gvtg-hook -- mdevctl stop -u "$M" 2>&1); then
			pass "confined: mdevctl stop under the profile gvtg-hook"
		else
			fail "confined: mdevctl stop under the profile gvtg-hook: $out"
		fi
		expect_true "confined: mdevctl removed the vGPU" no_device "$M"
	else
		skipped "confined: mdevctl under the profile gvtg-hook: mdevctl is not installed"
	fi

	local denied
	denied=$(dmesg | grep 'apparmor="DENIED"')
	echo "confined: dmesg | grep 'apparmor=\"DENIED\"': '${denied}'"
	expect "confined: no apparmor=\"DENIED\" in the kernel log" "" "$denied"

	# Last, and on purpose: the layout this replaces.  The profile refuses a hook in
	# /usr/libexec, gvtgctl says so, and a start fails as on a stock host.
	install -D -m 0755 "$GVTG_HOOK" /usr/libexec/gvtg-hook/gvtg-hook
	ln -sfn /usr/libexec/gvtg-hook/gvtg-hook /etc/libvirt/hooks/qemu.d/50-gvtg-hook
	if [[ -n ${GVTGCTL:-} ]]; then
		out=$("$GVTGCTL" check 2>&1)
		expect_true "gvtgctl check FAILs a hook in /usr/libexec under the confined libvirtd" \
			grep -qF "FAIL  libvirtd (pid $libvirtd_pid, AppArmor libvirtd) may not execute hook /etc/libvirt/hooks/qemu.d/50-gvtg-hook (-> /usr/libexec/gvtg-hook/gvtg-hook): the loaded profile does not allow it (asked the kernel)" <<<"$out"
	fi
	if out=$(virsh start vm-p 2>&1); then
		fail "confined: a hook in /usr/libexec ran"
		virsh destroy vm-p >/dev/null 2>&1
	else
		expect_true "confined: a hook in /usr/libexec is refused (Permission denied)" \
			contains "$out" "Permission denied"
	fi
	expect_true "the kernel logged that refusal" \
		grep -q 'apparmor="DENIED" operation="exec" .*name="/usr/libexec/gvtg-hook/gvtg-hook"' \
		<<<"$(dmesg)"
	ln -sfn "$hook" /etc/libvirt/hooks/qemu.d/50-gvtg-hook
}

confined_run
