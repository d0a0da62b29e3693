/* SPDX-License-Identifier: MIT */
/*
 * Create and remove a vGPU by hand (gvtgctl create/remove; boot creates through the same
 * step), under the lock.
 */
#include "lifecycle.h"

/* ---- by hand ------------------------------------------------------------------------------ */

/* A vGPU made under the lock, for create and boot: the checks (exists? held? recorded?)
 * and the placement, the create, the record and the undo of the create when the record
 * cannot be written, kept in one function so that the order of those steps is seen at
 * once.  Over 80 lines for that reason. */
int gvtg_create_locked(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
		       const char *uuid, bool uuid_given, const char *parent, const char *type,
		       enum gvtg_origin origin, struct gvtg_placement *ret_placement)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, uuid_given ? uuid : NULL, NULL);
	struct gvtg_device dev;
	int r = gvtg_device_get(ctx, uuid, &dev);
	if (r >= 0) {
		diag_place(&d, dev.parent ? dev.parent : "?", dev.type ? dev.type : "?");
		gvtg_device_clear(&dev);
		/* The domain whose record holds it is named: it is that domain's now. */
		struct gvtg_record held;
		if (gvtg_record_read(ctx, uuid, &held) >= 0) {
			if (gvtg_record_in_use(&held))
				copy(d.holder, sizeof(d.holder),
				     held.domain_name && *held.domain_name ? held.domain_name
									   : held.domain_uuid);
			gvtg_record_clear(&held);
		}
		return report(ctx, &d, GVTG_CAUSE_EXISTS, -EEXIST);
	}
	struct gvtg_record rec;
	r = record_get(ctx, &d, uuid, &rec);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r >= 0) {
		bool held = gvtg_record_in_use(&rec);
		if (held)
			r = held_by_other(ctx, &d, &rec);
		gvtg_record_clear(&rec);
		if (held)
			return r;
		/* A stale record of an idle vGPU that is gone: the new one replaces it. */
	}

	struct gvtg_meta_device meta = { .parent = (char *)parent, .type = (char *)type };
	struct gvtg_domain dom = { .meta = &meta, .n_meta = 1 };
	copy(meta.uuid, sizeof(meta.uuid), uuid);
	/* The placement (policy.c), the command line standing for a domain's metadata: a
	 * definition is started, anything else created. */
	struct gvtg_placement p = { 0 };
	struct gvtg_definition def = { 0 };
	int defined = gvtg_placement_decide(ctx, parent || type ? &dom : NULL, cfg, uuid,
					    GVTG_PLACE_BY_HAND, &d, &p, &def);
	r = defined;
	if (defined > 0) {
		r = gvtg_start_defined(ctx, &d, cfg, &def, NULL, true);
		gvtg_definition_clear(&def);
	} else if (defined == 0) {
		r = gvtg_create_device(ctx, &d, cfg, p.parent, p.type, NULL, p.type_source, true,
				       uuid);
	}
	if (r < 0) {
		gvtg_placement_clear(&p);
		return r;
	}
	struct gvtg_record nr = {
		.origin = origin,
		.time = (int64_t)time(NULL),
		.parent = p.parent,
		.type = p.type,
	};
	copy(nr.uuid, sizeof(nr.uuid), uuid);
	r = gvtg_record_write(ctx, &nr);
	if (r < 0) {
		struct gvtg_removal rm = { .uuid = uuid, .defined = defined > 0,
					   .keep_record = true };
		gvtg_remove_vgpus(ctx, cfg, op, NULL, &rm, 1);
		d.err = -r;
		copy(d.detail, sizeof(d.detail), "the vGPU was removed again");
		gvtg_placement_clear(&p);
		return report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
	}
	copy(d.uuid, sizeof(d.uuid), uuid);
	snprintf(d.detail, sizeof(d.detail), "(%s %s)", p.parent, p.type);
	report(ctx, &d, GVTG_CAUSE_DONE_CREATED, 0);
	if (ret_placement)
		*ret_placement = p;
	else
		gvtg_placement_clear(&p);
	return 0;
}

int gvtg_vgpu_create(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *uuid,
		     bool uuid_given, const char *parent, const char *type,
		     enum gvtg_origin origin, struct gvtg_placement *ret_placement)
{
	enum gvtg_op op = origin == GVTG_ORIGIN_BOOT ? GVTG_OP_BOOT_CREATE : GVTG_OP_CREATE;
	int lock = lock_take(ctx, cfg, op, uuid_given ? uuid : NULL, NULL);
	if (lock < 0)
		return lock;
	int r = gvtg_create_locked(ctx, cfg, op, uuid, uuid_given, parent, type, origin,
				   ret_placement);
	lock_drop(ctx, lock);
	return r;
}

int gvtg_vgpu_remove(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *uuid,
		     unsigned flags)
{
	bool force = flags & GVTG_REMOVE_FORCE;
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_REMOVE, uuid, NULL);
	int lock = lock_take(ctx, cfg, GVTG_OP_REMOVE, uuid, NULL);
	if (lock < 0)
		return lock;
	struct gvtg_record rec = { 0 };
	int r = gvtg_record_read(ctx, uuid, &rec);
	bool had_record = r >= 0, damaged = r == -EBADMSG;
	if (r < 0 && r != -ENOENT && (!damaged || !force)) {
		d.err = -r;
		r = report(ctx, &d, damaged ? GVTG_CAUSE_RECORD_DAMAGED : GVTG_CAUSE_STATE_UNREADABLE,
			   r);
		goto out;
	}
	if (had_record && gvtg_record_in_use(&rec) && !force) {
		r = held_by_other(ctx, &d, &rec);
		goto out;
	}
	struct gvtg_device dev;
	r = gvtg_device_get(ctx, uuid, &dev);
	if (r == -ENOENT) {
		if (!had_record && !damaged) {
			r = report(ctx, &d, GVTG_CAUSE_NO_SUCH_VGPU, -ENOENT);
			goto out;
		}
		/* Only a record is left: deleting it is what was asked. */
		r = gvtg_record_delete(ctx, uuid);
		if (r < 0) {
			d.err = -r;
			r = report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
		} else {
			report(ctx, &d, GVTG_CAUSE_DONE_STALE_RECORD, 0);
		}
		goto out;
	}
	if (r < 0) {
		d.err = -r;
		r = report(ctx, &d, GVTG_CAUSE_KERNEL_OTHER, r);
		goto out;
	}
	diag_place(&d, dev.parent, dev.type);
	gvtg_device_clear(&dev);
	/* Even --force: writing to a held device blocks in the kernel for good. */
	r = gvtg_check_not_held(ctx, &d, uuid);
	if (r < 0)
		goto out;
	if (!had_record) {
		copy(rec.uuid, sizeof(rec.uuid), uuid);
		rec.origin = GVTG_ORIGIN_MANUAL;
	}
	/* A vGPU that mdevctl defines is stopped as `mdevctl stop` does. */
	bool defined = gvtg_vgpu_is_defined(ctx, uuid, had_record ? &rec : NULL);
	/* Without a record there is none to mark pending: remove, and keep none. */
	struct gvtg_removal rm = { .uuid = uuid, .rec = had_record ? &rec : NULL,
				   .defined = defined, .done = GVTG_CAUSE_DONE_REMOVED };
	if (gvtg_remove_vgpus(ctx, cfg, GVTG_OP_REMOVE, NULL, &rm, 1) == 0)
		r = 0;
	else
		r = had_record ? -EBUSY : rm.r;
out:
	gvtg_record_clear(&rec);
	lock_drop(ctx, lock);
	return r;
}
