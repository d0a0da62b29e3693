/* SPDX-License-Identifier: MIT */
/*
 * Black-box tests of the built hook, row by row of the contract table in README.md and
 * gvtg-hook(8): operation x exit code x stdout x effect on a fake sysfs tree.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define U2 "4b20d080-1b54-4048-85b3-a6a62d165c02"
#define GVT "sys/devices/pci0000:00/0000:00:02.0"
#define TYPES GVT "/mdev_supported_types/"
#define CREATE4 TYPES "i915-GVTg_V5_4/create"

static struct fakesys *fs;
static struct hook_result res;
static char conf_path[256];

static void setup(void)
{
	fs = fakesys_new();
	fakesys_gvt_host(fs);
	/* the configuration path is built in (sysconfdir); find it from the tree's view */
	snprintf(conf_path, sizeof(conf_path), "%s", &GVTG_CONFIG_FILE[1]);
	memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
	hook_result_free(&res);
	fakesys_free(fs);
}

static void set_config(const char *text)
{
	ck_assert_int_eq(fakesys_write(fs, conf_path, text), 0);
}

static void run(const char *input, const char *dom, const char *op, const char *sub,
		const char *extra)
{
	hook_result_free(&res);
	hook_exec(fakesys_root(fs), input ? data_path(input) : NULL, dom, op, sub, extra, &res);
}

static char *file(const char *rel)
{
	static char *last;
	free(last);
	last = fakesys_read(fs, rel);
	return last ? last : "(missing)";
}

/* The table's rows that do nothing: exit 0, no output at all, nothing touched, the XML
 * not even parsed (malformed input changes nothing). */
START_TEST(ignored_operations)
{
	static const char *const ops[][2] = {
		{ "start", "begin" },    { "started", "begin" }, { "stopped", "end" },
		{ "migrate", "begin" },  { "restore", "begin" }, { "attach", "begin" },
		{ "prepare", "end" },    { "release", "begin" }, { "reconnect", "end" },
		{ "frobnicate", "now" },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (int bad = 0; bad < 2; bad++) {
			run(bad ? "malformed.xml" : "display-off.xml", "win10", ops[i][0],
			    ops[i][1], "-");
			ck_assert_msg(res.status == 0, "%s %s: exit %d", ops[i][0], ops[i][1],
				      res.status);
			ck_assert_str_eq(res.out, "");
			ck_assert_str_eq(res.err, "");
		}
	}
	ck_assert_str_eq(file(CREATE4), "");
	ck_assert(!fakesys_exists(fs, "run/gvtg-hook"));
}
END_TEST

START_TEST(usage)
{
	char *a1[] = { "gvtg-hook", NULL };
	char *a3[] = { "gvtg-hook", "win10", "prepare", NULL };
	char *a4[] = { "gvtg-hook", "win10", "prepare", "begin", NULL };
	char *a6[] = { "gvtg-hook", "win10", "prepare", "begin", "-", "x", NULL };
	char **cases[] = { a1, a3, a4, a6 };
	for (size_t i = 0; i < 4; i++) {
		hook_result_free(&res);
		hook_exec_argv(fakesys_root(fs), data_path("display-off.xml"), cases[i], &res);
		ck_assert_int_eq(res.status, 2);
		ck_assert_str_eq(res.out, "");
		ck_assert(!strncmp(res.err, "usage: gvtg-hook DOMAIN OPERATION", 33));
	}
	ck_assert_str_eq(file(CREATE4), "");
	char *h[] = { "gvtg-hook", "--help", NULL };
	hook_result_free(&res);
	hook_exec_argv(NULL, NULL, h, &res);
	ck_assert_int_eq(res.status, 0);
	ck_assert(!strncmp(res.out, "usage:", 6));
	char *v[] = { "gvtg-hook", "--version", NULL };
	hook_result_free(&res);
	hook_exec_argv(NULL, NULL, v, &res);
	ck_assert_int_eq(res.status, 0);
	/* the version, then the build identity the hook shares with its module */
	static const char vh[] = "gvtg-hook " GVTG_VERSION " (build " GVTG_VERSION "+";
	ck_assert_msg(!strncmp(res.out, vh, sizeof(vh) - 1), "--version: '%s'", res.out);
	size_t vn = strlen(res.out);
	ck_assert_msg(vn == sizeof(vh) - 1 + 16 + 2 && !strcmp(res.out + vn - 2, ")\n"),
		      "--version: '%s'", res.out);
}
END_TEST

START_TEST(prepare_creates_and_release_removes)
{
	static const char *const inputs[] = { "display-off.xml", "display-on.xml",
					      "upper-case.xml", "prepare-live.xml" };
	set_config("[defaults]\ntype = i915-GVTg_V5_4\n");
	for (size_t i = 0; i < 4; i++) {
		fakesys_write(fs, CREATE4, "");
		run(inputs[i], "win10", "prepare", "begin", "-");
		ck_assert_msg(res.status == 0, "%s: %s", inputs[i], res.err);
		ck_assert_str_eq(res.out, "");
		ck_assert_str_eq(res.err, "");
		/* exactly the 36 lower-case bytes, whatever the case in the XML */
		ck_assert_str_eq(file(CREATE4), U1);
		char *rec = file("run/gvtg-hook/" U1);
		ck_assert_msg(strstr(rec, "origin=created\n"), "%s", rec);
		ck_assert(strstr(rec, "type=i915-GVTg_V5_4\n"));
		ck_assert(strstr(rec, "parent=0000:00:02.0\n"));

		/* the kernel would have made the device */
		fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
		run(inputs[i], "win10", "release", "end", i == 0 ? "from snapshot" : "-");
		ck_assert_int_eq(res.status, 0);
		ck_assert_str_eq(res.out, "");
		ck_assert_str_eq(file(GVT "/" U1 "/remove"), "1");
		ck_assert(!fakesys_exists(fs, "run/gvtg-hook/" U1));
		/* the kernel would have removed it */
		fakesys_remove_device(fs, U1);
	}
}
END_TEST

START_TEST(no_mdev_touches_nothing)
{
	run("no-mdev.xml", "plain", "prepare", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(res.err, "");
	run("no-mdev.xml", "plain", "release", "end", "-");
	ck_assert_int_eq(res.status, 0);
	ck_assert(!fakesys_exists(fs, "run/gvtg-hook"));
	/* not even a broken configuration matters then */
	set_config("[nonsense\n");
	run("no-mdev.xml", "plain", "prepare", "begin", "-");
	ck_assert_int_eq(res.status, 0);
}
END_TEST

static void expect_refusal(const char *words)
{
	ck_assert_int_eq(res.status, 1);
	ck_assert_str_eq(res.out, "");
	ck_assert_msg(!strncmp(res.err, "gvtg-hook: ", 11), "%s", res.err);
	ck_assert_msg(strstr(res.err, words), "stderr lacks '%s': %s", words, res.err);
	ck_assert_int_eq(count_lines(res.err), 1);
	ck_assert_str_eq(file(CREATE4), "");
}

START_TEST(refusals_explain_the_fix)
{
	/* four types, none chosen: list them with resolution and instances left */
	run("display-off.xml", "win10", "prepare", "begin", "-");
	expect_refusal("parent 0000:00:02.0 has several types and none is chosen: "
		       "i915-GVTg_V5_1 (1920x1200, 1 left), i915-GVTg_V5_2 (1920x1200, 2 left), "
		       "i915-GVTg_V5_4 (1920x1200, 2 left), i915-GVTg_V5_8 (1024x768, 2 left)");
	ck_assert(strstr(res.err, "Set type= in the domain metadata (gvtgctl xml)"));
	ck_assert(!fakesys_exists(fs, "run/gvtg-hook/" U1));

	run("metadata-traversal.xml", "evil", "prepare", "begin", "-");
	expect_refusal("not a valid sysfs name");
	run("metadata-type-traversal.xml", "evil", "prepare", "begin", "-");
	expect_refusal("not a valid sysfs name");
	run("metadata-missing-parent.xml", "win10", "prepare", "begin", "-");
	expect_refusal("mdev parent '0000:00:09.0' (from the domain metadata) is not registered");
	ck_assert(strstr(res.err, "Name a registered parent: 0000:00:02.0"));

	set_config("[defaults]\ntype = i915-GVTg_V5_3\n");
	run("display-off.xml", "win10", "prepare", "begin", "-");
	expect_refusal("parent 0000:00:02.0 has no type 'i915-GVTg_V5_3'");

	set_config("[defaults]\ntpye = i915-GVTg_V5_4\n");
	run("display-off.xml", "win10", "prepare", "begin", "-");
	expect_refusal("line 2: unknown key 'tpye' in [defaults]");

	set_config("[defaults]\ntype = i915-GVTg_V5_4\n");
	fakesys_write(fs, TYPES "i915-GVTg_V5_4/available_instances", "0\n");
	run("display-off.xml", "win10", "prepare", "begin", "-");
	expect_refusal("0000:00:02.0 type i915-GVTg_V5_4 has no instances left: other vGPUs "
		       "use the graphics memory it needs (640 MiB)");
	ck_assert(strstr(res.err, "choose a type that still fits: i915-GVTg_V5_1 (1920x1200, "
				  "1 left), i915-GVTg_V5_2"));

	set_config("[defaults]\ntype = i915-GVTg_V5_4\n");
	fakesys_write(fs, TYPES "i915-GVTg_V5_4/device_api", "vfio-ccw\n");
	run("display-off.xml", "win10", "prepare", "begin", "-");
	expect_refusal("device_api 'vfio-ccw' but the <hostdev> has model='vfio-pci'");
}
END_TEST

START_TEST(no_parent_on_this_host)
{
	struct fakesys *empty = fakesys_new();
	hook_result_free(&res);
	hook_exec(fakesys_root(empty), data_path("display-off.xml"), "win10", "prepare",
		  "begin", "-", &res);
	ck_assert_int_eq(res.status, 1);
	ck_assert(strstr(res.err, "no mdev parent device is registered on this host"));
	ck_assert(strstr(res.err, "i915.enable_gvt=1"));
	fakesys_free(empty);
}
END_TEST

START_TEST(untrusted_input)
{
	run("malformed.xml", "win10", "prepare", "begin", "-");
	expect_refusal("reading the domain XML of 'win10': the XML is not well-formed: line 3: "
		       "the document ends before an element is closed. libvirt passes");
	run("doctype-entity.xml", "win10", "prepare", "begin", "-");
	expect_refusal("<!DOCTYPE>");
	ck_assert_ptr_null(strstr(res.err, "root:")); /* /etc/passwd never read */
	run("bad-uuid.xml", "bad", "prepare", "begin", "-");
	expect_refusal("malformed UUID 'not-a-uuid'");
	run(NULL, "win10", "prepare", "begin", "-");
	expect_refusal("the domain XML is empty");
	hook_result_free(&res);
	hook_exec(fakesys_root(fs), "-closed", "win10", "prepare", "begin", "-", &res);
	expect_refusal("the domain XML is empty");
	hook_exec(fakesys_root(fs), "-closed", "win10", "started", "begin", "-", &res);
	ck_assert_int_eq(res.status, 0);

	/* 9 MiB: refused on prepare, quickly; release end still exits 0 */
	char big[256];
	snprintf(big, sizeof(big), "%s/big.xml", fakesys_root(fs));
	FILE *f = fopen(big, "w");
	fputs("<domain><name>big</name><description>", f);
	for (int i = 0; i < 9 * 1024; i++) {
		char kb[1024];
		memset(kb, 'x', sizeof(kb));
		fwrite(kb, 1, sizeof(kb), f);
	}
	fputs("</description></domain>", f);
	fclose(f);
	hook_result_free(&res);
	hook_exec(fakesys_root(fs), big, "big", "prepare", "begin", "-", &res);
	expect_refusal("larger than 8 MiB");
	ck_assert(res.seconds < 3.0);
	hook_result_free(&res);
	hook_exec(fakesys_root(fs), big, "big", "release", "end", "-", &res);
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "");
	unlink(big);
}
END_TEST

#define DOM_A "aaaaaaaa-0000-4000-8000-00000000000a"
START_TEST(another_domains_vgpu_is_never_touched)
{
	/* Domain A runs with U1; its record says so. */
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
	const char *rec_a = "origin=created\ndomain_name=A\ndomain_uuid=" DOM_A "\n"
			    "parent=0000:00:02.0\ntype=i915-GVTg_V5_4\ntime=1\n";
	fakesys_write(fs, "run/gvtg-hook/" U1, rec_a);
	set_config("[defaults]\ntype = i915-GVTg_V5_4\n");
	/* B asks for the same vGPU: refused, naming A */
	run("display-off.xml", "win10", "prepare", "begin", "-");
	expect_refusal("domain 'A' holds it. Shut 'A' down first");
	/* libvirt then calls release end for B: A keeps its vGPU and record */
	run("display-off.xml", "win10", "release", "end", "failed");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(file(GVT "/" U1 "/remove"), "");
	ck_assert_str_eq(file("run/gvtg-hook/" U1), rec_a);
	/* a vGPU with no record (the admin's): release end leaves it alone too */
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U2);
	run("two-vgpus.xml", "twogpu", "release", "end", "-");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(file(GVT "/" U2 "/remove"), "");
}
END_TEST

START_TEST(blocked_remove_is_bounded)
{
	set_config("[defaults]\ntype = i915-GVTg_V5_4\n[hook]\nremove_timeout = 1\n");
	run("display-off.xml", "win10", "prepare", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
	char p[512];
	snprintf(p, sizeof(p), "%s/" GVT "/" U1 "/remove", fakesys_root(fs));
	unlink(p);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	run("display-off.xml", "win10", "release", "end", "-");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "");
	/* the bound plus a margin for starting the hook (slow under valgrind) */
	double margin = getenv("GVTG_UNDER_VALGRIND") ? 8.0 : 1.5;
	ck_assert_msg(res.seconds >= 0.9 && res.seconds < 1.0 + margin, "took %.2f s",
		      res.seconds);
	ck_assert(strstr(res.err, "still blocked after 1000 ms"));
	ck_assert(strstr(file("run/gvtg-hook/" U1), "remove_pending=yes\n"));
	/* release the child still waiting on the FIFO */
	int fd = open(p, O_RDONLY | O_NONBLOCK);
	usleep(200000);
	char b[4];
	ck_assert_int_eq(read(fd, b, sizeof(b)), 1);
	close(fd);
}
END_TEST

START_TEST(reconnect_always_exits_0)
{
	/* device missing, no record */
	run("display-off.xml", "win10", "reconnect", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "");
	/* broken record */
	fakesys_add_device(fs, "0000:00:02.0", "i915-GVTg_V5_4", U1);
	fakesys_write(fs, "run/gvtg-hook/" U1, "\x01\x02 not a record");
	run("display-off.xml", "win10", "reconnect", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	/* broken configuration, broken XML */
	set_config("[[[");
	run("display-off.xml", "win10", "reconnect", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	run("malformed.xml", "win10", "reconnect", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	/* a running domain's device without a record gets one back, as adopted */
	set_config("");
	fakesys_unlink(fs, "run/gvtg-hook/" U1);
	run("display-off.xml", "win10", "reconnect", "begin", "-");
	ck_assert_int_eq(res.status, 0);
	char *rec = file("run/gvtg-hook/" U1);
	ck_assert_msg(strstr(rec, "origin=adopted\n"), "%s", rec);
	ck_assert(strstr(rec, "domain_uuid=11111111-2222-4333-8444-555555555501\n"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hook");
	TCase *tc = tcase_create("contract");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ignored_operations);
	tcase_add_test(tc, usage);
	tcase_add_test(tc, prepare_creates_and_release_removes);
	tcase_add_test(tc, no_mdev_touches_nothing);
	tcase_add_test(tc, refusals_explain_the_fix);
	tcase_add_test(tc, no_parent_on_this_host);
	tcase_add_test(tc, untrusted_input);
	tcase_add_test(tc, another_domains_vgpu_is_never_touched);
	tcase_add_test(tc, blocked_remove_is_bounded);
	tcase_add_test(tc, reconnect_always_exits_0);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
