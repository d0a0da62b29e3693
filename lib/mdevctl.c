/* SPDX-License-Identifier: MIT */
/*
 * Definitions: the persistent vGPUs that mdevctl keeps in etc/mdevctl.d/<parent>/<uuid>
 * (written by `mdevctl define`, `virsh nodedev-define`, virt-manager).  Finding and
 * listing them, a strict parser for their JSON, and starting and stopping one, through
 * mdevctl when it is installed (so that its callouts and notifiers run) or by writing
 * sysfs like mdevctl does when it is not.  mdevctl knows no root directory: under a
 * test root only an mdevctl named by GVTG_MDEVCTL is ever run.
 *
 * The parser is our own, some 250 lines: the format is three keys and a list of
 * one-key objects, and a JSON library in the hook's core module would be loaded and
 * relocated on every start of every VM.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "gvtg-private.h"

#define MDEV_DEVICES "sys/bus/mdev/devices"
#define JSON_DEPTH_MAX 8
#define OUTPUT_MAX 4096

/* ---- a strict JSON reader, just enough for a definition ------------------------- */

struct jp {
	const char *start, *p, *end;
	int depth;
	char *err;
	size_t err_size;
};

static int jp_fail(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jp_fail(struct jp *j, const char *fmt, ...)
{
	if (j->err[0])
		return -EBADMSG; /* keep the first, innermost error */
	unsigned line = 1;
	for (const char *s = j->start; s < j->p && s < j->end; s++)
		if (*s == '\n')
			line++;
	int k = snprintf(j->err, j->err_size, "line %u: ", line);
	if (k < 0 || (size_t)k >= j->err_size)
		return -EBADMSG;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->err + k, j->err_size - (size_t)k, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jp_eat(struct jp *j, char c)
{
	jp_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

static size_t utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of one well-formed UTF-8 sequence at s (RFC 3629), 0 when there is none. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A string; ret may be NULL to skip it.  No NUL inside: it becomes a C string. */
static int jp_string(struct jp *j, char **ret)
{
	jp_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jp_fail(j, "a string was expected");
	j->p++;
	/* Decoded text is never longer than its source. */
	const char *q = j->p;
	while (q < j->end && *q != '"')
		q += *q == '\\' && q + 1 < j->end ? 2 : 1;
	if (q >= j->end)
		return jp_fail(j, "unterminated string");
	_cleanup_free_ char *out = malloc((size_t)(q - j->p) + 1);
	if (!out)
		return -ENOMEM;
	size_t n = 0;
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return jp_fail(j, "control character in a string");
		if (c != '\\') {
			size_t k = utf8_len((const unsigned char *)j->p, (const unsigned char *)j->end);
			if (k == 0)
				return jp_fail(j, "invalid UTF-8 in a string");
			memcpy(out + n, j->p, k);
			n += k;
			j->p += k;
			continue;
		}
		j->p++;
		char e = *j->p++;
		unsigned cp, lo;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			out[n++] = e;
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u':
			if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
				return jp_fail(j, "bad \\u escape");
			j->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
				    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return jp_fail(j, "unpaired surrogate in a \\u escape");
				j->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return jp_fail(j, "unpaired surrogate in a \\u escape");
			}
			if (cp == 0)
				return jp_fail(j, "\\u0000 in a string");
			n += utf8_put(out + n, cp);
			break;
		default:
			return jp_fail(j, "bad escape '\\%c'", e);
		}
	}
	j->p++;
	out[n] = '\0';
	if (ret)
		*ret = TAKE_PTR(out);
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number, returned as its source text (ret may be NULL). */
static int jp_number(struct jp *j, char **ret)
{
	jp_ws(j);
	const char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || !is_digit(*j->p))
		return jp_fail(j, "a number was expected");
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && is_digit(*j->p))
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || !is_digit(*j->p))
			return jp_fail(j, "a digit must follow '.'");
		while (j->p < j->end && is_digit(*j->p))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || !is_digit(*j->p))
			return jp_fail(j, "a digit must follow the exponent");
		while (j->p < j->end && is_digit(*j->p))
			j->p++;
	}
	if (ret && !(*ret = strndup(s, (size_t)(j->p - s))))
		return -ENOMEM;
	return 0;
}

static int jp_literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jp_fail(j, "unexpected character '%c'", *j->p);
	j->p += n;
	return 0;
}

static int jp_skip(struct jp *j);

/* The members of an object or the elements of an array whose opening was eaten. */
static int jp_skip_container(struct jp *j, char close)
{
	if (++j->depth > JSON_DEPTH_MAX)
		return jp_fail(j, "nested more than %d deep", JSON_DEPTH_MAX);
	if (!jp_eat(j, close)) {
		do {
			int r;
			if (close == '}') {
				if ((r = jp_string(j, NULL)) < 0)
					return r;
				if (!jp_eat(j, ':'))
					return jp_fail(j, "':' was expected");
			}
			if ((r = jp_skip(j)) < 0)
				return r;
		} while (jp_eat(j, ','));
		if (!jp_eat(j, close))
			return jp_fail(j, "'%c' or ',' was expected", close);
	}
	j->depth--;
	return 0;
}

static int jp_skip(struct jp *j)
{
	jp_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "unexpected end");
	switch (*j->p) {
	case '"':
		return jp_string(j, NULL);
	case '{':
		j->p++;
		return jp_skip_container(j, '}');
	case '[':
		j->p++;
		return jp_skip_container(j, ']');
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	default:
		return jp_number(j, NULL);
	}
}

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

/* One element of "attrs": {"name": "value"} or {"name": 123}. */
static int parse_attr(struct jp *j, struct gvtg_definition_attr *ret_attr)
{
	struct gvtg_definition_attr a = { 0 };
	int r;
	if (!jp_eat(j, '{'))
		return jp_fail(j, "each attribute must be an object {\"name\": \"value\"}");
	if ((r = jp_string(j, &a.name)) < 0)
		goto fail;
	if (!a.name || !gvtg_name_is_valid(a.name) || !strcmp(a.name, "remove")) {
		r = jp_fail(j, "attribute name '%.40s' is not an attribute of the device", a.name);
		goto fail;
	}
	if (!jp_eat(j, ':')) {
		r = jp_fail(j, "':' was expected");
		goto fail;
	}
	jp_ws(j);
	if (j->p < j->end && *j->p == '"')
		r = jp_string(j, &a.value);
	else if (j->p < j->end && (*j->p == '-' || is_digit(*j->p)))
		r = jp_number(j, &a.value);
	else
		r = jp_fail(j, "the value of attribute '%.40s' must be a string or a number",
			    a.name);
	if (r < 0)
		goto fail;
	if (!jp_eat(j, '}')) {
		r = jp_fail(j, "an attribute object must have exactly one member");
		goto fail;
	}
	*ret_attr = a;
	return 0;
fail:
	free(a.name);
	free(a.value);
	return r;
}

static int parse_attrs(struct jp *j, struct gvtg_definition *d)
{
	jp_ws(j);
	if (j->p < j->end && *j->p == 'n')
		return jp_literal(j, "null");
	if (!jp_eat(j, '['))
		return jp_fail(j, "\"attrs\" must be a list");
	if (jp_eat(j, ']'))
		return 0;
	do {
		if (d->n_attrs == GVTG_DEFINITION_ATTRS_MAX)
			return jp_fail(j, "more than %d attributes", GVTG_DEFINITION_ATTRS_MAX);
		if (!d->attrs) {
			d->attrs = calloc(GVTG_DEFINITION_ATTRS_MAX, sizeof(*d->attrs));
			if (!d->attrs)
				return -ENOMEM;
		}
		int r = parse_attr(j, &d->attrs[d->n_attrs]);
		if (r < 0)
			return r;
		d->n_attrs++;
	} while (jp_eat(j, ','));
	if (!jp_eat(j, ']'))
		return jp_fail(j, "']' or ',' was expected");
	return 0;
}

int gvtg_definition_parse(const char *json, size_t len, struct gvtg_definition *ret_def)
{
	struct gvtg_definition d = { 0 };
	struct jp j = { .start = json, .p = json, .end = json + len, .err = d.error,
			.err_size = sizeof(d.error) };
	bool seen_start = false, seen_attrs = false;
	_cleanup_free_ char *start = NULL;
	int r;

	if (!jp_eat(&j, '{')) {
		r = jp_fail(&j, "a definition is a JSON object");
		goto fail;
	}
	j.depth = 1;
	if (!jp_eat(&j, '}')) {
		do {
			_cleanup_free_ char *key = NULL;
			if ((r = jp_string(&j, &key)) < 0)
				goto fail;
			if (!jp_eat(&j, ':')) {
				r = jp_fail(&j, "':' was expected");
				goto fail;
			}
			bool dup = false;
			if (!strcmp(key, "mdev_type")) {
				dup = d.type != NULL;
				if (!dup)
					r = jp_string(&j, &d.type);
			} else if (!strcmp(key, "start")) {
				dup = seen_start;
				seen_start = true;
				if (!dup)
					r = jp_string(&j, &start);
			} else if (!strcmp(key, "attrs")) {
				dup = seen_attrs;
				seen_attrs = true;
				if (!dup)
					r = parse_attrs(&j, &d);
			} else {
				r = jp_skip(&j); /* what mdevctl itself ignores, so do we */
			}
			if (dup)
				r = jp_fail(&j, "\"%s\" appears twice", key);
			if (r < 0)
				goto fail;
		} while (jp_eat(&j, ','));
		if (!jp_eat(&j, '}')) {
			r = jp_fail(&j, "'}' or ',' was expected");
			goto fail;
		}
	}
	jp_ws(&j);
	if (j.p != j.end) {
		r = jp_fail(&j, "text after the object");
		goto fail;
	}
	if (!d.type || !start) {
		r = jp_fail(&j, "\"%s\" is missing", d.type ? "start" : "mdev_type");
		goto fail;
	}
	if (!gvtg_name_is_valid(d.type)) {
		r = jp_fail(&j, "mdev_type '%.60s' is not a valid type name", d.type);
		goto fail;
	}
	if (strcmp(start, "auto") != 0 && strcmp(start, "manual") != 0) {
		r = jp_fail(&j, "\"start\" must be \"auto\" or \"manual\", not \"%.20s\"", start);
		goto fail;
	}
	d.autostart = !strcmp(start, "auto");
	free(ret_def->type);
	for (size_t i = 0; i < ret_def->n_attrs; i++) {
		free(ret_def->attrs[i].name);
		free(ret_def->attrs[i].value);
	}
	free(ret_def->attrs);
	ret_def->type = d.type;
	ret_def->attrs = d.attrs;
	ret_def->n_attrs = d.n_attrs;
	ret_def->autostart = d.autostart;
	ret_def->error[0] = '\0';
	return 0;
fail:
	snprintf(ret_def->error, sizeof(ret_def->error), "%s", d.error[0] ? d.error : "invalid");
	gvtg_definition_clear(&d);
	return r == -ENOMEM ? r : -EBADMSG;
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

/* ---- running mdevctl ------------------------------------------------------------ */

int gvtg_mdevctl_find(struct gvtg_ctx *ctx, char **ret_path)
{
	const char *env = secure_getenv("GVTG_MDEVCTL");
	const char *found = NULL;
	if (env) {
		if (!*env)
			return 0;
		if (env[0] != '/')
			return -EINVAL;
		found = env;
	} else if (!strcmp(ctx->root, "/")) {
		static const char *const dirs[] = { "/usr/sbin/mdevctl", "/usr/bin/mdevctl",
						    "/sbin/mdevctl", "/bin/mdevctl" };
		for (size_t i = 0; i < ELEMENTSOF(dirs) && !found; i++)
			if (access(dirs[i], X_OK) == 0)
				found = dirs[i];
	}
	if (!found)
		return 0;
	char *p = strdup(found);
	if (!p)
		return -ENOMEM;
	*ret_path = p;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: only stdin (/dev/null), stdout and stderr (the pipe) stay open, so
 * that neither the lock nor libvirt's pipes reach mdevctl or its callouts. */
static void close_other_fds(void)
{
	if (close_range(3, ~0u, 0) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
		return;
	}
	int keep = dirfd(d);
	struct dirent *de;
	int fds[1024];
	size_t n = 0;
	while ((de = readdir(d)) && n < ELEMENTSOF(fds)) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != keep)
			fds[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void set_detail(char *detail, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_detail(char *detail, size_t size, const char *fmt, ...)
{
	if (!detail || !size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, size, fmt, ap);
	va_end(ap);
}

/* Keep the last line of the output that says something, for messages. */
static void last_line(const char *out, size_t len, char *detail, size_t size)
{
	if (!detail || !size)
		return;
	const char *end = out + len;
	while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *s = end;
	while (s > out && s[-1] != '\n')
		s--;
	size_t n = (size_t)(end - s);
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		detail[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	detail[n] = '\0';
}

/*
 * Run argv[0] with stdin /dev/null and its output in a pipe, in its own process group,
 * for at most timeout_ms; then the group is killed.  0 on exit status 0; -EPROTO on
 * another status (detail: its last line); -ETIMEDOUT.
 */
static int run_bounded(struct gvtg_ctx *ctx, char *const argv[], int timeout_ms, char *detail,
		       size_t detail_size)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return negative_errno();
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	pid_t pid = fork();
	if (pid < 0) {
		int r = negative_errno();
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0 ||
		    dup2(pfd[1], STDERR_FILENO) < 0)
			_exit(127);
		close_other_fds();
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* libvirt runs hooks with a bare environment; callouts are shell scripts. */
		if (!getenv("PATH"))
			setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       1);
		execv(argv[0], argv);
		/* The shell's convention: 127 not found, 126 found but not runnable. */
		_exit(errno == ENOENT || errno == ENOTDIR ? 127 : 126);
	}
	close(pfd[1]);
	(void)setpgid(pid, pid); /* both sides, so that the kill below always finds the group */

	char out[OUTPUT_MAX];
	size_t len = 0;
	bool eof = false;
	int status = 0, r = -ETIMEDOUT;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			r = 0;
			break;
		}
		if (w < 0 && errno != EINTR) {
			r = negative_errno();
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int k = poll(&p, eof ? 0 : 1, (int)(left < 20 ? left : 20));
		if (k > 0) {
			if (len == sizeof(out)) {
				/* keep the end: the error is the last thing said */
				memmove(out, out + sizeof(out) / 2, sizeof(out) / 2);
				len = sizeof(out) / 2;
			}
			ssize_t n = read(pfd[0], out + len, sizeof(out) - len);
			if (n == 0)
				eof = true;
			else if (n > 0)
				len += (size_t)n;
		}
	}
	if (r == 0 && !eof) {
		/* What it wrote just before exiting; a callout it left behind holding the
		 * pipe must not keep us waiting. */
		(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		ssize_t n;
		while (len < sizeof(out) && (n = read(pfd[0], out + len, sizeof(out) - len)) > 0)
			len += (size_t)n;
	}
	close(pfd[0]);
	if (r == -ETIMEDOUT) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		/* Reap it when it dies at once; a process blocked in the kernel is left. */
		for (int i = 0; i < 10 && waitpid(pid, &status, WNOHANG) == 0; i++)
			(void)poll(NULL, 0, 10);
		log_warning(ctx, "%s %s %s did not finish within %d ms; killed", argv[0], argv[1],
			    argv[3] ? argv[3] : "", timeout_ms);
		last_line(out, len, detail, detail_size);
		return -ETIMEDOUT;
	}
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (detail && detail_size)
			detail[0] = '\0';
		return 0;
	}
	last_line(out, len, detail, detail_size);
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126) &&
	    len == 0) {
		set_detail(detail, detail_size, "cannot run %s", argv[0]);
		return WEXITSTATUS(status) == 127 ? -ENOENT : -EACCES;
	}
	if (detail && detail_size && !detail[0])
		snprintf(detail, detail_size, "%s %d", WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	log_debug(ctx, "%s %s: failed: %s", argv[0], argv[1], detail ? detail : "");
	return -EPROTO;
}

static bool device_active(struct gvtg_ctx *ctx, const char *uuid)
{
	_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, uuid, NULL);
	return p && gvtg_io_access(ctx, p) == 0;
}


int gvtg_definition_apply_attrs(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
				int timeout_ms, char *detail, size_t detail_size)
{
	for (size_t i = 0; i < def->n_attrs; i++) {
		const struct gvtg_definition_attr *a = &def->attrs[i];
		_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, def->uuid, a->name, NULL);
		int r = p ? gvtg_io_write_attr(ctx, p, a->value, strlen(a->value)) : -ENOMEM;
		if (r < 0) {
			set_detail(detail, detail_size, "writing '%s' to its attribute %s",
				   a->value, a->name);
			log_debug(ctx, "start %s: attribute %s: errno %d", def->uuid, a->name, -r);
			int k = gvtg_mdev_remove_bounded(ctx, def->uuid, timeout_ms);
			if (k < 0 && k != -ENOENT)
				log_warning(ctx, "start %s: removing it again: errno %d", def->uuid,
					    -k);
			return r;
		}
	}
	return 0;
}

static int start_sysfs(struct gvtg_ctx *ctx, const struct gvtg_definition *def, int timeout_ms,
		       char *detail, size_t detail_size)
{
	int r = gvtg_mdev_create(ctx, def->parent, def->type, def->uuid);
	if (r < 0) {
		set_detail(detail, detail_size, "creating it on %s type %s", def->parent,
			   def->type);
		return r;
	}
	return gvtg_definition_apply_attrs(ctx, def, timeout_ms, detail, detail_size);
}

int gvtg_definition_start(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			  int timeout_ms, char *detail, size_t detail_size)
{
	if (!def->type || !gvtg_name_is_valid(def->parent) || !gvtg_name_is_valid(def->type))
		return -EINVAL;
	set_detail(detail, detail_size, "%s", "");
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		set_detail(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r == 0)
		return start_sysfs(ctx, def, timeout_ms, detail, detail_size);

	char *const argv[] = { mdevctl, "start", "--uuid", (char *)def->uuid, "--parent",
			       def->parent, NULL };
	int64_t t0 = now_ms();
	r = run_bounded(ctx, argv, timeout_ms, detail, detail_size);
	if (r >= 0 && !device_active(ctx, def->uuid)) {
		set_detail(detail, detail_size, "%s start reported success, but /%s/%s does not "
			   "exist", mdevctl, MDEV_DEVICES, def->uuid);
		return -ENODEV;
	}
	if (r < 0 && device_active(ctx, def->uuid)) {
		/* mdevctl undoes a refused attr itself; a timeout or a failed callout can
		 * leave the device: nothing may stay active after a failed start. */
		int64_t left = timeout_ms - (now_ms() - t0);
		int k = gvtg_mdev_remove_bounded(ctx, def->uuid, left > 1000 ? (int)left : 1000);
		if (k < 0 && k != -ENOENT)
			log_warning(ctx, "start %s: removing it again: errno %d", def->uuid,
				    -k);
	}
	return r;
}

int gvtg_definition_stop(struct gvtg_ctx *ctx, const char *uuid, int timeout_ms, char *detail,
			 size_t detail_size)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	set_detail(detail, detail_size, "%s", "");
	if (!device_active(ctx, u))
		return -ENOENT;
	_cleanup_free_ char *mdevctl = NULL;
	r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		set_detail(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r == 0)
		return gvtg_mdev_remove_bounded(ctx, u, timeout_ms);
	char *const argv[] = { mdevctl, "stop", "--uuid", u, NULL };
	r = run_bounded(ctx, argv, timeout_ms, detail, detail_size);
	if (r >= 0 && device_active(ctx, u)) {
		set_detail(detail, detail_size, "%s stop reported success, but /%s/%s still "
			   "exists", mdevctl, MDEV_DEVICES, u);
		return -EBUSY;
	}
	return r;
}

/* For the definition writer (define.c): the same bounded run. */
int gvtg_mdevctl_run(struct gvtg_ctx *ctx, char *const argv[], int timeout_ms, char *detail,
		     size_t detail_size)
{
	return run_bounded(ctx, argv, timeout_ms, detail, detail_size);
}
