/* SPDX-License-Identifier: MIT */
/*
 * Which parent and type a vGPU that gvtgctl writes into a domain gets: the hook's own
 * placement (lib/policy.c), the command line standing where the domain's metadata
 * stands, and then the check the hook makes at start (the type exists on that parent),
 * so that 'xml' and 'attach' never write what the hook would refuse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* The type ids of a parent, for "did you mean"; NULL-free array of n strings. */
static int type_ids(struct ctl *c, const char *parent, struct gvtg_type **ret_types,
		    const char ***ret_ids, size_t *ret_n)
{
	struct gvtg_type *types;
	size_t n;
	int r = gvtg_types_list(c->ctx, parent, &types, &n);
	if (r < 0)
		return r;
	const char **ids = calloc(n + 1, sizeof(*ids));
	if (!ids) {
		gvtg_types_free(types, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = types[i].id;
	*ret_types = types;
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

/* The type a mistyped name most likely meant on this parent: a type whose "name" file
 * says it (the NAME column of 'gvtgctl types'), else the nearest id. */
static char *type_hint(struct ctl *c, const char *parent, const char *type)
{
	struct gvtg_type *types;
	const char **ids;
	size_t n;
	if (type_ids(c, parent, &types, &ids, &n) < 0)
		return NULL;
	const char *hint = NULL;
	for (size_t i = 0; i < n && !hint; i++)
		if (types[i].name && !strcmp(types[i].name, type))
			hint = types[i].id;
	if (!hint)
		hint = ctl_did_you_mean(type, ids, n);
	char *ret = hint ? strdup(hint) : NULL;
	free(ids);
	gvtg_types_free(types, n);
	return ret;
}

/* Does any registered parent offer this type?  Sets *ret_hint to a likely meant type
 * of the first parent when none does. */
static bool any_parent_has(struct ctl *c, const char *type, char **ret_hint)
{
	char **parents;
	size_t n;
	*ret_hint = NULL;
	if (gvtg_parents_list(c->ctx, &parents, &n) < 0)
		return true; /* let the resolution say what is wrong */
	bool found = n == 0;
	for (size_t i = 0; i < n && !found; i++) {
		struct gvtg_type t;
		if (gvtg_type_get(c->ctx, parents[i], type, &t) >= 0) {
			gvtg_type_clear(&t);
			found = true;
		}
	}
	for (size_t i = 0; i < n && !found && !*ret_hint; i++)
		*ret_hint = type_hint(c, parents[i], type);
	gvtg_strv_free(parents, n);
	return found;
}

int ctl_place_vgpu(struct ctl *c, const char *what, const char *uuid, const char *parent,
		   const char *type, struct gvtg_placement *ret_placement)
{
	char list[512];
	if (parent && !gvtg_name_is_valid(parent)) {
		ctl_error("%s, %s: '%s' is not a valid parent name. Name one that 'gvtgctl "
			  "types' lists",
			  what, uuid, parent);
		return -EINVAL;
	}
	if (type && !gvtg_name_is_valid(type)) {
		ctl_error("%s, %s: '%s' is not a valid type name. Name one that 'gvtgctl "
			  "types' lists",
			  what, uuid, type);
		return -EINVAL;
	}
	int r = ctl_open_config(c);
	if (r < 0)
		return r;

	/* A type no parent offers: say so before the parent's choice, which would only
	 * complain that no parent fits. */
	char *hint = NULL;
	if (type && !parent && !any_parent_has(c, type, &hint)) {
		gvtg_parents_summary(c->ctx, list, sizeof(list));
		if (hint)
			ctl_error("%s, %s: no mdev parent offers type '%s'; did you mean '%s'? "
				  "'gvtgctl types' lists them",
				  what, uuid, type, hint);
		else
			ctl_error("%s, %s: no mdev parent (%s) offers type '%s'. 'gvtgctl "
				  "types' lists the types",
				  what, uuid, list[0] ? list : "none", type);
		free(hint);
		return -ENOENT;
	}

	struct gvtg_placement p = { 0 };
	r = ctl_resolve(c, what, uuid, parent, type, &p);
	if (r < 0)
		return r;

	struct gvtg_type t;
	r = gvtg_type_get(c->ctx, p.parent, p.type, &t);
	if (r < 0) {
		hint = type_hint(c, p.parent, p.type);
		ctl_describe_types(c, p.parent, list, sizeof(list));
		if (hint)
			ctl_error("%s, %s: parent %s has no type '%s' (from the %s); did you "
				  "mean '%s'? Its types: %s",
				  what, uuid, p.parent, p.type, ctl_source_string(p.type_source),
				  hint, list);
		else
			ctl_error("%s, %s: parent %s has no type '%s' (from the %s). Its types: "
				  "%s",
				  what, uuid, p.parent, p.type, ctl_source_string(p.type_source),
				  list);
		free(hint);
		gvtg_placement_clear(&p);
		return -ENOENT;
	}
	gvtg_type_clear(&t);
	*ret_placement = p;
	return 0;
}
