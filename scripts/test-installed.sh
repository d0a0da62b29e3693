#!/bin/bash
# SPDX-License-Identifier: MIT
# The quick suites with gvtg-hook installed where README's first command installs it
# (/usr/local, the hook in /etc/libvirt/hooks): nothing installed on the machine may
# change a result.  When none of BUILD's files is on the machine, BUILD is installed for
# the run and exactly what it laid out is removed after (files, then the directories it
# created); an install already there (README's first command, or an older one) is used
# as it is.  Then the hook's fallback on the real machine: a copy of BUILD's hook with
# nothing beside it loads the installed module only when it is of its own build, and
# otherwise refuses it naming both builds.
# Root only; it changes /usr/local and /etc: run it alone (CI) or under the real-stack
# lock (flock /tmp/gvtg-realstack.lock scripts/test-installed.sh BUILD).
#   scripts/test-installed.sh BUILD
set -euo pipefail
build=$(cd "${1:?usage: scripts/test-installed.sh BUILD}" && pwd)
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (installs into the system)"; exit 77; }
define() { sed -n "s/^#define $1 \"\\(.*\\)\"\$/\\1/p" "$build/config.h"; }
hook_path=$(define GVTG_HOOK_PATH)
hook_dir=$(define GVTG_HOOK_DIR)
hook=$build/hook/gvtg-hook
work=$(mktemp -d /tmp/gvtg-installed.XXXXXX)
installed_files=()
created_dirs=()
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
cleanup() {
	local f d
	for f in "${installed_files[@]}"; do
		rm -f "$f"
	done
	for ((d = ${#created_dirs[@]} - 1; d >= 0; d--)); do
		rmdir "${created_dirs[d]}" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# What `meson install` lays out, learnt from a scratch DESTDIR.
meson install -C "$build" --no-rebuild --quiet --destdir "$work/dest" >/dev/null
mapfile -t files < <(cd "$work/dest" && find . ! -type d | sed 's/^\.//' | sort)
mapfile -t dirs < <(cd "$work/dest" && find . -mindepth 1 -type d | sed 's/^\.//' | sort)
present=()
for f in "${files[@]}"; do
	[[ -e $f || -L $f ]] && present+=("$f")
done
if ((${#present[@]} == 0)); then
	for d in "${dirs[@]}"; do
		[[ -d $d ]] || created_dirs+=("$d")
	done
	installed_files=("${files[@]}")
	meson install -C "$build" --no-rebuild --quiet >/dev/null
	echo "installed $build for this run (${#files[@]} files): $hook_path, $hook_dir"
else
	echo "an install is present (${#present[@]} of ${#files[@]} files, e.g. ${present[0]}):" \
		"running with it"
fi

rc=0
meson test -C "$build" --no-rebuild --print-errorlogs --suite unit --suite sim --suite ctl \
	--suite hostile --suite docs || rc=$?
((rc == 0)) || fail "the quick suites with an install present (exit $rc)"

# The hook's fallback against what is really installed in its compiled directory.
ours=$("$hook" --version | sed -n 's/.*(build \(.*\))$/\1/p')
mkdir "$work/alone"
cp "$hook" "$work/alone/gvtg-hook"
err=$("$work/alone/gvtg-hook" --self-test 2>&1) && st=0 || st=$?
theirs=
if [[ -x $hook_path ]]; then
	theirs=$("$hook_path" --version | sed -n 's/.*(build \(.*\))$/\1/p')
fi
if [[ -n $theirs && $theirs == "$ours" ]]; then
	[[ $st == 0 && -z $err ]] ||
		fail "a copy of the hook alone, its build's module in $hook_dir: exit $st: $err"
	"$hook_path" --self-test || fail "the installed hook $hook_path fails its self-test"
	echo "ok: a copy alone loads the installed module of its build ($ours)"
elif [[ -e $hook_dir/gvtg-hook-core.so ]]; then
	[[ $st == 1 && $err == "gvtg-hook: self-test: loading gvtg-hook-core.so beside the hook: there is none at $work/alone/gvtg-hook-core.so, and $hook_dir/gvtg-hook-core.so is of build "*", this hook of build $ours: the two must come from the same build. Reinstall gvtg-hook"* ]] ||
		fail "a copy of the hook alone, another build's module in $hook_dir: exit $st: $err"
	echo "ok: a copy alone refuses the installed module of another build: $err"
else
	[[ $st == 1 ]] || fail "a copy of the hook alone, no module in $hook_dir: exit $st"
fi
((failures == 0)) || exit 1
echo "ok: nothing installed changed a result"
