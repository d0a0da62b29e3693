#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the configuration file unless one is already there: an admin's edits are kept.
# Called by meson install with: SOURCE DESTINATION (absolute, DESTDIR is prepended).
set -eu
src=$1
dest="${DESTDIR:-}$2"
if [ -e "$dest" ]; then
    echo "Keeping the existing $dest"
    exit 0
fi
mkdir -p "$(dirname "$dest")"
install -m 0644 "$src" "$dest"
echo "Installing $src to $dest"
