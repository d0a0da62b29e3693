/* SPDX-License-Identifier: MIT */
/*
 * Definitions (lib/mdevctl.c) on fake roots with an etc/mdevctl.d tree: the JSON format,
 * finding and listing them, what outranks what, and starting and stopping one with and
 * without mdevctl (a stub that records its argv and open fds and acts on the fake root).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg.h"
#include "testutil.h"

#define U1 "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define U2 "4b20d080-1b54-4048-85b3-a6a62d165c02"
#define GPU "0000:00:02.0"
#define DEVDIR "sys/devices/pci0000:00/" GPU "/" U1

static struct fakesys *fs;
static struct gvtg_ctx *ctx;

static void setup(void)
{
	fs = fakesys_new();
	fakesys_gvt_host(fs);
	ck_assert_int_eq(gvtg_ctx_new(fakesys_root(fs), &ctx), 0);
	unsetenv("GVTG_MDEVCTL");
}

static void teardown(void)
{
	gvtg_ctx_free(ctx);
	fakesys_free(fs);
}

static void define(const char *parent, const char *uuid, const char *json)
{
	char p[256];
	snprintf(p, sizeof(p), "etc/mdevctl.d/%s/%s", parent, uuid);
	ck_assert_int_eq(fakesys_write(fs, p, json), 0);
}

static int parse(const char *json, struct gvtg_definition *d)
{
	memset(d, 0, sizeof(*d));
	return gvtg_definition_parse(json, strlen(json), d);
}

/* ---- the format ------------------------------------------------------------------ */

START_TEST(parse_mdevctl_output)
{
	/* What `mdevctl define` and `virsh nodedev-define` write (pretty-printed). */
	struct gvtg_definition d;
	ck_assert_int_eq(parse("{\n  \"mdev_type\": \"i915-GVTg_V5_4\",\n  \"start\": \"auto\",\n"
			       "  \"attrs\": [\n    {\n      \"weight\": \"4\"\n    },\n"
			       "    {\"alpha\": 12},\n    {\"x\": \"a\\\"b\\u00e9\\ud83d\\ude00\"}\n"
			       "  ]\n}\n",
			       &d),
			 0);
	ck_assert_str_eq(d.type, "i915-GVTg_V5_4");
	ck_assert(d.autostart);
	ck_assert_str_eq(gvtg_definition_origin(&d), "mdevctl auto");
	ck_assert_uint_eq(d.n_attrs, 3);
	ck_assert_str_eq(d.attrs[0].name, "weight");
	ck_assert_str_eq(d.attrs[0].value, "4");
	ck_assert_str_eq(d.attrs[1].name, "alpha");
	ck_assert_str_eq(d.attrs[1].value, "12");
	ck_assert_str_eq(d.attrs[2].value, "a\"b\xc3\xa9\xf0\x9f\x98\x80");
	gvtg_definition_clear(&d);

	ck_assert_int_eq(parse("{\"start\":\"manual\",\"mdev_type\":\"mtty-1\",\"attrs\":[],"
			       "\"extra\":{\"a\":[1,2.5e3,true,null]}}",
			       &d),
			 0);
	ck_assert(!d.autostart);
	ck_assert_str_eq(gvtg_definition_origin(&d), "mdevctl manual");
	ck_assert_uint_eq(d.n_attrs, 0);
	gvtg_definition_clear(&d);
	ck_assert_int_eq(parse("{\"start\":\"manual\",\"mdev_type\":\"mtty-1\",\"attrs\":null}",
			       &d),
			 0);
	gvtg_definition_clear(&d);
}
END_TEST

START_TEST(parse_refuses)
{
	static const struct {
		const char *json;
		const char *error;
	} cases[] = {
		{ "", "line 1: a definition is a JSON object" },
		{ "[]", "a definition is a JSON object" },
		{ "{\"start\":\"auto\"}", "\"mdev_type\" is missing" },
		{ "{\"mdev_type\":\"t\"}", "\"start\" is missing" },
		{ "{\"mdev_type\":\"t\",\"start\":\"always\"}", "must be \"auto\" or \"manual\"" },
		{ "{\"mdev_type\":\"../t\",\"start\":\"auto\"}", "not a valid type name" },
		{ "{\"mdev_type\":\"t\",\"mdev_type\":\"u\",\"start\":\"auto\"}", "appears twice" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\"} x", "text after the object" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\",}", "a string was expected" },
		{ "{\"mdev_type\":\"t\",\n\"start\":\"auto\",\n\"attrs\":{}}", "line 3: \"attrs\" must be a list" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":\"1\",\"b\":\"2\"}]}",
		  "exactly one member" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":true}]}",
		  "must be a string or a number" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"../a\":\"1\"}]}",
		  "not an attribute of the device" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"remove\":\"1\"}]}",
		  "not an attribute of the device" },
		{ "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[{\"a\":01}]}",
		  "exactly one member" },
		{ "{\"mdev_type\":\"t\\q\",\"start\":\"auto\"}", "bad escape" },
		{ "{\"mdev_type\":\"t\\u0000\",\"start\":\"auto\"}", "\\u0000" },
		{ "{\"mdev_type\":\"t\\ud800\",\"start\":\"auto\"}", "unpaired surrogate" },
		{ "{\"mdev_type\":\"t\xff\",\"start\":\"auto\"}", "invalid UTF-8" },
		{ "{\"mdev_type\":\"t\xc0\xaf\",\"start\":\"auto\"}", "invalid UTF-8" },
		{ "{\"mdev_type\":\"t\n\",\"start\":\"auto\"}", "control character" },
		{ "{\"mdev_type\":\"t", "unterminated string" },
		{ "{\"x\":[[[[[[[[[1]]]]]]]]],\"mdev_type\":\"t\",\"start\":\"auto\"}",
		  "nested more than 8 deep" },
		{ "{\"x\":-,\"mdev_type\":\"t\",\"start\":\"auto\"}", "a number was expected" },
		{ "{\"x\":1.,\"mdev_type\":\"t\",\"start\":\"auto\"}", "a digit must follow '.'" },
		{ "{\"x\":tru,\"mdev_type\":\"t\",\"start\":\"auto\"}", "unexpected character" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gvtg_definition d;
		int r = parse(cases[i].json, &d);
		ck_assert_msg(r == -EBADMSG, "case %zu: %d", i, r);
		ck_assert_msg(strstr(d.error, cases[i].error), "case %zu: '%s'", i, d.error);
		ck_assert_ptr_null(d.type);
		ck_assert_ptr_null(d.attrs);
	}

	/* At most GVTG_DEFINITION_ATTRS_MAX attributes. */
	char big[8192] = "{\"mdev_type\":\"t\",\"start\":\"auto\",\"attrs\":[";
	for (int i = 0; i <= GVTG_DEFINITION_ATTRS_MAX; i++)
		strcat(big, i ? ",{\"a\":\"1\"}" : "{\"a\":\"1\"}");
	strcat(big, "]}");
	struct gvtg_definition d;
	ck_assert_int_eq(parse(big, &d), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(d.error, "more than 64 attributes"));
}
END_TEST

/* ---- finding and listing ---------------------------------------------------------- */

START_TEST(find_one)
{
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), -ENOENT);
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_8\",\"start\":\"manual\"}");
	define(GPU, U2, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"auto\"}");
	/* mdevctl's own directory and names that are no parent are not parents. */
	ck_assert_int_eq(fakesys_write(fs, "etc/mdevctl.d/scripts.d/callouts/" U1, "x"), 0);
	ck_assert_int_eq(fakesys_write(fs, "etc/mdevctl.d/.hidden/" U1, "x"), 0);
	ck_assert_int_eq(gvtg_definition_find(ctx, "4B20D080-1B54-4048-85B3-A6A62D165C01", &d), 0);
	ck_assert_str_eq(d.uuid, U1);
	ck_assert_str_eq(d.parent, GPU);
	ck_assert_str_eq(d.type, "i915-GVTg_V5_8");
	ck_assert_str_eq(d.path, "etc/mdevctl.d/" GPU "/" U1);
	ck_assert_ptr_null(d.other_parent);
	gvtg_definition_clear(&d);
	ck_assert_int_eq(gvtg_definition_find(ctx, "not-a-uuid", &d), -EINVAL);
}
END_TEST

START_TEST(find_two_parents)
{
	struct gvtg_definition d;
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_8\",\"start\":\"manual\"}");
	define("mtty", U1, "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\"}");
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), -ENOTUNIQ);
	ck_assert_str_eq(d.parent, GPU);
	ck_assert_str_eq(d.other_parent, "mtty");
	gvtg_definition_clear(&d);
}
END_TEST

START_TEST(find_damaged)
{
	struct gvtg_definition d;
	static const char *const path = "etc/mdevctl.d/" GPU "/" U1;
	define(GPU, U1, "{\"mdev_type\": 5}");
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), -EBADMSG);
	ck_assert_str_eq(d.path, path);
	ck_assert_str_eq(d.error, "line 1: a string was expected");
	gvtg_definition_clear(&d);

	/* A symlink, a FIFO (must not block), a directory, a file too large. */
	char full[512];
	snprintf(full, sizeof(full), "%s/%s", fakesys_root(fs), path);
	ck_assert_int_eq(unlink(full), 0);
	ck_assert_int_eq(symlink("/etc/passwd", full), 0);
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), -EBADMSG);
	ck_assert_str_eq(d.error, "a symbolic link, not a file");
	gvtg_definition_clear(&d);
	ck_assert_int_eq(unlink(full), 0);
	ck_assert_int_eq(mkfifo(full, 0600), 0);
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), -EBADMSG);
	ck_assert_str_eq(d.error, "not a regular file");
	gvtg_definition_clear(&d);
	ck_assert_int_eq(unlink(full), 0);
	char *big = malloc(GVTG_DEFINITION_MAX + 2);
	memset(big, ' ', GVTG_DEFINITION_MAX + 1);
	big[GVTG_DEFINITION_MAX + 1] = '\0';
	ck_assert_int_eq(fakesys_write(fs, path, big), 0);
	free(big);
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), -EBADMSG);
	ck_assert_str_eq(d.error, "larger than 64 KiB");
	gvtg_definition_clear(&d);
}
END_TEST

START_TEST(list_all)
{
	struct gvtg_definition *v;
	size_t n;
	ck_assert_int_eq(gvtg_definitions_list(ctx, &v, &n), 0); /* no etc/mdevctl.d */
	ck_assert_uint_eq(n, 0);
	gvtg_definitions_free(v, n);
	define("mtty", U2, "{\"mdev_type\":\"mtty-2\",\"start\":\"auto\"}");
	define(GPU, U2, "{\"mdev_type\":\"i915-GVTg_V5_8\",\"start\":\"manual\"}");
	define(GPU, U1, "not json");
	define(GPU, "README", "{}");
	ck_assert_int_eq(gvtg_definitions_list(ctx, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].uuid, U1);
	ck_assert_ptr_null(v[0].type);
	ck_assert_ptr_nonnull(strstr(v[0].error, "a definition is a JSON object"));
	ck_assert_str_eq(v[1].parent, GPU);
	ck_assert_str_eq(v[1].type, "i915-GVTg_V5_8");
	ck_assert_str_eq(v[2].parent, "mtty");
	ck_assert_str_eq(v[2].path, "etc/mdevctl.d/mtty/" U2);
	ck_assert(v[2].autostart);
	gvtg_definitions_free(v, n);
}
END_TEST

/* ---- what outranks what ------------------------------------------------------------ */

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

START_TEST(precedence)
{
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_8\",\"start\":\"manual\"}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	struct gvtg_definition_conflict k;

	/* [defaults] and the automatic choice never contradict a definition. */
	struct gvtg_config *c = cfg("[defaults]\nparent = mtty\ntype = i915-GVTg_V5_1\n");
	ck_assert_int_eq(gvtg_definition_check(&d, NULL, c, &k), 0);
	ck_assert_int_eq(gvtg_definition_check(&d, NULL, NULL, &k), 0);
	gvtg_config_free(c);

	/* Saying the same is no conflict; saying nothing neither. */
	struct gvtg_domain *m = dom_meta(GPU, "i915-GVTg_V5_8");
	c = cfg("[" U1 "]\ntype = i915-GVTg_V5_8\nboot = yes\n");
	ck_assert_int_eq(gvtg_definition_check(&d, m, c, &k), 0);
	gvtg_domain_free(m);
	gvtg_config_free(c);

	/* The metadata's type. */
	m = dom_meta(NULL, "i915-GVTg_V5_4");
	ck_assert_int_eq(gvtg_definition_check(&d, m, NULL, &k), -EEXIST);
	ck_assert_int_eq(k.source, GVTG_SOURCE_METADATA);
	ck_assert_str_eq(k.what, "type");
	ck_assert_str_eq(k.theirs, "i915-GVTg_V5_4");
	ck_assert_str_eq(k.ours, "i915-GVTg_V5_8");
	gvtg_domain_free(m);

	/* The [uuid] section's parent; the metadata is checked first. */
	c = cfg("[" U1 "]\nparent = mtty\n");
	ck_assert_int_eq(gvtg_definition_check(&d, NULL, c, &k), -EEXIST);
	ck_assert_int_eq(k.source, GVTG_SOURCE_CONFIG_DEVICE);
	ck_assert_str_eq(k.what, "parent");
	ck_assert_str_eq(k.theirs, "mtty");
	m = dom_meta("other", NULL);
	ck_assert_int_eq(gvtg_definition_check(&d, m, c, &k), -EEXIST);
	ck_assert_int_eq(k.source, GVTG_SOURCE_METADATA);
	ck_assert_str_eq(k.theirs, "other");
	gvtg_domain_free(m);
	gvtg_config_free(c);
	gvtg_definition_clear(&d);
}
END_TEST

/* ---- which mdevctl ------------------------------------------------------------------ */

START_TEST(mdevctl_rule)
{
	char *p = NULL;
	/* A test root never runs the host's mdevctl, installed or not. */
	ck_assert_int_eq(gvtg_mdevctl_find(ctx, &p), 0);
	setenv("GVTG_MDEVCTL", "", 1);
	ck_assert_int_eq(gvtg_mdevctl_find(ctx, &p), 0);
	setenv("GVTG_MDEVCTL", "mdevctl", 1);
	ck_assert_int_eq(gvtg_mdevctl_find(ctx, &p), -EINVAL);
	setenv("GVTG_MDEVCTL", "/x/mdevctl", 1);
	ck_assert_int_eq(gvtg_mdevctl_find(ctx, &p), 1);
	ck_assert_str_eq(p, "/x/mdevctl");
	free(p);
	p = NULL;
	/* Under "/", GVTG_MDEVCTL="" is how to keep mdevctl out. */
	struct gvtg_ctx *host;
	ck_assert_int_eq(gvtg_ctx_new("/", &host), 0);
	setenv("GVTG_MDEVCTL", "", 1);
	ck_assert_int_eq(gvtg_mdevctl_find(host, &p), 0);
	gvtg_ctx_free(host);
}
END_TEST

/* ---- start and stop without mdevctl: sysfs ------------------------------------------ */

static void attrs_in_devdir(void)
{
	/* The device's own attributes, ready before the kernel makes the device. */
	ck_assert_int_eq(fakesys_write(fs, DEVDIR "/alpha", ""), 0);
	ck_assert_int_eq(fakesys_write(fs, DEVDIR "/beta", ""), 0);
}

START_TEST(start_sysfs_attrs_in_order)
{
	fakesys_kernel_attach(fs);
	attrs_in_devdir();
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\",\"attrs\":"
			"[{\"beta\":\"2\"},{\"alpha\":\"x y\"},{\"beta\":3}]}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	char detail[256];
	int r = gvtg_definition_start(ctx, &d, 2000, detail, sizeof(detail));
	ck_assert_msg(r == 0, "%d %s", r, detail);
	ck_assert_str_eq(fakesys_writes(fs),
			 "sys/class/mdev_bus/" GPU "/mdev_supported_types/i915-GVTg_V5_4/create " U1
			 "\nsys/bus/mdev/devices/" U1 "/beta 2\n"
			 "sys/bus/mdev/devices/" U1 "/alpha x y\n"
			 "sys/bus/mdev/devices/" U1 "/beta 3\n");
	char *v = fakesys_read(fs, DEVDIR "/alpha");
	ck_assert_str_eq(v, "x y");
	free(v);
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" U1));

	ck_assert_int_eq(gvtg_definition_stop(ctx, U1, 2000, detail, sizeof(detail)), 0);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	ck_assert(fakesys_exists(fs, "etc/mdevctl.d/" GPU "/" U1)); /* the definition stays */
	ck_assert_int_eq(gvtg_definition_stop(ctx, U1, 2000, detail, sizeof(detail)), -ENOENT);
	gvtg_definition_clear(&d);
}
END_TEST

START_TEST(start_sysfs_attr_refused)
{
	fakesys_kernel_attach(fs);
	attrs_in_devdir();
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\",\"attrs\":"
			"[{\"alpha\":\"1\"},{\"beta\":\"bad\"},{\"alpha\":\"2\"}]}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	char *before = fakesys_read(fs, "sys/devices/pci0000:00/" GPU
					"/mdev_supported_types/i915-GVTg_V5_4/available_instances");
	fakesys_fail(fs, "/beta", 1, -EINVAL);
	char detail[256];
	ck_assert_int_eq(gvtg_definition_start(ctx, &d, 2000, detail, sizeof(detail)), -EINVAL);
	ck_assert_str_eq(detail, "writing 'bad' to its attribute beta");
	/* Rolled back: the device is gone, its instance given back, alpha=2 never written. */
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	ck_assert_ptr_null(strstr(fakesys_writes(fs), "alpha 2"));
	char *after = fakesys_read(fs, "sys/devices/pci0000:00/" GPU
				       "/mdev_supported_types/i915-GVTg_V5_4/available_instances");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	/* A missing attribute is refused the same way. */
	fakesys_fail(fs, NULL, 0, 0);
	gvtg_definition_clear(&d);
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\",\"attrs\":"
			"[{\"gamma\":\"1\"}]}");
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	ck_assert_int_eq(gvtg_definition_start(ctx, &d, 2000, detail, sizeof(detail)), -ENOENT);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	gvtg_definition_clear(&d);
}
END_TEST

/* ---- start and stop through mdevctl: a stub ----------------------------------------- */

static void install_stub(void)
{
	mdevctl_stub(fakesys_root(fs));
}

static void stub_mode(const char *mode)
{
	ck_assert_int_eq(fakesys_write(fs, "mode", mode), 0);
}

static bool alive(const char *pidfile)
{
	char *s = fakesys_read(fs, pidfile);
	if (!s)
		return false; /* killed before it started anything (slow under valgrind) */
	char stat[64], buf[256] = "";
	snprintf(stat, sizeof(stat), "/proc/%d/stat", atoi(s));
	free(s);
	/* Dead, or a zombie that nobody reaped yet (our reaper may be a container's). */
	FILE *f = fopen(stat, "r");
	if (!f)
		return false;
	bool ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	char *e = strrchr(buf, ')');
	return ok && e && e[1] == ' ' && e[2] != 'Z';
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(start_stub_argv_and_fds)
{
	fakesys_kernel_attach(fs);
	install_stub();
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\",\"attrs\":"
			"[{\"alpha\":\"1\"}]}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	/* Neither the lock nor a descriptor someone forgot to mark close-on-exec reaches it. */
	int lock = gvtg_lock_acquire(ctx, 1000);
	ck_assert_int_ge(lock, 0);
	int leaked = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(leaked, 3);
	char detail[256];
	ck_assert_int_eq(gvtg_definition_start(ctx, &d, 5000, detail, sizeof(detail)), 0);
	char *log = fakesys_read(fs, "stub.log");
	ck_assert_str_eq(log, "start --uuid " U1 " --parent " GPU "\n");
	free(log);
	char *fds = fakesys_read(fs, "stub.fds");
	ck_assert_str_eq(fds, "0 1 2 3 "); /* 3: ls's own directory */
	free(fds);
	/* mdevctl writes the attrs, not us; and no create of ours either. */
	ck_assert_str_eq(fakesys_writes(fs), "");
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" U1));

	ck_assert_int_eq(gvtg_definition_stop(ctx, U1, 5000, detail, sizeof(detail)), 0);
	log = fakesys_read(fs, "stub.log");
	ck_assert_str_eq(log, "start --uuid " U1 " --parent " GPU "\nstop --uuid " U1 "\n");
	free(log);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	close(leaked);
	gvtg_lock_release(lock);
	gvtg_definition_clear(&d);
}
END_TEST

START_TEST(start_stub_fails)
{
	fakesys_kernel_attach(fs);
	install_stub();
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\"}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	char detail[256];
	stub_mode("fail");
	ck_assert_int_eq(gvtg_definition_start(ctx, &d, 5000, detail, sizeof(detail)), -EPROTO);
	ck_assert_str_eq(detail, "Error: No available instances of i915-GVTg_V5_4 on " GPU);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));

	/* A callout that fails after the device exists: we take it away again. */
	stub_mode("fail-after-create");
	ck_assert_int_eq(gvtg_definition_start(ctx, &d, 5000, detail, sizeof(detail)), -EPROTO);
	ck_assert_str_eq(detail, "Error: callout script failed");
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	gvtg_definition_clear(&d);
}
END_TEST

START_TEST(start_stub_hangs)
{
	fakesys_kernel_attach(fs);
	install_stub();
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\"}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	char detail[256];
	static const char *const modes[] = { "hang", "hang-after-create" };
	for (size_t i = 0; i < 2; i++) {
		stub_mode(modes[i]);
		double t0 = now();
		fakesys_unlink(fs, "sleep.pid");
		ck_assert_int_eq(gvtg_definition_start(ctx, &d, 500, detail, sizeof(detail)),
				 -ETIMEDOUT);
		double took = now() - t0;
		ck_assert_msg(took >= 0.45 && took < 2.5, "took %.2f s", took);
		/* Killed with its whole process group (the sleep it started too). */
		usleep(100000);
		ck_assert(!alive("sleep.pid"));
		ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	}
	gvtg_definition_clear(&d);

	/* A stop that hangs: bounded too, killed with its callouts, and the idle vGPU is
	 * removed through sysfs all the same (it used to stay, active, for good). */
	stub_mode("");
	ck_assert_int_eq(fakesys_add_device(fs, GPU, "i915-GVTg_V5_4", U1), 0);
	stub_mode("stop-hang");
	double t0 = now();
	fakesys_unlink(fs, "sleep.pid");
	ck_assert_int_eq(gvtg_definition_stop(ctx, U1, 300, detail, sizeof(detail)), 0);
	ck_assert(now() - t0 < 2.0);
	ck_assert_msg(strstr(detail, "did not finish within 300 ms and was killed"), "%s", detail);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	usleep(100000);
	ck_assert(!alive("sleep.pid"));
}
END_TEST

START_TEST(start_stub_missing)
{
	setenv("GVTG_MDEVCTL", "/nonexistent/mdevctl", 1);
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\"}");
	struct gvtg_definition d;
	ck_assert_int_eq(gvtg_definition_find(ctx, U1, &d), 0);
	char detail[256];
	ck_assert_int_eq(gvtg_definition_start(ctx, &d, 2000, detail, sizeof(detail)), -ENOENT);
	ck_assert_str_eq(detail, "cannot run /nonexistent/mdevctl");
	gvtg_definition_clear(&d);
}
END_TEST

/* ---- gvtgctl --------------------------------------------------------------------- */

struct ctl_result {
	int rc;
	char *out, *err;
};

static void ctl_result_clear(struct ctl_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* gvtgctl --root <tree> --config /etc/t.conf ARGS...: exit status, stdout, stderr. */
static void ctl_run(struct ctl_result *res, const char *arg, ...)
{
	const char *prog = getenv("GVTGCTL");
	ck_assert_msg(prog, "GVTGCTL is not set: run the tests through meson");
	const char *argv[32] = { prog, "--root", fakesys_root(fs), "--config", "/etc/t.conf" };
	size_t argc = 5;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	char out[512], err[512];
	snprintf(out, sizeof(out), "%s/ctl.out", fakesys_root(fs));
	snprintf(err, sizeof(err), "%s/ctl.err", fakesys_root(fs));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int n = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || n < 0)
			_exit(126);
		dup2(n, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(prog, (char **)argv);
		_exit(127);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	res->rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	res->out = fakesys_read(fs, "ctl.out");
	res->err = fakesys_read(fs, "ctl.err");
	ck_assert_ptr_nonnull(res->out);
	ck_assert_ptr_nonnull(res->err);
}

static void two_definitions(void)
{
	ck_assert_int_eq(fakesys_write(fs, "etc/t.conf", "[defaults]\ntype = i915-GVTg_V5_8\n"),
			 0);
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"auto\",\"attrs\":[]}");
	define("mtty", U2, "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\"}");
	ck_assert_int_eq(fakesys_add_device(fs, GPU, "i915-GVTg_V5_4", U1), 0);
}

START_TEST(ctl_list_defined)
{
	struct ctl_result r = { 0 };
	two_definitions();
	ctl_run(&r, "list", "--defined", NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out,
		"UUID                                 PARENT       TYPE           ORIGIN         ACTIVE FILE\n"
		U1 " " GPU " i915-GVTg_V5_4 mdevctl auto   yes    /etc/mdevctl.d/" GPU "/" U1 "\n"
		U2 " mtty         mtty-1         mdevctl manual no     /etc/mdevctl.d/mtty/" U2 "\n");
	ck_assert_str_eq(r.err, "");
	ctl_result_clear(&r);

	ctl_run(&r, "list", "--defined", "--json", NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"uuid\": \"" U2 "\",\n         \"parent\": \"mtty\",\n"
					    "         \"type\": \"mtty-1\",\n"
					    "         \"origin\": \"mdevctl manual\",\n"
					    "         \"active\": false,\n"
					    "         \"file\": \"/etc/mdevctl.d/mtty/" U2 "\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"origin\": \"mdevctl auto\",\n         \"active\": true,"));
	ctl_result_clear(&r);

	/* Plain list: the definitions come after the vGPUs, in the same JSON object. */
	ctl_run(&r, "list", "--json", NULL);
	ck_assert_int_eq(r.rc, 0);
	char *v = strstr(r.out, "\"vgpus\": [");
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(strstr(v, "\"definitions\": ["));
	ctl_result_clear(&r);

	/* A damaged one is listed and named. */
	define(GPU, U2, "{\"mdev_type\":");
	ctl_run(&r, "list", "--defined", NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, U2 " " GPU " -              damaged"));
	ck_assert_str_eq(r.err, "gvtgctl: definition /etc/mdevctl.d/" GPU "/" U2 " is damaged: "
				"line 1: a string was expected. Fix the file, or remove it with "
				"'mdevctl undefine --uuid " U2 " --parent " GPU "'\n");
	ctl_result_clear(&r);
	ctl_run(&r, "types", "--defined", NULL);
	ck_assert_int_eq(r.rc, 2);
	ctl_result_clear(&r);
}
END_TEST

START_TEST(ctl_create_follows_definition)
{
	struct ctl_result r = { 0 };
	two_definitions();
	ck_assert_int_eq(fakesys_remove_device(fs, U1), 0);
	/* Another type on the command line: refused, naming the file. */
	ctl_run(&r, "create", "--type", "i915-GVTg_V5_8", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.err, "gvtgctl: creating vGPU " U1 ": the command line asks for type "
				"i915-GVTg_V5_8, but its definition /etc/mdevctl.d/" GPU "/" U1
				" gives " GPU " type i915-GVTg_V5_4. Say it in one place: change the "
				"command line or the definition ('mdevctl modify --uuid " U1 "')\n");
	ctl_result_clear(&r);
	ctl_run(&r, "create", "--parent", "mtty", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "the command line asks for parent mtty, but its "
					    "definition /etc/mdevctl.d/" GPU "/" U1 " gives " GPU));
	ctl_result_clear(&r);
	char *create = fakesys_read(fs, "sys/devices/pci0000:00/" GPU
					"/mdev_supported_types/i915-GVTg_V5_8/create");
	ck_assert_str_eq(create, "");
	free(create);

	/* No type given: the definition's, not the configuration's [defaults]. */
	ctl_run(&r, "create", U1, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out, U1 "\n");
	create = fakesys_read(fs, "sys/devices/pci0000:00/" GPU
				  "/mdev_supported_types/i915-GVTg_V5_4/create");
	ck_assert_str_eq(create, U1);
	free(create);
	struct gvtg_record rec;
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &rec), 0);
	ck_assert_int_eq(rec.origin, GVTG_ORIGIN_MANUAL);
	ck_assert_str_eq(rec.type, "i915-GVTg_V5_4");
	gvtg_record_clear(&rec);
	ctl_result_clear(&r);

	/* Through mdevctl when there is one: it runs with the definition's parent. */
	ck_assert_int_eq(fakesys_add_parent(fs, "mtty"), 0);
	ck_assert_int_eq(fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial", "vfio-pci",
					  NULL, 24),
			 0);
	install_stub();
	ctl_run(&r, "create", U2, NULL);
	ck_assert_int_eq(r.rc, 0);
	char *log = fakesys_read(fs, "stub.log");
	ck_assert_str_eq(log, "start --uuid " U2 " --parent mtty\n");
	free(log);
	ck_assert_int_eq(gvtg_record_read(ctx, U2, &rec), 0);
	ck_assert_int_eq(rec.origin, GVTG_ORIGIN_MANUAL);
	ck_assert_str_eq(rec.parent, "mtty");
	gvtg_record_clear(&rec);
	ctl_result_clear(&r);

	/* mdevctl refuses: nothing made, nothing recorded, its reason in our line. */
	ck_assert_int_eq(gvtg_record_delete(ctx, U1), 0);
	stub_mode("fail");
	ctl_run(&r, "create", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.err, "gvtgctl: creating vGPU " U1 ": starting its definition "
				"/etc/mdevctl.d/" GPU "/" U1 " (" GPU " type i915-GVTg_V5_4) failed: "
				"Error: No available instances of i915-GVTg_V5_4 on " GPU ". Check "
				"the definition ('mdevctl list --defined --uuid " U1 "') against "
				"'gvtgctl types " GPU "'\n");
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &rec), -ENOENT);
	ck_assert(!fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	ctl_result_clear(&r);
}
END_TEST

START_TEST(ctl_create_two_parents)
{
	struct ctl_result r = { 0 };
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"auto\"}");
	define("mtty", U1, "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\"}");
	ctl_run(&r, "create", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.err, "gvtgctl: creating vGPU " U1 ": it is defined under two parents: "
				"/etc/mdevctl.d/" GPU "/" U1 " and /etc/mdevctl.d/mtty/" U1
				". Undefine one: 'mdevctl undefine --uuid " U1 " --parent PARENT'\n");
	ctl_result_clear(&r);
}
END_TEST

START_TEST(ctl_remove_auto_definition)
{
	struct ctl_result r = { 0 };
	two_definitions();
	ctl_run(&r, "remove", U1, NULL);
	ck_assert_int_eq(r.rc, 0);
	char *rm = fakesys_read(fs, "sys/devices/pci0000:00/" GPU "/" U1 "/remove");
	ck_assert_str_eq(rm, "1");
	free(rm);
	ck_assert_str_eq(r.err, "gvtgctl: vGPU " U1 " is defined with start \"auto\" in "
				"/etc/mdevctl.d/" GPU "/" U1 ": it comes back when " GPU " registers "
				"again (at the next boot). 'mdevctl undefine --uuid " U1 "' removes "
				"the definition\n");
	ctl_result_clear(&r);
}
END_TEST

static const char *check_line(const char *out, const char *start)
{
	const char *p = strstr(out, start);
	ck_assert_msg(p, "no line with '%s' in:\n%s", start, out);
	return p;
}

START_TEST(ctl_check_neighbours)
{
	struct ctl_result r = { 0 };
	/* Debian 12: the rule runs /usr/sbin/mdevctl, the package has /usr/bin/mdevctl. */
	ck_assert_int_eq(
		fakesys_write(fs, "lib/udev/rules.d/60-mdevctl.rules",
			      "# When registered with mdev, try to start any persistent devices.\n"
			      "ACTION==\"change\", ENV{MDEV_STATE}==\"registered\", TEST==\"/etc/"
			      "mdevctl.d/$kernel\", RUN+=\"/bin/sh -c '{ /usr/sbin/mdevctl "
			      "start-parent-mdevs %k 2>&3 | logger -t mdevctl; } 3>&1 1>&2 | logger "
			      "-t mdevctl -p 2'\"\n"),
		0);
	ck_assert_int_eq(fakesys_write(fs, "usr/bin/mdevctl", "#!/bin/sh\n"), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/usr/bin/mdevctl", fakesys_root(fs));
	chmod(p, 0755);
	/* An old hook that makes vGPUs itself, and one that does something else. */
	ck_assert_int_eq(fakesys_write(fs, "etc/libvirt/hooks/qemu",
				       "#!/bin/sh\necho $UUID > /sys/bus/pci/devices/0000:00:02.0/"
				       "mdev_supported_types/i915-GVTg_V5_4/create\n"),
			 0);
	ck_assert_int_eq(fakesys_write(fs, "etc/libvirt/hooks/qemu.d/10-net", "#!/bin/sh\nip link\n"),
			 0);
	ck_assert_int_eq(fakesys_write(fs, "etc/libvirt/hooks/qemu.d/20-old",
				       "#!/bin/sh\nmdevctl start -u $U\n"),
			 0);
	ctl_run(&r, "check", NULL);
	const char *l = check_line(r.out, "WARN  mdevctl's udev rule");
	ck_assert_int_eq(strncmp(l, "WARN  mdevctl's udev rule /lib/udev/rules.d/60-mdevctl.rules "
				    "runs /usr/sbin/mdevctl, which does not exist: mdevctl's \"auto\" "
				    "definitions never start when their parent registers: ln -s "
				    "/usr/bin/mdevctl /usr/sbin/mdevctl",
			     strlen("WARN  mdevctl's udev rule /lib/udev/rules.d/60-mdevctl.rules "
				    "runs /usr/sbin/mdevctl, which does not exist: mdevctl's \"auto\" "
				    "definitions never start when their parent registers: ln -s "
				    "/usr/bin/mdevctl /usr/sbin/mdevctl")),
			 0);
	check_line(r.out, "WARN  another libvirt hook, /etc/libvirt/hooks/qemu, also handles "
			  "mediated devices (it mentions 'mdev_supported_types')");
	check_line(r.out, "WARN  another libvirt hook, /etc/libvirt/hooks/qemu.d/20-old, also "
			  "handles mediated devices (it mentions 'mdevctl start')");
	ck_assert_ptr_null(strstr(r.out, "10-net"));
	ctl_result_clear(&r);

	/* Fixed: the program exists. */
	ck_assert_int_eq(fakesys_symlink(fs, "usr/sbin/mdevctl", "../bin/mdevctl"), 0);
	ctl_run(&r, "check", NULL);
	check_line(r.out, "PASS  mdevctl's udev rule /lib/udev/rules.d/60-mdevctl.rules runs "
			  "/usr/sbin/mdevctl");
	ctl_result_clear(&r);
}
END_TEST

/* ---- the hook: what outranks what, end to end ------------------------------------- */

#define DOM_UUID "11111111-2222-4333-8444-555555555501"
#define DEF1 "etc/mdevctl.d/" GPU "/" U1

/* prepare begin of a domain with U1 (metadata: NULL, or "parent=... type=..." attrs). */
static void prepare(const char *meta, struct hook_result *res)
{
	char xml[2048], path[512];
	snprintf(xml, sizeof(xml),
		 "<domain><name>d</name><uuid>" DOM_UUID "</uuid>%s%s%s<devices>"
		 "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
		 "<address uuid='" U1 "'/></source></hostdev></devices></domain>",
		 meta ? "<metadata><g:vgpu xmlns:g='urn:gvtg-hook:vgpu:1'><g:device uuid='" U1
			"' "
		      : "",
		 meta ? meta : "", meta ? "/></g:vgpu></metadata>" : "");
	ck_assert_int_eq(fakesys_write(fs, "dom.xml", xml), 0);
	snprintf(path, sizeof(path), "%s/dom.xml", fakesys_root(fs));
	hook_result_free(res);
	hook_call(fakesys_root(fs), path, "d", "prepare", "begin", res);
}

static void release(struct hook_result *res)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/dom.xml", fakesys_root(fs));
	hook_result_free(res);
	hook_call(fakesys_root(fs), path, "d", "release", "end", res);
}

START_TEST(hook_precedence_table)
{
	static const struct {
		const char *definition;   /* the type in DEF1, NULL: none */
		const char *meta;         /* the domain's metadata element's attributes */
		const char *config;       /* the configuration file */
		const char *type;         /* the type created, NULL: refused */
		const char *origin;
		const char *words;        /* refusal: on stderr */
	} rows[] = {
		/* a definition outranks [defaults] ... */
		{ "i915-GVTg_V5_4", NULL, "[defaults]\ntype = i915-GVTg_V5_8\n", "i915-GVTg_V5_4",
		  "defined", NULL },
		/* ... and the automatic choice (four types: no automatic one) */
		{ "i915-GVTg_V5_2", NULL, "", "i915-GVTg_V5_2", "defined", NULL },
		{ NULL, NULL, "", NULL, NULL, "has several types and none is chosen" },
		/* the metadata and the UUID's section may agree with it... */
		{ "i915-GVTg_V5_4", "parent='" GPU "' type='i915-GVTg_V5_4'",
		  "[" U1 "]\ntype = i915-GVTg_V5_4\n", "i915-GVTg_V5_4", "defined", NULL },
		/* ... and never say otherwise */
		{ "i915-GVTg_V5_4", "type='i915-GVTg_V5_8'", "", NULL, NULL,
		  "creating vGPU " U1 " for domain 'd': the domain metadata asks for type "
		  "i915-GVTg_V5_8, but its definition /" DEF1 " gives " GPU " type "
		  "i915-GVTg_V5_4. Say it in one place" },
		{ "i915-GVTg_V5_4", NULL, "[" U1 "]\nparent = mtty\n", NULL, NULL,
		  "the configuration [uuid] section asks for parent mtty, but its definition /" DEF1 },
		{ "i915-GVTg_V5_4", "parent='mtty'", "[" U1 "]\ntype = i915-GVTg_V5_8\n", NULL, NULL,
		  "the domain metadata asks for parent mtty" },
		/* without a definition, as before: metadata, [uuid], [defaults] */
		{ NULL, "type='i915-GVTg_V5_1'", "[" U1 "]\ntype = i915-GVTg_V5_2\n[defaults]\n"
		  "type = i915-GVTg_V5_8\n", "i915-GVTg_V5_1", "created", NULL },
		{ NULL, NULL, "[" U1 "]\ntype = i915-GVTg_V5_2\n[defaults]\ntype = i915-GVTg_V5_8\n",
		  "i915-GVTg_V5_2", "created", NULL },
		{ NULL, NULL, "[defaults]\ntype = i915-GVTg_V5_8\n", "i915-GVTg_V5_8", "created",
		  NULL },
	};
	fakesys_kernel_attach(fs);
	struct hook_result res = { 0 };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fakesys_unlink(fs, DEF1);
		if (rows[i].definition) {
			char json[128];
			snprintf(json, sizeof(json), "{\"mdev_type\": \"%s\", \"start\": \"manual\"}",
				 rows[i].definition);
			define(GPU, U1, json);
		}
		ck_assert_int_eq(fakesys_write(fs, &GVTG_CONFIG_FILE[1], rows[i].config), 0);
		prepare(rows[i].meta, &res);
		struct gvtg_device dev;
		if (!rows[i].type) {
			ck_assert_msg(res.status == 1, "row %zu: exit %d", i, res.status);
			ck_assert_msg(strstr(res.err, rows[i].words), "row %zu: %s", i, res.err);
			ck_assert_int_eq(count_lines(res.err), 1);
			ck_assert_int_eq(gvtg_device_get(ctx, U1, &dev), -ENOENT);
			ck_assert(!fakesys_exists(fs, "run/gvtg-hook/" U1));
			continue;
		}
		ck_assert_msg(res.status == 0, "row %zu: %s", i, res.err);
		ck_assert_int_eq(gvtg_device_get(ctx, U1, &dev), 0);
		ck_assert_msg(!strcmp(dev.type, rows[i].type), "row %zu: %s", i, dev.type);
		gvtg_device_clear(&dev);
		struct gvtg_record rec;
		ck_assert_int_eq(gvtg_record_read(ctx, U1, &rec), 0);
		ck_assert_str_eq(gvtg_origin_to_string(rec.origin), rows[i].origin);
		gvtg_record_clear(&rec);
		release(&res);
		ck_assert_int_eq(res.status, 0);
		ck_assert_int_eq(gvtg_device_get(ctx, U1, &dev), -ENOENT);
		ck_assert(!fakesys_exists(fs, "run/gvtg-hook/" U1));
		if (rows[i].definition)
			ck_assert(fakesys_exists(fs, DEF1)); /* stopped; the definition stays */
	}

	/* Defined under two parents: refused, both named. */
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], "");
	define(GPU, U1, "{\"mdev_type\": \"i915-GVTg_V5_4\", \"start\": \"manual\"}");
	define("mtty", U1, "{\"mdev_type\": \"mtty-1\", \"start\": \"manual\"}");
	prepare(NULL, &res);
	ck_assert_int_eq(res.status, 1);
	ck_assert_ptr_nonnull(strstr(res.err, "it is defined under two parents: /" DEF1
					      " and /etc/mdevctl.d/mtty/" U1));
	fakesys_unlink(fs, "etc/mdevctl.d/mtty/" U1);

	/* Already active (mdevctl started an auto one): adopted, and left running. */
	define(GPU, U1, "{\"mdev_type\": \"i915-GVTg_V5_4\", \"start\": \"auto\"}");
	ck_assert_int_eq(fakesys_add_device(fs, GPU, "i915-GVTg_V5_4", U1), 0);
	fakesys_write(fs, &GVTG_CONFIG_FILE[1], "[defaults]\ntype = i915-GVTg_V5_8\n");
	prepare(NULL, &res);
	ck_assert_msg(res.status == 0, "%s", res.err);
	struct gvtg_record rec;
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &rec), 0);
	ck_assert_int_eq(rec.origin, GVTG_ORIGIN_ADOPTED);
	gvtg_record_clear(&rec);
	release(&res);
	ck_assert(fakesys_exists(fs, "sys/bus/mdev/devices/" U1));
	ck_assert(!fakesys_exists(fs, "run/gvtg-hook/" U1));
	/* ... but not when it runs as another type than its definition says */
	fakesys_remove_device(fs, U1);
	ck_assert_int_eq(fakesys_add_device(fs, GPU, "i915-GVTg_V5_8", U1), 0);
	prepare(NULL, &res);
	ck_assert_int_eq(res.status, 1);
	ck_assert_ptr_nonnull(strstr(res.err, "it exists as " GPU " type i915-GVTg_V5_8, but the "
					      "mdevctl definition asks for " GPU " type i915-GVTg_V5_4"));
	hook_result_free(&res);
}
END_TEST

/* A definition under a parent that is not registered (a wrong address, GVT-g off): the
 * parent-not-registered words, naming the parent and the definition's file, from the
 * hook and from gvtgctl; nothing written, nothing recorded. */
START_TEST(definition_parent_not_registered)
{
	define("0000:00:03.0", U1, "{\"mdev_type\": \"i915-GVTg_V5_4\", \"start\": \"manual\"}");
#define WORDS                                                                            \
	"mdev parent '0000:00:03.0' (from the mdevctl definition /etc/mdevctl.d/0000:00:03.0/" \
	U1 ") is not registered: GVT-g is not enabled on it or the PCI address is wrong. "   \
	"Name a registered parent: " GPU "\n"
	struct hook_result res = { 0 };
	prepare(NULL, &res);
	ck_assert_int_eq(res.status, 1);
	ck_assert_str_eq(res.err, "gvtg-hook: creating vGPU " U1 " for domain 'd': " WORDS);
	hook_result_free(&res);
	struct ctl_result r = { 0 };
	ctl_run(&r, "create", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.err, "gvtgctl: creating vGPU " U1 ": " WORDS);
	ctl_result_clear(&r);
	ctl_run(&r, "xml", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "gvtgctl: writing the domain XML of vGPU " U1 ": " WORDS);
	ctl_result_clear(&r);
	char *create = fakesys_read(fs, "sys/devices/pci0000:00/" GPU
					"/mdev_supported_types/i915-GVTg_V5_4/create");
	ck_assert_str_eq(create, "");
	free(create);
	ck_assert(!fakesys_exists(fs, "run/gvtg-hook/" U1));
#undef WORDS
}
END_TEST

/* gvtgctl xml places a defined UUID as the hook does: the definition's parent and type on
 * a parent with several types, and another type on the command line refused naming the
 * file, as 'create' refuses it. */
START_TEST(ctl_xml_follows_definition)
{
	define(GPU, U1, "{\"mdev_type\": \"i915-GVTg_V5_4\", \"start\": \"manual\"}");
	struct ctl_result r = { 0 };
	ctl_run(&r, "xml", U1, NULL);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "<gvtg:device uuid='" U1 "' parent='" GPU
					    "' type='i915-GVTg_V5_4'/>"));
	ck_assert_str_eq(r.err, "");
	ctl_result_clear(&r);
	ctl_run(&r, "xml", "--type", "i915-GVTg_V5_4", U1, NULL);
	ck_assert_int_eq(r.rc, 0);
	ctl_result_clear(&r);
	ctl_run(&r, "xml", "--type", "i915-GVTg_V5_8", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "gvtgctl: writing the domain XML of vGPU " U1
				": the command line asks for type i915-GVTg_V5_8, but its definition "
				"/etc/mdevctl.d/" GPU "/" U1
				" gives " GPU " type i915-GVTg_V5_4. Say it in one place: change the "
				"command line or the definition ('mdevctl modify --uuid " U1 "')\n");
	ctl_result_clear(&r);
	/* the metadata it printed is what the hook then starts */
	struct hook_result res = { 0 };
	fakesys_kernel_attach(fs);
	prepare("parent='" GPU "' type='i915-GVTg_V5_4'", &res);
	ck_assert_msg(res.status == 0, "%s", res.err);
	struct gvtg_record rec;
	ck_assert_int_eq(gvtg_record_read(ctx, U1, &rec), 0);
	ck_assert_int_eq(rec.origin, GVTG_ORIGIN_DEFINED);
	ck_assert_str_eq(rec.type, "i915-GVTg_V5_4");
	gvtg_record_clear(&rec);
	hook_result_free(&res);
}
END_TEST

/* ---- text from outside never reaches a terminal, stderr or syslog raw ------------ */

/* No control character but the newline, no C1, nothing that is not UTF-8. */
static void assert_clean(const char *what, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = gvtg_utf8_len(s + i, n - i);
		ck_assert_msg(k > 0, "%s: byte 0x%02x at %zu is not UTF-8: %s", what, c, i, s);
		ck_assert_msg(c == '\n' || (c >= 0x20 && c != 0x7f),
			      "%s: control character 0x%02x at %zu: %s", what, c, i, s);
		ck_assert_msg(!(c == 0xc2 && (unsigned char)s[i + 1] < 0xa0),
			      "%s: a C1 control at %zu: %s", what, i, s);
		i += k;
	}
}

START_TEST(text_clean)
{
	static const char in[] = "a\x1b]2;x\x07" "b\xc2\x9b" "c\xff\xc3" "d\t\xc3\xa9\r\n\x7f";
	char out[128];
	size_t n = gvtg_text_clean(in, strlen(in), out, sizeof(out), 0);
	ck_assert_str_eq(out, "a\\x1b]2;x\\x07b\\u009bc\xef\xbf\xbd\xef\xbf\xbd" "d \xc3\xa9  \\x7f");
	ck_assert_uint_eq(n, strlen(out));
	gvtg_text_clean(in, strlen(in), out, sizeof(out), GVTG_TEXT_KEEP_NEWLINES);
	ck_assert_ptr_nonnull(strstr(out, "\xc3\xa9 \n\\x7f"));
	/* Cut short: a beginning of the whole, never half an escape or a character. */
	gvtg_text_clean(in, strlen(in), out, sizeof(out), 0);
	for (size_t size = 1; size < 40; size++) {
		char small[40];
		gvtg_text_clean(in, strlen(in), small, size, 0);
		ck_assert_uint_lt(strlen(small), size);
		assert_clean("cut", small);
		ck_assert_msg(strncmp(out, small, strlen(small)) == 0, "%s", small);
	}
	/* An embedded NUL ends the text. */
	ck_assert_uint_eq(gvtg_text_clean("ab\0cd", 5, out, sizeof(out), 0), 2);
}
END_TEST

/* A definition whose attribute name decodes to a terminal's escape sequences (OSC to
 * retitle it, BEL, a C1 CSI), and one whose quoted name is cut inside a character:
 * through gvtgctl list --defined (table, JSON and its error line), create and the hook. */
START_TEST(outside_text_is_cleaned)
{
	struct ctl_result r = { 0 };
	struct hook_result res = { 0 };
	ck_assert_int_eq(fakesys_write(fs, "etc/t.conf", ""), 0);
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\",\"attrs\":"
			"[{\"\\u001b]2;pwned\\u0007\\u009b[31m\":\"1\"}]}");
	define("mtty", U2, "{\"mdev_type\":\"mtty-1\",\"start\":\"manual\",\"attrs\":"
			   "[{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9/\":\"1\"}]}");
	ctl_run(&r, "list", "--defined", NULL);
	ck_assert_int_eq(r.rc, 0);
	assert_clean("list --defined", r.out);
	assert_clean("list --defined, stderr", r.err);
	ck_assert_msg(strstr(r.err, "attribute name '\\x1b]2;pwned\\x07\\u009b[31m' is not"), "%s",
		      r.err);
	ck_assert_msg(strstr(r.err, "aaaaaaaaa\xef\xbf\xbd' is not"), "%s", r.err);
	ctl_result_clear(&r);
	ctl_run(&r, "list", "--defined", "--json", NULL);
	assert_clean("list --defined --json", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "\\\\x1b]2;pwned\\\\x07\\\\u009b[31m"));
	ctl_result_clear(&r);

	ctl_run(&r, "create", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	assert_clean("create", r.err);
	ck_assert_msg(strstr(r.err, "is damaged: line 1: attribute name '\\x1b]2;pwned\\x07"), "%s",
		      r.err);
	ctl_result_clear(&r);
	prepare(NULL, &res);
	ck_assert_int_eq(res.status, 1);
	assert_clean("hook", res.err);
	ck_assert_msg(strstr(res.err, "attribute name '\\x1b]2;pwned\\x07\\u009b[31m'"), "%s",
		      res.err);

	/* mdevctl's own words: ESC, BEL, C1 and bytes that are not UTF-8. */
	define(GPU, U1, "{\"mdev_type\":\"i915-GVTg_V5_4\",\"start\":\"manual\"}");
	ck_assert_int_eq(fakesys_write(fs, "mdevctl", "#!/bin/sh\nprintf 'Error: \\033[31mred"
						       "\\007 \\302\\233 \\377\\n' >&2\nexit 1\n"),
			 0);
	char stub[512];
	snprintf(stub, sizeof(stub), "%s/mdevctl", fakesys_root(fs));
	ck_assert_int_eq(chmod(stub, 0755), 0);
	setenv("GVTG_MDEVCTL", stub, 1);
	ctl_run(&r, "create", U1, NULL);
	ck_assert_int_eq(r.rc, 1);
	assert_clean("create, mdevctl's words", r.err);
	ck_assert_msg(strstr(r.err, "failed: Error: \\x1b[31mred\\x07 \\u009b \xef\xbf\xbd. "), "%s",
		      r.err);
	ctl_result_clear(&r);
	prepare(NULL, &res);
	ck_assert_int_eq(res.status, 1);
	assert_clean("hook, mdevctl's words", res.err);
	ck_assert_msg(strstr(res.err, "failed: Error: \\x1b[31mred\\x07 \\u009b \xef\xbf\xbd. "), "%s",
		      res.err);
	hook_result_free(&res);
	unsetenv("GVTG_MDEVCTL");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdevctl");
	TCase *tc = tcase_create("definitions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parse_mdevctl_output);
	tcase_add_test(tc, parse_refuses);
	tcase_add_test(tc, find_one);
	tcase_add_test(tc, find_two_parents);
	tcase_add_test(tc, find_damaged);
	tcase_add_test(tc, list_all);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, mdevctl_rule);
	tcase_add_test(tc, start_sysfs_attrs_in_order);
	tcase_add_test(tc, start_sysfs_attr_refused);
	tcase_add_test(tc, start_stub_argv_and_fds);
	tcase_add_test(tc, start_stub_fails);
	tcase_add_test(tc, start_stub_hangs);
	tcase_add_test(tc, start_stub_missing);
	tcase_add_test(tc, hook_precedence_table);
	tcase_add_test(tc, definition_parent_not_registered);
	tcase_add_test(tc, text_clean);
	suite_add_tcase(s, tc);
	tc = tcase_create("gvtgctl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ctl_list_defined);
	tcase_add_test(tc, ctl_create_follows_definition);
	tcase_add_test(tc, ctl_xml_follows_definition);
	tcase_add_test(tc, ctl_create_two_parents);
	tcase_add_test(tc, ctl_remove_auto_definition);
	tcase_add_test(tc, ctl_check_neighbours);
	tcase_add_test(tc, outside_text_is_cleaned);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite());
}
