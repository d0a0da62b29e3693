/* SPDX-License-Identifier: MIT */
/*
 * Reliability edges, black-box through the built hook and gvtgctl on fake trees: a
 * removal left blocking, a configuration or record that cannot be read, hot-unplug,
 * reconnect, per-device removal bookkeeping, devices a process holds, suspend, boot, and
 * records written by the previous release.  Each test is one scenario: its exit codes,
 * its words, and what is left on the tree.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg.h"
#include "testutil.h"

#define UA "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define UB "4b20d080-1b54-4048-85b3-a6a62d165c02"
#define UC "4b20d080-1b54-4048-85b3-a6a62d165c03"
#define DOM_W "11111111-2222-4333-8444-555555555501"
#define DOM_B "bbbbbbbb-2222-4333-8444-55555555550b"
#define GPU "0000:00:02.0"
#define GVT "sys/devices/pci0000:00/" GPU
#define TYPES GVT "/mdev_supported_types/"
#define T4 "i915-GVTg_V5_4"
#define T8 "i915-GVTg_V5_8"
#define STATE "run/gvtg-hook"
#define RUN_TIMEOUT_MS 20000

static struct fakesys *fs;
static struct hook_result res;

static void setup(void)
{
	fs = fakesys_new();
	fakesys_gvt_host(fs);
	memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
	hook_result_free(&res);
	fakesys_free(fs);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void config(const char *text)
{
	ck_assert_int_eq(fakesys_write(fs, &GVTG_CONFIG_FILE[1], text), 0);
}

static char *file(const char *rel)
{
	static char *last;
	free(last);
	last = fakesys_read(fs, rel);
	return last ? last : "(missing)";
}

/* A domain XML in the tree: name, UUID, its mdev hostdevs. */
static const char *domain(const char *name, const char *duuid, int n, ...)
{
	static char paths[8][512];
	static int next;
	char *path = paths[next++ % 8];
	char rel[128], xml[4096];
	size_t k = (size_t)snprintf(xml, sizeof(xml),
				    "<domain type='kvm'><name>%s</name><uuid>%s</uuid><devices>",
				    name, duuid);
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		k += (size_t)snprintf(xml + k, sizeof(xml) - k,
				      "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>"
				      "<source><address uuid='%s'/></source></hostdev>",
				      va_arg(ap, const char *));
	va_end(ap);
	snprintf(xml + k, sizeof(xml) - k, "</devices></domain>");
	snprintf(rel, sizeof(rel), "%s.xml", name);
	ck_assert_int_eq(fakesys_write(fs, rel, xml), 0);
	snprintf(path, sizeof(paths[0]), "%s/%s", fakesys_root(fs), rel);
	return path;
}

/* Run prog; killed after RUN_TIMEOUT_MS (status 128 + 9): nothing may hang. */
static void exec_prog(const char *prog, char *const argv[], const char *input)
{
	hook_result_free(&res);
	int out[2], err[2];
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	int64_t t0 = now_ms();
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open(input ? input : "/dev/null", O_RDONLY);
		dup2(in, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		setenv("GVTG_ROOT", fakesys_root(fs), 1);
		execv(prog, argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	char *bufs[2] = { calloc(1, 1), calloc(1, 1) };
	size_t lens[2] = { 0, 0 };
	int fds[2] = { out[0], err[0] };
	bool killed = false, exited = false;
	int status = 0;
	/* Until the program exits: a removal child it left blocked may keep a copy of a
	 * pipe open (valgrind's own log descriptor does), so EOF is not the end. */
	while (fds[0] >= 0 || fds[1] >= 0) {
		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
		if (!exited && !killed && now_ms() - t0 > RUN_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			killed = true;
		}
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
			bufs[i][lens[i]] = '\0';
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!exited)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	res.out = bufs[0];
	res.err = bufs[1];
	if (killed)
		res.status = 137;
	else
		res.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	res.seconds = (double)(now_ms() - t0) / 1000.0;
}

static void hook(const char *xml, const char *dom, const char *op)
{
	char *argv[] = { "gvtg-hook", (char *)dom, (char *)op,
			 !strcmp(op, "release") ? "end" : "begin", "-", NULL };
	exec_prog(getenv("GVTG_HOOK"), argv, xml);
}

static void ctl_argv(const char *arg, ...)
{
	const char *argv[32] = { "gvtgctl", "--root", fakesys_root(fs) };
	size_t n = 3;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	exec_prog(getenv("GVTGCTL"), (char **)argv, NULL);
}
#define ctl(...) ctl_argv(__VA_ARGS__, NULL)

/* Bounds in seconds, stretched under valgrind. */
#define assert_quick(limit)                                                               \
	ck_assert_double_lt(res.seconds, (limit) * (getenv("GVTG_UNDER_VALGRIND") ? 20 : 1))

#define assert_err_has(s) ck_assert_msg(strstr(res.err, (s)), "stderr lacks \"%s\": %s", (s), res.err)

/* The kernel's side of a create the hook just wrote: the device appears. */
static void kernel_made(const char *type, const char *uuid)
{
	ck_assert_int_eq(fakesys_add_device(fs, GPU, type, uuid), 0);
}

/* A removal that blocks, as while QEMU holds the device: a FIFO nobody reads. */
static void blocking_remove(const char *uuid, char *ret_path, size_t size)
{
	char rel[256];
	snprintf(rel, sizeof(rel), GVT "/%s/remove", uuid);
	fakesys_unlink(fs, rel);
	snprintf(ret_path, size, "%s/%s", fakesys_root(fs), rel);
	ck_assert_int_eq(mkfifo(ret_path, 0600), 0);
}

/* Let a blocked removal finish: what it wrote, or "" when nobody was writing. */
static void unblock(const char *fifo, char *got, size_t size)
{
	got[0] = '\0';
	int fd = open(fifo, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return;
	int64_t end = now_ms() + 2000;
	size_t n = 0;
	while (now_ms() < end && n + 1 < size) {
		ssize_t k = read(fd, got + n, size - 1 - n);
		if (k > 0)
			n += (size_t)k;
		else if (k == 0 && n > 0)
			break;
		else
			usleep(10000);
	}
	got[n] = '\0';
	close(fd);
}

/* ---- 13.3: a removal left blocking holds no lock ----------------------------------- */

START_TEST(blocked_removal_keeps_no_lock)
{
	config("[defaults]\ntype = " T4 "\n[hook]\nremove_timeout = 1\nlock_timeout = 3\n");
	const char *w = domain("win10", DOM_W, 1, UA);
	hook(w, "win10", "prepare");
	ck_assert_int_eq(res.status, 0);
	kernel_made(T4, UA);
	char fifo[512];
	blocking_remove(UA, fifo, sizeof(fifo));
	hook(w, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	assert_quick(2.5);
	assert_err_has("still blocked after 1000 ms");

	/* meanwhile: another domain starts and stops, an admin creates and removes */
	const char *b = domain("other", DOM_B, 1, UB);
	hook(b, "other", "prepare");
	ck_assert_msg(res.status == 0, "%s", res.err);
	assert_quick(1.5);
	kernel_made(T4, UB);
	hook(b, "other", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.err, "");
	ck_assert_str_eq(file(GVT "/" UB "/remove"), "1");
	ck_assert(!fakesys_exists(fs, STATE "/" UB));
	ctl("create", "--type", T8, UC);
	ck_assert_msg(res.status == 0, "%s", res.err);
	assert_quick(1.5);

	/* and the first removal was still waiting all along */
	char got[16];
	unblock(fifo, got, sizeof(got));
	ck_assert_str_eq(got, "1");
}
END_TEST

/* ---- 13.4: release and reconnect act whatever the configuration ------------------- */

START_TEST(unreadable_config_still_releases)
{
	const char *w = domain("win10", DOM_W, 1, UA);
	for (int kind = 0; kind < 3; kind++) {
		config("[defaults]\ntype = " T4 "\n");
		hook(w, "win10", "prepare");
		ck_assert_int_eq(res.status, 0);
		kernel_made(T4, UA);
		char path[512];
		snprintf(path, sizeof(path), "%s%s", fakesys_root(fs), GVTG_CONFIG_FILE);
		if (kind == 0) {
			/* UTF-16 with a byte-order mark */
			static const char utf16[] = "\xff\xfe[\0d\0e\0f\0]\0\n\0";
			FILE *f = fopen(path, "w");
			fwrite(utf16, 1, sizeof(utf16) - 1, f);
			fclose(f);
		} else if (kind == 1) {
			FILE *f = fopen(path, "w");
			for (int i = 0; i < 120000; i++)
				fputs("# padding\n", f);
			fputs("[defaults]\ntype = " T4 "\n", f);
			fclose(f);
		} else {
			unlink(path);
			ck_assert_int_eq(mkdir(path, 0755), 0);
		}
		/* reconnect restores a missing record with the defaults */
		fakesys_unlink(fs, STATE "/" UA);
		hook(w, "win10", "reconnect");
		ck_assert_int_eq(res.status, 0);
		ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "origin=adopted\n"));
		/* make it the hook's again, then stop: removed with the defaults */
		fakesys_write(fs, STATE "/" UA,
			      "origin=created\ndomain_name=win10\ndomain_uuid=" DOM_W "\nparent=" GPU
			      "\ntype=" T4 "\ntime=1\n");
		hook(w, "win10", "release");
		ck_assert_int_eq(res.status, 0);
		ck_assert_str_eq(file(GVT "/" UA "/remove"), "1");
		ck_assert(!fakesys_exists(fs, STATE "/" UA));
		fakesys_remove_device(fs, UA);
		assert_err_has("reading the configuration for domain 'win10'");
		if (kind > 0) /* UTF-16 is an error on its line 1; these are the whole file */
			assert_err_has("running domains are still released with the defaults");
		/* a start is refused */
		hook(w, "win10", "prepare");
		ck_assert_int_eq(res.status, 1);
		if (kind == 2)
			rmdir(path);
	}
}
END_TEST

/* ---- 13.5: a record that is not a regular file is damaged, never waited on -------- */

START_TEST(fifo_record_never_hangs)
{
	config("[defaults]\ntype = " T4 "\n");
	const char *w = domain("win10", DOM_W, 1, UA);
	kernel_made(T4, UA);
	char path[512], target[512];
	for (int link = 0; link < 2; link++) {
		snprintf(path, sizeof(path), "%s/" STATE "/" UA, fakesys_root(fs));
		snprintf(target, sizeof(target), "%s/" STATE "/elsewhere", fakesys_root(fs));
		fakesys_write(fs, STATE "/placeholder", "");
		unlink(path);
		unlink(target);
		if (link) {
			ck_assert_int_eq(mkfifo(target, 0600), 0);
			ck_assert_int_eq(symlink(target, path), 0);
		} else {
			ck_assert_int_eq(mkfifo(path, 0600), 0);
		}
		hook(w, "win10", "release");
		ck_assert_int_eq(res.status, 0);
		assert_quick(3);
		assert_err_has("is damaged");
		hook(w, "win10", "reconnect");
		ck_assert_int_eq(res.status, 0);
		assert_quick(3);
		hook(w, "win10", "prepare");
		ck_assert_int_eq(res.status, 1);
		assert_quick(3);
		assert_err_has("is damaged");
		ctl("list");
		assert_quick(3);
		/* left as it was, the device untouched */
		struct stat st;
		ck_assert_int_eq(lstat(path, &st), 0);
		ck_assert(link ? S_ISLNK(st.st_mode) : S_ISFIFO(st.st_mode));
		ck_assert_str_eq(file(GVT "/" UA "/remove"), "");
	}
}
END_TEST

/* ---- 13.6: release acts on every record that names the domain --------------------- */

START_TEST(hot_unplugged_vgpus_are_released)
{
	config("[defaults]\ntype = " T4 "\n");
	const char *both = domain("win10", DOM_W, 2, UA, UB);
	hook(both, "win10", "prepare");
	ck_assert_int_eq(res.status, 0);
	kernel_made(T4, UA);
	kernel_made(T4, UB);
	/* UB detached while running: the live XML lists only UA */
	const char *one = domain("win10-live", DOM_W, 1, UA);
	hook(one, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(file(GVT "/" UA "/remove"), "1");
	ck_assert_str_eq(file(GVT "/" UB "/remove"), "1");
	ck_assert(!fakesys_exists(fs, STATE "/" UA));
	ck_assert(!fakesys_exists(fs, STATE "/" UB));

	/* every mdev unplugged: the XML has no hostdev at all */
	fakesys_remove_device(fs, UA);
	fakesys_remove_device(fs, UB);
	hook(both, "win10", "prepare");
	ck_assert_int_eq(res.status, 0);
	kernel_made(T4, UA);
	kernel_made(T4, UB);
	const char *none = domain("win10-none", DOM_W, 0);
	hook(none, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(file(GVT "/" UA "/remove"), "1");
	ck_assert_str_eq(file(GVT "/" UB "/remove"), "1");
	ck_assert_int_eq(fakesys_count(fs, STATE) - fakesys_exists(fs, STATE "/lock"), 0);
}
END_TEST

/* A live XML the core refuses (a third-party metadata element with 257 attributes, as
 * 'virsh metadata --live' can add; more than 64 mdev hostdevs; over the size bound): the
 * records that name the domain's UUID are released all the same, and one line says
 * why the XML was not used. */
START_TEST(refused_xml_still_releases)
{
	config("[defaults]\ntype = " T4 "\n");
	const char *w = domain("win10", DOM_W, 1, UA);
	static const char head[] = "<domain type='kvm'><name>win10</name><uuid>" DOM_W "</uuid>";
	static const char dev[] = "<hostdev mode='subsystem' type='mdev' model='vfio-pci'>"
				  "<source><address uuid='%s'/></source></hostdev>";
	size_t size = GVTG_XML_MAX + 4096;
	char *xml = malloc(size);
	ck_assert_ptr_nonnull(xml);
	for (int kind = 0; kind < 3; kind++) {
		hook(w, "win10", "prepare");
		ck_assert_msg(res.status == 0, "%s", res.err);
		kernel_made(T4, UA);
		size_t k = (size_t)snprintf(xml, size, "%s", head);
		if (kind == 0) {
			k += (size_t)snprintf(xml + k, size - k, "<metadata><x:m xmlns:x='urn:x'");
			for (int i = 0; i < 257; i++)
				k += (size_t)snprintf(xml + k, size - k, " a%d='%d'", i, i);
			k += (size_t)snprintf(xml + k, size - k, "/></metadata><devices>");
			k += (size_t)snprintf(xml + k, size - k, dev, UA);
		} else if (kind == 1) {
			k += (size_t)snprintf(xml + k, size - k, "<devices>");
			k += (size_t)snprintf(xml + k, size - k, dev, UA);
			for (int i = 0; i < 64; i++) {
				char u[40];
				snprintf(u, sizeof(u), "4b20d080-1b54-4048-85b3-a6a62d1%05d", i);
				k += (size_t)snprintf(xml + k, size - k, dev, u);
			}
		} else {
			k += (size_t)snprintf(xml + k, size - k, "<description>");
			memset(xml + k, 'x', GVTG_XML_MAX);
			k += GVTG_XML_MAX;
			k += (size_t)snprintf(xml + k, size - k, "</description><devices>");
			k += (size_t)snprintf(xml + k, size - k, dev, UA);
		}
		snprintf(xml + k, size - k, "</devices></domain>");
		ck_assert_int_eq(fakesys_write(fs, "live.xml", xml), 0);
		char live[512];
		snprintf(live, sizeof(live), "%s/live.xml", fakesys_root(fs));
		hook(live, "win10", "release");
		ck_assert_int_eq(res.status, 0);
		ck_assert_str_eq(res.out, "");
		ck_assert_msg(!strcmp(file(GVT "/" UA "/remove"), "1"), "kind %d: not removed: %s",
			      kind, res.err);
		ck_assert(!fakesys_exists(fs, STATE "/" UA));
		ck_assert_int_eq(count_lines(res.err), 1);
		assert_err_has("gvtg-hook: releasing the vGPUs of domain 'win10': its XML cannot be "
			       "used (");
		assert_err_has("); the vGPUs that the ownership records name for it are released "
			       "all the same. Nothing is left to do for this stop");
		fakesys_remove_device(fs, UA);
		ck_assert_int_eq(fakesys_write(fs, TYPES T4 "/create", ""), 0);
	}
	free(xml);
}
END_TEST

/* ---- 13.7: reconnect restores only a missing record ------------------------------- */

START_TEST(reconnect_keeps_a_damaged_record)
{
	config("[defaults]\ntype = " T4 "\n");
	const char *w = domain("win10", DOM_W, 1, UA);
	hook(w, "win10", "prepare");
	kernel_made(T4, UA);
	fakesys_write(fs, STATE "/" UA, "origin=crea");
	hook(w, "win10", "reconnect");
	ck_assert_int_eq(res.status, 0);
	assert_err_has("is damaged");
	ck_assert_str_eq(file(STATE "/" UA), "origin=crea");
	/* a missing one is restored, as adopted */
	fakesys_unlink(fs, STATE "/" UA);
	hook(w, "win10", "reconnect");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.err, "");
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "origin=adopted\n"));
}
END_TEST

/* ---- 13.8: removal bookkeeping per device; remove_timeout = 0 --------------------- */

START_TEST(removal_bookkeeping)
{
	config("[defaults]\ntype = " T4 "\n[hook]\nremove_timeout = 1\n");
	const char *both = domain("win10", DOM_W, 2, UA, UB);
	hook(both, "win10", "prepare");
	kernel_made(T4, UA);
	kernel_made(T4, UB);
	char fifo[512];
	blocking_remove(UA, fifo, sizeof(fifo));
	hook(both, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_int_eq(count_lines(res.err), 1);
	assert_err_has("vGPU " UA " of domain 'win10': the removal is still blocked");
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "remove_pending=yes\n"));
	/* the second went at once: removed, no record, never "pending" */
	ck_assert_str_eq(file(GVT "/" UB "/remove"), "1");
	ck_assert(!fakesys_exists(fs, STATE "/" UB));
	char got[16];
	unblock(fifo, got, sizeof(got));
	ck_assert_str_eq(got, "1");

	/* remove_timeout = 0: no wait for a removal that blocks, but one that does not is
	 * done, not pending, and the UUID can be created again */
	config("[defaults]\ntype = " T4 "\n[hook]\nremove_timeout = 0\n");
	fakesys_remove_device(fs, UA);
	fakesys_remove_device(fs, UB);
	fakesys_unlink(fs, STATE "/" UA);
	hook(both, "win10", "prepare");
	ck_assert_int_eq(res.status, 0);
	kernel_made(T4, UA);
	kernel_made(T4, UB);
	hook(both, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.err, "");
	ck_assert_int_eq(fakesys_count(fs, STATE) - fakesys_exists(fs, STATE "/lock"), 0);
	fakesys_remove_device(fs, UA);
	ctl("create", "--type", T4, UA);
	ck_assert_msg(res.status == 0, "%s", res.err);
}
END_TEST

/* ---- 13.14: a device a process holds is never written to -------------------------- */

static void held_by_qemu(const char *uuid)
{
	char rel[256];
	snprintf(rel, sizeof(rel), GVT "/%s/iommu_group", uuid);
	fakesys_symlink(fs, rel, "../../../../kernel/iommu_groups/12");
	fakesys_write(fs, "proc/777/comm", "qemu-system-x86\n");
	fakesys_symlink(fs, "proc/777/fd/0", "/dev/null");
	fakesys_symlink(fs, "proc/777/fd/41", "/dev/vfio/12");
	fakesys_write(fs, "proc/1/comm", "init\n");
	fakesys_symlink(fs, "proc/1/fd/3", "/dev/vfio/vfio");
}

START_TEST(held_devices_are_left_alone)
{
	config("[sleep]\nremove_idle = yes\n");
	kernel_made(T4, UA);
	kernel_made(T4, UB);
	/* both idle boot vGPUs by their records; QEMU holds UA (hot-plugged, no hook) */
	fakesys_write(fs, STATE "/" UA, "origin=boot\ndomain_name=\ndomain_uuid=\ntime=1\n");
	fakesys_write(fs, STATE "/" UB, "origin=boot\ndomain_name=\ndomain_uuid=\ntime=1\n");
	held_by_qemu(UA);

	ctl("sleep", "pre");
	ck_assert_msg(res.status == 0, "%s", res.err);
	assert_quick(3);
	assert_err_has("removing idle vGPU " UA " before suspend: process 777 (qemu-system-x86) "
		       "has the vGPU's VFIO node /dev/vfio/12 open");
	ck_assert_str_eq(file(GVT "/" UA "/remove"), "");
	ck_assert_str_eq(file(GVT "/" UB "/remove"), "1");
	ck_assert_ptr_null(strstr(file(STATE "/sleep"), UA));
	ck_assert_ptr_nonnull(strstr(file(STATE "/sleep"), UB));

	fakesys_write(fs, GVT "/" UB "/remove", "");
	fakesys_unlink(fs, STATE "/sleep");
	ctl("boot", "--stop");
	ck_assert_msg(res.status == 0, "%s", res.err);
	assert_err_has("removing boot vGPU " UA ": process 777 (qemu-system-x86)");
	ck_assert_str_eq(file(GVT "/" UA "/remove"), "");
	ck_assert(fakesys_exists(fs, STATE "/" UA));
	ck_assert_str_eq(file(GVT "/" UB "/remove"), "1");

	ctl("remove", "--force", UA);
	ck_assert_int_eq(res.status, 1);
	assert_err_has("process 777 (qemu-system-x86)");
	ck_assert_str_eq(file(GVT "/" UA "/remove"), "");
	ck_assert(fakesys_exists(fs, STATE "/" UA));

	/* with iommufd, QEMU holds the vGPU's own cdev */
	kernel_made(T4, UC);
	fakesys_write(fs, GVT "/" UC "/vfio-dev/vfio3/dev", "511:3\n");
	fakesys_write(fs, "proc/888/comm", "qemu-kvm\n");
	fakesys_symlink(fs, "proc/888/fd/9", "/dev/vfio/devices/vfio3");
	ctl("remove", UC);
	ck_assert_int_eq(res.status, 1);
	assert_err_has("process 888 (qemu-kvm) has the vGPU's VFIO node /dev/vfio/devices/vfio3 "
		       "open");
	ck_assert_str_eq(file(GVT "/" UC "/remove"), "");
}
END_TEST

/* ---- 13.15: a start between sleep pre and post keeps the admin's origin ----------- */

START_TEST(start_during_suspend_keeps_origin)
{
	config("[sleep]\nremove_idle = yes\n");
	kernel_made(T8, UA);
	fakesys_write(fs, STATE "/" UA,
		      "origin=manual\ndomain_name=\ndomain_uuid=\nparent=" GPU "\ntype=" T8
		      "\ntime=1\n");
	ctl("sleep", "pre");
	ck_assert_int_eq(res.status, 0);
	fakesys_remove_device(fs, UA); /* the kernel removed it */

	const char *w = domain("win10", DOM_W, 1, UA);
	hook(w, "win10", "prepare");
	ck_assert_msg(res.status == 0, "%s", res.err);
	ck_assert_str_eq(file(TYPES T8 "/create"), UA); /* as it was: its own type */
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "origin=manual\n"));
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "domain_uuid=" DOM_W "\n"));
	kernel_made(T8, UA);
	hook(w, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(file(GVT "/" UA "/remove"), ""); /* not the hook's to remove */
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "origin=manual\n"));
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "domain_uuid=\n"));

	ctl("sleep", "post");
	ck_assert_int_eq(res.status, 0);
	ck_assert(!fakesys_exists(fs, STATE "/sleep"));
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "origin=manual\n"));
}
END_TEST

/* ---- 13.16: suspend and boot report what they do ---------------------------------- */

START_TEST(sleep_and_boot_bookkeeping)
{
	config("[sleep]\nremove_idle = yes\n[hook]\nremove_timeout = 1\n");
	kernel_made(T4, UA);
	fakesys_write(fs, STATE "/" UA, "origin=manual\ndomain_name=\ndomain_uuid=\ntime=1\n");
	char fifo[512];
	blocking_remove(UA, fifo, sizeof(fifo));
	ctl("sleep", "pre");
	ck_assert_int_eq(res.status, 1);
	assert_err_has("removing idle vGPU " UA " before suspend: the removal is still blocked "
		       "after 1000 ms");
	ck_assert_ptr_nonnull(strstr(file(STATE "/" UA), "remove_pending=yes\n"));
	char got[16];
	unblock(fifo, got, sizeof(got));
	ck_assert_str_eq(got, "1");

	/* the pending removal has finished (the device is gone): boot --stop drops it */
	fakesys_remove_device(fs, UA);
	fakesys_unlink(fs, STATE "/sleep");
	ctl("boot", "--stop");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "vGPU " UA " did not exist; deleted its stale record\n");
	ck_assert(!fakesys_exists(fs, STATE "/" UA));

	/* nothing to do: said with --verbose only */
	ctl("boot", "--stop");
	ck_assert_str_eq(res.out, "");
	ctl("--verbose", "boot", "--stop");
	ck_assert_str_eq(res.out, "boot --stop: no boot vGPU to remove: nothing to do\n");
	ctl("--verbose", "sleep", "pre");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "sleep pre: no idle vGPU to remove: nothing to do\n");
	ctl("--verbose", "boot");
	ck_assert_str_eq(res.out, "boot: no vGPU has boot = yes in the configuration: nothing "
				  "to do\n");
	ctl("sleep", "pre");
	ck_assert_str_eq(res.out, "");
}
END_TEST

/* ---- issue 16.3: a UUID the admin did not give is never named ----------------------- */

START_TEST(made_up_uuid_never_named)
{
	fakesys_write(fs, TYPES T4 "/available_instances", "0\n");
	ctl("create", "--type", T4);
	ck_assert_int_eq(res.status, 1);
	assert_err_has("gvtgctl: creating a vGPU: 0000:00:02.0 type i915-GVTg_V5_4 has no "
		       "instances left");
	/* no UUID at all in the message */
	size_t len = strlen(res.err);
	for (size_t i = 0; i + 36 <= len; i++) {
		const char *p = res.err + i;
		ck_assert_msg(!(p[8] == '-' && p[13] == '-' && p[18] == '-' && p[23] == '-'),
			      "a UUID in: %s", res.err);
	}
}
END_TEST

/* ---- records outlive an upgrade ----------------------------------------------------- */

START_TEST(previous_release_record_is_released)
{
	/* written by the release before the lifecycle moved into the library */
	char *old = slurp(data_path("record-created-1.0"), NULL);
	ck_assert_ptr_nonnull(old);
	fakesys_write(fs, STATE "/" UA, old);
	free(old);
	kernel_made(T4, UA);
	const char *w = domain("win10", DOM_W, 1, UA);
	hook(w, "win10", "release");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.err, "");
	ck_assert_str_eq(file(GVT "/" UA "/remove"), "1");
	ck_assert(!fakesys_exists(fs, STATE "/" UA));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("edges");
	TCase *tc = tcase_create("edges");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, blocked_removal_keeps_no_lock);
	tcase_add_test(tc, unreadable_config_still_releases);
	tcase_add_test(tc, fifo_record_never_hangs);
	tcase_add_test(tc, hot_unplugged_vgpus_are_released);
	tcase_add_test(tc, refused_xml_still_releases);
	tcase_add_test(tc, reconnect_keeps_a_damaged_record);
	tcase_add_test(tc, removal_bookkeeping);
	tcase_add_test(tc, held_devices_are_left_alone);
	tcase_add_test(tc, start_during_suspend_keeps_origin);
	tcase_add_test(tc, sleep_and_boot_bookkeeping);
	tcase_add_test(tc, made_up_uuid_never_named);
	tcase_add_test(tc, previous_release_record_is_released);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
