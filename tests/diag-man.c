/* SPDX-License-Identifier: MIT */
/*
 * gvtg-hook(8)'s list of causes, generated from the diagnosis table (lib/diag.c).
 *
 *   diag-man             print the troff block
 *   diag-man PAGE        check that PAGE holds exactly that block between its
 *                        '.\" diagnostics:begin' and '.\" diagnostics:end' lines
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gvtg.h"

static void put_escaped(FILE *f, const char *s, char *out, size_t *n, size_t size)
{
	(void)f;
	for (; *s; s++) {
		const char *rep = NULL;
		char one[2] = { *s, 0 };
		if (*s == '-')
			rep = "\\-";
		else if (*s == '\\')
			rep = "\\e";
		else
			rep = one;
		size_t l = strlen(rep);
		if (*n + l < size) {
			memcpy(out + *n, rep, l);
			*n += l;
		}
	}
	out[*n] = '\0';
}

/* A template for people: {fact} in italics, optional parts as they are. */
static void render(const char *t, char *out, size_t size)
{
	size_t n = 0;
	char lit[1024];
	out[0] = '\0';
	for (size_t i = 0; t[i];) {
		if (t[i] == '{' && t[i + 1] == '[') {
			i += 2;
			continue;
		}
		if (t[i] == ']' && t[i + 1] == '}') {
			i += 2;
			continue;
		}
		if (t[i] == '{') {
			const char *close = strchr(t + i, '}');
			if (!close)
				break;
			snprintf(lit, sizeof(lit), "\\fI%.*s\\fR", (int)(close - (t + i) - 1),
				 t + i + 1);
			size_t l = strlen(lit);
			if (n + l < size) {
				memcpy(out + n, lit, l);
				n += l;
				out[n] = '\0';
			}
			i = (size_t)(close - t) + 1;
			continue;
		}
		size_t j = i;
		while (t[j] && t[j] != '{' && !(t[j] == ']' && t[j + 1] == '}'))
			j++;
		snprintf(lit, sizeof(lit), "%.*s", (int)(j - i), t + i);
		put_escaped(NULL, lit, out, &n, size);
		i = j;
	}
}

static char *generate(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	size_t n;
	const struct gvtg_cause_row *t = gvtg_causes(&n);
	for (size_t i = 0; i < n; i++) {
		if (t[i].level == GVTG_DIAG_NOTICE)
			continue;
		char text[2048], fix[2048], id[128];
		size_t k = 0;
		render(t[i].text, text, sizeof(text));
		render(t[i].fix, fix, sizeof(fix));
		id[0] = '\0';
		put_escaped(NULL, t[i].id, id, &k, sizeof(id));
		/* a line may not start with a control character */
		fprintf(f, ".TP\n.B %s\n%s%s%s\n%s%s.\n", id, strchr(".'", text[0]) ? "\\&" : "",
			text,
			t[i].level == GVTG_DIAG_WARNING ? " (a warning: the operation goes on)." : ".",
			strchr(".'", fix[0]) ? "\\&" : "", fix);
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char *want = generate();
	if (argc < 2) {
		fputs(want, stdout);
		free(want);
		return 0;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	char *got = NULL;
	size_t len = 0;
	FILE *g = open_memstream(&got, &len);
	char line[4096];
	int state = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, ".\\\" diagnostics:begin", 21)) {
			state = 1;
			continue;
		}
		if (!strncmp(line, ".\\\" diagnostics:end", 19))
			state = 2;
		if (state == 1)
			fputs(line, g);
	}
	fclose(f);
	fclose(g);
	int ok = state == 2 && !strcmp(want, got);
	if (!ok) {
		printf("%s: the DIAGNOSTICS list differs from the table in lib/diag.c; "
		       "regenerate it with tests/diag-man and paste it between the markers.\n"
		       "--- wanted ---\n%s--- found ---\n%s",
		       argv[1], want, got ? got : "");
	} else {
		size_t rows = 0;
		for (const char *p = want; (p = strstr(p, ".TP\n")); p++)
			rows++;
		printf("gvtg-hook(8) DIAGNOSTICS: %zu causes, as in the table\n", rows);
	}
	free(want);
	free(got);
	return ok ? 0 : 1;
}
