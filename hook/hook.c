/* SPDX-License-Identifier: MIT */
/*
 * The libvirt qemu hook, the adapter between libvirt and the library's lifecycle:
 * argv, the domain XML read by main.c, exit codes, stderr and syslog.  The policy
 * (lib/acquire.c, lib/release.c) and the words of every message (lib/diag.c) are the library's.
 * main.c decides quickly whether an operation needs any of this.
 *
 *   prepare begin    gvtg_acquire(): every mdev vGPU of the domain, all or none
 *   release end      gvtg_release(): every record that names the domain's UUID, even
 *                    with an unreadable configuration (then with the defaults)
 *   reconnect begin  gvtg_reconnect(): restore missing records; always exit 0 (non-zero
 *                    kills the VM)
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "gvtg.h"
#include "hook.h"

struct hook {
	struct gvtg_ctx *ctx;
	FILE *err;
	const char *domain_arg;
	bool use_syslog;
};

/* A failure or a warning: one line on stderr (libvirt shows it in virsh's error) and
 * the same in syslog; what was done: syslog only, since libvirt drops a successful
 * hook's stderr.  The words are the diagnosis table's. */
static void report(void *userdata, const struct gvtg_diag *d)
{
	struct hook *h = userdata;
	char line[1024];
	gvtg_diag_format(d, line, sizeof(line));
	if (gvtg_cause_row(d->cause)->level == GVTG_DIAG_NOTICE) {
		if (h->use_syslog)
			syslog(LOG_NOTICE, "%s", line);
		return;
	}
	fprintf(h->err, "gvtg-hook: %s\n", line);
	fflush(h->err);
	if (h->use_syslog)
		syslog(LOG_ERR, "%s", line);
}

static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
{
	struct hook *h = userdata;
	if (h->use_syslog && priority <= GVTG_LOG_INFO)
		vsyslog(priority, fmt, ap);
}

/* A diagnosis met before the library's context exists. */
static void report_early(struct hook *h, enum gvtg_cause cause, int err, const char *detail,
			 const char *file)
{
	struct gvtg_diag d;
	gvtg_diag_init(&d, cause == GVTG_CAUSE_ROOT_UNREADABLE ? GVTG_OP_NONE : GVTG_OP_READ_XML,
		       NULL, h->domain_arg);
	d.cause = cause;
	d.err = err;
	snprintf(d.detail, sizeof(d.detail), "%s", detail ? detail : "");
	snprintf(d.file, sizeof(d.file), "%s", file ? file : "");
	report(h, &d);
}

/* ---- entry ------------------------------------------------------------------------ */

enum hook_op gvtg_hook_classify(const char *op, const char *sub)
{
	if (!strcmp(op, "prepare") && !strcmp(sub, "begin"))
		return HOOK_PREPARE;
	if (!strcmp(op, "release") && !strcmp(sub, "end"))
		return HOOK_RELEASE;
	if (!strcmp(op, "reconnect") && !strcmp(sub, "begin"))
		return HOOK_RECONNECT;
	return HOOK_IGNORED;
}

/* The configuration; for release and reconnect, the defaults when it is unreadable or
 * wrong (gvtg-hook.conf(5): running domains are always released). */
static struct gvtg_config *load_config(struct hook *h, enum hook_op op)
{
	struct gvtg_config *cfg = NULL;
	int r = gvtg_config_load(h->ctx, NULL, &cfg);
	if (r >= 0)
		return cfg;
	gvtg_diag_config(h->ctx, cfg, NULL, r, GVTG_OP_CONFIG, h->domain_arg, NULL);
	if (op == HOOK_PREPARE) {
		gvtg_config_free(cfg);
		return NULL;
	}
	if (!cfg && gvtg_config_parse_string("", &cfg) < 0)
		return NULL;
	return cfg;
}

static int run_op(struct hook *h, enum hook_op op, struct gvtg_domain *dom)
{
	const char *root = secure_getenv("GVTG_ROOT");
	int r = gvtg_ctx_new(root, &h->ctx);
	if (r < 0) {
		report_early(h, GVTG_CAUSE_ROOT_UNREADABLE, -r, NULL, root ? root : "/");
		return r;
	}
	gvtg_ctx_set_log_fn(h->ctx, lib_log, h);
	gvtg_ctx_set_report_fn(h->ctx, report, h);

	/* release end: records name the domain, whatever its XML still lists; most
	 * domains have none, and then nothing is read or locked. */
	if (op == HOOK_RELEASE && !gvtg_domain_has_records(h->ctx, dom->uuid) &&
	    dom->n_hostdevs == 0)
		return 0;

	struct gvtg_config *cfg = load_config(h, op);
	if (!cfg)
		return -EBADMSG;
	switch (op) {
	case HOOK_PREPARE:
		r = gvtg_acquire(h->ctx, dom, cfg);
		break;
	case HOOK_RELEASE:
		r = gvtg_release(h->ctx, dom, cfg);
		break;
	case HOOK_RECONNECT:
		r = gvtg_reconnect(h->ctx, dom, cfg);
		break;
	default:
		r = 0;
	}
	gvtg_config_free(cfg);
	return r;
}

int gvtg_hook_run(int argc, char **argv, const char *xml, size_t len, int read_error,
		  FILE *err)
{
	struct hook h = { .err = err, .use_syslog = true };
	if (argc != 5)
		return 2;
	/* Freeing a large DOM leaves millions of chunks in fastbins; the next large
	 * allocation then consolidates them all (a third of the time for 16 MiB). */
	mallopt(M_MXFAST, 0);
	enum hook_op op = gvtg_hook_classify(argv[2], argv[3]);
	h.domain_arg = argv[1];
	if (op == HOOK_IGNORED)
		return 0;
	/* Failing is only allowed to stop a start; after that, exit 0 whatever happens. */
	int fail_code = op == HOOK_PREPARE ? 1 : 0;
	openlog("gvtg-hook", LOG_PID, LOG_DAEMON);

	int r = read_error;
	if (r == -EFBIG) {
		if (op == HOOK_PREPARE) {
			char mib[16];
			snprintf(mib, sizeof(mib), "%zu", GVTG_XML_MAX >> 20);
			report_early(&h, GVTG_CAUSE_INPUT_TOO_LARGE, 0, mib, NULL);
		}
		return fail_code;
	}
	if (r < 0) {
		report_early(&h, GVTG_CAUSE_INPUT_UNREADABLE, -r, NULL, NULL);
		return fail_code;
	}

	struct gvtg_domain *dom = NULL;
	r = gvtg_domain_parse(xml, len, &dom);
	if (r < 0) {
		/* After the start, a document libvirt sent is not ours to judge. */
		if (op == HOOK_PREPARE || r != -EBADMSG) {
			struct gvtg_diag d;
			gvtg_diag_xml(NULL, r, h.domain_arg, &d);
			report(&h, &d);
		}
		return fail_code;
	}
	if (dom->n_hostdevs == 0 && op != HOOK_RELEASE) {
		/* Not our business: no configuration, no lock, no sysfs. */
		gvtg_domain_free(dom);
		return 0;
	}
	if (!dom->name || !*dom->name) {
		free(dom->name);
		dom->name = strdup(h.domain_arg);
	}
	r = run_op(&h, op, dom);
	gvtg_domain_free(dom);
	gvtg_ctx_free(h.ctx);
	closelog();
	return r < 0 ? fail_code : 0;
}
