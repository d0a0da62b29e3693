#!/bin/bash
# SPDX-License-Identifier: MIT
# The Ansible role (contrib/ansible) on the stock Debian host of tests/host, as an admin
# runs README.md's playbook against one host: ansible-playbook -c local with Debian's
# ansible-core.  Sourced twice: by run.sh on the machine (ansible_prepare copies the role,
# README.md's playbook and this file beside the run's guest.sh) and by guest.sh in the
# host (ansible_checks).  The first run installs the package from the .deb and configures
# the host, the second changes nothing, then a domain with a vGPU starts; at the end the
# host is put back as it was before (package purged, the role's files removed), so that
# guest.sh's own checks start from a stock host.  Every run is bounded and timed.

# ansible_prepare SRC WORK (on the machine)
ansible_prepare() {
	local src=$1 work=$2
	mkdir -p "$work/ansible/roles"
	cp "${BASH_SOURCE[0]}" "$work/ansible.sh"
	cp -r "$src/contrib/ansible/roles/gvtg_hook" "$work/ansible/roles/"
	# README.md's playbook, as written: the yaml block of "The Ansible role".
	awk '/^### The Ansible role/ { s = 1 } s && /^```yaml$/ { y = 1; next } y && /^```$/ { exit } y' \
		"$src/README.md" >"$work/ansible/site.yml"
	[[ -s $work/ansible/site.yml ]]
}

# ansible_playbook LOG: README.md's playbook against this host, bounded; the exit status.
ansible_playbook() {
	local dir=$1 log=$2
	(cd "$dir" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		ANSIBLE_ROLES_PATH="$dir/roles" ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=/root/.ansible/tmp \
		timeout 900 ansible-playbook -c local -i hosts site.yml -e @host-vars.yml) >"$log" 2>&1
}

# The PLAY RECAP's counts for localhost, e.g. "ok=14 changed=0 ... failed=0 ...".
recap() { sed -n 's/^localhost *: *//p' "$1" | tr -s ' '; }

# ansible_checks (in the host, from guest.sh: pass, fail, info, expect..., define...)
ansible_checks() {
	local dir=/root/ansible log1=/root/ansible-1.log log2=/root/ansible-2.log t0 s1 s2 rc
	local vu=1f3a5c7e-0000-4000-8000-0000000000a5
	stage "Ansible: README.md's playbook with the role (ansible-playbook -c local)"
	mkdir -p "$dir"
	cp -r "$(dirname "${BASH_SOURCE[0]}")/ansible/." "$dir/"
	cp "$DEB" /root/
	printf '[gvtg_hosts]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' \
		>"$dir/hosts"
	# This host: the package from the .deb just built; no Intel iGPU (the sample mdev
	# drivers stand for GVT-g), so the hardware checks are tolerated.
	printf 'gvtg_hook_deb: /root/%s\ngvtg_hook_has_gvt: false\n' "$(basename "$DEB")" \
		>"$dir/host-vars.yml"
	info "ansible-playbook: $(ansible-playbook --version 2>/dev/null | head -n1)"
	# the daemon runs (Debian's exits when idle): the role must see it predate the hook
	virsh version >/dev/null 2>&1
	local pid_before
	pid_before=$(daemon_pid)

	t0=$SECONDS
	ansible_playbook "$dir" "$log1"
	rc=$?
	s1=$((SECONDS - t0))
	show ansible-1 "$(cat "$log1")"
	expect "first run of the playbook: exit status" 0 "$rc"
	info "first run: ${s1} s under TCG; $(recap "$log1")"
	expect "the role installed the package" "install ok installed" \
		"$(dpkg-query -W -f='${Status}' gvtg-hook 2>/dev/null)"
	expect_true "the role restarted libvirtd, which predated the hook" \
		test "$(daemon_pid)" != "$pid_before"
	expect_true "the configuration drop-in is in effect (gvtgctl config)" \
		grep -qx 'type = i915-GVTg_V5_8  # /etc/gvtg-hook.conf.d/50-ansible.conf:[0-9]*' \
		<<<"$(timeout 60 gvtgctl config 2>&1)"
	# shellcheck disable=SC2016 # grub's own variable, literally
	expect "the grub drop-in has the kernel options" \
		'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on i915.enable_gvt=1 i915.enable_guc=0"' \
		"$(grep -v '^#' /etc/default/grub.d/gvtg-hook.cfg 2>/dev/null)"
	expect "modules-load.d names kvmgt, vfio-pci, mdev" "kvmgt vfio-pci mdev" \
		"$(grep -v '^#' /etc/modules-load.d/gvtg-hook.conf 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
	expect "gvtg-metrics.timer is shipped, not enabled" disabled \
		"$(systemctl is-enabled gvtg-metrics.timer 2>&1)"

	t0=$SECONDS
	ansible_playbook "$dir" "$log2"
	rc=$?
	s2=$((SECONDS - t0))
	show ansible-2 "$(cat "$log2")"
	expect "second run of the playbook: exit status" 0 "$rc"
	expect_true "second run changes nothing (PLAY RECAP changed=0, failed=0)" \
		grep -qE '^localhost +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0 ' "$log2"
	info "second run: ${s2} s under TCG; $(recap "$log2")"

	# the metrics unit, started once by hand, writes the collector's file
	mkdir -p /var/lib/prometheus/node-exporter
	expect_true "systemctl start gvtg-metrics.service" timeout 120 systemctl start gvtg-metrics.service
	expect "gvtg-metrics.service wrote gvtg-hook.prom, ending with '# EOF'" "# EOF" \
		"$(tail -n1 /var/lib/prometheus/node-exporter/gvtg-hook.prom 2>/dev/null)"

	stage "a domain with a vGPU on the host the role configured"
	define ansible1 2b4d0000-0000-4000-8000-0000000000a5 "$vu"
	start ansible1
	expect "ansible1 runs" running "$(state ansible1)"
	expect "ansible1's vGPU was created as mtty-1" mtty-1 "$(mdev_type_of "$vu")"
	destroy ansible1
	virsh undefine ansible1 >/dev/null 2>&1
	# README.md's playbook sets [hook] release = keep in the role's drop-in
	expect_true "ansible1's vGPU kept after the destroy (release = keep, from the drop-in)" \
		has_device "$vu"
	expect_true "gvtgctl remove removes it" timeout 60 gvtgctl remove "$vu"
	expect_true "no vGPU of ansible1 left" wait_for 10 no_device "$vu"

	# Back to the stock host for guest.sh's own checks: the role's files, the package.
	rm -f /etc/gvtg-hook.conf.d/50-ansible.conf /etc/default/grub.d/gvtg-hook.cfg \
		/etc/modules-load.d/gvtg-hook.conf /var/lib/prometheus/node-exporter/gvtg-hook.prom
	rmdir /etc/default/grub.d /var/lib/prometheus/node-exporter /var/lib/prometheus 2>/dev/null
	local out
	out=$(apt_get purge gvtg-hook 2>&1)
	rc=$?
	show apt "$out"
	expect "apt-get purge gvtg-hook after the role's runs: exit status" 0 "$rc"
	rm -rf "$dir" /root/.ansible "/root/$(basename "$DEB")"
}
