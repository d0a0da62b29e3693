#!/bin/bash
# SPDX-License-Identifier: MIT
# gvtgctl against mdev-sim, a simulated mdev sysfs that creates and removes devices and
# shares one graphics-memory pool between the GVT-g types, as the kernel does.  Skips
# (77) where the simulator cannot run (not root, no FUSE, not built).
set -euo pipefail

gvtgctl=${GVTGCTL:?GVTGCTL: path to gvtgctl}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../sim/sim-lib.sh"
if ! sim_available; then
	echo "SKIP: $SIM_UNAVAILABLE"
	exit 77
fi

root=$(mktemp -d)
cleanup() {
	sim_stop "$root" || true
	rm -rf "$root"
}
trap cleanup EXIT
sim_start "$root" gvt
mkdir -p "$root/etc"

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
# Every run is bounded: a blocked sysfs write must not hang the suite.
ctl() {
	timeout 20 "$gvtgctl" --root "$root" --config /etc/gvtg-test.conf "$@"
}
avail() {
	cat "$root/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/$1/available_instances"
}

# create: the device appears, the shared pool shrinks, the record says manual
uuid=$(ctl create --type i915-GVTg_V5_4) || fail "create exited $?"
[[ -e $root/sys/bus/mdev/devices/$uuid ]] || fail "no device $uuid after create"
[[ $(avail i915-GVTg_V5_1) == 0 ]] || fail "_1 still available after a _4"
grep -qx 'origin=manual' "$root/run/gvtg-hook/$uuid" || fail "record of $uuid is not manual"
ctl list --json --uuid "$uuid" | grep -q "\"origin\": \"manual\"" || fail "list does not show the manual vGPU"
ctl list --json --uuid "$uuid" | grep -q "\"owner\": null" || fail "list gives the idle vGPU an owner"

# a type without room is refused before any write
if ctl create --type i915-GVTg_V5_1 2>"$root/err"; then
	fail "create of _1 succeeded without room"
fi
grep -q 'has no instances left' "$root/err" || fail "no 'no instances left': $(cat "$root/err")"

# sleep: the idle vGPU goes before suspend and comes back after
printf '[sleep]\nremove_idle = yes\n' >"$root/etc/gvtg-test.conf"
ctl sleep pre >/dev/null || fail "sleep pre exited $?"
[[ ! -e $root/sys/bus/mdev/devices/$uuid ]] || fail "$uuid still exists after sleep pre"
[[ $(avail i915-GVTg_V5_1) == 1 ]] || fail "pool not given back after sleep pre"
ctl sleep post >/dev/null || fail "sleep post exited $?"
[[ -e $root/sys/bus/mdev/devices/$uuid ]] || fail "$uuid not back after sleep post"
[[ ! -e $root/run/gvtg-hook/sleep ]] || fail "sleep list left after post"

# remove: refused while a domain holds it, done otherwise
sed -i -e 's/^domain_name=.*/domain_name=win10/' \
	-e 's/^domain_uuid=.*/domain_uuid=d0d0d0d0-4444-4444-8444-444444444444/' \
	"$root/run/gvtg-hook/$uuid"
if ctl remove "$uuid" 2>"$root/err"; then
	fail "remove of a held vGPU succeeded"
fi
[[ -e $root/sys/bus/mdev/devices/$uuid ]] || fail "held vGPU removed"
ctl remove --force "$uuid" || fail "remove --force exited $?"
[[ ! -e $root/sys/bus/mdev/devices/$uuid ]] || fail "$uuid still exists after remove"
[[ ! -e $root/run/gvtg-hook/$uuid ]] || fail "record of $uuid left after remove"
[[ $(avail i915-GVTg_V5_1) == 1 ]] || fail "pool not given back after remove"

# boot stopped by SIGTERM (systemd's time limit, systemctl stop): the run waits for the
# lock this test holds, is told to stop, then creates its vGPU and removes it again.
boot_uuid=b0070000-0000-4000-8000-000000000001
printf '[hook]\nlock_timeout = 10\n[%s]\ntype = i915-GVTg_V5_4\nboot = yes\n' "$boot_uuid" \
	>"$root/etc/gvtg-test.conf"
mkdir -p "$root/run/gvtg-hook"
exec 9>"$root/run/gvtg-hook/lock"
flock 9
"$gvtgctl" --root "$root" --config /etc/gvtg-test.conf boot >"$root/out" 2>"$root/err" &
boot_pid=$!
sleep 0.5
kill -TERM "$boot_pid"
sleep 0.3
flock -u 9
exec 9>&-
rc=0
# (its own bound: the lock_timeout above)
wait "$boot_pid" || rc=$?
[[ $rc == 1 ]] || fail "boot stopped by SIGTERM exited $rc, not 1"
grep -q "^created boot vGPU $boot_uuid" "$root/out" || fail "boot made nothing before it stopped: $(cat "$root/out")"
[[ ! -e $root/sys/bus/mdev/devices/$boot_uuid ]] || fail "$boot_uuid left after SIGTERM"
[[ ! -e $root/run/gvtg-hook/$boot_uuid ]] || fail "record of $boot_uuid left after SIGTERM"
grep -q 'stopped by SIGTERM: removed the 1 boot vGPU this run made' "$root/err" ||
	fail "no word of the rollback on stderr: $(cat "$root/err")"

if ((failures)); then
	exit 1
fi
echo "ok: gvtgctl against mdev-sim"
