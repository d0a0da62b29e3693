/* SPDX-License-Identifier: MIT */
/*
 * The vGPU lifecycle, one policy for the hook and gvtgctl: acquire the vGPUs of a
 * starting domain (create, adopt, use or reuse; all or nothing), release what a stopping
 * domain holds, restore missing records on reconnect, create and remove by hand, boot and
 * suspend.  Every decision is taken under the lock; every failure and every action is
 * reported through the context's report callback with a cause of the diagnosis table.
 */
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gvtg-private.h"

/* ---- what release does with each origin: the ONE place -------------------------------
 * A new origin is one row here (and its name in state.c).  A vGPU defined in mdevctl,
 * say, would be a row whose action stops the definition's device. */
static const enum gvtg_release_action release_actions[] = {
	[GVTG_ORIGIN_CREATED] = GVTG_RELEASE_ACTION_REMOVE,
	[GVTG_ORIGIN_ADOPTED] = GVTG_RELEASE_ACTION_DROP,
	[GVTG_ORIGIN_MANUAL] = GVTG_RELEASE_ACTION_IDLE,
	[GVTG_ORIGIN_BOOT] = GVTG_RELEASE_ACTION_IDLE,
	[GVTG_ORIGIN_DEFINED] = GVTG_RELEASE_ACTION_STOP,
};

enum gvtg_release_action gvtg_origin_release_action(enum gvtg_origin o)
{
	/* Unknown: never remove what we cannot account for. */
	if ((size_t)o < ELEMENTSOF(release_actions))
		return release_actions[o];
	return GVTG_RELEASE_ACTION_IDLE;
}

#define MAX_VGPUS 64

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void diag_place(struct gvtg_diag *d, const char *parent, const char *type)
{
	copy(d->parent, sizeof(d->parent), parent);
	copy(d->type, sizeof(d->type), type);
}

static void diag_file(struct gvtg_diag *d, const struct gvtg_config *cfg)
{
	const char *p = cfg && cfg->path ? cfg->path : gvtg_config_default_path();
	snprintf(d->file, sizeof(d->file), "%s%s", p[0] == '/' ? "" : "/", p);
}

static void diag_types(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *parent,
		       bool free_only)
{
	gvtg_types_summary(ctx, parent,
			   GVTG_SUMMARY_DETAILS | (free_only ? GVTG_SUMMARY_FREE_ONLY : 0),
			   d->types, sizeof(d->types));
}

static int report(struct gvtg_ctx *ctx, struct gvtg_diag *d, enum gvtg_cause cause, int r)
{
	gvtg_diag_report(ctx, d, cause);
	return r;
}

static const char *source_words(enum gvtg_source s, bool by_hand)
{
	/* By hand, the command line stands where a domain has its metadata. */
	if (by_hand && s == GVTG_SOURCE_METADATA)
		return "command line";
	return gvtg_source_to_string(s);
}

static void lock_drop(struct gvtg_ctx *ctx, int fd)
{
	if (fd >= 0 && ctx->lock_fd == fd)
		ctx->lock_fd = -1;
	gvtg_lock_release(fd);
}

static int lock_take(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
		     const char *uuid, const char *domain)
{
	int timeout = cfg ? cfg->lock_timeout_ms : GVTG_LOCK_TIMEOUT_MS_DEFAULT;
	int fd = gvtg_lock_acquire(ctx, timeout);
	if (fd >= 0)
		return fd;
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, uuid, domain);
	d.err = -fd;
	d.timeout_ms = timeout;
	return report(ctx, &d, fd == -ETIMEDOUT ? GVTG_CAUSE_LOCK_TIMEOUT : GVTG_CAUSE_LOCK_FAILED,
		      fd);
}

/* ---- explaining placement and create failures --------------------------------------- */

static int explain_placement(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			     const struct gvtg_config *cfg, const struct gvtg_placement *p,
			     int r, bool by_hand, const char *asked_parent, const char *asked_type)
{
	diag_file(d, cfg);
	diag_place(d, p->parent, p->type);
	switch (r) {
	case -ENXIO:
		return report(ctx, d, GVTG_CAUSE_NO_PARENT, r);
	case -ENOENT:
		copy(d->source, sizeof(d->source), source_words(p->parent_source, by_hand));
		gvtg_parents_summary(ctx, d->detail, sizeof(d->detail));
		if (!d->detail[0])
			copy(d->detail, sizeof(d->detail), "none");
		return report(ctx, d, GVTG_CAUSE_PARENT_UNKNOWN, r);
	case -EINVAL:
		copy(d->detail, sizeof(d->detail),
		     asked_type && !gvtg_name_is_valid(asked_type)	   ? asked_type
		     : asked_parent && !gvtg_name_is_valid(asked_parent) ? asked_parent
									 : "");
		copy(d->source, sizeof(d->source),
		     by_hand ? "command line or configuration" : "domain metadata or configuration");
		return report(ctx, d, GVTG_CAUSE_NAME_INVALID, r);
	case -ENOTUNIQ:
		if (!p->parent) {
			gvtg_parents_summary(ctx, d->detail, sizeof(d->detail));
			return report(ctx, d, GVTG_CAUSE_PARENT_AMBIGUOUS, r);
		}
		diag_types(ctx, d, p->parent, false);
		return report(ctx, d, GVTG_CAUSE_TYPE_AMBIGUOUS, r);
	case -ENODATA:
		return report(ctx, d, GVTG_CAUSE_NO_TYPES, r);
	}
	d->err = -r;
	return report(ctx, d, GVTG_CAUSE_INTERNAL, r);
}

void gvtg_placement_explain(struct gvtg_ctx *ctx, const struct gvtg_config *cfg,
			    const char *uuid, const struct gvtg_placement *p, int r,
			    const char *parent, const char *type)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_CREATE, uuid, NULL);
	explain_placement(ctx, &d, cfg, p, r, true, parent, type);
}

/* Why a type has no instance left, from the descriptions GVT-g gives: every vGPU takes
 * graphics memory and fence registers.  When a type needing as many fences but less
 * memory still fits, memory is the limit; when only types needing fewer fences fit,
 * fences are. */
static void no_room_reason(struct gvtg_ctx *ctx, const char *parent, const char *type,
			   char *out, size_t size)
{
	struct gvtg_type *types;
	size_t n;
	struct gvtg_gvt_info want = { 0 };
	bool gvt = false, mem = false, fence = false;
	if (gvtg_types_list(ctx, parent, &types, &n) >= 0) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(types[i].id, type) && types[i].description &&
			    gvtg_gvt_info_parse(types[i].description, &want) == 0 && want.fence)
				gvt = true;
		for (size_t i = 0; gvt && i < n; i++) {
			struct gvtg_gvt_info o;
			if (types[i].available <= 0 || !types[i].description ||
			    gvtg_gvt_info_parse(types[i].description, &o) < 0 || !o.fence)
				continue;
			if (o.fence >= want.fence)
				mem = true;
			else
				fence = true;
		}
		gvtg_types_free(types, n);
	}
	if (!gvt)
		snprintf(out, size, "other mediated devices use the parent's capacity");
	else if (mem)
		snprintf(out, size, "other vGPUs use the graphics memory it needs (%u MiB)",
			 want.low_gm_mb + want.high_gm_mb);
	else if (fence)
		snprintf(out, size, "other vGPUs use the fence registers it needs (%u)",
			 want.fence);
	else
		snprintf(out, size, "other vGPUs use the graphics memory and fence registers, or "
				    "the firmware's aperture is too small");
}

static int explain_create(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			  const struct gvtg_config *cfg, const char *parent, const char *type,
			  int r)
{
	diag_place(d, parent, type);
	diag_file(d, cfg);
	d->err = -r;
	switch (r) {
	case -ENOSPC:
	case -EUSERS:
	case -EDQUOT: {
		struct gvtg_type t;
		int avail = -1;
		if (gvtg_type_get(ctx, parent, type, &t) >= 0) {
			avail = t.available;
			gvtg_type_clear(&t);
		}
		diag_types(ctx, d, parent, true);
		if (r == -ENOSPC && avail > 0) {
			snprintf(d->detail, sizeof(d->detail), "%d instance%s", avail,
				 avail == 1 ? "" : "s");
			return report(ctx, d, GVTG_CAUSE_FRAGMENTED, r);
		}
		no_room_reason(ctx, parent, type, d->detail, sizeof(d->detail));
		return report(ctx, d, GVTG_CAUSE_NO_ROOM, r);
	}
	case -ENOENT:
		return report(ctx, d, GVTG_CAUSE_CREATE_ENOENT, r);
	case -EEXIST:
		return report(ctx, d, GVTG_CAUSE_UUID_IN_USE, r);
	case -EACCES:
	case -EPERM:
		return report(ctx, d, GVTG_CAUSE_PERMISSION, r);
	case -EINVAL:
		return report(ctx, d, GVTG_CAUSE_KERNEL_EINVAL, r);
	case -ENODEV:
		return report(ctx, d, GVTG_CAUSE_PARENT_GOING, r);
	case -EBUSY:
		return report(ctx, d, GVTG_CAUSE_KERNEL_BUSY, r);
	case -EIO:
		return report(ctx, d, GVTG_CAUSE_SHORT_WRITE, r);
	}
	return report(ctx, d, GVTG_CAUSE_KERNEL_OTHER, r);
}

/* The type exists, fits the hostdev's model and has an instance left; then create. */
static int create_device(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			 const struct gvtg_config *cfg, const char *parent, const char *type,
			 const char *model, enum gvtg_source type_source, bool by_hand,
			 const char *uuid)
{
	struct gvtg_type t;
	int r = gvtg_type_get(ctx, parent, type, &t);
	if (r < 0) {
		diag_place(d, parent, type);
		diag_types(ctx, d, parent, false);
		copy(d->source, sizeof(d->source), source_words(type_source, by_hand));
		gvtg_type_suggest(ctx, parent, type, d->detail, sizeof(d->detail));
		return report(ctx, d, GVTG_CAUSE_TYPE_UNKNOWN, r);
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
		no_room_reason(ctx, parent, type, d->detail, sizeof(d->detail));
		return report(ctx, d, GVTG_CAUSE_NO_INSTANCES, -ENOSPC);
	}
	if (!uuid)
		return 0; /* checks only: mdevctl creates it */
	r = gvtg_mdev_create(ctx, parent, type, uuid);
	if (r < 0)
		return explain_create(ctx, d, cfg, parent, type, r);
	return 0;
}

/* A vGPU that mdevctl defines: through mdevctl when there is one (its callouts run, it
 * writes the attrs); else created like any other, then given its attrs in order.  A
 * failure leaves it not active (mdevctl.c undoes its part). */
static int start_defined(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			 const struct gvtg_config *cfg, const struct gvtg_definition *def,
			 const char *model, bool by_hand)
{
	int timeout = cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	char file[sizeof(d->file)];
	copy(file, sizeof(file), d->file);
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r == 0)
		r = create_device(ctx, d, cfg, def->parent, def->type, model,
				  GVTG_SOURCE_DEFINITION, by_hand, def->uuid);
	else if (r > 0)
		r = create_device(ctx, d, cfg, def->parent, def->type, model,
				  GVTG_SOURCE_DEFINITION, by_hand, NULL);
	if (r < 0)
		return r;
	d->detail[0] = '\0';
	if (mdevctl)
		r = gvtg_definition_start(ctx, def, timeout, d->detail, sizeof(d->detail));
	else
		r = gvtg_definition_apply_attrs(ctx, def, timeout, d->detail, sizeof(d->detail));
	if (r >= 0)
		return 0;
	diag_place(d, def->parent, def->type);
	copy(d->file, sizeof(d->file), file);
	/* mdevctl's own words, or what was refused and the errno's (the table's words) */
	d->err = r == -EPROTO || r == -ETIMEDOUT ? 0 : -r;
	d->timeout_ms = timeout;
	if (r == -ETIMEDOUT)
		snprintf(d->detail, sizeof(d->detail), "%s did not finish within %d ms and was "
			 "killed", mdevctl ? mdevctl : "mdevctl", timeout);
	return report(ctx, d, GVTG_CAUSE_DEFINITION_START, r);
}

/* ---- reading records ------------------------------------------------------------------ */

/* A record, or a report: -ENOENT is "no record" and not reported. */
static int record_get(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *uuid,
		      struct gvtg_record *ret)
{
	int r = gvtg_record_read(ctx, uuid, ret);
	if (r >= 0 || r == -ENOENT)
		return r;
	d->err = -r;
	return report(ctx, d, r == -EBADMSG ? GVTG_CAUSE_RECORD_DAMAGED : GVTG_CAUSE_STATE_UNREADABLE,
		      r);
}

static void record_set_domain(struct gvtg_record *rec, const char *domain_uuid,
			      const char *domain_name)
{
	free(rec->domain_name);
	rec->domain_name = domain_name ? strdup(domain_name) : NULL;
	copy(rec->domain_uuid, sizeof(rec->domain_uuid), domain_uuid);
	rec->time = (int64_t)time(NULL);
	rec->remove_pending = false;
}

static int held_by_other(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			 const struct gvtg_record *rec)
{
	copy(d->holder, sizeof(d->holder),
	     rec->domain_name && *rec->domain_name ? rec->domain_name : rec->domain_uuid);
	return report(ctx, d, GVTG_CAUSE_HELD_BY_DOMAIN, -EBUSY);
}

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
	struct gvtg_placement p = { 0 };
	/* A definition outranks [defaults] and automatic (mdevctl started an auto one). */
	struct gvtg_definition def = { 0 };
	int r = gvtg_definition_lookup(a->ctx, a->dom, a->cfg, u, false, &d, &def);
	if (r < 0)
		return r;
	if (r > 0) {
		p.parent = TAKE_PTR(def.parent);
		p.type = TAKE_PTR(def.type);
		p.parent_source = p.type_source = GVTG_SOURCE_DEFINITION;
		gvtg_definition_clear(&def);
	} else {
		r = gvtg_placement_resolve(a->ctx, a->dom, a->cfg, u, &p);
	}
	/* Only an explicit choice can contradict what exists; "automatic" fits anything. */
	bool bad_type = r >= 0 && p.type_source != GVTG_SOURCE_AUTO && dev->type &&
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

	/* A definition speaks for its UUID (mdevctl.c): started from it, or refused. */
	struct gvtg_definition def = { 0 };
	int defined = keep_origin ? 0
				  : gvtg_definition_lookup(a->ctx, a->dom, a->cfg, u, false, &d, &def);
	if (defined < 0) {
		gvtg_record_clear(&old);
		return defined;
	}
	char def_file[sizeof(d.file)];
	copy(def_file, sizeof(def_file), d.file);
	struct gvtg_placement p = { 0 };
	if (defined) {
		r = start_defined(a->ctx, &d, a->cfg, &def, hd->model, false);
		p.parent = TAKE_PTR(def.parent);
		p.type = TAKE_PTR(def.type);
		p.parent_source = p.type_source = GVTG_SOURCE_DEFINITION;
		gvtg_definition_clear(&def);
	} else if (keep_origin && old.parent && old.type) {
		p.parent = strdup(old.parent);
		p.type = strdup(old.type);
		p.parent_source = p.type_source = GVTG_SOURCE_CONFIG_DEVICE;
		r = p.parent && p.type ? 0 : -ENOMEM;
		if (r < 0)
			explain_placement(a->ctx, &d, a->cfg, &p, r, false, NULL, NULL);
	} else {
		r = gvtg_placement_resolve(a->ctx, a->dom, a->cfg, u, &p);
		if (r < 0) {
			const struct gvtg_meta_device *m = NULL;
			for (size_t i = 0; i < a->dom->n_meta; i++)
				if (!strcmp(a->dom->meta[i].uuid, u))
					m = &a->dom->meta[i];
			explain_placement(a->ctx, &d, a->cfg, &p, r, false, m ? m->parent : NULL,
					  m ? m->type : NULL);
		}
	}
	if (r >= 0 && !defined)
		r = create_device(a->ctx, &d, a->cfg, p.parent, p.type, hd->model, p.type_source,
				  false, u);
	if (r < 0) {
		gvtg_placement_clear(&p);
		gvtg_record_clear(&old);
		return r;
	}
	copy(st->uuid, sizeof(st->uuid), u);
	st->kind = STEP_CREATED;
	st->defined = defined > 0;

	struct gvtg_record rec = { .origin = keep_origin ? old.origin
					     : defined   ? GVTG_ORIGIN_DEFINED
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

/* ---- release end ------------------------------------------------------------------------ */

bool gvtg_domain_has_records(struct gvtg_ctx *ctx, const char *domain_uuid)
{
	struct gvtg_record *recs;
	size_t n;
	if (!domain_uuid || !*domain_uuid)
		return false;
	/* Unreadable: say yes, so that the caller looks under the lock. */
	if (gvtg_records_list(ctx, &recs, &n) < 0)
		return true;
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(recs[i].domain_uuid, domain_uuid);
	gvtg_records_free(recs, n);
	return found;
}

static void finish_removals(struct gvtg_ctx *ctx, enum gvtg_op op, const char *domain,
			    struct gvtg_record *recs, size_t *idx, size_t n, int timeout,
			    int *ret_failed)
{
	char uuids[MAX_VGPUS][GVTG_UUID_STRLEN + 1];
	int results[MAX_VGPUS];
	if (n == 0)
		return;
	for (size_t k = 0; k < n; k++)
		copy(uuids[k], sizeof(uuids[k]), recs[idx[k]].uuid);
	gvtg_mdev_remove_many(ctx, (const char(*)[GVTG_UUID_STRLEN + 1])uuids, n, timeout,
			      results);
	for (size_t k = 0; k < n; k++) {
		struct gvtg_record *rec = &recs[idx[k]];
		struct gvtg_diag d;
		gvtg_diag_init(&d, op, rec->uuid, domain);
		int r = results[k];
		if (r >= 0 || r == -ENOENT) {
			r = gvtg_record_delete(ctx, rec->uuid);
			if (op == GVTG_OP_SLEEP_REMOVE)
				copy(d.detail, sizeof(d.detail), "for suspend");
			if (r < 0) {
				d.err = -r;
				report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
			} else {
				report(ctx, &d, GVTG_CAUSE_DONE_REMOVED, 0);
			}
			continue;
		}
		(*ret_failed)++;
		d.err = -r;
		d.timeout_ms = timeout;
		if (r == -ETIMEDOUT) {
			rec->remove_pending = true;
			(void)gvtg_record_write(ctx, rec);
			report(ctx, &d, GVTG_CAUSE_REMOVE_BLOCKED, r);
		} else {
			report(ctx, &d, GVTG_CAUSE_REMOVE_FAILED, r);
		}
	}
}

/* Release of a vGPU started from its definition: stopped as `mdevctl stop` does (its
 * callouts run), the definition stays.  When mdevctl fails, sysfs: it must not stay. */
static int stop_defined(struct gvtg_ctx *ctx, struct gvtg_diag *d, struct gvtg_record *rec,
			int timeout, int *ret_failed)
{
	int r = gvtg_definition_stop(ctx, rec->uuid, timeout, d->detail, sizeof(d->detail));
	if (r < 0 && r != -ENOENT && r != -ETIMEDOUT) {
		report(ctx, d, GVTG_CAUSE_DEFINITION_STOP, r);
		r = gvtg_mdev_remove_bounded(ctx, rec->uuid, timeout);
	}
	if (r >= 0 || r == -ENOENT) {
		r = gvtg_record_delete(ctx, rec->uuid);
		copy(d->detail, sizeof(d->detail), "(stopped; its definition stays)");
		if (r >= 0)
			report(ctx, d, GVTG_CAUSE_DONE_REMOVED, 0);
		return r;
	}
	(*ret_failed)++;
	d->err = -r;
	d->timeout_ms = timeout;
	if (r == -ETIMEDOUT) {
		rec->remove_pending = true;
		(void)gvtg_record_write(ctx, rec);
		report(ctx, d, GVTG_CAUSE_REMOVE_BLOCKED, r);
	} else {
		report(ctx, d, GVTG_CAUSE_REMOVE_FAILED, r);
	}
	return 0;
}

int gvtg_release(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
		 const struct gvtg_config *cfg)
{
	if (!dom->uuid[0])
		return 0;
	int lock = lock_take(ctx, cfg, GVTG_OP_STOP, NULL, dom->name);
	if (lock < 0)
		return lock;
	struct gvtg_record *recs;
	size_t n;
	int r = gvtg_records_list(ctx, &recs, &n);
	if (r < 0) {
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_STOP, NULL, dom->name);
		d.err = -r;
		report(ctx, &d, GVTG_CAUSE_STATE_UNREADABLE, r);
		lock_drop(ctx, lock);
		return r;
	}
	int timeout = cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	size_t idx[MAX_VGPUS], n_remove = 0;
	int acted = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct gvtg_record *rec = &recs[i];
		if (strcmp(rec->domain_uuid, dom->uuid) != 0)
			continue;
		acted++;
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_RELEASE, rec->uuid, dom->name);
		enum gvtg_release_action act = gvtg_origin_release_action(rec->origin);
		if ((act == GVTG_RELEASE_ACTION_REMOVE || act == GVTG_RELEASE_ACTION_STOP) && cfg &&
		    cfg->release == GVTG_RELEASE_KEEP)
			act = GVTG_RELEASE_ACTION_IDLE;
		if (act == GVTG_RELEASE_ACTION_REMOVE && n_remove == MAX_VGPUS)
			act = GVTG_RELEASE_ACTION_IDLE; /* more than one domain can have */
		switch (act) {
		case GVTG_RELEASE_ACTION_REMOVE:
			idx[n_remove++] = i;
			continue;
		case GVTG_RELEASE_ACTION_STOP:
			r = stop_defined(ctx, &d, rec, timeout, &failed);
			break;
		case GVTG_RELEASE_ACTION_DROP:
			r = gvtg_record_delete(ctx, rec->uuid);
			if (r >= 0)
				report(ctx, &d, GVTG_CAUSE_DONE_DROPPED, 0);
			break;
		case GVTG_RELEASE_ACTION_IDLE:
			record_set_domain(rec, "", NULL);
			r = gvtg_record_write(ctx, rec);
			copy(d.detail, sizeof(d.detail), gvtg_origin_to_string(rec->origin));
			if (r >= 0)
				report(ctx, &d, GVTG_CAUSE_DONE_KEPT, 0);
			break;
		}
		if (r < 0) {
			d.err = -r;
			report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
		}
	}
	finish_removals(ctx, GVTG_OP_RELEASE, dom->name, recs, idx, n_remove, timeout, &failed);
	gvtg_records_free(recs, n);

	/* What the XML lists but no record names for this domain: not ours. */
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		struct gvtg_record rec;
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_RELEASE, dom->hostdevs[i].uuid, dom->name);
		r = gvtg_record_read(ctx, dom->hostdevs[i].uuid, &rec);
		if (r == -ENOENT) {
			snprintf(d.detail, sizeof(d.detail),
				 "no ownership record, so domain '%s' did not get it from gvtg-hook",
				 dom->name ? dom->name : "?");
			report(ctx, &d, GVTG_CAUSE_DONE_LEFT_ALONE, 0);
		} else if (r >= 0) {
			if (strcmp(rec.domain_uuid, dom->uuid) != 0 && gvtg_record_in_use(&rec)) {
				snprintf(d.detail, sizeof(d.detail), "domain '%s' holds it",
					 rec.domain_name ? rec.domain_name : rec.domain_uuid);
				report(ctx, &d, GVTG_CAUSE_DONE_LEFT_ALONE, 0);
			}
			gvtg_record_clear(&rec);
		} else if (r == -EBADMSG) {
			report(ctx, &d, GVTG_CAUSE_RECORD_DAMAGED, r);
		}
	}
	lock_drop(ctx, lock);
	return acted;
}

/* ---- reconnect begin ---------------------------------------------------------------------- */

int gvtg_reconnect(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
		   const struct gvtg_config *cfg)
{
	if (!dom->uuid[0] || dom->n_hostdevs == 0)
		return 0;
	int lock = lock_take(ctx, cfg, GVTG_OP_RECONNECT, NULL, dom->name);
	if (lock < 0)
		return lock;
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		const char *u = dom->hostdevs[i].uuid;
		struct gvtg_device dev;
		struct gvtg_record rec;
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_RECONNECT, u, dom->name);
		if (gvtg_device_get(ctx, u, &dev) < 0)
			continue;
		/* Only a MISSING record is restored: a damaged one may be the hook's own
		 * "created", which must still be removed at the stop. */
		int r = record_get(ctx, &d, u, &rec);
		if (r >= 0) {
			gvtg_record_clear(&rec);
		} else if (r == -ENOENT) {
			/* We cannot know who made it: adopted, so it is never removed by us. */
			struct gvtg_record nr = { .origin = GVTG_ORIGIN_ADOPTED };
			copy(nr.uuid, sizeof(nr.uuid), u);
			nr.parent = dev.parent;
			nr.type = dev.type;
			record_set_domain(&nr, dom->uuid, dom->name);
			r = gvtg_record_write(ctx, &nr);
			free(nr.domain_name);
			if (r >= 0)
				report(ctx, &d, GVTG_CAUSE_DONE_RESTORED, 0);
			else {
				d.err = -r;
				report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
			}
		}
		gvtg_device_clear(&dev);
	}
	lock_drop(ctx, lock);
	return 0;
}

/* ---- holders: who has the device's VFIO group open ------------------------------------- */

/* The device nodes through which a process can hold the vGPU: its VFIO group
 * (/dev/vfio/<group>) and, with iommufd, its own cdev (/dev/vfio/devices/vfio<N>). */
static int holder_paths(struct gvtg_ctx *ctx, const char *u, char want[2][64], size_t *ret_n)
{
	size_t n = 0;
	_cleanup_free_ char *link = gvtg_path_join("sys/bus/mdev/devices", u, "iommu_group", NULL);
	_cleanup_free_ char *target = NULL;
	if (!link)
		return -ENOMEM;
	if (gvtg_io_readlink(ctx, link, &target) >= 0) {
		const char *group = strrchr(target, '/');
		group = group ? group + 1 : target;
		if (*group && strspn(group, "0123456789") == strlen(group))
			snprintf(want[n++], 64, "/dev/vfio/%s", group);
	}
	_cleanup_free_ char *cdir = gvtg_path_join("sys/bus/mdev/devices", u, "vfio-dev", NULL);
	_cleanup_closedir_ DIR *d = NULL;
	if (cdir && gvtg_io_opendir(ctx, cdir, &d) >= 0) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "vfio", 4) && de->d_name[4] &&
			    strspn(de->d_name + 4, "0123456789") == strlen(de->d_name + 4)) {
				snprintf(want[n++], 64, "/dev/vfio/devices/%.40s", de->d_name);
				break;
			}
	}
	*ret_n = n;
	return 0;
}

int gvtg_device_holder(struct gvtg_ctx *ctx, const char *uuid, long *ret_pid,
		       char ret_comm[32])
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	char want[2][64];
	size_t n_want;
	r = holder_paths(ctx, u, want, &n_want);
	if (r < 0)
		return r;
	if (n_want == 0)
		return 0; /* no VFIO node: nothing can hold it open */

	_cleanup_closedir_ DIR *proc = NULL;
	if (gvtg_io_opendir(ctx, "proc", &proc) < 0)
		return 0;
	struct dirent *de;
	while ((de = readdir(proc))) {
		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		_cleanup_free_ char *fdp = gvtg_path_join("proc", de->d_name, "fd", NULL);
		_cleanup_closedir_ DIR *fds = NULL;
		if (!fdp || gvtg_io_opendir(ctx, fdp, &fds) < 0)
			continue;
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			if (fe->d_name[0] == '.')
				continue;
			_cleanup_free_ char *p = gvtg_path_join(fdp, fe->d_name, NULL);
			_cleanup_free_ char *t = NULL;
			if (!p || gvtg_io_readlink(ctx, p, &t) < 0)
				continue;
			bool match = false;
			for (size_t k = 0; k < n_want; k++)
				match = match || !strcmp(t, want[k]);
			if (!match)
				continue;
			*ret_pid = strtol(de->d_name, NULL, 10);
			if (ret_comm) {
				_cleanup_free_ char *cp = gvtg_path_join("proc", de->d_name, "comm",
									 NULL);
				_cleanup_free_ char *comm = NULL;
				if (cp && gvtg_io_read_text(ctx, cp, 256, &comm) >= 0)
					snprintf(ret_comm, 32, "%.31s", comm);
				else
					snprintf(ret_comm, 32, "?");
			}
			return 1;
		}
	}
	return 0;
}

/* Not the hook's own release: look at the device itself before writing to it. */
static int check_not_held(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *uuid)
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
	if (holder_paths(ctx, uuid, want, &n) >= 0 && n > 0)
		copy(d->detail, sizeof(d->detail), want[0]);
	return report(ctx, d, GVTG_CAUSE_HELD_BY_PROCESS, -EBUSY);
}

/* ---- by hand ------------------------------------------------------------------------------ */

static int create_locked(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
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
	struct gvtg_placement p = { 0 };
	/* A definition speaks for its UUID: started from it, or refused (mdevctl.c). */
	struct gvtg_definition def = { 0 };
	int defined = gvtg_definition_lookup(ctx, parent || type ? &dom : NULL, cfg, uuid, true,
					     &d, &def);
	if (defined < 0)
		return defined;
	if (defined) {
		r = start_defined(ctx, &d, cfg, &def, NULL, true);
		p.parent = TAKE_PTR(def.parent);
		p.type = TAKE_PTR(def.type);
		p.parent_source = p.type_source = GVTG_SOURCE_DEFINITION;
		gvtg_definition_clear(&def);
	} else {
		r = gvtg_placement_resolve(ctx, parent || type ? &dom : NULL, cfg, uuid, &p);
		if (r < 0) {
			explain_placement(ctx, &d, cfg, &p, r, true, parent, type);
			gvtg_placement_clear(&p);
			return r;
		}
		r = create_device(ctx, &d, cfg, p.parent, p.type, NULL, p.type_source, true, uuid);
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
		int timeout = cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
		(void)gvtg_mdev_remove_bounded(ctx, uuid, timeout);
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
	int r = create_locked(ctx, cfg, op, uuid, uuid_given, parent, type, origin, ret_placement);
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
	r = check_not_held(ctx, &d, uuid);
	if (r < 0)
		goto out;
	if (!had_record) {
		copy(rec.uuid, sizeof(rec.uuid), uuid);
		rec.origin = GVTG_ORIGIN_MANUAL;
	}
	size_t idx = 0;
	int failed = 0;
	int timeout = cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	if (!had_record) {
		/* No record to mark pending: remove, and keep none. */
		r = gvtg_mdev_remove_bounded(ctx, uuid, timeout);
		d.err = -r;
		d.timeout_ms = timeout;
		if (r >= 0 || r == -ENOENT)
			r = report(ctx, &d, GVTG_CAUSE_DONE_REMOVED, 0);
		else
			r = report(ctx, &d,
				   r == -ETIMEDOUT ? GVTG_CAUSE_REMOVE_BLOCKED
						   : GVTG_CAUSE_REMOVE_FAILED,
				   r);
		goto out;
	}
	finish_removals(ctx, GVTG_OP_REMOVE, NULL, &rec, &idx, 1, timeout, &failed);
	r = failed ? -EBUSY : 0;
out:
	gvtg_record_clear(&rec);
	lock_drop(ctx, lock);
	return r;
}

/* ---- boot ---------------------------------------------------------------------------------- */

static void nothing(struct gvtg_ctx *ctx, enum gvtg_op op, const char *what)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, NULL, NULL);
	copy(d.detail, sizeof(d.detail), what);
	report(ctx, &d, GVTG_CAUSE_DONE_NOTHING, 0);
}

int gvtg_boot_start(struct gvtg_ctx *ctx, const struct gvtg_config *cfg)
{
	int lock = lock_take(ctx, cfg, GVTG_OP_BOOT, NULL, NULL);
	if (lock < 0)
		return lock;
	char made[MAX_VGPUS][GVTG_UUID_STRLEN + 1];
	size_t n_made = 0, n_boot = 0, n_exist = 0;
	int r = 0;
	for (size_t i = 0; i < cfg->n_devices && r >= 0; i++) {
		const struct gvtg_config_device *cd = &cfg->devices[i];
		if (!cd->boot)
			continue;
		n_boot++;
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_BOOT_CREATE, cd->uuid, NULL);
		struct gvtg_placement p = { 0 };
		int pr = gvtg_placement_resolve(ctx, NULL, cfg, cd->uuid, &p);
		struct gvtg_device dev;
		if (gvtg_device_get(ctx, cd->uuid, &dev) >= 0) {
			/* Made earlier (a second run, or by hand): it must be what is asked. */
			bool bad = pr >= 0 && ((p.type_source != GVTG_SOURCE_AUTO && dev.type &&
						strcmp(p.type, dev.type) != 0) ||
					       (p.parent_source != GVTG_SOURCE_AUTO && dev.parent &&
						strcmp(p.parent, dev.parent) != 0));
			if (bad) {
				diag_place(&d, dev.parent ? dev.parent : "?",
					   dev.type ? dev.type : "?");
				copy(d.source, sizeof(d.source),
				     gvtg_source_to_string(dev.type && strcmp(p.type, dev.type) != 0
								   ? p.type_source
								   : p.parent_source));
				snprintf(d.detail, sizeof(d.detail), "%s type %s", p.parent, p.type);
				r = report(ctx, &d, GVTG_CAUSE_EXISTS_ELSEWHERE, -EEXIST);
			} else {
				n_exist++;
			}
			gvtg_device_clear(&dev);
			gvtg_placement_clear(&p);
			continue;
		}
		if (pr == -ENXIO || pr == -ENOENT) {
			/* The udev rule runs this again when its parent registers. */
			copy(d.detail, sizeof(d.detail), p.parent ? p.parent : "(any)");
			report(ctx, &d, GVTG_CAUSE_DONE_SKIPPED, 0);
			gvtg_placement_clear(&p);
			continue;
		}
		gvtg_placement_clear(&p);
		r = create_locked(ctx, cfg, GVTG_OP_BOOT_CREATE, cd->uuid, true, NULL, NULL,
				  GVTG_ORIGIN_BOOT, NULL);
		if (r >= 0 && n_made < MAX_VGPUS)
			copy(made[n_made++], sizeof(made[0]), cd->uuid);
	}
	if (r < 0) {
		/* All or nothing: a failed unit never runs its stop, so it leaves nothing. */
		int timeout = cfg->remove_timeout_ms;
		for (size_t k = n_made; k-- > 0;) {
			struct gvtg_diag d;
			gvtg_diag_init(&d, GVTG_OP_BOOT_REMOVE, made[k], NULL);
			int rr = gvtg_mdev_remove_bounded(ctx, made[k], timeout);
			if (rr >= 0 || rr == -ENOENT) {
				(void)gvtg_record_delete(ctx, made[k]);
				copy(d.detail, sizeof(d.detail), "again: another boot vGPU failed");
				report(ctx, &d, GVTG_CAUSE_DONE_REMOVED, 0);
			} else {
				d.err = -rr;
				d.timeout_ms = timeout;
				report(ctx, &d,
				       rr == -ETIMEDOUT ? GVTG_CAUSE_REMOVE_BLOCKED
							: GVTG_CAUSE_REMOVE_FAILED,
				       rr);
			}
		}
	} else if (n_boot == 0) {
		nothing(ctx, GVTG_OP_BOOT, "boot: no vGPU has boot = yes in the configuration");
	} else if (n_exist == n_boot) {
		nothing(ctx, GVTG_OP_BOOT, "boot: every boot vGPU exists already");
	}
	lock_drop(ctx, lock);
	return r < 0 ? r : 0;
}

static int record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gvtg_record *)a)->uuid, ((const struct gvtg_record *)b)->uuid);
}

static int records_sorted(struct gvtg_ctx *ctx, enum gvtg_op op, struct gvtg_record **ret,
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

int gvtg_boot_stop(struct gvtg_ctx *ctx, const struct gvtg_config *cfg)
{
	int lock = lock_take(ctx, cfg, GVTG_OP_BOOT, NULL, NULL);
	if (lock < 0)
		return lock;
	struct gvtg_record *recs;
	size_t n;
	int r = records_sorted(ctx, GVTG_OP_BOOT, &recs, &n);
	if (r < 0) {
		lock_drop(ctx, lock);
		return r;
	}
	size_t idx[MAX_VGPUS], n_remove = 0;
	int failed = 0, acted = 0;
	for (size_t i = 0; i < n; i++) {
		struct gvtg_record *rec = &recs[i];
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_BOOT_REMOVE, rec->uuid, NULL);
		struct gvtg_device dev;
		bool exists = gvtg_device_get(ctx, rec->uuid, &dev) >= 0;
		gvtg_device_clear(exists ? &dev : NULL);
		if (!exists && (rec->remove_pending || rec->origin == GVTG_ORIGIN_BOOT) &&
		    !gvtg_record_in_use(rec)) {
			/* A pending removal that has finished, or a boot vGPU already gone. */
			acted++;
			if (gvtg_record_delete(ctx, rec->uuid) >= 0)
				report(ctx, &d, GVTG_CAUSE_DONE_STALE_RECORD, 0);
			continue;
		}
		if (rec->origin != GVTG_ORIGIN_BOOT || !exists)
			continue;
		acted++;
		if (gvtg_record_in_use(rec))
			continue; /* said after the removals */
		/* A process holds it (a hot-plug libvirt runs no hook for, a QEMU started
		 * by hand): said, left alone, and not a failure of the stop. */
		if (check_not_held(ctx, &d, rec->uuid) < 0)
			continue;
		if (n_remove < MAX_VGPUS)
			idx[n_remove++] = i;
	}
	finish_removals(ctx, GVTG_OP_BOOT_REMOVE, NULL, recs, idx, n_remove,
			cfg->remove_timeout_ms, &failed);
	for (size_t i = 0; i < n; i++) {
		struct gvtg_record *rec = &recs[i];
		if (rec->origin != GVTG_ORIGIN_BOOT || !gvtg_record_in_use(rec))
			continue;
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_BOOT_REMOVE, rec->uuid, NULL);
		snprintf(d.detail, sizeof(d.detail), "domain '%s' holds it",
			 rec->domain_name ? rec->domain_name : rec->domain_uuid);
		report(ctx, &d, GVTG_CAUSE_DONE_LEFT_ALONE, 0);
	}
	gvtg_records_free(recs, n);
	if (acted == 0)
		nothing(ctx, GVTG_OP_BOOT, "boot --stop: no boot vGPU to remove");
	lock_drop(ctx, lock);
	return failed ? -EBUSY : 0;
}

/* ---- sleep ----------------------------------------------------------------------------------- */

static bool listed(const struct gvtg_sleep_entry *v, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].uuid, uuid))
			return true;
	return false;
}

int gvtg_sleep_pre(struct gvtg_ctx *ctx, const struct gvtg_config *cfg)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_SLEEP, NULL, NULL);
	int lock = lock_take(ctx, cfg, GVTG_OP_SLEEP, NULL, NULL);
	if (lock < 0)
		return lock;
	struct gvtg_sleep_entry *list = NULL;
	size_t n_list = 0;
	struct gvtg_record *recs = NULL;
	size_t n_recs = 0;
	int r = gvtg_sleep_list_read(ctx, &list, &n_list);
	if (r < 0) {
		d.err = r == -EBADMSG ? EBADMSG : -r;
		r = report(ctx, &d, GVTG_CAUSE_SLEEP_LIST_DAMAGED, r);
		goto out;
	}
	r = records_sorted(ctx, GVTG_OP_SLEEP, &recs, &n_recs);
	if (r < 0)
		goto out;
	struct gvtg_sleep_entry *nv = realloc(list, (n_list + n_recs + 1) * sizeof(*list));
	if (!nv) {
		d.err = ENOMEM;
		r = report(ctx, &d, GVTG_CAUSE_INTERNAL, -ENOMEM);
		goto out;
	}
	list = nv;

	/* Entries of an earlier 'pre' without its 'post' stay; add the idle vGPUs. */
	size_t first_new = n_list, idx[MAX_VGPUS], n_remove = 0;
	int failed = 0;
	for (size_t i = 0; i < n_recs && n_remove < MAX_VGPUS; i++) {
		struct gvtg_record *rec = &recs[i];
		struct gvtg_device dev;
		if (gvtg_record_in_use(rec) || rec->remove_pending || listed(list, n_list, rec->uuid))
			continue;
		if (gvtg_device_get(ctx, rec->uuid, &dev) < 0)
			continue;
		bool placed = dev.parent && dev.type;
		struct gvtg_diag dd;
		gvtg_diag_init(&dd, GVTG_OP_SLEEP_REMOVE, rec->uuid, NULL);
		/* A record that says idle is not enough: a QEMU started outside libvirt, or a
		 * hot-plug libvirt runs no hook for, may hold the device. */
		if (!placed || check_not_held(ctx, &dd, rec->uuid) < 0) {
			gvtg_device_clear(&dev);
			continue;
		}
		struct gvtg_sleep_entry *e = &list[n_list];
		copy(e->uuid, sizeof(e->uuid), rec->uuid);
		e->parent = strdup(dev.parent);
		e->type = strdup(dev.type);
		gvtg_device_clear(&dev);
		if (!e->parent || !e->type) {
			free(e->parent);
			free(e->type);
			break;
		}
		n_list++;
		idx[n_remove++] = i;
	}

	/* Remember first: whatever happens next, 'post' knows what to bring back. */
	r = gvtg_sleep_list_write(ctx, list, n_list);
	if (r < 0) {
		d.err = -r;
		copy(d.detail, sizeof(d.detail), "nothing was removed");
		r = report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
		goto out;
	}
	if (n_list == first_new) {
		nothing(ctx, GVTG_OP_SLEEP, "sleep pre: no idle vGPU to remove");
		goto out;
	}
	/* The records stay (each vGPU comes back as it was), marked pending if blocked. */
	int timeout = cfg->remove_timeout_ms;
	char uuids[MAX_VGPUS][GVTG_UUID_STRLEN + 1];
	int results[MAX_VGPUS];
	for (size_t k = 0; k < n_remove; k++)
		copy(uuids[k], sizeof(uuids[k]), recs[idx[k]].uuid);
	gvtg_mdev_remove_many(ctx, (const char(*)[GVTG_UUID_STRLEN + 1])uuids, n_remove, timeout,
			      results);
	for (size_t k = 0; k < n_remove; k++) {
		struct gvtg_record *rec = &recs[idx[k]];
		struct gvtg_diag dd;
		gvtg_diag_init(&dd, GVTG_OP_SLEEP_REMOVE, rec->uuid, NULL);
		int rr = results[k];
		if (rr >= 0 || rr == -ENOENT) {
			copy(dd.detail, sizeof(dd.detail), "for suspend");
			report(ctx, &dd, GVTG_CAUSE_DONE_REMOVED, 0);
			continue;
		}
		failed++;
		dd.err = -rr;
		dd.timeout_ms = timeout;
		if (rr == -ETIMEDOUT) {
			rec->remove_pending = true;
			(void)gvtg_record_write(ctx, rec);
			report(ctx, &dd, GVTG_CAUSE_REMOVE_BLOCKED, rr);
		} else {
			report(ctx, &dd, GVTG_CAUSE_REMOVE_FAILED, rr);
		}
	}
	r = failed ? -EBUSY : 0;
out:
	gvtg_sleep_entries_free(list, n_list);
	gvtg_records_free(recs, n_recs);
	lock_drop(ctx, lock);
	return r;
}

int gvtg_sleep_post(struct gvtg_ctx *ctx, const struct gvtg_config *cfg)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_SLEEP, NULL, NULL);
	int lock = lock_take(ctx, cfg, GVTG_OP_SLEEP, NULL, NULL);
	if (lock < 0)
		return lock;
	struct gvtg_sleep_entry *list;
	size_t n;
	int r = gvtg_sleep_list_read(ctx, &list, &n);
	if (r < 0) {
		d.err = r == -EBADMSG ? EBADMSG : -r;
		r = report(ctx, &d, GVTG_CAUSE_SLEEP_LIST_DAMAGED, r);
		lock_drop(ctx, lock);
		return r;
	}
	int ret = 0;
	size_t left = 0; /* failed entries move to the front, for another 'post' */
	for (size_t i = 0; i < n; i++) {
		struct gvtg_sleep_entry *e = &list[i];
		struct gvtg_device dev;
		if (gvtg_device_get(ctx, e->uuid, &dev) >= 0) {
			/* back already (a domain started meanwhile, or by hand) */
			gvtg_device_clear(&dev);
			continue;
		}
		struct gvtg_diag dd;
		gvtg_diag_init(&dd, GVTG_OP_SLEEP_CREATE, e->uuid, NULL);
		r = gvtg_mdev_create(ctx, e->parent, e->type, e->uuid);
		if (r == -EEXIST)
			r = 0;
		if (r < 0) {
			explain_create(ctx, &dd, cfg, e->parent, e->type, r);
			ret = r;
			struct gvtg_sleep_entry tmp = list[left];
			list[left++] = *e;
			*e = tmp;
		} else {
			copy(dd.detail, sizeof(dd.detail), "again after resume");
			report(ctx, &dd, GVTG_CAUSE_DONE_CREATED, 0);
		}
	}
	r = gvtg_sleep_list_write(ctx, list, left);
	if (r < 0) {
		d.err = -r;
		ret = report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
	}
	if (n == 0)
		nothing(ctx, GVTG_OP_SLEEP, "sleep post: no vGPU to create again");
	gvtg_sleep_entries_free(list, n);
	lock_drop(ctx, lock);
	return ret;
}
