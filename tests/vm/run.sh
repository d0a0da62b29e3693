#!/bin/bash
# SPDX-License-Identifier: MIT
# Real-stack tier 2: boot Debian's kernel under QEMU (TCG) with the kernel's sample mdev
# drivers (mtty, mdpy, mbochs) and run tests/vm/guest.sh inside it.  The guest sees the
# host's root read-only over 9p under a tmpfs overlay, so the built binaries run there
# as they are and nothing the guest writes (libvirt's configuration, hooks, records)
# reaches the host.
#
# Host side, in order: find the kernel ABI, get the image (apt-get download) and the
# headers, build the sample drivers, pack a busybox initramfs, boot, then judge the
# guest's summary line and the console (an oops, BUG or panic fails the run).
# Everything downloaded or built is cached under $GVTG_VM_CACHE.
#
# Environment: GVTG_HOOK, MDEV_PROBE (required), GVTGCTL (optional), GVTG_VM_CACHE,
# GVTG_TEST_LOGDIR, GVTG_VM_TIMEOUT (seconds for the whole VM run, default 780).
# For the udev rule's check (all optional; without them the guest skips it):
# GVTG_UDEV_RULE (the generated 85-gvtg-hook.rules), GVTG_RULE_GVTGCTL (the gvtgctl path
# written into it), GVTG_CONFIG_FILE (the configuration file gvtgctl was built to read).
# For the run under a confined libvirtd (optional): GVTG_HOOK_DIR (where the hook looks for
# its core module), GVTG_AA_PROFILE (the hook's AppArmor profile for /usr/sbin/gvtg-hook).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GVTG_VM_CACHE:-$PWD/tests/vm/cache}
logdir=${GVTG_TEST_LOGDIR:-$PWD/tests/vm/log}
vm_timeout=${GVTG_VM_TIMEOUT:-780}
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

# Root: QEMU's 9p server must read every file of the host's root for the guest.
[[ $EUID -eq 0 ]] || skip "needs root"
for tool in qemu-system-x86_64 cpio tar xz dpkg-deb make gcc timeout; do
	command -v "$tool" >/dev/null || skip "$tool is missing (see scripts/packages.d/vm.list)"
done
# The initramfs has no libraries: only the static busybox will do.
if [[ ! -x /bin/busybox ]] || LC_ALL=C ldd /bin/busybox >/dev/null 2>&1; then
	skip "a static /bin/busybox is missing (package busybox-static)"
fi
src_tar=/usr/src/linux-source-6.1.tar.xz
[[ -r $src_tar ]] || skip "$src_tar is missing (package linux-source-6.1)"
for var in GVTG_HOOK MDEV_PROBE; do
	[[ -n ${!var:-} && -x ${!var} ]] || die "$var does not name a built program; run through meson test"
done
gvtgctl=${GVTGCTL:-}
[[ -n $gvtgctl && ! -x $gvtgctl ]] && gvtgctl=
udev_rule=${GVTG_UDEV_RULE:-}
[[ -n $udev_rule && ! -r $udev_rule ]] && udev_rule=

# The paths travel on the kernel command line: no spaces allowed there.
for p in "$here" "$cache" "$GVTG_HOOK" "$MDEV_PROBE" "$gvtgctl"; do
	[[ $p != *[[:space:]]* ]] || skip "path with white space: '$p'"
done

mkdir -p "$cache" "$logdir"
work=$logdir/work
rm -rf "$work"
mkdir -p "$work"

# The kernel, the sample drivers and the initramfs (shared with tests/host).
vm_init=$here/initramfs-init.sh
# shellcheck source=tests/vm/kernel.sh
. "$here/kernel.sh"

# ---- what the guest needs to know -----------------------------------------------------

envfile=$work/guest.env
{
	printf 'GVTG_HOOK=%q\n' "$GVTG_HOOK"
	printf 'MDEV_PROBE=%q\n' "$MDEV_PROBE"
	printf 'GVTGCTL=%q\n' "$gvtgctl"
	printf 'GVTG_UDEV_RULE=%q\n' "$udev_rule"
	printf 'GVTG_RULE_GVTGCTL=%q\n' "${GVTG_RULE_GVTGCTL:-}"
	printf 'GVTG_CONFIG_FILE=%q\n' "${GVTG_CONFIG_FILE:-}"
	printf 'GVTG_HOOK_DIR=%q\n' "${GVTG_HOOK_DIR:-}"
	printf 'GVTG_AA_PROFILE=%q\n' "${GVTG_AA_PROFILE:-}"
	printf 'VM_KMODS=%q\n' "$kmods"
	printf 'VM_SAMPLES=%q\n' "$samples"
} >"$envfile"

# ---- boot -----------------------------------------------------------------------------

console=$logdir/console.log
results=$logdir/results.log
rm -f "$console" "$results"
say "booting the VM (TCG, 2 GiB, bound ${vm_timeout}s); console: $console"
vm_rc=0
# -no-reboot: the guest's final reboot, and the reboot after a panic (panic=-1), end
# QEMU.  ttyS0 is the console (kernel and script), ttyS1 carries only the result lines.
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
	-accel tcg -machine pc -m 2048 -smp 2 \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 oops=panic mitigations=off gvtg.script=$here/guest.sh gvtg.env=$envfile" \
	-serial "file:$console" -serial "file:$results" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null >"$logdir/qemu.log" 2>&1 || vm_rc=$?
say "VM ended (status $vm_rc)"

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
grep -E '^(PASS|FAIL|SKIP): ' "$results.txt" || true

not_timed_out() { [[ $vm_rc -ne 124 && $vm_rc -ne 137 ]]; }
qemu_clean() { [[ $vm_rc -eq 0 ]]; }
# The guest also dumps its dmesg into the console before it ends, so this sees
# everything the kernel said, whatever the loglevel.
oops_re='Oops|BUG:|Kernel panic|general protection fault|WARNING: CPU|Call Trace'
no_oops() { ! grep -E "$oops_re" "$console.txt" >/dev/null; }
summary=$(grep -E '^GUEST-RESULT: [0-9]+ passed, [0-9]+ failed$' "$results.txt" | tail -n1 || true)
has_summary() { [[ -n $summary ]]; }
guest_clean() {
	[[ $summary =~ ^GUEST-RESULT:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] &&
		[[ ${BASH_REMATCH[2]} -eq 0 && ${BASH_REMATCH[1]} -gt 0 ]]
}

check "the VM ended within ${vm_timeout}s" not_timed_out
check "QEMU exited cleanly" qemu_clean
check "no oops, BUG, WARNING or panic on the console" no_oops
check "the guest printed its summary line" has_summary
check "every guest check passed (${summary:-no summary})" guest_clean

if ! no_oops; then
	echo "--- kernel trouble on the console:"
	grep -E -B2 -A12 "$oops_re" "$console.txt" | head -n 60
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
[[ $failed -eq 0 ]]
