#!/bin/bash
# SPDX-License-Identifier: MIT
# One voice: the diagnosis table (lib/diag.c) is the only place where an errno becomes
# words.  The hook, the library and gvtgctl's lifecycle commands call it; none of them
# calls strerror() or spells a kernel errno's meaning itself.
set -euo pipefail
src=$1
files=("$src"/hook/*.c "$src"/lib/*.c "$src"/ctl/common.c "$src"/ctl/cmd-vgpu.c \
       "$src"/ctl/cmd-boot.c)
bad=0
for f in "${files[@]}"; do
    # the table; and the configuration reader's own words about a whole file or directory
    case "$(basename "$f")" in diag.c|config.c|config-files.c) continue ;; esac
    # strerror and friends, and the wording of the kernel's answers
    if grep -nE 'strerror|%m|perror\(|"[^"]*(no room|no instances|permission denied|already in use|is going away|No such file)' "$f"; then
        echo "^ $f: errno in words outside lib/diag.c"
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "one voice: ${#files[@]} files, errno words only in lib/diag.c"
exit "$bad"
