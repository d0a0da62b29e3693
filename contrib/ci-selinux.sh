#!/bin/bash
# SPDX-License-Identifier: MIT
# The SELinux module against Debian's reference policy, run by CI (root, Debian, with
# scripts/packages.d/selinux.list installed).  The module is built from contrib/selinux
# and loaded into a COPY of the machine's policy store (semodule -p), never into the
# store itself: nothing of this machine's SELinux state changes, and SELinux need not be
# enabled.  Then the copy's file contexts (matchpathcon) and its compiled policy
# (sesearch) must show what the module promises:
#   - both hook paths /usr/sbin/gvtg-hook and /usr/bin/gvtg-hook are gvtg_hook_exec_t;
#   - virtd_t (and virtqemud_t where the policy defines it) executes them and enters
#     gvtg_hook_t; the daemon's copy in /etc/libvirt/hooks/qemu.d is refused (refpolicy);
#   - systemd-tmpfiles creates /run/gvtg-hook (gvtg_hook_runtime_t) without a boolean;
#   - the hook writes sysfs, logs to syslog, manages its records, reads its configuration
#     and the mdevctl definitions (etc_t, etc_runtime_t, mdevctl_conf_t where defined), runs
#     mdevctl (bin_t) in its own domain with what mdevctl asks of it.
# Exit status: 0 all passed, 1 a check failed, 77 not root or a tool or the policy is missing.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
store=${GVTG_SELINUX_STORE:-default}
npass=0
nfail=0
pass() {
	echo "PASS: $*"
	npass=$((npass + 1))
}
fail() {
	echo "FAIL: $*"
	nfail=$((nfail + 1))
}
show() { sed -e 's/^/    | /' "$1" | tail -n "${2:-30}"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: contrib/ci-selinux.sh copies the policy store: run it as root"
	exit 77
fi
for tool in make checkmodule semodule_package semodule matchpathcon sesearch seinfo timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: '$tool' is missing: apt-get install the packages in" \
			"scripts/packages.d/selinux.list"
		exit 77
	fi
done
if [ ! -f /usr/share/selinux/devel/Makefile ] || [ ! -d "/var/lib/selinux/$store" ] ||
	[ ! -d "/etc/selinux/$store" ]; then
	echo "SKIP: no policy store '$store' or no policy headers: apt-get install the" \
		"packages in scripts/packages.d/selinux.list"
	exit 77
fi

work=$(mktemp -d /tmp/gvtg-selinux.XXXXXX)
trap 'rm -rf "$work"' EXIT
alt=$work/root

# ---- build, and load into the copy ------------------------------------------------------
mkdir -p "$work/module"
cp "$src"/contrib/selinux/gvtg_hook.{te,if,fc} "$work/module/"
if ! timeout 300 make -C "$work/module" -f /usr/share/selinux/devel/Makefile gvtg_hook.pp \
	>"$work/make.log" 2>&1 || [ ! -s "$work/module/gvtg_hook.pp" ]; then
	fail "the module does not build:"
	show "$work/make.log"
	exit 1
fi
pass "gvtg_hook.pp builds against the policy headers"

mkdir -p "$alt/etc/selinux" "$alt/var/lib/selinux"
cp -a "/etc/selinux/$store" "$alt/etc/selinux/"
cp -a /etc/selinux/semanage.conf "$alt/etc/selinux/" 2>/dev/null || true
cp -a "/var/lib/selinux/$store" "$alt/var/lib/selinux/"
fc=$alt/etc/selinux/$store/contexts/files/file_contexts
# The state of the machine's own store, to prove afterwards that it did not change.
machine_state() {
	find "/etc/selinux" "/var/lib/selinux" -printf '%p %s %T@\n' 2>/dev/null | sort | md5sum
}
before=$(machine_state)

# label FILE_CONTEXTS PATH: the type the file contexts give PATH.
label() { matchpathcon -f "$1" "$2" 2>/dev/null | awk '{ print $2 }' | cut -d: -f3; }
# Without the module the hook is an ordinary program: the label check below can fail.
if [ "$(label "$fc" /usr/sbin/gvtg-hook)" = bin_t ]; then
	pass "before the module /usr/sbin/gvtg-hook is bin_t (the policy's /usr/sbin(/.*)?)"
else
	fail "before the module /usr/sbin/gvtg-hook is '$(label "$fc" /usr/sbin/gvtg-hook)', not bin_t"
fi

t0=$SECONDS
if timeout 300 semodule -p "$alt" -s "$store" -i "$work/module/gvtg_hook.pp" \
	>"$work/semodule.log" 2>&1 &&
	timeout 60 semodule -p "$alt" -s "$store" -l 2>/dev/null | grep -q '^gvtg_hook\b'; then
	pass "semodule -p COPY -i gvtg_hook.pp loads the module ($((SECONDS - t0)) s)"
else
	fail "semodule -p COPY -i gvtg_hook.pp:"
	show "$work/semodule.log"
	exit 1
fi
policy=$(find "$alt/etc/selinux/$store/policy" -name 'policy.[0-9]*' | sort -V | tail -n 1)

# ---- file contexts ---------------------------------------------------------------------
expect_label() {
	local path=$1 want=$2 got
	got=$(label "$fc" "$path")
	if [ "$got" = "$want" ]; then
		pass "$path is labelled $want"
	else
		fail "$path is labelled '${got:-nothing}', not $want"
	fi
}
expect_label /usr/sbin/gvtg-hook gvtg_hook_exec_t
expect_label /usr/bin/gvtg-hook gvtg_hook_exec_t
expect_label /usr/libexec/gvtg-hook/gvtg-hook-core.so lib_t
expect_label /run/gvtg-hook gvtg_hook_runtime_t
expect_label /run/gvtg-hook/lock gvtg_hook_runtime_t
expect_label /usr/bin/mdevctl bin_t
expect_label /usr/sbin/mdevctl bin_t
hooks_dir_label=$(label "$fc" /etc/libvirt/hooks/qemu.d/50-gvtg-hook)

# ---- the compiled policy ---------------------------------------------------------------
defined() { seinfo -t "$1" "$policy" 2>/dev/null | grep -q "^ *$1\$"; }
# rule SOURCE TARGET CLASS PERM: an allow rule grants it, not under a boolean.
rule() {
	sesearch -A -s "$1" -t "$2" -c "$3" -p "$4" "$policy" 2>/dev/null | grep -v '\]:' |
		grep -q '^allow '
}
expect_allow() {
	if rule "$@"; then
		pass "allow $1 $2:$3 $4"
	else
		fail "no unconditional rule allows $1 $2:$3 $4"
	fi
}
expect_deny() {
	if rule "$@"; then
		fail "the policy allows $1 $2:$3 $4"
	else
		pass "no rule allows $1 $2:$3 $4"
	fi
}
expect_transition() {
	local daemon=$1
	if sesearch -T -s "$daemon" -t gvtg_hook_exec_t -c process "$policy" 2>/dev/null |
		grep -q "^type_transition $daemon gvtg_hook_exec_t:process gvtg_hook_t;"; then
		pass "type_transition $daemon gvtg_hook_exec_t:process gvtg_hook_t"
	else
		fail "$daemon does not enter gvtg_hook_t when it executes the hook"
	fi
	expect_allow "$daemon" gvtg_hook_exec_t file execute
	expect_allow "$daemon" gvtg_hook_t process transition
	expect_allow gvtg_hook_t "$daemon" fd use
	expect_allow gvtg_hook_t "$daemon" fifo_file write
}
expect_allow gvtg_hook_t gvtg_hook_exec_t file entrypoint
expect_transition virtd_t
if defined virtqemud_t; then
	expect_transition virtqemud_t
else
	echo "INFO: this policy has no virtqemud_t (the module's block for it compiled away)"
fi
# The reference policy's virtd_t may not execute a copy of the hook in qemu.d: the
# hooks_dir layout is refused there (gvtgctl check says so).
if [ -n "$hooks_dir_label" ]; then
	expect_deny virtd_t "$hooks_dir_label" file execute
fi

# systemd-tmpfiles makes /run/gvtg-hook from the tmpfiles.d entry, labelled by the file
# contexts, with systemd_tmpfiles_manage_all off (its default).
expect_allow systemd_tmpfiles_t gvtg_hook_runtime_t dir create
expect_allow systemd_tmpfiles_t gvtg_hook_runtime_t dir setattr
expect_allow systemd_tmpfiles_t var_run_t dir add_name

# The hook itself: its state directory, the mdev sysfs interface, syslog, its
# configuration and the definitions.
expect_allow gvtg_hook_t var_run_t dir add_name
if sesearch -T -s gvtg_hook_t -t var_run_t -c dir "$policy" 2>/dev/null |
	grep -qE 'gvtg_hook_runtime_t "?gvtg-hook"?;'; then
	pass "the hook's own /run/gvtg-hook is gvtg_hook_runtime_t (named type_transition)"
else
	fail "no type_transition gvtg_hook_t var_run_t:dir gvtg_hook_runtime_t \"gvtg-hook\""
fi
expect_allow gvtg_hook_t gvtg_hook_runtime_t dir create
expect_allow gvtg_hook_t gvtg_hook_runtime_t file create
expect_allow gvtg_hook_t gvtg_hook_runtime_t file lock
expect_allow gvtg_hook_t gvtg_hook_runtime_t file rename
expect_allow gvtg_hook_t gvtg_hook_runtime_t file unlink
expect_allow gvtg_hook_t sysfs_t file write
expect_allow gvtg_hook_t sysfs_t lnk_file read
expect_allow gvtg_hook_t devlog_t sock_file write
expect_allow gvtg_hook_t gvtg_hook_t unix_dgram_socket connect
expect_allow gvtg_hook_t etc_t file read
expect_allow gvtg_hook_t etc_runtime_t file read
expect_allow gvtg_hook_t etc_runtime_t dir read
if defined mdevctl_conf_t; then
	expect_allow gvtg_hook_t mdevctl_conf_t file read
	expect_allow gvtg_hook_t mdevctl_conf_t dir read
else
	echo "INFO: this policy has no mdevctl_conf_t (the module's block for it compiled away)"
fi
# mdevctl, run by the hook in the hook's domain, and the hook's process group and timeout.
expect_allow gvtg_hook_t bin_t file execute_no_trans
expect_allow gvtg_hook_t gvtg_hook_t process setpgid
expect_allow gvtg_hook_t gvtg_hook_t process sigkill
expect_allow gvtg_hook_t gvtg_hook_t process getsched
expect_allow gvtg_hook_t sysfs_t dir write

if [ "$(machine_state)" = "$before" ]; then
	pass "this machine's own /etc/selinux and /var/lib/selinux did not change"
else
	fail "this machine's /etc/selinux or /var/lib/selinux changed during the check"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
