/* SPDX-License-Identifier: MIT */
/*
 * The configuration file (INI, parsed by libinih):
 *
 *   [defaults]   parent = ..., type = ...
 *   [hook]       release = remove|keep, remove_timeout = SECONDS, lock_timeout = SECONDS
 *   [sleep]      remove_idle = yes|no
 *   [<uuid>]     parent = ..., type = ..., boot = yes|no
 *
 * Unknown sections and keys are errors: a typo must not silently change behaviour.
 */
#include <ini.h>
#include <string.h>

#include "gvtg-private.h"

#ifndef GVTG_CONFIG_FILE
#define GVTG_CONFIG_FILE "/etc/gvtg-hook.conf"
#endif

#define CONFIG_MAX (1024 * 1024)

const char *gvtg_config_default_path(void)
{
	return GVTG_CONFIG_FILE;
}

struct gvtg_config *gvtg_config_free(struct gvtg_config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->parent);
	free(c->type);
	for (size_t i = 0; i < c->n_devices; i++) {
		free(c->devices[i].parent);
		free(c->devices[i].type);
	}
	free(c->devices);
	free(c);
	return NULL;
}

static struct gvtg_config *config_new(void)
{
	struct gvtg_config *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->release = GVTG_RELEASE_REMOVE;
	c->remove_timeout_ms = GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	c->lock_timeout_ms = GVTG_LOCK_TIMEOUT_MS_DEFAULT;
	return c;
}

const struct gvtg_config_device *gvtg_config_find(const struct gvtg_config *c, const char *uuid)
{
	if (!c || !uuid)
		return NULL;
	for (size_t i = 0; i < c->n_devices; i++)
		if (!strcmp(c->devices[i].uuid, uuid))
			return &c->devices[i];
	return NULL;
}

struct parse_state {
	struct gvtg_config *c;
	int lineno; /* not tracked by inih's handler: counted from errors */
};

static int fail(struct gvtg_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct gvtg_config *c, const char *fmt, ...)
{
	if (!c->error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	return 0; /* inih: error on this line */
}

static int parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*ret = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* Seconds, with up to three decimals ("10", "0.5"), 0 to 3600. */
static int parse_seconds_ms(const char *v, int *ret_ms)
{
	char *end;
	errno = 0;
	double s = strtod(v, &end);
	if (errno || end == v || *end || !(s >= 0 && s <= 3600))
		return -EINVAL;
	*ret_ms = (int)(s * 1000 + 0.5);
	return 0;
}

static int set_name(struct gvtg_config *c, char **field, const char *key, const char *v)
{
	if (!gvtg_name_is_valid(v))
		return fail(c, "'%.40s' is not a valid %s name", v, key);
	free(*field);
	*field = strdup(v);
	return *field ? 1 : fail(c, "out of memory");
}

static struct gvtg_config_device *device_section(struct gvtg_config *c, const char *uuid)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (!strcmp(c->devices[i].uuid, uuid))
			return &c->devices[i];
	struct gvtg_config_device *nd =
		realloc(c->devices, (c->n_devices + 1) * sizeof(*c->devices));
	if (!nd)
		return NULL;
	c->devices = nd;
	struct gvtg_config_device *d = &c->devices[c->n_devices++];
	memset(d, 0, sizeof(*d));
	memcpy(d->uuid, uuid, sizeof(d->uuid));
	return d;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct gvtg_config *c = user;
	char u[GVTG_UUID_STRLEN + 1];

	if (!key) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!strcmp(section, "defaults")) {
		if (!strcmp(key, "parent"))
			return set_name(c, &c->parent, "parent", value);
		if (!strcmp(key, "type"))
			return set_name(c, &c->type, "type", value);
	} else if (!strcmp(section, "hook")) {
		if (!strcmp(key, "release")) {
			if (!strcmp(value, "remove"))
				c->release = GVTG_RELEASE_REMOVE;
			else if (!strcmp(value, "keep"))
				c->release = GVTG_RELEASE_KEEP;
			else
				return fail(c, "release must be 'remove' or 'keep', not '%.40s'",
					    value);
			return 1;
		}
		if (!strcmp(key, "remove_timeout") || !strcmp(key, "lock_timeout")) {
			int *f = key[0] == 'r' ? &c->remove_timeout_ms : &c->lock_timeout_ms;
			if (parse_seconds_ms(value, f) < 0)
				return fail(c, "%s must be a number of seconds (0-3600), not '%.40s'",
					    key, value);
			return 1;
		}
	} else if (!strcmp(section, "sleep")) {
		if (!strcmp(key, "remove_idle")) {
			if (parse_bool(value, &c->sleep_remove) < 0)
				return fail(c, "remove_idle must be yes or no, not '%.40s'", value);
			return 1;
		}
	} else if (gvtg_uuid_normalize(section, u) == 0) {
		struct gvtg_config_device *d = device_section(c, u);
		if (!d)
			return fail(c, "out of memory");
		if (!strcmp(key, "parent"))
			return set_name(c, &d->parent, "parent", value);
		if (!strcmp(key, "type"))
			return set_name(c, &d->type, "type", value);
		if (!strcmp(key, "boot")) {
			if (parse_bool(value, &d->boot) < 0)
				return fail(c, "boot must be yes or no, not '%.40s'", value);
			return 1;
		}
	} else {
		return fail(c, "unknown section [%.40s]: expected [defaults], [hook], [sleep] or "
			       "[<vGPU UUID>]",
			    section);
	}
	return fail(c, "unknown key '%.40s' in [%.40s]", key, section);
}

int gvtg_config_parse_string(const char *text, struct gvtg_config **ret_config)
{
	struct gvtg_config *c = config_new();
	if (!c)
		return -ENOMEM;
	int line = ini_parse_string(text, handler, c);
	if (line != 0) {
		c->error_line = line;
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "syntax error");
		*ret_config = c;
		return -EBADMSG;
	}
	*ret_config = c;
	return 0;
}

int gvtg_config_load(struct gvtg_ctx *ctx, const char *path, struct gvtg_config **ret_config)
{
	if (!path)
		path = GVTG_CONFIG_FILE;
	while (*path == '/')
		path++;
	_cleanup_free_ char *text = NULL;
	int r = gvtg_io_read_text(ctx, path, CONFIG_MAX, &text);
	struct gvtg_config *c = NULL;
	if (r == -ENOENT) {
		c = config_new();
		if (!c)
			return -ENOMEM;
		r = 0;
	} else if (r < 0) {
		return r;
	} else {
		r = gvtg_config_parse_string(text, &c);
		if (!c)
			return r;
	}
	c->path = malloc(strlen(path) + 2);
	if (c->path)
		sprintf(c->path, "/%s", path);
	*ret_config = c;
	return r < 0 ? r : 0;
}
