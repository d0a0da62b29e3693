/* SPDX-License-Identifier: MIT */
/*
 * Which parent and type a vGPU that gvtgctl writes into a domain gets: the library's one
 * placement (gvtg_placement_decide, lib/policy.c: a definition, the command line
 * standing where the domain's metadata stands, the configuration, automatic), with the
 * check the hook makes at start (the type exists on that parent), so that 'xml',
 * 'attach' and 'define' never write what the hook would refuse.  Failures are told in the diagnosis
 * table's words (lib/diag.c), as the hook and 'gvtgctl create' tell them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int ctl_place_vgpu(struct ctl *c, enum gvtg_op op, const char *uuid, bool uuid_given,
		   const char *domain, const char *parent, const char *type,
		   struct gvtg_placement *ret_placement)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, op, uuid_given ? uuid : NULL, domain);
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
	struct gvtg_meta_device meta = { .parent = (char *)parent, .type = (char *)type };
	struct gvtg_domain dom = { .meta = &meta, .n_meta = 1 };
	snprintf(meta.uuid, sizeof(meta.uuid), "%s", uuid);
	struct gvtg_placement p = { 0 };
	r = gvtg_placement_decide(c->ctx, parent || type ? &dom : NULL, c->cfg, uuid,
				  GVTG_PLACE_BY_HAND | GVTG_PLACE_CHECK_TYPE, &d, &p, NULL);
	if (r < 0) {
		gvtg_placement_clear(&p);
		return r;
	}
	*ret_placement = p;
	return 0;
}
