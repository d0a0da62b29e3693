#!/bin/bash
# SPDX-License-Identifier: MIT
# The upgrade users do, inside the stock Debian host (sourced by guest.sh, whose helpers
# it uses): the previous release installed (OLD_DEB, built by old-deb.sh), a vGPU domain
# started under its hook, the current package installed over it with apt while the domain
# runs, the domain stopped: the new hook releases the vGPU from the old hook's record,
# and gvtgctl check has nothing to fail about the hook after the upgrade.
# shellcheck shell=bash disable=SC2317

upgrade_while_running() {
	local old=/host$OLD_DEB u=1f3a5c7e-0000-4000-8000-0000000000c1 out rc t0 version
	stage "upgrade from $(basename "$old") while a vGPU domain runs"
	cp "$old" /root/
	# The configuration this host's admin (the checks above) edited stays theirs, as an
	# unattended upgrade keeps it; without these dpkg would ask, and fail on no stdin.
	local keep=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	out=$(apt_get install "${keep[@]}" --allow-downgrades "./$(basename "$old")" 2>&1)
	rc=$?
	show "apt previous release" "$out"
	expect "apt-get install the previous release: exit status" 0 "$rc"
	version=$(dpkg-query -W -f='${Version}' gvtg-hook 2>/dev/null)
	expect_true "the previous release is installed ($version)" contains "$version" "~prev"
	t0=$(now)
	define upgrade 2b4d0000-0000-4000-8000-0000000000c1 "$u"
	start upgrade
	expect "the previous hook created the vGPU and recorded it for the domain" \
		"mtty-1 origin=created domain_name=upgrade" \
		"$(mdev_type_of "$u") $(grep -E '^(origin|domain_name)=' "/run/gvtg-hook/$u" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
	out=$(apt_get install "${keep[@]}" "./$(basename "$DEB")" 2>&1)
	rc=$?
	show "apt upgrade" "$out"
	expect "apt-get install ./$(basename "$DEB") over the previous release: exit status" 0 "$rc"
	expect "apt printed no warning or error in the upgrade (W:/E: lines)" "" \
		"$(grep -E '^[0-9.]+ (W|E): ' <<<"$out")"
	expect_false "the upgrade installed the current version" contains \
		"$(dpkg-query -W -f='${Version}' gvtg-hook 2>/dev/null)" "~prev"
	expect "the domain kept running through the upgrade" running "$(state upgrade)"
	expect_true "the upgraded hook loads its own module (gvtg-hook --self-test)" \
		timeout 20 /etc/libvirt/hooks/qemu.d/50-gvtg-hook --self-test
	destroy upgrade
	expect_true "the upgraded hook removed the vGPU the previous one created" \
		wait_for 10 no_device "$u"
	expect "and dropped the previous hook's record" "" "$(ls "/run/gvtg-hook/$u" 2>/dev/null)"
	show "journalctl -t gvtg-hook" "$(hook_journal "$t0")"
	virsh undefine upgrade >/dev/null 2>&1
	virsh version >/dev/null 2>&1
	out=$(timeout 60 gvtgctl check 2>&1)
	show "gvtgctl check after the upgrade" "$out"
	expect "after the upgrade, gvtgctl check fails nothing about the hook" "" \
		"$(grep -E '^FAIL ' <<<"$out" | grep -iE 'hook|apparmor|libvirt')"
	expect_true "after the upgrade, the installed hook passes gvtgctl check's self-test" \
		grep -qE '^PASS +hook .* loads its module and parses a domain' <<<"$out"
}
