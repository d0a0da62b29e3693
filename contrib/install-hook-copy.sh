#!/bin/sh
# SPDX-License-Identifier: MIT
# hook_layout=hooks_dir: install the hook executable itself as libvirt's hook file
# (e.g. /etc/libvirt/hooks/qemu.d/50-gvtg-hook).  libvirtd's AppArmor profile runs files
# under the hooks directory but nothing under /usr/local, so a source install with the
# default prefix puts a real copy there rather than a symlink.
# Called by meson install with: BUILT-EXECUTABLE DESTINATION (absolute; DESTDIR prepended).
set -eu
src=$1
dest="${DESTDIR:-}$2"
mkdir -p "$(dirname "$dest")"
# A symlink left by an earlier install with hook_layout=sbindir would make install(1)
# write through it: replace the link, not its target.
if [ -L "$dest" ]; then
    rm -f "$dest"
fi
install -m 0755 "$src" "$dest"
echo "Installing $src to $dest"
