/* SPDX-License-Identifier: MIT */
/*
 * What the small executable (main.c) decides on its own, before the core module is
 * loaded: that a call has nothing to do, and where the module is.  libc only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hook.h"

/* true when the call certainly has nothing to do for this domain, judged from the raw
 * domain XML and, for release and reconnect, the record files under GVTG_ROOT: the
 * caller exits 0 without loading anything.  false means "maybe": run the core. */
bool gvtg_hook_nothing_to_do(enum hook_op op, const char *xml, size_t len);

/* gvtg_hook_read_input() that fills the caller's buffer first (size bytes, one of
 * them for the final NUL) and allocates only for a larger input: *ret_buf is then
 * first or a heap buffer to free. */
int gvtg_hook_read_input_into(int fd, char *first, size_t size, char **ret_buf,
			      size_t *ret_len);

/* The domain's <uuid> as libvirt writes it (right after <name>), lower-cased into
 * ret_uuid; false when it is absent or not certain.  The one reader of the domain's UUID
 * from raw bytes: for the early decision (whole: the document must end with </domain>)
 * and for the core's release by records when the parser refuses the document (whole
 * false for the head of one over the size bound).  The tests call it too. */
bool gvtg_hook_raw_domain_uuid(const char *xml, size_t len, bool whole, char ret_uuid[37]);

/* Exported for the tests: does any regular file in <root>/<runstatedir>/gvtg-hook
 * mention uuid?  true also when that cannot be told for sure. */
bool gvtg_hook_records_may_name(const char *root, const char *uuid);

/* The core module's self-test entry: parses a built-in domain with one mdev hostdev;
 * 0, or 1 after one line on err. */
int gvtg_hook_self_test(FILE *err);
typedef int (*gvtg_hook_self_test_fn)(FILE *err);
