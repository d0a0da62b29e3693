/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl and mdevctl's definitions (etc/mdevctl.d/<parent>/<uuid>): the definitions
 * table of `gvtgctl list`, `create` of a defined UUID (the definition decides its parent
 * and type), and the note `remove` gives for a vGPU that mdevctl brings back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* One line for the errors of gvtg_definition_find(); returns r. */
static int explain_find(const char *what, const char *uuid, struct gvtg_definition *d, int r)
{
	if (r == -ENOTUNIQ)
		ctl_error("%s, %s: it is defined under two parents, %s and %s (/%s/%s/%s and "
			  "/%s/%s/%s). Undefine one with 'mdevctl undefine --uuid %s --parent P'",
			  what, uuid, d->parent, d->other_parent, GVTG_DEFINITIONS_DIR, d->parent,
			  uuid, GVTG_DEFINITIONS_DIR, d->other_parent, uuid, uuid);
	else if (r == -EBADMSG)
		ctl_error("%s, %s: its definition /%s is damaged: %s. Fix the file, or remove "
			  "it with 'mdevctl undefine --uuid %s'",
			  what, uuid, d->path, d->error, uuid);
	else
		ctl_error("%s, %s: reading its definition in /%s: %s", what, uuid,
			  GVTG_DEFINITIONS_DIR, strerror(-r));
	return r;
}

int ctl_create_defined(struct ctl *c, const char *what, const char *uuid, const char *parent,
		       const char *type)
{
	struct gvtg_definition d = { 0 };
	int r = gvtg_definition_find(c->ctx, uuid, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		explain_find(what, uuid, &d, r);
		gvtg_definition_clear(&d);
		return r;
	}
	const char *field = NULL, *theirs = NULL, *ours = NULL;
	if (parent && strcmp(parent, d.parent) != 0)
		field = "parent", theirs = parent, ours = d.parent;
	else if (type && strcmp(type, d.type) != 0)
		field = "type", theirs = type, ours = d.type;
	if (field) {
		ctl_error("%s, %s: --%s %s contradicts its definition /%s, which gives %s %s. "
			  "Leave --%s out, or change the definition ('mdevctl modify')",
			  what, uuid, field, theirs, d.path, field, ours, field);
		gvtg_definition_clear(&d);
		return -EEXIST;
	}

	int timeout = c->cfg ? c->cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	char detail[512];
	r = gvtg_definition_start(c->ctx, &d, timeout, detail, sizeof(detail));
	if (r < 0) {
		char list[512];
		ctl_describe_types(c, d.parent, list, sizeof(list));
		char cause[700];
		if (r == -EPROTO)
			snprintf(cause, sizeof(cause), "mdevctl failed: %s", detail);
		else if (r == -ETIMEDOUT)
			snprintf(cause, sizeof(cause), "no answer within %d s%s%s", timeout / 1000,
				 detail[0] ? "; last said: " : "", detail);
		else
			snprintf(cause, sizeof(cause), "%s%s%s", detail, detail[0] ? ": " : "",
				 strerror(-r));
		ctl_error("%s, %s: starting its definition /%s (%s type %s): %s. Types on %s: %s",
			  what, uuid, d.path, d.parent, d.type, cause, d.parent, list);
		gvtg_definition_clear(&d);
		return r;
	}
	struct gvtg_record rec = {
		.origin = GVTG_ORIGIN_MANUAL,
		.time = (int64_t)time(NULL),
		.parent = d.parent,
		.type = d.type,
	};
	memcpy(rec.uuid, d.uuid, sizeof(rec.uuid));
	r = gvtg_record_write(c->ctx, &rec);
	if (r < 0) {
		ctl_error("%s, %s: writing its ownership record in /%s: %s. Check that /%s is "
			  "writable; the vGPU was stopped again",
			  what, uuid, gvtg_state_dir(), strerror(-r), gvtg_state_dir());
		(void)gvtg_definition_stop(c->ctx, d.uuid, timeout, NULL, 0);
	}
	gvtg_definition_clear(&d);
	return r < 0 ? r : 1;
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
