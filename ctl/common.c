/* SPDX-License-Identifier: MIT */
/*
 * What the commands share: messages (the diagnosis table's words after "gvtgctl: "),
 * the library context and the configuration, tables through libsmartcols, and reading
 * files under the root.  The lifecycle itself is the library's (lib/vgpu.c, lib/boot.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/* ---- messages ---------------------------------------------------------------------- */

/* One line on stderr; what it quotes (file names, a definition's text, mdevctl's words)
 * goes through the library's one cleaning before it reaches a terminal. */
static void error_line(const char *fmt, va_list ap, const char *end)
	__attribute__((format(printf, 1, 0)));
static void error_line(const char *fmt, va_list ap, const char *end)
{
	char raw[2048], clean[4096];
	vsnprintf(raw, sizeof(raw), fmt, ap);
	gvtg_text_clean(raw, strlen(raw), clean, sizeof(clean), 0);
	fprintf(stderr, "gvtgctl: %s%s", clean, end);
}

void ctl_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	error_line(fmt, ap, "\n");
	va_end(ap);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_line(fmt, ap, ". See 'gvtgctl --help'\n");
	va_end(ap);
	return CTL_EXIT_USAGE;
}

static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
{
	struct ctl *c = userdata;
	if (priority > (c->verbose > 1 ? GVTG_LOG_DEBUG : GVTG_LOG_INFO))
		return;
	error_line(fmt, ap, "\n");
}

/* Failures in the diagnosis table's words, after our prefix; what was done on stdout
 * for the commands that report it (boot, sleep), else with --verbose on stderr. */
static void report(void *userdata, const struct gvtg_diag *d)
{
	struct ctl *c = userdata;
	char line[1024];
	gvtg_diag_format(d, line, sizeof(line));
	if (gvtg_cause_row(d->cause)->level != GVTG_DIAG_NOTICE) {
		ctl_error("%s", line);
		return;
	}
	if (d->cause == GVTG_CAUSE_DONE_NOTHING && !c->verbose)
		return;
	if (c->notices_to_stdout)
		printf("%s\n", line);
	else if (c->verbose || d->cause == GVTG_CAUSE_DONE_STALE_RECORD)
		fprintf(stderr, "gvtgctl: %s\n", line);
}

void ctl_report(struct ctl *c, struct gvtg_diag *d, enum gvtg_cause cause)
{
	d->cause = cause;
	report(c, d);
}

/* ---- setup ------------------------------------------------------------------------- */

int ctl_open(struct ctl *c)
{
	if (c->ctx)
		return 0;
	int r = gvtg_ctx_new(c->root, &c->ctx);
	if (r < 0) {
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_NONE, NULL, NULL);
		d.err = -r;
		snprintf(d.file, sizeof(d.file), "%s", c->root ? c->root : "/");
		ctl_report(c, &d, GVTG_CAUSE_ROOT_UNREADABLE);
		return r;
	}
	if (c->verbose)
		gvtg_ctx_set_log_fn(c->ctx, lib_log, c);
	gvtg_ctx_set_report_fn(c->ctx, report, c);
	return 0;
}

const char *ctl_config_path(const struct ctl *c)
{
	if (c->cfg && c->cfg->path)
		return c->cfg->path;
	return c->config ? c->config : gvtg_config_default_path();
}

int ctl_open_config(struct ctl *c)
{
	int r = ctl_open(c);
	if (r < 0 || c->cfg)
		return r;
	r = gvtg_config_load(c->ctx, c->config, &c->cfg);
	if (r < 0) {
		gvtg_diag_config(c->ctx, c->cfg, c->config, r, GVTG_OP_CONFIG, NULL, NULL);
		return r;
	}
	return 0;
}

void ctl_free(struct ctl *c)
{
	c->cfg = gvtg_config_free(c->cfg);
	c->ctx = gvtg_ctx_free(c->ctx);
	free(c->config);
	c->config = NULL;
}

void ctl_describe_parents(struct ctl *c, char *out, size_t size)
{
	gvtg_parents_summary(c->ctx, out, size);
	if (!out[0])
		snprintf(out, size, "none");
}

const char *ctl_source_string(enum gvtg_source s)
{
	/* The command line stands where the hook has the domain's metadata. */
	if (s == GVTG_SOURCE_METADATA)
		return "command line";
	return gvtg_source_to_string(s);
}

/* ---- tables ------------------------------------------------------------------------ */

struct libscols_table *ctl_table_new(struct ctl *c, const char *name,
				     const struct ctl_column *cols, size_t n_cols)
{
	struct libscols_table *tb = scols_new_table();
	if (!tb)
		return NULL;
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, c->json);
	for (size_t i = 0; i < n_cols; i++) {
		const struct ctl_column *d = &cols[i];
		struct libscols_column *cl = scols_table_new_column(
			tb, c->json ? d->json : d->human, d->width, c->json ? 0 : d->flags);
		if (!cl) {
			scols_unref_table(tb);
			return NULL;
		}
		scols_column_set_json_type(cl, d->json_type);
	}
	return tb;
}

/* Every cell: what it shows came from sysfs, a definition file or a record, so it goes
 * through the library's one cleaning before it reaches a terminal or a JSON reader. */
static int cell_take(struct libscols_line *ln, size_t col, const char *value)
{
	size_t len = strlen(value), size = len * 6 + 1;
	char *s = malloc(size);
	if (!s)
		return -ENOMEM;
	gvtg_text_clean(value, len, s, size, 0);
	int r = scols_line_refer_data(ln, col, s);
	if (r < 0)
		free(s);
	return r;
}

int ctl_cell(struct ctl *c, struct libscols_line *ln, size_t col, const char *value)
{
	if (!value)
		return c->json ? 0 : scols_line_set_data(ln, col, "-");
	return cell_take(ln, col, value);
}

int ctl_cell_fmt(struct ctl *c, struct libscols_line *ln, size_t col, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	int r = cell_take(ln, col, s);
	free(s);
	return r;
}

/* libsmartcols prints each table as its own JSON object, {"name": [...]}: keep what is
 * between the outer braces so that several tables make one object. */
static int json_inner(struct libscols_table *tb, char **ret_inner)
{
	char *s = NULL;
	if (scols_print_table_to_string(tb, &s) < 0 || !s)
		return -ENOMEM;
	char *open = strchr(s, '{');
	char *close = strrchr(s, '}');
	if (!open || !close || close < open) {
		free(s);
		return -EINVAL;
	}
	char *e = close;
	while (e > open + 1 && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	*e = '\0';
	char *b = open + 1;
	while (*b == '\n')
		b++;
	char *inner = strdup(b);
	free(s);
	if (!inner)
		return -ENOMEM;
	*ret_inner = inner;
	return 0;
}

int ctl_tables_print(struct ctl *c, struct libscols_table **tables, size_t n)
{
	int r = 0;
	if (c->json) {
		fputs("{\n", stdout);
		for (size_t i = 0; i < n && r >= 0; i++) {
			char *inner;
			r = json_inner(tables[i], &inner);
			if (r < 0)
				break;
			fprintf(stdout, "%s%s", inner, i + 1 < n ? ",\n" : "\n");
			free(inner);
		}
		fputs("}\n", stdout);
	} else {
		/* An empty table prints nothing, not even its headings (as lsblk does). */
		bool printed = false;
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (scols_table_is_empty(tables[i]))
				continue;
			if (printed)
				fputc('\n', stdout);
			r = scols_print_table(tables[i]);
			printed = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		scols_unref_table(tables[i]);
	if (fflush(stdout) != 0 || ferror(stdout))
		r = -EIO;
	if (r < 0) {
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_NONE, NULL, NULL);
		d.err = r == -EIO ? EIO : -r;
		ctl_report(c, &d, GVTG_CAUSE_OUTPUT_FAILED);
	}
	return r;
}

/* ---- files under the root ---------------------------------------------------------- */

static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int ctl_read_file(struct ctl *c, const char *path, char **ret_text)
{
	int fd = openat(gvtg_ctx_get_root_fd(c->ctx), rel(path), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			/* Files read here (/proc, sysfs attributes) are small; /proc/cmdline
			 * and /proc/stat fit well below this bound. */
			if (cap >= 1024 * 1024)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = -errno;
			free(buf);
			close(fd);
			return r;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	*ret_text = buf;
	return 0;
}

bool ctl_exists(struct ctl *c, const char *path)
{
	struct stat st;
	return fstatat(gvtg_ctx_get_root_fd(c->ctx), rel(path), &st, 0) == 0;
}
