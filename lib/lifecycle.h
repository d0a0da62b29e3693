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
/* -EBUSY, reported, when a process holds the vGPU's VFIO node. */
int gvtg_check_not_held(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *uuid);
/* Every record, sorted by UUID; a failure is reported. */
int gvtg_records_sorted(struct gvtg_ctx *ctx, enum gvtg_op op, struct gvtg_record **ret,
			size_t *ret_n);

/* ---- removal.c: the one removal ---- */

/* One vGPU to remove, and what becomes of its record. */
struct gvtg_removal {
	const char *uuid;
	struct gvtg_record *rec;        /* its record (NULL: read when it must be marked) */
	bool defined;                   /* started from its definition: mdevctl stop first */
	bool keep_record;               /* else the record is deleted once it is removed */
	enum gvtg_cause done;           /* reported once removed; GVTG_CAUSE_NONE: nothing */
	const char *detail;             /* the done report's detail ("for suspend") */
	int r;                          /* result: 0 removed, -ETIMEDOUT pending, -errno */
};
/* Whether a vGPU is stopped as mdevctl does: its record says it was started from its
 * definition, or it has one. */
bool gvtg_vgpu_is_defined(struct gvtg_ctx *ctx, const char *uuid, const struct gvtg_record *rec);
/* Remove them together (gvtg_takedown(): mdevctl stop bounded by mdevctl_timeout, then
 * sysfs bounded by remove_timeout); a removal the kernel still blocks marks the record
 * pending.  Each outcome is reported.  Returns how many were not removed. */
int gvtg_remove_vgpus(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
		      const char *domain, struct gvtg_removal *v, size_t n);

/* ---- vgpu.c ---- */

/* Create a vGPU by hand or at boot, the lock held. */
int gvtg_create_locked(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, enum gvtg_op op,
		       const char *uuid, bool uuid_given, const char *parent, const char *type,
		       enum gvtg_origin origin, struct gvtg_placement *ret_placement);
