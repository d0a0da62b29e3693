/* SPDX-License-Identifier: MIT */
/*
 * gvtg-hook's entry point.  libvirt runs it for every domain operation, most of which
 * need nothing from us: those drain stdin and exit 0 without loading libxml2 or
 * anything else.  prepare/release/reconnect load the core module (the hook's logic and
 * the library, linked against libxml2, libuuid and libinih), found beside this
 * executable or where it was installed, and call it; and not even those when the raw
 * domain XML shows that there is nothing to do for the domain (early.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "early.h"
#include "hook.h"

#ifndef GVTG_VERSION
#define GVTG_VERSION "0"
#endif

static const char usage[] =
	"usage: gvtg-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml\n"
	"       gvtg-hook --self-test | --help | --version\n"
	"libvirt runs this program as a qemu hook (see gvtg-hook(8)); use gvtgctl(8) by hand.\n"
	/* gvtgctl check reads this line from the executable: which configuration is in
	 * effect when it is the registered hook */
	"configuration: " GVTG_CONFIG_FILE "\n";

static int drain(void)
{
	static char sink[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, sink, sizeof(sink))) > 0 || (n < 0 && errno == EINTR))
		;
	return 0;
}

#ifndef GVTG_HOOK_DIR
#define GVTG_HOOK_DIR "/usr/local/libexec/gvtg-hook"
#endif
#define CORE_NAME "gvtg-hook-core.so"

/* How the core module is opened.  RTLD_DEEPBIND puts the module's own libraries first
 * in their symbol lookups, which makes resolving libxml2's dependencies (ICU,
 * libstdc++) cheaper than through the executable's global scope first (3.6 M
 * instructions for a vGPU start instead of 4.0 M).  But it also bypasses whatever was
 * preloaded to interpose on libc: a sanitizer runtime (sanitizer builds, from meson's
 * b_sanitize, go without: GVTG_HOOK_NO_DEEPBIND), a fault injector, a malloc.  So
 * anything in LD_PRELOAD turns it off too, except valgrind's own preloads, which do not
 * work by symbol lookup. */
static int core_flags(void)
{
	int flags = RTLD_LAZY | RTLD_LOCAL;
#if defined(RTLD_DEEPBIND) && !defined(GVTG_HOOK_NO_DEEPBIND)
	const char *pre = getenv("LD_PRELOAD");
	for (const char *p = pre; p && *p;) {
		size_t n = strcspn(p, ": ");
		const char *base = memrchr(p, '/', n);
		base = base ? base + 1 : p;
		if (n && strncmp(base, "vgpreload_", 10) != 0)
			return flags;
		p += n + (p[n] != '\0');
	}
	flags |= RTLD_DEEPBIND;
#endif
	return flags;
}

/* strcmp() without its dynamic symbol binding, which costs more than this whole
 * program's own work on an ignored operation. */
static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Only the module of this executable's own build is used: what passes between the two
 * is a C function signature and what code compiled together may assume of each other,
 * and a copied or half-upgraded hook would otherwise run a mismatched pair as root.  The
 * module's exported identity is compared before any function of it is called (streq
 * stops at the end of ours, whatever the module holds).  NULL with the reason in why. */
static void *open_core(const char *path, char *why, size_t size)
{
	void *h = dlopen(path, core_flags());
	if (!h) {
		const char *e = dlerror();
		snprintf(why, size, "%.2000s", e ? e : path);
		return NULL;
	}
	const char *id = dlsym(h, GVTG_HOOK_BUILD_ID_SYMBOL);
	if (id && streq(id, gvtg_hook_build_id))
		return h;
	snprintf(why, size,
		 "%.1000s is of build %.64s, this hook of build %s: the two must come from "
		 "the same build",
		 path, id ? id : "unknown (it has no build identity)", gvtg_hook_build_id);
	dlclose(h);
	return NULL;
}

/* The core module: beside the real executable first (libvirt runs us through a
 * symlink, and a build tree runs uninstalled), then in the directory it was installed
 * to, so that a copy of the installed hook as a plain hooks/qemu file still works.
 * Under a test root (GVTG_ROOT, as the core module reads it) that directory is taken
 * inside the root, so nothing installed on the machine answers for a test.
 * Not dlopen("$ORIGIN/..."): that expands relative to the CALLER of dlopen, which is not
 * us when a preloaded library (sanitizers, LD_PRELOAD from libvirt) wraps dlopen.
 * NULL with the reason in why (dlerror() names the file). */
static void *load_core(char *why, size_t size)
{
	char beside[PATH_MAX], installed[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", beside, sizeof(beside) - sizeof("/" CORE_NAME));
	char *slash = n > 0 ? memrchr(beside, '/', (size_t)n) : NULL;
	const char *root = secure_getenv("GVTG_ROOT");
	if (!root || streq(root, "/"))
		root = "";
	if (snprintf(installed, sizeof(installed), "%s%s", root, GVTG_HOOK_DIR "/" CORE_NAME) >=
	    (int)sizeof(installed)) {
		snprintf(why, size, "GVTG_ROOT is too long");
		return NULL;
	}
	if (slash) {
		strcpy(slash, "/" CORE_NAME);
		if (access(beside, F_OK) == 0 || strcmp(beside, installed) == 0)
			return open_core(beside, why, size);
	}
	char reason[3200];
	void *h = open_core(installed, reason, sizeof(reason));
	if (!h)
		snprintf(why, size, "there is none at %.700s, and %s",
			 slash ? beside : "the hook's own path", reason);
	return h;
}

static int self_test(void)
{
	char why[4096];
	void *core = load_core(why, sizeof(why));
	gvtg_hook_self_test_fn test =
		core ? (gvtg_hook_self_test_fn)dlsym(core, "gvtg_hook_self_test") : NULL;
	if (!core) {
		fprintf(stderr, "gvtg-hook: self-test: loading gvtg-hook-core.so beside the hook: "
				"%s. Reinstall gvtg-hook: its executable and core module, of one "
				"build, and the libraries they need must be present\n",
			why);
		return 1;
	}
	if (!test) {
		fprintf(stderr, "gvtg-hook: self-test: the core module has no self-test entry "
				"(it belongs to another version of gvtg-hook). Reinstall "
				"gvtg-hook\n");
		return 1;
	}
	return test(stderr);
}

static enum hook_op classify(const char *op, const char *sub)
{
	/* Kept in step with gvtg_hook_classify(); checked by the contract tests. */
	if (streq(op, "prepare") && streq(sub, "begin"))
		return HOOK_PREPARE;
	if (streq(op, "release") && streq(sub, "end"))
		return HOOK_RELEASE;
	if (streq(op, "reconnect") && streq(sub, "begin"))
		return HOOK_RECONNECT;
	return HOOK_IGNORED;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("gvtg-hook " GVTG_VERSION " (build %s)\n", gvtg_hook_build_id);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--self-test"))
		return self_test();
	if (argc != 5) {
		fputs(usage, stderr);
		return 2;
	}
	enum hook_op op = classify(argv[2], argv[3]);
	if (op == HOOK_IGNORED)
		return drain();

	/* A domain XML is a few KiB: read it without touching malloc, whose set-up costs
	 * as much as the whole early decision. */
	static char first[64 * 1024];
	char *xml = NULL;
	size_t len = 0;
	int read_error = gvtg_hook_read_input_into(STDIN_FILENO, first, sizeof(first), &xml,
						   &len);
	/* Most domains have no vGPU: answer them from the raw bytes, loading nothing. */
	if (read_error == 0 && gvtg_hook_nothing_to_do(op, xml, len)) {
		if (xml != first)
			free(xml);
		return 0;
	}

	/* From here on nothing may reach stdout: on migrate/restore libvirt would take it
	 * for a new domain XML.  Point fd 1 at /dev/null for good. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}

	bool fatal = op == HOOK_PREPARE;
	char why[4096];
	void *core = load_core(why, sizeof(why));
	gvtg_hook_run_fn run = core ? (gvtg_hook_run_fn)dlsym(core, "gvtg_hook_run") : NULL;
	if (!run) {
		if (core)
			snprintf(why, sizeof(why), "it has no gvtg_hook_run");
		/* The words of the diagnosis table's module-load row (lib/diag.c), which
		 * this executable cannot link. */
		fprintf(stderr, "gvtg-hook: loading gvtg-hook-core.so beside the hook: %s. "
				"Reinstall gvtg-hook; 'gvtg-hook --self-test' checks it\n",
			why);
		if (xml != first)
			free(xml);
		return fatal ? 1 : 0;
	}
	int status = run(argc, argv, xml, len, read_error, stderr);
	if (xml != first)
		free(xml);
	return status;
}
