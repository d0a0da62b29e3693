#!/bin/sh
# SPDX-License-Identifier: MIT
# Decides whether `meson install` may put gvtg-hook's symlink at PATH, libvirt's hook
# file (hooks/qemu.d/50-gvtg-hook or hooks/qemu): only when nothing is there or the
# thing there is gvtg-hook's own.  meson replaces an existing symlink without a word and
# stops halfway on a regular file, so this runs first: at `meson setup` (against the
# live hooks directory) and, for hooks/qemu, at every build, `meson install` and
# `ninja install` included (then under $DESTDIR when it is set).
# Usage: hook-registration.sh PATH [build | setup HOOK].  Exit 0, nothing printed: PATH
# may be (re)placed.  Exit 1, one line on stderr: it may not, and what to do instead.
# Exit 2, one line on stderr (a warning): PATH is gvtg-hook's executable copied there by
# an older install, which meson cannot replace with a link, or (setup) a link of another
# install than this one's HOOK (with "build": exit 0 and silent, `meson setup` has warned).
# hook-registration.sh PATH --after TARGET (an install script, after meson's links):
# meson skips a link whose place holds a dangling symlink ("Symlink creation does not
# work on this platform"); ours is replaced here, and said so.
set -eu
path=$1
mode=${2-}
if [ "$mode" = --after ]; then
	dest="${DESTDIR:-}$path"
	if [ "$(readlink "$dest" 2>/dev/null)" != "$3" ]; then
		ln -sfn "$3" "$dest"
		echo "Replaced the dangling link $dest with one to $3 (not removed by ninja uninstall)"
	fi
	exit 0
fi
dest="${DESTDIR:-}$path"
# The words only gvtg-hook's executable holds (gvtgctl check looks for the same).
mark='usage: gvtg-hook DOMAIN OPERATION'
if [ ! -e "$dest" ] && [ ! -L "$dest" ]; then
	exit 0
fi
if [ -L "$dest" ]; then
	# A link to any gvtg-hook executable (this build's, a package's, another prefix's):
	# ours, replaced by the new one.
	case $(readlink "$dest") in
	*/gvtg-hook)
		# At setup: another install's link (a package's, another prefix's) is replaced,
		# and this build's uninstall would remove it: say so once.
		if [ "$mode" = setup ] && [ "$(readlink "$dest")" != "$3" ]; then
			echo "$dest links to another gvtg-hook install ($(readlink "$dest")):" \
				"this install replaces the link, and its 'ninja uninstall' removes it." \
				"Keep one install (two read two configurations; gvtgctl check says which" \
				"is in effect)" >&2
			exit 2
		fi
		exit 0
		;;
	esac
	target=$(readlink "$dest")
	if [ -f "$dest" ] && grep -aqF "$mark" "$dest" 2>/dev/null; then
		exit 0
	fi
	what="a symlink to $target that is not gvtg-hook's"
elif [ -f "$dest" ] && grep -aqF "$mark" "$dest" 2>/dev/null; then
	[ "$mode" = build ] && exit 0
	echo "$dest is a copy of gvtg-hook left by an earlier install: meson cannot replace" \
		"it with a link; remove it first (rm $dest)" >&2
	exit 2
else
	what="a file that is not gvtg-hook's"
fi
case $path in
*/qemu)
	echo "$dest is $what (another qemu hook?): installing would replace it." \
		"Keep it and register gvtg-hook in qemu.d instead (meson setup" \
		"-Dhook_install=qemu.d, libvirt 6.5 or later), or move it away first" >&2
	;;
*)
	echo "$dest is $what: installing would replace it. Move it away first, or" \
		"choose -Dhook_install=none and register the hook yourself" >&2
	;;
esac
exit 1
