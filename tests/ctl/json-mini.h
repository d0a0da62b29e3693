/* SPDX-License-Identifier: MIT */
/*
 * A small JSON reader for the tests: parses a document strictly (RFC 8259 grammar,
 * no extensions) into a tree, and finds values by a path such as "vgpus[1].owner".
 * Enough to check gvtgctl's --json output field by field without a JSON library.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum json_kind {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_kind kind;
	bool b;
	double num;
	char *str;              /* JSON_STRING */
	size_t n;               /* members of an array or object */
	char **keys;            /* JSON_OBJECT */
	struct json **items;    /* JSON_ARRAY, JSON_OBJECT */
};

/* NULL when the text is not one valid JSON value (trailing whitespace allowed). */
struct json *json_parse(const char *text);
void json_free(struct json *v);
/* "a.b[2].c"; NULL when any step is missing. */
const struct json *json_path(const struct json *v, const char *path);
/* Convenience: the string at path, or NULL when missing or not a string. */
const char *json_str(const struct json *v, const char *path);
/* Length of the array at path, -1 when not an array. */
int json_len(const struct json *v, const char *path);
