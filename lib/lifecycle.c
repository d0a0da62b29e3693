/* SPDX-License-Identifier: MIT */
/*
 * The steps more than one lifecycle file takes: creating one vGPU (from the placement or
 * from its definition), removing several and keeping their records, sorting the records,
 * and who holds a vGPU's VFIO node.
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

/* A vGPU that mdevctl defines: through mdevctl when there is one (its callouts run, it
 * writes the attrs); else created like any other, then given its attrs in order.  A
 * failure leaves it not active (mdevctl.c undoes its part). */
int gvtg_start_defined(struct gvtg_ctx *ctx, struct gvtg_diag *d,
		       const struct gvtg_config *cfg, const struct gvtg_definition *def,
		       const char *model, bool by_hand)
{
	int timeout = cfg ? cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
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


void gvtg_finish_removals(struct gvtg_ctx *ctx, enum gvtg_op op, const char *domain,
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
	if (holder_paths(ctx, uuid, want, &n) >= 0 && n > 0)
		copy(d->detail, sizeof(d->detail), want[0]);
	return report(ctx, d, GVTG_CAUSE_HELD_BY_PROCESS, -EBUSY);
}
