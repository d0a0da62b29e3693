#!/bin/sh
# SPDX-License-Identifier: MIT
# The hook's contract is ONE table, printed in README.md and in gvtg-hook(8): both copies
# must have the same rows, cell for cell.
set -eu
readme=$1
man=$2
rows_md() {
    sed -n '/<!-- contract:begin -->/,/<!-- contract:end -->/p' "$1" |
        grep '^|' | sed '1,2d' |
        sed -e 's/^| *//' -e 's/ *|$//' -e 's/ *| */|/g' -e 's/`//g'
}
rows_man() {
    sed -n '/^\.\\" contract:begin/,/^\.\\" contract:end/p' "$1" |
        sed -n '/^\.TE/q;/^T{$/,$p' >/dev/null
    # tbl rows: cells separated by tabs, one row per line, between the format line and .TE
    awk '/^\.\\" contract:begin/{on=1;next} /^\.\\" contract:end/{on=0} on' "$1" |
        awk '/^\.TS/{t=1;next} /^\.TE/{t=0} t' |
        sed '1,3d' | grep -v '^_$' |
        sed -e 's/\\fB//g' -e 's/\\fR//g' -e 's/\\fI//g' -e 's/\\-/-/g' -e 's/\\(em/—/g' -e 's/\t/|/g'
}
a=$(rows_md "$readme")
b=$(rows_man "$man")
if [ -z "$a" ]; then echo "no contract table in $readme"; exit 1; fi
if [ "$a" != "$b" ]; then
    echo "the contract tables differ (< README, > man page):"
    diff <(echo "$a") <(echo "$b") 2>/dev/null || { echo "$a" > /tmp/ct.$$.a; echo "$b" > /tmp/ct.$$.b; diff /tmp/ct.$$.a /tmp/ct.$$.b; rm -f /tmp/ct.$$.*; }
    exit 1
fi
echo "contract table: $(echo "$a" | wc -l) rows, README and man page agree"
