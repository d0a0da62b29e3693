#!/bin/bash
# SPDX-License-Identifier: MIT
# gvtgctl's bash completion, run by bash itself on a fake tree (without the
# bash-completion package: the script's own fallback).
set -euo pipefail

completion=${1:?usage: test-completion.sh path/to/gvtgctl.bash}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4" \
	"$root/sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8" \
	"$root/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1" \
	"$root/sys/bus/mdev/devices/aaaaaaaa-1111-4111-8111-111111111111" \
	"$root/etc/mdevctl.d/0000:00:02.0" "$root/etc/mdevctl.d/scripts.d/callouts"
echo '{"mdev_type": "i915-GVTg_V5_4", "start": "manual", "attrs": []}' \
	>"$root/etc/mdevctl.d/0000:00:02.0/dddddddd-4444-4444-8444-444444444444"

# A virsh that lists two defined domains, for attach and detach.
mkdir -p "$root/bin"
printf '#!/bin/sh\nprintf "win10\\nwin11\\n\\n"\n' >"$root/bin/virsh"
chmod +x "$root/bin/virsh"
PATH=$root/bin:$PATH

# shellcheck source=/dev/null
source "$completion"

failures=0

# complete LINE EXPECTED: the words offered for the last word of LINE.
expect()
{
	local line=$1 expected=$2
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_gvtgctl
	local got
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
	if [[ $got != "$expected" ]]; then
		echo "FAIL: '$line' offers '$got', expected '$expected'"
		failures=$((failures + 1))
	else
		echo "ok: '$line'"
	fi
}

expect "gvtgctl cr" "create"
expect "gvtgctl --root $root l" "list"
expect "gvtgctl --root $root create --parent " "0000:00:02.0 mtty"
expect "gvtgctl --root $root create --parent 0000:00:02.0 --type " "i915-GVTg_V5_4 i915-GVTg_V5_8"
expect "gvtgctl --root $root create --type m" "mtty-1"
expect "gvtgctl --root $root remove " "--config --force --help --root --verbose aaaaaaaa-1111-4111-8111-111111111111"
expect "gvtgctl --root $root types 0" "0000:00:02.0"
expect "gvtgctl xml --display " "gtk off spice"
expect "gvtgctl sleep p" "post pre"
expect "gvtgctl de" "define detach"
expect "gvtgctl --root $root define --" "--auto --config --help --json --parent --root --type --verbose"
expect "gvtgctl --root $root define --type " "i915-GVTg_V5_4 i915-GVTg_V5_8 mtty-1"
expect "gvtgctl --root $root undefine " "--config --help --root --verbose dddddddd-4444-4444-8444-444444444444"
expect "gvtgctl boot --s" "--stop"
expect "gvtgctl he" "help"
expect "gvtgctl help at" "attach"
expect "gvtgctl list --" "--config --defined --help --json --parent --root --uuid --verbose"
expect "gvtgctl attach --d" "--display --dry-run"
expect "gvtgctl attach w" "win10 win11"
expect "gvtgctl detach --connect qemu:///system w" "win10 win11"
expect "gvtgctl --root $root attach win10 --type " "i915-GVTg_V5_4 i915-GVTg_V5_8 mtty-1"

complete -p gvtgctl >/dev/null
exit $((failures > 0))
