#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Build the libFuzzer targets (in ./build-fuzz, with clang) and run each for a bounded
# time on a working corpus seeded from tests/data and tests/data/hostile.  Exit 1 when a
# target crashes, leaks or times out; the input that did it is left in
# build-fuzz/fuzz-artifacts/ (copy it to tests/data/hostile/ as a regression case).
#
# Usage: fuzz/run.sh [SECONDS]   (default 60 s per target)
#   env: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_JOBS (parallel
#   workers per target, default 1)
set -euo pipefail

seconds=${1:-60}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD:-$src/build-fuzz}
jobs=${FUZZ_JOBS:-1}

if ! command -v clang >/dev/null; then
	echo "fuzz/run.sh: clang is needed" >&2
	exit 77
fi
if [[ ! -f $build/build.ninja ]]; then
	CC=clang meson setup "$build" "$src" -Dfuzzers=true -Dtests=false >/dev/null
fi
ninja -C "$build" fuzz/fuzz-domain fuzz/fuzz-config fuzz/fuzz-placement fuzz/fuzz-definition \
	>/dev/null

work=$src/fuzz/corpus-work
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

seed() { # target dir, then seed files
	local dir=$1
	shift
	mkdir -p "$dir"
	local f
	for f in "$@"; do
		[[ -f $f ]] && cp -f -- "$f" "$dir/seed-$(basename "$f")"
	done
	return 0
}
shopt -s nullglob
xml_seeds=("$src"/tests/data/*.xml "$src"/tests/data/hostile/* "$src"/bench/data/*.xml)
seed "$work/domain" "${xml_seeds[@]}"
seed "$work/placement" "${xml_seeds[@]}"
seed "$work/config" "$src"/fuzz/corpus/config/* "$src"/tests/data/*.conf
seed "$work/definition" "$src"/fuzz/corpus/definition/*

par=()
((jobs > 1)) && par=(-jobs="$jobs" -workers="$jobs")
# libFuzzer writes fuzz-N.log files in the current directory with -jobs.
cd "$build"
status=0
for t in domain config placement definition; do
	dict=$src/fuzz/xml.dict
	[[ $t == config ]] && dict=$src/fuzz/ini.dict
	[[ $t == definition ]] && dict=$src/fuzz/json.dict
	echo "fuzz: $t for $seconds s" >&2
	log=$build/fuzz-$t.log
	# -max_len: domain XML seeds reach a few KiB; larger inputs are covered by the
	# hostile suite.  -timeout: one input may not take more than 10 s.
	if ! "$build/fuzz/fuzz-$t" "$work/$t" -dict="$dict" -max_total_time="$seconds" \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 "${par[@]}" \
		-artifact_prefix="$artifacts/$t-" -print_final_stats=1 >"$log" 2>&1; then
		echo "fuzz: $t FAILED, see $log and $artifacts/" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" >&2 || true
		status=1
	else
		grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log" | tail -2 >&2 || true
	fi
done
exit $status
