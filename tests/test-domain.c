/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gvtg.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define U2 "4b20d080-1b54-4048-85b3-a6a62d165c02"

static int parse_file(const char *name, struct gvtg_domain **ret)
{
	size_t len;
	char *buf = slurp(data_path(name), &len);
	ck_assert_ptr_nonnull(buf);
	int r = gvtg_domain_parse(buf, len, ret);
	free(buf);
	return r;
}

START_TEST(display_on_and_off)
{
	static const char *const files[] = { "display-off.xml", "display-on.xml",
					     "upper-case.xml" };
	for (size_t i = 0; i < 3; i++) {
		struct gvtg_domain *d;
		ck_assert_int_eq(parse_file(files[i], &d), 0);
		ck_assert_str_eq(d->name, "win10");
		ck_assert_str_eq(d->uuid, "11111111-2222-4333-8444-555555555501");
		ck_assert_uint_eq(d->n_hostdevs, 1);
		ck_assert_str_eq(d->hostdevs[0].uuid, U1);
		ck_assert_str_eq(d->hostdevs[0].model, "vfio-pci");
		ck_assert_uint_eq(d->n_meta, 0);
		gvtg_domain_free(d);
	}
}
END_TEST

START_TEST(two_vgpus_in_order)
{
	struct gvtg_domain *d;
	ck_assert_int_eq(parse_file("two-vgpus.xml", &d), 0);
	ck_assert_uint_eq(d->n_hostdevs, 2);
	ck_assert_str_eq(d->hostdevs[0].uuid, U1);
	ck_assert_str_eq(d->hostdevs[1].uuid, U2);
	gvtg_domain_free(d);
}
END_TEST

START_TEST(live_xml_as_libvirt_sends_it)
{
	struct gvtg_domain *d;
	ck_assert_int_eq(parse_file("prepare-live.xml", &d), 0);
	ck_assert_str_eq(d->name, "gaming vm");
	ck_assert_uint_eq(d->n_hostdevs, 1);
	ck_assert_str_eq(d->hostdevs[0].uuid, U1); /* source/address, not the PCI address */
	ck_assert_uint_eq(d->n_meta, 0);           /* foreign metadata ignored */
	gvtg_domain_free(d);
}
END_TEST

START_TEST(no_mdev_hostdev)
{
	struct gvtg_domain *d;
	ck_assert_int_eq(parse_file("no-mdev.xml", &d), 0);
	ck_assert_uint_eq(d->n_hostdevs, 0);
	gvtg_domain_free(d);
}
END_TEST

START_TEST(metadata)
{
	struct gvtg_domain *d;
	ck_assert_int_eq(parse_file("metadata.xml", &d), 0);
	ck_assert_uint_eq(d->n_meta, 1);
	ck_assert_str_eq(d->meta[0].uuid, U1);
	ck_assert_str_eq(d->meta[0].parent, "0000:00:02.0");
	ck_assert_str_eq(d->meta[0].type, "i915-GVTg_V5_8");
	gvtg_domain_free(d);
	/* an unsafe name is carried as text; the policy refuses it (test-policy) */
	ck_assert_int_eq(parse_file("metadata-traversal.xml", &d), 0);
	ck_assert_str_eq(d->meta[0].parent, "../../..");
	gvtg_domain_free(d);
}
END_TEST

START_TEST(bad_documents)
{
	struct gvtg_domain *d = (void *)0x1;
	ck_assert_int_eq(parse_file("malformed.xml", &d), -EBADMSG);
	ck_assert(strstr(gvtg_domain_parse_error(), "not well-formed"));
	ck_assert_ptr_eq(d, (void *)0x1);
	ck_assert_int_eq(parse_file("doctype-entity.xml", &d), -EBADMSG);
	ck_assert(strstr(gvtg_domain_parse_error(), "DOCTYPE"));
	ck_assert_int_eq(parse_file("not-domain.xml", &d), -EBADMSG);
	ck_assert(strstr(gvtg_domain_parse_error(), "<domain>"));
	ck_assert_int_eq(parse_file("bad-uuid.xml", &d), -EINVAL);
	ck_assert(strstr(gvtg_domain_parse_error(), "invalid UUID 'not-a-uuid'"));
	ck_assert_int_eq(gvtg_domain_parse("", 0, &d), -EBADMSG);
	ck_assert_int_eq(gvtg_domain_parse("<domain/>", GVTG_XML_MAX + 1, &d), -EFBIG);
	ck_assert_ptr_eq(d, (void *)0x1);
}
END_TEST

START_TEST(error_text_is_one_line)
{
	struct gvtg_domain *d;
	const char *x = "<domain>\n<name>a</name>\n<devices>\n<hostdev mode='subsystem' "
			"type='mdev'><source><address uuid='x\ny'/></source></hostdev>\n"
			"</devices></domain>";
	ck_assert_int_eq(gvtg_domain_parse(x, strlen(x), &d), -EINVAL);
	ck_assert_ptr_null(strchr(gvtg_domain_parse_error(), '\n'));
}
END_TEST

START_TEST(mode_and_type_must_match)
{
	struct gvtg_domain *d;
	const char *x = "<domain><name>a</name><devices>"
			"<hostdev mode='capabilities' type='mdev'><source><address uuid='" U1
			"'/></source></hostdev>"
			"<hostdev mode='subsystem' type='pci'><source><address uuid='" U2
			"'/></source></hostdev>"
			"</devices></domain>";
	ck_assert_int_eq(gvtg_domain_parse(x, strlen(x), &d), 0);
	ck_assert_uint_eq(d->n_hostdevs, 0);
	gvtg_domain_free(d);
}
END_TEST

START_TEST(too_many_hostdevs)
{
	char *x = malloc(1 << 20);
	size_t n = (size_t)sprintf(x, "<domain><name>a</name><devices>");
	for (int i = 0; i < 65; i++)
		n += (size_t)sprintf(x + n,
				     "<hostdev mode='subsystem' type='mdev'><source><address "
				     "uuid='4b20d080-1b54-4048-85b3-a6a62d16%04d'/></source></hostdev>",
				     i);
	n += (size_t)sprintf(x + n, "</devices></domain>");
	struct gvtg_domain *d;
	ck_assert_int_eq(gvtg_domain_parse(x, n, &d), -E2BIG);
	free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("domain");
	TCase *tc = tcase_create("domain");
	tcase_add_test(tc, display_on_and_off);
	tcase_add_test(tc, two_vgpus_in_order);
	tcase_add_test(tc, live_xml_as_libvirt_sends_it);
	tcase_add_test(tc, no_mdev_hostdev);
	tcase_add_test(tc, metadata);
	tcase_add_test(tc, bad_documents);
	tcase_add_test(tc, error_text_is_one_line);
	tcase_add_test(tc, mode_and_type_must_match);
	tcase_add_test(tc, too_many_hostdevs);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
