/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl: the administrator's tool beside the gvtg-hook libvirt hook.  This file only
 * reads the global options (opt.c) and hands over to the command (cmd-help.c finds
 * it); see ctl.h.
 */
#include <getopt.h>

#include "ctl.h"

int main(int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
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
	const struct ctl_command *cmd = ctl_command_find(name);
	if (!cmd) {
		ctl_free(&c);
		return ctl_unknown_command(name);
	}
	if (c.json && !cmd->json) {
		ctl_free(&c);
		return ctl_usage_error("--json is for list, types, check, config and define, not %s", name);
	}
	c.command = cmd;
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* restart getopt for the command's own options */
	r = cmd->fn(&c, sub_argc, sub_argv);
	ctl_free(&c);
	return r;
}
