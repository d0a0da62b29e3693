/* SPDX-License-Identifier: MIT */
/*
 * Placement policy: which parent and which type a vGPU UUID gets.  First match wins:
 * the domain's own metadata, the configuration's [<uuid>] section, its [defaults], then
 * automatic (the only registered parent, or the only one that has the named type; the
 * parent's only type).
 */
#include <string.h>

#include "gvtg-private.h"

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
