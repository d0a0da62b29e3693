/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check: every prerequisite of a GVT-g host, one line each, PASS, WARN, FAIL
 * (or INFO where nothing can be judged), with the fix.  Read-only; every path under
 * --root so that the tests can build a host that lacks one thing at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-mac.h"
#include "check-selinux.h"
#include "ctl.h"

#ifndef GVTG_HOOKS_DIR
#define GVTG_HOOKS_DIR "/etc/libvirt/hooks"
#endif
#ifndef GVTG_HOOK_PATH
#define GVTG_HOOK_PATH "/usr/libexec/gvtg-hook/gvtg-hook"
#endif

#ifndef GVTG_HOOK_DIR
#define GVTG_HOOK_DIR "/usr/libexec/gvtg-hook"
#endif
#define CORE_PATH GVTG_HOOK_DIR "/gvtg-hook-core.so"

static const char *const status_names[] = {
	[CTL_CHECK_PASS] = "PASS",
	[CTL_CHECK_INFO] = "INFO",
	[CTL_CHECK_WARN] = "WARN",
	[CTL_CHECK_FAIL] = "FAIL",
};

/* SGR colours as virt-host-validate uses them. */
static const char *const status_colors[] = {
	[CTL_CHECK_PASS] = "\033[32m",
	[CTL_CHECK_INFO] = "\033[34m",
	[CTL_CHECK_WARN] = "\033[33m",
	[CTL_CHECK_FAIL] = "\033[31m",
};

struct check_line {
	const char *id;
	enum ctl_check_status status;
	char *what;
	char *fix;
};

struct ctl_check_report {
	struct ctl *c;
	struct check_line *lines;
	size_t n;
	enum ctl_check_status worst;
	int err;
	/* The iGPU cannot do GVT-g (igpu's line says why): what it can use instead, for
	 * the summary, or NULL. */
	const char *instead;
};

/* The checks that matter only for GVT-g: on a GPU that cannot do it they are no
 * failure, and their GVT-g fixes would send the admin the wrong way. */
static bool gvt_only(const char *id)
{
	static const char *const ids[] = { "i915-enable-gvt", "i915-enable-guc", "module-kvmgt",
					   "module-mdev", "vgpu-types" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!strcmp(id, ids[i]))
			return true;
	return false;
}

/* Short names for the checks below. */
#define report(rp, ...) ctl_check_report(rp, __VA_ARGS__)
#define ST_PASS CTL_CHECK_PASS
#define ST_INFO CTL_CHECK_INFO
#define ST_WARN CTL_CHECK_WARN
#define ST_FAIL CTL_CHECK_FAIL

struct ctl *ctl_check_report_ctl(struct ctl_check_report *rp)
{
	return rp->c;
}

void ctl_check_report_instead(struct ctl_check_report *rp, const char *instead)
{
	rp->instead = instead;
}

void ctl_check_report(struct ctl_check_report *rp, const char *id, enum ctl_check_status st,
		const char *fix, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (rp->instead && st >= CTL_CHECK_WARN && gvt_only(id)) {
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " (needed only for GVT-g, which this GPU cannot do)");
		st = CTL_CHECK_INFO;
		fix = NULL;
	}
	if (st > rp->worst)
		rp->worst = st;
	struct check_line *nl = realloc(rp->lines, (rp->n + 1) * sizeof(*nl));
	if (!nl) {
		rp->err = -ENOMEM;
		return;
	}
	rp->lines = nl;
	struct check_line *l = &rp->lines[rp->n];
	*l = (struct check_line){ .id = id, .status = st, .what = strdup(what),
				  .fix = fix ? strdup(fix) : NULL };
	if (!l->what || (fix && !l->fix)) {
		free(l->what);
		free(l->fix);
		rp->err = -ENOMEM;
		return;
	}
	rp->n++;
}

static void report_free(struct ctl_check_report *rp)
{
	for (size_t i = 0; i < rp->n; i++) {
		free(rp->lines[i].what);
		free(rp->lines[i].fix);
	}
	free(rp->lines);
	rp->lines = NULL;
	rp->n = 0;
}

static void count(const struct ctl_check_report *rp, size_t ret_n[4])
{
	memset(ret_n, 0, 4 * sizeof(ret_n[0]));
	for (size_t i = 0; i < rp->n; i++)
		ret_n[rp->lines[i].status]++;
}

/* "12 checks: 9 passed, 1 warning, 1 failed, 1 for information": the summary. */
static void summary(const struct ctl_check_report *rp, char *out, size_t size)
{
	size_t n[4];
	count(rp, n);
	snprintf(out, size,
		 "%zu checks: %zu passed, %zu warning%s, %zu failed, %zu for information", rp->n,
		 n[ST_PASS], n[ST_WARN], n[ST_WARN] == 1 ? "" : "s", n[ST_FAIL], n[ST_INFO]);
}

static void print_human(const struct ctl_check_report *rp)
{
	bool color = ctl_color(stdout);
	int width = ctl_term_width(stdout);
	for (size_t i = 0; i < rp->n; i++) {
		const struct check_line *l = &rp->lines[i];
		char lead[32], text[1200];
		snprintf(lead, sizeof(lead), "%s%s%s  ", color ? status_colors[l->status] : "",
			 status_names[l->status], color ? "\033[0m" : "");
		if (l->fix)
			snprintf(text, sizeof(text), "%s: %s", l->what, l->fix);
		else
			snprintf(text, sizeof(text), "%s", l->what);
		ctl_wrap(stdout, lead, 6, text, width);
	}
	char line[200];
	summary(rp, line, sizeof(line));
	const char *verdict = rp->instead	     ? rp->instead
			      : rp->worst == ST_FAIL ? "this host cannot run GVT-g vGPUs yet"
			      : rp->worst == ST_WARN ? "ready, with warnings"
						     : "ready";
	char text[600];
	snprintf(text, sizeof(text), "%s: %s", line, verdict);
	fputc('\n', stdout);
	ctl_wrap(stdout, "", 0, text, width);
}

static void print_json(const struct ctl_check_report *rp)
{
	size_t n[4];
	count(rp, n);
	fputs("{\n   \"checks\": [", stdout);
	for (size_t i = 0; i < rp->n; i++) {
		const struct check_line *l = &rp->lines[i];
		fputs(i ? ",\n      {" : "\n      {", stdout);
		fputs("\n         \"id\": ", stdout);
		ctl_json_string(stdout, l->id);
		fputs(",\n         \"result\": ", stdout);
		ctl_json_string(stdout, status_names[l->status]);
		fputs(",\n         \"check\": ", stdout);
		ctl_json_string(stdout, l->what);
		fputs(",\n         \"fix\": ", stdout);
		ctl_json_string(stdout, l->fix);
		fputs("\n      }", stdout);
	}
	printf("%s],\n   \"summary\": {\"checks\": %zu, \"pass\": %zu, \"warn\": %zu, "
	       "\"fail\": %zu, \"info\": %zu, \"ready\": %s, \"instead\": ",
	       rp->n ? "\n   " : "", rp->n, n[CTL_CHECK_PASS], n[CTL_CHECK_WARN],
	       n[CTL_CHECK_FAIL], n[CTL_CHECK_INFO],
	       rp->worst == CTL_CHECK_FAIL ? "false" : "true");
	ctl_json_string(stdout, rp->instead);
	fputs("}\n}\n", stdout);
}

/* For the checks in other files (check-mdevctl.c), under one id. */
static void report_line(void *rp, int st, const char *fix, const char *what)
{
	report(rp, "mdevctl", (enum ctl_check_status)st, fix, "%s", what);
}

/* ---- the hook ---------------------------------------------------------------------- */

/* Follow symlinks under the root (absolute targets are taken as under the root, as
 * libvirt would see them on the host).  ret_path: the final path, relative. */
static int resolve_under_root(struct ctl *c, const char *path, char **ret_path,
			      struct stat *ret_st)
{
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	char cur[PATH_MAX];
	snprintf(cur, sizeof(cur), "%s", path[0] == '/' ? path + 1 : path);
	for (int hops = 0; hops < 16; hops++) {
		struct stat st;
		if (fstatat(rootfd, cur, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode)) {
			*ret_path = strdup(cur);
			*ret_st = st;
			return *ret_path ? 0 : -ENOMEM;
		}
		char target[PATH_MAX];
		ssize_t k = readlinkat(rootfd, cur, target, sizeof(target) - 1);
		if (k < 0)
			return -errno;
		target[k] = '\0';
		char next[2 * PATH_MAX + 2];
		if (target[0] == '/') {
			snprintf(next, sizeof(next), "%s", target + 1);
		} else {
			char *slash = strrchr(cur, '/');
			if (slash)
				*slash = '\0';
			snprintf(next, sizeof(next), "%s/%s", slash ? cur : ".", target);
		}
		if (strlen(next) >= sizeof(cur))
			return -ENAMETOOLONG;
		memcpy(cur, next, sizeof(cur));
	}
	return -ELOOP;
}

/* Our hook's executable, by the usage text it carries (read, never run: another
 * hooks/qemu is someone else's program). */
/* Whether path (under the root) is gvtg-hook's executable: it holds its usage text.  The
 * configuration file it reads, from the same text, into config ("" when it does not say). */
static bool is_our_hook(struct ctl *c, const char *path, const struct stat *st, char *config,
			size_t size)
{
	static const char mark[] = "usage: gvtg-hook DOMAIN OPERATION";
	static const char conf[] = "\nconfiguration: ";
	if (size)
		config[0] = '\0';
	if (!S_ISREG(st->st_mode) || st->st_size > 4 * 1024 * 1024)
		return false;
	int fd = openat(gvtg_ctx_get_root_fd(c->ctx), path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	size_t cap = (size_t)st->st_size + 1, len = 0;
	char *buf = malloc(cap);
	while (buf && len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	const char *m = buf ? memmem(buf, len, mark, sizeof(mark) - 1) : NULL;
	/* the usage text is one string: its configuration line is within a few lines */
	const char *end = m ? memchr(m, '\0', len - (size_t)(m - buf)) : NULL;
	if (m && !end)
		end = buf + len;
	const char *cl = end ? memmem(m, (size_t)(end - m), conf, sizeof(conf) - 1) : NULL;
	if (cl && size) {
		cl += sizeof(conf) - 1;
		size_t n = strcspn(cl, "\n");
		snprintf(config, size, "%.*s", (int)(n < size ? n : size - 1), cl);
	}
	free(buf);
	return m != NULL;
}

struct hook_state {
	bool found;
	char link[PATH_MAX];    /* where libvirt looks, absolute */
	struct stat link_st;    /* lstat of that */
	char target[PATH_MAX];  /* the executable it leads to, relative to the root */
	bool runnable;          /* a regular executable file */
	char config[PATH_MAX];  /* the configuration file it reads ("" when it does not say) */
};

static void check_hook(struct ctl_check_report *rp, struct hook_state *hs)
{
	struct ctl *c = rp->c;
	int rootfd = gvtg_ctx_get_root_fd(c->ctx);
	const char *candidates[] = { GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook", GVTG_HOOKS_DIR "/qemu" };
	const char *fix_install = "install gvtg-hook (meson install), or ln -s " GVTG_HOOK_PATH
				  " " GVTG_HOOKS_DIR "/qemu.d/50-gvtg-hook";

	for (size_t i = 0; i < 2; i++) {
		const char *where = candidates[i];
		struct stat lst;
		if (fstatat(rootfd, where + 1, &lst, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char *final = NULL;
		struct stat st = { 0 };
		int r = resolve_under_root(c, where, &final, &st);
		/* hooks/qemu may be someone else's script: it counts only when it is ours,
		 * linked or copied there (what older libvirt needs). */
		bool marked = r >= 0 && is_our_hook(c, final, &st, hs->config, sizeof(hs->config));
		bool ours = i == 0 || (r >= 0 && (!strcmp(final, &GVTG_HOOK_PATH[1]) || marked));
		if (!ours) {
			free(final);
			continue;
		}
		hs->found = true;
		snprintf(hs->link, sizeof(hs->link), "%s", where);
		hs->link_st = lst;
		if (r < 0) {
			report(rp, "hook", ST_FAIL, "reinstall gvtg-hook",
			       "hook %s points to a missing file (%s)", where, strerror(-r));
		} else if (!S_ISREG(st.st_mode)) {
			report(rp, "hook", ST_FAIL,
			       "reinstall gvtg-hook", "hook %s is not a regular file",
			       where);
		} else if (!(st.st_mode & S_IXUSR)) {
			char fix[PATH_MAX + 32];
			snprintf(fix, sizeof(fix), "chmod 755 /%s", final);
			report(rp, "hook", ST_FAIL, fix,
			       "hook %s is not executable: libvirt skips it", where);
		} else {
			report(rp, "hook", ST_PASS, NULL, "hook installed: %s", where);
			snprintf(hs->target, sizeof(hs->target), "%s", final);
			hs->runnable = true;
		}
		free(final);
		return;
	}
	report(rp, "hook", ST_FAIL,
	       fix_install, "hook not installed where libvirt looks (%s)",
	       candidates[0]);
}

/* Run <hook> --self-test (the root in GVTG_ROOT, as the hook takes it), its stderr's
 * first line into err, bounded: a hook that hangs would hang libvirt too.  Returns
 * the exit status, 128 + signal, or -errno; -ETIMEDOUT after the bound. */
#define SELF_TEST_TIMEOUT_MS 5000
static int run_self_test(struct ctl *c, const char *target, char *err, size_t err_size)
{
	const char *root = gvtg_ctx_get_root(c->ctx);
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", root && strcmp(root, "/") ? root : "", target);
	char *const argv[] = { path, "--self-test", NULL };
	const char *const env[] = { "GVTG_ROOT", root, NULL };
	struct gvtg_run run = { .argv = argv, .keep_fd = -1, .flags = GVTG_RUN_CAPTURE,
				.env = root && strcmp(root, "/") ? env : NULL };
	int r = gvtg_run(&run, SELF_TEST_TIMEOUT_MS);
	if (r < 0) {
		gvtg_run_clear(&run);
		return r;
	}
	/* The first line: what the hook says first is why it failed. */
	snprintf(err, err_size, "%.*s", (int)strcspn(run.output, "\n"), run.output);
	switch (run.state) {
	case GVTG_RUN_EXITED:
		r = run.code;
		if ((r == 127 || r == 126) && !err[0])
			snprintf(err, err_size, "cannot run it: %s",
				 strerror(r == 127 ? ENOENT : EACCES));
		break;
	case GVTG_RUN_SIGNALED:
		r = 128 + run.code;
		break;
	case GVTG_RUN_KILLED:
	case GVTG_RUN_LEFT:
		r = -ETIMEDOUT;
		break;
	default:
		r = run.code > 0 ? -run.code : -ECHILD;
		break;
	}
	gvtg_run_clear(&run);
	return r;
}

/* The hook must be able to load its module when libvirt runs it: its own self-test says
 * so.  A hook from before the self-test answers with its usage (exit 2): then the module
 * must be beside the executable, where that hook looks for it. */
static void check_hook_self_test(struct ctl_check_report *rp, const struct hook_state *hs)
{
	if (!hs->runnable)
		return;
	struct ctl *c = rp->c;
	char err[1200];
	int r = run_self_test(c, hs->target, err, sizeof(err));
	const char *fix_reinstall = "reinstall gvtg-hook (meson install): its module belongs in "
				    GVTG_HOOK_DIR;
	if (r == 0) {
		report(rp, "hook-self-test", ST_PASS, NULL,
			   "hook /%s loads its module and parses a domain (--self-test)",
			   hs->target);
		return;
	}
	if (r == 2 && !strncmp(err, "usage: gvtg-hook", 16)) {
		/* Such a hook loads gvtg-hook-core.so from beside its executable, else from
		 * the directory it was built for. */
		char beside[PATH_MAX + 32];
		snprintf(beside, sizeof(beside), "%s", hs->target);
		char *slash = strrchr(beside, '/');
		snprintf(slash ? slash + 1 : beside,
			 sizeof(beside) - (size_t)(slash ? slash + 1 - beside : 0),
			 "gvtg-hook-core.so");
		const char *found = NULL;
		struct stat st;
		int rootfd = gvtg_ctx_get_root_fd(c->ctx);
		if (fstatat(rootfd, beside, &st, 0) == 0 && S_ISREG(st.st_mode))
			found = beside;
		else if (fstatat(rootfd, &CORE_PATH[1], &st, 0) == 0 && S_ISREG(st.st_mode))
			found = &CORE_PATH[1];
		if (found)
			report(rp, "hook-self-test", ST_PASS, NULL,
			       "hook module /%s present (this hook has no --self-test)", found);
		else
			report(rp, "hook-self-test", ST_FAIL, fix_reinstall,
			       "hook /%s cannot load its module: " CORE_PATH " is missing",
			       hs->target);
		return;
	}
	if (r == -ETIMEDOUT)
		report(rp, "hook-self-test", ST_FAIL, fix_reinstall,
			   "hook /%s --self-test did not finish within %d s", hs->target,
			   SELF_TEST_TIMEOUT_MS / 1000);
	else if (r < 0)
		report(rp, "hook-self-test", ST_FAIL, fix_reinstall,
			   "hook /%s --self-test could not be run: %s", hs->target, strerror(-r));
	else
		report(rp, "hook-self-test", ST_FAIL, fix_reinstall,
			   "hook /%s fails its self-test (exit %d): %s", hs->target, r,
			   err[0] ? err : "no message");
}

/* Start time of a process in seconds since the epoch: /proc/<pid>/stat's starttime
 * (clock ticks after boot) plus /proc/stat's btime. */
static int process_start(struct ctl *c, long pid, double *ret_start)
{
	char path[64], *stat = NULL, *sys = NULL;
	snprintf(path, sizeof(path), "proc/%ld/stat", pid);
	int r = ctl_read_file(c, path, &stat);
	if (r < 0)
		return r;
	/* The command name may hold spaces and parentheses: fields follow the last ')'. */
	char *p = strrchr(stat, ')');
	unsigned long long ticks = 0;
	bool ok = false;
	if (p) {
		p++;
		/* field 3 (state) is the first after ')'; starttime is field 22 */
		char *save = NULL;
		int field = 3;
		for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save),
			  field++)
			if (field == 22) {
				ticks = strtoull(tok, NULL, 10);
				ok = true;
				break;
			}
	}
	free(stat);
	if (!ok)
		return -EBADMSG;
	r = ctl_read_file(c, "proc/stat", &sys);
	if (r < 0)
		return r;
	char *b = strstr(sys, "\nbtime ");
	long long btime = b ? strtoll(b + 7, NULL, 10) : -1;
	free(sys);
	if (btime < 0)
		return -EBADMSG;
	long hz = sysconf(_SC_CLK_TCK);
	*ret_start = (double)btime + (double)ticks / (double)(hz > 0 ? hz : 100);
	return 0;
}

/* Since when libvirt could have found a hook of ours.  It decides whether a driver has
 * hooks when the daemon starts (an executable hooks/qemu, or one in qemu.d), and from
 * then on runs whatever qemu.d holds at each call.  The link's ctime, not mtime (dpkg
 * gives installed files and links the package's mtime); but an upgrade replaces the
 * link, so for one in qemu.d the directory's birth counts when it is older: the
 * directory is made with the first install and an upgrade never leaves it empty. */
static double hook_present_since(struct ctl *c, const struct hook_state *hs)
{
	double since = (double)hs->link_st.st_ctim.tv_sec + (double)hs->link_st.st_ctim.tv_nsec / 1e9;
	const char *slash = strrchr(hs->link, '/');
	static const char dotd[] = ".d";
	if (!slash || slash - hs->link < 3 || strncmp(slash - 2, dotd, 2) != 0)
		return since;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - hs->link - 1), hs->link + 1);
	struct statx sx;
	if (statx(gvtg_ctx_get_root_fd(c->ctx), dir, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) == 0 &&
	    (sx.stx_mask & STATX_BTIME)) {
		double born = (double)sx.stx_btime.tv_sec + (double)sx.stx_btime.tv_nsec / 1e9;
		if (born < since)
			since = born;
	}
	return since;
}

static void check_daemon(struct ctl_check_report *rp, const struct hook_state *hs)
{
	struct ctl *c = rp->c;
	static const char *const daemons[] = { "libvirtd", "virtqemud" };
	for (size_t i = 0; i < 2; i++) {
		char path[64], *s;
		snprintf(path, sizeof(path), "run/%s.pid", daemons[i]);
		if (ctl_read_file(c, path, &s) < 0)
			continue;
		long pid = strtol(s, NULL, 10);
		free(s);
		double start;
		if (pid <= 0 || process_start(c, pid, &start) < 0)
			continue; /* a stale pid file */
		if (!hs->found) {
			report(rp, "libvirt-daemon", ST_INFO, NULL,
			       "%s (pid %ld) running; install the hook, then restart it", daemons[i],
			       pid);
			return;
		}
		if (hook_present_since(c, hs) > start) {
			char fix[128];
			snprintf(fix, sizeof(fix),
				 "restart %s: it looks for hooks only when it starts", daemons[i]);
			report(rp, "libvirt-daemon", ST_WARN,
			       fix, "%s (pid %ld) started before the hook was installed",
			       daemons[i], pid);
		} else {
			report(rp, "libvirt-daemon", ST_PASS,
			       NULL, "%s (pid %ld) started after the hook was installed",
			       daemons[i], pid);
		}
		return;
	}
	report(rp, "libvirt-daemon", ST_INFO,
	       NULL, "no libvirt daemon running: it finds the hook when it starts");
}

/* One configuration file alone: its first error, or that it is valid (or absent). */
static void check_config_file(struct ctl_check_report *rp, const char *file)
{
	struct ctl *c = rp->c;
	struct gvtg_config *cfg = NULL;
	int r = gvtg_config_load_file(c->ctx, file, &cfg);
	const char *path = cfg && cfg->path ? cfg->path : file;
	char fix[64] = "fix the file (see gvtg-hook.conf(5))";
	if (r == -EBADMSG && cfg)
		report(rp, "config", ST_FAIL,
		       fix, "configuration %s, line %d: %s", path, cfg->error_line,
		       cfg->error);
	else if (r < 0)
		report(rp, "config", ST_FAIL, "check the file's permissions",
			   "configuration %s: %s", file,
			   cfg && cfg->error[0] ? cfg->error : strerror(-r));
	else if (ctl_exists(c, path))
		report(rp, "config", ST_PASS, NULL, "configuration %s valid", path);
	else
		report(rp, "config", ST_PASS,
		       NULL, "configuration %s absent: built-in defaults", path);
	gvtg_config_free(cfg);
}

/* Two installations (a package and a build in /usr/local, say) each read their own
 * configuration: the registered hook's is the one in effect. */
static void check_config_in_effect(struct ctl_check_report *rp, const struct hook_state *hs)
{
	const char *mine = ctl_config_path(rp->c);
	if (!hs->runnable || !hs->config[0] || !strcmp(hs->config, mine))
		return;
	char fix[2 * PATH_MAX + 96];
	snprintf(fix, sizeof(fix),
		 "edit %s (the hook's), or uninstall the installation you do not use", hs->config);
	report(rp, "config-in-effect", ST_WARN, fix,
	       "the registered hook /%s reads %s, not %s: another installation's "
	       "configuration is the one in effect",
	       hs->target, hs->config, mine);
}

/* The main file and every drop-in, each on its own line: one file's error hides no
 * other's. */
static void check_config(struct ctl_check_report *rp)
{
	struct ctl *c = rp->c;
	const char *main_file = c->config ? c->config : gvtg_config_default_path();
	check_config_file(rp, main_file);
	char **files = NULL;
	size_t n = 0;
	int r = gvtg_config_dropins(c->ctx, main_file, &files, &n);
	if (r < 0) {
		/* the loader's words about the directory */
		struct gvtg_config *cfg = NULL;
		if (gvtg_config_load(c->ctx, main_file, &cfg) < 0 && cfg)
			report(rp, "config", ST_FAIL, "fix the directory (see gvtg-hook.conf(5))",
			       "configuration %s: %s", cfg->path, cfg->error);
		gvtg_config_free(cfg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		check_config_file(rp, files[i]);
		free(files[i]);
	}
	free(files);
}

/* check-mac.c's lines, in this report, under one id. */
static void check_mac_report(void *data, enum mac_status status, const char *fix,
			     const char *what)
{
	static const enum ctl_check_status map[] = {
		[MAC_PASS] = ST_PASS, [MAC_INFO] = ST_INFO, [MAC_WARN] = ST_WARN, [MAC_FAIL] = ST_FAIL,
	};
	report(data, "confinement", map[status], fix, "%s", what);
}

/* Every check, in the order of the report. */
static void run_checks(struct ctl_check_report *rp)
{
	struct ctl *c = rp->c;
	struct hook_state hs = { 0 };
	ctl_check_host(rp);
	check_hook(rp, &hs);
	check_hook_self_test(rp, &hs);
	check_mac(c, check_mac_report, rp);
	check_selinux(c, check_mac_report, rp);
	check_daemon(rp, &hs);
	check_config(rp);
	check_config_in_effect(rp, &hs);
	ctl_check_mdevctl(c, report_line, rp);
}

int ctl_check_each(struct ctl *c, ctl_check_result_fn fn, void *userdata)
{
	struct ctl_check_report rp = { .c = c };
	run_checks(&rp);
	for (size_t i = 0; i < rp.n && rp.err == 0; i++)
		fn(userdata, rp.lines[i].id, rp.lines[i].status);
	int r = rp.err;
	report_free(&rp);
	return r;
}

static int cmd_check(struct ctl *c, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	int opt, exit_code;
	while ((opt = ctl_next_option(c, argc, argv, "", options, &exit_code)) > 0)
		if (opt == OPT_JSON)
			c->json = true;
	if (opt == 0)
		return exit_code;
	if (optind < argc)
		return ctl_usage_error("check takes no arguments, not '%s'", argv[optind]);
	if (ctl_open(c) < 0)
		return CTL_EXIT_FAILURE;

	struct ctl_check_report rp = { .c = c };
	run_checks(&rp);
	if (rp.err < 0) {
		report_free(&rp);
		ctl_error("checking the host: %s", strerror(-rp.err));
		return CTL_EXIT_FAILURE;
	}
	if (c->json)
		print_json(&rp);
	else
		print_human(&rp);
	int ret = rp.worst == CTL_CHECK_FAIL ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
	report_free(&rp);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("printing the checks, stdout: %s. Check where the output goes",
			  strerror(EIO));
		return CTL_EXIT_FAILURE;
	}
	return ret;
}

const struct ctl_command ctl_cmd_check = {
	.name = "check",
	.fn = cmd_check,
	.json = true,
	.synopsis = "check [--json]",
	.summary = "check this host's GVT-g prerequisites",
	.description =
		"Check every prerequisite of a GVT-g host, one line each (PASS, WARN, FAIL, INFO)\n"
		"with the fix, and a summary line. Exit status 1 when a check fails.",
	.options =
		"  --json            one JSON object; every check has a stable \"id\"\n",
};
