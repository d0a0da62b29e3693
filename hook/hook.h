/* SPDX-License-Identifier: MIT */
/* The hook's logic, callable from main() and from the tests. */
#pragma once

#include <stdio.h>

enum hook_op {
	HOOK_IGNORED,
	HOOK_PREPARE,
	HOOK_RELEASE,
	HOOK_RECONNECT,
};

enum hook_op gvtg_hook_classify(const char *op, const char *sub);

/* Read all of fd, at most GVTG_XML_MAX bytes (-EFBIG above, after draining the rest;
 * *ret_buf then holds the first GVTG_XML_HEAD bytes, to free). */
int gvtg_hook_read_input(int fd, char **ret_buf, size_t *ret_len);
/* How much of a document over the size bound is kept: its <name> and <uuid> come
 * first. */
#define GVTG_XML_HEAD (64 * 1024)

/* Run the hook: argv as libvirt passes it, the domain XML that main() read from stdin
 * (xml, len; read_error is what gvtg_hook_read_input() returned: 0, -EFBIG with the
 * document's head, -errno),
 * messages to err.  Returns the exit status.  The root directory comes from GVTG_ROOT (secure_getenv). */
int gvtg_hook_run(int argc, char **argv, const char *xml, size_t len, int read_error,
		  FILE *err);

/* The symbol main() looks up in the core module. */
typedef int (*gvtg_hook_run_fn)(int argc, char **argv, const char *xml, size_t len,
				int read_error, FILE *err);

/* This build's identity ("<version>+<token>", build-id.sh), compiled into both the
 * executable and the core module, which exports it: the executable looks it up before
 * calling anything in a module it loads, and refuses a module of another build. */
extern const char gvtg_hook_build_id[];
#define GVTG_HOOK_BUILD_ID_SYMBOL "gvtg_hook_build_id"
