/* SPDX-License-Identifier: MIT */
/*
 * Options: the ones every command takes (--root, --config, --verbose, --help,
 * --version, --json), the loop each command runs over its own, the usage errors with
 * the nearest option, and a UUID argument.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#ifndef GVTG_VERSION
#define GVTG_VERSION "0"
#endif

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
		    const struct option *options, int *ret_exit)
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

int ctl_parse_uuid(const char *arg, char ret_uuid[GVTG_UUID_STRLEN + 1])
{
	if (gvtg_uuid_normalize(arg, ret_uuid) < 0)
		return ctl_usage_error("'%s' is a malformed UUID (32 hex digits, with or without "
				       "dashes)",
				       arg);
	return CTL_CONTINUE;
}
