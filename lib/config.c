/* SPDX-License-Identifier: MIT */
/*
 * The configuration file:
 *
 *   [defaults]   parent = ..., type = ...
 *   [hook]       release = remove|keep, remove_timeout = SECONDS, lock_timeout = SECONDS,
 *                mdevctl_timeout = SECONDS
 *   [sleep]      remove_idle = yes|no
 *   [<uuid>]     parent = ..., type = ..., boot = yes|no
 *
 * Unknown sections and keys are errors: a typo must not silently change behaviour.
 *
 * Reading happens in two layers.  Our own line pass decides what each line of the file
 * is (blank, comment, [section] or key = value), strips comments ('#' or ';' at the start
 * of a line, or after a space inside one), and refuses what libinih would misread:
 * libinih's behaviour depends on how it was built (Debian 12: inline comments after ';'
 * only, lines cut at 200 bytes and the rest read as a new line, indented lines continuing
 * the previous value), so it only ever sees one short, clean, unindented line per line of
 * the file and reads it the same way whatever its build.  libinih keeps the section
 * bookkeeping and calls the handler; the first error of either layer ends the parse, so
 * the line an error names is always the line it quotes.
 */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <search.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "gvtg-private.h"

#ifndef GVTG_CONFIG_FILE
#define GVTG_CONFIG_FILE "/etc/gvtg-hook.conf"
#endif

#define CONFIG_MAX (1024 * 1024)
#define SECTION_MAX 64 /* longer section names are refused (a UUID has 36 characters) */
#define QUOTE_MAX 60   /* characters of a line quoted in an error */

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
	gvtg_config_free_files(c);
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
	c->mdevctl_timeout_ms = GVTG_MDEVCTL_TIMEOUT_MS_DEFAULT;
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

/* A section or key already seen, with the line that introduced it. */
struct seen {
	int line;
	char name[SECTION_MAX + 1];
};

struct parse {
	struct gvtg_config *c;
	const char *file;       /* the file's path, recorded as the origin of its settings */
	const char *text;
	size_t len, pos;
	int lineno;             /* the line being read: the reader is called once per line */
	const char *line;       /* its text and length, for quoting */
	size_t line_len;
	void *sections;         /* tsearch tree of struct seen, by normalised name */
	struct seen *keys;      /* keys of the current section */
	size_t n_keys;
	bool in_section;
};

static int seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->name, ((const struct seen *)b)->name);
}

static int fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse *p, const char *fmt, ...)
{
	if (!p->c->error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->c->error, sizeof(p->c->error), fmt, ap);
		va_end(ap);
		p->c->error_line = p->lineno;
	}
	return 0; /* inih: error on this line */
}

/* The first QUOTE_MAX bytes of s, cut on a character boundary, "..." when cut. */
static const char *quote(char buf[QUOTE_MAX + 4], const char *s, size_t n)
{
	bool cut = n > QUOTE_MAX;
	if (cut) {
		n = QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	strcpy(buf + n, cut ? "..." : "");
	return buf;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min, cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The line is text: UTF-8, no NUL, no control character but the tab. */
static int check_text(struct parse *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\0')
			return fail(p, "a NUL byte at column %zu: this is not a text file (UTF-16?); "
				       "save it as UTF-8 text", i + 1);
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return fail(p, "a control character (0x%02x) at column %zu: remove it", ch,
				    i + 1);
		size_t len = utf8_len((const unsigned char *)s + i, n - i);
		if (!len)
			return fail(p, "not UTF-8 text (byte 0x%02x at column %zu): save the file as "
				       "UTF-8", ch, i + 1);
		i += len;
	}
	return 1;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_word(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Copy "head" then "tail" (n bytes) into libinih's line buffer of size num. */
static int emit(struct parse *p, char *out, int num, const char *head, const char *tail,
		size_t n)
{
	size_t h = strlen(head);
	char q[QUOTE_MAX + 4];
	/* libinih wants room for "\r\n\0" after the longest line. */
	if (num < 3 || h + n + 3 > (size_t)num)
		return fail(p, "'%s' is too long (at most %d characters for a setting)",
			    quote(q, p->line, p->line_len), num > 3 ? num - 3 : 0);
	memcpy(out, head, h);
	memcpy(out + h, tail, n);
	out[h + n] = '\0';
	return 1;
}

static int section_line(struct parse *p, const char *s, size_t n, char *out, int num)
{
	char q[QUOTE_MAX + 4];
	if (s[n - 1] != ']')
		return fail(p, "'%s' is not a section header: it must end with ']'",
			    quote(q, p->line, p->line_len));
	const char *name = s + 1;
	size_t len = n - 2;
	while (len > 0 && is_blank(*name))
		name++, len--;
	while (len > 0 && is_blank(name[len - 1]))
		len--;

	struct seen *sec = calloc(1, sizeof(*sec));
	if (!sec)
		return fail(p, "out of memory");
	sec->line = p->lineno;
	if (len <= SECTION_MAX)
		memcpy(sec->name, name, len);
	char u[GVTG_UUID_STRLEN + 1];
	if (len > SECTION_MAX || !is_word(name, len) ||
	    (strcmp(sec->name, "defaults") != 0 && strcmp(sec->name, "hook") != 0 &&
	     strcmp(sec->name, "sleep") != 0 && gvtg_uuid_normalize(sec->name, u) < 0)) {
		free(sec);
		return fail(p, "unknown section '%s': expected [defaults], [hook], [sleep] or "
			       "[<vGPU UUID>]", quote(q, p->line, p->line_len));
	}
	if (gvtg_uuid_normalize(sec->name, u) == 0)
		strcpy(sec->name, u); /* [UUID] and [uuid] are the same section */

	struct seen **found = tsearch(sec, &p->sections, seen_cmp);
	if (!found) {
		free(sec);
		return fail(p, "out of memory");
	}
	if (*found != sec) {
		int first = (*found)->line;
		free(sec);
		return fail(p, "'%s' appears a second time (first on line %d): merge the two",
			    quote(q, p->line, p->line_len), first);
	}
	p->in_section = true;
	p->n_keys = 0;
	char head[SECTION_MAX + 3];
	snprintf(head, sizeof(head), "[%s]", sec->name);
	return emit(p, out, num, head, "", 0);
}

static int setting_line(struct parse *p, const char *s, size_t n, char *out, int num)
{
	char q[QUOTE_MAX + 4];
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return fail(p, "'%s' is not a setting: expected 'key = value', a [section] or "
			       "a comment", quote(q, p->line, p->line_len));
	size_t klen = (size_t)(eq - s);
	while (klen > 0 && is_blank(s[klen - 1]))
		klen--;
	if (!is_word(s, klen) || klen > SECTION_MAX)
		return fail(p, "'%s' does not start with a key name: expected 'key = value'",
			    quote(q, p->line, p->line_len));
	if (!p->in_section)
		return fail(p, "'%s' comes before any section: put it under [defaults], [hook], "
			       "[sleep] or [<vGPU UUID>]", quote(q, p->line, p->line_len));
	const char *v = eq + 1;
	size_t vlen = n - (size_t)(v - s);
	while (vlen > 0 && is_blank(*v))
		v++, vlen--;

	for (size_t i = 0; i < p->n_keys; i++)
		if (strlen(p->keys[i].name) == klen && !memcmp(p->keys[i].name, s, klen))
			return fail(p, "'%s' sets '%s' a second time in this section (first on "
				       "line %d): keep one", quote(q, p->line, p->line_len),
				    p->keys[i].name, p->keys[i].line);
	struct seen *nk = realloc(p->keys, (p->n_keys + 1) * sizeof(*p->keys));
	if (!nk)
		return fail(p, "out of memory");
	p->keys = nk;
	memset(&nk[p->n_keys], 0, sizeof(*nk));
	memcpy(nk[p->n_keys].name, s, klen);
	nk[p->n_keys++].line = p->lineno;

	char head[SECTION_MAX + 2];
	memcpy(head, s, klen);
	strcpy(head + klen, "=");
	return emit(p, out, num, head, v, vlen);
}

/* Turn one line of the file into what libinih reads ("" for blanks and comments). */
static int line_pass(struct parse *p, const char *s, size_t n, char *out, int num)
{
	char q[QUOTE_MAX + 4];
	out[0] = '\0';
	if (n > 0 && s[n - 1] == '\r') /* CRLF line ends */
		n--;
	if (p->lineno == 1) {
		if (n >= 2 && ((s[0] == '\xff' && s[1] == '\xfe') ||
			       (s[0] == '\xfe' && s[1] == '\xff')))
			return fail(p, "the file is UTF-16 text (it starts with a UTF-16 "
				       "byte-order mark): save it as UTF-8");
		if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) /* a UTF-8 byte-order mark */
			s += 3, n -= 3;
	}
	p->line = s;
	p->line_len = n;
	if (!check_text(p, s, n))
		return 0;

	size_t indent = 0;
	while (indent < n && is_blank(s[indent]))
		indent++;
	if (indent == n || s[indent] == '#' || s[indent] == ';')
		return 1;
	if (indent > 0)
		return fail(p, "'%s' is indented: a line cannot continue the one before it; "
			       "start it at the beginning of the line",
			    quote(q, p->line, p->line_len));

	/* An inline comment starts at a '#' or ';' after a space or a tab. */
	for (size_t i = 1; i < n; i++)
		if ((s[i] == '#' || s[i] == ';') && is_blank(s[i - 1])) {
			n = i;
			break;
		}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	if (s[0] == '[')
		return section_line(p, s, n, out, num);
	return setting_line(p, s, n, out, num);
}

/* libinih's fgets-like reader: one line of the file per call, so that libinih's line
 * count and ours stay the same; the end of the text, or the first error, ends the
 * parse. */
static char *next_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	if (p->c->error[0] || p->pos >= p->len)
		return NULL;
	const char *s = p->text + p->pos;
	const char *nl = memchr(s, '\n', p->len - p->pos);
	size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl ? 1 : 0);
	p->lineno++;
	if (!line_pass(p, s, n, str, num))
		return NULL;
	return str;
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

static int set_name(struct parse *p, char **field, const char *key, const char *v)
{
	if (!gvtg_name_is_valid(v))
		return fail(p, "'%.40s' is not a valid %s name", v, key);
	free(*field);
	*field = strdup(v);
	return *field ? 1 : fail(p, "out of memory");
}

/* A device's section: a drop-in may add to the section of an earlier file. */
static struct gvtg_config_device *device_section(struct gvtg_config *c, const char *uuid)
{
	struct gvtg_config_device *found = (struct gvtg_config_device *)gvtg_config_find(c, uuid);
	if (found)
		return found;
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

static int set_key(struct parse *p, const char *section, const char *key, const char *value)
{
	struct gvtg_config *c = p->c;
	char u[GVTG_UUID_STRLEN + 1];

	if (!strcmp(section, "defaults")) {
		if (!strcmp(key, "parent"))
			return set_name(p, &c->parent, "parent", value);
		if (!strcmp(key, "type"))
			return set_name(p, &c->type, "type", value);
	} else if (!strcmp(section, "hook")) {
		if (!strcmp(key, "release")) {
			if (!strcmp(value, "remove"))
				c->release = GVTG_RELEASE_REMOVE;
			else if (!strcmp(value, "keep"))
				c->release = GVTG_RELEASE_KEEP;
			else
				return fail(p, "release must be 'remove' or 'keep', not '%.40s'",
					    value);
			return 1;
		}
		if (!strcmp(key, "remove_timeout") || !strcmp(key, "lock_timeout")) {
			int *f = key[0] == 'r' ? &c->remove_timeout_ms : &c->lock_timeout_ms;
			if (parse_seconds_ms(value, f) < 0)
				return fail(p, "%s must be a number of seconds (0-3600), not '%.40s'",
					    key, value);
			return 1;
		}
		if (!strcmp(key, "mdevctl_timeout")) {
			/* mdevctl always has a bound: 0 would kill every start at once. */
			int ms;
			if (parse_seconds_ms(value, &ms) < 0 || ms < 1000)
				return fail(p, "mdevctl_timeout must be a number of seconds (1-3600), "
					       "not '%.40s'", value);
			c->mdevctl_timeout_ms = ms;
			return 1;
		}
	} else if (!strcmp(section, "sleep")) {
		if (!strcmp(key, "remove_idle")) {
			if (parse_bool(value, &c->sleep_remove) < 0)
				return fail(p, "remove_idle must be yes or no, not '%.40s'", value);
			return 1;
		}
	} else if (gvtg_uuid_normalize(section, u) == 0) {
		struct gvtg_config_device *d = device_section(c, u);
		if (!d)
			return fail(p, "out of memory");
		if (!strcmp(key, "parent"))
			return set_name(p, &d->parent, "parent", value);
		if (!strcmp(key, "type"))
			return set_name(p, &d->type, "type", value);
		if (!strcmp(key, "boot")) {
			if (parse_bool(value, &d->boot) < 0)
				return fail(p, "boot must be yes or no, not '%.40s'", value);
			return 1;
		}
	} else {
		/* the line pass refuses unknown sections at their header already */
		return fail(p, "unknown section [%.40s]", section);
	}
	return fail(p, "unknown key '%.40s' in [%.40s]", key, section);
}

/* Each setting that applies records where it came from (gvtgctl config). */
static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	if (!key) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!set_key(p, section, key, value))
		return 0;
	if (gvtg_config_set_origin(p->c, section, key, p->file, p->lineno) < 0)
		return fail(p, "out of memory");
	return 1;
}

/* A parse error leaves the defaults, the error and its line: a broken file never half
 * applies. */
static int reset_to_defaults(struct gvtg_config **c)
{
	struct gvtg_config *d = config_new();
	if (!d)
		return -ENOMEM;
	d->error_line = (*c)->error_line;
	memcpy(d->error, (*c)->error, sizeof(d->error));
	d->path = TAKE_PTR((*c)->path);
	gvtg_config_free(*c);
	*c = d;
	return 0;
}

/* One file's text into c, over what earlier files set; -EBADMSG with c->error set. */
static int parse_into(struct gvtg_config *c, const char *file, const char *text, size_t len)
{
	struct parse p = { .c = c, .file = file, .text = text, .len = len };
	int line = ini_parse_stream(next_line, &p, handler, &p);
	tdestroy(p.sections, free);
	free(p.keys);
	if (!p.c->error[0] && line != 0) {
		/* Not expected: the line pass hands libinih only lines it reads as meant. */
		p.lineno = line;
		fail(&p, line > 0 ? "not understood" : "out of memory");
	}
	return p.c->error[0] ? -EBADMSG : 0;
}

static int config_parse(struct gvtg_config **c, const char *text, size_t len)
{
	if (parse_into(*c, NULL, text, len) == 0)
		return 0;
	int r = reset_to_defaults(c);
	return r < 0 ? r : -EBADMSG;
}

int gvtg_config_parse_string(const char *text, struct gvtg_config **ret_config)
{
	struct gvtg_config *c = config_new();
	if (!c)
		return -ENOMEM;
	int r = config_parse(&c, text, strlen(text));
	*ret_config = c;
	return r;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
			     : "not a regular file";
}

/* The whole file (a symlink is followed: /etc may be managed that way) when it is a
 * regular file of at most CONFIG_MAX bytes, as it is, NUL bytes included.  Nothing else
 * is opened for reading, so a FIFO or a device cannot make the caller wait.  The cause
 * of a failure goes into c->error. */
static int read_file(struct gvtg_ctx *ctx, const char *path, struct gvtg_config *c,
		     char **ret_text, size_t *ret_len)
{
	struct stat st;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	if (fstatat(ctx->root_fd, path, &st, 0) < 0)
		goto fail_errno;
	if (!S_ISREG(st.st_mode))
		goto not_regular;
	/* O_NONBLOCK: should the file become a FIFO after the check, open and read
	 * still return at once. */
	fd = openat(ctx->root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		goto fail_errno;
	if (fstat(fd, &st) < 0)
		goto fail_errno;
	if (!S_ISREG(st.st_mode))
		goto not_regular;
	if (st.st_size > CONFIG_MAX)
		goto too_big;

	buf = malloc(CONFIG_MAX + 1);
	if (!buf)
		return -ENOMEM;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, CONFIG_MAX + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_MAX)
			goto too_big; /* it grew since fstat */
	}
	buf[len] = '\0';
	*ret_text = TAKE_PTR(buf);
	*ret_len = len;
	return 0;

fail_errno:;
	int r = negative_errno();
	if (r != -ENOENT)
		snprintf(c->error, sizeof(c->error), "cannot read it: %s", strerror(-r));
	return r;
not_regular:
	snprintf(c->error, sizeof(c->error), "%s, not a regular file: replace it with a text "
		 "file, or remove it for the defaults", file_kind(st.st_mode));
	return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
too_big:
	snprintf(c->error, sizeof(c->error), "larger than %d KiB: this is not a gvtg-hook "
		 "configuration", CONFIG_MAX / 1024);
	return -EFBIG;
}

int gvtg_config_load_one(struct gvtg_ctx *ctx, struct gvtg_config *c, const char *path)
{
	while (*path == '/')
		path++;
	_cleanup_free_ char *abs = malloc(strlen(path) + 2);
	if (!abs)
		return -ENOMEM;
	sprintf(abs, "/%s", path);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file(ctx, path, c, &text, &len);
	if (r == -ENOENT)
		return 0; /* no file: nothing to add */
	if (r == 0) {
		const char *file = gvtg_config_add_file(c, abs);
		r = file ? parse_into(c, file, text, len) : -ENOMEM;
	}
	if (r < 0 && r != -ENOMEM) {
		free(c->path);
		c->path = TAKE_PTR(abs);
	}
	return r;
}

/* The main file, then (with dropins) the files of its drop-in directory.  The first
 * error ends the reading and leaves the defaults, with the file it is about in path. */
static int load(struct gvtg_ctx *ctx, const char *path, bool dropins,
		struct gvtg_config **ret_config)
{
	if (!path)
		path = GVTG_CONFIG_FILE;
	while (*path == '/')
		path++;
	struct gvtg_config *c = config_new();
	if (!c)
		return -ENOMEM;
	c->path = malloc(strlen(path) + 2);
	if (c->path)
		sprintf(c->path, "/%s", path);

	int r = gvtg_config_load_one(ctx, c, path);
	if (r == 0 && dropins)
		r = gvtg_config_load_dropins(ctx, c, path);
	if (r < 0 && r != -ENOMEM) {
		int e = reset_to_defaults(&c);
		if (e < 0)
			r = e;
	}
	if (r == -ENOMEM) {
		gvtg_config_free(c);
		return r;
	}
	*ret_config = c;
	return r;
}

int gvtg_config_load(struct gvtg_ctx *ctx, const char *path, struct gvtg_config **ret_config)
{
	return load(ctx, path, true, ret_config);
}

int gvtg_config_load_file(struct gvtg_ctx *ctx, const char *path,
			  struct gvtg_config **ret_config)
{
	return load(ctx, path, false, ret_config);
}
