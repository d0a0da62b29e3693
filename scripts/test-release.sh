#!/bin/bash
# SPDX-License-Identifier: MIT
# The project built, and its unit, docs and simulated-host suites run, inside a chroot of
# another Debian release than the machine's (default: Debian 13 "trixie"), as CI does for
# each release the project supports.  The chroot is debootstrap's minimal variant with the
# packages of scripts/packages.d/{build,sim,ctl}.list (but the compilers and tools only
# the machine's own CI steps use: clang, valgrind), libselinux1-dev and libvirt-clients (virsh,
# for the attach tests on libvirt's test driver), installed by apt.
# It is cached under CACHE/<release>-<key>, the key a hash of that package list; a
# chroot of another key is deleted.  The source (tracked and new files) is
# copied into the chroot and built there in a scratch directory, removed afterwards.
# Usage: scripts/test-release.sh [RELEASE]
# Environment: GVTG_RELEASE_CACHE (default /var/cache/gvtg-release),
# GVTG_HOST_MIRROR (default http://deb.debian.org/debian), GVTG_RELEASE_TIMEOUT (seconds
# for the build and the suites, default 900).
# Exit status: 0 passed, 1 failed (or a suite skipped under CI=true), 77 not root or no
# debootstrap.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
release=${1:-trixie}
cache=${GVTG_RELEASE_CACHE:-/var/cache/gvtg-release}
mirror=${GVTG_HOST_MIRROR:-http://deb.debian.org/debian}
limit=${GVTG_RELEASE_TIMEOUT:-900}
lists=(build sim ctl)
start_s=$SECONDS
say() { printf '[%3ds] %s\n' "$((SECONDS - start_s))" "$*"; }

if [[ $EUID -ne 0 ]]; then
	echo "SKIP: scripts/test-release.sh needs root (debootstrap, chroot, FUSE)"
	exit 77
fi
for tool in debootstrap chroot timeout flock git; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool is missing"
		exit 77
	}
done

files=()
for l in "${lists[@]}"; do files+=("$src/scripts/packages.d/$l.list"); done
# What the chroot holds: the lists' packages, but clang and valgrind, and these.
extra=(libselinux1-dev libvirt-clients)
mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "${files[@]}" |
	sort -u | grep -vx -e clang -e valgrind)
pkgs+=("${extra[@]}")
key=$(echo "minbase ${pkgs[*]}" | sha256sum | cut -c1-16)
root=$cache/$release-$key
log=$cache/$release-build.log
mkdir -p "$cache"

mounted=()
umount_all() {
	local m
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		m=${mounted[i]}
		umount -l "$m" 2>/dev/null || true
	done
	mounted=()
}
in_root() {
	timeout "${TIMEOUT:-900}" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
trap umount_all EXIT
# A timeout around this script (test-all.sh) still unmounts.
trap 'exit 1' TERM INT

# ---- the chroot (cached) ----------------------------------------------------------------
exec {lock}>"$cache/.lock"
timeout 900 flock "$lock" || {
	echo "FAIL: waited 900 s for $cache/.lock"
	exit 1
}
if [[ ! -e $root/.complete ]]; then
	t0=$SECONDS
	find "$cache" -mindepth 1 -maxdepth 1 -name "$release-*" -type d ! -name "$release-$key" \
		-exec rm -rf {} +
	rm -rf "$root"
	say "debootstrap $release into $root"
	if ! timeout 900 debootstrap --variant=minbase "$release" "$root" "$mirror" >"$log" 2>&1; then
		echo "FAIL: debootstrap $release failed:"
		tail -n 20 "$log" | sed 's/^/    | /'
		exit 1
	fi
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc" && mounted+=("$root/proc")
	if ! in_root apt-get -q update >>"$log" 2>&1 ||
		! in_root apt-get -q -y --no-install-recommends install "${pkgs[@]}" \
			>>"$log" 2>&1 || ! in_root apt-get clean >>"$log" 2>&1; then
		echo "FAIL: apt-get install in the $release chroot failed:"
		tail -n 20 "$log" | sed 's/^/    | /'
		exit 1
	fi
	umount_all
	touch "$root/.complete"
	say "chroot built ($((SECONDS - t0)) s, $(du -sm "$root" | cut -f1) MB)"
fi
exec {lock}>&-
say "Debian $(cat "$root/etc/debian_version") chroot $root"

# ---- build and test inside it ------------------------------------------------------------
work=$(mktemp -d "$root/tmp/gvtg-src.XXXXXX")
trap 'umount_all; rm -rf "$work"' EXIT
(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$src" && xargs -0 cp -a --parents -t "$work" 2>/dev/null) || true
inner=${work#"$root"}
for m in proc sys dev; do
	if [[ $m == proc ]]; then
		mount -t proc proc "$root/proc"
	else
		mount --rbind "/$m" "$root/$m" && mount --make-rslave "$root/$m"
	fi
	mounted+=("$root/$m")
done

out=$work/test.log
rc=0
TIMEOUT=$limit in_root /bin/sh -c "cd '$inner' && meson setup build >/dev/null &&
	meson compile -C build >/dev/null &&
	meson test -C build --print-errorlogs --suite unit --suite docs --suite sim" \
	>"$out" 2>&1 || rc=$?
grep -E '^ *[0-9]+/[0-9]+ ' "$out" | sed 's/^/    /'
if [[ $rc -ne 0 ]]; then
	echo "FAIL: build or suites in the $release chroot (exit $rc):"
	grep -vE '^ *[0-9]+/[0-9]+ ' "$out" | tail -n 40 | sed 's/^/    | /'
	exit 1
fi
if [[ -n ${CI:-} ]] && grep -qE '^ *[0-9]+/[0-9]+ .* SKIP ' "$out"; then
	echo "FAIL: a suite was skipped in the $release chroot, where everything it needs is installed"
	exit 1
fi
say "PASS: built and passed the unit, docs and simulated suites on Debian $release"
