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

int cmd_create(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ 0 },
	};
	const char *parent = NULL, *type = NULL;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "", options, NULL, &exit_code)) > 0) {
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
		if (gvtg_uuid_normalize(argv[optind], uuid) < 0)
			return ctl_usage_error("'%s' is not a UUID (8-4-4-4-12 hex digits)",
					       argv[optind]);
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

int cmd_remove(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ 0 },
	};
	bool force = false;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "f", options, NULL, &exit_code)) > 0)
		if (opt == OPT_FORCE || opt == 'f')
			force = true;
	if (opt == 0)
		return exit_code;
	if (argc - optind != 1)
		return ctl_usage_error("remove takes exactly one UUID");
	char uuid[GVTG_UUID_STRLEN + 1];
	if (gvtg_uuid_normalize(argv[optind], uuid) < 0)
		return ctl_usage_error("'%s' is not a UUID (8-4-4-4-12 hex digits)", argv[optind]);
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;

	r = gvtg_vgpu_remove(c->ctx, c->cfg, uuid, force ? GVTG_REMOVE_FORCE : 0);
	if (r >= 0)
		ctl_note_removed_definition(c, uuid);
	return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
