#!/bin/bash
# SPDX-License-Identifier: MIT
# The hook's contract is ONE table, printed in README.md and in gvtg-hook(8): both copies
# must have the same rows, cell for cell.
set -euo pipefail
readme=$1
man=$2
rows_md() {
    sed -n '/<!-- contract:begin -->/,/<!-- contract:end -->/p' "$1" |
        grep '^|' | sed '1,2d' |
        sed -e 's/^| *//' -e 's/ *|$//' -e 's/ *| */|/g' -e 's/`//g'
}
rows_man() {
    # tbl rows between the header row and .TE, cells in T{ ... T} blocks, tab-separated
    sed -n '/^\.\\" contract:begin/,/^\.\\" contract:end/p' "$1" |
        sed -n '/^\.TS/,/^\.TE/p' | sed '1,4d;$d' |
        sed -z -e 's/T{\n//g' -e 's/\nT}//g' |
        sed -e 's/\t/|/g' -e 's/\\-/-/g'
}
a=$(rows_md "$readme")
b=$(rows_man "$man")
if [ -z "$a" ]; then
    echo "no contract table in $readme"
    exit 1
fi
if [ "$a" != "$b" ]; then
    echo "the contract tables differ (< $readme, > $man):"
    diff <(echo "$a") <(echo "$b") || true
    exit 1
fi
echo "contract table: $(echo "$a" | wc -l) rows, README and man page agree"
