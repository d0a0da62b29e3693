#!/bin/bash
# SPDX-License-Identifier: MIT
# gvtgctl metrics on the simulated GVT-g host (mdev-sim): the exact figures of a known
# state (a vGPU held by a domain, an idle one, a boot vGPU not created yet, a removal
# pending), text that promtool accepts, and --output written whole or not at all.
# Skips (77) where the simulator cannot run.
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
out=$(mktemp -d)
cleanup() {
	sim_stop "$root" || true
	rm -rf "$root" "$out"
}
trap cleanup EXIT
sim_start "$root" gvt --fences 32
mkdir -p "$root/etc"

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
ctl() {
	timeout 30 "$gvtgctl" --root "$root" --config /etc/gvtg-test.conf "$@"
}

P=0000:00:02.0
BOOT=6c5a1f3e-2d4b-4c8e-9f01-3a7b5c9d2e10
GONE=0b0b0b0b-1111-4222-8333-444444444444
printf '[%s]\ntype = i915-GVTg_V5_8\nboot = yes\n' "$BOOT" >"$root/etc/gvtg-test.conf"
held=$(ctl create --type i915-GVTg_V5_8) || fail "create exited $?"
idle=$(ctl create --type i915-GVTg_V5_8) || fail "create exited $?"
# a domain holds the first; a removal of a vGPU that is gone timed out
sed -i -e 's/^domain_name=.*/domain_name=win10/' \
	-e 's/^domain_uuid=.*/domain_uuid=d0d0d0d0-4444-4444-8444-444444444444/' \
	"$root/run/gvtg-hook/$held"
sed -e "s/$idle/$GONE/" -e 's/^remove_pending=.*/remove_pending=yes/' \
	"$root/run/gvtg-hook/$idle" >"$root/run/gvtg-hook/$GONE"

ctl metrics >"$out/m.txt" || fail "metrics exited $?"
avail() {
	cat "$root/sys/class/mdev_bus/$P/mdev_supported_types/$1/available_instances"
}
want=$(
	cat <<WANT
# HELP gvtg_vgpus vGPUs (mediated devices) by parent, type, origin and state.
# TYPE gvtg_vgpus gauge
gvtg_vgpus{parent="$P",type="i915-GVTg_V5_8",origin="boot",state="not-created"} 1
gvtg_vgpus{parent="$P",type="i915-GVTg_V5_8",origin="manual",state="idle"} 1
gvtg_vgpus{parent="$P",type="i915-GVTg_V5_8",origin="manual",state="in-use"} 1
# HELP gvtg_type_available_instances vGPUs of a type that can still be created on its parent.
# TYPE gvtg_type_available_instances gauge
gvtg_type_available_instances{parent="$P",type="i915-GVTg_V5_1"} $(avail i915-GVTg_V5_1)
gvtg_type_available_instances{parent="$P",type="i915-GVTg_V5_2"} $(avail i915-GVTg_V5_2)
gvtg_type_available_instances{parent="$P",type="i915-GVTg_V5_4"} $(avail i915-GVTg_V5_4)
gvtg_type_available_instances{parent="$P",type="i915-GVTg_V5_8"} $(avail i915-GVTg_V5_8)
# HELP gvtg_records_remove_pending vGPUs whose removal timed out and is retried (ownership records).
# TYPE gvtg_records_remove_pending gauge
gvtg_records_remove_pending 1
# HELP gvtg_check_results Result lines of gvtgctl check, by check id and result.
# TYPE gvtg_check_results gauge
WANT
)
got=$(sed -n '1,/^# TYPE gvtg_check_results/p' "$out/m.txt")
[[ $got == "$want" ]] || fail "metrics differ from the simulated host's state:
$(diff <(echo "$want") <(echo "$got") || true)"
# the availability figures are the simulator's own, not all zeros
[[ $(avail i915-GVTg_V5_1) == 0 && $(avail i915-GVTg_V5_8) != 0 ]] ||
	fail "the simulator's pool is not what this test expects"

# check's results: every id with its four results, the configuration passes
grep -qx 'gvtg_check_results{id="config",result="pass"} 1' "$out/m.txt" ||
	fail "no passing config check: $(grep 'id="config"' "$out/m.txt")"
ids=$(sed -n 's/^gvtg_check_results{id="\([^"]*\)".*/\1/p' "$out/m.txt" | sort | uniq -c |
	awk '$1 != 4')
[[ -z $ids ]] || fail "check ids without exactly four result lines: $ids"
ctl check --json >"$out/check.json" || true
expected_ids=$(sed -n 's/^ *"id": "\(.*\)",$/\1/p' "$out/check.json" | sort -u)
got_ids=$(sed -n 's/^gvtg_check_results{id="\([^"]*\)".*/\1/p' "$out/m.txt" | sort -u)
[[ $expected_ids == "$got_ids" ]] || fail "check ids differ from check --json's"
ready=$(ctl check >/dev/null && echo 1 || echo 0)
grep -qx "gvtg_check_ready $ready" "$out/m.txt" || fail "gvtg_check_ready is not $ready"
[[ $(tail -n 1 "$out/m.txt") == '# EOF' ]] || fail "no '# EOF' at the end"

if command -v promtool >/dev/null; then
	promtool check metrics <"$out/m.txt" >"$out/lint.txt" 2>&1 ||
		fail "promtool check metrics: $(cat "$out/lint.txt")"
else
	fail "no promtool (Debian package prometheus, scripts/packages.d/sim.list)"
fi

# --output: the whole text, mode 0644, nothing else left in the directory
ctl metrics --output "$out/dir/gvtg.prom" 2>"$out/err" && fail "--output into a missing directory succeeded"
grep -q "writing the metrics, $out/dir/gvtg.prom: " "$out/err" || fail "no error naming the file: $(cat "$out/err")"
mkdir "$out/dir"
echo stale >"$out/dir/gvtg.prom"
ctl metrics --output "$out/dir/gvtg.prom" || fail "metrics --output exited $?"
cmp -s <(sed '/^gvtg_check/d' "$out/m.txt") <(sed '/^gvtg_check/d' "$out/dir/gvtg.prom") ||
	fail "--output wrote other text than stdout"
[[ $(stat -c %a "$out/dir/gvtg.prom") == 644 ]] || fail "--output's file is not 0644"
[[ $(ls -A "$out/dir") == gvtg.prom ]] || fail "--output left other files: $(ls -A "$out/dir")"

if ((failures)); then
	exit 1
fi
echo "ok: gvtgctl metrics against mdev-sim"
