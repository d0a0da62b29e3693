#!/bin/bash
# SPDX-License-Identifier: MIT
# Staged installs of this source tree, as an admin and a packager run them: real prefixes
# in a temporary directory (the hooks directory too, -Dhooks_dir) and DESTDIR trees.
# What each install leaves, what `ninja uninstall` removes, and that nothing replaces a
# hook file that is not gvtg-hook's:
#   1. default layout (prefix <tmp>/usr/local): the executable copied into the hooks
#      directory and linked from qemu.d, the units, rule and tmpfiles entry under
#      <prefix>/lib; uninstall leaves only the configuration file; reinstall is the same;
#   2. --prefix=/usr into DESTDIR: the distribution's directories (systemd.pc, udev.pc),
#      the link to <sbindir>/gvtg-hook; /usr/local into DESTDIR: nothing under /lib, /usr/lib;
#   3. hook_install=qemu with the admin's own hooks/qemu (a file, a symlink): meson setup
#      refuses, naming it and qemu.d, and leaves it; one that appears after setup stops
#      meson install the same way; our own link there is replaced;
#   4. switching layout and prefix (hooks_dir copy, then sbindir): the newer link wins,
#      each uninstall removes its own files; an old-style copy in qemu.d is named at setup.
# Needs meson, ninja and a C toolchain (the build's); no root, nothing outside its
# temporary directory is written.  About 60 s on 2 cores (six small builds, tests off).
set -euo pipefail

src=${GVTG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
for tool in meson ninja; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing"; exit 77; }
done
T=$(mktemp -d /tmp/gvtg-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
npass=0
nfail=0
pass() { echo "PASS: $*"; npass=$((npass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# setup NAME ARGS...: configure a build of the tree without its tests (log in NAME.log).
setup() {
	local name=$1
	shift
	timeout 120 meson setup "$T/$name" "$src" -Dtests=false -Dlibvirt=disabled \
		-Dbash_completion=disabled -Dsystemd=enabled -Dudev=enabled "$@" \
		>"$T/$name.log" 2>&1
}
build() { timeout 300 ninja -C "$T/$1" >>"$T/$1.log" 2>&1; }
inst() { timeout 120 meson install -C "$T/$1" --no-rebuild >>"$T/$1.log" 2>&1; }
uninst() { timeout 120 ninja -C "$T/$1" uninstall >>"$T/$1.log" 2>&1; }
# tree DIR: "kind path [-> target]" for everything but directories, paths relative to DIR.
tree() {
	(cd "$1" && find . ! -type d | sort) | while IFS= read -r f; do
		if [ -L "$1/$f" ]; then
			echo "l ${f#.} -> $(readlink "$1/$f")"
		elif [ -x "$1/$f" ]; then
			echo "x ${f#.}"
		else
			echo "f ${f#.}"
		fi
	done
}
show() { sed -e 's/^/    | /' "$1" | tail -n "${2:-15}"; }
version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)

# ---- 1. the default layout, a real prefix ---------------------------------------------
P=$T/root
H=$P/etc/libvirt/hooks
if setup local --prefix="$P/usr/local" -Dhooks_dir="$H" && build local && inst local; then
	pass "default layout: setup, build, install into $P/usr/local"
	tree "$P" | sed "s|$P|@|g" >"$T/local-1.txt"
	for want in "x /etc/libvirt/hooks/gvtg-hook" \
		"l /etc/libvirt/hooks/qemu.d/50-gvtg-hook -> @/etc/libvirt/hooks/gvtg-hook" \
		"f /usr/local/lib/systemd/system/gvtg-boot.service" \
		"f /usr/local/lib/systemd/system/gvtg-sleep.service" \
		"l /usr/local/lib/systemd/system/sleep.target.wants/gvtg-sleep.service -> ../gvtg-sleep.service" \
		"f /usr/local/lib/udev/rules.d/85-gvtg-hook.rules" \
		"f /usr/local/lib/tmpfiles.d/gvtg-hook.conf" \
		"x /usr/local/libexec/gvtg-hook/gvtg-hook-core.so" "x /usr/local/sbin/gvtgctl" \
		"f /usr/local/etc/gvtg-hook.conf"; do
		grep -qxF "$want" "$T/local-1.txt" || fail "default layout: no '$want'"
	done
	if grep -v -e ' /usr/local/' -e ' /etc/libvirt/hooks/' "$T/local-1.txt" >"$T/stray"; then
		fail "default layout: files outside <prefix> and the hooks directory:"
		show "$T/stray"
	else
		pass "default layout: everything under <prefix> and the hooks directory ($(wc -l <"$T/local-1.txt") files)"
	fi
	out=$(timeout 20 "$H/qemu.d/50-gvtg-hook" --version 2>&1) || true
	check "default layout: the registered hook runs ($out)" test "${out%% (build *}" = "gvtg-hook $version"
	# The copy loads the module from where it was installed: a domain without vGPU.
	if out=$(timeout 20 env GVTG_ROOT=/nonexistent "$H/qemu.d/50-gvtg-hook" d prepare begin - \
		<"$src/tests/data/no-mdev.xml" 2>&1) && [ -z "$out" ]; then
		pass "default layout: the registered hook passes a domain without vGPU"
	else
		fail "default layout: the registered hook on a domain without vGPU: $out"
	fi
	if uninst local; then
		tree "$P" | sed "s|$P|@|g" >"$T/local-u.txt"
		if [ "$(cat "$T/local-u.txt")" = "f /usr/local/etc/gvtg-hook.conf" ]; then
			pass "ninja uninstall removes everything but the configuration file (the copied hook too)"
		else
			fail "ninja uninstall left:"
			show "$T/local-u.txt"
		fi
	else
		fail "ninja uninstall:"
		show "$T/local.log"
	fi
	echo '# the admin was here' >>"$P/usr/local/etc/gvtg-hook.conf"
	if inst local && tree "$P" | sed "s|$P|@|g" | diff -u "$T/local-1.txt" - >"$T/re.diff"; then
		pass "reinstall after uninstall: the same files as the first install"
	else
		fail "reinstall after uninstall differs:"
		show "$T/re.diff"
	fi
	check "reinstall keeps the admin's configuration file" \
		grep -qx '# the admin was here' "$P/usr/local/etc/gvtg-hook.conf"
else
	fail "default layout: setup/build/install:"
	show "$T/local.log"
fi

# ---- 2. DESTDIR: a package's prefix and the default one --------------------------------
D=$T/dest-usr
if setup usr --prefix=/usr -Dhooks_dir="/gvtg-test/hooks" && build usr &&
	DESTDIR=$D inst usr; then
	pass "--prefix=/usr: setup, build, install into DESTDIR"
	tree "$D" >"$T/usr.txt"
	unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
	udevdir=$(pkg-config --variable=udevdir udev 2>/dev/null || echo /usr/lib/udev)
	for want in "f $unitdir/gvtg-boot.service" "f $unitdir/gvtg-sleep.service" \
		"l $unitdir/sleep.target.wants/gvtg-sleep.service -> ../gvtg-sleep.service" \
		"f $udevdir/rules.d/85-gvtg-hook.rules" "x /usr/sbin/gvtg-hook" \
		"l /gvtg-test/hooks/qemu.d/50-gvtg-hook -> /usr/sbin/gvtg-hook"; do
		grep -qxF "$want" "$T/usr.txt" || fail "--prefix=/usr: no '$want'"
	done
	check "--prefix=/usr: the distribution's directories ($unitdir, $udevdir) and no system-sleep hook" \
		test "$(grep -c system-sleep "$T/usr.txt")" = 0
else
	fail "--prefix=/usr into DESTDIR:"
	show "$T/usr.log"
fi
D=$T/dest-local
if setup ul -Dhooks_dir=/gvtg-test/hooks && build ul && DESTDIR=$D inst ul; then
	if tree "$D" | grep -v -e ' /usr/local/' -e " /gvtg-test/hooks/" >"$T/stray"; then
		fail "/usr/local into DESTDIR: files outside /usr/local and the hooks directory:"
		show "$T/stray"
	else
		pass "/usr/local into DESTDIR: nothing in /lib or /usr/lib, the package's directories"
	fi
else
	fail "/usr/local into DESTDIR:"
	show "$T/ul.log"
fi

# ---- 3. hook_install=qemu: the admin's own hooks/qemu ----------------------------------
H3=$T/h3
mkdir -p "$H3"
printf '#!/bin/sh\necho the admin dispatcher\n' >"$H3/qemu"
chmod 755 "$H3/qemu"
cp -p "$H3/qemu" "$T/admin-qemu"
for kind in file symlink; do
	if [ "$kind" = symlink ]; then
		rm -f "$H3/qemu"
		ln -s /usr/local/bin/admin-dispatcher "$H3/qemu"
	fi
	rm -rf "$T/q3"
	if setup q3 --prefix="$T/r3" -Dhooks_dir="$H3" -Dhook_install=qemu; then
		fail "hook_install=qemu over the admin's $kind: meson setup went on"
	elif grep -q "$H3/qemu is a .*not gvtg-hook's.*-Dhook_install=qemu.d" "$T/q3.log"; then
		pass "hook_install=qemu over the admin's $kind: setup refuses: $(grep -o "$H3/qemu is a[^:]*" "$T/q3.log" | head -n 1)"
	else
		fail "hook_install=qemu over the admin's $kind: setup failed without naming it and qemu.d:"
		show "$T/q3.log"
	fi
done
check "hook_install=qemu: the admin's symlink is untouched" \
	test "$(readlink "$H3/qemu")" = /usr/local/bin/admin-dispatcher

# Appearing between setup and install: meson install builds first, and the build refuses.
H4=$T/h4
mkdir -p "$H4"
if setup q4 --prefix="$T/r4" -Dhooks_dir="$H4" -Dhook_install=qemu && build q4; then
	cp -p "$T/admin-qemu" "$H4/qemu"
	if timeout 300 meson install -C "$T/q4" >>"$T/q4.log" 2>&1; then
		fail "hook_install=qemu: meson install replaced a hooks/qemu that appeared after setup"
	elif cmp -s "$T/admin-qemu" "$H4/qemu" && grep -q "$H4/qemu is a file that is not gvtg-hook's" "$T/q4.log"; then
		pass "hook_install=qemu: meson install stops before a hooks/qemu that appeared after setup, naming it"
	else
		fail "hook_install=qemu: the admin's later hooks/qemu was changed or not named:"
		show "$T/q4.log"
	fi
	# Our own link (an earlier install's, whatever its prefix) is replaced; also when
	# what it leads to is gone.
	rm -f "$H4/qemu"
	ln -s /nonexistent/sbin/gvtg-hook "$H4/qemu"
	if timeout 300 meson install -C "$T/q4" >>"$T/q4.log" 2>&1 &&
		[ "$(readlink "$H4/qemu")" = "$H4/gvtg-hook" ]; then
		pass "hook_install=qemu: our own dangling hooks/qemu link is replaced"
	else
		fail "hook_install=qemu: our own dangling link was not replaced:"
		show "$T/q4.log"
	fi
	mkdir -p "$T/r0/sbin"
	echo 'usage: gvtg-hook DOMAIN OPERATION' >"$T/r0/sbin/gvtg-hook"
	rm -f "$H4/qemu"
	ln -s "$T/r0/sbin/gvtg-hook" "$H4/qemu"
	if timeout 300 meson install -C "$T/q4" >>"$T/q4.log" 2>&1 &&
		[ "$(readlink "$H4/qemu")" = "$H4/gvtg-hook" ] && uninst q4 &&
		[ -z "$(ls -A "$H4")" ]; then
		pass "hook_install=qemu: our own hooks/qemu link is replaced; uninstall leaves $H4 empty"
	else
		fail "hook_install=qemu over our own link, or its uninstall:"
		show "$T/q4.log"
	fi
else
	fail "hook_install=qemu with no hooks/qemu: setup/build:"
	show "$T/q4.log"
fi

# ---- 4. switching layout and prefix -----------------------------------------------------
if [ -d "$T/local" ] && setup sb --prefix="$P/usr" -Dhooks_dir="$H" -Dhook_layout=sbindir &&
	build sb && inst local && inst sb; then
	check "switching: meson setup warns that the link is another install's and what uninstall does" \
		grep -q "WARNING: $H/qemu.d/50-gvtg-hook links to another gvtg-hook install ($H/gvtg-hook)" "$T/sb.log"
	check "switching to the sbindir layout: the qemu.d link now leads to $P/usr/sbin/gvtg-hook" \
		test "$(readlink "$H/qemu.d/50-gvtg-hook")" = "$P/usr/sbin/gvtg-hook"
	out=$(timeout 20 "$H/qemu.d/50-gvtg-hook" --version 2>&1) || true
	check "switching: the registered hook runs ($out)" test "${out%% (build *}" = "gvtg-hook $version"
	if uninst sb && [ ! -e "$H/qemu.d/50-gvtg-hook" ] && [ -x "$H/gvtg-hook" ] &&
		[ ! -e "$P/usr/sbin/gvtg-hook" ] && uninst local && [ ! -e "$H/gvtg-hook" ] &&
		[ "$(tree "$P" | sed "s|$P|@|g" | tr '\n' ' ')" = \
			"f /usr/etc/gvtg-hook.conf f /usr/local/etc/gvtg-hook.conf " ]; then
		pass "switching: each uninstall removes its own files, the configuration files stay"
	else
		fail "switching: uninstalling one install then the other left:"
		tree "$P" | sed -e "s|$P|@|g" -e 's/^/    | /'
	fi
else
	fail "switching layout and prefix: setup/build/install:"
	show "$T/sb.log"
fi
# A copy of the executable as the qemu.d file itself (installs before this layout).
mkdir -p "$T/h5/qemu.d"
cp "$src/meson.build" "$T/h5/qemu.d/50-gvtg-hook"
echo 'usage: gvtg-hook DOMAIN OPERATION' >>"$T/h5/qemu.d/50-gvtg-hook"
if setup old --prefix="$T/r5" -Dhooks_dir="$T/h5" &&
	grep -q "WARNING: $T/h5/qemu.d/50-gvtg-hook is a copy of gvtg-hook left by an earlier install.*rm " "$T/old.log"; then
	pass "an old-style copy in qemu.d: meson setup names it and how to remove it"
else
	fail "an old-style copy in qemu.d is not named at setup:"
	show "$T/old.log"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
