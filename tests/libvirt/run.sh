#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The hook under the real libvirt daemon of this machine: start virtlogd and libvirtd by
# hand (no systemd needed), register the built hook the way `meson install` does, and
# check what libvirt actually does with it:
#   - a plain domain starts, stops, saves and restores; every hook call exits 0 and prints
#     nothing (on `restore begin` any output would replace the domain XML);
#   - a domain with an mdev hostdev on a host without mdev parents fails to start with
#     the hook's own one-line explanation in virsh's error, and leaves no record behind;
#   - a daemon restart while a domain runs keeps it running (`reconnect begin` exits 0);
#   - the same plain and mdev domains again with the hook as `meson install --destdir`
#     lays it out, its executable copied as a plain hooks/qemu file (qemu.d empty or
#     absent) and its module only in the compiled install directory (GVTG_HOOK_DIR).
# Everything the run adds to the machine is removed again in an EXIT trap.
#
# Environment: GVTG_HOOK (the built hook/gvtg-hook, required), GVTG_TEST_LOGDIR (where
# the daemon logs, domain XML and virsh output go; default: tests/libvirt/logs beside
# the hook's build directory).  Exit 77 when not root or libvirt/QEMU are missing.
set -euo pipefail

SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH="$SYS_PATH:$PATH"
export LC_ALL=C
URI=qemu:///system
HOOKS_DIR=/etc/libvirt/hooks
QEMU_D=$HOOKS_DIR/qemu.d
HOOK_LINK=$QEMU_D/50-gvtg-hook
STATE_DIR=/run/gvtg-hook
# An UUID no real host uses: written in this file only.
MDEV_UUID=4f1c7a52-6e0b-4d1e-9b7a-3c2d5e8f9a10

skip() {
	echo "SKIP: $*"
	exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (starts the system libvirt daemon)"
for prog in libvirtd virtlogd virsh qemu-system-x86_64; do
	command -v "$prog" >/dev/null 2>&1 ||
		skip "$prog not found (Debian: libvirt-daemon-system libvirt-clients qemu-system-x86)"
done

if [[ -z ${GVTG_HOOK:-} || ! -x ${GVTG_HOOK:-} ]]; then
	echo "FAIL: GVTG_HOOK must name the built hook executable (got '${GVTG_HOOK:-}')"
	exit 1
fi
HOOK_REAL=$(readlink -f "$GVTG_HOOK")
if [[ ! -f $(dirname "$HOOK_REAL")/gvtg-hook-core.so ]]; then
	echo "FAIL: gvtg-hook-core.so is not beside $HOOK_REAL: build the hook_core target"
	exit 1
fi
# Hermetic: whatever this machine has installed (README's first command puts a hook in
# $QEMU_D and a module in the hook's compiled install directory), the run sees only what
# it puts there itself.  It goes on in a mount namespace of its own, which the daemons it
# starts inherit, with an empty tmpfs over each of those directories that exists; the
# machine's files are not touched.
if [[ -z ${GVTG_LIBVIRT_PRIVATE:-} ]]; then
	command -v unshare >/dev/null 2>&1 || skip "unshare not found (util-linux)"
	exec env GVTG_LIBVIRT_PRIVATE=1 unshare --mount --propagation private -- "$0" "$@"
fi
PRIVATE_CORE_DIR=$(sed -n 's/^#define GVTG_HOOK_DIR "\(.*\)"$/\1/p' \
	"$(dirname "$HOOK_REAL")/../config.h" 2>/dev/null)
for d in "$HOOKS_DIR" "$PRIVATE_CORE_DIR"; do
	if [[ -n $d && -d $d ]] && ! mount -t tmpfs -o mode=0755 gvtg-test "$d"; then
		echo "FAIL: cannot put a private tmpfs over $d"
		exit 1
	fi
done
LOGDIR=${GVTG_TEST_LOGDIR:-$(dirname "$HOOK_REAL")/../tests/libvirt/logs}
mkdir -p "$LOGDIR"
LOGDIR=$(cd "$LOGDIR" && pwd)
# Only what this script writes there, so a wrong GVTG_TEST_LOGDIR cannot cost anything.
rm -f "$LOGDIR"/libvirtd-*.log "$LOGDIR"/libvirtd-*.log.stderr "$LOGDIR"/virtlogd.log \
	"$LOGDIR"/*.diff "$LOGDIR"/*.pid "$LOGDIR"/*.xml \
	"$LOGDIR"/*.out "$LOGDIR"/save.img "$LOGDIR"/cleanup.log

PLAIN=gvtg-test-plain-$$
MDEV=gvtg-test-mdev-$$
RESTART=gvtg-test-restart-$$
PLAIN2=gvtg-test-plain-copy-$$
MDEV2=gvtg-test-mdev-copy-$$
# The hook file libvirt runs (as named in its log): the qemu.d link, later the copy.
HOOK_RUN=$HOOK_LINK
HOOK_COPY=$HOOKS_DIR/qemu
INSTALLED_COPY=0
DESTDIR_TMP=
CORE_INSTALLED=
CREATED_CORE_DIR=
LABEL=
LIBVIRTD_PIDFILE=$LOGDIR/libvirtd.pid
VIRTLOGD_PIDFILE=$LOGDIR/virtlogd.pid
LIBVIRTD_PID=
VIRTLOGD_PID=
LIBVIRTD_LOG=
ERR=
DAEMON_STARTS=0
NPASS=0
NFAIL=0
CREATED_HOOKS_DIR=0
CREATED_QEMU_D=0
INSTALLED_LINK=0
HAD_RUN_LIBVIRT=0
HAD_STATE_DIR=0
[[ -e /run/libvirt ]] && HAD_RUN_LIBVIRT=1
[[ -e $STATE_DIR ]] && HAD_STATE_DIR=1
T_START=$(date +%s)
# The steps stop at this point of $SECONDS, so that the cleanup still fits in meson's
# 300 s (at its timeout meson sends SIGTERM and, half a second later, SIGKILL).
DEADLINE=$((SECONDS + 200))

pass() {
	NPASS=$((NPASS + 1))
	echo "ok: $LABEL$*"
}

fail() {
	NFAIL=$((NFAIL + 1))
	echo "FAIL: $LABEL$*"
}

# A command with a time bound, run in the background and waited for: bash runs a trap only
# once the foreground command is done, and meson's SIGKILL follows its SIGTERM quickly.
CHILD=
bounded() {
	local secs=$1 rc=0
	shift
	timeout -k 2 "$secs" "$@" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=
	return "$rc"
}

# virsh with a time bound; output in $LOGDIR/<tag>.out, echoed on failure by the callers.
vsh() {
	local tag=$1 left=$((DEADLINE - SECONDS))
	shift
	if ((left < 1)); then
		echo "not run: the test's time budget is spent" >"$LOGDIR/$tag.out"
		return 124
	fi
	bounded $((left < 60 ? left : 60)) virsh -c "$URI" "$@" >"$LOGDIR/$tag.out" 2>&1
}

# Run a virsh step that must succeed; one FAIL line with virsh's own words otherwise.
must() {
	local tag=$1
	shift
	local rc=0
	vsh "$tag" "$@" || rc=$?
	((rc == 0)) && return 0
	fail "virsh $* (exit $rc): $(tr '\n' ' ' <"$LOGDIR/$tag.out")"
	return 1
}

alive() {
	local st
	st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# Processes named $1 that are not zombies (a stopped daemon lingers as one here).
live_pids() {
	ps -e -o pid=,stat=,comm= | awk -v n="$1" '$3 == n && $2 !~ /^Z/ { print $1 }'
}

# SIGTERM, a bounded wait, then SIGKILL; then wait until its POSIX locks are gone, since a
# new libvirtd fails on the network driver's pid-file lock while the old one holds it.
stop_pid() {
	local pid=$1 name=$2 i
	[[ -n $pid ]] || return 0
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "note: $name ($pid) ignored SIGTERM for 15 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
	fi
	for ((i = 0; i < 100; i++)); do
		awk -v p="$pid" '$5 == p { f = 1 } END { exit !f }' /proc/locks || return 0
		sleep 0.1
	done
	echo "note: $name ($pid) still holds file locks after 10 s"
}

wait_pidfile() {
	local f=$1 i
	for ((i = 0; i < 100; i++)); do
		if [[ -s $f ]] && alive "$(<"$f")"; then
			cat "$f"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

start_virtlogd() {
	env -i PATH="$SYS_PATH" virtlogd -d -p "$VIRTLOGD_PIDFILE" \
		>"$LOGDIR/virtlogd.log" 2>&1 || return 1
	VIRTLOGD_PID=$(wait_pidfile "$VIRTLOGD_PIDFILE") || return 1
}

# Each start logs to its own file, so a check can tell which daemon did what.  On failure
# the reason is in ERR (called in this shell, not in $(...), to keep LIBVIRTD_PID).
start_libvirtd() {
	local i
	DAEMON_STARTS=$((DAEMON_STARTS + 1))
	LIBVIRTD_LOG=$LOGDIR/libvirtd-$DAEMON_STARTS.log
	rm -f "$LIBVIRTD_PIDFILE"
	if ! bounded 60 env -i PATH="$SYS_PATH" \
		LIBVIRT_LOG_OUTPUTS="1:file:$LIBVIRTD_LOG" \
		LIBVIRT_LOG_FILTERS="1:util.hook 1:util.command" \
		libvirtd -d -p "$LIBVIRTD_PIDFILE" >>"$LIBVIRTD_LOG.stderr" 2>&1; then
		ERR="libvirtd -d failed: $(tr '\n' ' ' <"$LIBVIRTD_LOG.stderr")"
		return 1
	fi
	if ! LIBVIRTD_PID=$(wait_pidfile "$LIBVIRTD_PIDFILE"); then
		ERR="libvirtd wrote no pid file $LIBVIRTD_PIDFILE within 10 s"
		return 1
	fi
	for ((i = 0; i < 300; i++)); do
		bounded 5 virsh -c "$URI" version >/dev/null 2>&1 && return 0
		alive "$LIBVIRTD_PID" || break
		sleep 0.1
	done
	ERR="libvirtd ($LIBVIRTD_PID) did not answer 'virsh version' within 30 s"
	return 1
}

restart_libvirtd() {
	stop_pid "$LIBVIRTD_PID" libvirtd
	LIBVIRTD_PID=
	start_libvirtd
}

# The hook calls for domain $2 in libvirtd log $1, one per line:
#   <op> <sub-op> <exit status> stdout:<text> stderr:<text>
# libvirt logs "About to run ... <hook> <dom> <op> <sub> <extra>" and later, from the same
# thread, "Result status N, stdout: '...' stderr: '...'" (stderr may span lines; only its
# first line is kept).  That N reads 0 even for a failed hook: the real exit status comes
# from virCommandWait's "unexpected exit status N" error line before it.
hook_calls() {
	awk -v link="$HOOK_RUN" -v dom="$2" '
	/virCommandRunAsync:.* About to run / {
		n = split($0, w, " ")
		for (i = 1; i <= n; i++)
			if (w[i] == link && w[i + 1] == dom)
				pending[$3] = w[i + 2] " " w[i + 3]
		next
	}
	/ error : virCommandWait:.* unexpected exit status / && ($3 in pending) {
		code = $0
		sub(/.* unexpected exit status /, "", code)
		sub(/:.*/, "", code)
		failed[$3] = code
		next
	}
	/virCommandRun:.* Result status / && ($3 in pending) {
		line = $0
		sub(/.* Result status /, "", line)
		st = line; sub(/,.*/, "", st)
		out = line; sub(/^[^\x27]*\x27/, "", out); sub(/\x27 stderr: .*/, "", out)
		err = line; sub(/.* stderr: \x27/, "", err); sub(/\x27$/, "", err)
		if ($3 in failed)
			st = failed[$3]
		print pending[$3], st, "stdout:" out, "stderr:" err
		delete pending[$3]
		delete failed[$3]
	}' "$1"
}

domain_xml() {
	local name=$1 extra=${2:-}
	cat <<-EOF
		<domain type='qemu'>
		  <name>$name</name>
		  <memory unit='MiB'>64</memory>
		  <vcpu>1</vcpu>
		  <os><type arch='x86_64' machine='pc'>hvm</type></os>
		  <on_poweroff>destroy</on_poweroff>
		  <devices>
		    <emulator>$(command -v qemu-system-x86_64)</emulator>
		    <memballoon model='none'/>$extra
		  </devices>
		</domain>
	EOF
}

dom_state() {
	bounded 10 virsh -c "$URI" domstate "$1" >"$LOGDIR/domstate.out" 2>&1
	head -n 1 "$LOGDIR/domstate.out"
}

# Kill a test domain's QEMU by its PID when no daemon is left to do it.
# shellcheck disable=SC2317  # called from the EXIT trap
kill_orphan_qemu() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == qemu-system-* ]] || continue
		if { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -q -- "guest=$1,"; then
			echo "note: killing QEMU $pid of $1 (no daemon to destroy it)"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
	local rc=$? dom
	set +e
	for dom in "$PLAIN" "$MDEV" "$RESTART" "$PLAIN2" "$MDEV2"; do
		if [[ -n $LIBVIRTD_PID ]] && alive "$LIBVIRTD_PID"; then
			timeout -k 2 30 virsh -c "$URI" destroy "$dom" >/dev/null 2>&1
			timeout -k 2 30 virsh -c "$URI" undefine "$dom" >/dev/null 2>&1
		fi
		kill_orphan_qemu "$dom"
		rm -f "/etc/libvirt/qemu/$dom.xml" "/var/log/libvirt/qemu/$dom.log" \
			"/run/libvirt/qemu/$dom.xml" "/run/libvirt/qemu/$dom.pid"
	done
	rm -f "$LOGDIR/save.img"
	if ((INSTALLED_LINK)) && [[ $(readlink "$HOOK_LINK") == "$GVTG_HOOK" ]]; then
		rm -f "$HOOK_LINK"
	fi
	if ((INSTALLED_COPY)) && [[ -n $DESTDIR_TMP ]] &&
		cmp -s "$HOOK_COPY" "$GVTG_HOOK"; then
		rm -f "$HOOK_COPY"
	fi
	[[ -n $CORE_INSTALLED ]] && rm -f "$CORE_INSTALLED"
	[[ -n $CREATED_CORE_DIR ]] && rm -rf "$CREATED_CORE_DIR"
	[[ $DESTDIR_TMP == /tmp/gvtg-destdir.* ]] && rm -rf "$DESTDIR_TMP"
	((CREATED_QEMU_D)) && rmdir "$QEMU_D" 2>/dev/null
	((CREATED_HOOKS_DIR)) && rmdir "$HOOKS_DIR" 2>/dev/null
	stop_pid "$LIBVIRTD_PID" libvirtd
	stop_pid "$VIRTLOGD_PID" virtlogd
	# Runtime directories that only our daemons and our hook created.
	if ((!HAD_RUN_LIBVIRT)) && [[ -n $VIRTLOGD_PID ]] &&
		[[ -z $(live_pids libvirtd) && -z $(live_pids virtlogd) ]]; then
		rm -rf /run/libvirt
	fi
	if ((!HAD_STATE_DIR)) && [[ -d $STATE_DIR ]] &&
		[[ -z $(find "$STATE_DIR" -mindepth 1 ! -name lock -print -quit) ]]; then
		rm -rf "$STATE_DIR"
	fi
	if ((NFAIL > 0 || rc != 0)); then
		echo "logs kept in $LOGDIR"
	fi
	exit "$rc"
}

finish() {
	echo "wall time: $(($(date +%s) - T_START)) s"
	echo "$NPASS passed, $NFAIL failed"
	((NFAIL == 0)) && exit 0
	exit 1
}

# ---- 1. daemons ----------------------------------------------------------------------
step_daemons() {
	local p t0=$SECONDS
	for p in libvirtd virtqemud virtlogd; do
		if [[ -n $(live_pids "$p") ]]; then
			fail "a $p is already running (pid $(live_pids "$p" | xargs));" \
				"this test starts its own daemons and stops no foreign one: stop it first"
			return 1
		fi
	done
	if ! start_virtlogd; then
		fail "virtlogd did not start: $(tr '\n' ' ' <"$LOGDIR/virtlogd.log")"
		return 1
	fi
	if ! start_libvirtd; then
		fail "$ERR (log: $LIBVIRTD_LOG)"
		return 1
	fi
	pass "virtlogd ($VIRTLOGD_PID) and libvirtd ($LIBVIRTD_PID) answer" \
		"after $((SECONDS - t0)) s"
}

# ---- 2. the hook, registered as `meson install` does ---------------------------------
step_install() {
	if [[ -e $HOOK_LINK || -L $HOOK_LINK ]]; then
		fail "$HOOK_LINK already exists (-> $(readlink "$HOOK_LINK" || echo 'a file'));" \
			"not replacing it: remove it first"
		return 1
	fi
	if [[ ! -d $HOOKS_DIR ]]; then
		mkdir "$HOOKS_DIR" || return 1
		CREATED_HOOKS_DIR=1
	fi
	if [[ ! -d $QEMU_D ]]; then
		mkdir "$QEMU_D" || return 1
		CREATED_QEMU_D=1
	fi
	if ! ln -s "$GVTG_HOOK" "$HOOK_LINK"; then
		fail "cannot create the symlink $HOOK_LINK"
		return 1
	fi
	INSTALLED_LINK=1
	# libvirt looks for hooks only when it starts.
	if ! restart_libvirtd; then
		fail "libvirtd did not come back after installing the hook: $ERR"
		return 1
	fi
	if ! grep -q "Found hook script $HOOK_LINK\$" "$LIBVIRTD_LOG"; then
		fail "the restarted libvirtd did not log 'Found hook script $HOOK_LINK'" \
			"(see $LIBVIRTD_LOG)"
		return 1
	fi
	pass "$HOOK_LINK -> $GVTG_HOOK found by the restarted libvirtd ($LIBVIRTD_PID)"
}

# Each of "<op> <sub-op>:<count>" must appear exactly count times in the calls file $1.
expect_calls() {
	local file=$1 what=$2 spec call want got ok=1
	shift 2
	for spec in "$@"; do
		call=${spec%:*}
		want=${spec##*:}
		got=$(grep -c "^$call " "$file" || true)
		if [[ $got != "$want" ]]; then
			fail "$what: libvirt called the hook with '$call' $got times, expected $want" \
				"(calls: $file)"
			ok=0
		fi
	done
	((ok))
}

# ---- 3. a plain domain: every operation passes through the hook untouched ------------
step_plain() {
	local xml=$LOGDIR/$PLAIN.xml calls=$LOGDIR/plain-hook-calls.out st
	domain_xml "$PLAIN" >"$xml"
	must plain-define define "$xml" || return 1
	must plain-start-1 start "$PLAIN" || return 1
	must plain-destroy-1 destroy "$PLAIN" || return 1
	must plain-start-2 start "$PLAIN" || return 1
	must plain-dumpxml-before dumpxml "$PLAIN" || return 1
	must plain-save save "$PLAIN" "$LOGDIR/save.img" || return 1
	must plain-restore restore "$LOGDIR/save.img" || return 1
	rm -f "$LOGDIR/save.img"
	must plain-dumpxml-after dumpxml "$PLAIN" || return 1
	st=$(dom_state "$PLAIN")
	[[ $st == running ]] || fail "$PLAIN is '$st' after restore, expected running"
	must plain-destroy-2 destroy "$PLAIN" || return 1
	must plain-undefine undefine "$PLAIN" || return 1
	pass "plain domain: define, start, destroy, start, save, restore, destroy, undefine"

	# libvirt takes a restore hook's stdout as the new domain XML: unchanged XML shows
	# the hook printed nothing.
	if diff <(sed "1s/ id='[0-9]*'//" "$LOGDIR/plain-dumpxml-before.out") \
		<(sed "1s/ id='[0-9]*'//" "$LOGDIR/plain-dumpxml-after.out") \
		>"$LOGDIR/plain-xml.diff"; then
		pass "domain XML after restore equals the XML before save (id aside)"
	else
		fail "domain XML changed across save/restore: $LOGDIR/plain-xml.diff"
	fi

	hook_calls "$LIBVIRTD_LOG" "$PLAIN" >"$calls"
	# start x2 + restore; destroy x2 + save.
	if expect_calls "$calls" "plain domain" "prepare begin:3" "start begin:3" \
		"started begin:3" "stopped end:3" "release end:3" "restore begin:1"; then
		pass "hook called for prepare/start/started/stopped/release/restore" \
			"($(wc -l <"$calls") calls)"
	fi
	local bad
	bad=$(grep -v " 0 stdout: stderr:\$" "$calls" || true)
	if [[ -z $bad ]]; then
		pass "every hook call for the plain domain exited 0 with empty stdout and stderr"
	else
		fail "hook calls with output or a non-zero status: $(tr '\n' ';' <<<"$bad")"
	fi
}

# ---- 4. an mdev domain on a host without mdev parents: the hook's words reach virsh --
step_mdev() {
	local xml=$LOGDIR/$MDEV.xml out=$LOGDIR/mdev-start.out calls=$LOGDIR/mdev-hook-calls.out
	local left st
	local want="gvtg-hook: creating vGPU $MDEV_UUID for domain '$MDEV': no mdev parent"
	want+=" device is registered"
	if [[ -d /sys/class/mdev_bus && -n $(ls -A /sys/class/mdev_bus) ]]; then
		echo "note: step 4 not run: this host has mdev parents ($(ls /sys/class/mdev_bus))"
		return 0
	fi
	domain_xml "$MDEV" "
		    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
		      <source><address uuid='$MDEV_UUID'/></source>
		    </hostdev>" >"$xml"
	must mdev-define define "$xml" || return 1
	if vsh mdev-start start "$MDEV"; then
		fail "$MDEV started although this host has no mdev parent"
		vsh mdev-destroy destroy "$MDEV" || true
	elif grep -q "$want" "$out"; then
		pass "virsh start fails with the hook's message:" \
			"$(grep -o 'gvtg-hook: [^.]*' "$out" | head -n 1)"
	else
		fail "virsh start failed without the hook's 'no mdev parent' message:" \
			"$(tr '\n' ' ' <"$out")"
	fi
	st=$(dom_state "$MDEV")
	[[ $st == "shut off" ]] ||
		fail "$MDEV is '$st' after the failed start, expected shut off"

	hook_calls "$LIBVIRTD_LOG" "$MDEV" >"$calls"
	# A refused prepare is still followed by stopped/release, which must leave alone
	# what this start never created.
	if expect_calls "$calls" "mdev domain" "prepare begin:1" "stopped end:1" \
		"release end:1"; then
		if grep -q "^release end 0 stdout: stderr:\$" "$calls"; then
			pass "after the refused prepare, stopped and release ran and exited quietly"
		else
			fail "release end after the refused prepare: $(grep '^release end' "$calls")"
		fi
	fi

	left=$(find "$STATE_DIR" -mindepth 1 ! -name lock 2>/dev/null || true)
	if [[ -z $left ]]; then
		pass "nothing but the lock left in $STATE_DIR"
	else
		fail "left behind in $STATE_DIR: $(tr '\n' ' ' <<<"$left")"
	fi
	must mdev-undefine undefine "$MDEV" || return 1
}

# ---- 5. a daemon restart under a running domain: reconnect must not kill it ----------
step_restart() {
	local xml=$LOGDIR/$RESTART.xml calls=$LOGDIR/reconnect-hook-calls.out st
	domain_xml "$RESTART" >"$xml"
	must restart-define define "$xml" || return 1
	must restart-start start "$RESTART" || return 1
	if ! restart_libvirtd; then
		fail "libvirtd did not come back under a running domain: $ERR"
		return 1
	fi
	st=$(dom_state "$RESTART")
	if [[ $st == running ]]; then
		pass "$RESTART still running after a libvirtd restart"
	else
		fail "$RESTART is '$st' after a libvirtd restart, expected running" \
			"(see $LIBVIRTD_LOG)"
	fi
	hook_calls "$LIBVIRTD_LOG" "$RESTART" >"$calls"
	if grep -q "^reconnect begin 0 stdout: stderr:\$" "$calls"; then
		pass "hook called with 'reconnect begin' and exited 0 quietly"
	else
		fail "no quiet 'reconnect begin' call in $LIBVIRTD_LOG: $(tr '\n' ';' <"$calls")"
	fi
	if [[ $st == running ]]; then
		must restart-destroy destroy "$RESTART" || return 1
	fi
	must restart-undefine undefine "$RESTART" || return 1
}

# ---- 6. the installed hook copied as a plain hooks/qemu file ------------------------
# What a wiki reader does with `meson install` (and what libvirt < 6.5 needs): the
# executable from the installed tree copied as hooks/qemu, nothing beside it, so the hook
# must find its module where it was compiled to be installed (GVTG_HOOK_DIR).  The build
# under test is installed into a scratch DESTDIR; its module is put in GVTG_HOOK_DIR
# itself only while the step runs (on the private tmpfs when the directory exists).
step_copy() {
	local build dir exe core top d
	build=$(dirname "$HOOK_REAL")/..
	dir=$(sed -n 's/^#define GVTG_HOOK_DIR "\(.*\)"$/\1/p' "$build/config.h" 2>/dev/null)
	if [[ -z $dir ]]; then
		fail "no GVTG_HOOK_DIR in $build/config.h: cannot tell where the hook looks"
		return 1
	fi
	if [[ -e $dir/gvtg-hook-core.so ]]; then
		echo "note: step 6 not run: $dir already holds a gvtg-hook-core.so (an install" \
			"this test must not replace)"
		return 0
	fi
	if [[ -e $HOOK_COPY || -L $HOOK_COPY ]]; then
		fail "$HOOK_COPY already exists: not replacing it, remove it first"
		return 1
	fi
	if [[ -n $(find "$QEMU_D" -mindepth 1 ! -path "$HOOK_LINK" -print -quit 2>/dev/null) ]]; then
		echo "note: step 6 not run: $QEMU_D holds other hooks"
		return 0
	fi
	DESTDIR_TMP=$(mktemp -d /tmp/gvtg-destdir.XXXXXX)
	if ! bounded 120 meson install -C "$build" --no-rebuild --destdir "$DESTDIR_TMP" \
		>"$LOGDIR/meson-install.out" 2>&1; then
		fail "meson install --destdir $DESTDIR_TMP failed: $(tail -n 3 \
			"$LOGDIR/meson-install.out" | tr '\n' ' ')"
		return 1
	fi
	core=$DESTDIR_TMP$dir/gvtg-hook-core.so
	# The installed executable: wherever hook_layout put it, the file equal to the build's.
	exe=$(find "$DESTDIR_TMP" -type f -perm -u+x -exec cmp -s {} "$GVTG_HOOK" \; -print -quit)
	if [[ ! -f $core || -z $exe ]]; then
		fail "the installed tree lacks $([[ -f $core ]] || echo "$core")" \
			"$([[ -n $exe ]] || echo "an executable equal to $GVTG_HOOK")"
		return 1
	fi
	# The module where the hook was compiled to look, creating only what is missing.
	top=$dir
	for ((d = 0; d < 8; d++)); do
		[[ -e $(dirname "$top") ]] && break
		top=$(dirname "$top")
	done
	[[ -e $top ]] || CREATED_CORE_DIR=$top
	if ! { mkdir -p "$dir" && install -m 0644 "$core" "$dir/gvtg-hook-core.so"; }; then
		fail "cannot put the installed module in $dir"
		return 1
	fi
	CORE_INSTALLED=$dir/gvtg-hook-core.so
	# Only the copy is registered: the qemu.d link goes, qemu.d is left empty or absent.
	rm -f "$HOOK_LINK"
	INSTALLED_LINK=0
	if ((CREATED_QEMU_D)); then
		rmdir "$QEMU_D" && CREATED_QEMU_D=0
	fi
	install -m 0755 "$exe" "$HOOK_COPY" || {
		fail "cannot copy ${exe#"$DESTDIR_TMP"} to $HOOK_COPY"
		return 1
	}
	INSTALLED_COPY=1
	if [[ -e $HOOKS_DIR/gvtg-hook-core.so || -n $(ls -A "$QEMU_D" 2>/dev/null) ]]; then
		fail "a module beside $HOOK_COPY or a hook in $QEMU_D: the copy is not alone"
		return 1
	fi
	HOOK_RUN=$HOOK_COPY
	LABEL="hooks/qemu copy: "
	if ! restart_libvirtd; then
		fail "libvirtd did not come back after copying the hook: $ERR"
		return 1
	fi
	if ! grep -q "Found hook script $HOOK_COPY\$" "$LIBVIRTD_LOG"; then
		fail "the restarted libvirtd did not log 'Found hook script $HOOK_COPY'" \
			"(see $LIBVIRTD_LOG)"
		return 1
	fi
	pass "${exe#"$DESTDIR_TMP"} of 'meson install --destdir' copied as $HOOK_COPY," \
		"its module only in $dir; found by the restarted libvirtd ($LIBVIRTD_PID)"
	PLAIN=$PLAIN2
	MDEV=$MDEV2
	step_plain || true
	step_mdev || true
}

# meson sends SIGTERM on its timeout: say so, count it, and let the EXIT trap clean up.
# shellcheck disable=SC2317  # a trap
# The cleanup runs in a session of its own, where meson's SIGKILL for our process group
# cannot cut it short; its output goes to cleanup.log.
interrupted() {
	local vars=(URI HOOKS_DIR QEMU_D HOOK_LINK STATE_DIR LOGDIR GVTG_HOOK PLAIN MDEV RESTART
		LIBVIRTD_PID VIRTLOGD_PID INSTALLED_LINK CREATED_QEMU_D CREATED_HOOKS_DIR
		HAD_RUN_LIBVIRT HAD_STATE_DIR NFAIL PLAIN2 MDEV2 HOOK_COPY INSTALLED_COPY
		DESTDIR_TMP CORE_INSTALLED CREATED_CORE_DIR LABEL NPASS)
	trap - EXIT TERM INT
	[[ -n $CHILD ]] && kill -TERM "$CHILD" 2>/dev/null
	fail "interrupted by SIG$1 (meson's timeout?); cleaning up, see $LOGDIR/cleanup.log"
	echo "$NPASS passed, $NFAIL failed"
	setsid bash -c "$(declare -p "${vars[@]}"); $(declare -f alive live_pids stop_pid \
		kill_orphan_qemu cleanup); cleanup" </dev/null >"$LOGDIR/cleanup.log" 2>&1 &
	wait $! || true
	exit "$2"
}

trap cleanup EXIT
trap 'interrupted TERM 143' TERM
trap 'interrupted INT 130' INT

echo "logs: $LOGDIR"
if step_daemons; then
	if step_install; then
		step_plain || true
		step_mdev || true
		step_restart || true
		step_copy || true
	else
		fail "steps 3-5 not run: the hook is not registered"
	fi
else
	fail "steps 2-5 not run: no libvirt daemon of ours"
fi
finish
