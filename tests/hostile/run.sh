#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Hostile input against the built hook: every file of tests/data/hostile/ plus large
# inputs generated here (huge attributes, thousands of hostdevs, deep nesting, ...) and
# odd stdins (empty, closed, a directory), each with "prepare begin" and "release end"
# on a fresh fake sysfs tree.  For every run:
#   - it ends within the time limit, by exit 0 or 1 (no signal, no other status);
#   - nothing on stdout;
#   - at most one line on stderr, printable, bounded, with no file content leaked;
#   - nothing in the tree changed except the type's create file (which may only hold
#     a lower-case UUID) and the state directory run/gvtg-hook/.
#
# Usage: run.sh [HOSTILE_DIR]   env: GVTG_HOOK (the built hook, required),
#        GVTG_HOSTILE_TIMEOUT (seconds per run, default 10), GVTG_HOSTILE_KEEP=1 (keep
#        the work directory for a look at a failure).
set -euo pipefail

hook=${GVTG_HOOK:-}
data=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/hostile" && pwd)}
limit=${GVTG_HOSTILE_TIMEOUT:-10}
if [[ -z $hook || ! -x $hook ]]; then
	echo "hostile: GVTG_HOOK must name the built gvtg-hook" >&2
	exit 77
fi
command -v timeout >/dev/null || { echo "hostile: timeout(1) missing" >&2; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gvtg-hostile.XXXXXX")
if [[ ${GVTG_HOSTILE_KEEP:-0} == 1 ]]; then
	echo "hostile: work directory $work" >&2
else
	trap 'rm -rf -- "$work"' EXIT
fi

parent=0000:00:02.0
type_rel=sys/devices/pci0000:00/$parent/mdev_supported_types/i915-GVTg_V5_4
uuid_a=4b20d080-1b54-4048-85b3-a6a62d165c01

# The template tree: one GVT-g parent, one type, plus bait a traversal would hit.
template=$work/template
make_template() {
	local t=$template/$type_rel
	mkdir -p "$t" "$template/sys/class/mdev_bus" "$template/sys/bus/mdev/devices" \
		"$template/etc" "$template/usr/local/etc" "$template/run"
	ln -s "../../devices/pci0000:00/$parent" "$template/sys/class/mdev_bus/$parent"
	echo GVTg_V5_4 >"$t/name"
	echo 2 >"$t/available_instances"
	echo vfio-pci >"$t/device_api"
	printf 'low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4\n' \
		>"$t/description"
	: >"$t/create"
	chmod 0200 "$t/create"
	echo "root:x:0:0:bait:/root:/bin/bash" >"$template/etc/passwd"
	echo "bait" >"$template/etc/shadow"
}
make_template

# Every file: path, type, size, mode, mtime, content hash.  Directories without size.
snapshot() {
	(cd "$1" && {
		find . -printf '%p %y %m %s %T@\n'
		find . -type f -exec md5sum {} + | awk '{ print $2 " md5 " $1 }'
	} | sort)
}

# A domain in the style of the static files, with the given devices and metadata.
domain() { # $1: extra lines in <devices>, $2: <metadata> content, $3: name
	printf '%s\n' "<!-- SPDX-License-Identifier: MIT -->" "<domain type='kvm' id='7'>" \
		"  <name>${3:-generated}</name>" \
		"  <uuid>11111111-2222-4333-8444-555555555599</uuid>"
	[[ -n ${2:-} ]] && printf '  <metadata>%s</metadata>\n' "$2"
	printf '%s\n' "  <devices>" "$1" "    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>" \
		"      <source><address uuid='$uuid_a'/></source>" "    </hostdev>" "  </devices>" \
		"</domain>"
}
rep() { # print $2 $1 times, fast
	awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

gen=$work/gen
mkdir -p "$gen"
generate() {
	local mib=$((1024 * 1024))
	# The hook reads at most 8 MiB (GVTG_XML_MAX); these stay just under it.
	domain "" "<gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'><gvtg:device uuid='$uuid_a' parent='$(rep $((7 * mib)) a)' type='x'/></gvtg:vgpu>" \
		>"$gen/huge-attribute-7mib.xml"
	domain "" "<gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'><gvtg:device uuid='$uuid_a' parent='$(rep $mib 0)' type='$(rep $mib 1)'/></gvtg:vgpu>" \
		>"$gen/huge-attribute-1mib.xml"
	domain "" "" "$(rep $((4 * mib)) N)" >"$gen/huge-name-4mib.xml"
	domain "<disk>$(rep $((7 * mib)) 'x')</disk>" "" >"$gen/huge-text-7mib.xml"
	domain "" "<a>$(rep $((7 * mib / 4)) '<a/>')</a>" >"$gen/small-elements-7mib.xml"
	domain "<hostdev mode='subsystem' type='mdev'><source><address uuid='4b20d080-1b54-4048-85b3-a6a62d165c02'/></source>$(rep $((7 * mib / 4)) '<a/>')</hostdev>" "" \
		>"$gen/hostdev-elements-7mib.xml"
	domain "$(for ((i = 0; i < 5000; i++)); do
		printf "    <hostdev mode='subsystem' type='mdev'><source><address uuid='4b20d080-1b54-4048-85b3-%012x'/></source></hostdev>\n" "$i"
	done)" "" >"$gen/hostdevs-5000.xml"
	domain "$(for ((i = 0; i < 65; i++)); do
		printf "    <hostdev mode='subsystem' type='mdev'><source><address uuid='4b20d080-1b54-4048-85b3-%012x'/></source></hostdev>\n" "$i"
	done)" "" >"$gen/hostdevs-65.xml"
	domain "" "<gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>$(for ((i = 0; i < 5000; i++)); do
		printf "<gvtg:device uuid='4b20d080-1b54-4048-85b3-%012x' parent='../%d' type='t'/>" "$i" "$i"
	done)</gvtg:vgpu>" >"$gen/metadata-5000.xml"
	domain "" "$(rep 100000 '<a>')$(rep 100000 '</a>')" >"$gen/deep-nesting-100000.xml"
	domain "" "$(rep 250 '<a>')$(rep 250 '</a>')" >"$gen/deep-nesting-250.xml"
	domain "<video a0='0' $(awk 'BEGIN { for (i = 1; i < 100000; i++) printf "a%d=\"%d\" ", i, i }')/>" "" \
		>"$gen/attributes-100000.xml"
	domain "<video $(awk 'BEGIN { for (i = 0; i < 1000; i++) printf "xmlns:p%d=\"urn:%d\" ", i, i }')/>" \
		"" >"$gen/namespaces-1000.xml"
	domain "<disk>$(rep $((9 * mib)) ' ')</disk>" "" >"$gen/over-8mib.xml"
	# 100000 attributes in UTF-16, both byte orders: refused as not UTF-8 (the raw
	# attribute count would have seen quotes in the zero bytes)
	domain "<video $(awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a%d=\"%d\" ", i, i }')/>" "" |
		iconv -f UTF-8 -t UTF-16LE >"$gen/attributes-100000-utf16le.xml"
	domain "<video $(awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a%d=\"%d\" ", i, i }')/>" "" |
		iconv -f UTF-8 -t UTF-16BE >"$gen/attributes-100000-utf16be.xml"
	domain "" "" "$(rep 300000 '&amp;')" >"$gen/many-entity-refs.xml"
	: >"$gen/empty-file.xml"
}
generate

fails=0
total=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# Run one case.  $1 label, $2 stdin mode (file|empty|closed|dir), $3 file, $4 $5 op sub.
run_case() {
	local label=$1 mode=$2 file=$3 op=$4 sub=$5
	local tree=$work/tree out=$work/out err=$work/err rc=0 t0=$SECONDS
	rm -rf "$tree"
	cp -a "$template" "$tree"
	snapshot "$tree" >"$work/before"
	local ms0
	ms0=$(date +%s%N)
	local -a cmd=(timeout -s KILL "$limit" env -i PATH=/usr/bin:/bin LC_ALL=C
		GVTG_ROOT="$tree" "$hook" hostile "$op" "$sub" -)
	case $mode in
	file) "${cmd[@]}" <"$file" >"$out" 2>"$err" || rc=$? ;;
	empty) "${cmd[@]}" </dev/null >"$out" 2>"$err" || rc=$? ;;
	closed) "${cmd[@]}" <&- >"$out" 2>"$err" || rc=$? ;;
	dir) "${cmd[@]}" <"$work" >"$out" 2>"$err" || rc=$? ;;
	esac
	total=$((total + 1))
	local what="$label ($op $sub)"
	local ms=$((($(date +%s%N) - ms0) / 1000000))
	# Input in another encoding is refused outright, at once.
	if [[ $label == *utf16* && $op == prepare ]]; then
		((ms < 1000)) || fail "$what: took $ms ms"
		grep -q 'not UTF-8' "$err" || fail "$what: not refused as non-UTF-8: $(cat "$err")"
	fi
	((SECONDS - t0 < 5)) || echo "hostile: $what took $((SECONDS - t0)) s" >&2
	if ((rc == 137)); then
		fail "$what: still running after $limit s"
	elif ((rc != 0 && rc != 1)); then
		fail "$what: exit status $rc"
	elif ((rc != 0)) && [[ $op != prepare ]]; then
		fail "$what: exit status $rc: only prepare may fail"
	fi
	[[ ! -s $out ]] || fail "$what: wrote $(wc -c <"$out") bytes on stdout"
	local lines
	lines=$(wc -l <"$err")
	if ((lines > 1)); then
		fail "$what: $lines lines on stderr: $(head -c 300 "$err")"
	fi
	if [[ -s $err ]]; then
		[[ $(tail -c 1 "$err" | od -An -c | tr -d ' ') == '\n' ]] ||
			fail "$what: stderr does not end with a newline"
		(($(wc -c <"$err") <= 2048)) || fail "$what: stderr line of $(wc -c <"$err") bytes"
		if LC_ALL=C grep -q '[^[:print:]]' "$err"; then
			fail "$what: control or non-ASCII bytes on stderr: $(od -c "$err" | head -3)"
		fi
		if grep -q -e 'root:x:0:0' -e 'bait' "$err"; then
			fail "$what: file content leaked into the message"
		fi
		((rc != 0)) || [[ $op != prepare ]] ||
			fail "$what: exit 0 with a message: $(cat "$err")"
	fi
	((rc == 0)) || [[ -s $err ]] || fail "$what: exit $rc without a message"
	snapshot "$tree" >"$work/after"
	# Only the create file and the state directory may change.
	local changed
	changed=$(diff "$work/before" "$work/after" | sed -n 's/^[<>] //p' |
		grep -v -e "^\./$type_rel/create " -e '^\./run[ /]' | sort -u || true)
	[[ -z $changed ]] || fail "$what: tree changed outside create and run/gvtg-hook: $changed"
	local c
	c=$(cat "$tree/$type_rel/create")
	[[ -z $c || $c =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
		fail "$what: create received '$(printf %q "$c" | head -c 100)'"
}

shopt -s nullglob
files=("$data"/* "$gen"/*)
for f in "${files[@]}"; do
	[[ -f $f ]] || continue
	for ops in "prepare begin" "release end"; do
		# shellcheck disable=SC2086 # two words on purpose
		run_case "$(basename "$f")" file "$f" $ops
	done
done
for mode in empty closed dir; do
	for ops in "prepare begin" "release end" "started begin" "reconnect begin"; do
		# shellcheck disable=SC2086
		run_case "stdin:$mode" "$mode" "" $ops
	done
done

echo "hostile: $total runs, $fails failures" >&2
((fails == 0))
