/* SPDX-License-Identifier: MIT */
/*
 * Starting and stopping a definition: through mdevctl when it is installed (so that its
 * callouts and notifiers run), or by writing sysfs like mdevctl does when it is not.
 * This file is the one place that chooses between the two.  mdevctl knows no root
 * directory: under a test root only an mdevctl named by GVTG_MDEVCTL is ever run.
 */
#include <stdarg.h>
#include <string.h>

#include "gvtg-private.h"

#define MDEV_DEVICES "sys/bus/mdev/devices"

/* ---- running mdevctl ------------------------------------------------------------ */

int gvtg_mdevctl_find(struct gvtg_ctx *ctx, char **ret_path)
{
	const char *env = secure_getenv("GVTG_MDEVCTL");
	const char *found = NULL;
	if (env) {
		if (!*env)
			return 0;
		if (env[0] != '/')
			return -EINVAL;
		found = env;
	} else if (!strcmp(ctx->root, "/")) {
		static const char *const dirs[] = { "/usr/sbin/mdevctl", "/usr/bin/mdevctl",
						    "/sbin/mdevctl", "/bin/mdevctl" };
		for (size_t i = 0; i < ELEMENTSOF(dirs) && !found; i++)
			if (access(dirs[i], X_OK) == 0)
				found = dirs[i];
	}
	if (!found)
		return 0;
	char *p = strdup(found);
	if (!p)
		return -ENOMEM;
	*ret_path = p;
	return 1;
}

int gvtg_mdevctl_run(struct gvtg_ctx *ctx, char *const argv[], int timeout_ms, char *detail,
		     size_t detail_size)
{
	const char *mdevctl = argv[0], *verb = argv[1];
	const char *uuid = argv[2] && !strcmp(argv[2], "--uuid") ? argv[3] : "?";
	struct gvtg_run run = { .argv = argv, .keep_fd = -1, .flags = GVTG_RUN_CAPTURE };
	gvtg_detail_set(detail, detail_size, "%s", "");
	int r = gvtg_run(&run, timeout_ms);
	if (r < 0) {
		gvtg_run_clear(&run);
		return r;
	}
	char line[256];
	gvtg_run_last_line(&run, line, sizeof(line));
	switch (run.state) {
	case GVTG_RUN_EXITED:
		if (run.code == 0) {
			r = 0;
		} else if ((run.code == 127 || run.code == 126) && !line[0]) {
			/* The shell's convention: 127 not found, 126 found but not runnable. */
			gvtg_detail_set(detail, detail_size, "cannot run %s", mdevctl);
			r = run.code == 127 ? -ENOENT : -EACCES;
		} else {
			if (line[0])
				gvtg_detail_set(detail, detail_size, "%s", line);
			else
				gvtg_detail_set(detail, detail_size, "exit status %d", run.code);
			r = -EPROTO;
		}
		break;
	case GVTG_RUN_SIGNALED:
		if (line[0])
			gvtg_detail_set(detail, detail_size, "%s", line);
		else
			gvtg_detail_set(detail, detail_size, "signal %d", run.code);
		r = -EPROTO;
		break;
	case GVTG_RUN_KILLED:
	case GVTG_RUN_LEFT:
		gvtg_detail_set(detail, detail_size, "%s", line);
		log_warning(ctx, "%s %s --uuid %s did not finish within %d ms; killed", mdevctl,
			    verb, uuid, timeout_ms);
		r = -ETIMEDOUT;
		break;
	default:
		r = run.code > 0 ? -run.code : -ECHILD;
		break;
	}
	if (r < 0 && r != -ETIMEDOUT)
		log_debug(ctx, "%s %s --uuid %s: failed: %s", mdevctl, verb, uuid,
			  detail ? detail : "");
	gvtg_run_clear(&run);
	return r;
}

static bool device_active(struct gvtg_ctx *ctx, const char *uuid)
{
	_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, uuid, NULL);
	return p && gvtg_io_access(ctx, p) == 0;
}

/* A start that failed half way: nothing may stay active.  The device was made a moment
 * ago by this call, so nothing holds it: the sysfs removal, the one way (removal.c). */
static void undo_start(struct gvtg_ctx *ctx, const char *uuid)
{
	struct gvtg_takedown t = { 0 };
	snprintf(t.uuid, sizeof(t.uuid), "%s", uuid);
	gvtg_takedown(ctx, &t, 1, 0, GVTG_REMOVE_TIMEOUT_MS_DEFAULT);
	if (t.r < 0 && t.r != -ENOENT)
		log_warning(ctx, "start %s: removing it again: errno %d", uuid, -t.r);
}

int gvtg_definition_apply_attrs(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
				char *detail, size_t detail_size)
{
	for (size_t i = 0; i < def->n_attrs; i++) {
		const struct gvtg_definition_attr *a = &def->attrs[i];
		_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, def->uuid, a->name, NULL);
		int r = p ? gvtg_io_write_attr(ctx, p, a->value, strlen(a->value)) : -ENOMEM;
		if (r < 0) {
			gvtg_detail_set(detail, detail_size, "writing '%s' to its attribute %s",
				   a->value, a->name);
			log_debug(ctx, "start %s: attribute %s: errno %d", def->uuid, a->name, -r);
			undo_start(ctx, def->uuid);
			return r;
		}
	}
	return 0;
}

int gvtg_definition_start(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			  int timeout_ms, char *detail, size_t detail_size)
{
	if (!def->type || !gvtg_name_is_valid(def->parent) || !gvtg_name_is_valid(def->type))
		return -EINVAL;
	gvtg_detail_set(detail, detail_size, "%s", "");
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		gvtg_detail_set(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r == 0) {
		r = gvtg_mdev_create(ctx, def->parent, def->type, def->uuid);
		if (r < 0) {
			gvtg_detail_set(detail, detail_size, "creating it on %s type %s", def->parent,
				   def->type);
			return r;
		}
		return gvtg_definition_apply_attrs(ctx, def, detail, detail_size);
	}
	char *const argv[] = { mdevctl, "start", "--uuid", (char *)def->uuid, "--parent",
			       (char *)def->parent, NULL };
	r = gvtg_mdevctl_run(ctx, argv, timeout_ms, detail, detail_size);
	/* mdevctl undoes a refused attr itself; a timeout or a failed callout can leave
	 * the device. */
	if (r < 0 && device_active(ctx, def->uuid))
		undo_start(ctx, def->uuid);
	return r;
}

/* For the definition writer (define.c): the same bounded run. */
