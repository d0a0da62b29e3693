/* SPDX-License-Identifier: MIT */
/*
 * prepare begin: acquire the vGPUs of a starting domain (create, adopt, use or reuse), all
 * or nothing, under the lock.
 */
#include "lifecycle.h"

/* ---- prepare begin ---------------------------------------------------------------------- */

enum step_kind {
	STEP_NONE,
	STEP_CREATED,   /* made now: remove it; delete or restore its record */
	STEP_CLAIMED,   /* record written for an existing device: restore the old record */
	STEP_REUSED,    /* already this domain's: leave as is */
};

struct step {
	enum step_kind kind;
	char uuid[GVTG_UUID_STRLEN + 1];
	bool had_record;
	bool defined;   /* started from its definition: stopped like mdevctl stop */
	struct gvtg_record old;
};

struct acquire {
	struct gvtg_ctx *ctx;
	const struct gvtg_domain *dom;
	const struct gvtg_config *cfg;
};

static void step_keep_old(struct step *st, struct gvtg_record *rec)
{
	st->had_record = true;
	st->old = *rec;
	rec->domain_name = rec->domain_name ? strdup(rec->domain_name) : NULL;
	rec->parent = rec->parent ? strdup(rec->parent) : NULL;
	rec->type = rec->type ? strdup(rec->type) : NULL;
}

static int claim_existing(struct acquire *a, const struct gvtg_hostdev *hd,
			  const struct gvtg_device *dev, struct gvtg_record *rec, bool had_record,
			  struct step *st)
{
	const char *u = hd->uuid;
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_USE, u, a->dom->name);
	/* What the placement asks (a definition outranks [defaults] and automatic: mdevctl
	 * started an auto one); only a definition's own refusal stops here. */
	struct gvtg_placement p = { 0 };
	int r = gvtg_placement_decide(a->ctx, a->dom, a->cfg, u, GVTG_PLACE_EXISTS, &d, &p, NULL);
	if (r < 0) {
		gvtg_placement_clear(&p);
		return r;
	}
	/* Only an explicit choice can contradict what exists; "automatic" fits anything. */
	bool bad_type = p.type && p.type_source != GVTG_SOURCE_AUTO && dev->type &&
			strcmp(p.type, dev->type) != 0;
	bool bad_parent = p.parent && p.parent_source != GVTG_SOURCE_AUTO && dev->parent &&
			  strcmp(p.parent, dev->parent) != 0;
	if (bad_type || bad_parent) {
		diag_place(&d, dev->parent ? dev->parent : "?", dev->type ? dev->type : "?");
		copy(d.source, sizeof(d.source),
		     gvtg_source_to_string(bad_type ? p.type_source : p.parent_source));
		snprintf(d.detail, sizeof(d.detail), "%s type %s", p.parent ? p.parent : "?",
			 p.type ? p.type : "?");
		gvtg_placement_clear(&p);
		return report(a->ctx, &d, GVTG_CAUSE_EXISTS_ELSEWHERE, -EEXIST);
	}
	gvtg_placement_clear(&p);

	if (dev->parent && dev->type && hd->model) {
		struct gvtg_type t;
		if (gvtg_type_get(a->ctx, dev->parent, dev->type, &t) >= 0) {
			bool bad = t.device_api && strcmp(hd->model, t.device_api) != 0;
			if (bad) {
				diag_place(&d, dev->parent, dev->type);
				snprintf(d.detail, sizeof(d.detail),
					 "device_api '%s' but the <hostdev> has model='%s'",
					 t.device_api, hd->model);
			}
			gvtg_type_clear(&t);
			if (bad)
				return report(a->ctx, &d, GVTG_CAUSE_MODEL_MISMATCH, -EINVAL);
		}
	}

	if (had_record) {
		step_keep_old(st, rec);
	} else {
		copy(rec->uuid, sizeof(rec->uuid), u);
		rec->origin = GVTG_ORIGIN_ADOPTED;
		rec->parent = dev->parent ? strdup(dev->parent) : NULL;
		rec->type = dev->type ? strdup(dev->type) : NULL;
	}
	record_set_domain(rec, a->dom->uuid, a->dom->name);
	r = gvtg_record_write(a->ctx, rec);
	if (r < 0) {
		if (st->had_record) {
			gvtg_record_clear(&st->old);
			st->had_record = false;
		}
		d.err = -r;
		return report(a->ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
	}
	st->kind = STEP_CLAIMED;
	copy(st->uuid, sizeof(st->uuid), u);
	diag_place(&d, dev->parent ? dev->parent : "?", dev->type ? dev->type : "?");
	copy(d.detail, sizeof(d.detail), gvtg_origin_to_string(rec->origin));
	report(a->ctx, &d, had_record ? GVTG_CAUSE_DONE_USED : GVTG_CAUSE_DONE_ADOPTED, 0);
	return 0;
}

/* The device is missing.  A record may still say who it belongs to: another domain's
 * is refused; an admin's (manual, boot: e.g. removed for a suspend) keeps its origin,
 * parent and type, so that this domain's stop never removes it. */
static int create_new(struct acquire *a, const struct gvtg_hostdev *hd, struct step *st)
{
	const char *u = hd->uuid;
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_CREATE, u, a->dom->name);
	struct gvtg_record old = { 0 };
	int r = record_get(a->ctx, &d, u, &old);
	if (r < 0 && r != -ENOENT)
		return r;
	bool had_record = r >= 0;
	if (had_record && gvtg_record_in_use(&old) &&
	    strcmp(old.domain_uuid, a->dom->uuid) != 0) {
		r = held_by_other(a->ctx, &d, &old);
		gvtg_record_clear(&old);
		return r;
	}
	bool keep_origin = had_record && gvtg_origin_release_action(old.origin) ==
						  GVTG_RELEASE_ACTION_IDLE;

	/* The placement (policy.c): a definition is started, anything else created; an
	 * admin's vGPU comes back where its record says. */
	struct gvtg_placement p = { 0 };
	struct gvtg_definition def = { 0 };
	int defined = 0;
	if (keep_origin && old.parent && old.type) {
		p.parent = strdup(old.parent);
		p.type = strdup(old.type);
		p.parent_source = p.type_source = GVTG_SOURCE_CONFIG_DEVICE;
		r = p.parent && p.type ? 0 : -ENOMEM;
		if (r < 0)
			gvtg_explain_placement(a->ctx, &d, a->cfg, &p, r, false, NULL, NULL);
	} else {
		r = defined = gvtg_placement_decide(a->ctx, a->dom, a->cfg, u, 0, &d, &p, &def);
	}
	char def_file[sizeof(d.file)];
	copy(def_file, sizeof(def_file), d.file);
	if (defined > 0) {
		r = gvtg_start_defined(a->ctx, &d, a->cfg, &def, hd->model, false);
		gvtg_definition_clear(&def);
	} else if (r >= 0) {
		r = gvtg_create_device(a->ctx, &d, a->cfg, p.parent, p.type, hd->model,
				       p.type_source, false, u);
	}
	if (r < 0) {
		gvtg_placement_clear(&p);
		gvtg_record_clear(&old);
		return r;
	}
	copy(st->uuid, sizeof(st->uuid), u);
	st->kind = STEP_CREATED;
	st->defined = defined > 0;

	struct gvtg_record rec = { .origin = keep_origin ? old.origin
					     : defined > 0 ? GVTG_ORIGIN_DEFINED
							   : GVTG_ORIGIN_CREATED };
	copy(rec.uuid, sizeof(rec.uuid), u);
	rec.parent = p.parent;
	rec.type = p.type;
	record_set_domain(&rec, a->dom->uuid, a->dom->name);
	r = gvtg_record_write(a->ctx, &rec);
	free(rec.domain_name);
	if (had_record) {
		st->had_record = true;
		st->old = old;
	}
	if (r < 0) {
		diag_place(&d, p.parent, p.type);
		d.err = -r;
		copy(d.detail, sizeof(d.detail), "the vGPU was removed again");
		gvtg_placement_clear(&p);
		return report(a->ctx, &d, GVTG_CAUSE_RECORD_WRITE, r); /* rollback removes it */
	}
	snprintf(d.detail, sizeof(d.detail), "(%.60s %.60s%s%s%.120s)", p.parent, p.type,
		 keep_origin || defined ? ", " : "",
		 keep_origin ? gvtg_origin_to_string(rec.origin) : "", defined ? def_file : "");
	report(a->ctx, &d, GVTG_CAUSE_DONE_CREATED, 0);
	gvtg_placement_clear(&p);
	return 0;
}

static int acquire_one(struct acquire *a, const struct gvtg_hostdev *hd, struct step *st)
{
	const char *u = hd->uuid;
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_USE, u, a->dom->name);
	struct gvtg_device dev;
	int r = gvtg_device_get(a->ctx, u, &dev);
	if (r == -ENOENT)
		return create_new(a, hd, st);
	if (r < 0) {
		d.err = -r;
		return report(a->ctx, &d, GVTG_CAUSE_KERNEL_OTHER, r);
	}

	struct gvtg_record rec = { 0 };
	r = record_get(a->ctx, &d, u, &rec);
	if (r < 0 && r != -ENOENT) {
		gvtg_device_clear(&dev);
		return r;
	}
	bool had_record = r >= 0;
	if (had_record && gvtg_record_in_use(&rec)) {
		if (!strcmp(rec.domain_uuid, a->dom->uuid)) {
			/* Ours already: a crash or a killed libvirt left it. */
			st->kind = STEP_REUSED;
			copy(st->uuid, sizeof(st->uuid), u);
			diag_place(&d, dev.parent ? dev.parent : "?", dev.type ? dev.type : "?");
			r = report(a->ctx, &d, GVTG_CAUSE_DONE_REUSED, 0);
		} else {
			r = held_by_other(a->ctx, &d, &rec);
		}
	} else {
		r = claim_existing(a, hd, &dev, &rec, had_record, st);
	}
	gvtg_record_clear(&rec);
	gvtg_device_clear(&dev);
	return r;
}

static void rollback(struct acquire *a, struct step *steps, size_t n)
{
	int timeout = a->cfg ? a->cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	for (size_t i = n; i-- > 0;) {
		struct step *st = &steps[i];
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_ROLLBACK, st->uuid, a->dom->name);
		int r = 0;
		switch (st->kind) {
		case STEP_CREATED:
			/* A defined one is stopped as mdevctl would (its callouts see it);
			 * whatever mdevctl says, it must not stay. */
			r = st->defined ? gvtg_definition_stop(a->ctx, st->uuid, timeout, NULL, 0)
					: -EAGAIN;
			if (r < 0 && r != -ENOENT && r != -ETIMEDOUT)
				r = gvtg_mdev_remove_bounded(a->ctx, st->uuid, timeout);
			if (r < 0 && r != -ENOENT) {
				d.err = -r;
				d.timeout_ms = timeout;
				report(a->ctx, &d,
				       r == -ETIMEDOUT ? GVTG_CAUSE_REMOVE_BLOCKED
						       : GVTG_CAUSE_REMOVE_FAILED,
				       r);
				break; /* keep its record: it is still ours */
			}
			r = st->had_record ? gvtg_record_write(a->ctx, &st->old)
					   : gvtg_record_delete(a->ctx, st->uuid);
			report(a->ctx, &d, GVTG_CAUSE_DONE_ROLLED_BACK, 0);
			break;
		case STEP_CLAIMED:
			r = st->had_record ? gvtg_record_write(a->ctx, &st->old)
					   : gvtg_record_delete(a->ctx, st->uuid);
			break;
		case STEP_REUSED:
		case STEP_NONE:
			break;
		}
		if (r < 0 && r != -ETIMEDOUT && st->kind != STEP_CREATED) {
			d.err = -r;
			report(a->ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
		}
		if (st->had_record)
			gvtg_record_clear(&st->old);
	}
}

int gvtg_acquire(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
		 const struct gvtg_config *cfg)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_START, NULL, dom->name);
	if (dom->n_hostdevs == 0)
		return 0;
	if (!dom->uuid[0])
		return report(ctx, &d, GVTG_CAUSE_DOMAIN_NO_UUID, -EINVAL);
	if (dom->n_hostdevs > MAX_VGPUS) {
		d.err = E2BIG;
		return report(ctx, &d, GVTG_CAUSE_INTERNAL, -E2BIG);
	}
	int lock = lock_take(ctx, cfg, GVTG_OP_START, NULL, dom->name);
	if (lock < 0)
		return lock;
	struct step steps[MAX_VGPUS];
	memset(steps, 0, sizeof(steps));
	struct acquire a = { ctx, dom, cfg };
	int r = 0;
	size_t i;
	for (i = 0; i < dom->n_hostdevs; i++) {
		r = acquire_one(&a, &dom->hostdevs[i], &steps[i]);
		if (r < 0)
			break;
	}
	if (r < 0)
		rollback(&a, steps, i + 1);
	else
		for (size_t k = 0; k < dom->n_hostdevs; k++)
			if (steps[k].had_record)
				gvtg_record_clear(&steps[k].old);
	lock_drop(ctx, lock);
	return r < 0 ? r : 0;
}
