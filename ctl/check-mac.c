/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check, mandatory access control.  A stock Debian or Ubuntu host runs libvirtd
 * under the AppArmor profile /etc/apparmor.d/usr.sbin.libvirtd, which executes only a few
 * directories and judges the path a symlink resolves to: a hook anywhere else makes every
 * VM start fail.  This reads the daemon's label in /proc and, when its profile is loaded,
 * asks the kernel (libapparmor's query interface) whether that label may execute each
 * installed hook.  Only for a profile that is not loaded (or a fake root, or a gvtgctl
 * built without libapparmor) is the profile text read: statements as apparmor_parser
 * reads them (a rule ends at ',', over lines or several on one), the files it includes
 * (local/ among them, named where a rule comes from), and AppArmor's globbing, a deny
 * rule winning.  Everything else is read under gvtgctl's root, so the tests build a host
 * on a fake tree.
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

#ifdef HAVE_LIBAPPARMOR
#include <sys/apparmor.h>
#endif

#ifndef GVTG_HOOKS_DIR
#define GVTG_HOOKS_DIR "/etc/libvirt/hooks"
#endif
#ifndef GVTG_HOOK_PATH
#define GVTG_HOOK_PATH "/usr/sbin/gvtg-hook"
#endif

#define AA_DIR "etc/apparmor.d"
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

struct var {
	char *name;  /* without @{ } */
	char *value; /* "{a,b}" for several values */
};

struct rule {
	char *path;
	char *perms;
	bool deny;
	char *file;  /* the file it is in, relative to the root */
};

struct profile {
	struct var *vars;
	size_t n_vars;
	struct rule *rules;
	size_t n_rules;
};

static void profile_free(struct profile *pf)
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
static void add_var(struct profile *pf, char *line)
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
	struct var *nv = realloc(pf->vars, (pf->n_vars + 1) * sizeof(*nv));
	if (!nv)
		return;
	pf->vars = nv;
	pf->vars[pf->n_vars].name = strdup(name);
	pf->vars[pf->n_vars].value = strdup(buf);
	if (pf->vars[pf->n_vars].name && pf->vars[pf->n_vars].value)
		pf->n_vars++;
}

/* A pattern with its @{VARS} replaced; unknown variables stay (and match nothing). */
static char *expand(const struct profile *pf, const char *in, int depth)
{
	char out[MAX_EXPAND];
	size_t len = 0;
	for (const char *p = in; *p && len < sizeof(out) - 1;) {
		const char *cl = p[0] == '@' && p[1] == '{' ? strchr(p, '}') : NULL;
		const struct var *v = NULL;
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
static void add_rule(struct profile *pf, char *line, const char *file)
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
	struct rule *nr = realloc(pf->rules, (pf->n_rules + 1) * sizeof(*nr));
	if (!nr)
		return;
	pf->rules = nr;
	struct rule *r = &pf->rules[pf->n_rules];
	*r = (struct rule){ .path = strdup(path), .perms = strdup(perms), .deny = deny,
			    .file = strdup(file) };
	if (r->path && r->perms && r->file) {
		pf->n_rules++;
	} else {
		free(r->path);
		free(r->perms);
		free(r->file);
	}
}

static void parse_file(struct ctl *c, const char *path, struct profile *pf,
                       int base_depth, int nesting);

/* include <x> / include if exists <x> / #include "x": a file or a directory of files. */
static void parse_include(struct ctl *c, char *line, struct profile *pf, int depth,
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
		parse_file(c, target, pf, depth, nesting + 1);
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
			parse_file(c, sub, pf, depth, nesting + 1);
	}
	closedir(d);
}

/* A profile file read as apparmor_parser reads it: include lines, variable lines, and
 * statements that end at ',' (outside quotes, {alternatives} and (lists)), over lines
 * or several on one, a block opening at a '{' on its own and closing at '}'.  Rules count
 * at depth 1: inside the first profile, not in its child profiles or hats. */
struct reader {
	struct profile *pf;
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

static void parse_file(struct ctl *c, const char *path, struct profile *pf,
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
static const struct rule *exec_rule(const struct profile *pf, const char *path,
                                    bool *ret_denied)
{
	const struct rule *allow = NULL;
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

/* ---- the host ---------------------------------------------------------------------- */

/* The canonical absolute path of path under the root (every symlink resolved, as the
 * kernel hands it to AppArmor). */
int mac_resolve(struct ctl *c, const char *path, char *ret, size_t size)
{
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	char todo[2 * PATH_MAX];
	char done[PATH_MAX] = "";
	snprintf(todo, sizeof(todo), "%s", path);
	int links = 0;
	char *p = todo;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[NAME_MAX + 1];
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *last = strrchr(done, '/');
			if (last)
				*last = '\0';
			continue;
		}
		size_t dl = strlen(done);
		if (dl + 1 + n >= sizeof(done))
			return -ENAMETOOLONG;
		snprintf(done + dl, sizeof(done) - dl, "/%s", comp);
		char target[PATH_MAX];
		ssize_t k = readlinkat(rootfd, done + 1, target, sizeof(target) - 1);
		if (k < 0) {
			if (errno == EINVAL)
				continue; /* not a link */
			return -errno;
		}
		if (++links > 40)
			return -ELOOP;
		target[k] = '\0';
		char rest[2 * PATH_MAX];
		snprintf(rest, sizeof(rest), "%s/%s", target, p);
		if (target[0] == '/')
			done[0] = '\0';
		else
			done[dl] = '\0';
		snprintf(todo, sizeof(todo), "%s", rest);
		p = todo;
	}
	if (!done[0])
		snprintf(done, sizeof(done), "/");
	if (strlen(done) >= size)
		return -ENAMETOOLONG;
	memcpy(ret, done, strlen(done) + 1);
	return 0;
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Is path (absolute, under the root) an executable file once its links are resolved
 * within the root?  fstatat() would follow an absolute link out of the root. */
static bool is_executable(struct ctl *c, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	return mac_resolve(c, path, real, sizeof(real)) == 0 &&
	       fstatat(gvtg_ctx_get_root_fd(c->ctx), real[1] ? real + 1 : ".", &st,
	               AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

/* The hooks libvirt runs: hooks/qemu and every executable file in hooks/qemu.d. */
size_t mac_list_hooks(struct ctl *c, char hooks[][PATH_MAX], size_t max)
{
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	size_t n = 0;
	if (is_executable(c, GVTG_HOOKS_DIR "/qemu"))
		snprintf(hooks[n++], PATH_MAX, "%s", GVTG_HOOKS_DIR "/qemu");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", GVTG_HOOKS_DIR "/qemu.d");
	int fd = openat(rootfd, dir + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return n;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return n;
	}
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_MAX + 256];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (strlen(p) < PATH_MAX && is_executable(c, p))
			memcpy(hooks[n++], p, strlen(p) + 1);
	}
	closedir(d);
	/* libvirt runs them in alphabetical order; so does this report */
	qsort(hooks, n, PATH_MAX, compare_paths);
	return n;
}

int mac_daemon_pid(struct ctl *c, const char *name, long *ret_pid)
{
	char path[64], *s = NULL;
	long pid = 0;
	snprintf(path, sizeof(path), "run/%s.pid", name);
	if (ctl_read_file(c, path, &s) == 0) {
		pid = strtol(s, NULL, 10);
		free(s);
	}
	if (pid <= 0) {
		int fd = openat(gvtg_ctx_get_root_fd(c->ctx), "proc",
		                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d && fd >= 0)
			close(fd);
		struct dirent *e;
		while (d && pid <= 0 && (e = readdir(d))) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "proc/%.20s/comm", e->d_name);
			if (ctl_read_file(c, path, &s) < 0)
				continue;
			if (!strcmp(s, name))
				pid = strtol(e->d_name, NULL, 10);
			free(s);
		}
		if (d)
			closedir(d);
	}
	if (pid <= 0)
		return -ESRCH;
	*ret_pid = pid;
	return 0;
}

/* A daemon's AppArmor label: "libvirtd (enforce)", "unconfined"; or its SELinux context
 * (check-selinux.c judges those). */
static int daemon_label(struct ctl *c, const char *name, long *ret_pid, char **ret_label)
{
	char path[64], *s = NULL;
	long pid;
	int r = mac_daemon_pid(c, name, &pid);
	if (r < 0)
		return r;
	/* With several LSMs stacked, AppArmor's own file; else the common one. */
	snprintf(path, sizeof(path), "proc/%ld/attr/apparmor/current", pid);
	r = ctl_read_file(c, path, &s);
	if (r < 0) {
		snprintf(path, sizeof(path), "proc/%ld/attr/current", pid);
		r = ctl_read_file(c, path, &s);
	}
	if (r < 0)
		return r;
	*ret_pid = pid;
	*ret_label = s;
	return 0;
}

/* The file under /etc/apparmor.d that defines profile name. */
static int profile_file(struct ctl *c, const char *name, char *ret, size_t size)
{
	static const char *const guesses[] = {"usr.sbin.", "usr.bin.", ""};
	for (size_t i = 0; i < 3; i++) {
		snprintf(ret, size, AA_DIR "/%s%s", guesses[i], name);
		char *text = NULL;
		if (ctl_read_file(c, ret, &text) < 0)
			continue;
		char decl[NAME_MAX + 16];
		snprintf(decl, sizeof(decl), "profile %.*s ", NAME_MAX, name);
		bool found = strstr(text, decl) != NULL;
		free(text);
		if (found)
			return 0;
	}
	return -ENOENT;
}

/* The profile name a hook executable's profile file carries: usr.sbin.gvtg-hook. */
static void own_profile_file(char *buf, size_t size)
{
	snprintf(buf, size, "%s", &GVTG_HOOK_PATH[1]);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = '.';
}

/* Is profile name loaded in the kernel (securityfs under the root)? */
static bool profile_loaded(struct ctl *c, const char *name)
{
	char *loaded = NULL;
	if (ctl_read_file(c, "sys/kernel/security/apparmor/profiles", &loaded) < 0)
		return false;
	size_t n = strlen(name);
	bool found = false;
	for (char *save = NULL, *l = strtok_r(loaded, "\n", &save); l && !found;
	     l = strtok_r(NULL, "\n", &save))
		found = !strncmp(l, name, n) && !strncmp(l + n, " (", 2);
	free(loaded);
	return found;
}

/* The kernel answers for a loaded profile, and only for this host's own root: a fake
 * root's profiles are not the kernel's. */
static bool ask_kernel(struct ctl *c, const char *name)
{
#ifdef HAVE_LIBAPPARMOR
	const char *root = gvtg_ctx_get_root(c->ctx);
	if (root && strcmp(root, "/") != 0)
		return false;
	return profile_loaded(c, name);
#else
	(void)c;
	(void)name;
	(void)profile_loaded;
	return false;
#endif
}

/* May label execute path?  The kernel's answer through libapparmor. */
static int kernel_may_exec(const char *label, const char *path, bool *ret_allowed)
{
#ifdef HAVE_LIBAPPARMOR
	int allowed = 0, audited = 0;
	if (aa_query_file_path(AA_MAY_EXEC, label, path, &allowed, &audited) < 0)
		return errno ? -errno : -EIO;
	*ret_allowed = allowed != 0;
	return 0;
#else
	(void)label;
	(void)path;
	(void)ret_allowed;
	return -EOPNOTSUPP;
#endif
}

/* The profile text's verdict on executing path: the rule that allows it (and the file
 * it is in when that is not the profile's own, file), the deny rule, or no rule. */
static int text_verdict(const struct profile *pf, const char *file, const char *path,
			bool *ret_allowed, char *why, size_t size)
{
	bool denied;
	const struct rule *rl = exec_rule(pf, path, &denied);
	*ret_allowed = rl && !denied;
	char in[PATH_MAX + 16] = "";
	int k = 0;
	if (rl && strcmp(rl->file, file) != 0)
		k = snprintf(in, sizeof(in), " in /%s", rl->file);
	if (k >= 0 && *ret_allowed)
		k = snprintf(why, size, "rule '%s %s'%s", rl->path, rl->perms, in);
	else if (k >= 0 && denied)
		k = snprintf(why, size, "/%s denies it (rule 'deny %s %s'%s)", file, rl->path,
			     rl->perms, in);
	else if (k >= 0)
		k = snprintf(why, size, "/%s has no exec rule for it", file);
	return k < 0 ? -EINVAL : 0;
}

static void check_daemon_profile(struct ctl *c, mac_report_fn report, void *data,
                                 const char *daemon, long pid, const char *label)
{
	/* Lines longer than these are cut: paths that long do not occur in hooks. */
	char what[1024], fix[1024];
	const char *mode = strstr(label, " (");
	if (!mode)
		return; /* unconfined, or an SELinux context: check-selinux.c */
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)(mode - label), label);
	bool enforce = !strncmp(mode, " (enforce)", 10);

	char file[PATH_MAX];
	bool have_file = profile_file(c, name, file, sizeof(file)) == 0;
	if (!have_file)
		snprintf(file, sizeof(file), AA_DIR "/usr.sbin.%s", name);
	bool kernel = ask_kernel(c, name);
	if (!kernel && !have_file) {
		snprintf(
		    what, sizeof(what),
		    "%s (pid %ld) is confined by AppArmor profile %s, which is not in "
		    "/etc/apparmor.d: whether it may run the hooks is unknown",
		    daemon, pid, name);
		report(data, MAC_WARN,
		       "check the daemon's profile allows executing the hooks", what);
		return;
	}
	struct profile pf = {0};
	if (!kernel) {
		parse_file(c, AA_DIR "/tunables/global", &pf, 0, 0);
		parse_file(c, file, &pf, 0, 0);
	}

	char hooks[64][PATH_MAX];
	size_t n = mac_list_hooks(c, hooks, 64);
	for (size_t i = 0; i < n; i++) {
		char real[PATH_MAX];
		if (mac_resolve(c, hooks[i], real, sizeof(real)) < 0)
			continue; /* a dangling link: check_hook reports it */
		char shown[2 * PATH_MAX + 8];
		if (strcmp(real, hooks[i]))
			snprintf(shown, sizeof(shown), "%s (-> %s)", hooks[i], real);
		else
			snprintf(shown, sizeof(shown), "%s", hooks[i]);
		/* why it may (or may not) run the hook */
		char why[PATH_MAX + 512];
		bool allowed = false;
		if (kernel) {
			int r = kernel_may_exec(name, real, &allowed);
			if (r < 0) {
				if (snprintf(what, sizeof(what),
					     "%s (AppArmor %s): the kernel did not answer whether "
					     "it may execute hook %s: %s",
					     daemon, name, shown, strerror(-r)) >= 0)
					report(data, MAC_WARN, "run gvtgctl check as root", what);
				continue;
			}
			snprintf(why, sizeof(why), "the loaded profile %s (asked the kernel)",
				 allowed ? "allows it" : "does not allow it");
		} else if (text_verdict(&pf, file, real, &allowed, why, sizeof(why)) < 0) {
			continue;
		}
		if (allowed) {
			if (snprintf(what, sizeof(what), "%s (AppArmor %s) may execute hook %s: %s",
				     daemon, name, shown, why) < 0)
				continue;
			report(data, MAC_PASS, NULL, what);
			continue;
		}
		if (snprintf(fix, sizeof(fix),
		             "install the hook where the profile runs it (the packages "
		             "and --prefix=/usr "
		             "use /usr/sbin/gvtg-hook; meson -Dhook_layout=hooks_dir "
		             "copies it into "
		             "qemu.d), or add '%s PUx,' to /etc/apparmor.d/local/%s and "
		             "run apparmor_parser "
		             "-r /%s",
		             real, strrchr(file, '/') + 1, file) < 0 ||
		    snprintf(what, sizeof(what),
		             "%s (pid %ld, AppArmor %s%s) may not execute hook %s: %s; every VM "
		             "start fails with 'Permission denied'",
		             daemon, pid, name, enforce ? "" : ", complain", shown, why) < 0)
			continue;
		report(data, enforce ? MAC_FAIL : MAC_WARN, fix, what);
	}
	profile_free(&pf);
}

void check_mac(struct ctl *c, mac_report_fn report, void *data)
{
	static const char *const daemons[] = {"libvirtd", "virtqemud"};
	for (size_t i = 0; i < 2; i++) {
		long pid;
		char *label = NULL;
		if (daemon_label(c, daemons[i], &pid, &label) < 0)
			continue;
		check_daemon_profile(c, report, data, daemons[i], pid, label);
		free(label);
	}

	/* The hook's own profile matters where libvirtd runs it with PUx: an executable
	 * of its own, not a file in the hooks directory (that one inherits libvirtd's).
	 */
	char *enabled = NULL;
	bool aa =
	    ctl_read_file(c, "sys/module/apparmor/parameters/enabled", &enabled) == 0 &&
	    enabled[0] == 'Y';
	free(enabled);
	if (!aa ||
	    !strncmp(GVTG_HOOK_PATH, GVTG_HOOKS_DIR "/", strlen(GVTG_HOOKS_DIR "/")) ||
	    !ctl_exists(c, GVTG_HOOK_PATH))
		return;
	char file[PATH_MAX], fix[PATH_MAX + 64], what[512];
	own_profile_file(file, sizeof(file));
	snprintf(fix, sizeof(fix), "apparmor_parser -r /etc/apparmor.d/%s", file);
	char *loaded = NULL;
	if (ctl_read_file(c, "sys/kernel/security/apparmor/profiles", &loaded) < 0) {
		report(data, MAC_INFO,
		       "mount -t securityfs securityfs /sys/kernel/security",
		       "AppArmor is enabled but its loaded profiles cannot be read");
		return;
	}
	bool found = false;
	for (char *save = NULL, *l = strtok_r(loaded, "\n", &save); l && !found;
	     l = strtok_r(NULL, "\n", &save))
		found = !strncmp(l, "gvtg-hook (", 11);
	free(loaded);
	if (found) {
		report(data, MAC_PASS, NULL, "AppArmor profile gvtg-hook loaded");
		return;
	}
	char installed[PATH_MAX + 32];
	snprintf(installed, sizeof(installed), AA_DIR "/%s", file);
	if (!ctl_exists(c, installed))
		snprintf(fix, sizeof(fix),
		         "install the hook's profile (meson -Dapparmor=enabled) as "
		         "/etc/apparmor.d/%s and load it with apparmor_parser -r",
		         file);
	snprintf(what, sizeof(what),
	         "AppArmor profile gvtg-hook is not loaded: the hook runs unconfined");
	report(data, MAC_WARN, fix, what);
}
