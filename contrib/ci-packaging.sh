#!/bin/bash
# SPDX-License-Identifier: MIT
# Packaging checks, run by CI as root on Debian 12 with scripts/packages.d/packaging.list
# installed:
#   - meson install layout against contrib/install-files.txt;
#   - the generated integration files (sleep hook, tmpfiles.d, unit, udev rule);
#   - the hook's AppArmor profile compiles (apparmor_parser), the SELinux module builds;
#   - with the default prefix (/usr/local) the hook is a real executable in qemu.d;
#   - the Debian package: build, lintian, install, remove, purge on this machine, and its
#     install/upgrade/remove/reinstall/purge cycle in a Debian 12 chroot (tests/host's
#     cached tree) with a vGPU record present, dpkg --verify, the postrm under DPKG_ROOT;
#   - the RPM (rpmbuild --nodeps) and the Arch package (makepkg --nodeps, as an unprivileged
#     user) are built; each package's file list and hook path are compared with the .deb's
#     and with contrib/install-files.txt, through the distributions' known layout
#     differences written out below;
#   - every packaging file has the project's version.
# The repository is not written to: builds happen under a temporary directory in /tmp.
# Files a non-packaged installation left on this machine are moved aside while the
# package is installed and put back afterwards.
# GVTG_PKG_INSTALL=no skips the install/remove/purge part (a machine others use at the
# same time: it briefly replaces /etc/libvirt/hooks/qemu.d/50-gvtg-hook and /run/gvtg-hook).
# Exit status: 0 all passed, 1 a check failed, 77 not root or a tool is missing.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
contrib=$src/contrib
pkg=gvtg-hook
npass=0
nfail=0

pass() {
	echo "PASS: $*"
	npass=$((npass + 1))
}
fail() {
	echo "FAIL: $*"
	nfail=$((nfail + 1))
}
skip() { echo "SKIP: $*"; }
# check WHAT COMMAND...: PASS or FAIL WHAT by the command's exit status.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# Show the tail of a log under a failure, indented, so the CI log says why.
show() { sed -e 's/^/    | /' "$1" | tail -n "${2:-30}"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: contrib/ci-packaging.sh installs a package: run it as root"
	exit 77
fi
for tool in meson ninja dpkg-buildpackage dh dh_apparmor lintian rpmspec rpmbuild rpm \
	makepkg bsdtar fakeroot apparmor_parser checkmodule semodule_package systemd-analyze \
	systemd-tmpfiles udevadm shellcheck readelf timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: '$tool' is missing: apt-get install the packages in" \
			"scripts/packages.d/packaging.list"
		exit 77
	fi
done

if [ ! -f /usr/share/selinux/devel/Makefile ]; then
	echo "SKIP: the SELinux policy headers are missing: apt-get install the packages in" \
		"scripts/packages.d/packaging.list"
	exit 77
fi

work=$(mktemp -d /tmp/gvtg-pkg.XXXXXX)
backup=$work/backup
installed_by_us=no
chroot_mounted=no

cleanup() {
	local rc=$?
	if [ "$chroot_mounted" = yes ]; then
		umount "$work/chroot/run" 2>/dev/null || true
		umount "$work/chroot" || echo "WARNING: could not unmount $work/chroot"
	fi
	if [ "$installed_by_us" = yes ]; then
		timeout 120 dpkg --purge "$pkg" >/dev/null 2>&1 || true
	fi
	# Put back what a non-packaged installation had in the package's paths.
	if [ -f "$work/moved-aside" ]; then
		while IFS= read -r f; do
			[ "$f" = /run/gvtg-hook ] && rm -rf "$f"
			mkdir -p "$(dirname "$f")"
			mv -f "$backup$f" "$f" || echo "WARNING: could not put back $f (kept in $backup)"
		done <"$work/moved-aside"
	fi
	if [ -f "$work/moved-aside" ] && [ -n "$(find "$backup" ! -type d 2>/dev/null)" ]; then
		echo "WARNING: $work kept: it holds files that could not be put back"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT

version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
echo "gvtg-hook $version, source $src, scratch $work"

# ---- 1. meson install layout ------------------------------------------------------------
# Lines "<kind> <path>" (f file, x executable, l symlink with " -> target", d empty
# directory) of a DESTDIR.
list_tree() {
	local root=$1 f
	(cd "$root" && find . ! -type d -o -type d -empty | sort) | while IFS= read -r f; do
		f=${f#.}
		if [ -d "$root$f" ] && [ ! -L "$root$f" ]; then
			echo "d $f"
		elif [ -L "$root$f" ]; then
			echo "l $f -> $(readlink "$root$f")"
		elif [ -x "$root$f" ]; then
			echo "x $f"
		else
			echo "f $f"
		fi
	done
}

build=$work/build
dest=$work/dest
# Tests off: their build is not what is checked here and the suites have their own CI step.
if timeout 300 meson setup "$build" "$src" --prefix=/usr -Dtests=false >"$work/setup.log" 2>&1 &&
	timeout 600 ninja -C "$build" >"$work/ninja.log" 2>&1 &&
	DESTDIR=$dest timeout 120 meson install -C "$build" --no-rebuild >"$work/install.log" 2>&1
then
	pass "meson setup --prefix=/usr, build and install into DESTDIR"
	list_tree "$dest" | sort >"$work/actual.txt"
	grep -v -e '^#' -e '^$' "$contrib/install-files.txt" | sort >"$work/expected.txt"
	if diff -u "$work/expected.txt" "$work/actual.txt" >"$work/list.diff"; then
		pass "installed files match contrib/install-files.txt ($(wc -l <"$work/actual.txt") files)"
	else
		fail "installed files differ from contrib/install-files.txt (- missing, + unexpected):"
		grep '^[-+][^-+]' "$work/list.diff" | sed -e 's/^/    /'
	fi
else
	fail "meson setup/build/install"
	show "$work/setup.log"
	[ -f "$work/ninja.log" ] && show "$work/ninja.log"
fi

# ---- 1b. AppArmor profile, SELinux module, the /usr/local layout ------------------------
profile=$build/contrib/usr.sbin.gvtg-hook
if [ -f "$profile" ]; then
	if timeout 60 apparmor_parser -Q -K -I /etc/apparmor.d "$profile" >"$work/aa.log" 2>&1; then
		pass "apparmor_parser compiles the hook's profile usr.sbin.gvtg-hook"
	else
		fail "apparmor_parser rejects the hook's profile:"
		show "$work/aa.log"
	fi
	# The same check must be able to fail: a copy with a rule the parser cannot take.
	sed 's|^  /etc/mdevctl.d/ r,$|  /etc/mdevctl.d/ rq,|' "$profile" >"$work/broken-profile"
	if ! timeout 60 apparmor_parser -Q -K -I /etc/apparmor.d "$work/broken-profile" \
		>/dev/null 2>&1 && ! cmp -s "$profile" "$work/broken-profile"; then
		pass "apparmor_parser rejects a copy of the profile with an invalid rule"
	else
		fail "apparmor_parser accepted a profile with an invalid rule: the check proves nothing"
	fi
	check "the profile attaches to the installed hook /usr/sbin/gvtg-hook" \
		grep -q '^profile gvtg-hook /usr/sbin/gvtg-hook flags=' "$profile"
	check "the profile includes local/usr.sbin.gvtg-hook for the admin" \
		grep -qx '  include if exists <local/usr.sbin.gvtg-hook>' "$profile"
else
	fail "no generated AppArmor profile $profile"
fi

mkdir -p "$work/selinux"
cp "$contrib"/selinux/gvtg_hook.{te,if,fc} "$work/selinux/"
if timeout 300 make -C "$work/selinux" -f /usr/share/selinux/devel/Makefile gvtg_hook.pp \
	>"$work/selinux.log" 2>&1 && [ -s "$work/selinux/gvtg_hook.pp" ]; then
	pass "the SELinux module gvtg_hook.pp builds (checkmodule, Debian's reference policy headers)"
else
	fail "the SELinux module does not build:"
	show "$work/selinux.log"
fi

# The default prefix: nothing under /usr/local may be executed by libvirtd under its
# AppArmor profile, so the executable itself is the file in qemu.d.
if timeout 300 meson setup "$work/build-local" "$src" -Dtests=false >"$work/setup-local.log" 2>&1 &&
	timeout 600 ninja -C "$work/build-local" >"$work/ninja-local.log" 2>&1 &&
	DESTDIR=$work/dest-local timeout 120 meson install -C "$work/build-local" --no-rebuild \
		>"$work/install-local.log" 2>&1; then
	local_hook=$work/dest-local/etc/libvirt/hooks/gvtg-hook
	if [ -f "$local_hook" ] && [ ! -L "$local_hook" ] && [ -x "$local_hook" ] &&
		[ "$(head -c 4 "$local_hook" | od -An -c | tr -d ' ')" = '177ELF' ] &&
		[ "$(readlink "$work/dest-local/etc/libvirt/hooks/qemu.d/50-gvtg-hook")" = \
			/etc/libvirt/hooks/gvtg-hook ]; then
		pass "default prefix: the executable copied as hooks/gvtg-hook, linked from qemu.d"
	else
		fail "default prefix: hooks/gvtg-hook is not a regular executable linked from qemu.d"
	fi
	check "default prefix: the core module is /usr/local/libexec/gvtg-hook/gvtg-hook-core.so" \
		test -f "$work/dest-local/usr/local/libexec/gvtg-hook/gvtg-hook-core.so"
	check "default prefix: no hook and no AppArmor profile under /usr/local" \
		test ! -e "$work/dest-local/usr/local/sbin/gvtg-hook" -a \
		! -e "$work/dest-local/usr/local/etc/apparmor.d"
	if out=$(timeout 20 "$local_hook" --version 2>&1) && [ "${out% (build *}" = "gvtg-hook $version" ]; then
		pass "default prefix: the copied hook runs ($out)"
	else
		fail "default prefix: the copied hook does not run: $out"
	fi
else
	fail "meson setup/build/install with the default prefix:"
	show "$work/setup-local.log"
fi

# ---- 2. generated integration files ------------------------------------------------------
gen=$build/contrib
sbin_gvtgctl=/usr/sbin/gvtgctl
# Stands in for gvtgctl where a generated file is run: records its arguments.
stub=$work/gvtgctl-stub
printf '#!/bin/sh\necho "$*" >>"%s"\n' "$work/stub.calls" >"$stub"
chmod +x "$stub"
# The suspend unit: started before sleep.target (sleep pre), stopped once the host has
# resumed (sleep post), pulled in by a static link.
for line in "Before=sleep.target" "StopWhenUnneeded=yes" "ExecStart=$sbin_gvtgctl sleep pre" \
	"ExecStop=$sbin_gvtgctl sleep post"; do
	check "gvtg-sleep.service has '$line'" grep -qxF "$line" "$gen/gvtg-sleep.service"
done
check "sleep.target.wants/gvtg-sleep.service links to ../gvtg-sleep.service" \
	test "$(readlink "$dest/lib/systemd/system/sleep.target.wants/gvtg-sleep.service")" = \
	../gvtg-sleep.service

if [ -f "$gen/gvtg-hook.conf" ]; then
	timeout 20 systemd-tmpfiles --root="$work/tmproot" --create "$gen/gvtg-hook.conf" \
		>"$work/tmpfiles.log" 2>&1 || true
	if [ "$(stat -c '%a %U %G' "$work/tmproot/run/gvtg-hook" 2>/dev/null)" = "700 root root" ]; then
		pass "tmpfiles.d entry creates /run/gvtg-hook 0700 root root"
	else
		fail "tmpfiles.d entry did not create /run/gvtg-hook 0700 root root"
		show "$work/tmpfiles.log"
	fi
else
	fail "no generated tmpfiles.d entry in $gen"
fi

if [ -f "$gen/gvtg-boot.service" ]; then
	# Syntax alone, with gvtgctl stubbed: the installed unit is verified against the real
	# binary after the package is installed (step 4).
	mkdir -p "$work/unit"
	for u in gvtg-boot.service gvtg-sleep.service; do
		sed "s|$sbin_gvtgctl|$stub|g" "$gen/$u" >"$work/unit/$u"
		if (cd "$work/unit" && timeout 60 systemd-analyze verify --man=no "$work/unit/$u") \
			>"$work/verify.log" 2>&1 && ! [ -s "$work/verify.log" ]; then
			pass "systemd-analyze verify $u (generated, gvtgctl stubbed)"
		else
			fail "systemd-analyze verify $u (generated):"
			show "$work/verify.log"
		fi
		# The sandbox: README states the figure; 6.0 is the most the project accepts.
		score=$(cd "$work/unit" && timeout 60 systemd-analyze security --offline=yes "./$u" 2>&1 |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
		if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 6.0) }'; then
			pass "systemd-analyze security $u: exposure $score (6.0 or better)"
		else
			fail "systemd-analyze security $u: exposure '${score:-none}', above 6.0"
		fi
	done
	for line in "ExecStart=$sbin_gvtgctl boot" "ExecStop=$sbin_gvtgctl boot --stop" \
		"Type=oneshot" "RemainAfterExit=yes"; do
		grep -qxF "$line" "$gen/gvtg-boot.service" ||
			fail "gvtg-boot.service lacks '$line'"
	done
else
	fail "no generated gvtg-boot.service in $gen"
fi

rule=$gen/85-gvtg-hook.rules
if [ -f "$rule" ]; then
	# Every program the rule runs (RUN's first word, and each "exec" of its shell command)
	# must be a real absolute path that exists here or in what meson installed.
	progs=$( (grep -o 'RUN+="[^" ]*' "$rule" | sed 's/RUN+="//'
		grep -o 'exec [^ ;]*' "$rule" | sed 's/exec //') | sort -u)
	ok=yes
	for p in $progs; do
		case $p in /*) [ -x "$p" ] || [ -x "$dest$p" ] || ok="no: $p is not executable" ;;
		*) ok="no: $p is not an absolute path" ;; esac
	done
	[ -n "$progs" ] || ok="no RUN+= found"
	if [ "$ok" = yes ]; then
		pass "udev rule runs existing absolute paths: $(echo "$progs" | tr '\n' ' ')"
	else
		fail "udev rule: $ok"
	fi
	# Without systemd as PID 1 (as here) the rule's shell command runs gvtgctl boot itself.
	cmd=$(sed -n "s/^ACTION==\"change\".*RUN+=\"\/bin\/sh -c '\(.*\)'\"$/\1/p" "$rule")
	: >"$work/stub.calls"
	if [ -n "$cmd" ] && [ ! -d /run/systemd/system ]; then
		timeout 10 sh -c "${cmd//$sbin_gvtgctl/$stub}" || true
		if [ "$(cat "$work/stub.calls")" = boot ]; then
			pass "udev rule without systemd runs 'gvtgctl boot'"
		else
			fail "udev rule without systemd: gvtgctl calls were '$(cat "$work/stub.calls")'"
		fi
	fi
	for m in 'ACTION=="change", ENV{MDEV_STATE}=="registered", RUN+=' \
		'ACTION=="add", TEST=="mdev_supported_types", RUN+='; do
		check "udev rule has '$m'" grep -qF "$m" "$rule"
	done
else
	fail "no generated udev rule in $gen"
fi

shellcheck_files=("$contrib/ci-packaging.sh" "$contrib/hook-registration.sh"
	"$contrib/debian/gvtg-hook.postinst"
	"$contrib/debian/gvtg-hook.prerm" "$contrib/debian/gvtg-hook.postrm")
if timeout 60 shellcheck "${shellcheck_files[@]}" >"$work/shellcheck.log" 2>&1; then
	pass "shellcheck: the hook's registration guard, maintainer scripts, this script"
else
	fail "shellcheck:"
	show "$work/shellcheck.log" 40
fi

# ---- 3. Debian package ------------------------------------------------------------------
# Build in a copy: dpkg-buildpackage writes debian/ and obj-*/ into the tree it builds.
# copy_tree DIR: the project's files (git's view of the work tree) into DIR.
copy_tree() {
	mkdir -p "$1"
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		# Files deleted from the work tree but still in git's index cannot be copied: ignore.
		(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
			(cd "$src" && xargs -0 cp -a --parents -t "$1" 2>/dev/null) || true
	else
		tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./debian -cf - . |
			tar -C "$1" -xf -
	fi
	rm -rf "$1/debian"
}
deb_src=$work/src
copy_tree "$deb_src"
cp -a "$contrib/debian" "$deb_src/debian"

debs=()
# nocheck: the unit suite is run by CI's own test step; set GVTG_DEB_BUILD_OPTIONS to change.
if (cd "$deb_src" && DEB_BUILD_OPTIONS=${GVTG_DEB_BUILD_OPTIONS-nocheck} \
	timeout 900 dpkg-buildpackage -us -uc -b) >"$work/dpkg-buildpackage.log" 2>&1; then
	deb=$(find "$work" -maxdepth 1 -name "${pkg}_${version}_*.deb" | head -n 1)
	if [ -n "$deb" ]; then
		pass "dpkg-buildpackage -us -uc -b built $(basename "$deb")"
		debs=("$deb")
	else
		fail "dpkg-buildpackage succeeded but no ${pkg}_${version}_*.deb (version mismatch?)"
	fi
else
	fail "dpkg-buildpackage -us -uc -b:"
	show "$work/dpkg-buildpackage.log" 40
fi

if [ ${#debs[@]} -gt 0 ]; then
	deb=${debs[0]}
	changes=$(find "$work" -maxdepth 1 -name "${pkg}_${version}_*.changes" | head -n 1)
	lrc=0
	timeout 300 lintian --display-info --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1 ||
		lrc=$?
	if grep -q '^[EW]: ' "$work/lintian.log"; then
		fail "lintian reports errors or warnings:"
		grep '^[EW]: ' "$work/lintian.log" | sed -e 's/^/    /'
	elif [ "$lrc" -ne 0 ]; then
		fail "lintian did not run (exit $lrc):"
		show "$work/lintian.log"
	else
		pass "lintian: no errors, no warnings ($(grep -c '^I: ' "$work/lintian.log" || true) info tags)"
	fi

	dpkg-deb -c "$deb" >"$work/deb-contents.txt"
	dpkg-deb -I "$deb" conffiles >"$work/conffiles.txt" 2>/dev/null || true
	check "/etc/gvtg-hook.conf is a conffile" grep -qx /etc/gvtg-hook.conf "$work/conffiles.txt"
	check "the package links /etc/libvirt/hooks/qemu.d/50-gvtg-hook to /usr/sbin/gvtg-hook" \
		grep -q ' \./etc/libvirt/hooks/qemu\.d/50-gvtg-hook -> /usr/sbin/gvtg-hook$' \
		"$work/deb-contents.txt"
	check "the package ships its AppArmor profile /etc/apparmor.d/usr.sbin.gvtg-hook" \
		grep -q ' \./etc/apparmor\.d/usr\.sbin\.gvtg-hook$' "$work/deb-contents.txt"
	if grep -q -e ' \./etc/apparmor\.d/local/' -e 'usr\.sbin\.libvirtd' "$work/deb-contents.txt"; then
		fail "the package ships a file in /etc/apparmor.d/local/ or libvirtd's profile"
	else
		pass "the package leaves /etc/apparmor.d/local/ and libvirtd's profile alone"
	fi
	dpkg-deb -I "$deb" postinst >"$work/postinst.txt" 2>/dev/null || true
	# shellcheck disable=SC2016 # the postinst's own $APP_PROFILE, literally
	check "postinst loads the profile through dh_apparmor" \
		grep -qF 'apparmor_parser -r -T -W "$APP_PROFILE"' "$work/postinst.txt"

	# dpkg-shlibdeps must have seen the dlopen'd core module's libraries.
	mkdir -p "$work/x"
	dpkg-deb -x "$deb" "$work/x"
	depends=$(dpkg-deb -f "$deb" Depends)
	missing=""
	for lib in $(readelf -d "$work/x/usr/libexec/gvtg-hook/gvtg-hook-core.so" 2>/dev/null |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		owner=$(dpkg -S "*/$lib" 2>/dev/null | grep -v -- '-dev\|:i386' | head -n 1 |
			cut -d: -f1 || true)
		case ", $depends" in *", $owner "* | *", $owner,"* | *", $owner") ;; *) missing+=" $lib($owner)" ;; esac
	done
	if [ -z "$missing" ]; then
		pass "Depends covers the core module's libraries: $depends"
	else
		fail "Depends ($depends) lacks the core module's:$missing"
	fi
fi

# ---- 4. install, remove, purge on this machine -----------------------------------------
hook_link=/etc/libvirt/hooks/qemu.d/50-gvtg-hook
pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true; }
msg_once='restart it once'

after_install() {
	local target out unit exe rules dev
	if grep -q "$msg_once" "$work/dpkg-i.log"; then
		pass "first installation tells the admin to restart the libvirt daemon"
	else
		fail "first installation does not mention the libvirt daemon restart"
	fi

	local_profile=/etc/apparmor.d/local/usr.sbin.gvtg-hook
	if [ -f "$local_profile" ] && [ ! -s "$local_profile" ]; then
		pass "postinst created an empty $local_profile for the admin"
	else
		fail "postinst did not create an empty $local_profile"
	fi
	if [ "$(cat "$work/libvirtd-local.before")" = \
		"$(cat /etc/apparmor.d/local/usr.sbin.libvirtd 2>/dev/null || true)" ]; then
		pass "installation left /etc/apparmor.d/local/usr.sbin.libvirtd as it was"
	else
		fail "installation changed /etc/apparmor.d/local/usr.sbin.libvirtd"
	fi
	if timeout 60 apparmor_parser -Q -K /etc/apparmor.d/usr.sbin.gvtg-hook \
		>"$work/aa-installed.log" 2>&1; then
		pass "the installed profile compiles with its local/ include (no AppArmor kernel here to load it)"
	else
		fail "the installed profile does not compile:"
		show "$work/aa-installed.log"
	fi

	target=$(readlink -f "$hook_link" || true)
	if [ -L "$hook_link" ] && [ -f "$target" ] && [ -x "$target" ]; then
		pass "$hook_link resolves to the executable $target"
	else
		fail "$hook_link does not resolve to an executable (-> ${target:-nothing})"
	fi
	# The installed hook loads its core module and leaves a domain without vGPUs alone.
	if [ -f "$src/tests/data/no-mdev.xml" ]; then
		if out=$(timeout 20 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
			"$hook_link" ci-pkg prepare begin - <"$src/tests/data/no-mdev.xml" \
			2>"$work/hook.err") && [ -z "$out" ]; then
			pass "installed hook: 'prepare begin' of a domain without vGPU: exit 0, no output"
		else
			fail "installed hook: 'prepare begin' of a domain without vGPU (stdout '$out'):"
			show "$work/hook.err"
		fi
	fi
	if [ "$(stat -c '%a' /run/gvtg-hook 2>/dev/null)" = 700 ]; then
		pass "postinst created /run/gvtg-hook 0700 (systemd-tmpfiles)"
	else
		fail "/run/gvtg-hook was not created 0700 on installation"
	fi

	unit=$(dpkg -L "$pkg" | grep '/gvtg-boot\.service$' | head -n 1 || true)
	if [ -n "$unit" ] && (cd / && timeout 60 systemd-analyze verify --man=no "$unit") \
		>"$work/verify-installed.log" 2>&1 && ! [ -s "$work/verify-installed.log" ]; then
		pass "systemd-analyze verify $unit (installed, real gvtgctl)"
	else
		fail "systemd-analyze verify ${unit:-gvtg-boot.service} (installed):"
		show "$work/verify-installed.log"
	fi
	exe=$(dpkg -L "$pkg" | grep '/gvtg-sleep\.service$' | head -n 1 || true)
	exe=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "${exe:-/dev/null}")
	if [ -n "$exe" ] && [ -x "$exe" ]; then
		pass "installed gvtg-sleep.service runs $exe, which exists"
	else
		fail "installed gvtg-sleep.service runs a missing program '$exe'"
	fi

	rules=$(dpkg -L "$pkg" | grep '\.rules$' | head -n 1 || true)
	dev=/sys/class/net/lo
	[ -e "$dev" ] || dev=/sys/class/mem/null
	timeout 30 udevadm test --action=add "$dev" >"$work/udev.log" 2>&1 || true
	# udevadm names the file by its canonical path (/usr/lib/udev on merged /usr).
	rules=$(basename "${rules:-85-gvtg-hook.rules}")
	if grep -q "^Reading rules file: .*/$rules$" "$work/udev.log" &&
		! grep -q "/$rules:[0-9]" "$work/udev.log"; then
		pass "udevadm test reads $rules without complaint"
	else
		fail "udevadm test on ${rules:-the rule}:"
		grep "${rules:-rules}" "$work/udev.log" | sed -e 's/^/    /'
	fi

	timeout 120 dpkg -i "$deb" >"$work/dpkg-reinstall.log" 2>&1 || true
	if grep -q "$msg_once" "$work/dpkg-reinstall.log"; then
		fail "reinstalling repeats the restart message"
	else
		pass "reinstalling the same version does not repeat the restart message"
	fi
}

after_remove() {
	if [ ! -e "$hook_link" ] && [ ! -L "$hook_link" ] && [ ! -e /usr/libexec/gvtg-hook ] &&
		[ ! -e /usr/sbin/gvtg-hook ]; then
		pass "dpkg -r removed the hook and its link"
	else
		fail "dpkg -r left the hook or its link behind"
	fi
	if grep -q '^# changed here$' /etc/gvtg-hook.conf 2>/dev/null &&
		[ "$(pkg_status)" = config-files ]; then
		pass "dpkg -r kept the changed conffile /etc/gvtg-hook.conf"
	else
		fail "dpkg -r did not keep /etc/gvtg-hook.conf (package state '$(pkg_status)')"
	fi
}

after_purge() {
	if [ ! -e /etc/apparmor.d/local/usr.sbin.gvtg-hook ]; then
		pass "dpkg -P removed /etc/apparmor.d/local/usr.sbin.gvtg-hook"
	else
		fail "dpkg -P left /etc/apparmor.d/local/usr.sbin.gvtg-hook"
	fi
	if [ ! -e /etc/gvtg-hook.conf ] && [ ! -e /run/gvtg-hook ] &&
		{ [ -z "$(pkg_status)" ] || [ "$(pkg_status)" = not-installed ]; }; then
		pass "dpkg -P removed the conffile, the state directory and the package record"
	else
		fail "dpkg -P left /etc/gvtg-hook.conf, /run/gvtg-hook or the package record"
	fi
}

# Move aside what a non-packaged installation left where the package puts files; cleanup()
# puts it back. Prints the first path another package owns, if any.
move_aside() {
	local f
	while IFS= read -r f; do
		f=${f#.}
		f=${f%/}
		[ -e "$f" ] || [ -L "$f" ] || continue
		if [ -d "$f" ] && [ ! -L "$f" ] && [ "$f" != /run/gvtg-hook ]; then
			continue
		fi
		if dpkg -S "$f" >/dev/null 2>&1; then
			echo "$f"
			return
		fi
		mkdir -p "$backup$(dirname "$f")"
		mv "$f" "$backup$f"
		echo "$f" >>"$work/moved-aside"
	done < <(awk '$1 !~ /^d/ { print $6 }' "$work/deb-contents.txt"; echo ./run/gvtg-hook)
}

if [ ${#debs[@]} -eq 0 ]; then
	skip "install/remove/purge: no package was built"
elif [ "${GVTG_PKG_INSTALL-yes}" = no ]; then
	skip "install/remove/purge: GVTG_PKG_INSTALL=no"
elif [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != not-installed ]; then
	skip "install/remove/purge: $pkg is already installed here ($(pkg_status)); not touching it"
else
	cat /etc/apparmor.d/local/usr.sbin.libvirtd >"$work/libvirtd-local.before" 2>/dev/null || true
	conflict=$(move_aside)
	if [ -n "$conflict" ]; then
		skip "install/remove/purge: $conflict belongs to another package"
	elif timeout 120 dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then
		installed_by_us=yes
		pass "dpkg -i $(basename "$deb")"
		after_install
		echo '# changed here' >>/etc/gvtg-hook.conf
		if timeout 120 dpkg -r "$pkg" >"$work/dpkg-r.log" 2>&1; then
			pass "dpkg -r $pkg"
			after_remove
		else
			fail "dpkg -r $pkg:"
			show "$work/dpkg-r.log"
		fi
		if timeout 120 dpkg -P "$pkg" >"$work/dpkg-p.log" 2>&1; then
			installed_by_us=no
			pass "dpkg -P $pkg"
			after_purge
		else
			fail "dpkg -P $pkg:"
			show "$work/dpkg-p.log"
		fi
	else
		installed_by_us=yes
		fail "dpkg -i $(basename "$deb"):"
		show "$work/dpkg-i.log"
	fi
fi

# ---- 4b. the .deb's whole life in a Debian 12 chroot ----------------------------------
# install, upgrade, remove, reinstall, purge, with a vGPU record that names a running
# domain, and `dpkg --verify` after each installed step; then the postrm's purge with
# DPKG_ROOT, which must not touch this machine's /run/gvtg-hook.  The tree is
# tests/host's (tree.sh: debootstrap once, cached in GVTG_HOST_CACHE), under an overlay
# thrown away afterwards.  About 40 s once the tree is cached.
chroot_dir=$work/chroot
# in_chroot LOG CMD...: run CMD in the chroot, its output into LOG
in_chroot() {
	local log=$1
	shift
	timeout 120 chroot "$chroot_dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@" \
		>"$log" 2>&1
}
verified() { in_chroot "$work/verify-$1.log" dpkg --verify "$pkg" && ! [ -s "$work/verify-$1.log" ]; }
record() { # record DOMAIN: a record of a vGPU the hook made for DOMAIN ("" for none)
	mkdir -p "$chroot_dir/run/gvtg-hook"
	printf 'origin=created\ndomain_name=%s\ndomain_uuid=%s\nparent=0000:00:02.0\ntype=i915-GVTg_V5_4\ntime=1764633600\nremove_pending=no\n' \
		"$1" "${1:+11111111-2222-4333-8444-555555555501}" >"$chroot_dir/run/gvtg-hook/$vgpu"
}
vgpu=4b20d080-1b54-4048-85b3-a6a62d165c01
host_cache=${GVTG_HOST_CACHE:-/var/cache/gvtg-host}
if [ ${#debs[@]} -eq 0 ]; then
	skip "the .deb in a chroot: no package was built"
elif ! command -v debootstrap >/dev/null; then
	skip "the .deb in a chroot: debootstrap is missing"
elif ! tree=$(timeout 1000 "$src/tests/host/tree.sh" "$host_cache" "$work" 2>"$work/tree.err" | tail -n 1) ||
	[ ! -d "$tree" ]; then
	fail "the .deb in a chroot: no Debian 12 tree (tests/host/tree.sh):"
	show "$work/tree.err"
else
	t0=$SECONDS
	mkdir -p "$work/ch-up" "$work/ch-wk" "$chroot_dir"
	mount -t overlay overlay -o "lowerdir=$tree,upperdir=$work/ch-up,workdir=$work/ch-wk" \
		"$chroot_dir"
	chroot_mounted=yes
	mount -t tmpfs tmpfs "$chroot_dir/run"
	# The same package as a later version, for the upgrade.
	dpkg-deb -R "${debs[0]}" "$work/deb-next"
	sed -i "s/^Version: .*/&+next1/" "$work/deb-next/DEBIAN/control"
	dpkg-deb -b "$work/deb-next" "$chroot_dir/tmp/next.deb" >/dev/null
	cp "${debs[0]}" "$chroot_dir/tmp/this.deb"
	note='restart it once'
	if in_chroot "$work/c-i.log" dpkg -i /tmp/this.deb && grep -q "$note" "$work/c-i.log" &&
		verified i; then
		pass "chroot: dpkg -i: the restart note, dpkg --verify clean"
	else
		fail "chroot: dpkg -i:"
		show "$work/c-i.log"
		show "$work/verify-i.log"
	fi
	record vm1
	if in_chroot "$work/c-u.log" dpkg -i /tmp/next.deb && ! grep -q "$note" "$work/c-u.log" &&
		verified u; then
		pass "chroot: upgrade: no restart note, dpkg --verify clean"
	else
		fail "chroot: upgrade:"
		show "$work/c-u.log"
	fi
	if in_chroot "$work/c-r.log" dpkg -r "$pkg" &&
		grep -q 'running domains hold vGPUs gvtg-hook made: vm1\.' "$work/c-r.log" &&
		[ -f "$chroot_dir/run/gvtg-hook/$vgpu" ]; then
		pass "chroot: dpkg -r with vm1's vGPU recorded: warns naming vm1, keeps the record"
	else
		fail "chroot: dpkg -r with a vGPU record:"
		show "$work/c-r.log"
	fi
	if in_chroot "$work/c-ri.log" dpkg -i /tmp/next.deb && grep -q "$note" "$work/c-ri.log" &&
		verified ri; then
		pass "chroot: reinstall after dpkg -r: the restart note again, dpkg --verify clean"
	else
		fail "chroot: reinstall after dpkg -r:"
		show "$work/c-ri.log"
	fi
	if in_chroot "$work/c-p.log" dpkg -P "$pkg" &&
		grep -q 'purge keeps /run/gvtg-hook: it records the vGPUs of running domains (vm1)' \
			"$work/c-p.log" && [ -f "$chroot_dir/run/gvtg-hook/$vgpu" ] &&
		[ ! -e "$chroot_dir/etc/gvtg-hook.conf" ]; then
		pass "chroot: dpkg -P with vm1 recorded: keeps /run/gvtg-hook and says so, removes the conffile"
	else
		fail "chroot: dpkg -P with a vGPU record:"
		show "$work/c-p.log"
	fi
	# DPKG_ROOT (dpkg --root with chrootless scripts): our postrm, run here on the chroot's
	# records, must leave this machine's /run/gvtg-hook alone.  Run from the source file,
	# without debhelper's snippets, which would act on this machine's AppArmor directories.
	record ""
	host_state=$(ls -la /run/gvtg-hook 2>&1 || true)
	if DPKG_ROOT=$chroot_dir timeout 60 sh "$contrib/debian/gvtg-hook.postrm" purge \
		>"$work/c-pc.log" 2>&1 && [ ! -e "$chroot_dir/run/gvtg-hook" ] &&
		grep -q "purge removes $chroot_dir/run/gvtg-hook" "$work/c-pc.log" &&
		[ "$(ls -la /run/gvtg-hook 2>&1 || true)" = "$host_state" ]; then
		pass "postrm purge with DPKG_ROOT removes the chroot's records, not this machine's"
	else
		fail "postrm purge with DPKG_ROOT:"
		show "$work/c-pc.log"
	fi
	echo "    (the chroot cycle took $((SECONDS - t0)) s)"
fi

# ---- 5. RPM spec, PKGBUILD, versions ---------------------------------------------------
spec=$contrib/rpm/gvtg-hook.spec
if timeout 60 rpmspec -P "$spec" >"$work/spec.txt" 2>"$work/spec.err"; then
	pass "rpmspec -P contrib/rpm/gvtg-hook.spec parses"
else
	fail "rpmspec -P contrib/rpm/gvtg-hook.spec:"
	show "$work/spec.err"
fi
spec_version=$(timeout 60 rpmspec -q --srpm --qf '%{version}' "$spec" 2>/dev/null || true)
pkgbuild_version=$(bash -c 'source "$1" && echo "$pkgver"' _ "$contrib/arch/PKGBUILD" 2>/dev/null || true)
deb_version=$(dpkg-parsechangelog -l "$contrib/debian/changelog" -S Version 2>/dev/null || true)
if [ "$spec_version" = "$version" ] && [ "$pkgbuild_version" = "$version" ] &&
	[ "${deb_version%%-*}" = "$version" ]; then
	pass "meson, debian/changelog, RPM spec and PKGBUILD agree on version $version"
else
	fail "versions differ: meson '$version', debian '$deb_version', rpm '$spec_version'," \
		"arch '$pkgbuild_version'"
fi
# PKGBUILD variables are read by makepkg, not by the file itself (SC2034, SC2154).
if bash -n "$contrib/arch/PKGBUILD" &&
	shellcheck -s bash -e SC2034,SC2154 "$contrib/arch/PKGBUILD" \
		"$contrib/arch/gvtg-hook.install" >"$work/pkgbuild.log" 2>&1 &&
	bash -c 'source "$1" && declare -F build check package >/dev/null' _ \
		"$contrib/arch/PKGBUILD"; then
	pass "PKGBUILD parses, is shellcheck-clean, defines build, check and package"
else
	fail "PKGBUILD does not parse, is not shellcheck-clean or lacks build/check/package"
	show "$work/pkgbuild.log"
fi
# ---- 6. the RPM and the Arch package, compared with the .deb -----------------------------
# Each package's contents as "kind path [-> target]" lines (f file, x executable, l link,
# d a directory the package holds empty), from "mode path [target]" lines; the other
# directories are left out.
kinds() {
	awk '{ p = $2; sub(/\/$/, "", p); all[p] = 1 }
		$1 ~ /^d/ { dirs[p] = 1; next }
		$1 ~ /^l/ { print "l " p " -> " $3; next }
		$1 ~ /^-..x/ { print "x " p; next }
		$1 ~ /^-/ { print "f " p }
		END { for (d in dirs) { empty = 1
			for (q in all) if (index(q, d "/") == 1) { empty = 0; break }
			if (empty) print "d " d } }' | sort
}
# Where a distribution's layout differs from Debian's (the one contrib/install-files.txt
# describes), written out: sed expressions mapping its paths to Debian's, and the files
# only it ships.
# - Debian: man pages gzipped, the doc directory and the lintian overrides.
deb_map=(-e 's|\.gz$||' -e '\|/usr/share/doc/gvtg-hook/|d' -e '\|/usr/share/lintian/|d')
# - Fedora: units, sleep hook and udev rules under /usr/lib (no /lib); %license and %doc;
#   rpm's links /usr/lib/.build-id/*/* to every ELF file; no AppArmor profile but the
#   SELinux module and its interface.
rpm_map=(-e 's|\.gz$||' -e 's| /usr/lib/systemd/| /lib/systemd/|' -e 's| /usr/lib/udev/| /lib/udev/|'
	-e '\|/usr/share/licenses/gvtg-hook/|d' -e '\|/usr/share/doc/gvtg-hook/|d'
	-e '\|^l /usr/lib/\.build-id/|d')
rpm_only=("f /usr/share/selinux/devel/include/distributed/gvtg_hook.if"
	"f /usr/share/selinux/packages/targeted/gvtg_hook.pp.bz2")
rpm_without=("f /etc/apparmor.d/usr.sbin.gvtg-hook")
# - Arch (arch-meson: --sbindir bin --libexecdir lib): programs in /usr/bin, the module in
#   /usr/lib/gvtg-hook, the profile named after /usr/bin/gvtg-hook, units and rules under
#   /usr/lib, the licence in /usr/share/licenses, man pages gzipped.
arch_map=(-e 's|\.gz$||' -e 's|/usr/bin/gvtg|/usr/sbin/gvtg|g' -e 's| /usr/lib/gvtg-hook/| /usr/libexec/gvtg-hook/|'
	-e 's| /etc/apparmor.d/usr.bin.gvtg-hook$| /etc/apparmor.d/usr.sbin.gvtg-hook|'
	-e 's| /usr/lib/systemd/| /lib/systemd/|' -e 's| /usr/lib/udev/| /lib/udev/|'
	-e '\|/usr/share/licenses/gvtg-hook/|d')

# hook_path_ok NAME LIST: the qemu.d link points to an executable of the same package that
# libvirtd's AppArmor profile may execute (/usr/sbin/* or /usr/bin/*: PUx).
hook_path_ok() {
	local name=$1 list=$2 target
	target=$(sed -n 's|^l /etc/libvirt/hooks/qemu.d/50-gvtg-hook -> ||p' "$list")
	if [ -n "$target" ] && grep -qx "x $target" "$list" &&
		[[ $target =~ ^/usr/s?bin/[^/]+$ ]]; then
		pass "$name: qemu.d/50-gvtg-hook -> $target, an executable libvirtd's profile runs (PUx)"
	else
		fail "$name: qemu.d/50-gvtg-hook -> '${target:-nothing}': not an executable in" \
			"/usr/sbin or /usr/bin of the package"
	fi
}
# compare NAME LIST MAPPED-EXPECTED
compare() {
	if diff -u "$3" "$2" >"$work/$1.diff"; then
		pass "$1: file list matches contrib/install-files.txt through its layout ($(wc -l <"$2") files)"
	else
		fail "$1: file list differs from contrib/install-files.txt (- missing, + unexpected):"
		grep '^[-+][^-+]' "$work/$1.diff" | sed -e 's/^/    /'
	fi
}

debs_list=""
if [ ${#debs[@]} -gt 0 ]; then
	awk '{ t = ""; if ($7 == "->") t = $8; p = $6; sub(/^\./, "", p); print $1, p, t }' \
		"$work/deb-contents.txt" | kinds >"$work/deb-raw.txt"
	hook_path_ok ".deb" "$work/deb-raw.txt"
	sed "${deb_map[@]}" "$work/deb-raw.txt" | sort >"$work/deb-list.txt"
	compare deb "$work/deb-list.txt" "$work/expected.txt"
	debs_list=$work/deb-list.txt
fi

# The source tarball both builds start from, as `meson dist` would make it.
tarball=$work/gvtg-hook-$version.tar.xz
copy_tree "$work/dist/gvtg-hook-$version"
tar -C "$work/dist" -cJf "$tarball" "gvtg-hook-$version"

# Fedora and Arch keep systemd's and udev's files under /usr/lib, where Debian 12's
# systemd.pc and udev.pc say /lib: both builds see pkg-config files with their layout.
mkdir -p "$work/usrlib-pc"
cat >"$work/usrlib-pc/systemd.pc" <<'PC'
systemdsystemunitdir=/usr/lib/systemd/system
systemdsleepdir=/usr/lib/systemd/system-sleep
tmpfilesdir=/usr/lib/tmpfiles.d
Name: systemd
Description: systemd's directories on Fedora and Arch
Version: 252
PC
cat >"$work/usrlib-pc/udev.pc" <<'PC'
udevdir=/usr/lib/udev
Name: udev
Description: udev's directory on Fedora and Arch
Version: 252
PC
usrlib_pc=$work/usrlib-pc

# RPM: Debian's rpm lacks Fedora's meson and systemd path macros; these are Fedora's
# values.  The scriptlet macros (%systemd_post, %selinux_*) stay unexpanded: nothing is
# installed.  --nocheck: the unit suite has its own CI step.
rpmtop=$work/rpmbuild
mkdir -p "$rpmtop/SOURCES"
cp "$tarball" "$rpmtop/SOURCES/"
cat >"$work/fedora.macros" <<'MACROS'
%_docdir_fmt %%{NAME}
%_unitdir /usr/lib/systemd/system
%_udevrulesdir /usr/lib/udev/rules.d
%_tmpfilesdir /usr/lib/tmpfiles.d
%__meson /usr/bin/meson
%_vpath_builddir %{_vendor}-%{_target_os}-build
%meson %{__meson} setup --buildtype=plain --prefix=%{_prefix} --libdir=%{_libdir} --libexecdir=%{_libexecdir} --bindir=%{_bindir} --sbindir=%{_sbindir} --includedir=%{_includedir} --datadir=%{_datadir} --mandir=%{_mandir} --sysconfdir=%{_sysconfdir} --localstatedir=%{_localstatedir} --sharedstatedir=%{_sharedstatedir} --wrap-mode=nodownload --auto-features=enabled . %{_vpath_builddir}
%meson_build %{__meson} compile -C %{_vpath_builddir} -j %{_smp_build_ncpus}
%meson_install DESTDIR=%{buildroot} %{__meson} install -C %{_vpath_builddir} --no-rebuild
%meson_test %{__meson} test -C %{_vpath_builddir} --print-errorlogs
MACROS
if (cd "$work" && PKG_CONFIG_PATH=$usrlib_pc timeout 900 rpmbuild -bb --nodeps --nocheck --load "$work/fedora.macros" \
	--define "_topdir $rpmtop" "$spec") >"$work/rpmbuild.log" 2>&1; then
	rpmfile=$(find "$rpmtop/RPMS" -name "gvtg-hook-$version-*.rpm" | head -n 1)
fi
if [ -n "${rpmfile:-}" ]; then
	pass "rpmbuild -bb --nodeps built $(basename "$rpmfile")"
	rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES} %{FILELINKTOS}\n]' "$rpmfile" 2>/dev/null |
		kinds >"$work/rpm-raw.txt"
	hook_path_ok "RPM" "$work/rpm-raw.txt"
	sed "${rpm_map[@]}" "$work/rpm-raw.txt" | sort >"$work/rpm-list.txt"
	{ grep -vxF -f <(printf '%s\n' "${rpm_without[@]}") "$work/expected.txt"
		printf '%s\n' "${rpm_only[@]}"; } | sort >"$work/rpm-expected.txt"
	compare RPM "$work/rpm-list.txt" "$work/rpm-expected.txt"
	if [ -n "$debs_list" ]; then
		if { grep -vxF -f <(printf '%s\n' "${rpm_only[@]}") "$work/rpm-list.txt"
			printf '%s\n' "${rpm_without[@]}"; } | sort | diff -q - "$debs_list" >/dev/null; then
			pass "RPM: the same files as the .deb but for Fedora's layout and the MAC policy"
		else
			fail "RPM and .deb differ beyond Fedora's layout and the MAC policy"
		fi
	fi
	rpm -qp --scripts "$rpmfile" >"$work/rpm-scripts.txt" 2>/dev/null || true
	if grep -q 'selinux_modules_install -s targeted .*/gvtg_hook.pp.bz2' "$work/rpm-scripts.txt" &&
		grep -q 'selinux_relabel_post -s targeted' "$work/rpm-scripts.txt"; then
		pass "RPM installs the SELinux module in %post and relabels in %posttrans"
	else
		fail "RPM scriptlets lack the SELinux module's installation or relabelling"
	fi
else
	fail "rpmbuild -bb --nodeps contrib/rpm/gvtg-hook.spec:"
	show "$work/rpmbuild.log" 40
fi

# Arch: makepkg refuses root; it runs as nobody in a directory of its own.  arch-meson is
# Arch's wrapper around meson setup (its options, less LTO, which only slows CI down).
arch=$work/arch
mkdir -p "$arch/bin"
chmod 755 "$work" "$work/usrlib-pc"
cp "$contrib/arch/PKGBUILD" "$contrib/arch/gvtg-hook.install" "$tarball" "$arch/"
# The committed PKGBUILD pins a sum, never SKIP; this build pins its own tarball's, as
# updpkgsums would, so makepkg verifies the source it unpacks.
check "PKGBUILD pins a sha256 of its source (no SKIP)" \
	grep -qE "^sha256sums=\('[0-9a-f]{64}'\)$" "$contrib/arch/PKGBUILD"
sed -i "s/^sha256sums=.*/sha256sums=('$(sha256sum "$tarball" | cut -d' ' -f1)')/" "$arch/PKGBUILD"
cat >"$arch/bin/arch-meson" <<'SHIM'
#!/bin/sh
exec meson setup --prefix /usr --libexecdir lib --sbindir bin --buildtype plain \
	--auto-features enabled --wrap-mode nodownload -D b_pie=true "$@"
SHIM
chmod 755 "$arch/bin/arch-meson"
chown -R nobody:nogroup "$arch"
if (cd "$arch" && timeout 900 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env -i PATH="$arch/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$arch" LC_ALL=C.UTF-8 \
	BUILDDIR="$arch/build" PKGDEST="$arch" SRCDEST="$arch" PKG_CONFIG_PATH="$usrlib_pc" \
	makepkg --nodeps --nocheck --noconfirm --noprogressbar) >"$work/makepkg.log" 2>&1; then
	archfile=$(find "$arch" -maxdepth 1 -name "gvtg-hook-$version-*.pkg.tar.*" | head -n 1)
fi
if [ -n "${archfile:-}" ]; then
	pass "makepkg --nodeps (as nobody) built $(basename "$archfile")"
	bsdtar -tvf "$archfile" | awk '$9 !~ /^\./ { t = ""; if ($10 == "->") t = $11; print $1, "/" $9, t }' |
		kinds >"$work/arch-raw.txt"
	hook_path_ok "Arch" "$work/arch-raw.txt"
	sed "${arch_map[@]}" "$work/arch-raw.txt" | sort >"$work/arch-list.txt"
	compare Arch "$work/arch-list.txt" "$work/expected.txt"
	if [ -n "$debs_list" ]; then
		if diff -q "$work/arch-list.txt" "$debs_list" >/dev/null; then
			pass "Arch: the same files as the .deb but for arch-meson's layout"
		else
			fail "Arch package and .deb differ beyond arch-meson's layout"
		fi
	fi
else
	fail "makepkg --nodeps contrib/arch/PKGBUILD:"
	show "$work/makepkg.log" 40
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
