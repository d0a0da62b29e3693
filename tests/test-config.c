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

START_TEST(defaults_when_empty)
{
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_config_parse_string("", &c), 0);
	ck_assert_ptr_null(c->parent);
	ck_assert_ptr_null(c->type);
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	ck_assert_int_eq(c->remove_timeout_ms, 10000);
	ck_assert_int_eq(c->lock_timeout_ms, 30000);
	ck_assert(!c->sleep_remove);
	ck_assert_uint_eq(c->n_devices, 0);
	gvtg_config_free(c);
}
END_TEST

START_TEST(every_setting)
{
	const char *text = "# comment\n"
			   "[defaults]\n"
			   "parent = 0000:00:02.0\n"
			   "type = i915-GVTg_V5_4\n"
			   "\n"
			   "[hook]\n"
			   "release = keep\n"
			   "remove_timeout = 2.5\n"
			   "lock_timeout = 5\n"
			   "[sleep]\n"
			   "remove_idle = yes\n"
			   "[4B20D080-1B54-4048-85B3-A6A62D165C01]\n"
			   "type = i915-GVTg_V5_8\n"
			   "boot = yes\n";
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), 0);
	ck_assert_str_eq(c->parent, "0000:00:02.0");
	ck_assert_str_eq(c->type, "i915-GVTg_V5_4");
	ck_assert_int_eq(c->release, GVTG_RELEASE_KEEP);
	ck_assert_int_eq(c->remove_timeout_ms, 2500);
	ck_assert_int_eq(c->lock_timeout_ms, 5000);
	ck_assert(c->sleep_remove);
	const struct gvtg_config_device *d = gvtg_config_find(c, U1);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(d->parent);
	ck_assert_str_eq(d->type, "i915-GVTg_V5_8");
	ck_assert(d->boot);
	ck_assert_ptr_null(gvtg_config_find(c, "4b20d080-1b54-4048-85b3-a6a62d165c02"));
	gvtg_config_free(c);
}
END_TEST

static void expect_error(const char *text, int line, const char *words)
{
	struct gvtg_config *c = NULL;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), -EBADMSG);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->error_line, line);
	ck_assert_msg(strstr(c->error, words), "'%s' lacks '%s'", c->error, words);
	gvtg_config_free(c);
}

START_TEST(errors_name_the_line)
{
	expect_error("[defaults]\nparnet = x\n", 2, "unknown key 'parnet' in [defaults]");
	expect_error("[hook]\nrelease = sometimes\n", 2, "release must be 'remove' or 'keep'");
	expect_error("[hook]\n\nremove_timeout = soon\n", 3, "remove_timeout must be a number");
	expect_error("[hook]\nlock_timeout = -1\n", 2, "lock_timeout must be a number");
	expect_error("[defaults]\nparent = ../../..\n", 2, "not a valid parent name");
	expect_error("[defaults]\ntype = a/b\n", 2, "not a valid type name");
	expect_error("[vgpus]\ntype = x\n", 2, "unknown section [vgpus]");
	expect_error("[" U1 "]\nboot = maybe\n", 2, "boot must be yes or no");
	expect_error("[defaults\n", 1, "syntax error");
}
END_TEST

START_TEST(load_from_root)
{
	struct fakesys *fs = fakesys_new();
	struct gvtg_ctx *ctx;
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	/* missing file: the defaults */
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/gvtg-hook.conf", &c), 0);
	ck_assert_ptr_null(c->type);
	gvtg_config_free(c);
	fakesys_write(fs, "etc/gvtg-hook.conf", "[defaults]\ntype = i915-GVTg_V5_8\n");
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/gvtg-hook.conf", &c), 0);
	ck_assert_str_eq(c->type, "i915-GVTg_V5_8");
	ck_assert_str_eq(c->path, "/etc/gvtg-hook.conf");
	gvtg_config_free(c);
	fakesys_write(fs, "etc/gvtg-hook.conf", "[defaults]\ntpye = x\n");
	ck_assert_int_eq(gvtg_config_load(ctx, "/etc/gvtg-hook.conf", &c), -EBADMSG);
	ck_assert_int_eq(c->error_line, 2);
	gvtg_config_free(c);
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}
END_TEST

START_TEST(shipped_file_parses)
{
	size_t len;
	char *text = slurp(data_path("../../hook/gvtg-hook.conf"), &len);
	ck_assert_ptr_nonnull(text);
	struct gvtg_config *c;
	ck_assert_int_eq(gvtg_config_parse_string(text, &c), 0);
	/* everything commented out: the built-in defaults */
	ck_assert_ptr_null(c->parent);
	ck_assert_ptr_null(c->type);
	ck_assert_int_eq(c->release, GVTG_RELEASE_REMOVE);
	gvtg_config_free(c);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, defaults_when_empty);
	tcase_add_test(tc, every_setting);
	tcase_add_test(tc, errors_name_the_line);
	tcase_add_test(tc, load_from_root);
	tcase_add_test(tc, shipped_file_parses);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
