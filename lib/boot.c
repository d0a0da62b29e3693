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
		struct gvtg_removal rm[MAX_VGPUS];
		for (size_t k = 0; k < n_made; k++)
			rm[k] = (struct gvtg_removal){
				.uuid = made[n_made - 1 - k],
				.defined = gvtg_vgpu_is_defined(ctx, made[n_made - 1 - k], NULL),
				.done = GVTG_CAUSE_DONE_REMOVED,
				.detail = "again: another boot vGPU failed",
			};
		gvtg_remove_vgpus(ctx, cfg, GVTG_OP_BOOT_REMOVE, NULL, rm, n_made);
	} else if (n_boot == 0) {
		nothing(ctx, GVTG_OP_BOOT, "boot: no vGPU has boot = yes in the configuration");
	} else if (n_exist == n_boot) {
		nothing(ctx, GVTG_OP_BOOT, "boot: every boot vGPU exists already");
	}
	lock_drop(ctx, lock);
	return r < 0 ? r : 0;
}

static bool listed(const struct gvtg_sleep_entry *v, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].uuid, uuid))
			return true;
	return false;
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
	/* Between 'sleep pre' and 'post' the vGPUs of the sleep list are gone on purpose:
	 * their records are what 'post' brings them back as (a damaged list: 'sleep' says). */
	struct gvtg_sleep_entry *asleep = NULL;
	size_t n_asleep = 0, n_bad;
	int bad_line;
	if (gvtg_sleep_list_read(ctx, &asleep, &n_asleep, &bad_line, &n_bad) < 0)
		n_asleep = 0;
	struct gvtg_removal rm[MAX_VGPUS];
	size_t n_remove = 0;
	int failed = 0, acted = 0;
	for (size_t i = 0; i < n; i++) {
		struct gvtg_record *rec = &recs[i];
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_BOOT_REMOVE, rec->uuid, NULL);
		struct gvtg_device dev;
		bool exists = gvtg_device_get(ctx, rec->uuid, &dev) >= 0;
		gvtg_device_clear(exists ? &dev : NULL);
		if (!exists && listed(asleep, n_asleep, rec->uuid))
			continue;
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
			rm[n_remove++] = (struct gvtg_removal){
				.uuid = rec->uuid,
				.rec = rec,
				.defined = gvtg_vgpu_is_defined(ctx, rec->uuid, rec),
				.done = GVTG_CAUSE_DONE_REMOVED,
			};
	}
	failed = gvtg_remove_vgpus(ctx, cfg, GVTG_OP_BOOT_REMOVE, NULL, rm, n_remove);
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
	gvtg_sleep_entries_free(asleep, n_asleep);
	if (acted == 0)
		nothing(ctx, GVTG_OP_BOOT, "boot --stop: no boot vGPU to remove");
	lock_drop(ctx, lock);
	return failed ? -EBUSY : 0;
}

/* ---- sleep ----------------------------------------------------------------------------------- */


/* The sleep list, its damaged lines said (a warning; the list this run writes leaves them
 * out) and skipped.  A list that cannot be read at all is an error, reported. */
static int sleep_list_load(struct gvtg_ctx *ctx, struct gvtg_sleep_entry **ret_v, size_t *ret_n)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, GVTG_OP_SLEEP, NULL, NULL);
	int bad_line;
	size_t n_bad;
	int r = gvtg_sleep_list_read(ctx, ret_v, ret_n, &bad_line, &n_bad);
	if (r < 0) {
		d.err = r == -EBADMSG ? EBADMSG : -r;
		return report(ctx, &d, GVTG_CAUSE_SLEEP_LIST_DAMAGED, r);
	}
	if (n_bad) {
		d.line = bad_line;
		if (n_bad > 1)
			snprintf(d.detail, sizeof(d.detail), "and %zu more line%s", n_bad - 1,
				 n_bad > 2 ? "s" : "");
		report(ctx, &d, GVTG_CAUSE_SLEEP_LINE_SKIPPED, 0);
	}
	return 0;
}

/* The idle vGPUs of recs that nothing holds, appended to list (room for n_recs more):
 * their indexes in recs go to idx (at most MAX_VGPUS); returns how many. */
static size_t add_idle(struct gvtg_ctx *ctx, struct gvtg_record *recs, size_t n_recs,
		       struct gvtg_sleep_entry *list, size_t *n_list, size_t *idx)
{
	size_t n_remove = 0;
	for (size_t i = 0; i < n_recs && n_remove < MAX_VGPUS; i++) {
		struct gvtg_record *rec = &recs[i];
		struct gvtg_device dev;
		if (gvtg_record_in_use(rec) || rec->remove_pending || listed(list, *n_list, rec->uuid))
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
		struct gvtg_sleep_entry *e = &list[*n_list];
		copy(e->uuid, sizeof(e->uuid), rec->uuid);
		e->parent = strdup(dev.parent);
		e->type = strdup(dev.type);
		gvtg_device_clear(&dev);
		if (!e->parent || !e->type) {
			free(e->parent);
			free(e->type);
			break;
		}
		(*n_list)++;
		idx[n_remove++] = i;
	}
	return n_remove;
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
	int r = sleep_list_load(ctx, &list, &n_list);
	if (r < 0)
		goto out;
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
	size_t first_new = n_list, idx[MAX_VGPUS];
	size_t n_remove = add_idle(ctx, recs, n_recs, list, &n_list, idx);
	int failed = 0;

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
	/* The vGPUs come back through sysfs at 'post': so they go that way too. */
	struct gvtg_removal rm[MAX_VGPUS];
	for (size_t k = 0; k < n_remove; k++)
		rm[k] = (struct gvtg_removal){
			.uuid = recs[idx[k]].uuid,
			.rec = &recs[idx[k]],
			.keep_record = true,
			.done = GVTG_CAUSE_DONE_REMOVED,
			.detail = "for suspend",
		};
	failed = gvtg_remove_vgpus(ctx, cfg, GVTG_OP_SLEEP_REMOVE, NULL, rm, n_remove);
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
	int r = sleep_list_load(ctx, &list, &n);
	if (r < 0) {
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
