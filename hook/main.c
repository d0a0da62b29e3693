/* SPDX-License-Identifier: MIT */
/*
 * gvtg-hook's entry point.  libvirt runs it for every domain operation, most of which
 * need nothing from us: those drain stdin and exit 0 without loading libxml2 or
 * anything else.  prepare/release/reconnect load the core module (the hook's logic and
 * the library, linked against libxml2, libuuid and libinih) that is installed beside
 * this executable, and call it.
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

#include "hook.h"

#ifndef GVTG_VERSION
#define GVTG_VERSION "0"
#endif

static const char usage[] =
	"usage: gvtg-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml\n"
	"libvirt runs this program as a qemu hook (see gvtg-hook(8)); use gvtgctl(8) by hand.\n";

static int drain(void)
{
	static char sink[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, sink, sizeof(sink))) > 0 || (n < 0 && errno == EINTR))
		;
	return 0;
}

/* The core module sits beside the real executable (libvirt runs us through a symlink).
 * Not dlopen("$ORIGIN/..."): that expands relative to the CALLER of dlopen, which is not
 * us when a preloaded library (sanitizers, LD_PRELOAD from libvirt) wraps dlopen. */
static void core_path(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - sizeof("/gvtg-hook-core.so"));
	char *slash = n > 0 ? memrchr(buf, '/', (size_t)n) : NULL;
	if (slash)
		strcpy(slash, "/gvtg-hook-core.so");
	/* Installed, the executable is not beside its module (<sbindir>, or a copy in the
	 * hooks directory): the module is in GVTG_HOOK_DIR. */
	if (!slash || access(buf, F_OK) < 0)
		snprintf(buf, size, "%s", GVTG_HOOK_DIR "/gvtg-hook-core.so");
}

static bool is_handled(const char *op, const char *sub)
{
	/* Kept in step with gvtg_hook_classify(); checked by the contract tests. */
	return (!strcmp(op, "prepare") && !strcmp(sub, "begin")) ||
	       (!strcmp(op, "release") && !strcmp(sub, "end")) ||
	       (!strcmp(op, "reconnect") && !strcmp(sub, "begin"));
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		puts("gvtg-hook " GVTG_VERSION);
		return 0;
	}
	if (argc != 5) {
		fputs(usage, stderr);
		return 2;
	}
	if (!is_handled(argv[2], argv[3]))
		return drain();

	/* From here on nothing may reach stdout: on migrate/restore libvirt would take it
	 * for a new domain XML.  Point fd 1 at /dev/null for good. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}

	bool fatal = !strcmp(argv[2], "prepare");
	char *xml = NULL;
	size_t len = 0;
	int read_error = gvtg_hook_read_input(STDIN_FILENO, &xml, &len);
	char path[PATH_MAX];
	core_path(path, sizeof(path));
	void *core = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	gvtg_hook_run_fn run = core ? (gvtg_hook_run_fn)dlsym(core, "gvtg_hook_run") : NULL;
	if (!run) {
		const char *e = dlerror();
		fprintf(stderr,
			"gvtg-hook: loading gvtg-hook-core.so beside the hook: %s. Reinstall "
			"gvtg-hook\n",
			e ? e : "symbol missing");
		free(xml);
		return fatal ? 1 : 0;
	}
	int status = run(argc, argv, xml, len, read_error, stderr);
	free(xml);
	return status;
}
