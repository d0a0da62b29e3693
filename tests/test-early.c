/* SPDX-License-Identifier: MIT */
/*
 * The executable's own decisions: "no vGPU here" from the raw domain XML, the record
 * scan for release and reconnect, where the core module is found, and --self-test.
 * The black-box cases run copies of the built hook beside a core module that cannot
 * load: a message about it proves that the call went past the early decision, silence
 * proves that it did not.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "early.h"
#include "testutil.h"

#define DOM_UUID "11111111-2222-4333-8444-555555555503"
#define VGPU "4b20d080-1b54-4048-85b3-a6a62d165c01"

static char root[512];
static char hook_copy[PATH_MAX];
static struct hook_result res;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "%s/gvtg-early.XXXXXX", getenv("TMPDIR") ?: "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(root));
	sh("mkdir -p '%s/run/gvtg-hook' '%s/bin' '%s/etc' '%s/usr/local/etc'", root, root,
	   root, root);
	/* a copy of the built hook, with a core module beside it that cannot load */
	const char *hook = getenv("GVTG_HOOK_BUILT");
	ck_assert_ptr_nonnull(hook);
	setenv("GVTG_HOOK", hook, 1);
	snprintf(hook_copy, sizeof(hook_copy), "%s/bin/gvtg-hook", root);
	sh("cp '%s' '%s'", hook, hook_copy);
	put("bin/gvtg-hook-core.so", "not a shared object\n");
	/* and nothing else fit either: a broken configuration everywhere */
	put("etc/gvtg-hook.conf", "[nonsense\n");
	put("usr/local/etc/gvtg-hook.conf", "[nonsense\n");
}

static void teardown(void)
{
	hook_result_free(&res);
	sh("rm -rf '%s'", root);
}

static void run_copy(const char *xml, const char *op, const char *sub)
{
	char in[PATH_MAX];
	snprintf(in, sizeof(in), "%s/in.xml", root);
	FILE *f = fopen(in, "w");
	fputs(xml, f);
	fclose(f);
	setenv("GVTG_HOOK", hook_copy, 1);
	hook_exec(root, in, "dom", op, sub, "-", &res);
	ck_assert_str_eq(res.out, "");
}

static const char plain[] =
	"<!-- SPDX-License-Identifier: MIT -->\n"
	"<domain type='kvm' id='3'>\n  <name>plain &amp; simple</name>\n"
	"  <uuid>" DOM_UUID "</uuid>\n"
	"  <devices>\n    <disk type='file'><source file='/a.qcow2'/></disk>\n"
	"    <hostdev mode='subsystem' type='pci' managed='yes'><source><address "
	"domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>\n"
	"  </devices>\n</domain>\n";

static const char vgpu[] = "<domain type='kvm'>\n  <name>v</name>\n  <uuid>" DOM_UUID
			   "</uuid>\n  <devices>\n    <hostdev mode='subsystem' type='mdev'>"
			   "<source><address uuid='" VGPU "'/></source></hostdev>\n"
			   "  </devices>\n</domain>\n";

static bool nothing(enum hook_op op, const char *xml)
{
	setenv("GVTG_ROOT", root, 1);
	return gvtg_hook_nothing_to_do(op, xml, strlen(xml));
}

START_TEST(prepare_decides_from_the_raw_bytes)
{
	ck_assert(nothing(HOOK_PREPARE, plain));
	ck_assert(!nothing(HOOK_PREPARE, vgpu));
	/* every way a vGPU could hide from a byte scan goes to the parser */
	static const char *const doubt[] = {
		("<domain><name>a</name><devices><hostdev mode='subsystem' type='&#109;dev'/>"
		 "</devices></domain>"),
		"<domain><name>a</name><x a='&#x6d;'/></domain>",
		"<domain><name>a</name><x>&e;</x></domain>",
		"<!DOCTYPE domain [<!ENTITY e 'x'>]><domain><name>a</name></domain>",
		"<?xml version='1.0' encoding='UTF-7'?><domain><name>a</name></domain>",
		"\xef\xbb\xbf<domain><name>a</name></domain>",
		"<domain><name>a</name>",                      /* cut short */
		"<domain><name>a</name></domain><!-- x -->",   /* not how libvirt ends */
		"<other><name>a</name></other>",
		"<domainx><name>a</name></domainx>",
		"",
		"<!-- never closed <domain></domain>",
	};
	for (size_t i = 0; i < sizeof(doubt) / sizeof(doubt[0]); i++)
		ck_assert_msg(!nothing(HOOK_PREPARE, doubt[i]), "%zu: %s", i, doubt[i]);
	/* a NUL, as UTF-16 has in every ASCII character */
	static const char nul[] = "<domain><name>a\0b</name></domain>";
	ck_assert(!gvtg_hook_nothing_to_do(HOOK_PREPARE, nul, sizeof(nul) - 1));
	/* "mdev" anywhere, even in text, is enough to look properly; predefined entities
	 * and comments before the root are fine */
	ck_assert(!nothing(HOOK_PREPARE, "<domain><name>mdev</name></domain>"));
	ck_assert(nothing(HOOK_PREPARE, "<!-- a -->\n<!-- b -->\n<domain>"
					"<name>&lt;&gt;&quot;&apos;</name></domain>\n"));
	/* long documents: the vector loops and the tail after them */
	size_t n = 100000;
	char *big = malloc(n + 64);
	for (size_t k = 0; k < 3; k++) {
		size_t at = k == 0 ? 20 : k == 1 ? n / 2 + 7 : n - 5;
		size_t len = (size_t)sprintf(big, "<domain>");
		memset(big + len, ' ', n);
		memcpy(big + at, "mdev", 4);
		len += n;
		len += (size_t)sprintf(big + len, "</domain>");
		ck_assert_msg(!gvtg_hook_nothing_to_do(HOOK_PREPARE, big, len), "mdev at %zu", at);
		memcpy(big + at, "&#1;", 4);
		ck_assert(!gvtg_hook_nothing_to_do(HOOK_PREPARE, big, len));
		big[at] = '\0';
		ck_assert(!gvtg_hook_nothing_to_do(HOOK_PREPARE, big, len));
		memcpy(big + at, "md  ", 4);
		ck_assert(gvtg_hook_nothing_to_do(HOOK_PREPARE, big, len));
	}
	free(big);
	ck_assert(nothing(HOOK_IGNORED, ""));
}
END_TEST

START_TEST(domain_uuid_only_where_libvirt_writes_it)
{
	char u[37];
	ck_assert(gvtg_hook_raw_domain_uuid(plain, strlen(plain), true, u));
	ck_assert_str_eq(u, DOM_UUID);
	static const char upper[] = "<domain a='>'><name>x</name><uuid>"
				    "11111111-2222-4333-8444-55555555550A</uuid></domain>";
	ck_assert(gvtg_hook_raw_domain_uuid(upper, strlen(upper), true, u));
	ck_assert_str_eq(u, "11111111-2222-4333-8444-55555555550a");
	static const char *const unsure[] = {
		"<domain><uuid>" DOM_UUID "</uuid><name>x</name></domain>",
		"<domain><name>x</name><title>t</title><uuid>" DOM_UUID "</uuid></domain>",
		"<domain><name>x<b/></name><uuid>" DOM_UUID "</uuid></domain>",
		"<domain><name>x</name><uuid> " DOM_UUID "</uuid></domain>",
		"<domain><name>x</name><uuid>" DOM_UUID "0</uuid></domain>",
		"<domain><name>x</name><uuid>11111111-2222-4333-8444-55555555550g</uuid></domain>",
		"<domain/><name>x</name><uuid>" DOM_UUID "</uuid></domain>",
		"<domain><name>x</name><uuid>" DOM_UUID "</uuid>",
	};
	for (size_t i = 0; i < sizeof(unsure) / sizeof(unsure[0]); i++)
		ck_assert_msg(!gvtg_hook_raw_domain_uuid(unsure[i], strlen(unsure[i]), true, u),
			      "%zu", i);
	/* The head of a document cut short (kept from one over the size bound): the same
	 * layout, without its end. */
	static const char head[] = "<domain type='kvm'><name>x</name><uuid>" DOM_UUID
				   "</uuid><devices><hostdev";
	ck_assert(!gvtg_hook_raw_domain_uuid(head, strlen(head), true, u));
	ck_assert(gvtg_hook_raw_domain_uuid(head, strlen(head), false, u));
	ck_assert_str_eq(u, DOM_UUID);
	ck_assert(!gvtg_hook_raw_domain_uuid(unsure[0], strlen(unsure[0]), false, u));
	ck_assert(!gvtg_hook_raw_domain_uuid(head, 40, false, u));
}
END_TEST

START_TEST(records_are_scanned_safely)
{
	ck_assert(!gvtg_hook_records_may_name(root, DOM_UUID));
	put("run/gvtg-hook/lock", "");
	put("run/gvtg-hook/" VGPU, "origin=created\ndomain_uuid=aaaaaaaa-0000-4000-8000-00000000000a\n");
	ck_assert(!gvtg_hook_records_may_name(root, DOM_UUID));
	/* a FIFO, a symlink and a directory are never opened for real, never waited for:
	 * not named like a record, they are not ours... */
	sh("mkfifo '%s/run/gvtg-hook/fifo'", root);
	sh("printf 'domain_uuid=%s\\n' > '%s/elsewhere'", DOM_UUID, root);
	sh("ln -s ../../elsewhere '%s/run/gvtg-hook/link'", root);
	sh("mkdir '%s/run/gvtg-hook/dir'", root);
	ck_assert(!gvtg_hook_records_may_name(root, DOM_UUID));
	/* ...named like one, each is a damaged record, which the core reports */
	static const char *const damaged[] = { "mkfifo", "ln -s ../../elsewhere", "mkdir" };
	for (size_t i = 0; i < 3; i++) {
		sh("%s '%s/run/gvtg-hook/%s'", damaged[i], root,
		   "4b20d080-1b54-4048-85b3-a6a62d165c02");
		ck_assert_msg(gvtg_hook_records_may_name(root, DOM_UUID), "%s", damaged[i]);
		sh("rm -r '%s/run/gvtg-hook/%s'", root, "4b20d080-1b54-4048-85b3-a6a62d165c02");
	}
	/* a record that names the domain, in whatever case and format */
	put("run/gvtg-hook/4b20d080-1b54-4048-85b3-a6a62d165c04",
	    "# a future format\nholder 11111111-2222-4333-8444-555555555503 since 1\n");
	ck_assert(gvtg_hook_records_may_name(root, DOM_UUID));
	sh("rm '%s/run/gvtg-hook/4b20d080-1b54-4048-85b3-a6a62d165c04'", root);
	put("run/gvtg-hook/x", "domain_uuid=11111111-2222-4333-8444-555555555503\n");
	ck_assert(gvtg_hook_records_may_name(root, DOM_UUID));
	sh("rm '%s/run/gvtg-hook/x'", root);
	/* a file too large to be a record: unsure, so yes */
	sh("head -c 70000 /dev/zero > '%s/run/gvtg-hook/big'", root);
	ck_assert(gvtg_hook_records_may_name(root, DOM_UUID));
	sh("rm '%s/run/gvtg-hook/big'", root);
	/* the state directory is a file: unsure */
	sh("rm -rf '%s/run/gvtg-hook' && touch '%s/run/gvtg-hook'", root, root);
	ck_assert(gvtg_hook_records_may_name(root, DOM_UUID));
	sh("rm '%s/run/gvtg-hook'", root);
	ck_assert(!gvtg_hook_records_may_name(root, DOM_UUID));
}
END_TEST

START_TEST(no_vgpu_exits_0_whatever_the_module_config_and_state)
{
	static const char *const ops[][2] = { { "prepare", "begin" },   { "release", "end" },
					      { "reconnect", "begin" }, { "started", "begin" },
					      { "stopped", "end" },     { "migrate", "begin" } };
	/* a lock that is a directory and a FIFO in the state directory */
	sh("mkdir '%s/run/gvtg-hook/lock' && mkfifo '%s/run/gvtg-hook/fifo'", root, root);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		run_copy(plain, ops[i][0], ops[i][1]);
		ck_assert_int_eq(res.status, 0);
		ck_assert_msg(!strcmp(res.err, ""), "%s %s: %s", ops[i][0], ops[i][1], res.err);
		ck_assert(res.seconds < (getenv("GVTG_UNDER_VALGRIND") ? 60.0 : 2.0));
	}
	/* larger than the executable's first buffer: read on the heap, freed again (the
	 * sanitizer and memcheck builds would see a leak) */
	size_t big_len = 200000;
	char *big = malloc(big_len + sizeof(plain) + 64);
	ck_assert_ptr_nonnull(big);
	char *tail = strstr(plain, "  <devices>");
	size_t head = (size_t)(tail - plain);
	memcpy(big, plain, head);
	memcpy(big + head, "  <description>", 15);
	memset(big + head + 15, 'x', big_len);
	strcpy(big + head + 15 + big_len, "</description>\n");
	strcat(big, tail);
	for (size_t i = 0; i < 3; i++) {
		run_copy(big, ops[i][0], ops[i][1]);
		ck_assert_int_eq(res.status, 0);
		ck_assert_str_eq(res.err, "");
	}
	free(big);
	/* a vGPU domain goes on to the module, which does not load: said, and only
	 * prepare fails */
	run_copy(vgpu, "prepare", "begin");
	ck_assert_int_eq(res.status, 1);
	ck_assert_int_eq(count_lines(res.err), 1);
	ck_assert(strstr(res.err, "gvtg-hook-core.so") && strstr(res.err, "--self-test"));
	run_copy(vgpu, "reconnect", "begin");
	ck_assert_int_eq(res.status, 0);
	ck_assert(strstr(res.err, "gvtg-hook-core.so"));
}
END_TEST

START_TEST(release_follows_the_records_not_the_xml)
{
	/* The vGPU was unplugged while the domain ran: the XML no longer lists it, but its
	 * record names the domain, so release must go on to the core. */
	put("run/gvtg-hook/" VGPU,
	    "origin=created\ndomain_name=plain\ndomain_uuid=" DOM_UUID "\n");
	run_copy(plain, "release", "end");
	ck_assert_int_eq(res.status, 0);
	ck_assert_msg(strstr(res.err, "gvtg-hook-core.so"), "release stopped early: '%s'",
		      res.err);
	run_copy(plain, "reconnect", "begin");
	ck_assert(strstr(res.err, "gvtg-hook-core.so"));
	/* prepare has nothing to create, records or not */
	run_copy(plain, "prepare", "begin");
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.err, "");
	/* a damaged record (a FIFO in its place) goes to the core, which reports it */
	sh("rm '%s/run/gvtg-hook/" VGPU "' && mkfifo '%s/run/gvtg-hook/" VGPU "'", root, root);
	run_copy(plain, "release", "end");
	ck_assert_int_eq(res.status, 0);
	ck_assert(strstr(res.err, "gvtg-hook-core.so"));
	sh("rm '%s/run/gvtg-hook/" VGPU "'", root);
	/* another domain's record changes nothing */
	put("run/gvtg-hook/" VGPU, "origin=created\ndomain_uuid=aaaaaaaa-0000-4000-8000-00000000000a\n");
	run_copy(plain, "release", "end");
	ck_assert_str_eq(res.err, "");
}
END_TEST

START_TEST(self_test)
{
	char *argv[] = { "gvtg-hook", "--self-test", NULL };
	/* the built hook: its module loads and parses */
	hook_exec_argv(root, NULL, argv, &res);
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.out, "");
	ck_assert_str_eq(res.err, "");
	/* a module that cannot load: one line, the cause and the fix */
	setenv("GVTG_HOOK", hook_copy, 1);
	hook_exec_argv(root, NULL, argv, &res);
	ck_assert_int_eq(res.status, 1);
	ck_assert_int_eq(count_lines(res.err), 1);
	ck_assert(strstr(res.err, "self-test") && strstr(res.err, "Reinstall"));
	ck_assert(strstr(res.err, hook_copy) || strstr(res.err, "bin/gvtg-hook-core.so"));
	/* no module beside the copy: the install directory is tried next, inside the test
	 * root, so an install on this machine answers nothing */
	char mod[PATH_MAX], want[PATH_MAX + 64];
	snprintf(mod, sizeof(mod), "%s/bin/gvtg-hook-core.so", root);
	unlink(mod);
	hook_exec_argv(root, NULL, argv, &res);
	ck_assert_int_eq(res.status, 1);
	snprintf(want, sizeof(want), "%s" GVTG_HOOK_DIR "/gvtg-hook-core.so: cannot open", root);
	ck_assert_msg(strstr(res.err, want), "%s", res.err);
	/* the module of its build there: found */
	const char *built = getenv("GVTG_HOOK_BUILT");
	sh("mkdir -p '%s" GVTG_HOOK_DIR "' && cp \"$(dirname '%s')/gvtg-hook-core.so\" '%s" GVTG_HOOK_DIR "/'",
	   root, built, root);
	hook_exec_argv(root, NULL, argv, &res);
	ck_assert_msg(res.status == 0, "%s", res.err);
	ck_assert_str_eq(res.err, "");
}
END_TEST

int main(void)
{
	const char *hook = getenv("GVTG_HOOK");
	if (hook)
		setenv("GVTG_HOOK_BUILT", hook, 1);
	Suite *s = suite_create("early");
	TCase *tc = tcase_create("early");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prepare_decides_from_the_raw_bytes);
	tcase_add_test(tc, domain_uuid_only_where_libvirt_writes_it);
	tcase_add_test(tc, records_are_scanned_safely);
	tcase_add_test(tc, no_vgpu_exits_0_whatever_the_module_config_and_state);
	tcase_add_test(tc, release_follows_the_records_not_the_xml);
	tcase_add_test(tc, self_test);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
