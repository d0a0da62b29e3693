#!/bin/bash
# SPDX-License-Identifier: MIT
# The package of the previous release, for the upgrade scenario (guest-upgrade.sh): the
# newest tag before HEAD, else the commit in upgrade-from; its tree from `git archive`,
# built as run.sh builds the current one (contrib/debian as debian/), its version lowered
# with a '~prev' suffix so that the current package is an upgrade of it.  Cached in
# CACHE by commit: it is built once.  Prints the .deb's path.
#   old-deb.sh SRC CACHE LOGDIR
set -euo pipefail
src=$1 cache=$2 logdir=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || {
	echo "old-deb: $src is not a git clone: the previous release cannot be found" >&2
	exit 1
}
from=$(git -C "$src" describe --tags --abbrev=0 HEAD~1 2>/dev/null || true)
[[ -n $from ]] || from=$(grep -v '^#' "$here/upgrade-from" | head -n1)
commit=$(git -C "$src" rev-parse --verify -q "$from^{commit}") || {
	echo "old-deb: the previous release $from is not in $src (a shallow clone?)" >&2
	exit 1
}
out=$cache/upgrade-from-$commit
deb=$(find "$out" -maxdepth 1 -name 'gvtg-hook_*~prev_*.deb' 2>/dev/null | head -n1 || true)
if [[ -n $deb ]]; then
	echo "$deb"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/src"
git -C "$src" archive "$commit" | tar -x -C "$out/src"
rm -rf "$out/src/debian"
cp -a "$out/src/contrib/debian" "$out/src/debian"
sed -i '1s/^gvtg-hook (\([^)]*\))/gvtg-hook (\1~prev)/' "$out/src/debian/changelog"
(cd "$out/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	timeout 600 dpkg-buildpackage -us -uc -b) >"$logdir/dpkg-buildpackage-old.log" 2>&1 || {
	echo "old-deb: building $commit failed (see $logdir/dpkg-buildpackage-old.log)" >&2
	exit 1
}
rm -rf "$out/src"
deb=$(find "$out" -maxdepth 1 -name 'gvtg-hook_*~prev_*.deb' | head -n1)
[[ -n $deb ]] || { echo "old-deb: no gvtg-hook_*~prev_*.deb in $out" >&2; exit 1; }
echo "$deb"
