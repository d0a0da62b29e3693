/* SPDX-License-Identifier: MIT */
/*
 * Output for people and for scripts: colour only on a terminal (and never with
 * NO_COLOR), text wrapped between words at the terminal's width, "did you mean" for a
 * mistyped word, and JSON strings written by hand where a table does not fit.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"

bool ctl_color(FILE *f)
{
	/* https://no-color.org: any non-empty NO_COLOR turns colour off. */
	const char *no = getenv("NO_COLOR");
	if (no && *no)
		return false;
	const char *term = getenv("TERM");
	if (!term || !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

int ctl_term_width(FILE *f)
{
	/* COLUMNS wins, as for ls and libsmartcols; without it and without a terminal,
	 * lines are not wrapped at all (scripts and pipes get one line per item). */
	const char *cols = getenv("COLUMNS");
	if (cols && *cols) {
		char *end;
		long w = strtol(cols, &end, 10);
		if (*end == '\0' && w >= 20 && w <= 1000)
			return (int)w;
	}
	struct winsize ws;
	if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 0;
}

void ctl_wrap(FILE *f, const char *lead, size_t lead_width, const char *text, int width)
{
	fputs(lead, f);
	size_t col = lead_width;
	if (width <= 0 || (size_t)width <= lead_width + 10) {
		fprintf(f, "%s\n", text);
		return;
	}
	const char *p = text;
	bool first = true;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, " ");
		/* A word longer than a whole line (a long path) gets a line of its own and
		 * is not cut. */
		if (!first && col + 1 + len > (size_t)width) {
			fprintf(f, "\n%*s", (int)lead_width, "");
			col = lead_width;
			first = true;
		}
		if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, len, f);
		col += len;
		p += len;
		first = false;
	}
	fputc('\n', f);
}

/* Edit distance (insertions, deletions, substitutions, transpositions), capped. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *ctl_did_you_mean(const char *word, const char *const *choices, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t wl = strlen(word);
	for (size_t i = 0; i < n; i++) {
		size_t cl = strlen(choices[i]);
		/* "GVTg_V5_4" for "i915-GVTg_V5_4": the NAME column's value, or a prefix
		 * left out. */
		if (wl >= 3 && cl > wl && !strcmp(choices[i] + cl - wl, word))
			return choices[i];
		if (wl >= 2 && !strncmp(choices[i], word, wl) && cl > wl && best_d > 1) {
			best = choices[i];
			best_d = 1;
			continue;
		}
		size_t dist = distance(word, choices[i]);
		if (dist < best_d) {
			best = choices[i];
			best_d = dist;
		}
	}
	/* Close enough to be a typo of it: two edits, one for short words. */
	size_t limit = wl <= 4 ? 1 : 2;
	return best_d <= limit ? best : NULL;
}

void ctl_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}
