/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the lifecycle's files: acquire.c (prepare begin), release.c
 * (release end, reconnect), vgpu.c (create and remove by hand), boot.c (boot and
 * suspend), explain.c (why a placement or a create failed), lifecycle.c (the steps
 * more than one of them takes) and policy.c (the placement, which words its refusals
 * through explain.c).  Every failure and every action is reported through the
 * context's report callback with a cause of the diagnosis table.
 */
#pragma once

#include <string.h>
#include <time.h>

#include "gvtg-private.h"

#define MAX_VGPUS 64

static inline void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static inline void diag_place(struct gvtg_diag *d, const char *parent, const char *type)
{
	copy(d->parent, sizeof(d->parent), parent);
	copy(d->type, sizeof(d->type), type);
}

static inline void diag_file(struct gvtg_diag *d, const struct gvtg_config *cfg)
{
	const char *p = cfg && cfg->path ? cfg->path : gvtg_config_default_path();
	snprintf(d->file, sizeof(d->file), "%s%s", p[0] == '/' ? "" : "/", p);
}

static inline void diag_types(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *parent,
			      bool free_only)
{
	gvtg_types_summary(ctx, parent,
			   GVTG_SUMMARY_DETAILS | (free_only ? GVTG_SUMMARY_FREE_ONLY : 0),
			   d->types, sizeof(d->types));
}

static inline int report(struct gvtg_ctx *ctx, struct gvtg_diag *d, enum gvtg_cause cause, int r)
{
	gvtg_diag_report(ctx, d, cause);
	return r;
}

static inline const char *source_words(enum gvtg_source s, bool by_hand)
{
	/* By hand, the command line stands where a domain has its metadata. */
	if (by_hand && s == GVTG_SOURCE_METADATA)
		return "command line";
	return gvtg_source_to_string(s);
}

static inline void lock_drop(struct gvtg_ctx *ctx, int fd)
{
	if (fd >= 0 && ctx->lock_fd == fd)
		ctx->lock_fd = -1;
	gvtg_lock_release(fd);
}

static inline int lock_take(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
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

/* ---- records ---- */

/* A record, or a report: -ENOENT is "no record" and not reported. */
static inline int record_get(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *uuid,
			     struct gvtg_record *ret)
{
	int r = gvtg_record_read(ctx, uuid, ret);
	if (r >= 0 || r == -ENOENT)
		return r;
	d->err = -r;
	return report(ctx, d, r == -EBADMSG ? GVTG_CAUSE_RECORD_DAMAGED : GVTG_CAUSE_STATE_UNREADABLE,
		      r);
}

static inline void record_set_domain(struct gvtg_record *rec, const char *domain_uuid,
				     const char *domain_name)
{
	free(rec->domain_name);
	rec->domain_name = domain_name ? strdup(domain_name) : NULL;
	copy(rec->domain_uuid, sizeof(rec->domain_uuid), domain_uuid);
	rec->time = (int64_t)time(NULL);
	rec->remove_pending = false;
}

static inline int held_by_other(struct gvtg_ctx *ctx, struct gvtg_diag *d,
				const struct gvtg_record *rec)
{
	copy(d->holder, sizeof(d->holder),
	     rec->domain_name && *rec->domain_name ? rec->domain_name : rec->domain_uuid);
	return report(ctx, d, GVTG_CAUSE_HELD_BY_DOMAIN, -EBUSY);
}

static inline void nothing(struct gvtg_ctx *ctx, enum gvtg_op op, const char *what)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, NULL, NULL);
	copy(d.detail, sizeof(d.detail), what);
	report(ctx, &d, GVTG_CAUSE_DONE_NOTHING, 0);
}

/* ---- explain.c ---- */

/* The placement's failure r in the table's words (the file, the source, the choices). */
int gvtg_explain_placement(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			   const struct gvtg_config *cfg, const struct gvtg_placement *p, int r,
			   bool by_hand, const char *asked_parent, const char *asked_type);
/* TYPE_UNKNOWN: type is not one of parent's; its types and the nearest one are listed. */
int gvtg_explain_type_unknown(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *parent,
			      const char *type, enum gvtg_source type_source, bool by_hand);
/* Why a type has no instance left, in words. */
void gvtg_no_room_reason(struct gvtg_ctx *ctx, const char *parent, const char *type,
			 char *out, size_t size);
/* The kernel's refusal r of a create in the table's words. */
int gvtg_explain_create(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			const struct gvtg_config *cfg, const char *parent, const char *type,
			int r);

/* ---- lifecycle.c ---- */

/* The type exists, fits the model and has an instance left; then create (uuid NULL:
 * the checks only). */
int gvtg_create_device(struct gvtg_ctx *ctx, struct gvtg_diag *d,
		       const struct gvtg_config *cfg, const char *parent, const char *type,
		       const char *model, enum gvtg_source type_source, bool by_hand,
		       const char *uuid);
/* Start a vGPU from its mdevctl definition. */
int gvtg_start_defined(struct gvtg_ctx *ctx, struct gvtg_diag *d,
		       const struct gvtg_config *cfg, const struct gvtg_definition *def,
		       const char *model, bool by_hand);
/* Remove the vGPUs recs[idx[0..n)] together; delete their records, or mark them pending
 * when blocked; each failure counted in *ret_failed. */
void gvtg_finish_removals(struct gvtg_ctx *ctx, enum gvtg_op op, const char *domain,
			  struct gvtg_record *recs, size_t *idx, size_t n, int timeout,
			  int *ret_failed);
/* -EBUSY, reported, when a process holds the vGPU's VFIO node. */
int gvtg_check_not_held(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *uuid);
/* Every record, sorted by UUID; a failure is reported. */
int gvtg_records_sorted(struct gvtg_ctx *ctx, enum gvtg_op op, struct gvtg_record **ret,
			size_t *ret_n);

/* ---- vgpu.c ---- */

/* Create a vGPU by hand or at boot, the lock held. */
int gvtg_create_locked(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
		       const char *uuid, bool uuid_given, const char *parent, const char *type,
		       enum gvtg_origin origin, struct gvtg_placement *ret_placement);
