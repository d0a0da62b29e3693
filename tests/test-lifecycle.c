/* SPDX-License-Identifier: MIT */
/*
 * Lifecycle safety, in-process with an emulated kernel and faults injected at the
 * library's I/O layer: a failed start leaves nothing it made, and nothing that belongs to
 * another domain or to the admin is ever removed.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"
#include "gvtg.h"
#include "gvtg-private.h"
#include "testutil.h"

#define GVT "sys/devices/pci0000:00/0000:00:02.0"
#define AVAIL4 GVT "/mdev_supported_types/i915-GVTg_V5_4/available_instances"
#define ADMIN "adadadad-0000-4000-8000-000000000001"  /* made by hand, no record */
#define OTHER "0707070a-0000-4000-8000-000000000002"  /* another domain's */
#define OTHER_DOM "0d0d0d0d-0000-4000-8000-00000000000d"
#define THIS_DOM "11111111-2222-4333-8444-555555555501"

static struct fakesys *fs;
static struct hook_result res;
static char xml_path[512];
static const char *other_rec = "origin=created\ndomain_name=other\ndomain_uuid=" OTHER_DOM
			       "\nparent=0000:00:02.0\ntype=i915-GVTg_V5_4\ntime=1\n";

static void uuid_n(int i, char out[37])
{
	snprintf(out, 37, "4b20d080-1b54-4048-85b3-a6a62d165c%02d", i);
}

/* A domain with n vGPUs, all resolved to i915-GVTg_V5_4 by the configuration. */
static void write_domain(int n)
{
	snprintf(xml_path, sizeof(xml_path), "%s/dom.xml", fakesys_root(fs));
	FILE *f = fopen(xml_path, "w");
	fprintf(f, "<domain type='kvm'><name>this</name><uuid>" THIS_DOM "</uuid><devices>");
	for (int i = 1; i <= n; i++) {
		char u[37];
		uuid_n(i, u);
		fprintf(f, "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
			   "<address uuid='%s'/></source></hostdev>",
			u);
	}
	fprintf(f, "</devices></domain>");
	fclose(f);
}

static void setup(void)
{
	fs = fakesys_new();
	fakesys_gvt_host(fs);
	fakesys_write(fs, AVAIL4, "8\n");
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_8", ADMIN);
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", OTHER);
	fakesys_write(fs, "run/gvtg-hook/" OTHER, other_rec);
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], "[defaults]\ntype = i915-GVTg_V5_4\n");
	fakesys_kernel_attach(fs);
	memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
	hook_result_free(&res);
	fakesys_free(fs);
}

static void call(const char *op, const char *sub)
{
	hook_result_free(&res);
	hook_call(fakesys_root(fs), xml_path, "this", op, sub, &res);
}

/* Only the admin's and the other domain's vGPUs exist; only the other's record. */
static void assert_untouched(void)
{
	ck_assert_int_eq(fakesys_count(fs, "sys/bus/mdev/devices"), 2);
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" ADMIN));
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" OTHER));
	/* the other's record, and the lock file when it was ever taken */
	ck_assert_int_eq(fakesys_count(fs, "run/gvtg-hook") -
				 fakesys_exists(fs, "run/gvtg-hook/lock"),
			 1);
	char *r = fakesys_read(fs, "run/gvtg-hook/" OTHER);
	ck_assert_str_eq(r, other_rec);
	free(r);
	char *a = fakesys_read(fs, AVAIL4);
	ck_assert_str_eq(a, "8\n");
	free(a);
}

static const struct {
	int err;
	const char *words;
} faults[] = {
	{ -ENOENT, "(ENOENT)" }, { -ENOSPC, "refused with ENOSPC although" },         { -EEXIST, "(EEXIST)" },
	{ -EINVAL, "(EINVAL)" }, { -EACCES, "permission denied" }, { -ENODEV, "(ENODEV)" },
	{ 0, "short write" },
};

/* Loop index: n vGPUs (1-4) x failing device k (1-n) x every fault. */
START_TEST(create_fault_matrix)
{
	for (int n = 1; n <= 4; n++) {
		write_domain(n);
		for (int k = 1; k <= n; k++)
			for (size_t f = 0; f < sizeof(faults) / sizeof(faults[0]); f++) {
				fakesys_fail(fs, "/create", k, faults[f].err);
				call("prepare", "begin");
				ck_assert_msg(res.status == 1, "n=%d k=%d f=%zu: exit %d", n, k, f,
					      res.status);
				ck_assert_msg(strstr(res.err, faults[f].words),
					      "n=%d k=%d: stderr lacks '%s': %s", n, k,
					      faults[f].words, res.err);
				ck_assert_int_eq(count_lines(res.err), 1);
				assert_untouched();
				/* libvirt's release end after the failed start: still untouched */
				fakesys_fail(fs, NULL, 0, 0);
				call("release", "end");
				ck_assert_int_eq(res.status, 0);
				assert_untouched();
			}
	}
}
END_TEST

START_TEST(record_fault_rolls_back)
{
	for (int n = 1; n <= 4; n++) {
		write_domain(n);
		for (int k = 1; k <= n; k++) {
			char u[37], match[64];
			uuid_n(k, u);
			snprintf(match, sizeof(match), "run/gvtg-hook/%s", u);
			fakesys_fail_op(fs, GVTG_IO_WRITE_ATOMIC, match, -ENOSPC);
			call("prepare", "begin");
			ck_assert_int_eq(res.status, 1);
			ck_assert(strstr(res.err, "writing its ownership record"));
			ck_assert(strstr(res.err, "the vGPU was removed again"));
			fakesys_fail(fs, NULL, 0, 0);
			assert_untouched();
		}
	}
}
END_TEST

START_TEST(lock_faults)
{
	write_domain(2);
	fakesys_fail_op(fs, GVTG_IO_LOCK, NULL, -EROFS);
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 1);
	ck_assert(strstr(res.err, "taking the lock"));
	fakesys_fail(fs, NULL, 0, 0);
	assert_untouched();

	/* held by someone else: a bounded wait, then a clear error */
	fakesys_write(fs, &GVTG_CONFIG_FILE[1],
		      "[defaults]\ntype = i915-GVTg_V5_4\n[hook]\nlock_timeout = 0.3\n");
	struct gvtg_ctx *ctx;
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	int fd = gvtg_lock_acquire(ctx, 1000);
	ck_assert_int_ge(fd, 0);
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 1);
	ck_assert(strstr(res.err, "was still held after"));
	ck_assert(res.seconds < 2.0);
	gvtg_lock_release(fd);
	gvtg_ctx_free(ctx);
	assert_untouched();
}
END_TEST

START_TEST(success_then_release)
{
	write_domain(4);
	call("prepare", "begin");
	ck_assert_msg(res.status == 0, "%s", res.err);
	ck_assert_str_eq(res.err, "");
	ck_assert_int_eq(fakesys_count(fs, "sys/bus/mdev/devices"), 6);
	ck_assert_int_eq(fakesys_count(fs, "run/gvtg-hook"), 6);
	char *a = fakesys_read(fs, AVAIL4);
	ck_assert_str_eq(a, "4\n");
	free(a);
	/* a second prepare (libvirt restarted mid-start): reuses, creates nothing */
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 0);
	ck_assert_int_eq(fakesys_count(fs, "sys/bus/mdev/devices"), 6);
	call("release", "end");
	ck_assert_int_eq(res.status, 0);
	assert_untouched();
}
END_TEST

START_TEST(adopt_and_keep_the_admins_vgpu)
{
	/* the domain uses the admin's vGPU (type _8: nothing explicit contradicts it when
	 * the type comes from automatic choice, so drop the configured default) */
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], "");
	snprintf(xml_path, sizeof(xml_path), "%s/dom.xml", fakesys_root(fs));
	fakesys_write(fs, "dom.xml",
		      "<domain><name>this</name><uuid>" THIS_DOM "</uuid><devices>"
		      "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address "
		      "uuid='" ADMIN "'/></source></hostdev></devices></domain>");
	call("prepare", "begin");
	ck_assert_msg(res.status == 0, "%s", res.err);
	char *r = fakesys_read(fs, "run/gvtg-hook/" ADMIN);
	ck_assert(strstr(r, "origin=adopted\n"));
	ck_assert(strstr(r, "domain_uuid=" THIS_DOM "\n"));
	free(r);
	call("release", "end");
	ck_assert_int_eq(res.status, 0);
	assert_untouched();

	/* an explicit type that differs: refused, nothing recorded */
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], "[defaults]\ntype = i915-GVTg_V5_4\n");
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 1);
	ck_assert(strstr(res.err, "it exists as 0000:00:02.0 type i915-GVTg_V5_8, but the "
				  "configuration [defaults] asks for 0000:00:02.0 type "
				  "i915-GVTg_V5_4"));
	assert_untouched();

	/* made with gvtgctl create (record 'manual'): used, then given back idle */
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], "");
	const char *manual = "origin=manual\ndomain_name=\ndomain_uuid=\nparent=0000:00:02.0\n"
			     "type=i915-GVTg_V5_8\ntime=5\n";
	fakesys_write(fs, "run/gvtg-hook/" ADMIN, manual);
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 0);
	r = fakesys_read(fs, "run/gvtg-hook/" ADMIN);
	ck_assert(strstr(r, "origin=manual\n"));
	ck_assert(strstr(r, "domain_uuid=" THIS_DOM "\n"));
	free(r);
	call("release", "end");
	r = fakesys_read(fs, "run/gvtg-hook/" ADMIN);
	ck_assert(strstr(r, "origin=manual\n"));
	ck_assert(strstr(r, "domain_uuid=\n"));
	free(r);
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" ADMIN));
}
END_TEST

START_TEST(failed_start_restores_claimed_records)
{
	/* vGPU 1 is an idle manual one, vGPU 2 cannot be created: the manual record must
	 * come back idle, exactly */
	char u1[37];
	uuid_n(1, u1);
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", u1);
	char path[128];
	snprintf(path, sizeof(path), "run/gvtg-hook/%s", u1);
	const char *manual = "# gvtg-hook ownership record: who made this vGPU and which domain "
			     "holds it\norigin=manual\ndomain_name=\ndomain_uuid=\n"
			     "parent=0000:00:02.0\ntype=i915-GVTg_V5_4\ntime=5\n"
			     "remove_pending=no\n";
	fakesys_write(fs, path, manual);
	write_domain(2);
	fakesys_fail(fs, "/create", 1, -ENOSPC);
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 1);
	char *r = fakesys_read(fs, path);
	ck_assert_str_eq(r, manual);
	free(r);
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" ADMIN));
	ck_assert_int_eq(fakesys_count(fs, "sys/bus/mdev/devices"), 3);
}
END_TEST

START_TEST(release_keep)
{
	fakesys_write(fs, &GVTG_CONFIG_FILE[1],
		      "[defaults]\ntype = i915-GVTg_V5_4\n[hook]\nrelease = keep\n");
	write_domain(1);
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 0);
	call("release", "end");
	ck_assert_int_eq(res.status, 0);
	char u1[37], path[128];
	uuid_n(1, u1);
	snprintf(path, sizeof(path), "sys/bus/mdev/devices/%s", u1);
	ck_assert(fakesys_exists(fs, path));
	snprintf(path, sizeof(path), "run/gvtg-hook/%s", u1);
	char *r = fakesys_read(fs, path);
	ck_assert(strstr(r, "origin=created\n"));
	ck_assert(strstr(r, "domain_uuid=\n"));
	free(r);
	/* next start reuses it without a create */
	call("prepare", "begin");
	ck_assert_int_eq(res.status, 0);
	char *a = fakesys_read(fs, AVAIL4);
	ck_assert_str_eq(a, "7\n");
	free(a);
}
END_TEST

/* ---- the definition path: mdevctl's definitions of the domain's vGPUs ----------------- */

#define AVAIL2 GVT "/mdev_supported_types/i915-GVTg_V5_2/available_instances"

/* Every vGPU of the domain defined as _2 (the configuration's [defaults] says _4), with
 * one attr; the attr file waits in the device's directory. */
static void define_all(int n)
{
	for (int i = 1; i <= n; i++) {
		char u[37], p[256];
		uuid_n(i, u);
		snprintf(p, sizeof(p), "etc/mdevctl.d/0000:00:02.0/%s", u);
		fakesys_write(fs, p, "{\"mdev_type\": \"i915-GVTg_V5_2\", \"start\": \"manual\", "
				     "\"attrs\": [{\"alpha\": \"1\"}]}");
		snprintf(p, sizeof(p), GVT "/%s/alpha", u);
		fakesys_write(fs, p, "");
	}
}

/* Loop index: n vGPUs (1-3) x failing vGPU k (1-n) x every way a definition's start
 * fails: nothing left active, the records as before, also after libvirt's release. */
START_TEST(definition_fault_matrix)
{
	static const struct {
		const char *mode;       /* NULL: no mdevctl, the kernel refuses the attr */
		const char *words;
	} cases[] = {
		{ NULL, "failed: writing '1' to its attribute alpha (Invalid argument)" },
		{ "fail", "failed: Error: No available instances of i915-GVTg_V5_2 on 0000:00:02.0" },
		{ "fail-after-create", "failed: Error: callout script failed" },
		{ "hang-after-create", NULL },  /* timed out: the words below */
		{ "hang", NULL },
		/* mdevctl says it worked, but what is there is not the definition's device */
		{ "no-device", "but /sys/bus/mdev/devices/4b20d080-1b54-4048-85b3-a6a62d165c0" },
		{ "wrong-type", "but the device is 0000:00:02.0 type i915-GVTg_V5_" },
	};
	/* Under valgrind the stub's shell runs under memcheck too: give it time. */
	int timeout_s = getenv("GVTG_UNDER_VALGRIND") ? 5 : 1;
	char conf[160];
	snprintf(conf, sizeof(conf),
		 "[defaults]\ntype = i915-GVTg_V5_4\n[hook]\nremove_timeout = %d\n"
		 "mdevctl_timeout = %d\n", timeout_s, timeout_s);
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], conf);
	fakesys_write(fs, AVAIL2, "8\n");
	for (int n = 1; n <= 3; n++) {
		write_domain(n);
		for (int k = 1; k <= n; k++)
			for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
				char u[37], mode[64];
				uuid_n(k, u);
				define_all(n);
				snprintf(mode, sizeof(mode), "mode.%s", u);
				if (cases[c].mode) {
					mdevctl_stub(fakesys_root(fs));
					fakesys_write(fs, mode, cases[c].mode);
				} else {
					unsetenv("GVTG_MDEVCTL");
					fakesys_fail(fs, "/alpha", k, -EINVAL);
				}
				call("prepare", "begin");
				ck_assert_msg(res.status == 1, "n=%d k=%d c=%zu: exit %d", n, k, c,
					      res.status);
				char words[160];
				if (cases[c].words)
					snprintf(words, sizeof(words), "%s", cases[c].words);
				else
					snprintf(words, sizeof(words),
						 "did not finish within %d ms and was killed",
						 timeout_s * 1000);
				ck_assert_msg(strstr(res.err, words),
					      "n=%d k=%d c=%zu: stderr lacks '%s': %s", n, k, c,
					      words, res.err);
				ck_assert_int_eq(count_lines(res.err), 1);
				assert_untouched();
				char *a = fakesys_read(fs, AVAIL2);
				ck_assert_msg(!strcmp(a, "8\n"), "n=%d k=%d c=%zu: _2 has %s", n, k,
					      c, a);
				free(a);
				fakesys_fail(fs, NULL, 0, 0);
				call("release", "end");
				ck_assert_int_eq(res.status, 0);
				assert_untouched();
				fakesys_unlink(fs, mode);
			}
	}

	/* And when it works: the definition's type, started and stopped through mdevctl,
	 * each with a record that says so; the definitions stay. */
	write_domain(2);
	define_all(2);
	mdevctl_stub(fakesys_root(fs));
	fakesys_unlink(fs, "stub.log");
	call("prepare", "begin");
	ck_assert_msg(res.status == 0, "%s", res.err);
	for (int i = 1; i <= 2; i++) {
		char u[37], p[256];
		uuid_n(i, u);
		snprintf(p, sizeof(p), "run/gvtg-hook/%s", u);
		char *rec = fakesys_read(fs, p);
		ck_assert_ptr_nonnull(strstr(rec, "origin=defined\n"));
		ck_assert_ptr_nonnull(strstr(rec, "type=i915-GVTg_V5_2\n"));
		free(rec);
	}
	char *a = fakesys_read(fs, AVAIL2);
	ck_assert_str_eq(a, "6\n");
	free(a);
	call("release", "end");
	ck_assert_int_eq(res.status, 0);
	assert_untouched();
	char *log = fakesys_read(fs, "stub.log");
	ck_assert_str_eq(log, "start --uuid 4b20d080-1b54-4048-85b3-a6a62d165c01 --parent 0000:00:02.0\n"
			      "start --uuid 4b20d080-1b54-4048-85b3-a6a62d165c02 --parent 0000:00:02.0\n"
			      "stop --uuid 4b20d080-1b54-4048-85b3-a6a62d165c01\n"
			      "stop --uuid 4b20d080-1b54-4048-85b3-a6a62d165c02\n");
	free(log);
	ck_assert(fakesys_exists(fs, "etc/mdevctl.d/0000:00:02.0/4b20d080-1b54-4048-85b3-a6a62d165c02"));

	/* mdevctl stop failing every way, at the rollback of a failed start (vGPU 2 fails,
	 * vGPU 1 is undone) and at the release: the vGPU goes all the same, through sysfs,
	 * nothing is pending, and the words say so. */
	static const struct {
		const char *mode, *words;
	} stops[] = {
		{ "stop-fail", "failed: Error: a callout refused the stop; so it is removed through "
			       "sysfs" },
		{ "stop-hang", NULL }, /* killed: the words below */
		{ "stop-noop", "stop reported success, but /sys/bus/mdev/devices/" },
		{ "stop-killed", "stopping it through mdevctl failed: signal 9; so" },
	};
	char u1[37], u2[37];
	uuid_n(1, u1);
	uuid_n(2, u2);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		char words[160], mode1[64], mode2[64];
		if (stops[i].words)
			snprintf(words, sizeof(words), "%s", stops[i].words);
		else
			snprintf(words, sizeof(words),
				 "did not finish within %d ms and was killed; so it is removed",
				 timeout_s * 1000);
		snprintf(mode1, sizeof(mode1), "mode.%s", u1);
		snprintf(mode2, sizeof(mode2), "mode.%s", u2);
		fakesys_write(fs, mode1, stops[i].mode);
		fakesys_write(fs, mode2, "fail");
		call("prepare", "begin");
		ck_assert_int_eq(res.status, 1);
		ck_assert_msg(strstr(res.err, words), "rollback, %s: %s", stops[i].mode, res.err);
		ck_assert_msg(strstr(res.err, "No available instances"), "%s", res.err);
		ck_assert_int_eq(count_lines(res.err), 2);
		assert_untouched();
		fakesys_unlink(fs, mode2);
		call("prepare", "begin");
		ck_assert_msg(res.status == 0, "%s", res.err);
		call("release", "end");
		ck_assert_int_eq(res.status, 0);
		ck_assert_msg(strstr(res.err, words), "release, %s: %s", stops[i].mode, res.err);
		ck_assert_ptr_null(strstr(res.err, "pending"));
		assert_untouched();
		fakesys_unlink(fs, mode1);
	}
	unsetenv("GVTG_MDEVCTL");
}
END_TEST

/* remove_timeout bounds a removal the kernel blocks, and nothing else: 0 neither kills
 * mdevctl's start nor leaks the vGPU when `mdevctl stop` overruns its own bound. */
START_TEST(remove_timeout_zero_with_definitions)
{
	fakesys_write(fs, &GVTG_CONFIG_FILE[1],
		      getenv("GVTG_UNDER_VALGRIND")
			      ? "[hook]\nremove_timeout = 0\nmdevctl_timeout = 5\n"
			      : "[hook]\nremove_timeout = 0\nmdevctl_timeout = 1\n");
	fakesys_write(fs, AVAIL2, "8\n");
	write_domain(2);
	define_all(2);
	mdevctl_stub(fakesys_root(fs));
	call("prepare", "begin");
	ck_assert_msg(res.status == 0, "%s", res.err);
	ck_assert_str_eq(res.err, "");
	call("release", "end");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.err, "");
	assert_untouched();

	/* An overrunning stop: killed at mdevctl_timeout, then removed through sysfs. */
	char mode[64], u1[37];
	uuid_n(1, u1);
	snprintf(mode, sizeof(mode), "mode.%s", u1);
	call("prepare", "begin");
	ck_assert_msg(res.status == 0, "%s", res.err);
	fakesys_write(fs, mode, "stop-hang");
	call("release", "end");
	ck_assert_int_eq(res.status, 0);
	ck_assert_msg(strstr(res.err, "and was killed; so it is removed through sysfs"), "%s",
		      res.err);
	ck_assert_ptr_null(strstr(res.err, "pending"));
	assert_untouched();
	unsetenv("GVTG_MDEVCTL");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, create_fault_matrix);
	tcase_add_test(tc, record_fault_rolls_back);
	tcase_add_test(tc, lock_faults);
	tcase_add_test(tc, success_then_release);
	tcase_add_test(tc, adopt_and_keep_the_admins_vgpu);
	tcase_add_test(tc, failed_start_restores_claimed_records);
	tcase_add_test(tc, release_keep);
	suite_add_tcase(s, tc);
	/* mdevctl's timeouts add up: its own bound */
	tc = tcase_create("definitions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, definition_fault_matrix);
	tcase_add_test(tc, remove_timeout_zero_with_definitions);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
