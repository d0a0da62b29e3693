/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl create, gvtgctl remove: one vGPU by hand, under the hook's lock and with an
 * ownership record, so that the hook adopts a manual vGPU when a domain uses it and
 * never removes it, and so that nobody removes a vGPU a running domain holds.
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
	if (optind < argc) {
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

	const char *what = "creating vGPU";
	int lock = ctl_lock(c, what);
	if (lock < 0)
		return CTL_EXIT_FAILURE;

	int ret = CTL_EXIT_FAILURE;
	struct gvtg_device dev;
	r = gvtg_device_get(c->ctx, uuid, &dev);
	if (r >= 0) {
		ctl_error("%s, %s: it exists already (%s type %s). Choose another UUID, or "
			  "leave it out to get a new one",
			  what, uuid, dev.parent ? dev.parent : "?", dev.type ? dev.type : "?");
		gvtg_device_clear(&dev);
		goto out;
	}
	struct gvtg_record rec;
	r = gvtg_record_read(c->ctx, uuid, &rec);
	if (r >= 0) {
		bool held = gvtg_record_in_use(&rec);
		if (held)
			ctl_error("%s, %s: a record says domain '%s' (%s) holds it. Choose another "
				  "UUID",
				  what, uuid, rec.domain_name ? rec.domain_name : "?",
				  rec.domain_uuid);
		gvtg_record_clear(&rec);
		if (held)
			goto out;
		/* A stale record of an idle vGPU that is gone: the new one replaces it. */
	}

	struct gvtg_placement p;
	/* A definition decides this UUID's parent and type: started from it, or refused. */
	r = ctl_create_defined(c, what, uuid, parent, type);
	if (r < 0 || (r == 0 && ctl_resolve(c, what, uuid, parent, type, &p) < 0))
		goto out;
	if (r == 0) {
		r = ctl_create_vgpu(c, what, uuid, p.parent, p.type, GVTG_ORIGIN_MANUAL);
		gvtg_placement_clear(&p);
		if (r < 0)
			goto out;
	}
	printf("%s\n", uuid);
	ret = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
out:
	gvtg_lock_release(lock);
	return ret;
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

	const char *what = "removing vGPU";
	int lock = ctl_lock(c, what);
	if (lock < 0)
		return CTL_EXIT_FAILURE;

	int ret = CTL_EXIT_FAILURE;
	struct gvtg_record rec = { 0 };
	r = gvtg_record_read(c->ctx, uuid, &rec);
	bool had_record = r >= 0, damaged = r == -EBADMSG;
	if (damaged && !force) {
		ctl_error("%s, %s: its ownership record /%s/%s is damaged. Check that no "
			  "domain uses the vGPU, then use --force",
			  what, uuid, gvtg_state_dir(), uuid);
		goto out;
	}
	if (r < 0 && r != -ENOENT && r != -EBADMSG) {
		ctl_error("%s, %s: reading its ownership record in /%s: %s", what, uuid,
			  gvtg_state_dir(), strerror(-r));
		goto out;
	}
	if (had_record && gvtg_record_in_use(&rec) && !force) {
		ctl_error("%s, %s: domain '%s' (%s) holds it. Shut the domain down first (the "
			  "hook then releases it), or use --force if the domain is not running",
			  what, uuid, rec.domain_name ? rec.domain_name : "?", rec.domain_uuid);
		goto out;
	}

	struct gvtg_device dev;
	r = gvtg_device_get(c->ctx, uuid, &dev);
	if (r == -ENOENT) {
		if (!had_record && !damaged) {
			ctl_error("%s, %s: no such vGPU. 'gvtgctl list' shows the vGPUs", what,
				  uuid);
			goto out;
		}
		/* Only a record is left: deleting it is what was asked. */
		r = gvtg_record_delete(c->ctx, uuid);
		if (r < 0) {
			ctl_error("%s, %s: deleting its stale record /%s/%s: %s", what, uuid,
				  gvtg_state_dir(), uuid, strerror(-r));
			goto out;
		}
		fprintf(stderr, "gvtgctl: vGPU %s did not exist; deleted its stale record\n",
			uuid);
		ret = CTL_EXIT_OK;
		goto out;
	}
	if (r < 0) {
		ctl_error("%s, %s: looking it up in /sys/bus/mdev/devices: %s", what, uuid,
			  strerror(-r));
		goto out;
	}
	gvtg_device_clear(&dev);
	if (ctl_remove_vgpu(c, what, uuid, had_record) >= 0) {
		ret = CTL_EXIT_OK;
		ctl_note_removed_definition(c, uuid);
	}
out:
	gvtg_record_clear(&rec);
	gvtg_lock_release(lock);
	return ret;
}
