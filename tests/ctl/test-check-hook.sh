#!/bin/bash
# SPDX-License-Identifier: MIT
# gvtgctl check against the real built hook, installed in a fake root the way meson
# install does (the executable at HOOK_PATH, linked from qemu.d unless it is there) and
# copied as hooks/qemu: the hook-self-test check passes with gvtg-hook-core.so where the
# hook finds it and fails, saying so, without it.  Environment: GVTGCTL, GVTG_HOOK,
# HOOK_PATH, HOOK_DIR (the module's directory), HOOKS_DIR.
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

link=$HOOKS_DIR/qemu.d/50-gvtg-hook
mkdir -p "$root/${HOOK_PATH%/*}" "$root/$HOOKS_DIR/qemu.d" "$root/$HOOK_DIR"
cp "$hook" "$root/$HOOK_PATH"
[[ $HOOK_PATH == "$link" ]] || ln -s "$HOOK_PATH" "$root/$link"

# installed without its module (a hook with --self-test also looks in HOOK_DIR of the
# real system, which may have one: then only an answer is asked for)
got=$(self_test)
case $got in
"FAIL hook $HOOK_PATH cannot load its module: $HOOK_DIR/gvtg-hook-core.so is missing") ;;
"FAIL hook $HOOK_PATH fails its self-test (exit 1): gvtg-hook: "*) ;;
"PASS hook $HOOK_PATH loads its module and parses a domain (--self-test)")
	[[ -e $HOOK_DIR/gvtg-hook-core.so ]] || fail "no module anywhere, yet: $got"
	;;
*) fail "no module: $got" ;;
esac

# with it, beside the executable (where every hook looks first)
cp "$core" "$root/${HOOK_PATH%/*}/"
got=$(self_test)
case $got in
"PASS hook module ${HOOK_PATH%/*}/gvtg-hook-core.so present (this hook has no --self-test)") ;;
"PASS hook $HOOK_PATH loads its module and parses a domain (--self-test)") ;;
*) fail "installed: $got" ;;
esac

# copied as hooks/qemu: found as the hook
rm -f "$root/$link" "$root/$HOOK_PATH"
cp "$hook" "$root/$HOOKS_DIR/qemu"
hookcheck=$({ "$gvtgctl" --root "$root" check --json || true; } | jq -r '.checks[] | select(.id == "hook") | .check')
[[ $hookcheck == "hook installed: $HOOKS_DIR/qemu" ]] || fail "the copy is not found as the hook: $hookcheck"

if ((failures)); then
	exit 1
fi
echo "ok: gvtgctl check runs the built hook's self-test"
