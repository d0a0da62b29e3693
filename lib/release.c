/* SPDX-License-Identifier: MIT */
/*
 * release end: release what a stopping domain holds, by what each origin's row says;
 * reconnect begin: restore the records of vGPUs a running domain uses.
 */
#include "lifecycle.h"

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
	gvtg_finish_removals(ctx, GVTG_OP_RELEASE, dom->name, recs, idx, n_remove, timeout,
			     &failed);
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
