/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl's commands as one list, for the usage, 'gvtgctl help' and dispatch.  Each
 * command's row (name, synopsis, help text, options) lives in its own cmd-*.c file; the
 * order here is the order of the usage.
 */
#include <string.h>

#include "ctl.h"

static int cmd_help(struct ctl *c, int argc, char **argv);

const struct ctl_command ctl_cmd_help = {
	.name = "help",
	.fn = cmd_help,
	.synopsis = "help [COMMAND]",
	.summary = "this help, or a command's",
	.description = "Show the commands, or what COMMAND does and its options.",
};

static const struct ctl_command *const commands[] = {
	&ctl_cmd_list,  &ctl_cmd_types,  &ctl_cmd_create, &ctl_cmd_remove,
	&ctl_cmd_check, &ctl_cmd_config, &ctl_cmd_metrics,
	&ctl_cmd_attach, &ctl_cmd_detach, &ctl_cmd_xml,
	&ctl_cmd_define, &ctl_cmd_undefine,
	&ctl_cmd_boot,  &ctl_cmd_sleep,  &ctl_cmd_help,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct ctl_command *ctl_command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

void ctl_usage(FILE *f)
{
	fputs("usage: gvtgctl [--root DIR] [--config FILE] [--json] [--verbose] COMMAND [ARGS]\n"
	      "\n"
	      "Intel GVT-g vGPUs (mediated devices) for libvirt domains, beside gvtg-hook.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  --root DIR      every path (/sys, /proc, /run, /etc, /dev) is under DIR\n"
		"  --config FILE   configuration file (default %s)\n"
		"  --json          JSON output, for list, types, check, config and define\n"
		"  --verbose       show what the library does (twice: more)\n"
		"  --help, --version\n"
		"\n"
		"'gvtgctl help COMMAND' or 'gvtgctl COMMAND --help': a command's options.\n"
		"Exit status: 0 success, 1 failure (or a failed check), 2 usage error.\n"
		"See gvtgctl(8).\n",
		gvtg_config_default_path());
}

void ctl_command_help(FILE *f, const struct ctl_command *cmd)
{
	fprintf(f, "usage: gvtgctl %s\n\n%s\n", cmd->synopsis, cmd->description);
	if (cmd->options)
		fprintf(f, "\nOptions:\n%s", cmd->options);
	fputs("\nEvery command also takes --root DIR, --config FILE, --verbose, --help.\n"
	      "See gvtgctl(8).\n",
	      f);
}

static int cmd_help(struct ctl *c, int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		ctl_command_help(stdout, c->command);
		return CTL_EXIT_OK;
	}
	if (argc > 2)
		return ctl_usage_error("help takes at most one COMMAND, not '%s'", argv[2]);
	if (argc < 2) {
		ctl_usage(stdout);
		return CTL_EXIT_OK;
	}
	const struct ctl_command *cmd = ctl_command_find(argv[1]);
	if (!cmd)
		return ctl_unknown_command(argv[1]);
	ctl_command_help(stdout, cmd);
	return CTL_EXIT_OK;
}

int ctl_unknown_command(const char *name)
{
	const char *names[N_COMMANDS];
	for (size_t i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i]->name;
	const char *hint = ctl_did_you_mean(name, names, N_COMMANDS);
	if (hint)
		return ctl_usage_error("unknown command '%s' (did you mean '%s'?)", name, hint);
	return ctl_usage_error("unknown command '%s'", name);
}
