#!/bin/bash
# SPDX-License-Identifier: MIT
# 32 domains start at once on a simulated GVT-g host whose chosen type has room for 2:
# exactly 2 starts succeed, 30 are refused with the no-room message, no vGPU is handed to
# two domains, nothing leaks; then 32 releases at once leave no vGPU and no record.
# Needs root and FUSE (the simulator); skipped (77) otherwise.
set -euo pipefail
here=$(dirname "$0")
# shellcheck source=tests/sim/sim-lib.sh
. "$here/sim/sim-lib.sh"
if ! sim_available; then
    echo "SKIP: $SIM_UNAVAILABLE"
    exit 77
fi
hook=${GVTG_HOOK:?GVTG_HOOK unset}
conf=${GVTG_CONFIG_FILE:?GVTG_CONFIG_FILE unset}
n=32
root=$(mktemp -d /tmp/gvtg-conc-XXXXXX)
cleanup() { sim_stop "$root" || true; rm -rf "$root"; }
trap cleanup EXIT

sim_start "$root" gvt
mkdir -p "$root/$(dirname "$conf")"
printf '[defaults]\ntype = i915-GVTg_V5_4\n' > "$root/$conf"
avail=$(cat "$root/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances")
[ "$avail" -lt "$n" ] || { echo "FAIL: the simulated pool is too large ($avail)"; exit 1; }

domain_xml() { # index
    printf "<domain type='kvm'><name>vm%02d</name><uuid>11111111-0000-4000-8000-0000000000%02d</uuid>" "$1" "$1"
    printf "<devices><hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
    printf "<address uuid='4b20d080-1b54-4048-85b3-a6a62d1650%02d'/></source></hostdev></devices></domain>" "$1"
}
for i in $(seq 1 $n); do domain_xml "$i" > "$root/vm$i.xml"; done

t0=$(date +%s.%N)
for i in $(seq 1 $n); do
    (
        rc=0
        GVTG_ROOT=$root timeout 60 "$hook" "vm$i" prepare begin - < "$root/vm$i.xml" \
            > "$root/out$i" 2> "$root/err$i" || rc=$?
        echo "$rc" > "$root/rc$i"
    ) &
done
wait
t1=$(date +%s.%N)

ok=0; refused=0; other=0
for i in $(seq 1 $n); do
    rc=$(cat "$root/rc$i")
    [ -s "$root/out$i" ] && { echo "FAIL: vm$i wrote on stdout"; other=$((other + 1)); }
    if [ "$rc" = 0 ]; then
        ok=$((ok + 1))
    elif [ "$rc" = 1 ] && grep -q "has no instances left" "$root/err$i" \
            && [ "$(wc -l < "$root/err$i")" = 1 ]; then
        refused=$((refused + 1))
    else
        echo "FAIL: vm$i exit $rc: $(cat "$root/err$i")"
        other=$((other + 1))
    fi
done
devices=$(find "$root/sys/bus/mdev/devices" -mindepth 1 -maxdepth 1 | wc -l)
records=$(find "$root/run/gvtg-hook" -mindepth 1 -maxdepth 1 -name '*-*' | wc -l)
holders=$(grep -h '^domain_uuid=' "$root"/run/gvtg-hook/*-* 2>/dev/null | sort | uniq -d | wc -l)
echo "prepare: $ok started, $refused refused, $other other; $devices vGPUs, $records records ($(echo "$t1 - $t0" | bc) s)"
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
check "exactly $avail starts succeed" "[ $ok = $avail ]"
check "the other $((n - avail)) are refused: no room" "[ $refused = $((n - avail)) ] && [ $other = 0 ]"
check "one vGPU per started domain" "[ $devices = $ok ] && [ $records = $ok ]"
check "no vGPU recorded for two domains" "[ $holders = 0 ]"

for i in $(seq 1 $n); do
    ( GVTG_ROOT=$root timeout 60 "$hook" "vm$i" release end - < "$root/vm$i.xml" > "$root/rout$i" 2>&1; echo $? > "$root/rrc$i" ) &
done
wait
bad=0
for i in $(seq 1 $n); do [ "$(cat "$root/rrc$i")" = 0 ] || bad=$((bad + 1)); done
check "every release end exits 0" "[ $bad = 0 ]"
check "no vGPU left" "[ \$(find '$root/sys/bus/mdev/devices' -mindepth 1 | wc -l) = 0 ]"
check "no record left" "[ \$(find '$root/run/gvtg-hook' -mindepth 1 -name '*-*' | wc -l) = 0 ]"
check "the pool is whole again" "[ \$(cat '$root/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances') = $avail ]"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
