/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check, mandatory access control: may a confined libvirt daemon execute the
 * installed hooks, and is the hook's own AppArmor profile loaded?
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct ctl;

enum mac_status {
	MAC_PASS,
	MAC_INFO,
	MAC_WARN,
	MAC_FAIL,
};

/* One result line: what was found, and the fix (NULL when there is nothing to do). */
typedef void (*mac_report_fn)(void *data, enum mac_status status, const char *fix,
                              const char *what);

/* Report, for each running libvirtd or virtqemud confined by AppArmor, whether its
 * profile lets it execute hooks/qemu and every entry of hooks/qemu.d (by the path a
 * symlink resolves to, as AppArmor judges), and whether the hook's own profile is loaded.
 * Reports nothing where AppArmor is off and no daemon is confined.  Every path is read
 * under c's root. */
void check_mac(struct ctl *c, mac_report_fn report, void *data);

/* AppArmor's path globbing: '*' and '?' never match '/', '**' matches anything, '[...]'
 * a character class, '{a,b}' alternatives (nested).  Exposed for the tests' sake. */
bool mac_glob_match(const char *pattern, const char *path);

/* ---- shared with check-selinux.c ---- */

/* The pid of the running daemon name (libvirtd, virtqemud): from /run/<name>.pid, else
 * the first process of that name; -ESRCH when none runs. */
int mac_daemon_pid(struct ctl *c, const char *name, long *ret_pid);
/* The hooks libvirt runs: hooks/qemu and every executable file in hooks/qemu.d, sorted. */
size_t mac_list_hooks(struct ctl *c, char hooks[][PATH_MAX], size_t max);
/* The canonical absolute path of path under the root (every symlink resolved). */
int mac_resolve(struct ctl *c, const char *path, char *ret, size_t size);

/* ---- profile text (apparmor-text.c) ---- */

#define AA_DIR "etc/apparmor.d"

struct aa_var {
	char *name;  /* without @{ } */
	char *value; /* "{a,b}" for several values */
};

struct aa_rule {
	char *path;
	char *perms;
	bool deny;
	char *file;  /* the file it is in, relative to the root */
};

struct aa_profile {
	struct aa_var *vars;
	size_t n_vars;
	struct aa_rule *rules;
	size_t n_rules;
};

/* Read the profile file path (relative to the root) into pf, following its includes. */
void aa_profile_parse_file(struct ctl *c, const char *path, struct aa_profile *pf,
			   int base_depth, int nesting);
/* The rule that decides whether the profile executes path: a deny rule wins (then
 * *ret_denied); NULL when none allows it. */
const struct aa_rule *aa_profile_exec_rule(const struct aa_profile *pf, const char *path,
					   bool *ret_denied);
void aa_profile_free(struct aa_profile *pf);
