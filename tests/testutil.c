/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "testutil.h"

const char *data_path(const char *name)
{
	static char buf[4096];
	const char *d = getenv("GVTG_TEST_DATA");
	snprintf(buf, sizeof(buf), "%s/%s", d ? d : "tests/data", name);
	return buf;
}

char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536 * 2;
			buf = realloc(buf, cap + 1);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_all_fd(int fd)
{
	char *buf = malloc(65537);
	size_t len = 0, cap = 65536;
	ssize_t n;
	while ((n = read(fd, buf + len, cap - len)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		len += (size_t)n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	buf[len] = '\0';
	return buf;
}

/* Under valgrind, its own copy of stderr stays open in any process the hook leaves behind
 * (a blocked remove); there, stop reading when the hook itself has exited.  Elsewhere read
 * to EOF, as libvirt does: a leftover process holding the pipes would hang it, and tests. */
static void read_until_exit(pid_t pid, int out_fd, int err_fd, struct hook_result *ret,
			    int *status)
{
	fcntl(out_fd, F_SETFL, O_NONBLOCK);
	fcntl(err_fd, F_SETFL, O_NONBLOCK);
	size_t cap[2] = { 65536, 65536 }, len[2] = { 0, 0 };
	char *buf[2] = { malloc(cap[0] + 1), malloc(cap[1] + 1) };
	int fds[2] = { out_fd, err_fd };
	bool exited = false;
	for (int idle = 0; idle < 2;) {
		struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
		poll(p, 2, 50);
		bool got = false;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			while ((n = read(fds[i], buf[i] + len[i], cap[i] - len[i])) > 0) {
				got = true;
				len[i] += (size_t)n;
				if (len[i] == cap[i])
					buf[i] = realloc(buf[i], (cap[i] *= 2) + 1);
			}
		}
		if (!exited && waitpid(pid, status, WNOHANG) == pid)
			exited = true;
		idle = exited && !got ? idle + 1 : 0;
	}
	buf[0][len[0]] = buf[1][len[1]] = '\0';
	ret->out = buf[0];
	ret->err = buf[1];
}

void hook_exec_argv(const char *root, const char *input, char *const argv[],
		    struct hook_result *ret)
{
	hook_result_free(ret);
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		abort();
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		if (input && !strcmp(input, "-closed")) {
			close(STDIN_FILENO);
		} else {
			int in = open(input ? input : "/dev/null", O_RDONLY);
			if (in < 0)
				_exit(99);
			dup2(in, STDIN_FILENO);
		}
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		if (root)
			setenv("GVTG_ROOT", root, 1);
		const char *hook = getenv("GVTG_HOOK");
		execv(hook ? hook : "hook/gvtg-hook", argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	int status;
	if (getenv("GVTG_UNDER_VALGRIND")) {
		read_until_exit(pid, out[0], err[0], ret, &status);
	} else {
		/* Read stderr after stdout: the hook writes little, pipes do not fill. */
		ret->out = read_all_fd(out[0]);
		ret->err = read_all_fd(err[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(out[0]);
	close(err[0]);
	ret->seconds = now() - t0;
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void hook_exec(const char *root, const char *input, const char *dom, const char *op,
	       const char *sub, const char *extra, struct hook_result *ret)
{
	char *argv[] = { "gvtg-hook", (char *)dom, (char *)op, (char *)sub,
			 (char *)(extra ? extra : "-"), NULL };
	hook_exec_argv(root, input, argv, ret);
}

void hook_call(const char *root, const char *input, const char *dom, const char *op,
	       const char *sub, struct hook_result *ret)
{
	char *argv[] = { "gvtg-hook", (char *)dom, (char *)op, (char *)sub, "-", NULL };
	hook_result_free(ret);
	int in = open(input ? input : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		abort();
	size_t len = 0;
	char *buf = NULL;
	FILE *err = open_memstream(&buf, &len);
	setenv("GVTG_ROOT", root, 1);
	double t0 = now();
	char *xml = NULL;
	size_t xml_len = 0;
	int read_error = gvtg_hook_read_input(in, &xml, &xml_len);
	ret->status = gvtg_hook_run(5, argv, xml, xml_len, read_error, err);
	ret->seconds = now() - t0;
	free(xml);
	fclose(err);
	close(in);
	ret->err = buf;
	ret->out = strdup("");
}

void hook_result_free(struct hook_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

void mdevctl_stub(const char *root)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/mdevctl", root);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"#!/bin/sh\n"
		"R='%s'\n"
		"echo \"$*\" >> \"$R/stub.log\"\n"
		"ls /proc/self/fd | sort -n | tr '\\n' ' ' > \"$R/stub.fds\"\n"
		"U=$3 P=${5:-}\n"
		"mode=$(cat \"$R/mode.$U\" 2>/dev/null || cat \"$R/mode\" 2>/dev/null)\n"
		"case $P in 0000:*) D=sys/devices/pci0000:00/$P ;; *) D=sys/devices/virtual/$P/$P ;; esac\n"
		"hang() { sleep 30 & echo $! > \"$R/sleep.pid\"; wait; }\n"
		"case $1 in\n"
		"start)\n"
		"  T=$(sed -n 's/.*\"mdev_type\": *\"\\([^\"]*\\)\".*/\\1/p' \"$R/etc/mdevctl.d/$P/$U\")\n"
		"  case $mode in\n"
		"  fail) echo \"Error: No available instances of $T on $P\" >&2; exit 1 ;;\n"
		"  hang) hang; exit 0 ;;\n"
		"  no-device) exit 0 ;;\n"
		"  wrong-type) T=$(ls \"$R/$D/mdev_supported_types\" | grep -vx \"$T\" | head -n 1) ;;\n"
		"  esac\n"
		"  A=\"$R/$D/mdev_supported_types/$T/available_instances\"\n"
		"  n=$(cat \"$A\") || exit 1\n"
		"  [ \"$n\" -gt 0 ] || { echo \"Error: No available instances of $T on $P\" >&2; exit 1; }\n"
		"  echo $((n - 1)) > \"$A\"\n"
		"  mkdir -p \"$R/$D/$U\" && : > \"$R/$D/$U/remove\"\n"
		"  ln -s ../mdev_supported_types/$T \"$R/$D/$U/mdev_type\"\n"
		"  ln -s \"../../../${D#sys/}/$U\" \"$R/sys/bus/mdev/devices/$U\"\n"
		"  case $mode in\n"
		"  fail-after-create) echo 'Error: callout script failed' >&2; exit 1 ;;\n"
		"  hang-after-create) hang ;;\n"
		"  esac ;;\n"
		"stop)\n"
		"  case $mode in\n"
		"  stop-hang) hang; exit 0 ;;\n"
		"  stop-fail) echo 'Error: a callout refused the stop' >&2; exit 1 ;;\n"
		"  stop-noop) exit 0 ;;\n"
		"  stop-killed) kill -9 $$ ;;\n"
		"  esac\n"
		"  L=$(readlink \"$R/sys/bus/mdev/devices/$U\") || { echo \"Error: no device $U\" >&2; exit 1; }\n"
		"  DD=\"$R/sys/${L#../../../}\"\n"
		"  T=$(basename \"$(readlink \"$DD/mdev_type\")\")\n"
		"  A=\"$(dirname \"$DD\")/mdev_supported_types/$T/available_instances\"\n"
		"  [ -f \"$A\" ] && echo $(($(cat \"$A\") + 1)) > \"$A\"\n"
		"  rm -rf \"$DD\" \"$R/sys/bus/mdev/devices/$U\" ;;\n"
		"esac\n",
		root);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0755), 0);
	setenv("GVTG_MDEVCTL", path, 1);
}
