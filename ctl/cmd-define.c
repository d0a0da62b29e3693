/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl define, gvtgctl undefine: a vGPU kept as an mdevctl definition, which libvirt's
 * node devices list (virsh nodedev-list --cap mdev --inactive) and virt-manager and
 * virt-install offer for a domain; the hook then starts it from its definition when the
 * domain starts, and stops it when the domain stops.  define places the vGPU as the hook
 * would (place.c) and refuses a UUID that a definition, an ownership record or another
 * active vGPU already holds; the file is written by lib/define.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum {
	OPT_PARENT = OPT_FIRST_COMMAND_OPTION,
	OPT_TYPE,
	OPT_AUTO,
};

/* Who else holds uuid: its definition, its record, or an active vGPU other than the
 * placement.  Says so (what is defining) and returns -EEXIST; 0 when nobody does. */
static int held_elsewhere(struct ctl *c, const char *what, const char *uuid)
{
	struct gvtg_definition def = { 0 };
	int r = gvtg_definition_find(c->ctx, uuid, &def);
	if (r == 0)
		ctl_error("%s: it is defined already in /%s (%s type %s). 'gvtgctl undefine %s' "
			  "removes that definition, or choose another UUID",
			  what, def.path, def.parent, def.type, uuid);
	else if (r == -ENOTUNIQ)
		ctl_error("%s: it is defined already, under two parents: /%s and /%s/%s/%s. "
			  "Choose another UUID",
			  what, def.path, GVTG_DEFINITIONS_DIR, def.other_parent, uuid);
	else if (r == -EBADMSG)
		ctl_error("%s: its definition /%s is damaged: %s. 'gvtgctl undefine %s' removes "
			  "it, or choose another UUID",
			  what, def.path, def.error, uuid);
	else if (r != -ENOENT)
		ctl_error("%s: reading the definitions in /%s: %s", what, GVTG_DEFINITIONS_DIR,
			  strerror(-r));
	gvtg_definition_clear(&def);
	if (r != -ENOENT)
		return -EEXIST;

	struct gvtg_record rec;
	r = gvtg_record_read(c->ctx, uuid, &rec);
	if (r >= 0) {
		if (gvtg_record_in_use(&rec))
			ctl_error("%s: domain '%s' holds it. Choose another UUID, or leave it out "
				  "to get a new one",
				  what, rec.domain_name && *rec.domain_name ? rec.domain_name
									   : rec.domain_uuid);
		else
			ctl_error("%s: it exists already as a vGPU of gvtg-hook (%s). 'gvtgctl remove "
				  "%s' removes it, or choose another UUID",
				  what, gvtg_origin_to_string(rec.origin), uuid);
		gvtg_record_clear(&rec);
		return -EEXIST;
	}
	struct gvtg_device dev;
	if (gvtg_device_get(c->ctx, uuid, &dev) >= 0) {
		ctl_error("%s: it exists already (%s type %s). Choose another UUID, or leave it "
			  "out to get a new one",
			  what, dev.parent ? dev.parent : "?", dev.type ? dev.type : "?");
		gvtg_device_clear(&dev);
		return -EEXIST;
	}
	return 0;
}

static void print_defined(struct ctl *c, const struct gvtg_definition *def,
			  const struct gvtg_placement *p)
{
	if (c->json) {
		fputs("{\n   \"uuid\": ", stdout);
		ctl_json_string(stdout, def->uuid);
		fputs(",\n   \"parent\": ", stdout);
		ctl_json_string(stdout, def->parent);
		fputs(",\n   \"type\": ", stdout);
		ctl_json_string(stdout, def->type);
		fputs(",\n   \"start\": ", stdout);
		ctl_json_string(stdout, def->autostart ? "auto" : "manual");
		printf(",\n   \"file\": \"/%s/%s/%s\"\n}\n", GVTG_DEFINITIONS_DIR, def->parent,
		       def->uuid);
		return;
	}
	printf("Defined vGPU %s: parent %s (%s), type %s (%s), start %s, in /%s/%s/%s.\n",
	       def->uuid, def->parent, ctl_source_string(p->parent_source), def->type,
	       ctl_source_string(p->type_source), def->autostart ? "auto" : "manual",
	       GVTG_DEFINITIONS_DIR, def->parent, def->uuid);
	printf("'virsh nodedev-list --cap mdev --inactive' lists it; give it to a domain with "
	       "virt-manager or virt-install --hostdev, or 'gvtgctl attach DOMAIN --uuid %s'. "
	       "The hook starts it when the domain starts.\n",
	       def->uuid);
}

static int cmd_define(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "auto", no_argument, NULL, OPT_AUTO },
		{ 0 },
	};
	const char *parent = NULL, *type = NULL;
	bool autostart = false;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0) {
		if (opt == OPT_JSON)
			c->json = true;
		else if (opt == OPT_PARENT)
			parent = optarg;
		else if (opt == OPT_TYPE)
			type = optarg;
		else if (opt == OPT_AUTO)
			autostart = true;
	}
	if (opt == 0)
		return exit_code;
	if (argc - optind > 1)
		return ctl_usage_error("define takes at most one UUID, not '%s'", argv[optind + 1]);
	struct gvtg_definition def = { .autostart = autostart };
	bool given = optind < argc;
	if (given && (r = ctl_parse_uuid(argv[optind], def.uuid)) != CTL_CONTINUE)
		return r;
	if (!given)
		gvtg_uuid_generate(def.uuid);
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;

	char what[96];
	snprintf(what, sizeof(what), "defining vGPU %s", def.uuid);
	/* Under the hook's lock: nothing starts or records this UUID meanwhile. */
	int lock = gvtg_lock_acquire(c->ctx, c->cfg->lock_timeout_ms);
	if (lock < 0) {
		ctl_error("%s: taking gvtg-hook's lock: %s. Try again", what, strerror(-lock));
		return CTL_EXIT_FAILURE;
	}
	int ret = CTL_EXIT_FAILURE;
	struct gvtg_placement p = { 0 };
	if (held_elsewhere(c, what, def.uuid) < 0 ||
	    ctl_place_vgpu(c, GVTG_OP_DEFINE, def.uuid, given, NULL, parent, type, &p) < 0)
		goto out;
	def.parent = p.parent;
	def.type = p.type;
	char detail[256];
	r = gvtg_definition_write(c->ctx, &def, c->cfg->mdevctl_timeout_ms, detail,
				  sizeof(detail));
	if (r < 0) {
		ctl_error("%s: %s%s%s. Nothing was defined", what, detail,
			  detail[0] ? ": " : "", strerror(-r));
		goto out;
	}
	print_defined(c, &def, &p);
	ret = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
out:
	gvtg_lock_release(lock);
	gvtg_placement_clear(&p);
	return ret;
}

static int cmd_undefine(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ 0 },
	};
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0)
		;
	if (opt == 0)
		return exit_code;
	if (argc - optind != 1)
		return ctl_usage_error("undefine takes exactly one UUID");
	char uuid[GVTG_UUID_STRLEN + 1];
	if ((r = ctl_parse_uuid(argv[optind], uuid)) != CTL_CONTINUE)
		return r;
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;

	char what[96];
	snprintf(what, sizeof(what), "undefining vGPU %s", uuid);
	struct gvtg_definition def = { 0 };
	r = gvtg_definition_find(c->ctx, uuid, &def);
	if (r == -ENOENT) {
		ctl_error("%s: it has no definition in /%s. 'gvtgctl list --defined' lists the "
			  "definitions",
			  what, GVTG_DEFINITIONS_DIR);
		return CTL_EXIT_FAILURE;
	}
	if (r == -ENOTUNIQ) {
		ctl_error("%s: it is defined under two parents, /%s and /%s/%s/%s: remove the "
			  "one you mean with 'mdevctl undefine --uuid %s --parent PARENT'",
			  what, def.path, GVTG_DEFINITIONS_DIR, def.other_parent, uuid, uuid);
		gvtg_definition_clear(&def);
		return CTL_EXIT_FAILURE;
	}
	if (r < 0 && r != -EBADMSG) {
		ctl_error("%s: reading the definitions in /%s: %s", what, GVTG_DEFINITIONS_DIR,
			  strerror(-r));
		gvtg_definition_clear(&def);
		return CTL_EXIT_FAILURE;
	}
	/* A damaged definition is removed like any other: it is what was asked. */
	char detail[256];
	r = gvtg_definition_delete(c->ctx, &def, c->cfg->mdevctl_timeout_ms, detail,
				   sizeof(detail));
	if (r < 0) {
		ctl_error("%s: %s%s%s. The definition /%s stays", what, detail,
			  detail[0] ? ": " : "", strerror(-r), def.path);
		gvtg_definition_clear(&def);
		return CTL_EXIT_FAILURE;
	}
	printf("Removed the definition /%s of vGPU %s.\n", def.path, uuid);
	struct gvtg_device dev;
	if (gvtg_device_get(c->ctx, uuid, &dev) >= 0) {
		printf("vGPU %s stays active until it is removed (by the hook when the domain "
		       "that holds it stops, else 'gvtgctl remove %s').\n",
		       uuid, uuid);
		gvtg_device_clear(&dev);
	}
	gvtg_definition_clear(&def);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

const struct ctl_command ctl_cmd_define = {
	.name = "define",
	.fn = cmd_define,
	.json = true,
	.synopsis = "define [UUID] [--type TYPE] [--parent PARENT] [--auto] [--json]",
	.summary = "keep a vGPU as an mdevctl definition (virt-manager lists it)",
	.description =
		"Write an mdevctl definition of a vGPU (a new UUID unless one is given), with the\n"
		"parent and type chosen as the hook chooses them, the options first. libvirt's\n"
		"node devices list it, so virt-manager and virt-install can give it to a domain;\n"
		"the hook starts it when the domain starts and stops it when the domain stops.\n"
		"Through 'mdevctl define' when mdevctl is installed, else the file itself.",
	.options =
		"  --type TYPE       the vGPU type ('gvtgctl types'); needed when there are several\n"
		"  --parent PARENT   the mdev parent; needed when several have the type\n"
		"  --auto            start \"auto\": mdevctl creates it when the parent registers\n"
		"  --json            one JSON object\n",
};

const struct ctl_command ctl_cmd_undefine = {
	.name = "undefine",
	.fn = cmd_undefine,
	.synopsis = "undefine UUID",
	.summary = "remove a vGPU's mdevctl definition",
	.description =
		"Remove the mdevctl definition of the vGPU UUID (through 'mdevctl undefine' when\n"
		"mdevctl is installed). An active vGPU stays active.",
	.options = NULL,
};
