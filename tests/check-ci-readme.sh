#!/bin/bash
# SPDX-License-Identifier: MIT
# CI runs README's Quick start commands as written (.ci/run): they must be found there,
# the first one building, installing and running the demo, the second the whole suite.
set -euo pipefail
src=${1:?source directory}
mapfile -t cmds < <("$src/.ci/run" --print)
fail() {
	echo "FAIL: $*"
	exit 1
}
((${#cmds[@]} == 2)) || fail ".ci/run found ${#cmds[@]} commands"
[[ ${cmds[0]} == *"meson install -C build"*"scripts/demo.sh build" ]] ||
	fail "README command 1 is not the build, install and demo: ${cmds[0]}"
[[ ${cmds[1]} == *"scripts/test-all.sh" ]] ||
	fail "README command 2 is not the whole suite: ${cmds[1]}"
for c in "${cmds[@]}"; do
	grep -qxF "    $c" "$src/README.md" || fail "not in README.md as written: $c"
done
echo "ok: .ci/run runs README's two commands: ${cmds[0]} / ${cmds[1]}"
