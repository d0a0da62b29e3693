/* SPDX-License-Identifier: MIT */
/*
 * The reader of a definition's JSON (etc/mdevctl.d/<parent>/<uuid>, as mdevctl writes
 * it): strict RFC 8259, at most JSON_DEPTH_MAX deep, just enough for a definition.  Our
 * own, some 250 lines: the format is three keys and a list of one-key objects, and a
 * JSON library in the hook's core module would be loaded and relocated on every start of
 * every VM.  Input is untrusted: fuzz/fuzz-definition.c runs it.
 */
#include <stdarg.h>
#include <string.h>

#include "gvtg-private.h"

#define JSON_DEPTH_MAX 8

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
			size_t k = gvtg_utf8_len(j->p, (size_t)(j->end - j->p));
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

/* One function over 80 lines: the object's members in one loop, read in the order they
 * come, is easier to check against the format than the same loop cut in pieces. */
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
			if (!key) {
				r = -ENOMEM; /* never: a string read is always returned */
				goto fail;
			}
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
