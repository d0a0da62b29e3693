#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (root on Debian 12, after scripts/install-deps.sh):
#   1. build and the unit, simulated-host, admin-tool and hostile-input suites, then the
#      same with this tree installed where README's first command installs it
#   2. the same suites under valgrind, then with AddressSanitizer + UBSan; the build and
#      the unit, docs and simulated suites in a Debian 13 "trixie" chroot (cached)
#   3. the real libvirt daemon (tier 1) and a real kernel in a VM (tier 2)
#   4. the -Werror dev build with gcc and clang, and the static analysis
#   5. the benchmarks (instruction counts checked against bench/expected.txt)
#   6. the fuzzers, each for a bounded time
#   7. staged installs (prefixes, layouts, uninstall); packaging: install file list, .deb +
#      lintian + dpkg, RPM and Arch builds, MAC policy; the SELinux module loaded into a
#      copy of Debian's policy store
#   8. the README's main job (scripts/demo.sh) on an install in a scratch prefix
# Suites that cannot run here (no root, no FUSE, no qemu) are reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=${GVTG_TEST_OUT:-$src/build-ci}
fuzz_seconds=${GVTG_FUZZ_SECONDS:-60}
mkdir -p "$out"
failed=()
step() {
    local name=$1; shift
    local t0=$SECONDS
    echo "=== $name"
    if "$@"; then
        echo "=== $name: passed ($((SECONDS - t0)) s)"
    else
        echo "=== $name: FAILED ($((SECONDS - t0)) s)"
        failed+=("$name")
    fi
}
setup() { # dir args...
    local dir=$1; shift
    [ -d "$dir" ] || meson setup "$dir" "$@" >/dev/null
}
# In CI every prerequisite is installed: a real-stack suite that skips there has not
# tested anything, and that is a failure.
must_run() {
    local log
    log=$(mktemp)
    local rc=0
    "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
    if [ "$rc" = 0 ] && [ -n "${CI:-}" ] && grep -qE '^ *[0-9]+/[0-9]+ .* SKIP ' "$log"; then
        echo "a suite was skipped in CI, where everything it needs is installed"
        rc=1
    fi
    rm -f "$log"
    return "$rc"
}
quick_suites=(--suite unit --suite sim --suite ctl --suite hostile)
valgrind_suites=(--suite unit --suite ctl --no-suite script)

step "build" bash -c "$(declare -f setup); setup '$out/main' && meson compile -C '$out/main'"
step "unit, simulated host, gvtgctl, hostile input" \
    must_run meson test -C "$out/main" --print-errorlogs --suite docs "${quick_suites[@]}"
step "the same with this tree installed in /usr/local" \
    scripts/test-installed.sh "$out/main"
step "Ansible role: syntax check, ansible-lint, its template" \
    must_run meson test -C "$out/main" --print-errorlogs --suite ansible
step "the same under valgrind" \
    meson test -C "$out/main" --print-errorlogs --setup=valgrind "${valgrind_suites[@]}"
step "sanitizers (ASan + UBSan)" bash -c "$(declare -f setup); \
    setup '$out/asan' -Db_sanitize=address,undefined -Db_lundef=false && \
    meson compile -C '$out/asan' && \
    meson test -C '$out/asan' --print-errorlogs ${quick_suites[*]}"
step "Debian 13 (trixie) chroot: build, unit, docs, simulated host" \
    timeout 1500 scripts/test-release.sh trixie
step "real libvirt daemon (tier 1)" \
    must_run meson test -C "$out/main" --print-errorlogs --suite libvirt
step "real kernel in a VM (tier 2)" \
    must_run meson test -C "$out/main" --print-errorlogs --suite vm
step "stock Debian host in a VM (tier 3)" \
    must_run meson test -C "$out/main" --print-errorlogs --suite host
step "dev build, gcc -Werror" bash -c "$(declare -f setup); \
    setup '$out/dev-gcc' --native-file build-dev.ini && meson compile -C '$out/dev-gcc'"
step "dev build, clang -Werror" bash -c "$(declare -f setup); \
    CC=clang setup '$out/dev-clang' --native-file build-dev.ini && meson compile -C '$out/dev-clang'"
step "static analysis" scripts/lint.sh "$out/main"
step "benchmarks" bench/run.sh --check --build "$out/main"
step "fuzzers (${fuzz_seconds} s each)" fuzz/run.sh "$fuzz_seconds"
step "staged installs, uninstall, prefixes (about 70 s)" \
    must_run meson test -C "$out/main" --print-errorlogs --suite install
step "packaging" contrib/ci-packaging.sh
step "SELinux module in a copy of Debian's policy store" contrib/ci-selinux.sh
# The README's main job, installed into a scratch prefix so the host is left as it was.
demo_prefix=$(mktemp -d /tmp/gvtg-demo-prefix-XXXXXX)
step "README main job (demo)" bash -c "$(declare -f setup); \
    setup '$out/demo' --prefix='$demo_prefix' -Dhooks_dir='$demo_prefix/hooks' \
        -Dsystemd=disabled -Dudev=disabled -Dbash_completion=disabled && \
    meson install -C '$out/demo' >/dev/null && \
    GVTG_DEMO_SIMULATE=1 scripts/demo.sh '$out/demo' > '$out/demo.log' 2>&1; rc=\$?; \
    cat '$out/demo.log'; [ \$rc = 0 ] && grep -q 'win10 *created' '$out/demo.log'"
rm -rf "$demo_prefix"

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all test steps passed"
