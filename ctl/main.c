/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl: the administrator's tool beside the gvtg-hook libvirt hook.  This file only
 * reads the global options and hands over to the command; see ctl.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#ifndef GVTG_VERSION
#define GVTG_VERSION "0"
#endif

static const struct {
	const char *name;
	ctl_command_fn fn;
} commands[] = {
	{ "list", cmd_list },     { "types", cmd_types }, { "create", cmd_create },
	{ "remove", cmd_remove }, { "check", cmd_check }, { "xml", cmd_xml },
	{ "boot", cmd_boot },     { "sleep", cmd_sleep },
};

void ctl_usage(FILE *f)
{
	fputs("usage: gvtgctl [--root DIR] [--config FILE] [--verbose] COMMAND [ARGS]\n"
	      "\n"
	      "Intel GVT-g vGPUs (mediated devices) for libvirt domains, beside gvtg-hook.\n"
	      "\n"
	      "Commands:\n"
	      "  list [--json] [--defined]          parents, types, vGPUs and mdevctl definitions\n"
	      "  types [PARENT] [--json]            the vGPU types a parent offers\n"
	      "  create [--parent P] [--type T] [UUID]\n"
	      "                                     create a vGPU and print its UUID\n"
	      "  remove [--force] UUID              remove a vGPU no running domain holds\n"
	      "  check [--json]                     check this host's GVT-g prerequisites\n"
	      "  xml [UUID] [--display=off|gtk|spice] [--ramfb] [--romfile PATH]\n"
	      "      [--parent P] [--type T]        domain XML for 'virsh edit'\n"
	      "  boot [--stop]                      create (remove) the boot vGPUs of the\n"
	      "                                     configuration\n"
	      "  sleep pre|post                     remove idle vGPUs before a host suspend and\n"
	      "                                     create them again after it\n"
	      "\n"
	      "Options:\n"
	      "  --root DIR      every path (/sys, /proc, /run, /etc, /dev) is under DIR\n"
	      "  --config FILE   configuration file (default " GVTG_CONFIG_FILE ")\n"
	      "  --verbose       show what the library does (twice: more)\n"
	      "  --help, --version\n"
	      "\n"
	      "Exit status: 0 success, 1 failure (or a failed check), 2 usage error.\n"
	      "See gvtgctl(8).\n",
	      f);
}

int ctl_next_option(struct ctl *c, int argc, char **argv, const char *shortopts,
		    const struct option *options, const char *synopsis, int *ret_exit)
{
	int opt;
	while ((opt = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		int r = ctl_common_option(c, opt, optarg);
		if (r == CTL_CONTINUE)
			continue;
		if (r == -1 && opt != '?' && opt != ':')
			return opt; /* the command's own */
		if (r == -1)
			r = ctl_bad_option(argv);
		else if (opt == OPT_HELP && synopsis)
			printf("\n%s\n", synopsis);
		*ret_exit = r;
		return 0;
	}
	return -1;
}

int ctl_common_option(struct ctl *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_ROOT:
		if (!arg || !*arg)
			return ctl_usage_error("--root needs a directory");
		c->root = arg;
		return CTL_CONTINUE;
	case OPT_CONFIG: {
		if (!arg || !*arg)
			return ctl_usage_error("--config needs a file");
		free(c->config);
		c->config = NULL;
		if (arg[0] == '/') {
			c->config = strdup(arg);
		} else {
			/* The library reads the file under the root; a relative name means
			 * the current directory, as on any command line. */
			char *cwd = getcwd(NULL, 0);
			if (cwd && asprintf(&c->config, "%s/%s", cwd, arg) < 0)
				c->config = NULL;
			free(cwd);
		}
		if (!c->config) {
			ctl_error("reading --config, %s: %s", arg, strerror(ENOMEM));
			return CTL_EXIT_FAILURE;
		}
		return CTL_CONTINUE;
	}
	case OPT_VERBOSE:
		c->verbose++;
		return CTL_CONTINUE;
	case OPT_HELP:
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	case OPT_VERSION:
		puts("gvtgctl " GVTG_VERSION);
		return CTL_EXIT_OK;
	default:
		return -1;
	}
}

int ctl_bad_option(char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	return ctl_usage_error("unknown option or missing argument: '%s'", arg);
}

int main(int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS, { 0 } };
	struct ctl c = { 0 };
	int opt, r;

	/* Global options stop at the command ('+'); the command reads its own. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		if (opt == 'h')
			opt = OPT_HELP;
		else if (opt == 'V')
			opt = OPT_VERSION;
		r = ctl_common_option(&c, opt, optarg);
		if (r != CTL_CONTINUE) {
			ctl_free(&c);
			return r < 0 ? ctl_bad_option(argv) : r;
		}
	}
	if (optind >= argc) {
		ctl_free(&c);
		return ctl_usage_error("no command given");
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		int sub_argc = argc - optind;
		char **sub_argv = argv + optind;
		optind = 0; /* restart getopt for the command's own options */
		r = commands[i].fn(&c, sub_argc, sub_argv);
		ctl_free(&c);
		return r;
	}
	ctl_free(&c);
	return ctl_usage_error("unknown command '%s'", name);
}
