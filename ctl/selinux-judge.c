/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check under SELinux: the verdict on one hook, from the policy's answers (see
 * selinux-judge.h).  The reference policy's virtd_t (Debian) is confined: it executes
 * bin_t but nothing under /etc/libvirt/hooks, and the hook must enter gvtg_hook_t (the
 * gvtg_hook module) to manage /run/gvtg-hook.  Fedora's virtd_t is unconfined.  Nothing
 * here knows which policy it is: every answer comes from the loaded one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-selinux.h"

#define HOOK_TYPE "gvtg_hook_t"
#define HOOK_EXEC_TYPE "gvtg_hook_exec_t"
/* Lines longer than these are cut: contexts and paths that long do not occur. */
#define LINE 1536

/* The type field of a context (user:role:type[:level]) into buf; "" when malformed. */
static const char *type_of(const char *con, char *buf, size_t size)
{
	const char *p = con ? strchr(con, ':') : NULL;
	p = p ? strchr(p + 1, ':') : NULL;
	if (!p) {
		buf[0] = '\0';
		return buf;
	}
	p++;
	size_t n = strcspn(p, ":");
	snprintf(buf, size, "%.*s", (int)n, p);
	return buf;
}

/* con with its type replaced by type, into buf. */
static void with_type(const char *con, const char *type, char *buf, size_t size)
{
	const char *p = strchr(con, ':');
	p = p ? strchr(p + 1, ':') : NULL;
	if (!p) {
		snprintf(buf, size, "%s", con);
		return;
	}
	const char *rest = p + 1 + strcspn(p + 1, ":");
	snprintf(buf, size, "%.*s%s%s", (int)(p + 1 - con), con, type, rest);
}

/* Does the policy's file context for path name another type than label does? */
static bool mislabelled(const struct selinux_ops *ops, const char *path, const char *label,
                        char *want, size_t size)
{
	char *def = NULL;
	if (ops->default_label(ops->data, path, &def) < 0 || !def)
		return false;
	char t1[256], t2[256];
	bool differs = strcmp(type_of(def, t1, sizeof(t1)), type_of(label, t2, sizeof(t2))) != 0;
	snprintf(want, size, "%s", t1);
	free(def);
	return differs;
}

/* What makes the daemon run the hook as gvtg_hook_t: the install layout, the module,
 * or the file's label. */
static void hook_fix(const struct selinux_ops *ops, const struct selinux_hook *h,
                     char *fix, size_t size)
{
	char want[256], hook_con[512];
	size_t dl = strlen(GVTG_HOOKS_DIR);
	with_type(h->dcon, HOOK_TYPE, hook_con, sizeof(hook_con));
	if (!strncmp(h->path, GVTG_HOOKS_DIR "/", dl + 1))
		snprintf(fix, size,
		         "install the hook as /usr/sbin/gvtg-hook linked from qemu.d (the "
		         "packages, or meson setup --prefix=/usr): the policy runs nothing under "
		         "%s as the hook, so meson -Dhook_layout=hooks_dir does not work "
		         "under SELinux; then load the gvtg_hook module",
		         GVTG_HOOKS_DIR);
	else if (!ops->valid(ops->data, hook_con))
		snprintf(fix, size,
		         "load the gvtg_hook policy module (contrib/selinux: make -f "
		         "/usr/share/selinux/devel/Makefile gvtg_hook.pp && semodule -i "
		         "gvtg_hook.pp), then restorecon -v %s",
		         h->path);
	else if (h->label && mislabelled(ops, h->path, h->label, want, sizeof(want)))
		snprintf(fix, size, "restorecon -v %s (the policy labels it %s)", h->path, want);
	else
		snprintf(fix, size,
		         "label it " HOOK_EXEC_TYPE ": semanage fcontext -a -t " HOOK_EXEC_TYPE
		         " %s && restorecon -v %s",
		         h->path, h->path);
}

/* 1 when con may write the state directory (add records, take the lock), 0 when not,
 * -errno when the policy cannot say; *ret_permissive as may() says. */
static int may_write_state(const struct selinux_ops *ops, const struct selinux_hook *h,
                           const char *con, bool *ret_permissive)
{
	static const char *const asks[][2] = {
		{"dir", "write"}, {"dir", "add_name"}, {"file", "create"}, {"file", "lock"},
	};
	*ret_permissive = false;
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		bool perm = false;
		int r = ops->may(ops->data, con, h->state_label, asks[i][0], asks[i][1], &perm);
		if (r <= 0) {
			*ret_permissive = perm;
			return r;
		}
	}
	return 1;
}

/* The hook runs as runs: may it write its state directory?  Reports only a refusal;
 * true when there is one. */
static bool state_refused(const struct selinux_ops *ops, const struct selinux_hook *h,
                          const char *runs, mac_report_fn report, void *data)
{
	if (!h->state_label)
		return false;
	bool perm;
	if (may_write_state(ops, h, runs, &perm) != 0)
		return false;
	char what[LINE], fix[LINE], want[256], rt[256], st[256];
	if (mislabelled(ops, h->state_dir, h->state_label, want, sizeof(want)))
		snprintf(fix, sizeof(fix), "restorecon -Rv %s (the policy labels it %s)",
		         h->state_dir, want);
	else
		hook_fix(ops, h, fix, sizeof(fix));
	snprintf(what, sizeof(what),
	         "%s runs hook %s as %s, which may not write its state directory %s (%s): "
	         "every hook call fails, with or without a vGPU%s",
	         h->daemon, h->shown, type_of(runs, rt, sizeof(rt)), h->state_dir,
	         type_of(h->state_label, st, sizeof(st)),
	         ops->enforcing && !perm ? "" : " (only logged: permissive)");
	report(data, ops->enforcing && !perm ? MAC_FAIL : MAC_WARN, fix, what);
	return true;
}

void selinux_judge_hook(const struct selinux_ops *ops, const struct selinux_hook *h,
                        mac_report_fn report, void *data)
{
	char what[LINE], fix[LINE], lt[256], dt[256], rt[256];
	if (!h->label) {
		snprintf(fix, sizeof(fix), "restorecon -v %s", h->path);
		snprintf(what, sizeof(what), "hook %s has no SELinux label that can be read",
		         h->shown);
		report(data, MAC_WARN, fix, what);
		return;
	}
	type_of(h->label, lt, sizeof(lt));
	type_of(h->dcon, dt, sizeof(dt));
	bool perm = false;
	int r = ops->may(ops->data, h->dcon, h->label, "file", "execute", &perm);
	if (r < 0) {
		snprintf(what, sizeof(what),
		         "cannot ask the SELinux policy whether %s (%s) may execute hook %s "
		         "(%s): %s",
		         h->daemon, dt, h->shown, lt, strerror(-r));
		report(data, MAC_INFO, NULL, what);
		return;
	}
	if (r == 0) {
		hook_fix(ops, h, fix, sizeof(fix));
		snprintf(what, sizeof(what),
		         "%s (pid %ld, SELinux %s) may not execute hook %s (%s): every VM "
		         "start fails with 'Permission denied'%s",
		         h->daemon, h->pid, dt, h->shown, lt,
		         ops->enforcing && !perm ? "" : " (only logged: permissive)");
		report(data, ops->enforcing && !perm ? MAC_FAIL : MAC_WARN, fix, what);
		return;
	}
	char *runs = NULL;
	r = ops->exec_context(ops->data, h->dcon, h->label, &runs);
	if (r < 0 || !runs) {
		snprintf(what, sizeof(what),
		         "cannot ask the SELinux policy which domain %s (%s) runs hook %s "
		         "(%s) in: %s",
		         h->daemon, dt, h->shown, lt, strerror(r < 0 ? -r : EINVAL));
		report(data, MAC_INFO, NULL, what);
		return;
	}
	type_of(runs, rt, sizeof(rt));
	if (!state_refused(ops, h, runs, report, data)) {
		if (!strcmp(rt, HOOK_TYPE)) {
			snprintf(what, sizeof(what),
			         "%s (SELinux %s) executes hook %s (%s) and runs it as %s",
			         h->daemon, dt, h->shown, lt, rt);
			report(data, MAC_PASS, NULL, what);
		} else {
			hook_fix(ops, h, fix, sizeof(fix));
			snprintf(what, sizeof(what),
			         "%s runs hook %s (%s) in its own domain %s, not " HOOK_TYPE
			         ": the gvtg_hook module's rules do not apply",
			         h->daemon, h->shown, lt, rt);
			report(data, MAC_WARN, fix, what);
		}
	}
	free(runs);
}
