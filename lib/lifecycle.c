/* SPDX-License-Identifier: MIT */
/*
 * The steps more than one lifecycle file takes: creating one vGPU (from the placement or
 * from its definition, checking what mdevctl made), sorting the records, and saying who
 * holds a vGPU's VFIO node.  Removing is removal.c's.
 */
#include "lifecycle.h"

/* The type exists, fits the hostdev's model and has an instance left; then create. */
int gvtg_create_device(struct gvtg_ctx *ctx, struct gvtg_diag *d,
		       const struct gvtg_config *cfg, const char *parent, const char *type,
		       const char *model, enum gvtg_source type_source, bool by_hand,
		       const char *uuid)
{
	struct gvtg_type t;
	int r = gvtg_type_get(ctx, parent, type, &t);
	if (r < 0) {
		gvtg_explain_type_unknown(ctx, d, parent, type, type_source, by_hand);
		return r;
	}
	if (model && t.device_api && strcmp(model, t.device_api) != 0) {
		diag_place(d, parent, type);
		snprintf(d->detail, sizeof(d->detail),
			 "device_api '%s' but the <hostdev> has model='%s'", t.device_api, model);
		gvtg_type_clear(&t);
		return report(ctx, d, GVTG_CAUSE_MODEL_MISMATCH, -EINVAL);
	}
	int avail = t.available;
	gvtg_type_clear(&t);
	if (avail == 0) {
		diag_place(d, parent, type);
		diag_types(ctx, d, parent, true);
		gvtg_no_room_reason(ctx, parent, type, d->detail, sizeof(d->detail));
		return report(ctx, d, GVTG_CAUSE_NO_INSTANCES, -ENOSPC);
	}
	if (!uuid)
		return 0; /* checks only: mdevctl creates it */
	r = gvtg_mdev_create(ctx, parent, type, uuid);
	if (r < 0)
		return gvtg_explain_create(ctx, d, cfg, parent, type, r);
	return 0;
}

/* Does the device mdevctl made match its definition?  0 yes; else -ENODEV (no device)
 * or -EMEDIUMTYPE (another parent or type), detail saying what is there. */
static int check_started(struct gvtg_ctx *ctx, const struct gvtg_definition *def, char *detail,
			 size_t size)
{
	struct gvtg_device dev;
	int r = gvtg_device_get(ctx, def->uuid, &dev);
	if (r < 0) {
		snprintf(detail, size, "/sys/bus/mdev/devices/%s does not exist", def->uuid);
		return -ENODEV;
	}
	bool same = dev.type && dev.parent && !strcmp(dev.type, def->type) &&
		    !strcmp(dev.parent, def->parent);
	if (!same)
		snprintf(detail, size, "the device is %.60s type %.60s", dev.parent ? dev.parent : "?",
			 dev.type ? dev.type : "?");
	gvtg_device_clear(&dev);
	return same ? 0 : -EMEDIUMTYPE;
}

/* A vGPU that mdevctl defines: through mdevctl when there is one (its callouts run, it
 * writes the attrs), bounded by mdevctl_timeout; else created like any other, then given
 * its attrs in order.  What mdevctl made must be the definition's device, else it goes
 * again (the one removal).  A failure leaves it not active. */
int gvtg_start_defined(struct gvtg_ctx *ctx, struct gvtg_diag *d,
		       const struct gvtg_config *cfg, const struct gvtg_definition *def,
		       const char *model, bool by_hand)
{
	int timeout = cfg ? cfg->mdevctl_timeout_ms : GVTG_MDEVCTL_TIMEOUT_MS_DEFAULT;
	char file[sizeof(d->file)];
	copy(file, sizeof(file), d->file);
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r == 0)
		r = gvtg_create_device(ctx, d, cfg, def->parent, def->type, model,
				       GVTG_SOURCE_DEFINITION, by_hand, def->uuid);
	else if (r > 0)
		r = gvtg_create_device(ctx, d, cfg, def->parent, def->type, model,
				       GVTG_SOURCE_DEFINITION, by_hand, NULL);
	if (r < 0)
		return r;
	d->detail[0] = '\0';
	if (mdevctl)
		r = gvtg_definition_start(ctx, def, timeout, d->detail, sizeof(d->detail));
	else
		r = gvtg_definition_apply_attrs(ctx, def, d->detail, sizeof(d->detail));
	diag_place(d, def->parent, def->type);
	copy(d->file, sizeof(d->file), file);
	if (r >= 0 && !mdevctl)
		return 0; /* the kernel made what was written to create */
	if (r >= 0) {
		r = check_started(ctx, def, d->detail, sizeof(d->detail));
		if (r >= 0)
			return 0;
		/* Whatever it is, it is not what the definition says: it must not stay. */
		struct gvtg_removal rm = { .uuid = def->uuid, .defined = true,
					   .keep_record = true };
		gvtg_remove_vgpus(ctx, cfg, d->op, d->domain[0] ? d->domain : NULL, &rm, 1);
		d->err = 0;
		return report(ctx, d, GVTG_CAUSE_DEFINITION_MISMATCH, r);
	}
	/* mdevctl's own words, or what was refused and the errno's (the table's words) */
	d->err = r == -EPROTO || r == -ETIMEDOUT ? 0 : -r;
	d->timeout_ms = timeout;
	if (r == -ETIMEDOUT)
		snprintf(d->detail, sizeof(d->detail), "%s did not finish within %d ms and was "
			 "killed", mdevctl ? mdevctl : "mdevctl", timeout);
	return report(ctx, d, GVTG_CAUSE_DEFINITION_START, r);
}


static int record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gvtg_record *)a)->uuid, ((const struct gvtg_record *)b)->uuid);
}

int gvtg_records_sorted(struct gvtg_ctx *ctx, enum gvtg_op op, struct gvtg_record **ret,
			size_t *ret_n)
{
	int r = gvtg_records_list(ctx, ret, ret_n);
	if (r < 0) {
		struct gvtg_diag d;
		gvtg_diag_init(&d, op, NULL, NULL);
		d.err = -r;
		return report(ctx, &d, GVTG_CAUSE_STATE_UNREADABLE, r);
	}
	if (*ret_n > 1)
		qsort(*ret, *ret_n, sizeof(**ret), record_cmp); /* a stable order for the output */
	return 0;
}


/* ---- a holder, in words (the scan is mdev.c's) ---- */

/* Not the hook's own release: look at the device itself before writing to it. */
int gvtg_check_not_held(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *uuid)
{
	long pid;
	char comm[32];
	int r = gvtg_device_holder(ctx, uuid, &pid, comm);
	if (r <= 0)
		return 0;
	d->pid = pid;
	copy(d->comm, sizeof(d->comm), comm);
	char want[2][64];
	size_t n = 0;
	if (gvtg_mdev_vfio_nodes(ctx, uuid, want, &n) >= 0 && n > 0)
		copy(d->detail, sizeof(d->detail), want[0]);
	return report(ctx, d, GVTG_CAUSE_HELD_BY_PROCESS, -EBUSY);
}
