/* SPDX-License-Identifier: MIT */
/*
 * The configuration's files: the drop-in directory <main file>.d read after the main
 * file (the systemd and sshd convention), the list of files read, and where each
 * effective setting came from.  config.c reads and parses one file; this file decides
 * which files, in which order, and says what the result is (gvtgctl config).
 */
#include <dirent.h>
#include <string.h>

#include "gvtg-private.h"

#define DROPIN_SUFFIX ".conf"

const char *gvtg_config_add_file(struct gvtg_config *c, const char *path)
{
	char **nf = realloc(c->files, (c->n_files + 1) * sizeof(*c->files));
	if (!nf)
		return NULL;
	c->files = nf;
	nf[c->n_files] = strdup(path);
	return nf[c->n_files] ? nf[c->n_files++] : NULL;
}

void gvtg_config_free_files(struct gvtg_config *c)
{
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	free(c->origins);
	c->files = NULL;
	c->origins = NULL;
	c->n_files = c->n_origins = 0;
}

const struct gvtg_config_origin *gvtg_config_origin(const struct gvtg_config *c,
						    const char *section, const char *key)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_origins; i++)
		if (!strcmp(c->origins[i].section, section) && !strcmp(c->origins[i].key, key))
			return &c->origins[i];
	return NULL;
}

int gvtg_config_set_origin(struct gvtg_config *c, const char *section, const char *key,
			   const char *file, int line)
{
	struct gvtg_config_origin *o = (struct gvtg_config_origin *)gvtg_config_origin(c, section,
										     key);
	if (!o) {
		struct gvtg_config_origin *no =
			realloc(c->origins, (c->n_origins + 1) * sizeof(*c->origins));
		if (!no)
			return -ENOMEM;
		c->origins = no;
		o = &no[c->n_origins++];
		memset(o, 0, sizeof(*o));
		/* the parser hands over only known sections and keys: both fit */
		snprintf(o->section, sizeof(o->section), "%s", section);
		snprintf(o->key, sizeof(o->key), "%s", key);
	}
	o->file = file;
	o->line = line;
	return 0;
}

static bool is_dropin_name(const char *name)
{
	size_t n = strlen(name), s = strlen(DROPIN_SUFFIX);
	return name[0] != '.' && n > s && !strcmp(name + n - s, DROPIN_SUFFIX);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int gvtg_config_dropins(struct gvtg_ctx *ctx, const char *path, char ***ret_files,
			size_t *ret_n)
{
	while (*path == '/')
		path++;
	_cleanup_free_ char *dir = malloc(strlen(path) + 3);
	if (!dir)
		return -ENOMEM;
	sprintf(dir, "%s.d", path);
	*ret_files = NULL;
	*ret_n = 0;
	_cleanup_closedir_ DIR *d = NULL;
	int r = gvtg_io_opendir(ctx, dir, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;

	char **list = NULL;
	size_t n = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!is_dropin_name(de->d_name))
			continue;
		if (n == GVTG_CONFIG_DROPINS_MAX) {
			r = -E2BIG;
			goto fail;
		}
		char **nl = realloc(list, (n + 1) * sizeof(*list));
		if (!nl)
			goto fail_nomem;
		list = nl;
		list[n] = malloc(strlen(dir) + strlen(de->d_name) + 3);
		if (!list[n])
			goto fail_nomem;
		sprintf(list[n++], "/%s/%s", dir, de->d_name);
		errno = 0;
	}
	if (errno) {
		r = negative_errno();
		goto fail;
	}
	if (n > 0)
		qsort(list, n, sizeof(*list), cmp_names);
	*ret_files = list;
	*ret_n = n;
	return 0;
fail_nomem:
	r = -ENOMEM;
fail:
	free_list(list, n);
	return r;
}

int gvtg_config_load_dropins(struct gvtg_ctx *ctx, struct gvtg_config *c, const char *path)
{
	char **files;
	size_t n;
	int r = gvtg_config_dropins(ctx, path, &files, &n);
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		while (*path == '/')
			path++;
		char *dir = malloc(strlen(path) + 4);
		if (!dir)
			return -ENOMEM;
		sprintf(dir, "/%s.d", path);
		free(c->path);
		c->path = dir;
		c->error_line = 0;
		if (r == -ENOTDIR)
			snprintf(c->error, sizeof(c->error), "not a directory: remove it, or make it "
				 "a directory of *.conf files");
		else if (r == -E2BIG)
			snprintf(c->error, sizeof(c->error), "more than %d drop-in files: merge "
				 "them", GVTG_CONFIG_DROPINS_MAX);
		else
			snprintf(c->error, sizeof(c->error), "cannot read the drop-in directory: %s",
				 strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = gvtg_config_load_one(ctx, c, files[i]);
	free_list(files, n);
	return r;
}

/* ---- the effective settings ----------------------------------------------------- */

struct each {
	const struct gvtg_config *c;
	gvtg_config_setting_fn fn;
	void *userdata;
	int r;
};

static void setting(struct each *e, const char *section, const char *key, const char *value)
{
	if (e->r == 0)
		e->r = e->fn(e->userdata, section, key, value,
			     gvtg_config_origin(e->c, section, key));
}

static const char *seconds(char buf[16], int ms)
{
	if (ms % 1000 == 0) {
		snprintf(buf, 16, "%d", ms / 1000);
	} else {
		snprintf(buf, 16, "%d.%03d", ms / 1000, ms % 1000);
		for (size_t n = strlen(buf); buf[n - 1] == '0'; n--)
			buf[n - 1] = '\0';
	}
	return buf;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

int gvtg_config_foreach(const struct gvtg_config *c, gvtg_config_setting_fn fn,
			void *userdata)
{
	struct each e = { .c = c, .fn = fn, .userdata = userdata };
	char t[16];
	setting(&e, "defaults", "parent", c->parent);
	setting(&e, "defaults", "type", c->type);
	setting(&e, "hook", "release", c->release == GVTG_RELEASE_KEEP ? "keep" : "remove");
	setting(&e, "hook", "remove_timeout", seconds(t, c->remove_timeout_ms));
	setting(&e, "hook", "mdevctl_timeout", seconds(t, c->mdevctl_timeout_ms));
	setting(&e, "hook", "lock_timeout", seconds(t, c->lock_timeout_ms));
	setting(&e, "sleep", "remove_idle", yes_no(c->sleep_remove));
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct gvtg_config_device *d = &c->devices[i];
		setting(&e, d->uuid, "parent", d->parent);
		setting(&e, d->uuid, "type", d->type);
		setting(&e, d->uuid, "boot", yes_no(d->boot));
	}
	return e.r;
}
