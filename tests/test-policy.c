/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "fakesys.h"
#include "gvtg.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"

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

static struct gvtg_domain *dom_meta(const char *parent, const char *type)
{
	char x[1024];
	snprintf(x, sizeof(x),
		 "<domain><name>a</name><uuid>11111111-2222-4333-8444-555555555501</uuid>"
		 "<metadata><g:vgpu xmlns:g='urn:gvtg-hook:vgpu:1'><g:device uuid='" U1 "'%s%s%s"
		 "%s%s%s/></g:vgpu></metadata><devices/></domain>",
		 parent ? " parent='" : "", parent ? parent : "", parent ? "'" : "",
		 type ? " type='" : "", type ? type : "", type ? "'" : "");
	struct gvtg_domain *d;
	ck_assert_int_eq(gvtg_domain_parse(x, strlen(x), &d), 0);
	return d;
}

static struct gvtg_config *cfg(const char *text)
{
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), 0);
	return c;
}

START_TEST(first_match_wins)
{
	struct gvtg_placement p;
	struct gvtg_config *c = cfg("[defaults]\ntype = i915-GVTg_V5_2\n[" U1
				    "]\ntype = i915-GVTg_V5_8\n");
	struct gvtg_domain *d = dom_meta(NULL, "i915-GVTg_V5_1");
	/* metadata > [uuid] > [defaults] > automatic */
	ck_assert_int_eq(gvtg_placement_resolve(ctx, d, c, U1, &p), 0);
	ck_assert_str_eq(p.type, "i915-GVTg_V5_1");
	ck_assert_int_eq(p.type_source, GVTG_SOURCE_METADATA);
	ck_assert_str_eq(p.parent, "0000:00:02.0");
	ck_assert_int_eq(p.parent_source, GVTG_SOURCE_AUTO);
	gvtg_placement_clear(&p);
	ck_assert_int_eq(gvtg_placement_resolve(ctx, NULL, c, U1, &p), 0);
	ck_assert_str_eq(p.type, "i915-GVTg_V5_8");
	ck_assert_int_eq(p.type_source, GVTG_SOURCE_CONFIG_DEVICE);
	gvtg_placement_clear(&p);
	ck_assert_int_eq(
		gvtg_placement_resolve(ctx, NULL, c, "4b20d080-1b54-4048-85b3-a6a62d165c02", &p),
		0);
	ck_assert_str_eq(p.type, "i915-GVTg_V5_2");
	ck_assert_int_eq(p.type_source, GVTG_SOURCE_CONFIG_DEFAULT);
	gvtg_placement_clear(&p);
	gvtg_domain_free(d);
	gvtg_config_free(c);
}
END_TEST

START_TEST(automatic_needs_one_choice)
{
	struct gvtg_placement p;
	/* 4 GVT types: ambiguous, but the parent is known for the message */
	ck_assert_int_eq(gvtg_placement_resolve(ctx, NULL, NULL, U1, &p), -ENOTUNIQ);
	ck_assert_str_eq(p.parent, "0000:00:02.0");
	ck_assert_ptr_null(p.type);
	gvtg_placement_clear(&p);

	struct fakesys *one = fakesys_new();
	struct gvtg_ctx *c1;
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(one), &c1), 0);
	ck_assert_int_eq(gvtg_placement_resolve(c1, NULL, NULL, U1, &p), -ENXIO);
	gvtg_placement_clear(&p);
	fakesys_add_parent(one, "mtty");
	fakesys_add_type(one, "mtty", "mtty-1", "Single port serial", "vfio-pci", NULL, 24);
	ck_assert_int_eq(gvtg_placement_resolve(c1, NULL, NULL, U1, &p), 0);
	ck_assert_str_eq(p.parent, "mtty");
	ck_assert_str_eq(p.type, "mtty-1");
	gvtg_placement_clear(&p);
	/* two parents: ambiguous, unless the type exists on only one */
	fakesys_add_parent(one, "mdpy");
	fakesys_add_type(one, "mdpy", "mdpy-vga", "vga", "vfio-pci", "virtual display", 4);
	ck_assert_int_eq(gvtg_placement_resolve(c1, NULL, NULL, U1, &p), -ENOTUNIQ);
	ck_assert_ptr_null(p.parent);
	gvtg_placement_clear(&p);
	struct gvtg_domain *d = dom_meta(NULL, "mdpy-vga");
	ck_assert_int_eq(gvtg_placement_resolve(c1, d, NULL, U1, &p), 0);
	ck_assert_str_eq(p.parent, "mdpy");
	gvtg_placement_clear(&p);
	gvtg_domain_free(d);
	gvtg_ctx_free(c1);
	fakesys_free(one);
}
END_TEST

START_TEST(unsafe_or_missing_names)
{
	struct gvtg_placement p;
	struct gvtg_domain *d = dom_meta("../../..", "i915-GVTg_V5_4");
	ck_assert_int_eq(gvtg_placement_resolve(ctx, d, NULL, U1, &p), -EINVAL);
	ck_assert_ptr_null(p.parent);
	gvtg_placement_clear(&p);
	gvtg_domain_free(d);
	d = dom_meta("0000:00:02.0", "../../../../etc");
	ck_assert_int_eq(gvtg_placement_resolve(ctx, d, NULL, U1, &p), -EINVAL);
	gvtg_domain_free(d);
	d = dom_meta("0000:00:09.0", "i915-GVTg_V5_4");
	ck_assert_int_eq(gvtg_placement_resolve(ctx, d, NULL, U1, &p), -ENOENT);
	ck_assert_str_eq(p.parent, "0000:00:09.0");
	ck_assert_int_eq(p.parent_source, GVTG_SOURCE_METADATA);
	gvtg_placement_clear(&p);
	gvtg_domain_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, first_match_wins);
	tcase_add_test(tc, automatic_needs_one_choice);
	tcase_add_test(tc, unsafe_or_missing_names);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
