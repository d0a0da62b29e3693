/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check under SELinux: may each running libvirt daemon execute the hooks, and
 * does it run them as gvtg_hook_t?  The verdict on one hook comes from the
 * loaded policy's answers.  The policy is asked through selinux_ops (libselinux in
 * check-selinux.c, a table in the tests), so the verdict is tested without SELinux.
 */
#pragma once

#include <stdbool.h>

#include "check-mac.h"

struct selinux_ops {
	void *data;
	/* May a process of scon do perm on an object of tcon and class cls?  1 yes, 0 no
	 * (*ret_permissive: scon's domain is permissive, the refusal only logged), -errno. */
	int (*may)(void *data, const char *scon, const char *tcon, const char *cls,
	           const char *perm, bool *ret_permissive);
	/* The context a process of scon runs in after executing a file of tcon (malloc'd
	 * into *ret); -errno. */
	int (*exec_context)(void *data, const char *scon, const char *tcon, char **ret);
	/* The label the policy's file contexts give path (malloc'd); -ENOENT for none. */
	int (*default_label)(void *data, const char *path, char **ret);
	/* Is con a context the loaded policy knows (its type defined, its role allowed)? */
	bool (*valid)(void *data, const char *con);
	bool enforcing; /* the whole system; a permissive domain comes from may() */
};

/* One hook as a daemon runs it. */
struct selinux_hook {
	const char *daemon;      /* "libvirtd", "virtqemud" */
	long pid;
	const char *dcon;        /* the daemon's context */
	const char *shown;       /* the hook as listed: "<qemu.d entry> (-> <path>)" */
	const char *path;        /* the file executed: every link resolved */
	const char *label;       /* its label; NULL: none could be read */
	const char *state_dir;   /* "/run/gvtg-hook" */
	const char *state_label; /* its label; NULL: absent (the first hook call makes it) */
};

/* PASS when the daemon executes the hook, enters gvtg_hook_t and the hook may write its
 * state directory; FAIL (WARN where SELinux or the domain is permissive) when the
 * execution or the state directory is refused; WARN when the hook runs in the daemon's
 * own domain.  Each refusal comes with its fix: restorecon, the install layout, the
 * module. */
void selinux_judge_hook(const struct selinux_ops *ops, const struct selinux_hook *h,
                        mac_report_fn report, void *data);

/* Report, when SELinux is enabled on the real root (not under --root), for each running
 * libvirtd or virtqemud whether the loaded policy lets it execute every installed hook,
 * whether it runs them as gvtg_hook_t, and whether that domain may write the state
 * directory (check-selinux.c).  Reports nothing where SELinux is off. */
void check_selinux(struct ctl *c, mac_report_fn report, void *data);
