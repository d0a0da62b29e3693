/* SPDX-License-Identifier: MIT */
/*
 * Definitions: the persistent vGPUs that mdevctl keeps in etc/mdevctl.d/<parent>/<uuid>
 * (written by `mdevctl define`, `virsh nodedev-define`, virt-manager).  Finding and
 * listing them, read through the library's one reader of state files and parsed by
 * definition-json.c, and checking one against what a domain or the configuration asks.
 * A data source: errors are returned, the lifecycle words them.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "gvtg-private.h"

/* ---- definitions ---------------------------------------------------------------- */

void gvtg_definition_clear(struct gvtg_definition *d)
{
	if (!d)
		return;
	free(d->parent);
	free(d->type);
	for (size_t i = 0; i < d->n_attrs; i++) {
		free(d->attrs[i].name);
		free(d->attrs[i].value);
	}
	free(d->attrs);
	free(d->path);
	free(d->other_parent);
	memset(d, 0, sizeof(*d));
}

void gvtg_definitions_free(struct gvtg_definition *defs, size_t n)
{
	if (!defs)
		return;
	for (size_t i = 0; i < n; i++)
		gvtg_definition_clear(&defs[i]);
	free(defs);
}

const char *gvtg_definition_origin(const struct gvtg_definition *d)
{
	return d->autostart ? "mdevctl auto" : "mdevctl manual";
}

/* Read a definition file through the library's one reader of state files: a regular
 * file (no symlink, no FIFO), at most GVTG_DEFINITION_MAX bytes.  -EBADMSG with d->error
 * for what we refuse. */
static int read_definition(struct gvtg_ctx *ctx, const char *path, struct gvtg_definition *d)
{
	_cleanup_free_ char *buf = NULL;
	int r = gvtg_io_read_state(ctx, path, GVTG_DEFINITION_MAX, &buf);
	if (r == -EBADMSG) {
		_cleanup_free_ char *target = NULL;
		snprintf(d->error, sizeof(d->error), "%s",
			 gvtg_io_readlink(ctx, path, &target) >= 0 ? "a symbolic link, not a file"
								    : "not a regular file");
		return r;
	}
	if (r == -EFBIG) {
		snprintf(d->error, sizeof(d->error), "larger than %zu KiB",
			 GVTG_DEFINITION_MAX >> 10);
		return -EBADMSG;
	}
	if (r < 0)
		return r;
	return gvtg_definition_parse(buf, strlen(buf), d);
}

/* The parent directories of etc/mdevctl.d, sorted: real directories with a valid name,
 * but not mdevctl's own scripts.d. */
static int list_parents(struct gvtg_ctx *ctx, char ***ret_names, size_t *ret_n)
{
	_cleanup_closedir_ DIR *dir = NULL;
	int r = gvtg_io_opendir(ctx, GVTG_DEFINITIONS_DIR, &dir);
	if (r == -ENOENT || r == -ENOTDIR) {
		*ret_names = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		struct stat st;
		if (!gvtg_name_is_valid(de->d_name) || !strcmp(de->d_name, "scripts.d"))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		char **nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			gvtg_strv_free(nv ? nv : v, n);
			return -ENOMEM;
		}
		v = nv;
		n++;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
			char *t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	*ret_names = v;
	*ret_n = n;
	return 0;
}

/* Load <parent>/<uuid> into d (uuid, parent, path always set).  -ENOENT: no such file. */
static int load_one(struct gvtg_ctx *ctx, const char *parent, const char *uuid,
		    struct gvtg_definition *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->uuid, uuid, sizeof(d->uuid));
	d->parent = strdup(parent);
	d->path = gvtg_path_join(GVTG_DEFINITIONS_DIR, parent, uuid, NULL);
	if (!d->parent || !d->path) {
		gvtg_definition_clear(d);
		return -ENOMEM;
	}
	int r = read_definition(ctx, d->path, d);
	if (r == -ENOENT || r == -ENOMEM)
		gvtg_definition_clear(d);
	return r;
}

int gvtg_definition_find(struct gvtg_ctx *ctx, const char *uuid, struct gvtg_definition *ret_def)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	char **parents;
	size_t n;
	r = list_parents(ctx, &parents, &n);
	if (r < 0)
		return r;

	struct gvtg_definition found = { 0 };
	bool have = false;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		struct gvtg_definition d;
		int k = load_one(ctx, parents[i], u, &d);
		if (k == -ENOENT)
			continue;
		if (k == -ENOMEM) {
			r = k;
			break;
		}
		if (have) {
			/* Two parents: which one mdevctl would start depends on how it is
			 * asked, so we start neither. */
			gvtg_definition_clear(&d);
			found.other_parent = strdup(parents[i]);
			r = found.other_parent ? -ENOTUNIQ : -ENOMEM;
			break;
		}
		found = d;
		have = true;
		r = k;
		if (k < 0 && k != -EBADMSG)
			break;
	}
	gvtg_strv_free(parents, n);
	if (r == -ENOENT || r == -ENOMEM) {
		gvtg_definition_clear(&found);
		return r;
	}
	if (r == -EBADMSG && !found.other_parent) {
		/* Keep the file's name and the reason; nothing else is meaningful. */
		free(found.type);
		found.type = NULL;
	}
	*ret_def = found;
	return r;
}

static int definition_cmp(const void *a, const void *b)
{
	const struct gvtg_definition *x = a, *y = b;
	int c = strcmp(x->uuid, y->uuid);
	return c ? c : strcmp(x->parent, y->parent);
}

int gvtg_definitions_list(struct gvtg_ctx *ctx, struct gvtg_definition **ret_defs,
			  size_t *ret_n)
{
	char **parents;
	size_t n_parents;
	int r = list_parents(ctx, &parents, &n_parents);
	if (r < 0)
		return r;
	struct gvtg_definition *v = NULL;
	size_t n = 0;
	for (size_t i = 0; i < n_parents && r >= 0; i++) {
		_cleanup_free_ char *dir = gvtg_path_join(GVTG_DEFINITIONS_DIR, parents[i], NULL);
		_cleanup_closedir_ DIR *d = NULL;
		if (!dir) {
			r = -ENOMEM;
			break;
		}
		if (gvtg_io_opendir(ctx, dir, &d) < 0)
			continue; /* went away, or unreadable: like mdevctl, skip it */
		struct dirent *de;
		while ((de = readdir(d))) {
			char u[GVTG_UUID_STRLEN + 1];
			if (gvtg_uuid_normalize(de->d_name, u) < 0 || strcmp(u, de->d_name) != 0)
				continue;
			struct gvtg_definition *nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			int k = load_one(ctx, parents[i], u, &v[n]);
			if (k == -ENOENT)
				continue;
			if (k == -ENOMEM) {
				r = k;
				break;
			}
			if (k < 0 && k != -EBADMSG) {
				snprintf(v[n].error, sizeof(v[n].error), "cannot be read (errno %d)",
					 -k);
				k = -EBADMSG;
			}
			if (k == -EBADMSG) {
				free(v[n].type);
				v[n].type = NULL;
			}
			n++;
		}
	}
	gvtg_strv_free(parents, n_parents);
	if (r < 0) {
		gvtg_definitions_free(v, n);
		return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), definition_cmp);
	*ret_defs = v;
	*ret_n = n;
	return 0;
}

int gvtg_definition_check(const struct gvtg_definition *def, const struct gvtg_domain *dom,
			  const struct gvtg_config *cfg, struct gvtg_definition_conflict *ret_conflict)
{
	const char *mp = NULL, *mt = NULL, *cp = NULL, *ct = NULL;
	for (size_t i = 0; dom && i < dom->n_meta; i++)
		if (!strcmp(dom->meta[i].uuid, def->uuid)) {
			mp = dom->meta[i].parent;
			mt = dom->meta[i].type;
			break;
		}
	const struct gvtg_config_device *cd = cfg ? gvtg_config_find(cfg, def->uuid) : NULL;
	if (cd) {
		cp = cd->parent;
		ct = cd->type;
	}
	const struct {
		enum gvtg_source source;
		const char *what, *theirs, *ours;
	} rows[] = {
		{ GVTG_SOURCE_METADATA, "parent", mp, def->parent },
		{ GVTG_SOURCE_METADATA, "type", mt, def->type },
		{ GVTG_SOURCE_CONFIG_DEVICE, "parent", cp, def->parent },
		{ GVTG_SOURCE_CONFIG_DEVICE, "type", ct, def->type },
	};
	for (size_t i = 0; i < ELEMENTSOF(rows); i++)
		if (rows[i].theirs && rows[i].ours && strcmp(rows[i].theirs, rows[i].ours) != 0) {
			*ret_conflict = (struct gvtg_definition_conflict){
				.source = rows[i].source,
				.what = rows[i].what,
				.theirs = rows[i].theirs,
				.ours = rows[i].ours,
			};
			return -EEXIST;
		}
	return 0;
}
