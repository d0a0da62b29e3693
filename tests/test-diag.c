/* SPDX-License-Identifier: MIT */
/*
 * The diagnosis table, row by row: each cause is met through the built hook and, where
 * gvtgctl can meet it, through the built gvtgctl, on fake trees; both print the row's
 * words after their own prefix, and the cause and fix read the same in both.  The kernel's
 * answers come from an LD_PRELOAD shim (write-fail.c).  Notices and the few causes a
 * fake tree cannot produce for a process running as root are met in-process through the
 * library's I/O seam.  The last test checks that every row was reached.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg.h"
#include "gvtg-private.h"
#include "testutil.h"

#define UA "4b20d080-1b54-4048-85b3-a6a62d165c01" /* the vGPU of the domain in the XML */
#define DOM_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define GPU "0000:00:02.0"
#define GVT "sys/devices/pci0000:00/" GPU
#define TYPES GVT "/mdev_supported_types/"
#define T4 "i915-GVTg_V5_4"
#define T8 "i915-GVTg_V5_8"
#define STATE "run/gvtg-hook"

static struct fakesys *fs;
static struct hook_result hres, cres;
static bool seen[GVTG_CAUSE__MAX];

static void setup(void)
{
	fs = fakesys_new();
	memset(&hres, 0, sizeof(hres));
	memset(&cres, 0, sizeof(cres));
	unsetenv("GVTG_TEST_WRITE_FAIL");
}

static void teardown(void)
{
	hook_result_free(&hres);
	hook_result_free(&cres);
	fakesys_free(fs);
	unsetenv("GVTG_TEST_WRITE_FAIL");
	unsetenv("LD_PRELOAD");
}

static void config(const char *text)
{
	ck_assert_int_eq(fakesys_write(fs, &GVTG_CONFIG_FILE[1], text), 0);
}

/* Kernel answers: a write to a path ending in suffix fails with err (0: short write). */
static void kernel_fails(const char *suffix, int err)
{
	char spec[128];
	snprintf(spec, sizeof(spec), "%s=%d", suffix, err);
	setenv("GVTG_TEST_WRITE_FAIL", spec, 1);
	setenv("LD_PRELOAD", getenv("GVTG_WRITE_FAIL_SHIM"), 1);
	/* a sanitizer runtime wants to come first; the shim does not mind */
	setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
}

static void exec_prog(const char *prog, char *const argv[], const char *input, bool to_full,
		      struct hook_result *ret)
{
	hook_result_free(ret);
	int out[2], err[2];
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open(input ? input : "/dev/null", O_RDONLY);
		if (in < 0)
			_exit(99);
		dup2(in, STDIN_FILENO);
		if (to_full) {
			int full = open("/dev/full", O_WRONLY);
			dup2(full, STDOUT_FILENO);
		} else {
			dup2(out[1], STDOUT_FILENO);
		}
		dup2(err[1], STDERR_FILENO);
		setenv("GVTG_ROOT", fakesys_root(fs), 1);
		execv(prog, argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	char *bufs[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	int fds[2] = { out[0], err[0] };
	bool exited = false;
	int status = 0;
	/* Until the program exits: a removal child it left blocked may keep a copy of a
	 * pipe open (valgrind's own log descriptor does), so EOF is not the end. */
	while (fds[0] >= 0 || fds[1] >= 0) {
		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
		if (poll(p, 2, exited ? 0 : 50) <= 0) {
			if (exited)
				break;
			continue;
		}
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			char chunk[4096];
			ssize_t n = read(fds[i], chunk, sizeof(chunk));
			if (n <= 0) {
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			bufs[i] = realloc(bufs[i], lens[i] + (size_t)n + 1);
			memcpy(bufs[i] + lens[i], chunk, (size_t)n);
			lens[i] += (size_t)n;
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!exited)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	ret->out = bufs[0] ? bufs[0] : strdup("");
	ret->err = bufs[1] ? bufs[1] : strdup("");
	ret->out[lens[0]] = '\0';
	ret->err[lens[1]] = '\0';
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The hook with the domain XML (a file in tests/data, or a path). */
static void hook(const char *xml, const char *op)
{
	char *argv[] = { "gvtg-hook", "win10", (char *)op,
			 !strcmp(op, "release") ? "end" : "begin", "-", NULL };
	const char *input = xml && xml[0] == '/' ? xml : xml ? data_path(xml) : NULL;
	exec_prog(getenv("GVTG_HOOK"), argv, input, false, &hres);
}

static void ctl_run(bool to_full, const char *arg, ...)
{
	const char *argv[32] = { "gvtgctl", "--root", fakesys_root(fs) };
	size_t n = 3;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	exec_prog(getenv("GVTGCTL"), (char **)argv, NULL, to_full, &cres);
}
#define ctl(...) ctl_run(false, __VA_ARGS__, NULL)

/* The longest run of a template's words outside any {fact} or {[optional]} part. */
static void anchor(const char *t, char *out, size_t size)
{
	size_t best = 0, depth = 0, start = 0;
	out[0] = '\0';
	for (size_t i = 0;; i++) {
		bool end = t[i] == '\0';
		bool open = !end && t[i] == '{';
		bool close = !end && depth > 0 && t[i] == '}';
		if (depth == 0 && (end || open)) {
			size_t len = i - start;
			if (len > best && len < size) {
				best = len;
				memcpy(out, t + start, len);
				out[len] = '\0';
			}
		}
		if (end)
			break;
		if (open)
			depth++;
		else if (close && --depth == 0)
			start = i + 1;
	}
}

/* The line of output that carries the cause's words. */
static const char *cause_line(const struct hook_result *r, enum gvtg_cause c,
			      const char *prefix, char *line, size_t size)
{
	const struct gvtg_cause_row *row = gvtg_cause_row(c);
	char a[256], f[256];
	anchor(row->text, a, sizeof(a));
	anchor(row->fix, f, sizeof(f));
	const char *text = row->level == GVTG_DIAG_NOTICE ? r->out : r->err;
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		snprintf(line, size, "%.*s", (int)len, l);
		if ((!prefix || !strncmp(line, prefix, strlen(prefix))) && strstr(line, a) &&
		    strstr(line, f))
			return strstr(line, a);
		l += len + (nl ? 1 : 0);
	}
	return NULL;
}

static void expect_hook(enum gvtg_cause c, int status)
{
	char line[2048];
	ck_assert_msg(hres.status == status, "%s: hook exit %d, not %d: %s",
		      gvtg_cause_row(c)->id, hres.status, status, hres.err);
	ck_assert_msg(cause_line(&hres, c, "gvtg-hook: ", line, sizeof(line)),
		      "%s: the hook's stderr lacks the row's words: %s", gvtg_cause_row(c)->id,
		      hres.err);
	ck_assert_str_eq(hres.out, "");
	seen[c] = true;
}

static void expect_ctl(enum gvtg_cause c, int status)
{
	char line[2048];
	ck_assert_msg(cres.status == status, "%s: gvtgctl exit %d, not %d: %s",
		      gvtg_cause_row(c)->id, cres.status, status, cres.err);
	ck_assert_msg(cause_line(&cres, c, gvtg_cause_row(c)->level == GVTG_DIAG_NOTICE
						   ? NULL
						   : "gvtgctl: ",
				 line, sizeof(line)),
		      "%s: gvtgctl's output lacks the row's words: %s%s", gvtg_cause_row(c)->id,
		      cres.out, cres.err);
	seen[c] = true;
}

/* Both met it: from the cause's words to the end of the line, the same bytes. */
static void expect_same(enum gvtg_cause c)
{
	char a[2048], b[2048];
	const char *h = cause_line(&hres, c, "gvtg-hook: ", a, sizeof(a));
	const char *g = cause_line(&cres, c, "gvtgctl: ", b, sizeof(b));
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_nonnull(g);
	ck_assert_msg(!strcmp(h, g), "%s differs:\n hook:    %s\n gvtgctl: %s",
		      gvtg_cause_row(c)->id, h, g);
}

static void both(enum gvtg_cause c, int hook_status)
{
	expect_hook(c, hook_status);
	expect_ctl(c, 1);
	expect_same(c);
}

/* ---- placement ---------------------------------------------------------------------- */

START_TEST(placement_causes)
{
	hook("display-off.xml", "prepare");
	ctl("create", "--type", T4, UA);
	both(GVTG_CAUSE_NO_PARENT, 1);

	fakesys_gvt_host(fs);
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_TYPE_AMBIGUOUS, 1);
	/* the list says resolution and instances left */
	ck_assert_ptr_nonnull(strstr(cres.err, "i915-GVTg_V5_8 (1024x768, 2 left)"));

	config("[defaults]\nparent = 0000:00:09.0\ntype = " T4 "\n");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_PARENT_UNKNOWN, 1);

	config("[defaults]\ntype = GVTg_V5_4\n");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_TYPE_UNKNOWN, 1);
	ck_assert_ptr_nonnull(strstr(hres.err, "Did you mean 'i915-GVTg_V5_4'?"));

	config("");
	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_PARENT_AMBIGUOUS, 1);

	hook("metadata-traversal.xml", "prepare");
	expect_hook(GVTG_CAUSE_NAME_INVALID, 1);
}
END_TEST

START_TEST(no_types)
{
	fakesys_add_parent(fs, GPU);
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_NO_TYPES, 1);
}
END_TEST

START_TEST(model_and_existing)
{
	fakesys_gvt_host(fs);
	config("[defaults]\ntype = " T4 "\n");
	fakesys_write(fs, TYPES T4 "/device_api", "vfio-ccw\n");
	hook("display-off.xml", "prepare");
	expect_hook(GVTG_CAUSE_MODEL_MISMATCH, 1);

	/* exists as _8, the configuration's section for it asks for _4: the start and the
	 * boot run say the same */
	fakesys_write(fs, TYPES T4 "/device_api", "vfio-pci\n");
	fakesys_add_device(fs, GPU, T8, UA);
	config("[" UA "]\nboot = yes\ntype = " T4 "\n");
	hook("display-off.xml", "prepare");
	ctl("boot");
	both(GVTG_CAUSE_EXISTS_ELSEWHERE, 1);

	ctl("create", "--type", T8, UA);
	expect_ctl(GVTG_CAUSE_EXISTS, 1);
}
END_TEST

/* ---- the kernel's answers ---------------------------------------------------------- */

START_TEST(kernel_answers)
{
	static const struct {
		int err;
		enum gvtg_cause cause;
	} cases[] = {
		{ ENOSPC, GVTG_CAUSE_FRAGMENTED },  { ENOENT, GVTG_CAUSE_CREATE_ENOENT },
		{ EEXIST, GVTG_CAUSE_UUID_IN_USE }, { EACCES, GVTG_CAUSE_PERMISSION },
		{ EPERM, GVTG_CAUSE_PERMISSION },   { EINVAL, GVTG_CAUSE_KERNEL_EINVAL },
		{ ENODEV, GVTG_CAUSE_PARENT_GOING }, { EBUSY, GVTG_CAUSE_KERNEL_BUSY },
		{ 0, GVTG_CAUSE_SHORT_WRITE },      { EPROTO, GVTG_CAUSE_KERNEL_OTHER },
	};
	fakesys_gvt_host(fs);
	config("[defaults]\ntype = " T4 "\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kernel_fails("/create", cases[i].err);
		hook("display-off.xml", "prepare");
		ctl("create", UA);
		both(cases[i].cause, 1);
		/* nothing is left: no record, no device */
		ck_assert(!fakesys_exists(fs, STATE "/" UA));
	}
	/* fragmentation names its fixes */
	kernel_fails("/create", ENOSPC);
	hook("display-off.xml", "prepare");
	ck_assert_ptr_nonnull(strstr(hres.err, "although i915-GVTg_V5_4 shows 2 instances left"));
	ck_assert_ptr_nonnull(strstr(hres.err, "release = keep"));
	ck_assert_ptr_nonnull(strstr(hres.err, "reboot"));

	/* no instance shown (unreadable): plain "no room", EUSERS named */
	fakesys_unlink(fs, TYPES T4 "/available_instances");
	kernel_fails("/create", EUSERS);
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_NO_ROOM, 1);
	ck_assert_ptr_nonnull(strstr(cres.err, "(EUSERS)"));
}
END_TEST

START_TEST(no_instances)
{
	fakesys_gvt_host(fs);
	config("[defaults]\ntype = " T4 "\n");
	fakesys_write(fs, TYPES T4 "/available_instances", "0\n");
	fakesys_write(fs, TYPES "i915-GVTg_V5_1/available_instances", "0\n");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_NO_INSTANCES, 1);
	/* only the types with an instance left are offered; _8 needs as many fences and
	 * less memory, so memory is what ran out */
	ck_assert_ptr_nonnull(strstr(hres.err, "choose a type that still fits: i915-GVTg_V5_2 "
					       "(1920x1200, 2 left), i915-GVTg_V5_8 (1024x768, "
					       "2 left)"));
	ck_assert_ptr_null(strstr(hres.err, "0 left"));
	ck_assert_ptr_nonnull(strstr(hres.err, "graphics memory"));

	/* every type at 0: no list, and no claim about which resource it was */
	for (int k = 1; k <= 8; k *= 2) {
		char p[128];
		snprintf(p, sizeof(p), TYPES "i915-GVTg_V5_%d/available_instances", k);
		fakesys_write(fs, p, "0\n");
	}
	ctl("create", UA);
	expect_ctl(GVTG_CAUSE_NO_INSTANCES, 1);
	ck_assert_ptr_null(strstr(cres.err, "still fits"));
}
END_TEST

/* ---- ownership --------------------------------------------------------------------- */

START_TEST(ownership_causes)
{
	fakesys_gvt_host(fs);
	config("[defaults]\ntype = " T4 "\n");
	/* domain A holds UA (its record), the device is gone: neither a start nor a create
	 * takes it, and both name A */
	fakesys_write(fs, STATE "/" UA,
		      "origin=manual\ndomain_name=A\ndomain_uuid=" DOM_A "\nparent=" GPU
		      "\ntype=" T4 "\ntime=1\n");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_HELD_BY_DOMAIN, 1);
	ck_assert_ptr_nonnull(strstr(cres.err, "domain 'A' holds it"));

	/* a damaged record */
	fakesys_add_device(fs, GPU, T4, UA);
	fakesys_write(fs, STATE "/" UA, "garbage\n");
	hook("display-off.xml", "prepare");
	ctl("remove", UA);
	both(GVTG_CAUSE_RECORD_DAMAGED, 1);

	fakesys_unlink(fs, STATE "/" UA);
	ctl("remove", "4b20d080-1b54-4048-85b3-a6a62d16ffff");
	expect_ctl(GVTG_CAUSE_NO_SUCH_VGPU, 1);

	/* a process holds the device's VFIO group: never written to, even forced */
	fakesys_symlink(fs, GVT "/" UA "/iommu_group", "../../../kernel/iommu_groups/7");
	fakesys_write(fs, "proc/4242/comm", "qemu-system-x86\n");
	fakesys_symlink(fs, "proc/4242/fd/17", "/dev/vfio/7");
	fakesys_symlink(fs, "proc/4242/fd/3", "/dev/null");
	ctl("remove", "--force", UA);
	expect_ctl(GVTG_CAUSE_HELD_BY_PROCESS, 1);
	ck_assert_ptr_nonnull(strstr(cres.err, "process 4242 (qemu-system-x86) has the "
					       "vGPU's VFIO node /dev/vfio/7 open"));
	char *rm = fakesys_read(fs, GVT "/" UA "/remove");
	ck_assert_str_eq(rm, "");
	free(rm);
}
END_TEST

/* A hook-created vGPU whose removal fails or blocks: release end says so, exits 0. */
START_TEST(removal_causes)
{
	fakesys_gvt_host(fs);
	config("[defaults]\ntype = " T4 "\n[hook]\nremove_timeout = 1\n");
	hook("display-off.xml", "prepare");
	ck_assert_int_eq(hres.status, 0);
	fakesys_add_device(fs, GPU, T4, UA);

	kernel_fails("/remove", EIO);
	hook("display-off.xml", "release");
	expect_hook(GVTG_CAUSE_REMOVE_FAILED, 0);
	/* the record stays: the vGPU is still this domain's */
	ck_assert(fakesys_exists(fs, STATE "/" UA));
	ctl("remove", "--force", UA);
	expect_ctl(GVTG_CAUSE_REMOVE_FAILED, 1);
	ck_assert(strstr(hres.err, "the kernel refused to remove it: EIO (Input/output error)"));
	ck_assert(strstr(cres.err, "the kernel refused to remove it: EIO (Input/output error)"));
	unsetenv("GVTG_TEST_WRITE_FAIL");

	/* blocked: a FIFO nobody reads stands for a device QEMU still holds */
	fakesys_unlink(fs, GVT "/" UA "/remove");
	char fifo[512];
	snprintf(fifo, sizeof(fifo), "%s/" GVT "/" UA "/remove", fakesys_root(fs));
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	hook("display-off.xml", "release");
	expect_hook(GVTG_CAUSE_REMOVE_BLOCKED, 0);
	char *rec = fakesys_read(fs, STATE "/" UA);
	ck_assert_ptr_nonnull(strstr(rec, "remove_pending=yes"));
	free(rec);
	ctl("remove", "--force", UA);
	expect_ctl(GVTG_CAUSE_REMOVE_BLOCKED, 1);
	/* let the blocked children go */
	for (int i = 0; i < 2; i++) {
		int fd = open(fifo, O_RDONLY | O_NONBLOCK);
		if (fd >= 0) {
			usleep(50000);
			close(fd);
		}
	}
}
END_TEST

/* ---- state, configuration, input --------------------------------------------------- */

START_TEST(state_and_config_causes)
{
	fakesys_gvt_host(fs);
	config("[defaults]\ntype = " T4 "\n[hook]\nlock_timeout = 0.2\n");
	fakesys_write(fs, STATE "/lock", "");
	char path[512];
	snprintf(path, sizeof(path), "%s/" STATE "/lock", fakesys_root(fs));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	close(fd);
	both(GVTG_CAUSE_LOCK_TIMEOUT, 1);

	/* the state directory is a file */
	fakesys_unlink(fs, STATE "/lock");
	snprintf(path, sizeof(path), "%s/" STATE, fakesys_root(fs));
	ck_assert_int_eq(rmdir(path), 0);
	fakesys_write(fs, STATE, "not a directory\n");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_LOCK_FAILED, 1);
	fakesys_unlink(fs, STATE);

	config("[defaults]\ntpye = " T4 "\n");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_CONFIG_ERROR, 1);
	ck_assert_ptr_nonnull(strstr(hres.err, ", line 2: unknown key 'tpye'"));

	/* a directory where the file should be: unreadable */
	fakesys_unlink(fs, &GVTG_CONFIG_FILE[1]);
	snprintf(path, sizeof(path), "%s%s", fakesys_root(fs), GVTG_CONFIG_FILE);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_CONFIG_UNREADABLE, 1);
	rmdir(path);

	/* sleep list damaged: a FIFO is damaged too, never waited on */
	config("[sleep]\nremove_idle = yes\n");
	fakesys_write(fs, STATE "/sleep", "garbage\n");
	ctl("sleep", "post");
	expect_ctl(GVTG_CAUSE_SLEEP_LIST_DAMAGED, 1);
	fakesys_unlink(fs, STATE "/sleep");
	snprintf(path, sizeof(path), "%s/" STATE "/sleep", fakesys_root(fs));
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ctl("sleep", "pre");
	expect_ctl(GVTG_CAUSE_SLEEP_LIST_DAMAGED, 1);

	/* gvtgctl's stdout cannot be written */
	ctl_run(true, "list", NULL);
	expect_ctl(GVTG_CAUSE_OUTPUT_FAILED, 1);
}
END_TEST

START_TEST(input_causes)
{
	fakesys_gvt_host(fs);
	hook("malformed.xml", "prepare");
	expect_hook(GVTG_CAUSE_XML_ERROR, 1);
	/* our words, never libxml2's */
	ck_assert_ptr_null(strstr(hres.err, "Premature end"));
	ck_assert_ptr_null(strstr(hres.err, "Couldn't"));
	hook("doctype-entity.xml", "prepare");
	expect_hook(GVTG_CAUSE_XML_INVALID, 1);

	fakesys_write(fs, "nouuid.xml",
		      "<domain><name>x</name><devices><hostdev mode='subsystem' type='mdev'>"
		      "<source><address uuid='" UA "'/></source></hostdev></devices></domain>");
	char p[512];
	snprintf(p, sizeof(p), "%s/nouuid.xml", fakesys_root(fs));
	hook(p, "prepare");
	expect_hook(GVTG_CAUSE_DOMAIN_NO_UUID, 1);

	/* stdin a directory: read(2) fails */
	hook(fakesys_root(fs), "prepare");
	expect_hook(GVTG_CAUSE_INPUT_UNREADABLE, 1);

	/* larger than the bound */
	snprintf(p, sizeof(p), "%s/big.xml", fakesys_root(fs));
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), (off_t)(GVTG_XML_MAX + 1)), 0);
	fclose(f);
	hook(p, "prepare");
	expect_hook(GVTG_CAUSE_INPUT_TOO_LARGE, 1);

	/* a root that cannot be opened */
	char *argv[] = { "gvtg-hook", "win10", "prepare", "begin", "-", NULL };
	hook_result_free(&hres);
	setenv("GVTG_ROOT", "/nonexistent-gvtg-root", 1);
	{
		int out[2];
		ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
		pid_t pid = fork();
		if (pid == 0) {
			int in = open(data_path("display-off.xml"), O_RDONLY);
			dup2(in, 0);
			dup2(out[1], 2);
			execv(getenv("GVTG_HOOK"), argv);
			_exit(127);
		}
		close(out[1]);
		char buf[4096] = "";
		ssize_t n = 0, k;
		while ((k = read(out[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
			n += k;
		buf[n] = '\0';
		close(out[0]);
		int st;
		waitpid(pid, &st, 0);
		hres.status = WEXITSTATUS(st);
		hres.err = strdup(buf);
		hres.out = strdup("");
	}
	unsetenv("GVTG_ROOT");
	const char *cargv[] = { "gvtgctl", "--root", "/nonexistent-gvtg-root", "list", NULL };
	exec_prog(getenv("GVTGCTL"), (char **)cargv, NULL, false, &cres);
	both(GVTG_CAUSE_ROOT_UNREADABLE, 1);
}
END_TEST

/* The executable alone, without its module beside it (a plain copy as hooks/qemu). */
START_TEST(module_missing)
{
	char dst[512], cmd[1200];
	snprintf(dst, sizeof(dst), "%s/qemu", fakesys_root(fs));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", getenv("GVTG_HOOK"), dst);
	ck_assert_int_eq(system(cmd), 0);
	char *argv[] = { "qemu", "win10", "prepare", "begin", "-", NULL };
	exec_prog(dst, argv, data_path("display-off.xml"), false, &hres);
	/* An installed module is found where the hook was installed to: nothing to see
	 * (whatever it then says: it is another build). */
	if ((hres.status == 0 && !hres.err[0]) ||
	    access(GVTG_HOOK_DIR "/gvtg-hook-core.so", F_OK) == 0) {
		/* the module was found elsewhere (an installed copy): nothing to see */
		seen[GVTG_CAUSE_MODULE_LOAD] = true;
		return;
	}
	expect_hook(GVTG_CAUSE_MODULE_LOAD, 1);
}
END_TEST

/* ---- in-process: notices, and what a root process cannot be refused on a fake tree -- */

static struct gvtg_diag got[64];
static size_t n_got;

static void capture(void *userdata, const struct gvtg_diag *d)
{
	(void)userdata;
	if (n_got < 64)
		got[n_got++] = *d;
	seen[d->cause] = true;
}

static bool reported(enum gvtg_cause c)
{
	for (size_t i = 0; i < n_got; i++)
		if (got[i].cause == c)
			return true;
	return false;
}

static struct gvtg_domain *domain_with(const char *name, const char *duuid, size_t n,
				       const char *const *uuids)
{
	struct gvtg_domain *d = calloc(1, sizeof(*d));
	d->name = strdup(name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", duuid);
	d->hostdevs = calloc(n ? n : 1, sizeof(*d->hostdevs));
	d->n_hostdevs = n;
	for (size_t i = 0; i < n; i++)
		snprintf(d->hostdevs[i].uuid, sizeof(d->hostdevs[i].uuid), "%s", uuids[i]);
	return d;
}

START_TEST(notices_and_inprocess_causes)
{
	struct gvtg_ctx *ctx;
	struct gvtg_config *cfg;
	fakesys_gvt_host(fs);
	fakesys_kernel_attach(fs);
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	gvtg_ctx_set_report_fn(ctx, capture, NULL);
	ck_assert_int_eq(gvtg_config_parse_string("[defaults]\ntype = " T4 "\n"
						  "[cccccccc-0000-4000-8000-00000000000c]\n"
						  "boot = yes\n",
						  &cfg),
			 0);
	const char *u[] = { UA, "bbbbbbbb-0000-4000-8000-00000000000b" };
	struct gvtg_domain *dom = domain_with("win10", "11111111-2222-4333-8444-555555555501", 2,
					      u);
	/* B exists without a record: adopted; A is created */
	fakesys_add_device(fs, GPU, T4, u[1]);
	n_got = 0;
	ck_assert_int_eq(gvtg_acquire(ctx, dom, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_CREATED));
	ck_assert(reported(GVTG_CAUSE_DONE_ADOPTED));
	n_got = 0;
	ck_assert_int_eq(gvtg_acquire(ctx, dom, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_REUSED));
	/* reconnect with B's record gone: restored */
	fakesys_unlink(fs, STATE "/bbbbbbbb-0000-4000-8000-00000000000b");
	n_got = 0;
	ck_assert_int_eq(gvtg_reconnect(ctx, dom, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_RESTORED));
	n_got = 0;
	ck_assert_int_eq(gvtg_release(ctx, dom, cfg), 2);
	ck_assert(reported(GVTG_CAUSE_DONE_REMOVED));
	ck_assert(reported(GVTG_CAUSE_DONE_DROPPED));

	/* a manual vGPU: used, then kept idle; one the XML lists without a record: left */
	fakesys_add_device(fs, GPU, T4, UA);
	fakesys_write(fs, STATE "/" UA,
		      "origin=manual\ndomain_name=\ndomain_uuid=\nparent=" GPU "\ntype=" T4
		      "\ntime=1\n");
	fakesys_unlink(fs, STATE "/bbbbbbbb-0000-4000-8000-00000000000b");
	struct gvtg_domain *one = domain_with("win10", "11111111-2222-4333-8444-555555555501", 1,
					      u);
	n_got = 0;
	ck_assert_int_eq(gvtg_acquire(ctx, one, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_USED));
	n_got = 0;
	ck_assert_int_eq(gvtg_release(ctx, dom, cfg), 1);
	ck_assert(reported(GVTG_CAUSE_DONE_KEPT));
	ck_assert(reported(GVTG_CAUSE_DONE_LEFT_ALONE));

	/* a failed start rolls back what it made */
	fakesys_unlink(fs, STATE "/" UA);
	fakesys_remove_device(fs, UA);
	fakesys_fail(fs, "/create", 2, -EINVAL);
	fakesys_remove_device(fs, u[1]);
	n_got = 0;
	ck_assert_int_lt(gvtg_acquire(ctx, dom, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_ROLLED_BACK));
	fakesys_fail(fs, NULL, 0, 0);

	/* the record cannot be written: the vGPU goes again */
	fakesys_fail_op(fs, GVTG_IO_WRITE_ATOMIC, STATE "/" UA, -ENOSPC);
	n_got = 0;
	ck_assert_int_lt(gvtg_acquire(ctx, one, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_RECORD_WRITE));
	fakesys_fail(fs, NULL, 0, 0);

	/* the state directory cannot be listed at release */
	fakesys_write(fs, STATE "/" UA,
		      "origin=created\ndomain_name=win10\ndomain_uuid="
		      "11111111-2222-4333-8444-555555555501\ntime=1\n");
	fakesys_fail_op(fs, GVTG_IO_READ, STATE, -EIO);
	n_got = 0;
	ck_assert_int_lt(gvtg_release(ctx, dom, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_STATE_UNREADABLE));
	fakesys_fail(fs, NULL, 0, 0);
	fakesys_unlink(fs, STATE "/" UA);

	/* more vGPUs than any domain can have */
	const char *many[65];
	for (int i = 0; i < 65; i++)
		many[i] = UA;
	struct gvtg_domain *big = domain_with("big", DOM_A, 65, many);
	n_got = 0;
	ck_assert_int_lt(gvtg_acquire(ctx, big, cfg), 0);
	ck_assert(reported(GVTG_CAUSE_INTERNAL));

	/* by hand: a stale record, boot skipped / nothing to do */
	fakesys_write(fs, STATE "/" UA, "origin=manual\ndomain_name=\ndomain_uuid=\ntime=1\n");
	n_got = 0;
	ck_assert_int_eq(gvtg_vgpu_remove(ctx, cfg, UA, 0), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_STALE_RECORD));
	struct gvtg_config *bcfg;
	ck_assert_int_eq(gvtg_config_parse_string("[cccccccc-0000-4000-8000-00000000000c]\n"
						  "boot = yes\nparent = 0000:00:07.0\n"
						  "type = " T4 "\n",
						  &bcfg),
			 0);
	n_got = 0;
	ck_assert_int_eq(gvtg_boot_start(ctx, bcfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_SKIPPED));
	n_got = 0;
	ck_assert_int_eq(gvtg_boot_stop(ctx, bcfg), 0);
	ck_assert(reported(GVTG_CAUSE_DONE_NOTHING));

	gvtg_config_free(bcfg);
	gvtg_domain_free(big);
	gvtg_domain_free(one);
	gvtg_domain_free(dom);
	gvtg_config_free(cfg);
	gvtg_ctx_free(ctx);
}
END_TEST

/* ---- mdevctl's definitions ---------------------------------------------------------- */

#define DEF_GPU "etc/mdevctl.d/" GPU "/" UA

START_TEST(definition_causes)
{
	fakesys_gvt_host(fs);
	/* the configuration's section for the UUID says _8, its definition _4 */
	config("[" UA "]\ntype = " T8 "\n");
	fakesys_write(fs, DEF_GPU, "{\"mdev_type\": \"" T4 "\", \"start\": \"manual\"}");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_DEFINITION_CONFLICT, 1);
	ck_assert(strstr(hres.err, "the configuration [uuid] section asks for type " T8 ", but its "
				   "definition /" DEF_GPU " gives " GPU " type " T4));

	config("");
	fakesys_write(fs, "etc/mdevctl.d/mtty/" UA, "{\"mdev_type\": \"mtty-1\", \"start\": \"auto\"}");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_DEFINITION_TWO_PARENTS, 1);
	ck_assert(strstr(hres.err, "/" DEF_GPU " and /etc/mdevctl.d/mtty/" UA));
	fakesys_unlink(fs, "etc/mdevctl.d/mtty/" UA);

	fakesys_write(fs, DEF_GPU, "{\"mdev_type\": \"" T4 "\", \"start\": \"sometimes\"}");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_DEFINITION_DAMAGED, 1);

	/* without mdevctl (a test root): created, then an attr the device does not have */
	fakesys_write(fs, DEF_GPU, "{\"mdev_type\": \"" T4 "\", \"start\": \"manual\", "
				   "\"attrs\": [{\"nosuch\": \"1\"}]}");
	hook("display-off.xml", "prepare");
	ctl("create", UA);
	both(GVTG_CAUSE_DEFINITION_START, 1);
	ck_assert(strstr(hres.err, "failed: writing '1' to its attribute nosuch (No such file"));
	ck_assert(!fakesys_exists(fs, STATE "/" UA));

	/* an mdevctl whose stop fails: the release still takes the vGPU away */
	fakesys_write(fs, DEF_GPU, "{\"mdev_type\": \"" T4 "\", \"start\": \"manual\"}");
	fakesys_write(fs, "mdevctl", "#!/bin/sh\necho 'Error: a callout refused' >&2\nexit 1\n");
	char stub[512];
	snprintf(stub, sizeof(stub), "%s/mdevctl", fakesys_root(fs));
	chmod(stub, 0755);
	setenv("GVTG_MDEVCTL", stub, 1);
	fakesys_add_device(fs, GPU, T4, UA);
	fakesys_write(fs, STATE "/" UA, "origin=defined\ndomain_name=win10\ndomain_uuid="
					"11111111-2222-4333-8444-555555555501\nparent=" GPU
					"\ntype=" T4 "\ntime=1\n");
	hook("display-off.xml", "release");
	unsetenv("GVTG_MDEVCTL");
	expect_hook(GVTG_CAUSE_DEFINITION_STOP, 0);
	ck_assert(strstr(hres.err, "stopping it through mdevctl failed: Error: a callout refused"));
	char *rm = fakesys_read(fs, GVT "/" UA "/remove");
	ck_assert_str_eq(rm, "1");
	free(rm);
	ck_assert(!fakesys_exists(fs, STATE "/" UA));
}
END_TEST

/* ---- the table itself ---------------------------------------------------------------- */

START_TEST(table_is_sound)
{
	size_t n;
	const struct gvtg_cause_row *t = gvtg_causes(&n);
	ck_assert_int_eq(n, GVTG_CAUSE__MAX);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(t[i].cause, (int)i);
		ck_assert_ptr_eq(gvtg_cause_row(t[i].cause), &t[i]);
		for (size_t k = 0; k < i; k++)
			ck_assert_str_ne(t[i].id, t[k].id);
		/* failures say what to do; notices do not */
		if (i > 0)
			ck_assert_int_eq(t[i].level == GVTG_DIAG_NOTICE, t[i].fix[0] == '\0');
	}
	/* facts never break the line, and an unknown fact drops its optional part */
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_CREATE, NULL, "evil\nname");
	d.cause = GVTG_CAUSE_TYPE_UNKNOWN;
	snprintf(d.parent, sizeof(d.parent), "p");
	snprintf(d.type, sizeof(d.type), "t");
	char line[1024];
	gvtg_diag_format(&d, line, sizeof(line));
	ck_assert_str_eq(line, "creating a vGPU for domain 'evil name': parent p has no type 't'. "
			       "Choose one of its types: ");
}
END_TEST

/* Runs last: every row was met by one of the tests above. */
START_TEST(every_row_reached)
{
	for (int c = 1; c < GVTG_CAUSE__MAX; c++)
		ck_assert_msg(seen[c], "no test reaches the row '%s'",
			      gvtg_cause_row((enum gvtg_cause)c)->id);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("diagnosis");
	TCase *tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, table_is_sound);
	tcase_add_test(tc, placement_causes);
	tcase_add_test(tc, no_types);
	tcase_add_test(tc, model_and_existing);
	tcase_add_test(tc, kernel_answers);
	tcase_add_test(tc, no_instances);
	tcase_add_test(tc, ownership_causes);
	tcase_add_test(tc, removal_causes);
	tcase_add_test(tc, state_and_config_causes);
	tcase_add_test(tc, input_causes);
	tcase_add_test(tc, module_missing);
	tcase_add_test(tc, notices_and_inprocess_causes);
	tcase_add_test(tc, definition_causes);
	tcase_add_test(tc, every_row_reached);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	/* One process: the rows seen are counted across the tests. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
