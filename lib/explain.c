/* SPDX-License-Identifier: MIT */
/*
 * Explanations: why a placement or a create failed, in the diagnosis table's words,
 * with what the host offers instead.
 */
#include "lifecycle.h"

/* ---- explaining placement and create failures --------------------------------------- */

int gvtg_explain_type_unknown(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *parent,
			      const char *type, enum gvtg_source type_source, bool by_hand)
{
	diag_place(d, parent, type);
	diag_types(ctx, d, parent, false);
	copy(d->source, sizeof(d->source), source_words(type_source, by_hand));
	gvtg_type_suggest(ctx, parent, type, d->detail, sizeof(d->detail));
	return report(ctx, d, GVTG_CAUSE_TYPE_UNKNOWN, -ENOENT);
}

/* With several parents, a type none of them offers: said as the first parent's (with
 * the nearest type of the parent that has one), rather than that no parent is chosen. */
static bool no_parent_has(struct gvtg_ctx *ctx, struct gvtg_diag *d, const char *type,
			  enum gvtg_source type_source, bool by_hand)
{
	char **parents;
	size_t n;
	if (gvtg_parents_list(ctx, &parents, &n) < 0)
		return false;
	bool found = n < 2;
	for (size_t i = 0; i < n && !found; i++) {
		struct gvtg_type t;
		if (gvtg_type_get(ctx, parents[i], type, &t) >= 0) {
			gvtg_type_clear(&t);
			found = true;
		}
	}
	if (!found) {
		size_t pick = 0;
		for (size_t i = 0; i < n; i++) {
			char hint[GVTG_DIAG_NAME_MAX];
			gvtg_type_suggest(ctx, parents[i], type, hint, sizeof(hint));
			if (hint[0]) {
				pick = i;
				break;
			}
		}
		gvtg_explain_type_unknown(ctx, d, parents[pick], type, type_source, by_hand);
	}
	gvtg_strv_free(parents, n);
	return !found;
}

int gvtg_explain_placement(struct gvtg_ctx *ctx, struct gvtg_diag *d,
			   const struct gvtg_config *cfg, const struct gvtg_placement *p,
			   int r, bool by_hand, const char *asked_parent, const char *asked_type)
{
	/* A definition's file is named where its parent is wrong; else the configuration's. */
	bool defined = p->parent_source == GVTG_SOURCE_DEFINITION;
	if (!defined)
		diag_file(d, cfg);
	diag_place(d, p->parent, p->type);
	switch (r) {
	case -ENXIO:
		return report(ctx, d, GVTG_CAUSE_NO_PARENT, r);
	case -ENOENT:
		copy(d->source, sizeof(d->source), source_words(p->parent_source, by_hand));
		if (!defined)
			d->file[0] = '\0';
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
		if (!p->parent && p->type && p->type_source != GVTG_SOURCE_AUTO &&
		    no_parent_has(ctx, d, p->type, p->type_source, by_hand))
			return -ENOENT;
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

/* Why a type has no instance left, from the descriptions GVT-g gives: every vGPU takes
 * graphics memory and fence registers.  When a type needing as many fences but less
 * memory still fits, memory is the limit; when only types needing fewer fences fit,
 * fences are. */
void gvtg_no_room_reason(struct gvtg_ctx *ctx, const char *parent, const char *type,
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

int gvtg_explain_create(struct gvtg_ctx *ctx, struct gvtg_diag *d,
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
		gvtg_no_room_reason(ctx, parent, type, d->detail, sizeof(d->detail));
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
