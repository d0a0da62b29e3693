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

# define: an mdevctl definition, no device; the hook starts it when a domain that names
# the vGPU starts and stops it when the domain stops, the definition kept
d=4b20d080-1b54-4048-85b3-a6a62d16de01
f=$root/etc/mdevctl.d/0000:00:02.0/$d
ctl define --type i915-GVTg_V5_8 "${d^^}" >"$root/out" || fail "define exited $?"
grep -q "^Defined vGPU $d: parent 0000:00:02.0 (automatic), type i915-GVTg_V5_8 (command line), start manual" "$root/out" ||
	fail "define said: $(cat "$root/out")"
grep -q '"mdev_type": "i915-GVTg_V5_8"' "$f" 2>/dev/null || fail "no definition $f"
grep -q '"start": "manual"' "$f" 2>/dev/null || fail "$f is not start manual"
[[ ! -e $root/sys/bus/mdev/devices/$d ]] || fail "define created the device"
ctl list --defined --json | grep -q "\"uuid\": \"$d\"" || fail "list --defined lacks $d"
if ctl define --type i915-GVTg_V5_4 "$d" 2>"$root/err"; then
	fail "a second define of $d succeeded"
fi
grep -q "defining vGPU $d: it is defined already in /etc/mdevctl.d/0000:00:02.0/$d" "$root/err" ||
	fail "define again: $(cat "$root/err")"
if [[ -n ${GVTG_HOOK:-} ]]; then
	cat >"$root/vmd.xml" <<EOF
<domain type='kvm'>
  <name>vmd</name>
  <uuid>d1d1d1d1-4444-4444-8444-444444444444</uuid>
  <devices>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>
      <source><address uuid='$d'/></source>
    </hostdev>
  </devices>
</domain>
EOF
	GVTG_ROOT=$root timeout 20 "$GVTG_HOOK" vmd prepare begin - <"$root/vmd.xml" ||
		fail "the hook did not start vmd (exit $?)"
	[[ $(basename "$(readlink "$root/sys/bus/mdev/devices/$d/mdev_type" 2>/dev/null)") == i915-GVTg_V5_8 ]] ||
		fail "the hook did not start $d from its definition"
	GVTG_ROOT=$root timeout 20 "$GVTG_HOOK" vmd release end - <"$root/vmd.xml" ||
		fail "the hook did not release vmd (exit $?)"
	[[ ! -e $root/sys/bus/mdev/devices/$d ]] || fail "$d still exists after vmd stopped"
	[[ -e $f ]] || fail "the definition went with the device"
fi
# a UUID a record holds is refused
uuid2=$(ctl create --type i915-GVTg_V5_8) || fail "create exited $?"
if ctl define --type i915-GVTg_V5_8 "$uuid2" 2>"$root/err"; then
	fail "define of $uuid2, which a record holds, succeeded"
fi
grep -q "defining vGPU $uuid2: it exists already as a vGPU of gvtg-hook (manual)" "$root/err" ||
	fail "define of a recorded vGPU: $(cat "$root/err")"
ctl remove "$uuid2" || fail "remove exited $?"
# undefine: the file goes
ctl undefine "$d" >"$root/out" || fail "undefine exited $?"
[[ ! -e $f ]] || fail "$f left after undefine"
if ctl undefine "$d" 2>"$root/err"; then
	fail "undefine of an undefined vGPU succeeded"
fi
grep -q "undefining vGPU $d: it has no definition in /etc/mdevctl.d" "$root/err" ||
	fail "undefine again: $(cat "$root/err")"

# with mdevctl (a stand-in): define and undefine go through it, and what it did is
# checked, not believed
cat >"$root/mdevctl" <<'EOF'
#!/bin/bash
echo "$*" >>"$STANDIN_LOG"
[[ -n ${STANDIN_LIE:-} ]] && exit 0
while (($#)); do
	case $1 in
	define | undefine) verb=$1 ;;
	--uuid) u=$2; shift ;;
	--parent) p=$2; shift ;;
	--type) t=$2; shift ;;
	esac
	shift
done
f=$STANDIN_ROOT/etc/mdevctl.d/$p/$u
if [[ $verb == define ]]; then
	mkdir -p "${f%/*}"
	printf '{"mdev_type": "%s", "start": "manual", "attrs": []}\n' "$t" >"$f"
else
	rm "$f"
fi
EOF
chmod 755 "$root/mdevctl"
export STANDIN_LOG=$root/mdevctl.log STANDIN_ROOT=$root
GVTG_MDEVCTL=$root/mdevctl ctl define --type i915-GVTg_V5_4 --auto "$d" >/dev/null || fail "define through mdevctl exited $?"
grep -qx "define --uuid $d --parent 0000:00:02.0 --type i915-GVTg_V5_4 --auto" "$STANDIN_LOG" ||
	fail "mdevctl was run as: $(cat "$STANDIN_LOG")"
[[ -e $f ]] || fail "no $f after define through mdevctl"
GVTG_MDEVCTL=$root/mdevctl ctl undefine "$d" >/dev/null || fail "undefine through mdevctl exited $?"
grep -qx "undefine --uuid $d --parent 0000:00:02.0" "$STANDIN_LOG" ||
	fail "mdevctl was run as: $(cat "$STANDIN_LOG")"
[[ ! -e $f ]] || fail "$f left after undefine through mdevctl"
if STANDIN_LIE=1 GVTG_MDEVCTL=$root/mdevctl ctl define --type i915-GVTg_V5_4 "$d" 2>"$root/err"; then
	fail "define succeeded though mdevctl wrote nothing"
fi
grep -q "defining vGPU $d: $root/mdevctl define reported success, but /etc/mdevctl.d/0000:00:02.0/$d does not exist" "$root/err" ||
	fail "mdevctl that wrote nothing: $(cat "$root/err")"

if ((failures)); then
	exit 1
fi
echo "ok: gvtgctl against mdev-sim"
