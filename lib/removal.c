/* SPDX-License-Identifier: MIT */
/*
 * Removing a vGPU: the one way, for release, the rollback of a failed start, a start
 * mdevctl got wrong, `gvtgctl remove`, boot --stop and sleep.  A vGPU started from its
 * definition is first stopped with `mdevctl stop` when there is an mdevctl (its callouts
 * run), bounded by mdevctl_timeout; whatever mdevctl did, a device still there then gets
 * the sysfs remove, waited for at most remove_timeout.  Only a removal the kernel still
 * blocks then (a process holds the device) is pending: it goes on in the background and
 * the record says remove_pending=yes.  The words say which of these happened.
 */
#include "lifecycle.h"

#define MDEV_DEVICES "sys/bus/mdev/devices"

static bool device_active(struct gvtg_ctx *ctx, const char *uuid)
{
	_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, uuid, NULL);
	return p && gvtg_io_access(ctx, p) == 0;
}

bool gvtg_vgpu_is_defined(struct gvtg_ctx *ctx, const char *uuid, const struct gvtg_record *rec)
{
	if (rec && rec->origin == GVTG_ORIGIN_DEFINED)
		return true;
	struct gvtg_definition def = { 0 };
	bool defined = gvtg_definition_find(ctx, uuid, &def) == 0;
	gvtg_definition_clear(&def);
	return defined;
}

void gvtg_takedown(struct gvtg_ctx *ctx, struct gvtg_takedown *v, size_t n, int mdevctl_ms,
		   int remove_ms)
{
	_cleanup_free_ char *mdevctl = NULL;
	bool any_defined = false;
	for (size_t i = 0; i < n; i++)
		any_defined = any_defined || v[i].defined;
	int found = any_defined ? gvtg_mdevctl_find(ctx, &mdevctl) : 0;

	char uuids[MAX_VGPUS][GVTG_UUID_STRLEN + 1];
	int results[MAX_VGPUS];
	size_t map[MAX_VGPUS], n_sysfs = 0;
	for (size_t i = 0; i < n; i++) {
		struct gvtg_takedown *t = &v[i];
		t->r = -ENOENT;
		t->by_mdevctl = false;
		t->mdevctl_r = 0;
		t->mdevctl_detail[0] = '\0';
		if (!device_active(ctx, t->uuid))
			continue;
		if (t->defined && found < 0) {
			t->mdevctl_r = found;
			snprintf(t->mdevctl_detail, sizeof(t->mdevctl_detail),
				 "GVTG_MDEVCTL must be an absolute path");
		} else if (t->defined && found > 0) {
			char *const argv[] = { mdevctl, "stop", "--uuid", t->uuid, NULL };
			int r = gvtg_mdevctl_run(ctx, argv, mdevctl_ms, t->mdevctl_detail,
						 sizeof(t->mdevctl_detail));
			if (r == -ETIMEDOUT)
				snprintf(t->mdevctl_detail, sizeof(t->mdevctl_detail),
					 "%s did not finish within %d ms and was killed", mdevctl,
					 mdevctl_ms);
			else if (r >= 0 && device_active(ctx, t->uuid))
				snprintf(t->mdevctl_detail, sizeof(t->mdevctl_detail),
					 "%s stop reported success, but /%s/%s still exists",
					 mdevctl, MDEV_DEVICES, t->uuid);
			if (!device_active(ctx, t->uuid)) {
				t->r = 0;
				t->by_mdevctl = r >= 0;
				t->mdevctl_r = r < 0 ? r : 0;
				continue;
			}
			t->mdevctl_r = r < 0 ? r : -EBUSY;
		}
		if (n_sysfs < MAX_VGPUS) {
			snprintf(uuids[n_sysfs], sizeof(uuids[0]), "%s", t->uuid);
			map[n_sysfs++] = i;
		}
	}
	if (n_sysfs == 0)
		return;
	int r = gvtg_mdev_remove_many(ctx, (const char(*)[GVTG_UUID_STRLEN + 1])uuids, n_sysfs,
				      remove_ms, results);
	for (size_t k = 0; k < n_sysfs; k++)
		v[map[k]].r = r < 0 ? r : results[k];
}

int gvtg_definition_stop(struct gvtg_ctx *ctx, const char *uuid, int timeout_ms, char *detail,
			 size_t detail_size)
{
	struct gvtg_takedown t = { .defined = true };
	int r = gvtg_uuid_normalize(uuid, t.uuid);
	if (r < 0)
		return r;
	gvtg_takedown(ctx, &t, 1, timeout_ms, timeout_ms);
	if (detail && detail_size)
		snprintf(detail, detail_size, "%s", t.mdevctl_detail);
	return t.r;
}

/* The pending bookkeeping, written once: the record says the removal goes on. */
static void mark_pending(struct gvtg_ctx *ctx, struct gvtg_removal *rm)
{
	struct gvtg_record own = { 0 };
	struct gvtg_record *rec = rm->rec;
	if (!rec) {
		if (gvtg_record_read(ctx, rm->uuid, &own) < 0)
			return; /* no record to mark: nothing claims the vGPU */
		rec = &own;
	}
	rec->remove_pending = true;
	(void)gvtg_record_write(ctx, rec);
	gvtg_record_clear(&own);
}

/* After the removal of one vGPU: its record and the words. */
static int removal_done(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
			const char *domain, struct gvtg_removal *rm,
			const struct gvtg_takedown *t)
{
	int remove_ms = cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, rm->uuid, domain);
	if (t->mdevctl_r < 0) {
		/* mdevctl failed or was killed: said, and the sysfs remove went on. */
		copy(d.detail, sizeof(d.detail), t->mdevctl_detail);
		report(ctx, &d, GVTG_CAUSE_DEFINITION_STOP, t->mdevctl_r);
	}
	rm->r = t->r == -ENOENT ? 0 : t->r;
	if (rm->r >= 0) {
		int r = rm->keep_record ? 0 : gvtg_record_delete(ctx, rm->uuid);
		if (r < 0 && r != -ENOENT) {
			d.err = -r;
			return report(ctx, &d, GVTG_CAUSE_RECORD_WRITE, r);
		}
		if (rm->done == GVTG_CAUSE_NONE)
			return 0;
		const char *how = !rm->defined ? ""
				  : t->by_mdevctl ? "(stopped with mdevctl stop; its definition stays)"
				  : t->mdevctl_r < 0 ? "(removed through sysfs; its definition stays)"
						     : "(its definition stays)";
		snprintf(d.detail, sizeof(d.detail), "%s%s%s", rm->detail ? rm->detail : "",
			 rm->detail && *how ? " " : "", how);
		return report(ctx, &d, rm->done, 0);
	}
	d.err = -rm->r;
	d.timeout_ms = remove_ms > 0 ? remove_ms : GVTG_REMOVE_GRACE_MS;
	if (rm->r != -ETIMEDOUT)
		return report(ctx, &d, GVTG_CAUSE_REMOVE_FAILED, rm->r);
	mark_pending(ctx, rm);
	return report(ctx, &d, GVTG_CAUSE_REMOVE_BLOCKED, rm->r);
}

int gvtg_remove_vgpus(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
		      const char *domain, struct gvtg_removal *v, size_t n)
{
	struct gvtg_takedown t[MAX_VGPUS];
	int failed = 0;
	if (n > MAX_VGPUS)
		n = MAX_VGPUS;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		t[i] = (struct gvtg_takedown){ .defined = v[i].defined };
		copy(t[i].uuid, sizeof(t[i].uuid), v[i].uuid);
	}
	gvtg_takedown(ctx, t, n,
		      cfg ? cfg->mdevctl_timeout_ms : GVTG_MDEVCTL_TIMEOUT_MS_DEFAULT,
		      cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT);
	for (size_t i = 0; i < n; i++) {
		removal_done(ctx, cfg, op, domain, &v[i], &t[i]);
		if (v[i].r < 0)
			failed++;
	}
	return failed;
}
