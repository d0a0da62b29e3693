/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define GVT "sys/devices/pci0000:00/0000:00:02.0"
#define T4 GVT "/mdev_supported_types/i915-GVTg_V5_4"

static struct fakesys *fs;
static struct gvtg_ctx *ctx;

static void setup(void)
{
	fs = fakesys_new();
	fakesys_gvt_host(fs);
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
}

static void teardown(void)
{
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}

START_TEST(names)
{
	ck_assert(gvtg_name_is_valid("0000:00:02.0"));
	ck_assert(gvtg_name_is_valid("i915-GVTg_V5_4"));
	ck_assert(gvtg_name_is_valid("mtty"));
	ck_assert(!gvtg_name_is_valid(".."));
	ck_assert(!gvtg_name_is_valid("../../.."));
	ck_assert(!gvtg_name_is_valid("a/b"));
	ck_assert(!gvtg_name_is_valid(""));
	ck_assert(!gvtg_name_is_valid(NULL));
	ck_assert(!gvtg_name_is_valid(".hidden"));
	ck_assert(!gvtg_name_is_valid("a b"));
	ck_assert(!gvtg_name_is_valid("a\nb"));
}
END_TEST

START_TEST(parents_sorted)
{
	fakesys_add_parent(fs, "mtty");
	fakesys_add_parent(fs, "mbochs");
	char **v;
	size_t n;
	ck_assert_int_eq(gvtg_parents_list(ctx, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "0000:00:02.0");
	ck_assert_str_eq(v[1], "mbochs");
	ck_assert_str_eq(v[2], "mtty");
	gvtg_strv_free(v, n);
	ck_assert_int_eq(gvtg_parent_check(ctx, "0000:00:02.0"), 0);
	ck_assert_int_eq(gvtg_parent_check(ctx, "0000:00:09.0"), -ENOENT);
	ck_assert_int_eq(gvtg_parent_check(ctx, "../../.."), -EINVAL);
}
END_TEST

START_TEST(no_mdev_core_means_no_parents)
{
	struct fakesys *empty = fakesys_new();
	struct gvtg_ctx *c;
	char **v;
	size_t n = 99;
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(empty), &c), 0);
	/* remove sys/class/mdev_bus entirely: the mdev module is not loaded */
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/class/mdev_bus", fakesys_root(empty));
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(gvtg_parents_list(c, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	gvtg_strv_free(v, n);
	gvtg_ctx_free(c);
	fakesys_free(empty);
}
END_TEST

START_TEST(types_with_attributes)
{
	struct gvtg_type *t;
	size_t n;
	ck_assert_int_eq(gvtg_types_list(ctx, "0000:00:02.0", &t, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(t[0].id, "i915-GVTg_V5_1");
	ck_assert_str_eq(t[2].id, "i915-GVTg_V5_4");
	ck_assert_str_eq(t[2].name, "GVTg_V5_4");
	ck_assert_str_eq(t[2].device_api, "vfio-pci");
	ck_assert_int_eq(t[2].available, 2);
	ck_assert_int_eq(t[0].available, 1);
	struct gvtg_gvt_info info;
	ck_assert_int_eq(gvtg_gvt_info_parse(t[2].description, &info), 0);
	ck_assert_uint_eq(info.low_gm_mb, 128);
	ck_assert_uint_eq(info.high_gm_mb, 512);
	ck_assert_uint_eq(info.fence, 4);
	ck_assert_uint_eq(info.weight, 4);
	ck_assert_str_eq(info.resolution, "1920x1200");
	gvtg_types_free(t, n);

	/* mtty has no description: optional */
	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	struct gvtg_type one;
	ck_assert_int_eq(gvtg_type_get(ctx, "mtty", "mtty-1", &one), 0);
	ck_assert_ptr_null(one.description);
	ck_assert_int_eq(one.available, 24);
	gvtg_type_clear(&one);
	ck_assert_int_eq(gvtg_type_get(ctx, "mtty", "mtty-9", &one), -ENOENT);
	ck_assert_int_eq(gvtg_type_get(ctx, "mtty", "../mtty-1", &one), -EINVAL);
	ck_assert_int_eq(gvtg_types_list(ctx, "nope", &t, &n), -ENOENT);
}
END_TEST

START_TEST(devices_parent_and_type_from_links)
{
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
	fakesys_add_parent(fs, "mtty");
	fakesys_add_type(fs, "mtty", "mtty-2", "Dual port serial", "vfio-pci", NULL, 12);
	fakesys_add_device(fs, "mtty", "mtty-2", "00000000-0000-4000-8000-000000000001");
	fakesys_write(fs, "sys/bus/mdev/devices/not-a-uuid", "");
	struct gvtg_device *d;
	size_t n;
	ck_assert_int_eq(gvtg_devices_list(ctx, &d, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(d[0].uuid, "00000000-0000-4000-8000-000000000001");
	ck_assert_str_eq(d[0].parent, "mtty");
	ck_assert_str_eq(d[0].type, "mtty-2");
	ck_assert_str_eq(d[1].uuid, U1);
	ck_assert_str_eq(d[1].parent, "0000:00:02.0");
	ck_assert_str_eq(d[1].type, "i915-GVTg_V5_4");
	gvtg_devices_free(d, n);
	struct gvtg_device one;
	ck_assert_int_eq(gvtg_device_get(ctx, "4B20D080-1B54-4048-85B3-A6A62D165C01", &one), 0);
	ck_assert_str_eq(one.uuid, U1);
	gvtg_device_clear(&one);
	ck_assert_int_eq(gvtg_device_get(ctx, "4b20d080-1b54-4048-85b3-a6a62d165c09", &one),
			 -ENOENT);
}
END_TEST

START_TEST(create_writes_36_lower_case_bytes)
{
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_4",
					  "4B20D080-1B54-4048-85B3-A6A62D165C01"),
			 0);
	char *c = fakesys_read(fs, T4 "/create");
	ck_assert_str_eq(c, U1); /* exactly 36 bytes, no newline */
	free(c);
	ck_assert_str_eq(fakesys_writes(fs),
			 "sys/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/"
			 "create " U1 "\n");
}
END_TEST

START_TEST(create_errors)
{
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_9", U1), -ENOENT);
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:09.0", "i915-GVTg_V5_4", U1), -ENOENT);
	ck_assert_int_eq(gvtg_mdev_create(ctx, "..", "i915-GVTg_V5_4", U1), -EINVAL);
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "a/b", U1), -EINVAL);
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_4", "x"), -EINVAL);
	/* the kernel's answers come back unchanged */
	static const int errs[] = { -EEXIST, -ENOSPC, -EUSERS, -EACCES, -ENODEV, -EINVAL };
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fakesys_fail(fs, "/create", 1, errs[i]);
		ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_4", U1),
				 errs[i]);
	}
	fakesys_fail(fs, "/create", 1, 0); /* short write */
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_4", U1), -EIO);
	ck_assert_str_eq(fakesys_writes(fs) + strlen(fakesys_writes(fs)) - 37, U1 "\n");
}
END_TEST

START_TEST(emulated_kernel_create_and_remove)
{
	fakesys_kernel_attach(fs);
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_4", U1), 0);
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	ck_assert_int_eq(gvtg_mdev_create(ctx, "0000:00:02.0", "i915-GVTg_V5_8", U1), -EEXIST);
	char *a = fakesys_read(fs, T4 "/available_instances");
	ck_assert_str_eq(a, "1\n");
	free(a);
	ck_assert_int_eq(gvtg_mdev_remove(ctx, U1), 0);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	ck_assert_int_eq(gvtg_mdev_remove(ctx, U1), -ENOENT);
}
END_TEST

START_TEST(remove_writes_1)
{
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
	ck_assert_int_eq(gvtg_mdev_remove(ctx, U1), 0);
	char *c = fakesys_read(fs, GVT "/" U1 "/remove");
	ck_assert_str_eq(c, "1");
	free(c);
	ck_assert_int_eq(gvtg_mdev_remove(ctx, "4b20d080-1b54-4048-85b3-a6a62d165c09"), -ENOENT);
	ck_assert_int_eq(gvtg_mdev_remove(ctx, "../../x"), -EINVAL);
}
END_TEST

START_TEST(bounded_remove_returns_when_blocked)
{
	/* A FIFO that nobody reads blocks the writer, as the kernel does while QEMU holds
	 * the device. */
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
	char p[512];
	snprintf(p, sizeof(p), "%s/" GVT "/" U1 "/remove", fakesys_root(fs));
	unlink(p);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(gvtg_mdev_remove_bounded(ctx, U1, 300), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	ck_assert(s >= 0.29 && s < 2.0);
	/* let the child finish */
	int fd = open(p, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	usleep(100000);
	char buf[8] = "";
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 1);
	ck_assert_int_eq(buf[0], '1');
	close(fd);
	/* not blocked: same answer as the direct remove */
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4",
			   "4b20d080-1b54-4048-85b3-a6a62d165c02");
	ck_assert_int_eq(
		gvtg_mdev_remove_bounded(ctx, "4b20d080-1b54-4048-85b3-a6a62d165c02", 5000), 0);
	ck_assert_int_eq(
		gvtg_mdev_remove_bounded(ctx, "4b20d080-1b54-4048-85b3-a6a62d165c09", 5000),
		-ENOENT);
}
END_TEST

START_TEST(gvt_description)
{
	struct gvtg_gvt_info i;
	ck_assert_int_eq(gvtg_gvt_info_parse("virtual display, 640x480 framebuffer", &i),
			 -EINVAL);
	ck_assert_int_eq(gvtg_gvt_info_parse("low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: "
					     "4\nresolution: 1024x768\nweight: 2\n",
					     &i),
			 0);
	ck_assert_uint_eq(i.low_gm_mb, 64);
	ck_assert_str_eq(i.resolution, "1024x768");
	ck_assert_uint_eq(i.weight, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mdev");
	TCase *tc = tcase_create("mdev");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, names);
	tcase_add_test(tc, parents_sorted);
	tcase_add_test(tc, no_mdev_core_means_no_parents);
	tcase_add_test(tc, types_with_attributes);
	tcase_add_test(tc, devices_parent_and_type_from_links);
	tcase_add_test(tc, create_writes_36_lower_case_bytes);
	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, emulated_kernel_create_and_remove);
	tcase_add_test(tc, remove_writes_1);
	tcase_add_test(tc, bounded_remove_returns_when_blocked);
	tcase_add_test(tc, gvt_description);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
