/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl and mdevctl's definitions (etc/mdevctl.d/<parent>/<uuid>): the definitions
 * table of `gvtgctl list` and the note `remove` gives for a vGPU that mdevctl brings
 * back.  (`create` of a defined UUID is the library's: gvtg_vgpu_create().)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum {
	DC_UUID,
	DC_PARENT,
	DC_TYPE,
	DC_ORIGIN,
	DC_ACTIVE,
	DC_FILE,
	DC_ERROR,
};

static const struct ctl_column definition_columns[] = {
	[DC_UUID] = { "UUID", "uuid", SCOLS_JSON_STRING, 0, 0 },
	[DC_PARENT] = { "PARENT", "parent", SCOLS_JSON_STRING, 0, 0 },
	[DC_TYPE] = { "TYPE", "type", SCOLS_JSON_STRING, 0, 0 },
	[DC_ORIGIN] = { "ORIGIN", "origin", SCOLS_JSON_STRING, 0, 0 },
	[DC_ACTIVE] = { "ACTIVE", "active", SCOLS_JSON_BOOLEAN, 0, 0 },
	[DC_FILE] = { "FILE", "file", SCOLS_JSON_STRING, 0, 0 },
	[DC_ERROR] = { "ERROR", "error", SCOLS_JSON_STRING, SCOLS_FL_HIDDEN, 0 },
};

int ctl_definitions_table(struct ctl *c, struct libscols_table **ret_tb)
{
	struct gvtg_definition *defs;
	size_t n;
	int r = gvtg_definitions_list(c->ctx, &defs, &n);
	if (r < 0) {
		ctl_error("listing definitions, /%s: %s. Check the directory's permissions",
			  GVTG_DEFINITIONS_DIR, strerror(-r));
		return r;
	}
	struct libscols_table *tb = ctl_table_new(c, "definitions", definition_columns,
						  sizeof(definition_columns) /
							  sizeof(definition_columns[0]));
	r = tb ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct gvtg_definition *d = &defs[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		if (!ln) {
			r = -ENOMEM;
			break;
		}
		struct gvtg_device dev;
		bool active = gvtg_device_get(c->ctx, d->uuid, &dev) >= 0;
		if (active)
			gvtg_device_clear(&dev);
		ctl_cell(c, ln, DC_UUID, d->uuid);
		ctl_cell(c, ln, DC_PARENT, d->parent);
		ctl_cell(c, ln, DC_TYPE, d->type);
		ctl_cell(c, ln, DC_ORIGIN, d->type ? gvtg_definition_origin(d) : "damaged");
		ctl_cell(c, ln, DC_ACTIVE, c->json ? (active ? "1" : "0")
						   : (active ? "yes" : "no"));
		ctl_cell_fmt(c, ln, DC_FILE, "/%s", d->path);
		ctl_cell(c, ln, DC_ERROR, d->type ? NULL : d->error);
		if (!d->type)
			ctl_error("definition /%s is damaged: %s. Fix the file, or remove it with "
				  "'mdevctl undefine --uuid %s --parent %s'",
				  d->path, d->error, d->uuid, d->parent);
	}
	gvtg_definitions_free(defs, n);
	if (r < 0) {
		scols_unref_table(tb);
		return r;
	}
	*ret_tb = tb;
	return 0;
}

void ctl_note_removed_definition(struct ctl *c, const char *uuid)
{
	struct gvtg_definition d = { 0 };
	if (gvtg_definition_find(c->ctx, uuid, &d) == 0 && d.autostart)
		fprintf(stderr,
			"gvtgctl: vGPU %s is defined with start \"auto\" in /%s: it comes back when "
			"%s registers again (at the next boot). 'mdevctl undefine --uuid %s' "
			"removes the definition\n",
			uuid, d.path, d.parent, uuid);
	gvtg_definition_clear(&d);
}
