/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl metrics: the host's vGPUs, the instances left per type, the removals pending
 * and the results of gvtgctl check, as OpenMetrics text for Prometheus (node_exporter's
 * textfile collector reads it; every family is a gauge, so the text is also the plain
 * Prometheus format).  The figures are those of 'gvtgctl list' and 'gvtgctl check',
 * counted: this file reads nothing of its own.  --output writes a file atomically (a
 * temporary file beside it, then rename), so the collector never reads half of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

enum {
	OPT_OUTPUT = OPT_FIRST_COMMAND_OPTION,
};

static const char *const result_names[] = {
	[CTL_CHECK_PASS] = "pass",
	[CTL_CHECK_INFO] = "info",
	[CTL_CHECK_WARN] = "warn",
	[CTL_CHECK_FAIL] = "fail",
};

/* One label value, escaped as the format wants (backslash, quote, newline). */
static void label(FILE *f, const char *name, const char *value, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (const char *s = value ? value : ""; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The index of the column named name (its --json name), or -1. */
static int column(struct libscols_table *tb, const char *name)
{
	for (size_t i = 0; i < scols_table_get_ncols(tb); i++) {
		struct libscols_column *cl = scols_table_get_column(tb, i);
		const char *n = cl ? scols_column_get_name(cl) : NULL;
		if (n && !strcmp(n, name))
			return (int)i;
	}
	return -1;
}

static const char *cell(struct libscols_line *ln, int col)
{
	struct libscols_cell *ce = col >= 0 ? scols_line_get_cell(ln, (size_t)col) : NULL;
	return ce ? scols_cell_get_data(ce) : NULL;
}

/* ---- vGPUs by parent, type, origin and state ------------------------------------- */

struct group {
	char *key;      /* the label text, also the sort key */
	unsigned count;
};

static int group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

static int count_group(struct group **groups, size_t *n, char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*groups)[i].key, key)) {
			(*groups)[i].count++;
			free(key);
			return 0;
		}
	struct group *ng = realloc(*groups, (*n + 1) * sizeof(**groups));
	if (!ng) {
		free(key);
		return -ENOMEM;
	}
	*groups = ng;
	ng[(*n)++] = (struct group){ .key = key, .count = 1 };
	return 0;
}

/* A vGPU's state in one word: held by a domain, idle, or (a boot vGPU of the
 * configuration) not created yet. */
static const char *vgpu_state(const char *owner, const char *state)
{
	if (state && strcmp(state, "active") != 0)
		return state;
	return owner ? "in-use" : "idle";
}

static int print_vgpus(FILE *f, struct libscols_table *tb)
{
	int c_parent = column(tb, "parent"), c_type = column(tb, "type");
	int c_owner = column(tb, "owner"), c_origin = column(tb, "origin");
	int c_state = column(tb, "state");
	struct group *groups = NULL;
	size_t n = 0;
	int r = 0;
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	if (!it)
		return -ENOMEM;
	while (r == 0 && scols_table_next_line(tb, it, &ln) == 0) {
		char *key = NULL;
		size_t size = 0;
		FILE *k = open_memstream(&key, &size);
		if (!k) {
			r = -ENOMEM;
			break;
		}
		const char *origin = cell(ln, c_origin);
		label(k, "parent", cell(ln, c_parent), true);
		label(k, "type", cell(ln, c_type), false);
		/* no ownership record: made outside the hook and gvtgctl */
		label(k, "origin", origin ? origin : "none", false);
		label(k, "state", vgpu_state(cell(ln, c_owner), cell(ln, c_state)), false);
		if (fclose(k) != 0 || !key) {
			free(key);
			r = -ENOMEM;
			break;
		}
		r = count_group(&groups, &n, key);
	}
	scols_free_iter(it);
	if (n > 0)
		qsort(groups, n, sizeof(*groups), group_cmp);
	family(f, "gvtg_vgpus", "vGPUs (mediated devices) by parent, type, origin and state.");
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			fprintf(f, "gvtg_vgpus{%s} %u\n", groups[i].key, groups[i].count);
		free(groups[i].key);
	}
	free(groups);
	return r;
}

static int print_types(FILE *f, struct libscols_table *tb)
{
	int c_parent = column(tb, "parent"), c_type = column(tb, "type");
	int c_avail = column(tb, "available");
	struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
	struct libscols_line *ln;
	if (!it)
		return -ENOMEM;
	family(f, "gvtg_type_available_instances",
	       "vGPUs of a type that can still be created on its parent.");
	while (scols_table_next_line(tb, it, &ln) == 0) {
		const char *type = cell(ln, c_type), *avail = cell(ln, c_avail);
		if (!type || !avail)
			continue; /* a parent without types, or a count the kernel did not give */
		fputs("gvtg_type_available_instances{", f);
		label(f, "parent", cell(ln, c_parent), true);
		label(f, "type", type, false);
		fprintf(f, "} %s\n", avail);
	}
	scols_free_iter(it);
	return 0;
}

/* Removals that timed out (the kernel blocked them): the hook retries them. */
static void print_pending(FILE *f, struct ctl *c)
{
	struct gvtg_record *recs;
	size_t n;
	family(f, "gvtg_records_remove_pending",
	       "vGPUs whose removal timed out and is retried (ownership records).");
	if (gvtg_records_list(c->ctx, &recs, &n) < 0)
		return; /* unreadable: said by the vGPU table already; no figure */
	unsigned pending = 0;
	for (size_t i = 0; i < n; i++)
		pending += recs[i].remove_pending;
	gvtg_records_free(recs, n);
	fprintf(f, "gvtg_records_remove_pending %u\n", pending);
}

/* ---- gvtgctl check, counted by id and result --------------------------------------- */

struct check_count {
	const char *id;
	unsigned n[4];
};

struct checks {
	struct check_count *v;
	size_t n;
	bool fail;
	int err;
};

static void count_check(void *userdata, const char *id, enum ctl_check_status st)
{
	struct checks *cs = userdata;
	cs->fail = cs->fail || st == CTL_CHECK_FAIL;
	for (size_t i = 0; i < cs->n; i++)
		if (!strcmp(cs->v[i].id, id)) {
			cs->v[i].n[st]++;
			return;
		}
	struct check_count *nv = realloc(cs->v, (cs->n + 1) * sizeof(*nv));
	if (!nv) {
		cs->err = -ENOMEM;
		return;
	}
	cs->v = nv;
	nv[cs->n++] = (struct check_count){ .id = id };
	nv[cs->n - 1].n[st] = 1;
}

static int print_checks(FILE *f, struct ctl *c)
{
	struct checks cs = { 0 };
	int r = ctl_check_each(c, count_check, &cs);
	if (r == 0)
		r = cs.err;
	family(f, "gvtg_check_results", "Result lines of gvtgctl check, by check id and result.");
	for (size_t i = 0; i < cs.n && r == 0; i++)
		for (size_t st = 0; st < 4; st++) {
			fputs("gvtg_check_results{", f);
			label(f, "id", cs.v[i].id, true);
			label(f, "result", result_names[st], false);
			fprintf(f, "} %u\n", cs.v[i].n[st]);
		}
	family(f, "gvtg_check_ready", "1 when gvtgctl check finds nothing failed, else 0.");
	if (r == 0)
		fprintf(f, "gvtg_check_ready %d\n", cs.fail ? 0 : 1);
	free(cs.v);
	return r;
}

/* ---- output ------------------------------------------------------------------------ */

static int write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	/* not *.prom: the collector ignores it while it is written */
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	if (fd < 0)
		return -errno;
	int r = 0;
	for (size_t done = 0; done < len && r == 0;) {
		ssize_t k = write(fd, text + done, len - done);
		if (k < 0 && errno != EINTR)
			r = -errno;
		else if (k > 0)
			done += (size_t)k;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int gather(struct ctl *c, FILE *f)
{
	struct libscols_table *types, *vgpus;
	bool json = c->json;
	c->json = true; /* the tables' machine words: "not-created", empty cells NULL */
	int r = ctl_list_tables(c, &types, &vgpus);
	c->json = json;
	if (r < 0)
		return r;
	r = print_vgpus(f, vgpus);
	if (r == 0)
		r = print_types(f, types);
	scols_unref_table(types);
	scols_unref_table(vgpus);
	if (r == 0)
		print_pending(f, c);
	if (r == 0)
		r = print_checks(f, c);
	fputs("# EOF\n", f);
	return r;
}

static int cmd_metrics(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ 0 },
	};
	const char *output = NULL;
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0)
		if (opt == OPT_OUTPUT)
			output = optarg;
	if (opt == 0)
		return exit_code;
	if (optind < argc)
		return ctl_usage_error("metrics takes no arguments, not '%s'", argv[optind]);
	if (output && !*output)
		return ctl_usage_error("--output needs a file");
	if (ctl_open(c) < 0)
		return CTL_EXIT_FAILURE;

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		ctl_error("gathering the metrics: %s", strerror(ENOMEM));
		return CTL_EXIT_FAILURE;
	}
	int r = gather(c, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		/* the tables said what failed; nothing half written */
		if (r == -ENOMEM)
			ctl_error("gathering the metrics: %s", strerror(ENOMEM));
		free(text);
		return CTL_EXIT_FAILURE;
	}
	if (output) {
		r = write_atomic(output, text, len);
		free(text);
		if (r < 0) {
			ctl_error("writing the metrics, %s: %s. Check that its directory exists "
				  "and is writable", output, strerror(-r));
			return CTL_EXIT_FAILURE;
		}
		return CTL_EXIT_OK;
	}
	bool ok = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 && !ferror(stdout);
	free(text);
	if (!ok) {
		ctl_error("printing the metrics, stdout: %s. Check where the output goes",
			  strerror(EIO));
		return CTL_EXIT_FAILURE;
	}
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_metrics = {
	.name = "metrics",
	.fn = cmd_metrics,
	.synopsis = "metrics [--output FILE]",
	.summary = "vGPUs, free instances and check results for Prometheus",
	.description =
		"Print OpenMetrics text for Prometheus' node_exporter textfile collector: the vGPUs\n"
		"by parent, type, origin and state, the instances left per type, the removals\n"
		"pending, and gvtgctl check's results by id. gvtg-metrics.timer runs this.",
	.options = "  --output FILE     write FILE atomically instead of stdout (a path on this\n"
		   "                    system, not under --root)\n",
};
