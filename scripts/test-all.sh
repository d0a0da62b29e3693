#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it (root on Debian 12, after scripts/install-deps.sh):
#   1. build and the unit, simulated-host, admin-tool and hostile-input suites
#   2. the same suites under valgrind, then with AddressSanitizer + UBSan
#   3. the real libvirt daemon (tier 1) and a real kernel in a VM (tier 2)
#   4. the -Werror dev build with gcc and clang, and the static analysis
#   5. the benchmarks (instruction counts checked against bench/expected.txt)
#   6. the fuzzers, each for a bounded time
#   7. packaging: install file list, .deb + lintian + dpkg, systemd units, RPM spec
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
quick_suites=(--suite unit --suite sim --suite ctl --suite hostile)
valgrind_suites=(--suite unit --suite ctl --no-suite script)

step "build" bash -c "$(declare -f setup); setup '$out/main' && meson compile -C '$out/main'"
step "unit, simulated host, gvtgctl, hostile input" \
    meson test -C "$out/main" --print-errorlogs --suite docs "${quick_suites[@]}"
step "the same under valgrind" \
    meson test -C "$out/main" --print-errorlogs --setup=valgrind "${valgrind_suites[@]}"
step "sanitizers (ASan + UBSan)" bash -c "$(declare -f setup); \
    setup '$out/asan' -Db_sanitize=address,undefined -Db_lundef=false && \
    meson compile -C '$out/asan' && \
    meson test -C '$out/asan' --print-errorlogs ${quick_suites[*]}"
step "real libvirt daemon (tier 1)" \
    meson test -C "$out/main" --print-errorlogs --suite libvirt
step "real kernel in a VM (tier 2)" \
    meson test -C "$out/main" --print-errorlogs --suite vm
step "dev build, gcc -Werror" bash -c "$(declare -f setup); \
    setup '$out/dev-gcc' --native-file build-dev.ini && meson compile -C '$out/dev-gcc'"
step "dev build, clang -Werror" bash -c "$(declare -f setup); \
    CC=clang setup '$out/dev-clang' --native-file build-dev.ini && meson compile -C '$out/dev-clang'"
step "static analysis" scripts/lint.sh "$out/main"
step "benchmarks" bench/run.sh --check --build "$out/main"
step "fuzzers (${fuzz_seconds} s each)" fuzz/run.sh "$fuzz_seconds"
step "packaging" contrib/ci-packaging.sh

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all test steps passed"
