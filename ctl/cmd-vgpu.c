/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl create, gvtgctl remove: one vGPU by hand, through the library's lifecycle
 * (the hook's lock and ownership records), so that the hook uses a manual vGPU when a
 * domain asks for it and never removes it, and so that nobody removes a vGPU a running
 * domain or any process holds.
 */
#include <errno.h>
#include <string.h>

#include "ctl.h"

enum {
	OPT_PARENT = OPT_FIRST_COMMAND_OPTION,
	OPT_TYPE,
	OPT_FORCE,
};

static int cmd_create(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ 0 },
	};
	const char *parent = NULL, *type = NULL;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0) {
		if (opt == OPT_PARENT)
			parent = optarg;
		else if (opt == OPT_TYPE)
			type = optarg;
	}
	if (opt == 0)
		return exit_code;
	if (argc - optind > 1)
		return ctl_usage_error("create takes at most one UUID, not '%s'", argv[optind + 1]);

	char uuid[GVTG_UUID_STRLEN + 1];
	bool given = optind < argc;
	if (given) {
		if ((r = ctl_parse_uuid(argv[optind], uuid)) != CTL_CONTINUE)
			return r;
	} else {
		gvtg_uuid_generate(uuid);
	}
	if ((parent && !gvtg_name_is_valid(parent)) || (type && !gvtg_name_is_valid(type)))
		return ctl_usage_error("'%s' is not a valid %s name",
				       parent && !gvtg_name_is_valid(parent) ? parent : type,
				       parent && !gvtg_name_is_valid(parent) ? "parent" : "type");
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;
	r = gvtg_vgpu_create(c->ctx, c->cfg, uuid, given, parent, type, GVTG_ORIGIN_MANUAL, NULL);
	if (r < 0)
		return CTL_EXIT_FAILURE;
	printf("%s\n", uuid);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

static int cmd_remove(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ 0 },
	};
	bool force = false;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "f", options, &exit_code)) > 0)
		if (opt == OPT_FORCE || opt == 'f')
			force = true;
	if (opt == 0)
		return exit_code;
	if (argc - optind != 1)
		return ctl_usage_error("remove takes exactly one UUID");
	char uuid[GVTG_UUID_STRLEN + 1];
	if ((r = ctl_parse_uuid(argv[optind], uuid)) != CTL_CONTINUE)
		return r;
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;

	r = gvtg_vgpu_remove(c->ctx, c->cfg, uuid, force ? GVTG_REMOVE_FORCE : 0);
	if (r >= 0)
		ctl_note_removed_definition(c, uuid);
	return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_create = {
	.name = "create",
	.fn = cmd_create,
	.synopsis = "create [--parent PARENT] [--type TYPE] [UUID]",
	.summary = "create a vGPU and print its UUID",
	.description =
		"Create a vGPU now (a new UUID unless one is given) and record it as made by hand:\n"
		"the hook lends it to a domain that names it and never removes it. The parent and\n"
		"type are chosen as the hook chooses them, the options first.",
	.options = "  --parent PARENT   the mdev parent, e.g. 0000:00:02.0\n"
		"  --type TYPE       the vGPU type, e.g. i915-GVTg_V5_4 ('gvtgctl types')\n",
};

const struct ctl_command ctl_cmd_remove = {
	.name = "remove",
	.fn = cmd_remove,
	.synopsis = "remove [-f|--force] UUID",
	.summary = "remove a vGPU no running domain holds",
	.description =
		"Remove a vGPU and its ownership record. A vGPU a running domain holds is refused.",
	.options =
		"  -f, --force       remove it even though its record names a domain (for a record\n"
		"                    left by a domain that no longer runs)\n",
};
