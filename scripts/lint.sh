#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Static analysis of lib/ and hook/: clang-tidy with the checks in .clang-tidy, using the
# compile commands of a build directory, then cppcheck on the same files.  Exit 1 on any
# finding.
#
# Usage: scripts/lint.sh [BUILD_DIR]   (default: build-dev, configured when missing)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build-dev}
cd "$src"

if [[ ! -f $build/compile_commands.json ]]; then
	meson setup "$build" --native-file build-dev.ini -Dtests=false >/dev/null
fi
# config.h is generated: the compile commands include it.
ninja -C "$build" >/dev/null

files=(lib/*.c hook/*.c)
status=0

tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [[ -n $tidy ]]; then
	echo "lint: clang-tidy on ${#files[@]} files" >&2
	"$tidy" -p "$build" --quiet "${files[@]}" 2>/dev/null || status=1
else
	echo "lint: clang-tidy not installed, skipped" >&2
fi

if command -v cppcheck >/dev/null; then
	echo "lint: cppcheck" >&2
	# missingIncludeSystem: system headers are left out on purpose (faster, fewer false
	# alarms).  resourceLeak, memleak: cppcheck does not know __attribute__((cleanup)),
	# which closes and frees everything it reports; leaks are the job of the valgrind,
	# ASan and fuzz runs.  The core module handle in hook/main.c is kept until exit.
	# readdirCalled: glibc's readdir is safe per DIR, readdir_r is the deprecated one.
	# varFuncNullUB: NULL ends gvtg_path_join()'s list; glibc defines it as a pointer and
	# the function carries __attribute__((sentinel)).
	cppcheck --quiet --error-exitcode=1 --std=c11 --library=posix --library=gnu \
		--enable=warning,portability,performance \
		--suppress=missingIncludeSystem --suppress=resourceLeak --suppress=memleak \
		--suppress=readdirCalled --suppress=varFuncNullUB \
		--inline-suppr -D_GNU_SOURCE -Ilib -Ihook \
		--include="$build/config.h" "${files[@]}" || status=1
fi
exit $status
