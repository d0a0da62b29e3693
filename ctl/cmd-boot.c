/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl boot, gvtgctl sleep: vGPUs that live outside any domain's start and stop.
 *
 *   boot          create the vGPUs the configuration marks boot = yes (origin "boot");
 *                 those whose parent has not registered yet wait for the next run.  All
 *                 or nothing: when one fails, the ones this run made are removed again
 *                 and the run fails, so a failed unit (whose ExecStop never runs) leaves
 *                 nothing behind
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
	return finish(stop ? gvtg_boot_stop(c->ctx, c->cfg) : gvtg_boot_start(c->ctx, c->cfg));
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
	if (!c->cfg->sleep_remove) {
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
