#!/bin/bash
# SPDX-License-Identifier: MIT
# Install, as root on Debian 12, every package that building and testing gvtg-hook needs:
# the lists in scripts/packages.d/ (build.list for the build alone; the others for the
# simulated host, the real libvirt daemon, the VM, the benchmarks and packaging).
#   scripts/install-deps.sh          everything
#   scripts/install-deps.sh build    only build.list (and any other names given)
set -euo pipefail
cd "$(dirname "$0")/packages.d"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (apt-get install needs it)" >&2
    exit 1
fi
if [ $# -gt 0 ]; then
    lists=()
    for n in "$@"; do lists+=("$n.list"); done
else
    lists=(*.list)
fi
mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "${lists[@]}" | sort -u)

# Without systemd as PID 1, package scripts would start daemons (libvirtd) through their
# init scripts; the tests start and stop their own.  Forbid service starts while installing.
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    made_policy=yes
fi
trap '[ "$made_policy" = yes ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"
