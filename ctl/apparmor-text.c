/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check's reader of AppArmor profile text, for a profile the kernel cannot be
 * asked about: statements as apparmor_parser reads them (a rule ends at ',', over lines
 * or several on one), variables, the files a profile includes (local/ among them), and
 * AppArmor's globbing, a deny rule winning.  Every file is read under gvtgctl's root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-mac.h"
#include "ctl.h"

#define MAX_INCLUDE_DEPTH 8
#define MAX_EXPAND 4096

/* ---- AppArmor globbing ------------------------------------------------------------- */

/* End of the {...} group that starts at p (p points at '{'), or NULL. */
static const char *group_end(const char *p)
{
	int depth = 0;
	for (; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

static bool class_match(const char **pp, char ch)
{
	const char *p = *pp + 1;
	bool neg = *p == '^' || *p == '!';
	if (neg)
		p++;
	bool hit = false;
	for (bool first = true; *p && (first || *p != ']'); first = false) {
		char lo = *p, hi = *p;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			p += 3;
		} else {
			p++;
		}
		if (ch >= lo && ch <= hi)
			hit = true;
	}
	if (*p != ']')
		return false; /* unterminated: no match */
	*pp = p + 1;
	return hit != neg;
}

bool mac_glob_match(const char *p, const char *s)
{
	for (;;) {
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*': {
			bool any = p[1] == '*';
			while (*p == '*')
				p++;
			for (const char *t = s;; t++) {
				if (mac_glob_match(p, t))
					return true;
				if (!*t || (!any && *t == '/'))
					return false;
			}
		}
		case '?':
			if (!*s || *s == '/')
				return false;
			p++;
			s++;
			break;
		case '[':
			if (!*s || *s == '/' || !class_match(&p, *s))
				return false;
			s++;
			break;
		case '{': {
			const char *end = group_end(p);
			if (!end)
				return false;
			/* Try each alternative followed by the rest of the pattern. */
			const char *alt = p + 1;
			size_t rest = strlen(end + 1);
			int depth = 0;
			for (const char *q = alt; q <= end; q++) {
				if (*q == '\\' && q < end) {
					q++;
					continue;
				}
				if (*q == '{')
					depth++;
				else if (*q == '}' && depth > 0 && q != end)
					depth--;
				if ((*q == ',' && depth == 0) || q == end) {
					size_t n = (size_t)(q - alt);
					char *sub = malloc(n + rest + 1);
					if (!sub)
						return false;
					memcpy(sub, alt, n);
					memcpy(sub + n, end + 1, rest + 1);
					bool m = mac_glob_match(sub, s);
					free(sub);
					if (m)
						return true;
					alt = q + 1;
				}
			}
			return false;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
}

/* ---- profiles: variables and exec rules ------------------------------------------- */

void aa_profile_free(struct aa_profile *pf)
{
	for (size_t i = 0; i < pf->n_vars; i++) {
		free(pf->vars[i].name);
		free(pf->vars[i].value);
	}
	for (size_t i = 0; i < pf->n_rules; i++) {
		free(pf->rules[i].path);
		free(pf->rules[i].perms);
		free(pf->rules[i].file);
	}
	free(pf->vars);
	free(pf->rules);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* @{NAME}=a b c  or  @{NAME}+=d : values become an alternation. */
static void add_var(struct aa_profile *pf, char *line)
{
	char *eq = strchr(line, '=');
	char *cl = strchr(line, '}');
	if (!eq || !cl || cl > eq)
		return;
	bool append = eq > line && eq[-1] == '+';
	*cl = '\0';
	const char *name = line + 2;
	char *vals = trim(eq + 1);
	char buf[MAX_EXPAND];
	size_t len = 0;
	int count = 0;
	for (char *save = NULL, *tok = strtok_r(vals, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		size_t tl = strlen(tok);
		if (tl >= 2 && tok[0] == '"' && tok[tl - 1] == '"') {
			tok[tl - 1] = '\0';
			tok++;
			tl -= 2;
		}
		if (len + tl + 2 >= sizeof(buf))
			break;
		buf[len++] = count ? ',' : '{';
		memcpy(buf + len, tok, tl);
		len += tl;
		count++;
	}
	if (!count)
		return;
	buf[len++] = '}';
	buf[len] = '\0';
	for (size_t i = 0; i < pf->n_vars; i++) {
		if (strcmp(pf->vars[i].name, name))
			continue;
		char *v;
		if (append && asprintf(&v, "{%s,%s}", pf->vars[i].value, buf) >= 0) {
			free(pf->vars[i].value);
			pf->vars[i].value = v;
		} else if (!append) {
			free(pf->vars[i].value);
			pf->vars[i].value = strdup(buf);
		}
		return;
	}
	struct aa_var *nv = realloc(pf->vars, (pf->n_vars + 1) * sizeof(*nv));
	if (!nv)
		return;
	pf->vars = nv;
	pf->vars[pf->n_vars].name = strdup(name);
	pf->vars[pf->n_vars].value = strdup(buf);
	if (pf->vars[pf->n_vars].name && pf->vars[pf->n_vars].value)
		pf->n_vars++;
}

/* A pattern with its @{VARS} replaced; unknown variables stay (and match nothing). */
static char *expand(const struct aa_profile *pf, const char *in, int depth)
{
	char out[MAX_EXPAND];
	size_t len = 0;
	for (const char *p = in; *p && len < sizeof(out) - 1;) {
		const char *cl = p[0] == '@' && p[1] == '{' ? strchr(p, '}') : NULL;
		const struct aa_var *v = NULL;
		if (cl && depth < 8)
			for (size_t i = 0; i < pf->n_vars && !v; i++)
				if (strlen(pf->vars[i].name) == (size_t)(cl - p - 2) &&
				    !strncmp(pf->vars[i].name, p + 2,
				             (size_t)(cl - p - 2)))
					v = &pf->vars[i];
		if (v) {
			char *sub = expand(pf, v->value, depth + 1);
			size_t n = sub ? strlen(sub) : 0;
			if (len + n >= sizeof(out)) {
				free(sub);
				break;
			}
			if (sub)
				memcpy(out + len, sub, n);
			free(sub);
			len += n;
			p = cl + 1;
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return strdup(out);
}

static bool is_perms(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if (!strchr("rwaxmlkiuUpPcCdDI", *t))
			return false;
	return true;
}

/* A file rule "[audit] [deny] [owner] [file] PATH PERMS [-> TARGET]" (or PERMS PATH),
 * without its ',': kept when it grants or denies exec. */
static void add_rule(struct aa_profile *pf, char *line, const char *file)
{
	char *tok[8];
	int nt = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t", &save); t && nt < 8;
	     t = strtok_r(NULL, " \t", &save))
		tok[nt++] = t;
	bool deny = false;
	int i = 0;
	for (; i < nt; i++) {
		if (!strcmp(tok[i], "deny"))
			deny = true;
		else if (strcmp(tok[i], "audit") && strcmp(tok[i], "owner") &&
		         strcmp(tok[i], "allow") && strcmp(tok[i], "file"))
			break;
	}
	if (nt - i < 2)
		return;
	char *path = tok[i], *perms = tok[i + 1];
	if (is_perms(path) && (perms[0] == '/' || perms[0] == '@' || perms[0] == '"')) {
		char *t = path;
		path = perms;
		perms = t;
	}
	size_t pl = strlen(path);
	if (pl >= 2 && path[0] == '"' && path[pl - 1] == '"') {
		path[pl - 1] = '\0';
		path++;
	}
	if ((path[0] != '/' && path[0] != '@') || !is_perms(perms) || !strchr(perms, 'x'))
		return;
	struct aa_rule *nr = realloc(pf->rules, (pf->n_rules + 1) * sizeof(*nr));
	if (!nr)
		return;
	pf->rules = nr;
	struct aa_rule *r = &pf->rules[pf->n_rules];
	*r = (struct aa_rule){ .path = strdup(path), .perms = strdup(perms), .deny = deny,
			    .file = strdup(file) };
	if (r->path && r->perms && r->file) {
		pf->n_rules++;
	} else {
		free(r->path);
		free(r->perms);
		free(r->file);
	}
}


/* include <x> / include if exists <x> / #include "x": a file or a directory of files. */
static void parse_include(struct ctl *c, char *line, struct aa_profile *pf, int depth,
                          int nesting)
{
	char *op = strpbrk(line, "<\"");
	if (!op || nesting >= MAX_INCLUDE_DEPTH)
		return;
	char *cl = strchr(op + 1, *op == '<' ? '>' : '"');
	if (!cl)
		return;
	*cl = '\0';
	char target[PATH_MAX];
	if (*op == '<' || op[1] != '/')
		snprintf(target, sizeof(target), AA_DIR "/%s", op + 1);
	else
		snprintf(target, sizeof(target), "%s", op + 2);
	struct stat st;
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	if (fstatat(rootfd, target, &st, 0) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		aa_profile_parse_file(c, target, pf, depth, nesting + 1);
		return;
	}
	int fd = openat(rootfd, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX + 256];
		snprintf(sub, sizeof(sub), "%s/%s", target, e->d_name);
		if (fstatat(rootfd, sub, &st, 0) == 0 && S_ISREG(st.st_mode))
			aa_profile_parse_file(c, sub, pf, depth, nesting + 1);
	}
	closedir(d);
}

/* A profile file read as apparmor_parser reads it: include lines, variable lines, and
 * statements that end at ',' (outside quotes, {alternatives} and (lists)), over lines
 * or several on one, a block opening at a '{' on its own and closing at '}'.  Rules count
 * at depth 1: inside the first profile, not in its child profiles or hats. */
struct reader {
	struct aa_profile *pf;
	const char *file;
	int depth, nesting;
	char stmt[MAX_EXPAND];
	size_t len;
	int alt, paren;     /* {alternatives} and (lists) open in stmt */
	bool quoted;
};

static void statement_end(struct reader *rd)
{
	rd->stmt[rd->len] = '\0';
	char *t = trim(rd->stmt);
	if (rd->depth == 1 && *t)
		add_rule(rd->pf, t, rd->file);
	rd->len = 0;
	rd->alt = rd->paren = 0;
}

static bool stmt_blank(const struct reader *rd)
{
	for (size_t i = 0; i < rd->len; i++)
		if (rd->stmt[i] != ' ' && rd->stmt[i] != '\t')
			return false;
	return true;
}

static bool blank_before(const struct reader *rd)
{
	return rd->len == 0 || rd->stmt[rd->len - 1] == ' ' || rd->stmt[rd->len - 1] == '\t';
}

static void read_statements(struct reader *rd, const char *line)
{
	for (const char *p = line; *p; p++) {
		char ch = *p;
		if (ch == '"')
			rd->quoted = !rd->quoted;
		else if (rd->quoted)
			;
		else if (ch == '#')
			break; /* a comment to the end of the line */
		else if (ch == '(')
			rd->paren++;
		else if (ch == ')' && rd->paren > 0)
			rd->paren--;
		else if (ch == '{' && !rd->alt && !rd->paren && blank_before(rd) &&
			 (!p[1] || p[1] == ' ' || p[1] == '\t')) {
			rd->len = 0; /* a profile's or hat's head */
			rd->depth++;
			continue;
		} else if (ch == '{') {
			rd->alt++;
		} else if (ch == '}' && rd->alt) {
			rd->alt--;
		} else if (ch == '}') {
			rd->len = 0;
			if (rd->depth > 0)
				rd->depth--;
			continue;
		} else if (ch == ',' && !rd->alt && !rd->paren) {
			statement_end(rd);
			continue;
		}
		if (rd->len < sizeof(rd->stmt) - 2)
			rd->stmt[rd->len++] = ch;
	}
	if (rd->len && rd->len < sizeof(rd->stmt) - 2)
		rd->stmt[rd->len++] = ' ';
}

void aa_profile_parse_file(struct ctl *c, const char *path, struct aa_profile *pf,
			   int base_depth, int nesting)
{
	char *text = NULL;
	if (ctl_read_file(c, path, &text) < 0)
		return;
	struct reader rd = { .pf = pf, .file = path, .depth = base_depth, .nesting = nesting };
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *line = trim(l);
		bool at_start = stmt_blank(&rd);
		if (!strncmp(line, "#include", 8) ||
		    (at_start && !strncmp(line, "include", 7) && (line[7] == ' ' || line[7] == '\t'))) {
			parse_include(c, line, pf, rd.depth, nesting);
			continue;
		}
		if (at_start && line[0] == '@' && line[1] == '{' && rd.depth == 0 &&
		    strchr(line, '=')) {
			char *hash = strchr(line, '#');
			if (hash)
				*hash = '\0';
			add_var(pf, trim(line));
			continue;
		}
		read_statements(&rd, line);
	}
	free(text);
}

/* The rule that decides whether the profile executes path: a deny rule wins; NULL when
 * none allows it. */
const struct aa_rule *aa_profile_exec_rule(const struct aa_profile *pf, const char *path,
					   bool *ret_denied)
{
	const struct aa_rule *allow = NULL;
	*ret_denied = false;
	for (size_t i = 0; i < pf->n_rules; i++) {
		char *pat = expand(pf, pf->rules[i].path, 0);
		bool m = pat && mac_glob_match(pat, path);
		free(pat);
		if (!m)
			continue;
		if (pf->rules[i].deny) {
			*ret_denied = true;
			return &pf->rules[i];
		}
		if (!allow)
			allow = &pf->rules[i];
	}
	return allow;
}

