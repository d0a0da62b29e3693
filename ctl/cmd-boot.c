/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl boot, gvtgctl sleep: vGPUs that live outside any domain's start and stop.
 *
 *   boot          create the vGPUs the configuration marks boot = yes (origin "boot");
 *                 those whose parent has not registered yet wait for the next run
 *   boot --stop   remove the boot vGPUs that no domain holds (for ExecStop=)
 *   sleep pre     before a host suspend, remove the idle vGPUs and remember them
 *   sleep post    after resume, create them again
 *
 * The suspend pair runs only with [sleep] remove_idle = yes: some hosts hang in suspend
 * while a vGPU exists.  Only vGPUs with an ownership record that says no domain holds
 * them are removed: a vGPU without a record may belong to a VM started outside the hook,
 * and removing a vGPU QEMU holds blocks in the kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

enum {
	OPT_STOP = OPT_FIRST_COMMAND_OPTION,
};

static int boot_start(struct ctl *c)
{
	const char *what = "creating boot vGPU";
	int ret = CTL_EXIT_OK;
	for (size_t i = 0; i < c->cfg->n_devices; i++) {
		const struct gvtg_config_device *d = &c->cfg->devices[i];
		if (!d->boot)
			continue;
		struct gvtg_device dev;
		if (gvtg_device_get(c->ctx, d->uuid, &dev) >= 0) {
			/* Made earlier (a second run, or by hand): leave it as it is. */
			gvtg_device_clear(&dev);
			continue;
		}
		struct gvtg_placement p = { 0 };
		int r = gvtg_placement_resolve(c->ctx, NULL, c->cfg, d->uuid, &p);
		if (r == -ENXIO || r == -ENOENT) {
			/* The udev rule runs this again when its parent registers. */
			printf("skipped boot vGPU %s: parent %s is not registered yet\n", d->uuid,
			       p.parent ? p.parent : "(any)");
			gvtg_placement_clear(&p);
			continue;
		}
		gvtg_placement_clear(&p);
		if (ctl_resolve(c, what, d->uuid, NULL, NULL, &p) < 0) {
			ret = CTL_EXIT_FAILURE;
			continue;
		}
		if (ctl_create_vgpu(c, what, d->uuid, p.parent, p.type, GVTG_ORIGIN_BOOT) < 0)
			ret = CTL_EXIT_FAILURE;
		else
			printf("created boot vGPU %s (%s %s)\n", d->uuid, p.parent, p.type);
		gvtg_placement_clear(&p);
	}
	return ret;
}

static int record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gvtg_record *)a)->uuid, ((const struct gvtg_record *)b)->uuid);
}

static int boot_stop(struct ctl *c)
{
	const char *what = "removing boot vGPU";
	struct gvtg_record *recs;
	size_t n;
	int r = gvtg_records_list(c->ctx, &recs, &n);
	if (r < 0) {
		ctl_error("%s, /%s: reading the ownership records: %s. Check the directory", what,
			  gvtg_state_dir(), strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	if (n > 1)
		qsort(recs, n, sizeof(*recs), record_cmp); /* a stable order for the output */
	int ret = CTL_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		const struct gvtg_record *rec = &recs[i];
		if (rec->origin != GVTG_ORIGIN_BOOT)
			continue;
		if (gvtg_record_in_use(rec)) {
			printf("kept boot vGPU %s: domain '%s' holds it\n", rec->uuid,
			       rec->domain_name ? rec->domain_name : rec->domain_uuid);
			continue;
		}
		if (ctl_remove_vgpu(c, what, rec->uuid, true) < 0)
			ret = CTL_EXIT_FAILURE;
		else
			printf("removed boot vGPU %s\n", rec->uuid);
	}
	gvtg_records_free(recs, n);
	return ret;
}

int cmd_boot(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "stop", no_argument, NULL, OPT_STOP },
		{ 0 },
	};
	bool stop = false;
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, NULL, &exit_code)) > 0)
		if (opt == OPT_STOP)
			stop = true;
	if (opt == 0)
		return exit_code;
	if (optind < argc)
		return ctl_usage_error("boot takes no arguments, not '%s'", argv[optind]);
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;
	int lock = ctl_lock(c, stop ? "removing boot vGPUs" : "creating boot vGPUs");
	if (lock < 0)
		return CTL_EXIT_FAILURE;
	int ret = stop ? boot_stop(c) : boot_start(c);
	gvtg_lock_release(lock);
	if (fflush(stdout) != 0)
		ret = CTL_EXIT_FAILURE;
	return ret;
}

/* ---- sleep ---------------------------------------------------------------------------- */

static bool listed(const struct gvtg_sleep_entry *v, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].uuid, uuid))
			return true;
	return false;
}

static int sleep_pre(struct ctl *c)
{
	const char *what = "removing idle vGPU before suspend";
	struct gvtg_sleep_entry *list;
	size_t n_list;
	int r = gvtg_sleep_list_read(c->ctx, &list, &n_list);
	if (r < 0) {
		ctl_error("%s, /%s/sleep: %s. Delete the file", what, gvtg_state_dir(),
			  strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	struct gvtg_device *devs;
	size_t n_devs;
	r = gvtg_devices_list(c->ctx, &devs, &n_devs);
	if (r < 0) {
		gvtg_sleep_entries_free(list, n_list);
		ctl_error("%s, /sys/bus/mdev/devices: %s", what, strerror(-r));
		return CTL_EXIT_FAILURE;
	}

	/* Entries of an earlier 'pre' without its 'post' stay; add the idle vGPUs. */
	size_t first_new = n_list;
	struct gvtg_sleep_entry *nv = realloc(list, (n_list + n_devs + 1) * sizeof(*list));
	if (!nv) {
		gvtg_sleep_entries_free(list, n_list);
		gvtg_devices_free(devs, n_devs);
		ctl_error("%s: %s", what, strerror(ENOMEM));
		return CTL_EXIT_FAILURE;
	}
	list = nv;
	for (size_t i = 0; i < n_devs; i++) {
		const struct gvtg_device *d = &devs[i];
		struct gvtg_record rec;
		if (!d->parent || !d->type || listed(list, n_list, d->uuid))
			continue;
		if (gvtg_record_read(c->ctx, d->uuid, &rec) < 0)
			continue; /* not ours to judge */
		bool idle = !gvtg_record_in_use(&rec) && !rec.remove_pending;
		gvtg_record_clear(&rec);
		if (!idle)
			continue;
		struct gvtg_sleep_entry *e = &list[n_list];
		memcpy(e->uuid, d->uuid, sizeof(e->uuid));
		e->parent = strdup(d->parent);
		e->type = strdup(d->type);
		if (!e->parent || !e->type) {
			free(e->parent);
			free(e->type);
			break;
		}
		n_list++;
	}
	gvtg_devices_free(devs, n_devs);

	int ret = CTL_EXIT_OK;
	/* Remember first: whatever happens next, 'post' knows what to bring back. */
	r = gvtg_sleep_list_write(c->ctx, list, n_list);
	if (r < 0) {
		ctl_error("%s, /%s/sleep: writing the list: %s. Nothing was removed", what,
			  gvtg_state_dir(), strerror(-r));
		ret = CTL_EXIT_FAILURE;
	} else {
		for (size_t i = first_new; i < n_list; i++) {
			/* The record stays: the vGPU comes back as it was. */
			int timeout = c->cfg->remove_timeout_ms;
			r = gvtg_mdev_remove_bounded(c->ctx, list[i].uuid, timeout);
			if (r < 0 && r != -ENOENT) {
				ctl_error("%s, %s: %s. Suspend may hang while it exists", what,
					  list[i].uuid, strerror(-r));
				ret = CTL_EXIT_FAILURE;
			} else {
				printf("removed idle vGPU %s for suspend\n", list[i].uuid);
			}
		}
	}
	gvtg_sleep_entries_free(list, n_list);
	return ret;
}

static int sleep_post(struct ctl *c)
{
	const char *what = "creating vGPU again after resume";
	struct gvtg_sleep_entry *list;
	size_t n;
	int r = gvtg_sleep_list_read(c->ctx, &list, &n);
	if (r < 0) {
		ctl_error("%s, /%s/sleep: %s. Create the vGPUs with 'gvtgctl create', then "
			  "delete the file",
			  what, gvtg_state_dir(), strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	int ret = CTL_EXIT_OK;
	size_t left = 0; /* failed entries move to the front, for another 'post' */
	for (size_t i = 0; i < n; i++) {
		struct gvtg_sleep_entry *e = &list[i];
		struct gvtg_device dev;
		if (gvtg_device_get(c->ctx, e->uuid, &dev) >= 0) {
			gvtg_device_clear(&dev);
			r = 0;
		} else {
			r = gvtg_mdev_create(c->ctx, e->parent, e->type, e->uuid);
			if (r == -EEXIST)
				r = 0;
			if (r < 0)
				ctl_error("%s, %s: on %s type %s: %s. Run 'gvtgctl sleep post' "
					  "again once %s is back",
					  what, e->uuid, e->parent, e->type, strerror(-r), e->parent);
			else
				printf("created vGPU %s again after resume\n", e->uuid);
		}
		if (r < 0) {
			ret = CTL_EXIT_FAILURE;
			struct gvtg_sleep_entry tmp = list[left];
			list[left++] = *e;
			*e = tmp;
		}
	}
	r = gvtg_sleep_list_write(c->ctx, list, left);
	if (r < 0) {
		ctl_error("%s, /%s/sleep: updating the list: %s. Delete the file", what,
			  gvtg_state_dir(), strerror(-r));
		ret = CTL_EXIT_FAILURE;
	}
	gvtg_sleep_entries_free(list, n);
	return ret;
}

int cmd_sleep(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = { CTL_COMMON_OPTIONS, { 0 } };
	int exit_code;
	if (ctl_next_option(c, argc, argv, "", options, NULL, &exit_code) == 0)
		return exit_code;
	if (argc - optind != 1 || (strcmp(argv[optind], "pre") && strcmp(argv[optind], "post")))
		return ctl_usage_error("sleep takes 'pre' or 'post'");
	bool pre = !strcmp(argv[optind], "pre");
	if (ctl_open_config(c) < 0)
		return CTL_EXIT_FAILURE;
	if (!c->cfg->sleep_remove)
		return CTL_EXIT_OK; /* [sleep] remove_idle is off: nothing to do */
	int lock = ctl_lock(c, pre ? "removing idle vGPUs before suspend"
				   : "creating vGPUs again after resume");
	if (lock < 0)
		return CTL_EXIT_FAILURE;
	int ret = pre ? sleep_pre(c) : sleep_post(c);
	gvtg_lock_release(lock);
	if (fflush(stdout) != 0)
		ret = CTL_EXIT_FAILURE;
	return ret;
}
