/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check, mandatory access control.  A stock Debian or Ubuntu host runs libvirtd
 * under the AppArmor profile /etc/apparmor.d/usr.sbin.libvirtd, which executes only a few
 * directories and judges the path a symlink resolves to: a hook anywhere else makes every
 * VM start fail.  This reads the daemon's label in /proc and, when its profile is loaded,
 * asks the kernel (libapparmor's query interface) whether that label may execute each
 * installed hook.  Only for a profile that is not loaded (or a fake root, or a gvtgctl
 * built without libapparmor) is the profile text read (apparmor-text.c).  Everything is
 * read under gvtgctl's root, so the tests build a host on a fake tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-mac.h"
#include "ctl.h"

#ifdef HAVE_LIBAPPARMOR
#include <sys/apparmor.h>
#endif

#ifndef GVTG_HOOKS_DIR
#define GVTG_HOOKS_DIR "/etc/libvirt/hooks"
#endif
#ifndef GVTG_HOOK_PATH
#define GVTG_HOOK_PATH "/usr/sbin/gvtg-hook"
#endif


/* ---- the host ---------------------------------------------------------------------- */

/* The canonical absolute path of path under the root (every symlink resolved, as the
 * kernel hands it to AppArmor). */
int mac_resolve(struct ctl *c, const char *path, char *ret, size_t size)
{
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	char todo[2 * PATH_MAX];
	char done[PATH_MAX] = "";
	snprintf(todo, sizeof(todo), "%s", path);
	int links = 0;
	char *p = todo;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[NAME_MAX + 1];
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *last = strrchr(done, '/');
			if (last)
				*last = '\0';
			continue;
		}
		size_t dl = strlen(done);
		if (dl + 1 + n >= sizeof(done))
			return -ENAMETOOLONG;
		snprintf(done + dl, sizeof(done) - dl, "/%s", comp);
		char target[PATH_MAX];
		ssize_t k = readlinkat(rootfd, done + 1, target, sizeof(target) - 1);
		if (k < 0) {
			if (errno == EINVAL)
				continue; /* not a link */
			return -errno;
		}
		if (++links > 40)
			return -ELOOP;
		target[k] = '\0';
		char rest[2 * PATH_MAX];
		snprintf(rest, sizeof(rest), "%s/%s", target, p);
		if (target[0] == '/')
			done[0] = '\0';
		else
			done[dl] = '\0';
		snprintf(todo, sizeof(todo), "%s", rest);
		p = todo;
	}
	if (!done[0])
		snprintf(done, sizeof(done), "/");
	if (strlen(done) >= size)
		return -ENAMETOOLONG;
	memcpy(ret, done, strlen(done) + 1);
	return 0;
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Is path (absolute, under the root) an executable file once its links are resolved
 * within the root?  fstatat() would follow an absolute link out of the root. */
static bool is_executable(struct ctl *c, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	return mac_resolve(c, path, real, sizeof(real)) == 0 &&
	       fstatat(gvtg_ctx_get_root_fd(c->ctx), real[1] ? real + 1 : ".", &st,
	               AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

/* The hooks libvirt runs: hooks/qemu and every executable file in hooks/qemu.d. */
size_t mac_list_hooks(struct ctl *c, char hooks[][PATH_MAX], size_t max)
{
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	size_t n = 0;
	if (is_executable(c, GVTG_HOOKS_DIR "/qemu"))
		snprintf(hooks[n++], PATH_MAX, "%s", GVTG_HOOKS_DIR "/qemu");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", GVTG_HOOKS_DIR "/qemu.d");
	int fd = openat(rootfd, dir + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return n;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return n;
	}
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_MAX + 256];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (strlen(p) < PATH_MAX && is_executable(c, p))
			memcpy(hooks[n++], p, strlen(p) + 1);
	}
	closedir(d);
	/* libvirt runs them in alphabetical order; so does this report */
	qsort(hooks, n, PATH_MAX, compare_paths);
	return n;
}

int mac_daemon_pid(struct ctl *c, const char *name, long *ret_pid)
{
	char path[64], *s = NULL;
	long pid = 0;
	snprintf(path, sizeof(path), "run/%s.pid", name);
	if (ctl_read_file(c, path, &s) == 0) {
		pid = strtol(s, NULL, 10);
		free(s);
	}
	if (pid <= 0) {
		int fd = openat(gvtg_ctx_get_root_fd(c->ctx), "proc",
		                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d && fd >= 0)
			close(fd);
		struct dirent *e;
		while (d && pid <= 0 && (e = readdir(d))) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "proc/%.20s/comm", e->d_name);
			if (ctl_read_file(c, path, &s) < 0)
				continue;
			if (!strcmp(s, name))
				pid = strtol(e->d_name, NULL, 10);
			free(s);
		}
		if (d)
			closedir(d);
	}
	if (pid <= 0)
		return -ESRCH;
	*ret_pid = pid;
	return 0;
}

/* A daemon's AppArmor label: "libvirtd (enforce)", "unconfined"; or its SELinux context
 * (check-selinux.c judges those). */
static int daemon_label(struct ctl *c, const char *name, long *ret_pid, char **ret_label)
{
	char path[64], *s = NULL;
	long pid;
	int r = mac_daemon_pid(c, name, &pid);
	if (r < 0)
		return r;
	/* With several LSMs stacked, AppArmor's own file; else the common one. */
	snprintf(path, sizeof(path), "proc/%ld/attr/apparmor/current", pid);
	r = ctl_read_file(c, path, &s);
	if (r < 0) {
		snprintf(path, sizeof(path), "proc/%ld/attr/current", pid);
		r = ctl_read_file(c, path, &s);
	}
	if (r < 0)
		return r;
	*ret_pid = pid;
	*ret_label = s;
	return 0;
}

/* The file under /etc/apparmor.d that defines profile name. */
static int profile_file(struct ctl *c, const char *name, char *ret, size_t size)
{
	static const char *const guesses[] = {"usr.sbin.", "usr.bin.", ""};
	for (size_t i = 0; i < 3; i++) {
		snprintf(ret, size, AA_DIR "/%s%s", guesses[i], name);
		char *text = NULL;
		if (ctl_read_file(c, ret, &text) < 0)
			continue;
		char decl[NAME_MAX + 16];
		snprintf(decl, sizeof(decl), "profile %.*s ", NAME_MAX, name);
		bool found = strstr(text, decl) != NULL;
		free(text);
		if (found)
			return 0;
	}
	return -ENOENT;
}

/* The profile name a hook executable's profile file carries: usr.sbin.gvtg-hook. */
static void own_profile_file(char *buf, size_t size)
{
	snprintf(buf, size, "%s", &GVTG_HOOK_PATH[1]);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = '.';
}

/* Is profile name loaded in the kernel (securityfs under the root)? */
static bool profile_loaded(struct ctl *c, const char *name)
{
	char *loaded = NULL;
	if (ctl_read_file(c, "sys/kernel/security/apparmor/profiles", &loaded) < 0)
		return false;
	size_t n = strlen(name);
	bool found = false;
	for (char *save = NULL, *l = strtok_r(loaded, "\n", &save); l && !found;
	     l = strtok_r(NULL, "\n", &save))
		found = !strncmp(l, name, n) && !strncmp(l + n, " (", 2);
	free(loaded);
	return found;
}

/* The kernel answers for a loaded profile, and only for this host's own root: a fake
 * root's profiles are not the kernel's. */
static bool ask_kernel(struct ctl *c, const char *name)
{
#ifdef HAVE_LIBAPPARMOR
	const char *root = gvtg_ctx_get_root(c->ctx);
	if (root && strcmp(root, "/") != 0)
		return false;
	return profile_loaded(c, name);
#else
	(void)c;
	(void)name;
	(void)profile_loaded;
	return false;
#endif
}

/* May label execute path?  The kernel's answer through libapparmor. */
static int kernel_may_exec(const char *label, const char *path, bool *ret_allowed)
{
#ifdef HAVE_LIBAPPARMOR
	int allowed = 0, audited = 0;
	if (aa_query_file_path(AA_MAY_EXEC, label, path, &allowed, &audited) < 0)
		return errno ? -errno : -EIO;
	*ret_allowed = allowed != 0;
	return 0;
#else
	(void)label;
	(void)path;
	(void)ret_allowed;
	return -EOPNOTSUPP;
#endif
}

/* The profile text's verdict on executing path: the rule that allows it (and the file
 * it is in when that is not the profile's own, file), the deny rule, or no rule. */
static int text_verdict(const struct aa_profile *pf, const char *file, const char *path,
			bool *ret_allowed, char *why, size_t size)
{
	bool denied;
	const struct aa_rule *rl = aa_profile_exec_rule(pf, path, &denied);
	*ret_allowed = rl && !denied;
	char in[PATH_MAX + 16] = "";
	int k = 0;
	if (rl && strcmp(rl->file, file) != 0)
		k = snprintf(in, sizeof(in), " in /%s", rl->file);
	if (k >= 0 && *ret_allowed)
		k = snprintf(why, size, "rule '%s %s'%s", rl->path, rl->perms, in);
	else if (k >= 0 && denied)
		k = snprintf(why, size, "/%s denies it (rule 'deny %s %s'%s)", file, rl->path,
			     rl->perms, in);
	else if (k >= 0)
		k = snprintf(why, size, "/%s has no exec rule for it", file);
	return k < 0 ? -EINVAL : 0;
}

static void check_daemon_profile(struct ctl *c, mac_report_fn report, void *data,
                                 const char *daemon, long pid, const char *label)
{
	/* Lines longer than these are cut: paths that long do not occur in hooks. */
	char what[1024], fix[1024];
	const char *mode = strstr(label, " (");
	if (!mode)
		return; /* unconfined, or an SELinux context: check-selinux.c */
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)(mode - label), label);
	bool enforce = !strncmp(mode, " (enforce)", 10);

	char file[PATH_MAX];
	bool have_file = profile_file(c, name, file, sizeof(file)) == 0;
	if (!have_file)
		snprintf(file, sizeof(file), AA_DIR "/usr.sbin.%s", name);
	bool kernel = ask_kernel(c, name);
	if (!kernel && !have_file) {
		snprintf(
		    what, sizeof(what),
		    "%s (pid %ld) is confined by AppArmor profile %s, which is not in "
		    "/etc/apparmor.d: whether it may run the hooks is unknown",
		    daemon, pid, name);
		report(data, MAC_WARN,
		       "check the daemon's profile allows executing the hooks", what);
		return;
	}
	struct aa_profile pf = {0};
	if (!kernel) {
		aa_profile_parse_file(c, AA_DIR "/tunables/global", &pf, 0, 0);
		aa_profile_parse_file(c, file, &pf, 0, 0);
	}

	char hooks[64][PATH_MAX];
	size_t n = mac_list_hooks(c, hooks, 64);
	for (size_t i = 0; i < n; i++) {
		char real[PATH_MAX];
		if (mac_resolve(c, hooks[i], real, sizeof(real)) < 0)
			continue; /* a dangling link: check_hook reports it */
		char shown[2 * PATH_MAX + 8];
		if (strcmp(real, hooks[i]))
			snprintf(shown, sizeof(shown), "%s (-> %s)", hooks[i], real);
		else
			snprintf(shown, sizeof(shown), "%s", hooks[i]);
		/* why it may (or may not) run the hook */
		char why[PATH_MAX + 512];
		bool allowed = false;
		if (kernel) {
			int r = kernel_may_exec(name, real, &allowed);
			if (r < 0) {
				if (snprintf(what, sizeof(what),
					     "%s (AppArmor %s): the kernel did not answer whether "
					     "it may execute hook %s: %s",
					     daemon, name, shown, strerror(-r)) >= 0)
					report(data, MAC_WARN, "run gvtgctl check as root", what);
				continue;
			}
			snprintf(why, sizeof(why), "the loaded profile %s (asked the kernel)",
				 allowed ? "allows it" : "does not allow it");
		} else if (text_verdict(&pf, file, real, &allowed, why, sizeof(why)) < 0) {
			continue;
		}
		if (allowed) {
			if (snprintf(what, sizeof(what), "%s (AppArmor %s) may execute hook %s: %s",
				     daemon, name, shown, why) < 0)
				continue;
			report(data, MAC_PASS, NULL, what);
			continue;
		}
		if (snprintf(fix, sizeof(fix),
		             "install the hook where the profile runs it (the packages "
		             "and --prefix=/usr "
		             "use /usr/sbin/gvtg-hook; meson -Dhook_layout=hooks_dir "
		             "copies it into "
		             "qemu.d), or add '%s PUx,' to /etc/apparmor.d/local/%s and "
		             "run apparmor_parser "
		             "-r /%s",
		             real, strrchr(file, '/') + 1, file) < 0 ||
		    snprintf(what, sizeof(what),
		             "%s (pid %ld, AppArmor %s%s) may not execute hook %s: %s; every VM "
		             "start fails with 'Permission denied'",
		             daemon, pid, name, enforce ? "" : ", complain", shown, why) < 0)
			continue;
		report(data, enforce ? MAC_FAIL : MAC_WARN, fix, what);
	}
	aa_profile_free(&pf);
}

void check_mac(struct ctl *c, mac_report_fn report, void *data)
{
	static const char *const daemons[] = {"libvirtd", "virtqemud"};
	for (size_t i = 0; i < 2; i++) {
		long pid;
		char *label = NULL;
		if (daemon_label(c, daemons[i], &pid, &label) < 0)
			continue;
		check_daemon_profile(c, report, data, daemons[i], pid, label);
		free(label);
	}

	/* The hook's own profile matters where libvirtd runs it with PUx: an executable
	 * of its own, not a file in the hooks directory (that one inherits libvirtd's).
	 */
	char *enabled = NULL;
	bool aa =
	    ctl_read_file(c, "sys/module/apparmor/parameters/enabled", &enabled) == 0 &&
	    enabled[0] == 'Y';
	free(enabled);
	if (!aa ||
	    !strncmp(GVTG_HOOK_PATH, GVTG_HOOKS_DIR "/", strlen(GVTG_HOOKS_DIR "/")) ||
	    !ctl_exists(c, GVTG_HOOK_PATH))
		return;
	char file[PATH_MAX], fix[PATH_MAX + 64], what[512];
	own_profile_file(file, sizeof(file));
	snprintf(fix, sizeof(fix), "apparmor_parser -r /etc/apparmor.d/%s", file);
	char *loaded = NULL;
	if (ctl_read_file(c, "sys/kernel/security/apparmor/profiles", &loaded) < 0) {
		report(data, MAC_INFO,
		       "mount -t securityfs securityfs /sys/kernel/security",
		       "AppArmor is enabled but its loaded profiles cannot be read");
		return;
	}
	bool found = false;
	for (char *save = NULL, *l = strtok_r(loaded, "\n", &save); l && !found;
	     l = strtok_r(NULL, "\n", &save))
		found = !strncmp(l, "gvtg-hook (", 11);
	free(loaded);
	if (found) {
		report(data, MAC_PASS, NULL, "AppArmor profile gvtg-hook loaded");
		return;
	}
	char installed[PATH_MAX + 32];
	snprintf(installed, sizeof(installed), AA_DIR "/%s", file);
	if (!ctl_exists(c, installed))
		snprintf(fix, sizeof(fix),
		         "install the hook's profile (meson -Dapparmor=enabled) as "
		         "/etc/apparmor.d/%s and load it with apparmor_parser -r",
		         file);
	snprintf(what, sizeof(what),
	         "AppArmor profile gvtg-hook is not loaded: the hook runs unconfined");
	report(data, MAC_WARN, fix, what);
}
