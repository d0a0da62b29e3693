/* SPDX-License-Identifier: MIT */
/*
 * Boot (the vGPUs with boot = yes, all or nothing) and suspend (idle vGPUs removed before
 * sleep and created again after it).
 */
#include "lifecycle.h"

/* ---- boot ---------------------------------------------------------------------------------- */

/* One boot vGPU: 1 made now; 0 there already (*ret_exists) or skipped because its
 * parent is not registered (the udev rule runs boot again when it is); < 0 refused,
 * reported. */
static int boot_one(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *uuid,
		    bool *ret_exists)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_BOOT_CREATE, uuid, NULL);
	struct gvtg_placement p = { 0 };
	struct gvtg_device dev;
	int r;
	if (gvtg_device_get(ctx, uuid, &dev) >= 0) {
		/* Made earlier (a second run, or by hand): it must be what is asked. */
		r = gvtg_placement_decide(ctx, NULL, cfg, uuid, GVTG_PLACE_EXISTS, &d, &p, NULL);
		bool bad_type = r >= 0 && p.type && p.type_source != GVTG_SOURCE_AUTO && dev.type &&
				strcmp(p.type, dev.type) != 0;
		bool bad_parent = r >= 0 && p.parent && p.parent_source != GVTG_SOURCE_AUTO &&
				  dev.parent && strcmp(p.parent, dev.parent) != 0;
		if (bad_type || bad_parent) {
			diag_place(&d, dev.parent ? dev.parent : "?", dev.type ? dev.type : "?");
			copy(d.source, sizeof(d.source),
			     gvtg_source_to_string(bad_type ? p.type_source : p.parent_source));
			snprintf(d.detail, sizeof(d.detail), "%s type %s", p.parent ? p.parent : "?",
				 p.type ? p.type : "?");
			r = report(ctx, &d, GVTG_CAUSE_EXISTS_ELSEWHERE, -EEXIST);
		}
		*ret_exists = r >= 0;
		gvtg_device_clear(&dev);
		gvtg_placement_clear(&p);
		return r < 0 ? r : 0;
	}
	r = gvtg_placement_decide(ctx, NULL, cfg, uuid, GVTG_PLACE_QUIET, &d, &p, NULL);
	if (r == -ENXIO || r == -ENOENT) {
		copy(d.detail, sizeof(d.detail), p.parent ? p.parent : "(any)");
		report(ctx, &d, GVTG_CAUSE_DONE_SKIPPED, 0);
		gvtg_placement_clear(&p);
		return 0;
	}
	gvtg_placement_clear(&p);
	r = gvtg_create_locked(ctx, cfg, GVTG_OP_BOOT_CREATE, uuid, true, NULL, NULL,
			       GVTG_ORIGIN_BOOT, NULL);
	return r < 0 ? r : 1;
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
		bool exists = false;
		r = boot_one(ctx, cfg, cd->uuid, &exists);
		n_exist += exists;
		if (r > 0 && n_made < MAX_VGPUS)
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

int gvtg_boot_stop(struct gvtg_ctx *ctx, const struct gvtg_config *cfg)
{
	int lock = lock_take(ctx, cfg, GVTG_OP_BOOT, NULL, NULL);
	if (lock < 0)
		return lock;
	struct gvtg_record *recs;
	size_t n;
	int r = gvtg_records_sorted(ctx, GVTG_OP_BOOT, &recs, &n);
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
		if (gvtg_check_not_held(ctx, &d, rec->uuid) < 0)
			continue;
		if (n_remove < MAX_VGPUS)
			idx[n_remove++] = i;
	}
	gvtg_finish_removals(ctx, GVTG_OP_BOOT_REMOVE, NULL, recs, idx, n_remove,
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
	r = gvtg_records_sorted(ctx, GVTG_OP_SLEEP, &recs, &n_recs);
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
		if (!placed || gvtg_check_not_held(ctx, &dd, rec->uuid) < 0) {
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
			gvtg_explain_create(ctx, &dd, cfg, e->parent, e->type, r);
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
