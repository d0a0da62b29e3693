/* SPDX-License-Identifier: MIT */
/*
 * Which parent and type a vGPU that gvtgctl writes into a domain gets: the hook's own
 * placement (lib/policy.c), the command line standing where the domain's metadata
 * stands, and then the check the hook makes at start (the type exists on that parent),
 * so that 'xml' and 'attach' never write what the hook would refuse.  Failures are told
 * in the diagnosis table's words (lib/diag.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void diag_start(struct gvtg_diag *d, const char *uuid, bool uuid_given,
		       const char *domain)
{
	gvtg_diag_init(d, GVTG_OP_CREATE, uuid_given ? uuid : NULL, domain);
}

/* TYPE_UNKNOWN: type is not one of parent's; the nearest one is suggested. */
static void type_unknown(struct ctl *c, struct gvtg_diag *d, const char *parent,
			 const char *type, const char *source)
{
	snprintf(d->parent, sizeof(d->parent), "%s", parent);
	snprintf(d->type, sizeof(d->type), "%s", type);
	snprintf(d->source, sizeof(d->source), "%s", source);
	gvtg_types_summary(c->ctx, parent, GVTG_SUMMARY_DETAILS, d->types, sizeof(d->types));
	gvtg_type_suggest(c->ctx, parent, type, d->detail, sizeof(d->detail));
	ctl_report(c, d, GVTG_CAUSE_TYPE_UNKNOWN);
}

/* With several parents, a type none of them offers: said as the first parent's (with
 * the nearest type of the parent that has one), before the placement would only say
 * that no parent is chosen. */
static bool no_parent_has(struct ctl *c, struct gvtg_diag *d, const char *type)
{
	char **parents;
	size_t n;
	if (gvtg_parents_list(c->ctx, &parents, &n) < 0)
		return false; /* the placement says what is wrong */
	bool found = n < 2;
	for (size_t i = 0; i < n && !found; i++) {
		struct gvtg_type t;
		if (gvtg_type_get(c->ctx, parents[i], type, &t) >= 0) {
			gvtg_type_clear(&t);
			found = true;
		}
	}
	if (!found) {
		size_t pick = 0;
		for (size_t i = 0; i < n; i++) {
			char hint[GVTG_DIAG_NAME_MAX];
			gvtg_type_suggest(c->ctx, parents[i], type, hint, sizeof(hint));
			if (hint[0]) {
				pick = i;
				break;
			}
		}
		type_unknown(c, d, parents[pick], type, "command line");
	}
	gvtg_strv_free(parents, n);
	return !found;
}

int ctl_place_vgpu(struct ctl *c, const char *uuid, bool uuid_given, const char *domain,
		   const char *parent, const char *type, struct gvtg_placement *ret_placement)
{
	struct gvtg_diag d;
	diag_start(&d, uuid, uuid_given, domain);
	int r = ctl_open_config(c);
	if (r < 0)
		return r;
	const char *bad = parent && !gvtg_name_is_valid(parent) ? parent
			  : type && !gvtg_name_is_valid(type)   ? type
								: NULL;
	if (bad) {
		snprintf(d.detail, sizeof(d.detail), "%s", bad);
		snprintf(d.source, sizeof(d.source), "command line");
		ctl_report(c, &d, GVTG_CAUSE_NAME_INVALID);
		return -EINVAL;
	}
	if (type && !parent && no_parent_has(c, &d, type))
		return -ENOENT;

	/* The hook's placement, the command line standing for the domain's metadata. */
	struct gvtg_meta_device meta = { .parent = (char *)parent, .type = (char *)type };
	struct gvtg_domain dom = { .meta = &meta, .n_meta = 1 };
	snprintf(meta.uuid, sizeof(meta.uuid), "%s", uuid);
	struct gvtg_placement p = { 0 };
	r = gvtg_placement_resolve(c->ctx, parent || type ? &dom : NULL, c->cfg, uuid, &p);
	if (r < 0) {
		gvtg_placement_explain(c->ctx, c->cfg, uuid_given ? uuid : "", &p, r, parent,
				       type);
		gvtg_placement_clear(&p);
		return r;
	}

	struct gvtg_type t;
	r = gvtg_type_get(c->ctx, p.parent, p.type, &t);
	if (r < 0) {
		type_unknown(c, &d, p.parent, p.type, ctl_source_string(p.type_source));
		gvtg_placement_clear(&p);
		return -ENOENT;
	}
	gvtg_type_clear(&t);
	*ret_placement = p;
	return 0;
}
