/* SPDX-License-Identifier: MIT */
/*
 * One placement for every caller: each row of the precedence table (a definition, the
 * domain's metadata or the command line, the configuration's [<uuid>] section, its
 * [defaults], automatic; and the refusals) runs through the built hook (prepare begin),
 * `gvtgctl create`, `gvtgctl xml` and `gvtgctl attach --dry-run` (libvirt's in-process
 * test driver), each on a fresh fake tree, and all four must place the vGPU on the same
 * parent and type, or refuse it in the same words.  A vGPU is placed where its UUID is
 * written (the type's create file: the kernel is not emulated, so nothing appears) or,
 * for xml and attach, where the metadata they print puts it.
 */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakesys.h"
#include "testutil.h"

#define U "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define DOM_UUID "11111111-2222-4333-8444-555555555501"
#define GPU "0000:00:02.0"
#define T1 "i915-GVTg_V5_1"
#define T2 "i915-GVTg_V5_2"
#define T4 "i915-GVTg_V5_4"
#define T8 "i915-GVTg_V5_8"
#define DEF_JSON(t) "{\"mdev_type\": \"" t "\", \"start\": \"manual\"}"

enum { HOST_GVT = 0, HOST_MTTY = 1 /* and a second parent, mtty, with one type */ };

struct row {
	const char *what;
	int host;
	const char *def_parent;  /* a definition of U under this parent, or NULL */
	const char *def_json;    /* its file */
	const char *def2_parent; /* a second one, under another parent */
	const char *meta_parent; /* the domain's metadata, gvtgctl's --parent */
	const char *meta_type;   /* ... and --type */
	const char *config;      /* the configuration file */
	const char *parent;      /* where it goes; NULL: refused */
	const char *type;
	const char *words;       /* refused: what every caller says */
};

static const struct row rows[] = {
	/* the policy: metadata (command line), [uuid], [defaults], automatic */
	{ "metadata type", HOST_GVT, NULL, NULL, NULL, NULL, T4, "", GPU, T4, NULL },
	{ "metadata parent and type", HOST_MTTY, NULL, NULL, NULL, GPU, T2, "", GPU, T2, NULL },
	{ "metadata over [uuid] over [defaults]", HOST_GVT, NULL, NULL, NULL, NULL, T1,
	  "[" U "]\ntype = " T2 "\n[defaults]\ntype = " T8 "\n", GPU, T1, NULL },
	{ "[uuid] over [defaults]", HOST_GVT, NULL, NULL, NULL, NULL, NULL,
	  "[" U "]\ntype = " T2 "\n[defaults]\ntype = " T8 "\n", GPU, T2, NULL },
	{ "[defaults]", HOST_GVT, NULL, NULL, NULL, NULL, NULL, "[defaults]\ntype = " T8 "\n",
	  GPU, T8, NULL },
	{ "automatic parent: the only one with the type", HOST_MTTY, NULL, NULL, NULL, NULL,
	  NULL, "[defaults]\ntype = mtty-1\n", "mtty", "mtty-1", NULL },
	{ "automatic type: the parent's only one", HOST_MTTY, NULL, NULL, NULL, NULL, NULL,
	  "[" U "]\nparent = mtty\n", "mtty", "mtty-1", NULL },
	{ "automatic, several types", HOST_GVT, NULL, NULL, NULL, NULL, NULL, "", NULL, NULL,
	  "parent " GPU " has several types and none is chosen" },
	{ "automatic, several parents", HOST_MTTY, NULL, NULL, NULL, NULL, NULL, "", NULL, NULL,
	  "several mdev parents and none is chosen: " GPU ", mtty" },
	{ "a type no parent has", HOST_MTTY, NULL, NULL, NULL, NULL, "GVTg_V5_4", "", NULL,
	  NULL, "parent " GPU " has no type 'GVTg_V5_4'" },
	{ "a type the parent lacks", HOST_GVT, NULL, NULL, NULL, NULL, NULL,
	  "[defaults]\ntype = i915-GVTg_V5_3\n", NULL, NULL,
	  "parent " GPU " has no type 'i915-GVTg_V5_3' (from the configuration [defaults])" },
	{ "a parent not registered", HOST_GVT, NULL, NULL, NULL, "0000:00:09.0", T4, "", NULL,
	  NULL, "mdev parent '0000:00:09.0'" },
	/* a definition speaks for its UUID */
	{ "definition", HOST_GVT, GPU, DEF_JSON(T4), NULL, NULL, NULL, "", GPU, T4, NULL },
	{ "definition over [defaults]", HOST_GVT, GPU, DEF_JSON(T2), NULL, NULL, NULL,
	  "[defaults]\ntype = " T8 "\n", GPU, T2, NULL },
	{ "definition over automatic parent", HOST_MTTY, "mtty", DEF_JSON("mtty-1"), NULL, NULL,
	  NULL, "[defaults]\nparent = " GPU "\n", "mtty", "mtty-1", NULL },
	{ "definition and metadata agree", HOST_GVT, GPU, DEF_JSON(T4), NULL, GPU, T4,
	  "[" U "]\ntype = " T4 "\n", GPU, T4, NULL },
	{ "definition against metadata", HOST_GVT, GPU, DEF_JSON(T4), NULL, NULL, T8, "", NULL,
	  NULL,
	  "asks for type " T8 ", but its definition /etc/mdevctl.d/" GPU "/" U " gives " GPU
	  " type " T4 },
	{ "definition against [uuid]", HOST_MTTY, GPU, DEF_JSON(T4), NULL, NULL, NULL,
	  "[" U "]\nparent = mtty\n", NULL, NULL,
	  "the configuration [uuid] section asks for parent mtty, but its definition "
	  "/etc/mdevctl.d/" GPU "/" U },
	{ "definition under an unregistered parent", HOST_GVT, "0000:00:03.0", DEF_JSON(T4),
	  NULL, NULL, NULL, "", NULL, NULL,
	  "mdev parent '0000:00:03.0' (from the mdevctl definition /etc/mdevctl.d/0000:00:03.0/" U
	  ") is not registered" },
	{ "definition under two parents", HOST_MTTY, GPU, DEF_JSON(T4), "mtty", NULL, NULL, "",
	  NULL, NULL,
	  "it is defined under two parents: /etc/mdevctl.d/" GPU "/" U " and /etc/mdevctl.d/mtty/" U },
	{ "definition damaged", HOST_GVT, GPU, "{\"mdev_type\":", NULL, NULL, NULL, "", NULL, NULL,
	  "its definition /etc/mdevctl.d/" GPU "/" U " is damaged" },
};

enum caller { HOOK, CREATE, XML, ATTACH, N_CALLERS };
static const char *const caller_names[] = { "hook", "gvtgctl create", "gvtgctl xml",
					    "gvtgctl attach --dry-run" };

struct outcome {
	int status;
	char parent[64], type[64];
	char words[1024]; /* the refusal after "<program>: creating vGPU U[ for ...]: " */
	char *out, *err;
};

static struct fakesys *fs;

/* A fresh tree for one row. */
static void tree(const struct row *r)
{
	fakesys_free(fs);
	fs = fakesys_new();
	fakesys_gvt_host(fs);
	if (r->host == HOST_MTTY) {
		ck_assert_int_eq(fakesys_add_parent(fs, "mtty"), 0);
		ck_assert_int_eq(fakesys_add_type(fs, "mtty", "mtty-1", "Single port serial",
						  "vfio-pci", NULL, 24),
				 0);
	}
	ck_assert_int_eq(fakesys_write(fs, &GVTG_CONFIG_FILE[1], r->config), 0);
	char p[256];
	if (r->def_parent) {
		snprintf(p, sizeof(p), "etc/mdevctl.d/%s/" U, r->def_parent);
		ck_assert_int_eq(fakesys_write(fs, p, r->def_json), 0);
	}
	if (r->def2_parent) {
		snprintf(p, sizeof(p), "etc/mdevctl.d/%s/" U, r->def2_parent);
		ck_assert_int_eq(fakesys_write(fs, p, DEF_JSON("mtty-1")), 0);
	}
	/* The domain: for the hook (stdin) and for attach (a test driver's node file). */
	char meta[512] = "", xml[2048];
	if (r->meta_parent || r->meta_type)
		snprintf(meta, sizeof(meta),
			 "<metadata><g:vgpu xmlns:g='urn:gvtg-hook:vgpu:1'><g:device uuid='" U
			 "'%s%s%s%s%s%s/></g:vgpu></metadata>",
			 r->meta_parent ? " parent='" : "", r->meta_parent ? r->meta_parent : "",
			 r->meta_parent ? "'" : "", r->meta_type ? " type='" : "",
			 r->meta_type ? r->meta_type : "", r->meta_type ? "'" : "");
	snprintf(xml, sizeof(xml),
		 "<domain type='test'><name>d</name><uuid>" DOM_UUID "</uuid>%s<devices>"
		 "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
		 "<address uuid='" U "'/></source></hostdev></devices></domain>",
		 meta);
	ck_assert_int_eq(fakesys_write(fs, "dom.xml", xml), 0);
	char node[2048];
	snprintf(node, sizeof(node),
		 "<node><domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/"
		 "1.0'><name>d</name><uuid>" DOM_UUID "</uuid><memory unit='MiB'>64</memory>"
		 "<os><type arch='x86_64'>hvm</type></os><devices/>"
		 "<test:runstate>5</test:runstate></domain></node>");
	ck_assert_int_eq(fakesys_write(fs, "node.xml", node), 0);
}

static void run_prog(const char *prog, const char *const argv[], const char *input,
		     struct outcome *o)
{
	char out[512], err[512];
	snprintf(out, sizeof(out), "%s/prog.out", fakesys_root(fs));
	snprintf(err, sizeof(err), "%s/prog.err", fakesys_root(fs));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fi = open(input ? input : "/dev/null", O_RDONLY);
		if (fo < 0 || fe < 0 || fi < 0)
			_exit(126);
		dup2(fi, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		setenv("GVTG_ROOT", fakesys_root(fs), 1);
		execv(prog, (char **)argv);
		_exit(127);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	o->out = fakesys_read(fs, "prog.out");
	o->err = fakesys_read(fs, "prog.err");
	ck_assert_ptr_nonnull(o->out);
	ck_assert_ptr_nonnull(o->err);
}

/* The type whose create file got U. */
static void written(struct outcome *o)
{
	static const char *const where[][2] = {
		{ GPU, "sys/devices/pci0000:00/" GPU "/mdev_supported_types/" },
		{ "mtty", "sys/devices/virtual/mtty/mtty/mdev_supported_types/" },
	};
	static const char *const types[] = { T1, T2, T4, T8, "mtty-1" };
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < 5; k++) {
			char p[256];
			snprintf(p, sizeof(p), "%s%s/create", where[i][1], types[k]);
			char *s = fakesys_read(fs, p);
			if (s && strstr(s, U)) {
				ck_assert_msg(!o->type[0], "U written to two create files");
				snprintf(o->parent, sizeof(o->parent), "%s", where[i][0]);
				snprintf(o->type, sizeof(o->type), "%s", types[k]);
			}
			free(s);
		}
}

/* An attribute of the <gvtg:device> element xml or attach printed (xml quotes as libvirt
 * does, attach --dry-run prints the document it defines, as libxml2 writes it). */
static void metadata(struct outcome *o)
{
	const char *e = strstr(o->out, "gvtg:device uuid='" U "'");
	char q = '\'';
	if (!e && (e = strstr(o->out, "gvtg:device uuid=\"" U "\"")))
		q = '"';
	if (!e)
		return;
	const char *end = strstr(e, "/>");
	char pk[16], tk[16];
	snprintf(pk, sizeof(pk), "parent=%c", q);
	snprintf(tk, sizeof(tk), "type=%c", q);
	const char *p = strstr(e, pk), *t = strstr(e, tk);
	if (p && p < end)
		snprintf(o->parent, sizeof(o->parent), "%.*s", (int)strcspn(p + 8, "'\""), p + 8);
	if (t && t < end)
		snprintf(o->type, sizeof(o->type), "%.*s", (int)strcspn(t + 6, "'\""), t + 6);
}

/* The refusal, as any caller words it: after "<program>: <what it does> vGPU U[ for
 * domain 'd']: ", with the domain's metadata standing for the command line. */
static void refusal(struct outcome *o)
{
	const char *s = strstr(o->err, "vGPU " U);
	if (!s)
		return;
	s = strstr(s, ": ");
	if (!s)
		return;
	s += 2;
	size_t n = strcspn(s, "\n"), k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(o->words);) {
		static const char from[] = "domain metadata", to[] = "command line";
		if (!strncmp(s + i, from, sizeof(from) - 1)) {
			k += (size_t)snprintf(o->words + k, sizeof(o->words) - k, "%s", to);
			i += sizeof(from) - 1;
		} else {
			o->words[k++] = s[i++];
		}
	}
	o->words[k < sizeof(o->words) ? k : sizeof(o->words) - 1] = '\0';
}

static bool have_libvirt(void)
{
	static int known = -1;
	if (known < 0) {
		const char *argv[] = { "gvtgctl", "attach", "x", "--dry-run", NULL };
		struct outcome o = { 0 };
		tree(&rows[0]);
		run_prog(getenv("GVTGCTL"), argv, NULL, &o);
		known = !strstr(o.err, "built without libvirt");
		free(o.out);
		free(o.err);
	}
	return known;
}

static void run_caller(const struct row *r, enum caller c, struct outcome *o)
{
	tree(r);
	const char *argv[24];
	size_t n = 0;
	char node[600];
	if (c == HOOK) {
		char in[512];
		snprintf(in, sizeof(in), "%s/dom.xml", fakesys_root(fs));
		const char *hook[] = { "gvtg-hook", "d", "prepare", "begin", "-", NULL };
		run_prog(getenv("GVTG_HOOK"), hook, in, o);
		written(o);
		refusal(o);
		return;
	}
	argv[n++] = "gvtgctl";
	argv[n++] = "--root";
	argv[n++] = fakesys_root(fs);
	if (c == CREATE) {
		argv[n++] = "create";
	} else if (c == XML) {
		argv[n++] = "xml";
	} else {
		snprintf(node, sizeof(node), "test://%s/node.xml", fakesys_root(fs));
		argv[n++] = "attach";
		argv[n++] = "--connect";
		argv[n++] = node;
		argv[n++] = "--dry-run";
		argv[n++] = "d";
		argv[n++] = "--uuid";
		argv[n++] = U;
	}
	if (r->meta_parent) {
		argv[n++] = "--parent";
		argv[n++] = r->meta_parent;
	}
	if (r->meta_type) {
		argv[n++] = "--type";
		argv[n++] = r->meta_type;
	}
	if (c != ATTACH)
		argv[n++] = U;
	argv[n] = NULL;
	run_prog(getenv("GVTGCTL"), argv, NULL, o);
	if (c == CREATE)
		written(o);
	else
		metadata(o);
	refusal(o);
}

START_TEST(every_caller_places_alike)
{
	const struct row *r = &rows[_i];
	struct outcome o[N_CALLERS];
	memset(o, 0, sizeof(o));
	for (int c = 0; c < N_CALLERS; c++) {
		if (c == ATTACH && !have_libvirt())
			continue; /* gvtgctl without libvirt: attach is not there */
		run_caller(r, (enum caller)c, &o[c]);
		const char *who = caller_names[c];
		if (r->parent) {
			ck_assert_msg(o[c].status == 0, "%s: %s: exit %d: %s", r->what, who,
				      o[c].status, o[c].err);
			ck_assert_msg(!strcmp(o[c].parent, r->parent) && !strcmp(o[c].type, r->type),
				      "%s: %s placed it on '%s' type '%s', not %s type %s", r->what,
				      who, o[c].parent, o[c].type, r->parent, r->type);
		} else {
			ck_assert_msg(o[c].status == 1, "%s: %s: exit %d, not 1: %s", r->what, who,
				      o[c].status, o[c].err);
			ck_assert_msg(!o[c].type[0], "%s: %s placed it all the same (%s %s)",
				      r->what, who, o[c].parent, o[c].type);
			ck_assert_msg(strstr(o[c].words, r->words), "%s: %s says: %s", r->what, who,
				      o[c].err);
			ck_assert_msg(!strcmp(o[c].words, o[HOOK].words),
				      "%s: %s and the hook say it differently:\n  %s\n  %s", r->what,
				      who, o[c].words, o[HOOK].words);
			ck_assert_msg(c == HOOK || !o[c].out[0], "%s: %s printed: %s", r->what, who,
				      o[c].out);
			ck_assert_int_eq(count_lines(o[c].err), 1);
		}
	}
	for (int c = 0; c < N_CALLERS; c++) {
		free(o[c].out);
		free(o[c].err);
	}
}
END_TEST

static void teardown(void)
{
	fakesys_free(fs);
	fs = NULL;
}

int main(void)
{
	unsetenv("GVTG_MDEVCTL"); /* sysfs: a test root never runs mdevctl */
	Suite *s = suite_create("placement");
	TCase *tc = tcase_create("precedence");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, every_caller_places_alike, 0,
			    (int)(sizeof(rows) / sizeof(rows[0])));
	suite_add_tcase(s, tc);
	return run_suite(s);
}
