/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl config: the effective configuration, the main file and its drop-ins merged,
 * each value with the file and line it came from (as sshd -T or systemd-analyze
 * cat-config show theirs).  The output is itself a valid configuration file; the
 * library decides what the settings are and how their values are written
 * (gvtg_config_foreach), this file only prints them.
 */
#include <errno.h>
#include <string.h>

#include "ctl.h"

struct printer {
	struct ctl *c;
	const char *section; /* the section printed last */
	bool first;
};

static int print_human(void *userdata, const char *section, const char *key,
		       const char *value, const struct gvtg_config_origin *origin)
{
	struct printer *p = userdata;
	if (!p->section || strcmp(p->section, section) != 0) {
		printf("\n[%s]\n", section);
		p->section = section;
	}
	if (!value) {
		printf("# %s: not set\n", key);
		return 0;
	}
	if (!origin)
		printf("%s = %s  # default\n", key, value);
	else if (origin->file)
		printf("%s = %s  # %s:%d\n", key, value, origin->file, origin->line);
	else
		printf("%s = %s\n", key, value);
	return 0;
}

static int print_json(void *userdata, const char *section, const char *key,
		      const char *value, const struct gvtg_config_origin *origin)
{
	struct printer *p = userdata;
	fputs(p->first ? "\n      {\"section\": " : ",\n      {\"section\": ", stdout);
	p->first = false;
	ctl_json_string(stdout, section);
	fputs(", \"key\": ", stdout);
	ctl_json_string(stdout, key);
	fputs(", \"value\": ", stdout);
	ctl_json_string(stdout, value);
	fputs(", \"file\": ", stdout);
	ctl_json_string(stdout, origin ? origin->file : NULL);
	if (origin && origin->file)
		printf(", \"line\": %d}", origin->line);
	else
		fputs(", \"line\": null}", stdout);
	return 0;
}

static int cmd_config(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0)
		if (opt == OPT_JSON)
			c->json = true;
	if (opt == 0)
		return exit_code;
	if (optind < argc)
		return ctl_usage_error("config takes no arguments, not '%s'", argv[optind]);
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;

	const struct gvtg_config *cfg = c->cfg;
	struct printer p = { .c = c, .first = true };
	if (c->json) {
		fputs("{\n   \"files\": [", stdout);
		for (size_t i = 0; i < cfg->n_files; i++) {
			fputs(i ? ", " : "", stdout);
			ctl_json_string(stdout, cfg->files[i]);
		}
		fputs("],\n   \"settings\": [", stdout);
		gvtg_config_foreach(cfg, print_json, &p);
		fputs("\n   ]\n}\n", stdout);
	} else {
		if (cfg->n_files == 0)
			puts("# no configuration file: the built-in defaults");
		for (size_t i = 0; i < cfg->n_files; i++)
			printf("# %s\n", cfg->files[i]);
		gvtg_config_foreach(cfg, print_human, &p);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("printing the configuration, stdout: %s. Check where the output goes",
			  strerror(EIO));
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_config = {
	.name = "config",
	.fn = cmd_config,
	.json = true,
	.synopsis = "config [--json]",
	.summary = "the effective configuration and where each value came from",
	.description =
		"Print the configuration the hook uses: the main file and its drop-ins\n"
		"(gvtg-hook.conf.d/*.conf) merged, each value with the file and line it came from\n"
		"or '# default'. The output is itself a valid configuration file.",
	.options = "  --json            one JSON object: the files read and every setting\n",
};
