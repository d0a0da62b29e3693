/* SPDX-License-Identifier: MIT */
/* A small strict JSON reader for the tests; see json-mini.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "json-mini.h"

struct parser {
	const char *p;
	int depth;
};

static struct json *parse_value(struct parser *ps);

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

void json_free(struct json *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		json_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->str);
	free(v);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string; only \u escapes below 0x80 are decoded, others become '?': the tests only
 * compare ASCII. */
static char *parse_string(struct parser *ps)
{
	if (*ps->p != '"')
		return NULL;
	ps->p++;
	size_t cap = 32, len = 0;
	char *out = malloc(cap);
	for (;;) {
		unsigned char c = (unsigned char)*ps->p;
		if (c == '\0' || c < 0x20) {
			free(out);
			return NULL;
		}
		ps->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			char e = *ps->p++;
			switch (e) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				int v = 0;
				for (int i = 0; i < 4; i++) {
					int h = hexval(*ps->p++);
					if (h < 0) {
						free(out);
						return NULL;
					}
					v = v * 16 + h;
				}
				c = v < 0x80 ? (unsigned char)v : '?';
				break;
			}
			default:
				free(out);
				return NULL;
			}
		}
		if (len + 2 > cap)
			out = realloc(out, cap *= 2);
		out[len++] = (char)c;
	}
	out[len] = '\0';
	return out;
}

static struct json *new_value(enum json_kind kind)
{
	struct json *v = calloc(1, sizeof(*v));
	v->kind = kind;
	return v;
}

static void push(struct json *v, char *key, struct json *item)
{
	v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
	if (v->kind == JSON_OBJECT)
		v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
	if (v->keys)
		v->keys[v->n] = key;
	v->items[v->n++] = item;
}

static struct json *parse_container(struct parser *ps, bool object)
{
	struct json *v = new_value(object ? JSON_OBJECT : JSON_ARRAY);
	char close = object ? '}' : ']';
	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(ps);
		if (object) {
			key = parse_string(ps);
			if (!key)
				goto fail;
			skip_ws(ps);
			if (*ps->p++ != ':') {
				free(key);
				goto fail;
			}
		}
		struct json *item = parse_value(ps);
		if (!item) {
			free(key);
			goto fail;
		}
		push(v, key, item);
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return v;
		}
		goto fail;
	}
fail:
	json_free(v);
	return NULL;
}

static struct json *parse_number(struct parser *ps)
{
	const char *s = ps->p;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return NULL;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return NULL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	struct json *v = new_value(JSON_NUMBER);
	v->num = strtod(ps->p, NULL);
	ps->p = s;
	return v;
}

static struct json *parse_value(struct parser *ps)
{
	if (++ps->depth > 64)
		return NULL;
	skip_ws(ps);
	struct json *v = NULL;
	switch (*ps->p) {
	case '{':
	case '[':
		v = parse_container(ps, *ps->p == '{');
		break;
	case '"': {
		char *s = parse_string(ps);
		if (s) {
			v = new_value(JSON_STRING);
			v->str = s;
		}
		break;
	}
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		for (int i = 0; i < 3; i++)
			if (!strncmp(ps->p, words[i], strlen(words[i]))) {
				v = new_value(i == 2 ? JSON_NULL : JSON_BOOL);
				v->b = i == 0;
				ps->p += strlen(words[i]);
				break;
			}
		break;
	}
	default:
		v = parse_number(ps);
	}
	ps->depth--;
	return v;
}

struct json *json_parse(const char *text)
{
	struct parser ps = { .p = text };
	struct json *v = parse_value(&ps);
	if (!v)
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		json_free(v);
		return NULL;
	}
	return v;
}

const struct json *json_path(const struct json *v, const char *path)
{
	const char *p = path;
	while (v && *p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);
			if (*end != ']' || v->kind != JSON_ARRAY || i >= v->n)
				return NULL;
			v = v->items[i];
			p = end + 1;
			continue;
		}
		size_t len = strcspn(p, ".[");
		if (v->kind != JSON_OBJECT)
			return NULL;
		const struct json *found = NULL;
		for (size_t i = 0; i < v->n && !found; i++)
			if (strlen(v->keys[i]) == len && !strncmp(v->keys[i], p, len))
				found = v->items[i];
		v = found;
		p += len;
	}
	return v;
}

const char *json_str(const struct json *v, const char *path)
{
	const struct json *s = json_path(v, path);
	return s && s->kind == JSON_STRING ? s->str : NULL;
}

int json_len(const struct json *v, const char *path)
{
	const struct json *a = json_path(v, path);
	return a && a->kind == JSON_ARRAY ? (int)a->n : -1;
}
