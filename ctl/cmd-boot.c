/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl boot, gvtgctl sleep: vGPUs that live outside any domain's start and stop.
 *
 *   boot          create the vGPUs the configuration marks boot = yes (origin "boot");
 *                 those whose parent has not registered yet wait for the next run.  All
 *                 or nothing: when one fails, the ones this run made are removed again
 *                 and the run fails, so a failed unit (whose ExecStop never runs) leaves
 *                 nothing behind.  The same when systemd stops the run (SIGTERM, its
 *                 time limit) or an admin interrupts it (SIGINT)
 *   boot --stop   remove the boot vGPUs that no domain and no process holds (for
 *                 ExecStop=), and drop the records of vGPUs that are gone
 *   sleep pre     before a host suspend, remove the idle vGPUs and remember them
 *   sleep post    after resume, create them again
 *
 * The suspend pair runs only with [sleep] remove_idle = yes: some hosts hang in suspend
 * while a vGPU exists.  Only vGPUs with an ownership record that says no domain holds
 * them, and that no process has open, are removed: a vGPU without a record may belong to
 * a VM started outside the hook, and removing a vGPU QEMU holds blocks in the kernel.
 * The policy is the library's (lib/boot.c); this file is the command line.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum {
	OPT_STOP = OPT_FIRST_COMMAND_OPTION,
};

static int finish(int r)
{
	if (fflush(stdout) != 0)
		return CTL_EXIT_FAILURE;
	return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

static volatile sig_atomic_t stopped_by;

static void on_stop_signal(int sig)
{
	stopped_by = sig;
}

static bool listed(const struct gvtg_record *recs, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(recs[i].uuid, uuid))
			return true;
	return false;
}

/* gvtgctl boot, undone when a signal asks it to stop: the run goes on to its end (every
 * wait in it is bounded; a create half done is never left so), then the boot vGPUs whose
 * records it wrote are removed through the removal gvtgctl remove uses, which never
 * touches one a domain or a process holds. */
static int boot_start(struct ctl *c)
{
	struct gvtg_record *before = NULL, *after = NULL;
	size_t n_before = 0, n_after = 0;
	if (gvtg_records_list(c->ctx, &before, &n_before) < 0)
		n_before = 0;
	struct sigaction sa = { .sa_handler = on_stop_signal }, old_term, old_int;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	int r = gvtg_boot_start(c->ctx, c->cfg);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	if (stopped_by) {
		size_t undone = 0;
		if (gvtg_records_list(c->ctx, &after, &n_after) >= 0)
			for (size_t i = 0; i < n_after; i++)
				if (after[i].origin == GVTG_ORIGIN_BOOT &&
				    !listed(before, n_before, after[i].uuid) &&
				    gvtg_vgpu_remove(c->ctx, c->cfg, after[i].uuid, 0) >= 0)
					undone++;
		ctl_error("boot: stopped by %s: removed the %zu boot vGPU%s this run made",
			  stopped_by == SIGTERM ? "SIGTERM" : "SIGINT", undone,
			  undone == 1 ? "" : "s");
		r = -EINTR;
	}
	gvtg_records_free(before, n_before);
	gvtg_records_free(after, n_after);
	return r;
}

static int cmd_boot(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "stop", no_argument, NULL, OPT_STOP },
		{ 0 },
	};
	bool stop = false;
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0)
		if (opt == OPT_STOP)
			stop = true;
	if (opt == 0)
		return exit_code;
	if (optind < argc)
		return ctl_usage_error("boot takes no arguments, not '%s'", argv[optind]);
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;
	c->notices_to_stdout = true;
	return finish(stop ? gvtg_boot_stop(c->ctx, c->cfg) : boot_start(c));
}

static int cmd_sleep(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS, { 0 } };
	int exit_code;
	if (ctl_next_option(c, argc, argv, "", options, &exit_code) == 0)
		return exit_code;
	if (argc - optind != 1 || (strcmp(argv[optind], "pre") && strcmp(argv[optind], "post")))
		return ctl_usage_error("sleep takes 'pre' or 'post'");
	bool pre = !strcmp(argv[optind], "pre");
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;
	c->notices_to_stdout = true;
	/* With remove_idle off, 'post' still brings back what an earlier 'pre' removed (the
	 * setting changed in between): only an empty list leaves nothing to do. */
	bool listed_any = false;
	if (!c->cfg->sleep_remove && !pre) {
		struct gvtg_sleep_entry *pending;
		size_t n_pending, n_bad;
		int bad_line;
		int r = gvtg_sleep_list_read(c->ctx, &pending, &n_pending, &bad_line, &n_bad);
		listed_any = r < 0 || n_pending > 0 || n_bad > 0; /* post says what is wrong */
		gvtg_sleep_entries_free(pending, n_pending);
	}
	if (!c->cfg->sleep_remove && !listed_any) {
		struct gvtg_diag d;
		gvtg_diag_init(&d, GVTG_OP_NONE, NULL, NULL);
		snprintf(d.detail, sizeof(d.detail), "sleep %s: [sleep] remove_idle is off",
			 pre ? "pre" : "post");
		ctl_report(c, &d, GVTG_CAUSE_DONE_NOTHING);
		return finish(0);
	}
	return finish(pre ? gvtg_sleep_pre(c->ctx, c->cfg) : gvtg_sleep_post(c->ctx, c->cfg));
}

const struct ctl_command ctl_cmd_boot = {
	.name = "boot",
	.fn = cmd_boot,
	.synopsis = "boot [--stop]",
	.summary = "create (remove) the boot vGPUs of the configuration",
	.description =
		"Create the vGPUs the configuration marks 'boot = yes' (gvtg-boot.service runs\n"
		"this at boot).",
	.options = "  --stop            remove the boot vGPUs no running domain holds\n",
};

const struct ctl_command ctl_cmd_sleep = {
	.name = "sleep",
	.fn = cmd_sleep,
	.synopsis = "sleep pre|post",
	.summary = "remove idle vGPUs before a host suspend, create them after",
	.description =
		"With remove_idle = yes in [sleep]: 'pre' removes the vGPUs no domain holds and\n"
		"remembers them, 'post' creates them again (the system-sleep hook runs this).",
};
