#!/bin/bash
# SPDX-License-Identifier: MIT
# gvtgctl check against the real built hook, installed in a fake root the way meson
# install does (the qemu.d link to the executable) and copied as hooks/qemu: the
# hook-self-test check passes with gvtg-hook-core.so beside the executable and fails,
# saying so, without it.  Environment: GVTGCTL, GVTG_HOOK, HOOK_PATH, HOOKS_DIR.
set -euo pipefail

gvtgctl=${GVTGCTL:?GVTGCTL: path to gvtgctl}
hook=${GVTG_HOOK:?GVTG_HOOK: path to the built hook}
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

mkdir -p "$root/${HOOK_PATH%/*}" "$root/$HOOKS_DIR/qemu.d"
cp "$hook" "$root/$HOOK_PATH"
ln -s "$HOOK_PATH" "$root/$HOOKS_DIR/qemu.d/50-gvtg-hook"

# installed without its module
got=$(self_test)
case $got in
"FAIL hook $HOOK_PATH cannot load its module: "*) ;;            # a hook without --self-test
"FAIL hook $HOOK_PATH fails its self-test (exit 1): gvtg-hook: "*) ;;
*) fail "no module: $got" ;;
esac

# with it
cp "$core" "$root/${HOOK_PATH%/*}/"
got=$(self_test)
case $got in
"PASS hook module ${HOOK_PATH%/*}/gvtg-hook-core.so present (this hook has no --self-test)") ;;
"PASS hook $HOOK_PATH loads its module and parses a domain (--self-test)") ;;
*) fail "installed: $got" ;;
esac

# copied as hooks/qemu, the module not beside the copy
rm "$root/$HOOKS_DIR/qemu.d/50-gvtg-hook"
cp "$hook" "$root/$HOOKS_DIR/qemu"
got=$(self_test)
[[ $got == FAIL* ]] || fail "a copy without its module beside it: $got"
hookcheck=$({ "$gvtgctl" --root "$root" check --json || true; } | jq -r '.checks[] | select(.id == "hook") | .check')
[[ $hookcheck == "hook installed: $HOOKS_DIR/qemu" ]] || fail "the copy is not found as the hook: $hookcheck"

if ((failures)); then
	exit 1
fi
echo "ok: gvtgctl check runs the built hook's self-test"
