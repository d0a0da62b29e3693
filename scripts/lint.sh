#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Static analysis of lib/ and hook/: clang-tidy with the checks in .clang-tidy, using the
# compile commands of a build directory, then cppcheck on the same files; then the layout
# of the lines a change touches (git clang-format).  Exit 1 on any finding.
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
# The layout of the lines a change touches (.clang-format), against the base the change
# is made on: GVTG_FORMAT_BASE, else the merge base with origin/main or main.  On the
# base itself (a push to main, a fresh clone of one commit) only uncommitted lines are
# looked at; with no git, no base or no git-clang-format the check is skipped.
gcf=$(command -v git-clang-format-14 || command -v git-clang-format || true)
if [[ -z $gcf ]]; then
	echo "lint: git-clang-format not installed, layout check skipped" >&2
elif ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	echo "lint: not a git checkout, layout check skipped" >&2
else
	base=
	for ref in ${GVTG_FORMAT_BASE:-} origin/main main; do
		base=$(git merge-base HEAD "$ref" 2>/dev/null) && break
		base=
	done
	if [[ -z $base ]]; then
		echo "lint: no base to compare with, layout check skipped" >&2
	else
		echo "lint: layout of the lines changed since ${base:0:12}" >&2
		fmt=$("$gcf" --binary "$(command -v clang-format-14 || command -v clang-format)" \
			--diff "$base" -- lib hook ctl fuzz bench 2>&1) || true
		if grep -q '^diff ' <<<"$fmt"; then
			echo "$fmt"
			echo "lint: these changed lines differ from .clang-format: 'git clang-format $base' fixes them" >&2
			status=1
		fi
	fi
fi
exit $status
