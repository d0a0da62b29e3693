/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define DOMU "11111111-2222-4333-8444-555555555501"

static struct fakesys *fs;
static struct gvtg_ctx *ctx;

static void setup(void)
{
	fs = fakesys_new();
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
}

static void teardown(void)
{
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}

START_TEST(record_round_trip)
{
	struct gvtg_record w = { .origin = GVTG_ORIGIN_CREATED, .time = 1700000000 };
	memcpy(w.uuid, U1, sizeof(w.uuid));
	memcpy(w.domain_uuid, DOMU, sizeof(w.domain_uuid));
	w.domain_name = "win 10\nevil=1";
	w.parent = "0000:00:02.0";
	w.type = "i915-GVTg_V5_4";
	ck_assert_int_eq(gvtg_record_write(ctx, &w), 0);
	struct gvtg_record r;
	ck_assert_int_eq(gvtg_record_read(ctx, "4B20D080-1B54-4048-85B3-A6A62D165C01", &r), 0);
	ck_assert_str_eq(r.uuid, U1);
	ck_assert_int_eq(r.origin, GVTG_ORIGIN_CREATED);
	ck_assert_str_eq(r.domain_name, "win 10?evil=1"); /* one line per value */
	ck_assert_str_eq(r.domain_uuid, DOMU);
	ck_assert_str_eq(r.parent, "0000:00:02.0");
	ck_assert_str_eq(r.type, "i915-GVTg_V5_4");
	ck_assert_int_eq(r.time, 1700000000);
	ck_assert(!r.remove_pending);
	ck_assert(gvtg_record_in_use(&r));
	gvtg_record_clear(&r);
	/* atomic write: no temporary file left, the directory is private */
	ck_assert_int_eq(fakesys_count(fs, "run/gvtg-hook"), 1);
	struct stat st;
	char p[512];
	snprintf(p, sizeof(p), "%s/run/gvtg-hook", fakesys_root(fs));
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);

	struct gvtg_record *all;
	size_t n;
	ck_assert_int_eq(gvtg_records_list(ctx, &all, &n), 0);
	ck_assert_uint_eq(n, 1);
	gvtg_records_free(all, n);
	ck_assert_int_eq(gvtg_record_delete(ctx, U1), 0);
	ck_assert_int_eq(gvtg_record_delete(ctx, U1), 0);
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &r), -ENOENT);
}
END_TEST

START_TEST(damaged_record)
{
	fakesys_write(fs, "run/gvtg-hook/" U1, "garbage without equals\n");
	struct gvtg_record r;
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &r), -EBADMSG);
	fakesys_write(fs, "run/gvtg-hook/" U1, "origin=stolen\n");
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &r), -EBADMSG);
	fakesys_write(fs, "run/gvtg-hook/" U1, "origin=adopted\ndomain_uuid=zzz\n");
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &r), -EBADMSG);
}
END_TEST

START_TEST(failed_write_leaves_old_record)
{
	struct gvtg_record w = { .origin = GVTG_ORIGIN_MANUAL };
	memcpy(w.uuid, U1, sizeof(w.uuid));
	ck_assert_int_eq(gvtg_record_write(ctx, &w), 0);
	fakesys_fail_op(fs, 2 /* GVTG_IO_WRITE_ATOMIC */, NULL, -ENOSPC);
	w.origin = GVTG_ORIGIN_CREATED;
	ck_assert_int_eq(gvtg_record_write(ctx, &w), -ENOSPC);
	fakesys_fail(fs, NULL, 0, 0);
	struct gvtg_record r;
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &r), 0);
	ck_assert_int_eq(r.origin, GVTG_ORIGIN_MANUAL);
	gvtg_record_clear(&r);
}
END_TEST

START_TEST(lock_is_bounded)
{
	int fd = gvtg_lock_acquire(ctx, 1000);
	ck_assert_int_ge(fd, 0);
	/* a second open file description conflicts, as another process would */
	ck_assert_int_eq(gvtg_lock_acquire(ctx, 200), -ETIMEDOUT);
	gvtg_lock_release(fd);
	fd = gvtg_lock_acquire(ctx, 200);
	ck_assert_int_ge(fd, 0);
	gvtg_lock_release(fd);
	fakesys_fail_op(fs, 4 /* GVTG_IO_LOCK */, NULL, -EROFS);
	ck_assert_int_eq(gvtg_lock_acquire(ctx, 200), -EROFS);
}
END_TEST

START_TEST(origins)
{
	enum gvtg_origin o;
	static const char *const names[] = { "created", "adopted", "manual", "boot" };
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(gvtg_origin_to_string((enum gvtg_origin)i), names[i]);
		ck_assert_int_eq(gvtg_origin_from_string(names[i], &o), 0);
		ck_assert_int_eq(o, i);
	}
	ck_assert_int_eq(gvtg_origin_from_string("x", &o), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, record_round_trip);
	tcase_add_test(tc, damaged_record);
	tcase_add_test(tc, failed_write_leaves_old_record);
	tcase_add_test(tc, lock_is_bounded);
	tcase_add_test(tc, origins);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
