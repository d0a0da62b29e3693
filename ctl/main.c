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

/* Every command: its synopsis, what it does, and its own options, for --help and
 * 'gvtgctl help COMMAND'.  The order is the order of the usage. */
static const struct ctl_command commands[] = {
	{ "list", cmd_list, true, "list [--uuid UUID] [--parent PARENT] [--defined] [--json]",
	  "parents, their types, the vGPUs with their owners, definitions",
	  "Show every mdev parent with its vGPU types, and every vGPU: the active ones with\n"
	  "the domain that holds them, the boot vGPUs of the configuration that are not\n"
	  "created yet, and mdevctl's definitions.",
	  "  --uuid UUID       only this vGPU\n"
	  "  --parent PARENT   only this parent's types, vGPUs and definitions\n"
	  "  --defined         only mdevctl's definitions\n"
	  "  --json            one JSON object instead of tables\n" },
	{ "types", cmd_types, true, "types [PARENT] [--json]", "the vGPU types a parent offers",
	  "Show the vGPU types of every parent, or of PARENT: instances left, resolution,\n"
	  "graphics memory, fences and weight.",
	  "  --json            one JSON object instead of a table\n" },
	{ "create", cmd_create, false, "create [--parent PARENT] [--type TYPE] [UUID]",
	  "create a vGPU and print its UUID",
	  "Create a vGPU now (a new UUID unless one is given) and record it as made by hand:\n"
	  "the hook lends it to a domain that names it and never removes it. The parent and\n"
	  "type are chosen as the hook chooses them, the options first.",
	  "  --parent PARENT   the mdev parent, e.g. 0000:00:02.0\n"
	  "  --type TYPE       the vGPU type, e.g. i915-GVTg_V5_4 ('gvtgctl types')\n" },
	{ "remove", cmd_remove, false, "remove [-f|--force] UUID",
	  "remove a vGPU no running domain holds",
	  "Remove a vGPU and its ownership record. A vGPU a running domain holds is refused.",
	  "  -f, --force       remove it even though its record names a domain (for a record\n"
	  "                    left by a domain that no longer runs)\n" },
	{ "check", cmd_check, true, "check [--json]", "check this host's GVT-g prerequisites",
	  "Check every prerequisite of a GVT-g host, one line each (PASS, WARN, FAIL, INFO)\n"
	  "with the fix, and a summary line. Exit status 1 when a check fails.",
	  "  --json            one JSON object; every check has a stable \"id\"\n" },
	{ "config", cmd_config, true, "config [--json]",
	  "the effective configuration and where each value came from",
	  "Print the configuration the hook uses: the main file and its drop-ins\n"
	  "(gvtg-hook.conf.d/*.conf) merged, each value with the file and line it came from\n"
	  "or '# default'. The output is itself a valid configuration file.",
	  "  --json            one JSON object: the files read and every setting\n" },
	{ "metrics", cmd_metrics, false, "metrics [--output FILE]",
	  "vGPUs, free instances and check results for Prometheus",
	  "Print OpenMetrics text for Prometheus' node_exporter textfile collector: the vGPUs\n"
	  "by parent, type, origin and state, the instances left per type, the removals\n"
	  "pending, and gvtgctl check's results by id. gvtg-metrics.timer runs this.",
	  "  --output FILE     write FILE atomically instead of stdout (a path on this\n"
	  "                    system, not under --root)\n" },
	{ "attach", cmd_attach, false,
	  "attach DOMAIN [--type TYPE] [--parent PARENT] [--uuid UUID]\n"
	  "                  [--display=off|gtk|spice] [--ramfb] [--romfile PATH] [--dry-run]\n"
	  "                  [--connect URI]",
	  "give a defined domain a vGPU (edits its definition)",
	  "Add a vGPU to a domain's persistent definition through libvirt: the <hostdev>, the\n"
	  "metadata that pins its parent and type (resolved as the hook will resolve them),\n"
	  "and what the display needs. The hook creates the vGPU when the domain starts.",
	  "  --type TYPE       the vGPU type ('gvtgctl types'); needed when there are several\n"
	  "  --parent PARENT   the mdev parent; needed when several have the type\n"
	  "  --uuid UUID       the vGPU's UUID (default: a new one)\n"
	  "  --display=off     no display from the vGPU (default)\n"
	  "  --display=gtk     QEMU's GTK window shows the vGPU (OpenGL)\n"
	  "  --display=spice   SPICE with OpenGL shows the vGPU; replaces <graphics>/<video>\n"
	  "  --ramfb           also show the firmware and boot screens\n"
	  "  --romfile PATH    an option ROM for the vGPU (UEFI guests)\n"
	  "  --dry-run         print the resulting domain XML, change nothing\n"
	  "  --connect URI     libvirt URI (default: $LIBVIRT_DEFAULT_URI, else\n"
	  "                    qemu:///system)\n" },
	{ "detach", cmd_detach, false, "detach DOMAIN [UUID] [--dry-run] [--connect URI]",
	  "take a vGPU that attach added out of a domain",
	  "Remove exactly what 'gvtgctl attach' added for the vGPU UUID (the domain's only one\n"
	  "when left out), and put back what it replaced.",
	  "  --dry-run         print the resulting domain XML, change nothing\n"
	  "  --connect URI     libvirt URI (default: $LIBVIRT_DEFAULT_URI, else\n"
	  "                    qemu:///system)\n" },
	{ "xml", cmd_xml, false,
	  "xml [UUID] [--type TYPE] [--parent PARENT] [--display=off|gtk|spice] [--ramfb]\n"
	  "               [--romfile PATH]",
	  "the domain XML of a vGPU, to paste with 'virsh edit'",
	  "Print the XML a vGPU needs in a domain, as one block: <metadata> and <devices>\n"
	  "(and, for a display, QEMU's elements) to merge into the domain with 'virsh edit'.\n"
	  "The parent and type are resolved as the hook will resolve them. 'gvtgctl attach'\n"
	  "does the same edit in one command.",
	  "  --type TYPE       the vGPU type ('gvtgctl types'); needed when there are several\n"
	  "  --parent PARENT   the mdev parent; needed when several have the type\n"
	  "  --display=off     no display from the vGPU (default)\n"
	  "  --display=gtk     QEMU's GTK window shows the vGPU (OpenGL)\n"
	  "  --display=spice   SPICE with OpenGL shows the vGPU\n"
	  "  --ramfb           also show the firmware and boot screens\n"
	  "  --romfile PATH    an option ROM for the vGPU (UEFI guests)\n" },
	{ "boot", cmd_boot, false, "boot [--stop]",
	  "create (remove) the boot vGPUs of the configuration",
	  "Create the vGPUs the configuration marks 'boot = yes' (gvtg-boot.service runs\n"
	  "this at boot).",
	  "  --stop            remove the boot vGPUs no running domain holds\n" },
	{ "sleep", cmd_sleep, false, "sleep pre|post",
	  "remove idle vGPUs before a host suspend, create them after",
	  "With remove_idle = yes in [sleep]: 'pre' removes the vGPUs no domain holds and\n"
	  "remembers them, 'post' creates them again (the system-sleep hook runs this).",
	  NULL },
	{ "help", cmd_help, false, "help [COMMAND]", "this help, or a command's",
	  "Show the commands, or what COMMAND does and its options.", NULL },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct ctl_command *ctl_command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
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
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  --root DIR      every path (/sys, /proc, /run, /etc, /dev) is under DIR\n"
		"  --config FILE   configuration file (default %s)\n"
		"  --json          JSON output, for list, types, check and config\n"
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

int cmd_help(struct ctl *c, int argc, char **argv)
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
		names[i] = commands[i].name;
	const char *hint = ctl_did_you_mean(name, names, N_COMMANDS);
	if (hint)
		return ctl_usage_error("unknown command '%s' (did you mean '%s'?)", name, hint);
	return ctl_usage_error("unknown command '%s'", name);
}

/* An unknown option, with the command's nearest one ("--jsno": "--json"). */
static int bad_option(char **argv, const struct option *options)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (strncmp(arg, "--", 2) != 0 || !arg[2])
		return ctl_bad_option(argv);
	char word[64];
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	const char *names[64];
	size_t n = 0;
	for (const struct option *o = options; o->name && n < 64; o++)
		names[n++] = o->name;
	const char *hint = ctl_did_you_mean(word, names, n);
	/* the option exists: its argument is what is missing */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], word))
			return ctl_usage_error("option '--%s' needs an argument", word);
	if (hint)
		return ctl_usage_error("unknown option '%s' (did you mean '--%s'?)", arg, hint);
	return ctl_bad_option(argv);
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
			r = bad_option(argv, options);
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
		if (c->command)
			ctl_command_help(stdout, c->command);
		else
			ctl_usage(stdout);
		return CTL_EXIT_OK;
	case OPT_JSON:
		c->json = true;
		return CTL_CONTINUE;
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
		return ctl_usage_error("--json is for list, types, check and config, not %s", name);
	}
	c.command = cmd;
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* restart getopt for the command's own options */
	r = cmd->fn(&c, sub_argc, sub_argv);
	ctl_free(&c);
	return r;
}
