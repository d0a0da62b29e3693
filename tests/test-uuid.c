/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "gvtg.h"
#include "testutil.h"

START_TEST(upper_case_is_lowered)
{
	char out[GVTG_UUID_STRLEN + 1];
	ck_assert_int_eq(gvtg_uuid_normalize("4B20D080-1B54-4048-85B3-A6A62D165C01", out), 0);
	ck_assert_str_eq(out, "4b20d080-1b54-4048-85b3-a6a62d165c01");
}
END_TEST

START_TEST(invalid_forms_are_refused)
{
	static const char *const bad[] = {
		"",
		"4b20d080-1b54-4048-85b3-a6a62d165c0",   /* 35 */
		"4b20d080-1b54-4048-85b3-a6a62d165c011", /* 37 */
		"{4b20d080-1b54-4048-85b3-a6a62d165c01}",
		"4b20d080-1b54-4048-85b3-a6a62d165cxx",
		" 4b20d080-1b54-4048-85b3-a6a62d165c0",  /* 31 digits */
		"4b20d080-1b54-4048-85b3-a6a62d165c01-",  /* a dash after the last pair */
		"4b2-0d080-1b54-4048-85b3-a6a62d165c01",  /* a dash inside a pair */
		"4b20d080-1b54-4048-85b3-a6a62d165c01x",
		"../../../../../../../../../etc/passw",
		"4b20d080/1b54-4048-85b3-a6a62d165c01",
	};
	char out[GVTG_UUID_STRLEN + 1] = "unchanged";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(gvtg_uuid_normalize(bad[i], out), -EINVAL);
	ck_assert_int_eq(gvtg_uuid_normalize(NULL, out), -EINVAL);
	ck_assert_str_eq(out, "unchanged");
}
END_TEST

/* Every form libvirt's virUUIDParse takes, as a domain's <uuid> or an mdev address. */
START_TEST(libvirt_forms_are_taken)
{
	static const char *const good[] = {
		"4b20d080-1b54-4048-85b3-a6a62d165c01",
		"4b20d0801b54404885b3a6a62d165c01",
		"4B20D0801B54404885B3A6A62D165C01",
		"  4b20d080-1b54-4048-85b3-a6a62d165c01\n",
		"4b-20-d0-80-1b-54-40-48-85-b3-a6-a6-2d-16-5c-01",
		"--4b20 d080--1b54 4048 85b3 a6a62d165c01",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char out[GVTG_UUID_STRLEN + 1];
		ck_assert_msg(gvtg_uuid_normalize(good[i], out) == 0, "%s", good[i]);
		ck_assert_str_eq(out, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	}
}
END_TEST

START_TEST(generated_uuids_are_valid_and_distinct)
{
	char a[GVTG_UUID_STRLEN + 1], b[GVTG_UUID_STRLEN + 1], n[GVTG_UUID_STRLEN + 1];
	ck_assert_int_eq(gvtg_uuid_generate(a), 0);
	ck_assert_int_eq(gvtg_uuid_generate(b), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(gvtg_uuid_normalize(a, n), 0);
	ck_assert_str_eq(a, n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uuid");
	TCase *tc = tcase_create("uuid");
	tcase_add_test(tc, upper_case_is_lowered);
	tcase_add_test(tc, invalid_forms_are_refused);
	tcase_add_test(tc, libvirt_forms_are_taken);
	tcase_add_test(tc, generated_uuids_are_valid_and_distinct);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
