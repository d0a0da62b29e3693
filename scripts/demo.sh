#!/bin/bash
# SPDX-License-Identifier: MIT
# The main job, shown: check this host with the installed gvtgctl; then, when it has no
# GVT-g, run the INSTALLED hook against a simulated GVT-g host (a FUSE file system that
# answers like the kernel's mdev sysfs): a VM's vGPU is created on prepare begin and
# removed on release end, as libvirt would call it.
#   scripts/demo.sh [BUILDDIR]     (BUILDDIR holds tests/sim/mdev-sim; default: build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
option() {
    meson introspect --buildoptions "$build" |
        python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}[sys.argv[1]])' "$1"
}
prefix=$(option prefix)
sbindir=$(option sbindir)
case $sbindir in /*) ;; *) sbindir=$prefix/$sbindir ;; esac
# The installed hook: <sbindir>/gvtg-hook or its copy in the hooks directory (hook_layout).
hook=$(sed -n 's/^#define GVTG_HOOK_PATH "\(.*\)"$/\1/p' "$build/config.h")
gvtgctl=$sbindir/gvtgctl
for f in "$hook" "$gvtgctl"; do
    [ -x "$f" ] || { echo "demo: $f is not installed: run 'meson install -C $build' first" >&2; exit 1; }
done
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say gvtgctl check
rc=0
"$gvtgctl" check || rc=$?
if [ "$rc" = 0 ] && [ -z "${GVTG_DEMO_SIMULATE:-}" ]; then
    echo
    echo "This host has GVT-g: 'gvtgctl attach DOMAIN --type TYPE' gives a domain a vGPU ('gvtgctl xml' prints it for 'virsh edit')."
    exit 0
fi
echo
echo "No working GVT-g here: the rest runs the installed hook on a simulated GVT-g host."

export MDEV_SIM=$build/tests/sim/mdev-sim
# shellcheck source=tests/sim/sim-lib.sh
. "$src/tests/sim/sim-lib.sh"
if ! sim_available; then
    echo "demo: the simulated host cannot run here: $SIM_UNAVAILABLE" >&2
    exit 1
fi
root=$(mktemp -d /tmp/gvtg-demo-XXXXXX)
trap 'sim_stop "$root" >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
sim_start "$root" gvt
# Under a root the hook looks for its module inside it, as for every other path: the
# simulated host gets the installed module, where the installed hook looks for it.
hook_dir=$(sed -n 's/^#define GVTG_HOOK_DIR "\(.*\)"$/\1/p' "$build/config.h")
mkdir -p "$root$hook_dir"
ln -s "$hook_dir/gvtg-hook-core.so" "$root$hook_dir/gvtg-hook-core.so"
uuid=4b20d080-1b54-4048-85b3-a6a62d165c01
cat > "$root/win10.xml" <<XML
<domain type='kvm'>
  <name>win10</name>
  <uuid>6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d</uuid>
  <metadata>
    <gvtg:vgpu xmlns:gvtg='urn:gvtg-hook:vgpu:1'>
      <gvtg:device uuid='$uuid' type='i915-GVTg_V5_4'/>
    </gvtg:vgpu>
  </metadata>
  <devices>
    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>
      <source><address uuid='$uuid'/></source>
    </hostdev>
  </devices>
</domain>
XML

say gvtgctl --root "$root" list
"$gvtgctl" --root "$root" list
say "GVTG_ROOT=$root $hook win10 prepare begin - < win10.xml"
GVTG_ROOT=$root "$hook" win10 prepare begin - < "$root/win10.xml"
echo "exit status $?"
say gvtgctl --root "$root" list
"$gvtgctl" --root "$root" list
say "GVTG_ROOT=$root $hook win10 release end - < win10.xml"
GVTG_ROOT=$root "$hook" win10 release end - < "$root/win10.xml"
echo "exit status $?"
say gvtgctl --root "$root" list
"$gvtgctl" --root "$root" list
