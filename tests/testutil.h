/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check suites: test data, running the hook in-process or exec'd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <check.h>

struct hook_result {
	int status;     /* exit code, or 128 + signal */
	char *out;      /* stdout */
	char *err;      /* stderr */
	double seconds; /* wall time */
};

/* Absolute path of a file in tests/data (GVTG_TEST_DATA). Static buffer. */
const char *data_path(const char *name);
/* Whole file, malloc'd. */
char *slurp(const char *path, size_t *ret_len);

/* Exec the built hook (GVTG_HOOK) with GVTG_ROOT=root, argv[1..4], stdin from the file
 * `input` (NULL: /dev/null; "-closed": stdin closed). */
void hook_exec(const char *root, const char *input, const char *dom, const char *op,
	       const char *sub, const char *extra, struct hook_result *ret);
/* Exec with arbitrary arguments. */
void hook_exec_argv(const char *root, const char *input, char *const argv[],
		    struct hook_result *ret);
/* Run gvtg_hook_run() in this process (the library's I/O seam stays in effect). */
void hook_call(const char *root, const char *input, const char *dom, const char *op,
	       const char *sub, struct hook_result *ret);
void hook_result_free(struct hook_result *r);
/* Number of lines in s. */
int count_lines(const char *s);
/* Run a suite, return the exit status for main(). */
int run_suite(Suite *s);

/* A stand-in for mdevctl in <root>/mdevctl, and GVTG_MDEVCTL naming it.  It appends its
 * arguments to <root>/stub.log and its open fds to <root>/stub.fds, and does to the fake
 * tree what mdevctl does to sysfs (start: create the device of the definition, one
 * instance less; stop: remove it).  <root>/mode.<uuid>, else <root>/mode, can say: fail,
 * hang, fail-after-create, hang-after-create (the pid of what it waits for goes to
 * <root>/sleep.pid), no-device and wrong-type (exit 0 having made nothing, or a device of
 * the parent's first other type); stop-hang, stop-fail, stop-noop (exit 0, the device
 * left), stop-killed (SIGKILL). */
void mdevctl_stub(const char *root);
