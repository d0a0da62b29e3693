#!/bin/bash
# SPDX-License-Identifier: MIT
# Real-stack tier 3: the project's Debian package on a stock Debian 12 host, as users run
# it.  The host is a debootstrap tree (tree.sh, cached) booted under QEMU (TCG) with the
# VM tier's kernel and sample mdev drivers (tests/vm/kernel.sh), systemd as PID 1,
# AppArmor enforcing the packaged profiles, udev, and libvirtd as Debian starts it.  The
# package is built here from the source tree and installed there with apt; guest.sh runs
# the checks as a systemd unit and powers the host off.
#
# Host side, in order: the tree, the .deb, the kernel and initramfs, the boot, then the
# verdict: the guest's summary line, and the console (a kernel oops, BUG or WARNING, an
# AppArmor denial or a unit systemd reports as failed fails the run).
#
# Environment: GVTG_SRC (the source tree; default: two levels up), GVTG_HOST_CACHE (the
# tree, default /var/cache/gvtg-host), GVTG_VM_CACHE (kernel and sample drivers, shared
# with tests/vm; default GVTG_VM_CACHE_DEFAULT), GVTG_TEST_LOGDIR, GVTG_HOST_TIMEOUT
# (seconds for the boot and the checks, default 900), GVTG_VM_LOCK (a file to flock while
# the kernel cache is filled and the VM runs, when others boot VMs on the same machine).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${GVTG_SRC:-$(cd "$here/../.." && pwd)}
cache=${GVTG_VM_CACHE:-${GVTG_VM_CACHE_DEFAULT:-$PWD/tests/vm/cache}}
host_cache=${GVTG_HOST_CACHE:-/var/cache/gvtg-host}
logdir=${GVTG_TEST_LOGDIR:-$PWD/tests/host/log}
vm_timeout=${GVTG_HOST_TIMEOUT:-900}
start_s=$SECONDS

say() { printf '[%3ds] %s\n' "$((SECONDS - start_s))" "$*"; }
skip() {
	echo "SKIP: $*"
	exit 77
}
die() {
	echo "FAIL: $*"
	echo "0 passed, 1 failed"
	exit 1
}

# ---- what this run needs ------------------------------------------------------------

[[ $EUID -eq 0 ]] || skip "needs root (debootstrap, chroot, QEMU's 9p export of /)"
for tool in qemu-system-x86_64 debootstrap dpkg-buildpackage dh dpkg-deb cpio tar xz \
	make gcc timeout flock chroot git; do
	command -v "$tool" >/dev/null ||
		skip "$tool is missing (see scripts/packages.d/host.list)"
done
if [[ ! -x /bin/busybox ]] || LC_ALL=C ldd /bin/busybox >/dev/null 2>&1; then
	skip "a static /bin/busybox is missing (package busybox-static)"
fi
[[ -f $src/contrib/debian/control ]] || die "$src is not the gvtg-hook source tree"
for p in "$here" "$src" "$cache" "$host_cache" "$logdir"; do
	[[ $p != *[[:space:]]* ]] || skip "path with white space: '$p'"
done
mkdir -p "$cache" "$host_cache" "$logdir"
work=$logdir/work
rm -rf "$work"
mkdir -p "$work"

# ---- the stock Debian 12 tree (cached) -----------------------------------------------

t0=$SECONDS
tree=$("$here/tree.sh" "$host_cache" "$logdir" | tail -n1) ||
	die "building the Debian tree failed (see $logdir/tree-build.log)"
say "Debian tree $tree ($((SECONDS - t0)) s)"

# ---- the package, built fresh from this source tree -----------------------------------

# As contrib/ci-packaging.sh builds it: a copy of the tracked and new files (the build
# writes debian/ and obj-*/ into the tree it builds), contrib/debian as debian/.
t0=$SECONDS
deb_src=$work/src
mkdir -p "$deb_src"
(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$src" && xargs -0 cp -a --parents -t "$deb_src" 2>/dev/null) || true
rm -rf "$deb_src/debian"
cp -a "$src/contrib/debian" "$deb_src/debian"
(cd "$deb_src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	timeout 600 dpkg-buildpackage -us -uc -b) >"$logdir/dpkg-buildpackage.log" 2>&1 ||
	die "dpkg-buildpackage -us -uc -b failed (see $logdir/dpkg-buildpackage.log)"
pkg_deb=$(find "$work" -maxdepth 1 -name 'gvtg-hook_*.deb' | head -n1)
[[ -n $pkg_deb ]] || die "dpkg-buildpackage left no gvtg-hook_*.deb in $work"
rm -rf "$deb_src"
# What the package installs: after a purge none of it may be left.
dpkg-deb -c "$pkg_deb" | awk '{ print $1 " " $6 }' >"$work/deb-contents.txt"
say "built $(basename "$pkg_deb") ($((SECONDS - t0)) s)"
# The previous release's package, for the upgrade (guest-upgrade.sh; cached by commit).
t0=$SECONDS
old_deb=$("$here/old-deb.sh" "$src" "$host_cache" "$logdir") ||
	die "building the previous release's package failed (see $logdir/dpkg-buildpackage-old.log)"
say "previous release $(basename "$old_deb") ($((SECONDS - t0)) s)"

# ---- the kernel, the sample drivers, the initramfs (tests/vm's) ------------------------

lock_fd=
if [[ -n ${GVTG_VM_LOCK:-} ]]; then
	exec {lock_fd}>"$GVTG_VM_LOCK"
	say "waiting for $GVTG_VM_LOCK"
	timeout 1800 flock "$lock_fd" || die "waited 30 min for $GVTG_VM_LOCK"
fi
t0=$SECONDS
vm_init=$here/init.sh
# shellcheck source=tests/vm/kernel.sh
. "$here/../vm/kernel.sh"
say "kernel $abi, sample drivers, initramfs ($((SECONDS - t0)) s)"

# ---- what the guest needs to know (host paths; the guest sees them under /host) ---------

# The guest reads its script from this run's copy: editing the source during a run
# changes nothing under it.
cp "$here/guest.sh" "$here/guest-upgrade.sh" "$work/"
# The Ansible role, README.md's playbook and their checks beside it (ansible.sh).
# shellcheck source=tests/host/ansible.sh
. "$here/ansible.sh"
ansible_prepare "$src" "$work" || die "no playbook in README.md's section 'The Ansible role'"
envfile=$work/guest.env
{
	printf 'DEB=%q\n' "$pkg_deb"
	printf 'DEB_CONTENTS=%q\n' "$work/deb-contents.txt"
	printf 'VM_SAMPLES=%q\n' "$samples"
	printf 'OLD_DEB=%q\n' "$old_deb"
} >"$envfile"

# ---- boot -----------------------------------------------------------------------------

console=$logdir/console.log
results=$logdir/results.log
rm -f "$console" "$results"
say "booting the Debian host (TCG, 2 GiB, bound ${vm_timeout}s); console: $console"
t0=$SECONDS
vm_rc=0
# ttyS0 is the console (kernel, systemd, the checks' details); ttyS1 carries only the
# result lines.  -no-reboot: a reboot or a panic ends QEMU.
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
	-accel tcg -machine pc -m 2048 -smp 2 \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 oops=panic mitigations=off gvtg.tree=$tree gvtg.script=$work/guest.sh gvtg.env=$envfile gvtg.kmods=$kmods gvtg.samples=$samples" \
	-serial "file:$console" -serial "file:$results" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null >"$logdir/qemu.log" 2>&1 || vm_rc=$?
boot_s=$((SECONDS - t0))
[[ -n $lock_fd ]] && exec {lock_fd}>&-
say "VM ended (status $vm_rc, ${boot_s} s)"

# ---- verdict --------------------------------------------------------------------------

passed=0
failed=0
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "PASS: host: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: host: $name"
	fi
}

touch "$console" "$results"
tr -d '\r' <"$results" >"$results.txt"
tr -d '\r' <"$console" >"$console.txt"
grep -E '^(PASS|FAIL|SKIP|INFO): ' "$results.txt" || true

not_timed_out() { [[ $vm_rc -ne 124 && $vm_rc -ne 137 ]]; }
qemu_clean() { [[ $vm_rc -eq 0 ]]; }
oops_re='Oops|BUG:|Kernel panic|general protection fault|WARNING: CPU|Call Trace'
no_oops() { ! grep -E "$oops_re" "$console.txt" >/dev/null; }
denied_re='apparmor="DENIED"'
no_denial() { ! grep -F "$denied_re" "$console.txt" >/dev/null; }
# systemd's own status lines on the console, at boot and at shutdown.
unit_re='\[FAILED\]|\[ TIME \]'
no_failed_unit() { ! grep -E "$unit_re" "$console.txt" >/dev/null; }
summary=$(grep -E '^GUEST-RESULT: [0-9]+ passed, [0-9]+ failed$' "$results.txt" | tail -n1 || true)
has_summary() { [[ -n $summary ]]; }
guest_clean() {
	[[ $summary =~ ^GUEST-RESULT:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] &&
		[[ ${BASH_REMATCH[2]} -eq 0 && ${BASH_REMATCH[1]} -gt 0 ]]
}

check "the VM ended within ${vm_timeout}s" not_timed_out
check "QEMU exited cleanly" qemu_clean
check "no oops, BUG, WARNING or panic on the console" no_oops
check "no AppArmor denial on the console" no_denial
check "systemd reported no failed unit on the console" no_failed_unit
check "the guest printed its summary line (at shutdown)" has_summary
check "every guest check passed (${summary:-no summary})" guest_clean

if ! no_oops; then
	echo "--- kernel trouble on the console:"
	grep -E -B2 -A12 "$oops_re" "$console.txt" | head -n 60 || true
fi
if ! no_denial; then
	echo "--- AppArmor denials:"
	grep -o 'apparmor="DENIED" operation="[^"]*" profile="[^"]*" name="[^"]*"' "$console.txt" |
		sort | uniq -c | head -n 20 || true
fi
if ! no_failed_unit; then
	echo "--- systemd:"
	grep -E "$unit_re" "$console.txt" | head -n 20 || true
fi
if ! has_summary || ! guest_clean; then
	echo "--- last console lines ($console):"
	tail -n 40 "$console.txt"
fi

g_pass=0
g_fail=0
if [[ $summary =~ ^GUEST-RESULT:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	g_pass=${BASH_REMATCH[1]}
	g_fail=${BASH_REMATCH[2]}
fi
say "done"
echo "$((passed + g_pass)) passed, $((failed + g_fail)) failed"
[[ $failed -eq 0 && $g_fail -eq 0 ]]
