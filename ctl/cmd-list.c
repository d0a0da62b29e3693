/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl list, gvtgctl types: what the host offers (parents and their types, GVT-g's
 * description decoded) and which vGPUs exist and who holds them (the ownership records
 * the hook keeps), and the vGPUs the configuration creates at boot that are not there.
 *
 * Each table is built by one function from the library's data and a filter, so that
 * another kind of vGPU (a definition) is one more row source.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum {
	TC_PARENT,
	TC_TYPE,
	TC_NAME,
	TC_AVAIL,
	TC_RESOLUTION,
	TC_APERTURE,
	TC_HIDDEN,
	TC_FENCE,
	TC_WEIGHT,
	TC_API,
};

static const struct ctl_column type_columns[] = {
	[TC_PARENT] = { "PARENT", "parent", SCOLS_JSON_STRING, 0, 0 },
	[TC_TYPE] = { "TYPE", "type", SCOLS_JSON_STRING, 0, 0 },
	[TC_NAME] = { "NAME", "name", SCOLS_JSON_STRING, 0, 0 },
	[TC_AVAIL] = { "AVAIL", "available", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT, 0 },
	[TC_RESOLUTION] = { "RESOLUTION", "resolution", SCOLS_JSON_STRING, 0, 0 },
	[TC_APERTURE] = { "APERTURE", "aperture_mb", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT, 0 },
	[TC_HIDDEN] = { "HIDDEN", "hidden_mb", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT, 0 },
	[TC_FENCE] = { "FENCE", "fence", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT, 0 },
	[TC_WEIGHT] = { "WEIGHT", "weight", SCOLS_JSON_NUMBER, SCOLS_FL_RIGHT, 0 },
	[TC_API] = { "API", "device_api", SCOLS_JSON_STRING, 0, 0 },
};

enum {
	VC_UUID,
	VC_PARENT,
	VC_TYPE,
	VC_OWNER,
	VC_ORIGIN,
	VC_STATE,
	VC_DOMAIN_UUID,
};

static const struct ctl_column vgpu_columns[] = {
	[VC_UUID] = { "UUID", "uuid", SCOLS_JSON_STRING, 0, 0 },
	[VC_PARENT] = { "PARENT", "parent", SCOLS_JSON_STRING, 0, 0 },
	[VC_TYPE] = { "TYPE", "type", SCOLS_JSON_STRING, 0, 0 },
	[VC_OWNER] = { "OWNER", "owner", SCOLS_JSON_STRING, 0, 0 },
	[VC_ORIGIN] = { "ORIGIN", "origin", SCOLS_JSON_STRING, 0, 0 },
	[VC_STATE] = { "STATE", "state", SCOLS_JSON_STRING, 0, 0 },
	[VC_DOMAIN_UUID] = { "DOMAIN-UUID", "domain_uuid", SCOLS_JSON_STRING, SCOLS_FL_HIDDEN,
			     0 },
};

/* What list shows: everything, or one vGPU, or one parent's types and vGPUs. */
struct list_filter {
	const char *parent;
	char uuid[GVTG_UUID_STRLEN + 1]; /* "" for every vGPU */
	bool no_types;                   /* --uuid: only the vGPU */
};

static bool filter_vgpu(const struct list_filter *f, const char *uuid, const char *parent)
{
	if (!f)
		return true;
	if (f->uuid[0] && strcmp(f->uuid, uuid))
		return false;
	return !f->parent || (parent && !strcmp(f->parent, parent));
}

/* Megabytes for JSON, "128M" for people. */
static int cell_mb(struct ctl *c, struct libscols_line *ln, size_t col, unsigned mb)
{
	return ctl_cell_fmt(c, ln, col, c->json ? "%u" : "%uM", mb);
}

static int add_type_row(struct ctl *c, struct libscols_table *tb, const char *parent,
			const struct gvtg_type *t)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	if (!ln)
		return -ENOMEM;
	ctl_cell(c, ln, TC_PARENT, parent);
	if (!t)
		return 0; /* a parent that offers no type: say so with an empty row */
	ctl_cell(c, ln, TC_TYPE, t->id);
	ctl_cell(c, ln, TC_NAME, t->name);
	if (t->available >= 0)
		ctl_cell_fmt(c, ln, TC_AVAIL, "%d", t->available);
	else
		ctl_cell(c, ln, TC_AVAIL, NULL);
	ctl_cell(c, ln, TC_API, t->device_api);

	struct gvtg_gvt_info info;
	bool gvt = t->description && gvtg_gvt_info_parse(t->description, &info) == 0;
	ctl_cell(c, ln, TC_RESOLUTION, gvt && info.resolution[0] ? info.resolution : NULL);
	if (gvt) {
		cell_mb(c, ln, TC_APERTURE, info.low_gm_mb);
		cell_mb(c, ln, TC_HIDDEN, info.high_gm_mb);
		ctl_cell_fmt(c, ln, TC_FENCE, "%u", info.fence);
		ctl_cell_fmt(c, ln, TC_WEIGHT, "%u", info.weight);
	} else {
		for (size_t col = TC_APERTURE; col <= TC_WEIGHT; col++)
			ctl_cell(c, ln, col, NULL);
	}
	return 0;
}

/* The types table for one parent, or for all when parent is NULL. */
static int types_table(struct ctl *c, const char *only_parent, struct libscols_table **ret_tb)
{
	char **parents = NULL;
	size_t n_parents = 0;
	int r;

	if (only_parent) {
		parents = calloc(1, sizeof(*parents));
		if (!parents || !(parents[0] = strdup(only_parent))) {
			free(parents);
			return -ENOMEM;
		}
		n_parents = 1;
	} else {
		r = gvtg_parents_list(c->ctx, &parents, &n_parents);
		if (r < 0) {
			ctl_error("listing mdev parents, /sys/class/mdev_bus: %s. Check that "
				  "sysfs is mounted",
				  strerror(-r));
			return r;
		}
	}

	struct libscols_table *tb =
		ctl_table_new(c, "types", type_columns, sizeof(type_columns) / sizeof(type_columns[0]));
	if (!tb) {
		gvtg_strv_free(parents, n_parents);
		return -ENOMEM;
	}
	r = 0;
	for (size_t i = 0; i < n_parents && r >= 0; i++) {
		struct gvtg_type *types;
		size_t n;
		r = gvtg_types_list(c->ctx, parents[i], &types, &n);
		if (r == -ENOENT) {
			/* Registered, but mdev_supported_types is gone (unbinding). */
			r = add_type_row(c, tb, parents[i], NULL);
			continue;
		}
		if (r < 0) {
			ctl_error("listing the types of %s, /sys/class/mdev_bus/%s: %s", parents[i],
				  parents[i], strerror(-r));
			break;
		}
		if (n == 0)
			r = add_type_row(c, tb, parents[i], NULL);
		for (size_t k = 0; k < n && r >= 0; k++)
			r = add_type_row(c, tb, parents[i], &types[k]);
		gvtg_types_free(types, n);
	}
	gvtg_strv_free(parents, n_parents);
	if (r < 0) {
		scols_unref_table(tb);
		return r;
	}
	*ret_tb = tb;
	return 0;
}

static const struct gvtg_record *find_record(const struct gvtg_record *recs, size_t n,
					     const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(recs[i].uuid, uuid))
			return &recs[i];
	return NULL;
}

/* A boot vGPU of the configuration that does not exist now (not created yet, or its
 * creation failed): a row that says so, so that list shows what boot will make. */
static int add_boot_rows(struct ctl *c, struct libscols_table *tb, const struct list_filter *f,
			 const struct gvtg_device *devs, size_t n_devs)
{
	if (!c->cfg)
		return 0;
	for (size_t i = 0; i < c->cfg->n_devices; i++) {
		const struct gvtg_config_device *cd = &c->cfg->devices[i];
		if (!cd->boot)
			continue;
		bool exists = false;
		for (size_t k = 0; k < n_devs && !exists; k++)
			exists = !strcmp(devs[k].uuid, cd->uuid);
		if (exists)
			continue;
		/* Where boot will put it: the library's placement, else what is known. */
		struct gvtg_placement p = { 0 };
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_NONE, cd->uuid, NULL);
		bool placed = gvtg_placement_decide(c->ctx, NULL, c->cfg, cd->uuid,
						    GVTG_PLACE_QUIET, &d, &p, NULL) >= 0;
		const char *parent = placed ? p.parent : cd->parent ? cd->parent : c->cfg->parent;
		const char *type = placed ? p.type : cd->type ? cd->type : c->cfg->type;
		int r = 0;
		if (filter_vgpu(f, cd->uuid, parent)) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);
			if (!ln)
				r = -ENOMEM;
			else {
				ctl_cell(c, ln, VC_UUID, cd->uuid);
				ctl_cell(c, ln, VC_PARENT, parent);
				ctl_cell(c, ln, VC_TYPE, type);
				ctl_cell(c, ln, VC_OWNER, NULL);
				ctl_cell(c, ln, VC_ORIGIN, gvtg_origin_to_string(GVTG_ORIGIN_BOOT));
				ctl_cell(c, ln, VC_STATE, c->json ? "not-created" : "not created");
				ctl_cell(c, ln, VC_DOMAIN_UUID, NULL);
			}
		}
		gvtg_placement_clear(&p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int vgpus_table(struct ctl *c, const struct list_filter *f, struct libscols_table **ret_tb)
{
	struct gvtg_device *devs;
	size_t n_devs;
	int r = gvtg_devices_list(c->ctx, &devs, &n_devs);
	if (r < 0) {
		ctl_error("listing vGPUs, /sys/bus/mdev/devices: %s. Check that sysfs is "
			  "mounted",
			  strerror(-r));
		return r;
	}
	struct gvtg_record *recs = NULL;
	size_t n_recs = 0;
	r = gvtg_records_list(c->ctx, &recs, &n_recs);
	if (r < 0) {
		/* The devices are still worth showing; only the owners are unknown. */
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_READ_STATE, NULL, NULL);
		d.err = -r;
		ctl_report(c, &d, GVTG_CAUSE_STATE_UNREADABLE);
		recs = NULL;
		n_recs = 0;
	}

	struct libscols_table *tb =
		ctl_table_new(c, "vgpus", vgpu_columns, sizeof(vgpu_columns) / sizeof(vgpu_columns[0]));
	r = tb ? 0 : -ENOMEM;
	for (size_t i = 0; i < n_devs && r >= 0; i++) {
		const struct gvtg_device *d = &devs[i];
		if (!filter_vgpu(f, d->uuid, d->parent))
			continue;
		const struct gvtg_record *rec = find_record(recs, n_recs, d->uuid);
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln) {
			r = -ENOMEM;
			break;
		}
		ctl_cell(c, ln, VC_UUID, d->uuid);
		ctl_cell(c, ln, VC_PARENT, d->parent);
		ctl_cell(c, ln, VC_TYPE, d->type);
		/* The owner is a domain or nothing (null, "-"): never a word, which a domain
		 * could be named.  How an idle vGPU came to be is its origin. */
		const char *owner = NULL;
		if (rec && gvtg_record_in_use(rec))
			owner = rec->domain_name && rec->domain_name[0] ? rec->domain_name
									: rec->domain_uuid;
		ctl_cell(c, ln, VC_OWNER, owner);
		ctl_cell(c, ln, VC_ORIGIN, rec ? gvtg_origin_to_string(rec->origin) : NULL);
		ctl_cell(c, ln, VC_STATE, "active");
		ctl_cell(c, ln, VC_DOMAIN_UUID,
			 rec && gvtg_record_in_use(rec) ? rec->domain_uuid : NULL);
	}
	if (r >= 0)
		r = add_boot_rows(c, tb, f, devs, n_devs);
	gvtg_records_free(recs, n_recs);
	gvtg_devices_free(devs, n_devs);
	if (r < 0) {
		scols_unref_table(tb);
		return r;
	}
	*ret_tb = tb;
	return 0;
}

/* A parent named on the command line must be registered; the error lists those that
 * are, and the nearest one. */
static int check_parent(struct ctl *c, const char *what, const char *parent)
{
	int r = gvtg_parent_check(c->ctx, parent);
	if (r >= 0)
		return 0;
	char list[512];
	ctl_describe_parents(c, list, sizeof(list));
	char **names = NULL;
	size_t n = 0;
	const char *hint = NULL;
	if (r == -ENOENT && gvtg_parents_list(c->ctx, &names, &n) >= 0)
		hint = ctl_did_you_mean(parent, (const char *const *)names, n);
	if (r == -EINVAL)
		ctl_error("%s, %s: not a valid parent name. Registered parents: %s", what, parent,
			  list);
	else if (hint)
		ctl_error("%s, %s: no such mdev parent; did you mean '%s'? Registered parents: %s",
			  what, parent, hint, list);
	else
		ctl_error("%s, %s: %s. Registered parents: %s", what, parent,
			  r == -ENOENT ? "no such mdev parent" : strerror(-r), list);
	gvtg_strv_free(names, n);
	return r;
}

static int parse_json_only(struct ctl *c, int argc, char **argv,
			   int *ret_optind, bool *ret_defined)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "defined", no_argument, NULL, OPT_FIRST_COMMAND_OPTION },
		{ 0 },
	};
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0)
		if (opt == OPT_JSON)
			c->json = true;
		else if (opt == OPT_FIRST_COMMAND_OPTION && ret_defined)
			*ret_defined = true;
		else if (opt == OPT_FIRST_COMMAND_OPTION)
			return ctl_usage_error("--defined is an option of 'list' only");
	if (opt == 0)
		return exit_code;
	*ret_optind = optind;
	return CTL_CONTINUE;
}

enum {
	OPT_LIST_UUID = OPT_FIRST_COMMAND_OPTION,
	OPT_LIST_PARENT,
	OPT_LIST_DEFINED,
};

static void free_tables(struct libscols_table **tables, size_t n)
{
	for (size_t i = 0; i < n; i++)
		scols_unref_table(tables[i]);
}

/* Keep the rows of a table whose first two columns (UUID, PARENT) pass the filter. */
static void filter_rows(struct libscols_table *tb, const struct list_filter *f)
{
	if (!f->uuid[0] && !f->parent)
		return;
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln, *drop = NULL;
	while (it && scols_table_next_line(tb, it, &ln) == 0) {
		if (drop)
			scols_table_remove_line(tb, drop);
		struct libscols_cell *u = scols_line_get_cell(ln, 0);
		struct libscols_cell *p = scols_line_get_cell(ln, 1);
		const char *uuid = u ? scols_cell_get_data(u) : NULL;
		const char *parent = p ? scols_cell_get_data(p) : NULL;
		drop = filter_vgpu(f, uuid ? uuid : "", parent) ? NULL : ln;
	}
	if (drop)
		scols_table_remove_line(tb, drop);
	scols_free_iter(it);
}

/* The configuration names the boot vGPUs; a broken one is said, and the rest of the
 * list is still worth showing. */
static void load_boot_config(struct ctl *c)
{
	struct gvtg_config *cfg = NULL;
	int r = gvtg_config_load(c->ctx, c->config, &cfg);
	if (r >= 0) {
		c->cfg = cfg;
	} else {
		gvtg_diag_config(c->ctx, cfg, c->config, r, GVTG_OP_CONFIG, NULL, NULL);
		gvtg_config_free(cfg);
	}
}

int ctl_list_tables(struct ctl *c, struct libscols_table **ret_types,
		    struct libscols_table **ret_vgpus)
{
	load_boot_config(c);
	int r = types_table(c, NULL, ret_types);
	if (r < 0)
		return r;
	r = vgpus_table(c, NULL, ret_vgpus);
	if (r < 0)
		scols_unref_table(*ret_types);
	return r;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "uuid", required_argument, NULL, OPT_LIST_UUID },
		{ "parent", required_argument, NULL, OPT_LIST_PARENT },
		{ "defined", no_argument, NULL, OPT_LIST_DEFINED },
		{ 0 },
	};
	struct list_filter f = { 0 };
	bool defined = false;
	int opt, exit_code, r;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0) {
		if (opt == OPT_LIST_UUID) {
			if ((r = ctl_parse_uuid(optarg, f.uuid)) != CTL_CONTINUE)
				return r;
			f.no_types = true;
		} else if (opt == OPT_LIST_PARENT) {
			f.parent = optarg;
		} else if (opt == OPT_LIST_DEFINED) {
			defined = true;
		}
	}
	if (opt == 0)
		return exit_code;
	if (optind < argc)
		return ctl_usage_error("list takes no arguments, not '%s'", argv[optind]);
	if (ctl_open(c) < 0)
		return CTL_EXIT_FAILURE;
	if (f.parent && check_parent(c, "listing", f.parent) < 0)
		return CTL_EXIT_FAILURE;
	load_boot_config(c);

	/* --defined: mdevctl's definitions only; else the types, the vGPUs and the
	 * definitions, each narrowed by --uuid and --parent. */
	struct libscols_table *tables[3];
	size_t n = 0;
	if (!defined) {
		if (!f.no_types) {
			if (types_table(c, f.parent, &tables[n]) < 0)
				return CTL_EXIT_FAILURE;
			n++;
		}
		if (vgpus_table(c, &f, &tables[n]) < 0) {
			free_tables(tables, n);
			return CTL_EXIT_FAILURE;
		}
		n++;
	}
	if (ctl_definitions_table(c, &tables[n]) < 0) {
		free_tables(tables, n);
		return CTL_EXIT_FAILURE;
	}
	filter_rows(tables[n], &f);
	n++;
	if (f.uuid[0]) {
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any = any || !scols_table_is_empty(tables[i]);
		if (!any) {
			free_tables(tables, n);
			ctl_error("listing vGPU %s: no such vGPU (none active, none to create at "
				  "boot, no definition). 'gvtgctl list' shows them all",
				  f.uuid);
			return CTL_EXIT_FAILURE;
		}
	}
	return ctl_tables_print(c, tables, n) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

static int cmd_types(struct ctl *c, int argc, char **argv)
{
	int first = 0;
	int r = parse_json_only(c, argc, argv, &first, NULL);
	if (r != CTL_CONTINUE)
		return r;
	if (argc - first > 1)
		return ctl_usage_error("types takes at most one PARENT, not '%s'", argv[first + 1]);
	const char *parent = first < argc ? argv[first] : NULL;
	if (ctl_open(c) < 0)
		return CTL_EXIT_FAILURE;

	if (parent && check_parent(c, "listing types", parent) < 0)
		return CTL_EXIT_FAILURE;
	struct libscols_table *tb;
	if (types_table(c, parent, &tb) < 0)
		return CTL_EXIT_FAILURE;
	return ctl_tables_print(c, &tb, 1) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_list = {
	.name = "list",
	.fn = cmd_list,
	.json = true,
	.synopsis = "list [--uuid UUID] [--parent PARENT] [--defined] [--json]",
	.summary = "parents, their types, the vGPUs with their owners, definitions",
	.description =
		"Show every mdev parent with its vGPU types, and every vGPU: the active ones with\n"
		"the domain that holds them, the boot vGPUs of the configuration that are not\n"
		"created yet, and mdevctl's definitions.",
	.options = "  --uuid UUID       only this vGPU\n"
		"  --parent PARENT   only this parent's types, vGPUs and definitions\n"
		"  --defined         only mdevctl's definitions\n"
		"  --json            one JSON object instead of tables\n",
};

const struct ctl_command ctl_cmd_types = {
	.name = "types",
	.fn = cmd_types,
	.json = true,
	.synopsis = "types [PARENT] [--json]",
	.summary = "the vGPU types a parent offers",
	.description =
		"Show the vGPU types of every parent, or of PARENT: instances left, resolution,\n"
		"graphics memory, fences and weight.",
	.options = "  --json            one JSON object instead of a table\n",
};
