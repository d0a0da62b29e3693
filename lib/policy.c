/* SPDX-License-Identifier: MIT */
/*
 * Placement policy: which parent and which type a vGPU UUID gets, the ONE decision for
 * the hook, boot, gvtgctl create, xml and attach (gvtg_placement_decide).  A UUID's
 * mdevctl definition speaks for it, and the domain's metadata and the configuration's
 * [<uuid>] section must agree with it.  Otherwise the first match wins: the domain's own
 * metadata, the configuration's [<uuid>] section, its [defaults], then automatic (the
 * only registered parent, or the only one that has the named type; the parent's only
 * type).
 */
#include <string.h>

#include "lifecycle.h"

const char *gvtg_source_to_string(enum gvtg_source s)
{
	switch (s) {
	case GVTG_SOURCE_METADATA:
		return "domain metadata";
	case GVTG_SOURCE_CONFIG_DEVICE:
		return "configuration [uuid] section";
	case GVTG_SOURCE_CONFIG_DEFAULT:
		return "configuration [defaults]";
	case GVTG_SOURCE_AUTO:
		return "automatic";
	case GVTG_SOURCE_DEFINITION:
		return "mdevctl definition";
	}
	return "unknown";
}

void gvtg_placement_clear(struct gvtg_placement *p)
{
	if (!p)
		return;
	free(p->parent);
	free(p->type);
	memset(p, 0, sizeof(*p));
}

static const char *pick(const char *meta, const char *dev, const char *def,
			enum gvtg_source *ret_source)
{
	if (meta) {
		*ret_source = GVTG_SOURCE_METADATA;
		return meta;
	}
	if (dev) {
		*ret_source = GVTG_SOURCE_CONFIG_DEVICE;
		return dev;
	}
	if (def) {
		*ret_source = GVTG_SOURCE_CONFIG_DEFAULT;
		return def;
	}
	*ret_source = GVTG_SOURCE_AUTO;
	return NULL;
}

/* The only parent, or the only parent that has `type` when a type is named. */
static int auto_parent(struct gvtg_ctx *ctx, const char *type, char **ret_parent)
{
	char **parents;
	size_t n;
	int r = gvtg_parents_list(ctx, &parents, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		gvtg_strv_free(parents, n);
		return -ENXIO;
	}
	ssize_t found = -1;
	size_t matches = 0;
	for (size_t i = 0; i < n; i++) {
		if (type && n > 1) {
			struct gvtg_type t;
			if (gvtg_type_get(ctx, parents[i], type, &t) < 0)
				continue;
			gvtg_type_clear(&t);
		}
		found = (ssize_t)i;
		matches++;
	}
	if (matches != 1) {
		gvtg_strv_free(parents, n);
		return -ENOTUNIQ;
	}
	*ret_parent = TAKE_PTR(parents[found]);
	gvtg_strv_free(parents, n);
	return 0;
}

static int auto_type(struct gvtg_ctx *ctx, const char *parent, char **ret_type)
{
	struct gvtg_type *types;
	size_t n;
	int r = gvtg_types_list(ctx, parent, &types, &n);
	if (r < 0)
		return r;
	if (n != 1) {
		gvtg_types_free(types, n);
		return n == 0 ? -ENODATA : -ENOTUNIQ;
	}
	*ret_type = TAKE_PTR(types[0].id);
	gvtg_types_free(types, n);
	return 0;
}

int gvtg_placement_resolve(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
			   const struct gvtg_config *cfg, const char *uuid,
			   struct gvtg_placement *ret_placement)
{
	const struct gvtg_meta_device *meta = NULL;
	for (size_t i = 0; dom && i < dom->n_meta; i++)
		if (!strcmp(dom->meta[i].uuid, uuid))
			meta = &dom->meta[i];
	const struct gvtg_config_device *dev = gvtg_config_find(cfg, uuid);

	struct gvtg_placement p = { 0 };
	const char *parent = pick(meta ? meta->parent : NULL, dev ? dev->parent : NULL,
				  cfg ? cfg->parent : NULL, &p.parent_source);
	const char *type = pick(meta ? meta->type : NULL, dev ? dev->type : NULL,
				cfg ? cfg->type : NULL, &p.type_source);
	int r = 0;

	if (type && !gvtg_name_is_valid(type))
		return -EINVAL;
	if (type && !(p.type = strdup(type)))
		return -ENOMEM;
	if (parent) {
		r = gvtg_parent_check(ctx, parent);
		if (r < 0) {
			/* Keep the name for the caller's message. */
			if (gvtg_name_is_valid(parent))
				p.parent = strdup(parent);
			*ret_placement = p;
			return r;
		}
		if (!(p.parent = strdup(parent))) {
			gvtg_placement_clear(&p);
			return -ENOMEM;
		}
	} else {
		r = auto_parent(ctx, type, &p.parent);
		if (r < 0) {
			*ret_placement = p;
			return r;
		}
	}
	if (!p.type) {
		r = auto_type(ctx, p.parent, &p.type);
		if (r < 0) {
			*ret_placement = p;
			return r;
		}
	}
	*ret_placement = p;
	return 0;
}

/* ---- the decision: a definition first, then the policy ------------------------------ */

static const struct gvtg_meta_device *meta_of(const struct gvtg_domain *dom, const char *uuid)
{
	const struct gvtg_meta_device *m = NULL;
	for (size_t i = 0; dom && i < dom->n_meta; i++)
		if (!strcmp(dom->meta[i].uuid, uuid))
			m = &dom->meta[i];
	return m;
}

/* The UUID's definition, checked against the domain's metadata (by hand: the command
 * line) and the configuration's [<uuid>] section.  0: none; 1: ret_def filled; < 0:
 * refused (definition-conflict, definition-two-parents, definition-damaged), reported
 * unless quiet.  d->file names the definition's file whenever there is one. */
static int definition_step(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
			   const struct gvtg_config *cfg, const char *uuid, unsigned flags,
			   struct gvtg_diag *d, struct gvtg_definition *ret_def)
{
	bool quiet = flags & GVTG_PLACE_QUIET;
	struct gvtg_definition def = { 0 };
	int r = gvtg_definition_find(ctx, uuid, &def);
	if (r == -ENOENT)
		return 0;
	if (def.path)
		snprintf(d->file, sizeof(d->file), "/%s", def.path);
	if (r == -ENOTUNIQ) {
		/* Both files, and so both parents: the first in {file}, the other in {detail}. */
		snprintf(d->detail, sizeof(d->detail), "/%s/%s/%s", GVTG_DEFINITIONS_DIR,
			 def.other_parent, def.uuid);
		gvtg_definition_clear(&def);
		if (!quiet)
			gvtg_diag_report(ctx, d, GVTG_CAUSE_DEFINITION_TWO_PARENTS);
		return r;
	}
	if (r < 0) {
		snprintf(d->detail, sizeof(d->detail), "%s", r == -EBADMSG ? def.error : "cannot be read");
		if (!d->file[0])
			snprintf(d->file, sizeof(d->file), "/%s/*/%s", GVTG_DEFINITIONS_DIR, uuid);
		gvtg_definition_clear(&def);
		d->err = r == -EBADMSG ? 0 : -r;
		if (!quiet)
			gvtg_diag_report(ctx, d, GVTG_CAUSE_DEFINITION_DAMAGED);
		return r;
	}
	struct gvtg_definition_conflict k;
	if (gvtg_definition_check(&def, dom, cfg, &k) < 0) {
		diag_place(d, def.parent, def.type);
		copy(d->source, sizeof(d->source),
		     source_words(k.source, flags & GVTG_PLACE_BY_HAND));
		snprintf(d->detail, sizeof(d->detail), "%s %s", k.what, k.theirs);
		gvtg_definition_clear(&def);
		if (!quiet)
			gvtg_diag_report(ctx, d, GVTG_CAUSE_DEFINITION_CONFLICT);
		return -EEXIST;
	}
	*ret_def = def;
	return 1;
}

/* The definition as the placement; its parent must be registered (unless the vGPU
 * exists already: then it is only compared). */
static int from_definition(struct gvtg_ctx *ctx, const struct gvtg_config *cfg,
			   const struct gvtg_definition *def, unsigned flags, struct gvtg_diag *d,
			   struct gvtg_placement *p)
{
	p->parent_source = p->type_source = GVTG_SOURCE_DEFINITION;
	p->parent = strdup(def->parent);
	p->type = strdup(def->type);
	int r = p->parent && p->type ? 0 : -ENOMEM;
	if (r >= 0 && !(flags & GVTG_PLACE_EXISTS))
		r = gvtg_parent_check(ctx, def->parent);
	if (r < 0 && !(flags & GVTG_PLACE_QUIET))
		gvtg_explain_placement(ctx, d, cfg, p, r, flags & GVTG_PLACE_BY_HAND, NULL, NULL);
	return r;
}

int gvtg_placement_decide(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
			  const struct gvtg_config *cfg, const char *uuid, unsigned flags,
			  struct gvtg_diag *d, struct gvtg_placement *ret_placement,
			  struct gvtg_definition *ret_def)
{
	bool by_hand = flags & GVTG_PLACE_BY_HAND;
	bool quiet = flags & (GVTG_PLACE_QUIET | GVTG_PLACE_EXISTS);
	struct gvtg_placement p = { 0 };
	struct gvtg_definition def = { 0 };
	int defined = definition_step(ctx, dom, cfg, uuid, flags, d, &def);
	int r = defined;
	if (defined > 0) {
		r = from_definition(ctx, cfg, &def, flags, d, &p);
	} else if (defined == 0) {
		const struct gvtg_meta_device *m = meta_of(dom, uuid);
		r = gvtg_placement_resolve(ctx, dom, cfg, uuid, &p);
		if (r < 0 && !quiet)
			gvtg_explain_placement(ctx, d, cfg, &p, r, by_hand, m ? m->parent : NULL,
					       m ? m->type : NULL);
	}
	if (r >= 0 && (flags & GVTG_PLACE_CHECK_TYPE)) {
		struct gvtg_type t;
		r = gvtg_type_get(ctx, p.parent, p.type, &t);
		if (r >= 0)
			gvtg_type_clear(&t);
		else if (!quiet)
			gvtg_explain_type_unknown(ctx, d, p.parent, p.type, p.type_source, by_hand);
	}
	*ret_placement = p;
	if (defined > 0 && r >= 0 && ret_def)
		*ret_def = def;
	else
		gvtg_definition_clear(&def);
	/* An existing vGPU is only compared with what is asked: the policy's failures
	 * (nothing asked, a parent gone) are no refusal. */
	if (r < 0 && defined >= 0 && (flags & GVTG_PLACE_EXISTS))
		return defined;
	return r < 0 ? r : defined;
}
