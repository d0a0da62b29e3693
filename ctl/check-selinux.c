/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check under SELinux: the facts from this host (the daemon's context, each
 * hook's label, the state directory's label) and the loaded policy's answers through
 * libselinux; selinux-judge.c gives the verdict.  The policy is the running kernel's, so
 * this runs only on the real root: under --root (a test's fake tree) it says nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_SELINUX
#include <selinux/label.h>
#include <selinux/selinux.h>
#endif

#include "check-selinux.h"
#include "ctl.h"

static bool real_root(const struct ctl *c)
{
	return !c->root || !strcmp(c->root, "/");
}

#ifdef HAVE_SELINUX

struct host {
	struct selabel_handle *labels; /* opened on first use */
};

static int host_may(void *data, const char *scon, const char *tcon, const char *cls,
                    const char *perm, bool *ret_permissive)
{
	(void)data;
	security_class_t tclass = string_to_security_class(cls);
	access_vector_t av = tclass ? string_to_av_perm(tclass, perm) : 0;
	if (!av)
		return -EINVAL;
	struct av_decision avd;
	if (security_compute_av(scon, tcon, tclass, av, &avd) < 0)
		return errno ? -errno : -EINVAL;
	*ret_permissive = (avd.flags & SELINUX_AVD_FLAGS_PERMISSIVE) != 0;
	return (avd.allowed & av) == av;
}

static int host_exec_context(void *data, const char *scon, const char *tcon, char **ret)
{
	(void)data;
	security_class_t process = string_to_security_class("process");
	char *con = NULL;
	if (!process)
		return -EINVAL;
	if (security_compute_create(scon, tcon, process, &con) < 0)
		return errno ? -errno : -EINVAL;
	*ret = strdup(con);
	freecon(con);
	return *ret ? 0 : -ENOMEM;
}

static int host_default_label(void *data, const char *path, char **ret)
{
	struct host *h = data;
	if (!h->labels)
		h->labels = selabel_open(SELABEL_CTX_FILE, NULL, 0);
	char *con = NULL;
	if (!h->labels)
		return errno ? -errno : -ENOENT;
	if (selabel_lookup(h->labels, &con, path, 0) < 0)
		return errno ? -errno : -ENOENT;
	*ret = strdup(con);
	freecon(con);
	return *ret ? 0 : -ENOMEM;
}

static bool host_valid(void *data, const char *con)
{
	(void)data;
	return security_check_context(con) == 0;
}

/* The label of path on this host, malloc'd; NULL when it cannot be read. */
static char *file_label(const char *path)
{
	char *con = NULL;
	if (getfilecon(path, &con) < 0)
		return NULL;
	char *s = strdup(con);
	freecon(con);
	return s;
}

static void check_daemon(struct ctl *c, const struct selinux_ops *ops, const char *daemon,
                         long pid, const char *dcon, mac_report_fn report, void *data)
{
	char state_dir[PATH_MAX];
	snprintf(state_dir, sizeof(state_dir), "/%s", gvtg_state_dir());
	char *state_label = file_label(state_dir);
	char hooks[64][PATH_MAX];
	size_t n = mac_list_hooks(c, hooks, 64);
	for (size_t i = 0; i < n; i++) {
		char real[PATH_MAX];
		if (mac_resolve(c, hooks[i], real, sizeof(real)) < 0)
			continue; /* a dangling link: check_hook reports it */
		char shown[2 * PATH_MAX + 8];
		if (strcmp(real, hooks[i]) != 0)
			snprintf(shown, sizeof(shown), "%s (-> %s)", hooks[i], real);
		else
			snprintf(shown, sizeof(shown), "%s", hooks[i]);
		char *label = file_label(real);
		const struct selinux_hook h = {
			.daemon = daemon, .pid = pid, .dcon = dcon, .shown = shown,
			.path = real, .label = label, .state_dir = state_dir,
			.state_label = state_label,
		};
		selinux_judge_hook(ops, &h, report, data);
		free(label);
	}
	free(state_label);
}

void check_selinux(struct ctl *c, mac_report_fn report, void *data)
{
	if (!real_root(c) || is_selinux_enabled() != 1)
		return;
	struct host host = {0};
	const struct selinux_ops ops = {
		.data = &host,
		.may = host_may,
		.exec_context = host_exec_context,
		.default_label = host_default_label,
		.valid = host_valid,
		.enforcing = security_getenforce() == 1,
	};
	static const char *const daemons[] = {"libvirtd", "virtqemud"};
	for (size_t i = 0; i < 2; i++) {
		long pid;
		char *dcon = NULL;
		if (mac_daemon_pid(c, daemons[i], &pid) < 0)
			continue;
		if (getpidcon((pid_t)pid, &dcon) < 0) {
			char what[256];
			snprintf(what, sizeof(what),
			         "%s (pid %ld): its SELinux context cannot be read: %s",
			         daemons[i], pid, strerror(errno));
			report(data, MAC_INFO, NULL, what);
			continue;
		}
		check_daemon(c, &ops, daemons[i], pid, dcon, report, data);
		freecon(dcon);
	}
	if (host.labels)
		selabel_close(host.labels);
}

#else /* !HAVE_SELINUX */

void check_selinux(struct ctl *c, mac_report_fn report, void *data)
{
	if (real_root(c) && access("/sys/fs/selinux/enforce", F_OK) == 0)
		report(data, MAC_INFO,
		       "build gvtgctl with libselinux (libselinux1-dev, libselinux-devel)",
		       "SELinux is enabled but this gvtgctl was built without libselinux: "
		       "whether the policy lets the daemon run the hook is not checked");
}

#endif
