#!/bin/bash
# SPDX-License-Identifier: MIT
#
# gvtg-hook benchmarks.  Every figure is a RATIO of two programs measured side by side in
# this one run (the hook against a floor program that does only the unavoidable work),
# never a bare time, so the results mean the same on a fast and a slow machine:
#
#   prepare begin (typical domain)  hook / floor-prepare      wall median and callgrind
#   started begin (ignored op)      hook / floor-exec         wall median and callgrind
#   32 concurrent starts            wall(32 at once) / 32 x wall(one)   + failures
#   1, 4, 16 MiB domain XML         time per MiB, 4->16 MiB slope / 1->4 MiB slope
#   17 MiB domain XML               refused (exit 1, "larger than 16 MiB"), time / 16 MiB
#   peak heap (massif)              prepare begin of the typical domain, bytes
#
# Usage: bench/run.sh [--build DIR] [--check] [--quick] [--update-expected]
#   --check            exit 1 when callgrind counts grew more than 10% over
#                      bench/expected.txt, a run failed, the 17 MiB input was not refused
#                      or the peak heap is 1 MiB or more.  Wall-clock targets are
#                      reported, not enforced: shared CI machines are too noisy for them.
#   --quick            fewer runs (a smoke test of the script)
#   --update-expected  write the callgrind counts of this run to bench/expected.txt
# Binaries come from --build (default: $MESON_BUILD_ROOT, set by `ninja bench`, else
# ./build-bench) or from --hook/--floor-exec/--floor-prepare/--timer.
# The table goes to stdout and to bench/out/results.md.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${MESON_BUILD_ROOT:-$src/../build-bench}
hook='' floor_exec='' floor_prepare='' timer=''
check=0 quick=0 update=0
while (($#)); do
	case $1 in
	--build) build=$2; shift ;;
	--hook) hook=$2; shift ;;
	--floor-exec) floor_exec=$2; shift ;;
	--floor-prepare) floor_prepare=$2; shift ;;
	--timer) timer=$2; shift ;;
	--check) check=1 ;;
	--quick) quick=1 ;;
	--update-expected) update=1 ;;
	-h | --help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
hook=${hook:-$build/hook/gvtg-hook}
floor_exec=${floor_exec:-$build/bench/floor-exec}
floor_prepare=${floor_prepare:-$build/bench/floor-prepare}
timer=${timer:-$build/bench/bench-exec}
for f in "$hook" "$floor_exec" "$floor_prepare" "$timer"; do
	[[ -x $f ]] || { echo "bench/run.sh: $f is missing: build first" >&2; exit 2; }
done

if ((quick)); then
	runs=15 size_runs=3 par_runs=3
else
	runs=201 size_runs=7 par_runs=11
fi
workers=32
typical=$src/data/domain.xml
expected_file=$src/expected.txt
outdir=$src/out
mkdir -p "$outdir"

# The state directory and sysfs are memory file systems on a real host: put the fake
# tree on tmpfs too, or an ext4 fsync would be measured instead of the hook.
base=/dev/shm
[[ -d $base && -w $base ]] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/gvtg-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

parent=0000:00:02.0
type=i915-GVTg_V5_4
type_rel=sys/devices/pci0000:00/$parent/mdev_supported_types/$type

# A fake sysfs tree with one GVT-g parent and one type.
make_tree() {
	local root=$1 t=$1/$type_rel
	mkdir -p "$t" "$root/sys/class/mdev_bus" "$root/sys/bus/mdev/devices"
	ln -s "../../devices/pci0000:00/$parent" "$root/sys/class/mdev_bus/$parent"
	echo GVTg_V5_4 >"$t/name"
	echo 64 >"$t/available_instances"
	echo vfio-pci >"$t/device_api"
	printf 'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n' \
		>"$t/description"
	: >"$t/create"
}

# Run like libvirt does: an almost empty environment.
run_env() {
	env -i PATH=/usr/bin:/bin LC_ALL=C HOME=/root GVTG_ROOT="$root" "$@"
}

# The typical domain with many extra <disk>s, just under $2 bytes.
make_big() {
	local out=$1 limit=$2
	awk -v limit="$limit" -v base="$(wc -c <"$typical")" '
	function disk(i) {
		return sprintf("    <disk type=\x27file\x27 device=\x27disk\x27>\n" \
		"      <driver name=\x27qemu\x27 type=\x27qcow2\x27 discard=\x27unmap\x27/>\n" \
		"      <source file=\x27/var/lib/libvirt/images/data-%06d.qcow2\x27/>\n" \
		"      <target dev=\x27vd%06d\x27 bus=\x27virtio\x27/>\n" \
		"      <address type=\x27pci\x27 domain=\x270x0000\x27 bus=\x270x%02x\x27 " \
		"slot=\x270x%02x\x27 function=\x270x0\x27/>\n    </disk>\n",
		i, i, int(i / 32) % 256, i % 32)
	}
	{ print }
	/<emulator>/ {
		n = int((limit - base - 1) / length(disk(0)))
		for (i = 0; i < n; i++) printf "%s", disk(i)
	}' "$typical" >"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
fails_total=0
problems=()
rows=()
row() { rows+=("$(printf '| %s | %s | %s | %s |' "$@")"); }

# ---- 1. wall clock: prepare begin and an ignored operation against their floors ------
root=$work/tree
make_tree "$root"
create=$root/$type_rel/create
echo "bench: wall clock, $runs interleaved runs each..." >&2
mapfile -t lines < <(run_env "$timer" -n "$runs" -w 5 \
	hook-prepare "$typical" 0 "$hook" win10-cad prepare begin - -- \
	floor-prepare "$typical" 0 "$floor_prepare" "$create" -- \
	hook-started "$typical" 0 "$hook" win10-cad started begin - -- \
	floor-exec "$typical" 0 "$floor_exec")
declare -A med
for l in "${lines[@]}"; do
	read -r label m _ _ f <<<"$l"
	med[$label]=$m
	fails_total=$((fails_total + f))
done
r_prep=$(ratio "${med[hook-prepare]}" "${med[floor-prepare]}")
r_exec=$(ratio "${med[hook-started]}" "${med[floor-exec]}")
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "met" : "MISSED") }'; }
row "prepare begin, typical domain: hook / floor (wall median)" \
	"${med[hook-prepare]} us / ${med[floor-prepare]} us" "**$r_prep**" \
	"<= 1.10: $(verdict "$r_prep" 1.10)"
row "started begin (ignored): hook / floor-exec (wall median)" \
	"${med[hook-started]} us / ${med[floor-exec]} us" "**$r_exec**" \
	"<= 1.10: $(verdict "$r_exec" 1.10)"

# ---- 2. callgrind: the same, in instructions (repeatable) ------------------------------
declare -A ir
if command -v valgrind >/dev/null; then
	echo "bench: callgrind..." >&2
	cg() { # key stdin program args...
		local key=$1 in=$2 out=$work/cg.$1
		shift 2
		run_env valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
			<"$in" >/dev/null 2>"$work/cg.$key.log" || true
		ir[$key]=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
	}
	cg hook-prepare "$typical" "$hook" win10-cad prepare begin -
	cg floor-prepare "$typical" "$floor_prepare" "$create"
	cg hook-started "$typical" "$hook" win10-cad started begin -
	cg floor-exec "$typical" "$floor_exec"
	cg hook-release "$typical" "$hook" win10-cad release end -
	c_prep=$(ratio "${ir[hook-prepare]}" "${ir[floor-prepare]}")
	c_exec=$(ratio "${ir[hook-started]}" "${ir[floor-exec]}")
	row "prepare begin: hook / floor (callgrind instructions)" \
		"${ir[hook-prepare]} / ${ir[floor-prepare]}" "**$c_prep**" \
		"<= 1.10: $(verdict "$c_prep" 1.10)"
	row "started begin: hook / floor-exec (callgrind instructions)" \
		"${ir[hook-started]} / ${ir[floor-exec]}" "**$c_exec**" \
		"<= 1.10: $(verdict "$c_exec" 1.10)"
	row "release end: hook (callgrind instructions)" "${ir[hook-release]}" "-" "-"

	if ((update)); then
		{
			echo "# SPDX-License-Identifier: MIT"
			echo "# Callgrind instruction counts (bench/run.sh --update-expected)."
			echo "# --check fails when a count grows more than 10% above these."
			for k in hook-prepare hook-started hook-release floor-prepare floor-exec; do
				echo "$k ${ir[$k]}"
			done
		} >"$expected_file"
		echo "bench: wrote $expected_file" >&2
	fi
	if [[ -f $expected_file ]]; then
		while read -r k want; do
			[[ -z $k || $k == \#* ]] && continue
			got=${ir[$k]:-}
			[[ -n $got ]] || continue
			if ((got * 10 > want * 11)); then
				problems+=("callgrind: $k grew from $want to $got instructions (> +10%)")
			fi
		done <"$expected_file"
	fi
else
	row "callgrind" "valgrind not installed" "-" "skipped"
fi

# ---- 3. 32 concurrent starts ----------------------------------------------------------
# Each worker is one domain with its own UUIDs: prepare begin, then release end.
root=$work/tree-par
make_tree "$root"
for ((i = 0; i < workers; i++)); do
	hex=$(printf '%02x' "$i")
	sed -e "s/8c2a4f7e-13b9-4d6a-a0e5-7f91c3d2b4[0-9a-f][0-9a-f]/8c2a4f7e-13b9-4d6a-a0e5-7f91c3d2b4$hex/" \
		-e "s/5f0c9a1e-2b7d-4c3e-9a51-8d6e0f4b7c[0-9a-f][0-9a-f]/5f0c9a1e-2b7d-4c3e-9a51-8d6e0f4b7c$hex/" \
		-e "s|<name>win10-cad</name>|<name>win10-$i</name>|" "$typical" >"$work/dom-$i.xml"
done
echo "bench: $workers concurrent starts, $par_runs rounds..." >&2
par() {
	run_env "$timer" -n "$par_runs" -w 1 -p "$1" \
		prepare "$work/dom-{}.xml" 0 "$hook" "win10-{}" prepare begin - -- \
		release "$work/dom-{}.xml" 0 "$hook" "win10-{}" release end -
}
read -r _ one _ _ f1 < <(par 1)
read -r _ all _ _ f32 < <(par "$workers")
fails_total=$((fails_total + f1 + f32))
r_par=$(awk -v a="$all" -v o="$one" -v n="$workers" 'BEGIN { printf "%.3f", a / (n * o) }')
leftover=$(find "$root/run/gvtg-hook" -type f ! -name lock | wc -l)
row "$workers concurrent prepare+release: wall / ($workers x one)" \
	"$all us / ($workers x $one us)" "**$r_par**" "failures: $((f1 + f32)), records left: $leftover"
((f1 + f32 == 0)) || problems+=("concurrency: $((f1 + f32)) failed hook runs")
((leftover == 0)) || problems+=("concurrency: $leftover ownership records left behind")

# ---- 4. large domain XML --------------------------------------------------------------
root=$work/tree-big
make_tree "$root"
create=$root/$type_rel/create
echo "bench: large domain XML..." >&2
mib=$((1024 * 1024))
for s in 1 4 16 17; do
	make_big "$work/big-$s.xml" $((s * mib))
done
if (($(wc -c <"$work/big-16.xml") >= 16 * mib)); then
	echo "bench/run.sh: generated 16 MiB input is too large" >&2
	exit 1
fi
mapfile -t lines < <(run_env "$timer" -n "$size_runs" -w 1 \
	1 "$work/big-1.xml" 0 "$hook" big prepare begin - -- \
	4 "$work/big-4.xml" 0 "$hook" big prepare begin - -- \
	16 "$work/big-16.xml" 0 "$hook" big prepare begin - -- \
	17 "$work/big-17.xml" 1 "$hook" big prepare begin - -- \
	f1 "$work/big-1.xml" 0 "$floor_prepare" "$create" -- \
	f16 "$work/big-16.xml" 0 "$floor_prepare" "$create")
declare -A big
for l in "${lines[@]}"; do
	read -r label m _ _ f <<<"$l"
	big[$label]=$m
	fails_total=$((fails_total + f))
done
slope_lo=$(awk -v a="${big[4]}" -v b="${big[1]}" 'BEGIN { print (a - b) / 3 }')
slope_hi=$(awk -v a="${big[16]}" -v b="${big[4]}" 'BEGIN { print (b > 0 ? (a - b) / 12 : 0) }')
r_lin=$(ratio "$slope_hi" "$slope_lo")
r_big=$(ratio "${big[16]}" "${big[f16]}")
row "domain XML 1 / 4 / 16 MiB: hook wall median" \
	"${big[1]} / ${big[4]} / ${big[16]} us" \
	"**$r_lin**" "slope 4-16 MiB / slope 1-4 MiB (1.0 = linear)"
row "16 MiB domain XML: hook / floor (wall median)" "${big[16]} us / ${big[f16]} us" \
	"**$r_big**" "-"
msg=$(run_env "$hook" big prepare begin - <"$work/big-17.xml" 2>&1 >/dev/null) && rc=0 || rc=$?
r_17=$(ratio "${big[17]}" "${big[16]}")
ok17=no
[[ $rc -eq 1 && $msg == *"larger than 16 MiB"* ]] && ok17=yes
row "17 MiB domain XML: refused / time vs 16 MiB" "exit $rc, ${big[17]} us" "**$r_17**" \
	"refused with 'larger than 16 MiB': $ok17"
[[ $ok17 == yes ]] || problems+=("17 MiB input: exit $rc, message: $msg")

# ---- 5. peak heap ---------------------------------------------------------------------
if command -v valgrind >/dev/null && command -v ms_print >/dev/null; then
	echo "bench: massif..." >&2
	root=$work/tree-heap
	make_tree "$root"
	peak() { # stdin program args...
		local in=$1 out=$work/massif.out
		shift
		run_env valgrind --tool=massif --massif-out-file="$out" "$@" \
			<"$in" >/dev/null 2>&1 || true
		awk -F= '/^mem_heap_B=/ { h = $2 } /^mem_heap_extra_B=/ { t = h + $2; if (t > m) m = t }
			END { print m + 0 }' "$out"
	}
	heap=$(peak "$typical" "$hook" win10-cad prepare begin -)
	heap_floor=$(peak "$typical" "$floor_prepare" "$root/$type_rel/create")
	row "peak heap, prepare begin, typical domain (massif)" \
		"$heap B (floor: $heap_floor B)" "**$(ratio "$heap" "$heap_floor")**" \
		"< 1 MiB: $( ((heap < mib)) && echo met || echo MISSED)"
	((heap < mib)) || problems+=("peak heap $heap B is not under 1 MiB")
fi

((fails_total == 0)) || problems+=("$fails_total benchmark runs ended with an unexpected status")

# ---- report ---------------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "# gvtg-hook benchmark results"
	echo
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr); tree on $base."
	echo "Runs: $runs interleaved (wall medians), $par_runs concurrency rounds, $size_runs per size."
	echo
	echo "| measure | values | ratio | target / note |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	if ((${#problems[@]})); then
		echo
		echo "Problems:"
		printf -- '- %s\n' "${problems[@]}"
	fi
} | tee "$outdir/results.md"

if ((check && ${#problems[@]})); then
	exit 1
fi
exit 0
