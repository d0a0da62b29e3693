/* SPDX-License-Identifier: MIT */
/*
 * Writing and removing an mdevctl definition (etc/mdevctl.d/<parent>/<uuid>), what
 * libvirt's node devices and virt-manager list as a vGPU to give a domain.  Through
 * `mdevctl define`/`undefine` when mdevctl is there (its notifiers run, and libvirt,
 * which watches mdevctl's directory, sees it at once); else the file itself, in mdevctl's
 * format, written atomically.  These are data sources: they return errors, the caller
 * words them (detail: mdevctl's last line, or what was not as it said).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gvtg-private.h"

/* mdevctl refuses every command without these two directories. */
#define SCRIPTS_DIR GVTG_DEFINITIONS_DIR "/scripts.d"

static char *definition_path(const char *parent, const char *uuid)
{
	return gvtg_path_join(GVTG_DEFINITIONS_DIR, parent, uuid, NULL);
}

/* Did mdevctl do what it said?  want: whether the file is to exist now. */
static int verify(struct gvtg_ctx *ctx, const char *mdevctl, const char *verb,
		  const char *path, bool want, char *detail, size_t detail_size)
{
	int r = gvtg_io_access(ctx, path);
	if (want ? r >= 0 : r == -ENOENT)
		return 0;
	gvtg_detail_set(detail, detail_size, "%s %s reported success, but /%s %s", mdevctl, verb,
		   path, want ? "does not exist" : "is still there");
	return want ? -ENOENT : -EEXIST;
}

int gvtg_definition_write(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			  int timeout_ms, char *detail, size_t detail_size)
{
	char u[GVTG_UUID_STRLEN + 1];
	if (gvtg_uuid_normalize(def->uuid, u) < 0 || !def->parent || !def->type ||
	    !gvtg_name_is_valid(def->parent) || !gvtg_name_is_valid(def->type))
		return -EINVAL;
	gvtg_detail_set(detail, detail_size, "%s", "");
	_cleanup_free_ char *path = definition_path(def->parent, u);
	if (!path)
		return -ENOMEM;
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		gvtg_detail_set(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r > 0) {
		char *const argv[] = { mdevctl, "define", "--uuid", u, "--parent", def->parent,
				       "--type", def->type, def->autostart ? "--auto" : NULL,
				       NULL };
		r = gvtg_mdevctl_run(ctx, argv, timeout_ms, detail, detail_size);
		return r < 0 ? r : verify(ctx, mdevctl, "define", path, true, detail, detail_size);
	}

	/* mdevctl's own layout and format, so that mdevctl and libvirt read it later. */
	_cleanup_free_ char *dir = gvtg_path_join(GVTG_DEFINITIONS_DIR, def->parent, NULL);
	if (!dir)
		return -ENOMEM;
	if ((r = gvtg_io_mkdir_p(ctx, dir, 0755)) < 0 ||
	    (r = gvtg_io_mkdir_p(ctx, SCRIPTS_DIR "/callouts", 0755)) < 0 ||
	    (r = gvtg_io_mkdir_p(ctx, SCRIPTS_DIR "/notifiers", 0755)) < 0) {
		gvtg_detail_set(detail, detail_size, "making /%s", dir);
		return r;
	}
	char json[512];
	int n = snprintf(json, sizeof(json),
			 "{\n  \"mdev_type\": \"%s\",\n  \"start\": \"%s\",\n  \"attrs\": []\n}\n",
			 def->type, def->autostart ? "auto" : "manual");
	if (n < 0 || (size_t)n >= sizeof(json))
		return -ENAMETOOLONG;
	r = gvtg_io_write_atomic(ctx, path, json, (size_t)n, 0644);
	if (r < 0)
		gvtg_detail_set(detail, detail_size, "writing /%s", path);
	return r;
}

int gvtg_definition_delete(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			   int timeout_ms, char *detail, size_t detail_size)
{
	char u[GVTG_UUID_STRLEN + 1];
	if (gvtg_uuid_normalize(def->uuid, u) < 0 || !def->parent ||
	    !gvtg_name_is_valid(def->parent))
		return -EINVAL;
	gvtg_detail_set(detail, detail_size, "%s", "");
	_cleanup_free_ char *path = definition_path(def->parent, u);
	if (!path)
		return -ENOMEM;
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		gvtg_detail_set(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r > 0) {
		char *const argv[] = { mdevctl, "undefine", "--uuid", u, "--parent", def->parent,
				       NULL };
		r = gvtg_mdevctl_run(ctx, argv, timeout_ms, detail, detail_size);
		return r < 0 ? r : verify(ctx, mdevctl, "undefine", path, false, detail,
					  detail_size);
	}
	r = gvtg_io_unlink(ctx, path);
	if (r < 0)
		gvtg_detail_set(detail, detail_size, "removing /%s", path);
	return r;
}
