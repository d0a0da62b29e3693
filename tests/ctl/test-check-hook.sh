#!/bin/bash
# SPDX-License-Identifier: MIT
# gvtgctl check against the real built hook, installed in a fake root the way meson
# install does (the executable at HOOK_PATH, linked from qemu.d unless it is there) and
# copied as hooks/qemu: the hook-self-test check passes with gvtg-hook-core.so where the
# hook finds it and fails, saying so, without it or with the module of another build.
# The hook takes HOOK_DIR inside the fake root (GVTG_ROOT), so nothing installed on this
# machine changes a result.  Environment: GVTGCTL, GVTG_HOOK, HOOK_PATH, HOOK_DIR (the
# module's directory), HOOKS_DIR, GVTG_OTHER_BUILD_CORE (a module of another build).
set -euo pipefail

gvtgctl=${GVTGCTL:?GVTGCTL: path to gvtgctl}
hook=${GVTG_HOOK:?GVTG_HOOK: path to the built hook}
other=${GVTG_OTHER_BUILD_CORE:?GVTG_OTHER_BUILD_CORE: a module of another build}
command -v jq >/dev/null 2>&1 || { echo "SKIP: no jq"; exit 77; }
core=$(dirname "$hook")/gvtg-hook-core.so
[[ -f $core ]] || { echo "FAIL: no $core beside the hook"; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# the id's result and text, one line: "PASS hook ... (--self-test)"
self_test() {
	# the fake root lacks everything else: check exits 1
	{ "$gvtgctl" --root "$root" check --json || true; } |
		jq -r '.checks[] | select(.id == "hook-self-test") | "\(.result) \(.check)"'
}

link=$HOOKS_DIR/qemu.d/50-gvtg-hook
mkdir -p "$root/${HOOK_PATH%/*}" "$root/$HOOKS_DIR/qemu.d" "$root/$HOOK_DIR"
cp "$hook" "$root/$HOOK_PATH"
[[ $HOOK_PATH == "$link" ]] || ln -s "$HOOK_PATH" "$root/$link"

# installed without its module
got=$(self_test)
case $got in
"FAIL hook $HOOK_PATH fails its self-test (exit 1): gvtg-hook: self-test: loading gvtg-hook-core.so beside the hook: there is none at $root${HOOK_PATH%/*}/gvtg-hook-core.so, and $root$HOOK_DIR/gvtg-hook-core.so: cannot open shared object file: No such file or directory. Reinstall gvtg-hook"*) ;;
*) fail "no module: $got" ;;
esac

# the module of another build where the hook looks when none is beside it
ours=$("$hook" --version | sed -n 's/.*(build \(.*\))$/\1/p')
cp "$other" "$root/$HOOK_DIR/gvtg-hook-core.so"
theirs=$(sed -n 's/.*"\([0-9.]*+[0-9a-f]\{16\}\)".*/\1/p' "$(dirname "$other")/build-id.c")
got=$(self_test)
case $got in
"FAIL hook $HOOK_PATH fails its self-test (exit 1): gvtg-hook: self-test: loading gvtg-hook-core.so beside the hook: there is none at $root${HOOK_PATH%/*}/gvtg-hook-core.so, and $root$HOOK_DIR/gvtg-hook-core.so is of build $theirs, this hook of build $ours: the two must come from the same build. Reinstall gvtg-hook"*) ;;
*) fail "a module of another build ($theirs, ours $ours): $got" ;;
esac
[[ -n $ours && -n $theirs && $ours != "$theirs" ]] || fail "builds not told apart: '$ours' '$theirs'"

# the module of the same build installed there (the hook's fallback)
cp "$core" "$root/$HOOK_DIR/gvtg-hook-core.so"
got=$(self_test)
[[ $got == "PASS hook $HOOK_PATH loads its module and parses a domain (--self-test)" ]] ||
	fail "the installed module of the same build: $got"
rm -f "$root/$HOOK_DIR/gvtg-hook-core.so"

# with it, beside the executable (where every hook looks first)
cp "$core" "$root/${HOOK_PATH%/*}/"
got=$(self_test)
case $got in
"PASS hook module ${HOOK_PATH%/*}/gvtg-hook-core.so present (this hook has no --self-test)") ;;
"PASS hook $HOOK_PATH loads its module and parses a domain (--self-test)") ;;
*) fail "installed: $got" ;;
esac

# copied as hooks/qemu: found as the hook
rm -f "$root/$link" "$root/$HOOK_PATH" "$root/${HOOK_PATH%/*}/gvtg-hook-core.so"
cp "$hook" "$root/$HOOKS_DIR/qemu"
hookcheck=$({ "$gvtgctl" --root "$root" check --json || true; } | jq -r '.checks[] | select(.id == "hook") | .check')
[[ $hookcheck == "hook installed: $HOOKS_DIR/qemu" ]] || fail "the copy is not found as the hook: $hookcheck"
# nothing beside the copy: it loads the module of its build from HOOK_DIR, no other
got=$(self_test)
[[ $got == "FAIL hook $HOOKS_DIR/qemu fails its self-test (exit 1): "* ]] || fail "the copy, alone: $got"
cp "$core" "$root/$HOOK_DIR/gvtg-hook-core.so"
got=$(self_test)
[[ $got == "PASS hook $HOOKS_DIR/qemu loads its module and parses a domain (--self-test)" ]] ||
	fail "the copy with the module of its build in $HOOK_DIR: $got"
cp "$other" "$root/$HOOK_DIR/gvtg-hook-core.so"
got=$(self_test)
[[ $got == "FAIL hook $HOOKS_DIR/qemu fails its self-test (exit 1): "*" is of build $theirs, this hook of build $ours: "* ]] ||
	fail "the copy with a module of another build in $HOOK_DIR: $got"

if ((failures)); then
	exit 1
fi
echo "ok: gvtgctl check runs the built hook's self-test"
