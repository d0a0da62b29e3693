/* SPDX-License-Identifier: MIT */
/*
 * Starting and stopping a definition: through mdevctl when it is installed (so that its
 * callouts and notifiers run), or by writing sysfs like mdevctl does when it is not.
 * This file is the one place that chooses between the two.  mdevctl knows no root
 * directory: under a test root only an mdevctl named by GVTG_MDEVCTL is ever run.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "gvtg-private.h"

#define MDEV_DEVICES "sys/bus/mdev/devices"
#define OUTPUT_MAX 4096

/* ---- running mdevctl ------------------------------------------------------------ */

int gvtg_mdevctl_find(struct gvtg_ctx *ctx, char **ret_path)
{
	const char *env = secure_getenv("GVTG_MDEVCTL");
	const char *found = NULL;
	if (env) {
		if (!*env)
			return 0;
		if (env[0] != '/')
			return -EINVAL;
		found = env;
	} else if (!strcmp(ctx->root, "/")) {
		static const char *const dirs[] = { "/usr/sbin/mdevctl", "/usr/bin/mdevctl",
						    "/sbin/mdevctl", "/bin/mdevctl" };
		for (size_t i = 0; i < ELEMENTSOF(dirs) && !found; i++)
			if (access(dirs[i], X_OK) == 0)
				found = dirs[i];
	}
	if (!found)
		return 0;
	char *p = strdup(found);
	if (!p)
		return -ENOMEM;
	*ret_path = p;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: only stdin (/dev/null), stdout and stderr (the pipe) stay open, so
 * that neither the lock nor libvirt's pipes reach mdevctl or its callouts. */
static void close_other_fds(void)
{
	if (close_range(3, ~0u, 0) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
		return;
	}
	int keep = dirfd(d);
	struct dirent *de;
	int fds[1024];
	size_t n = 0;
	while ((de = readdir(d)) && n < ELEMENTSOF(fds)) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != keep)
			fds[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void set_detail(char *detail, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_detail(char *detail, size_t size, const char *fmt, ...)
{
	if (!detail || !size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, size, fmt, ap);
	va_end(ap);
}

/* Keep the last line of the output that says something, for messages. */
static void last_line(const char *out, size_t len, char *detail, size_t size)
{
	if (!detail || !size)
		return;
	const char *end = out + len;
	while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *s = end;
	while (s > out && s[-1] != '\n')
		s--;
	size_t n = (size_t)(end - s);
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		detail[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	detail[n] = '\0';
}

/*
 * Run argv[0] with stdin /dev/null and its output in a pipe, in its own process group,
 * for at most timeout_ms; then the group is killed.  0 on exit status 0; -EPROTO on
 * another status (detail: its last line); -ETIMEDOUT.
 */
static int run_bounded(struct gvtg_ctx *ctx, char *const argv[], int timeout_ms, char *detail,
		       size_t detail_size)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return negative_errno();
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	pid_t pid = fork();
	if (pid < 0) {
		int r = negative_errno();
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0 ||
		    dup2(pfd[1], STDERR_FILENO) < 0)
			_exit(127);
		close_other_fds();
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* libvirt runs hooks with a bare environment; callouts are shell scripts. */
		if (!getenv("PATH"))
			setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       1);
		execv(argv[0], argv);
		/* The shell's convention: 127 not found, 126 found but not runnable. */
		_exit(errno == ENOENT || errno == ENOTDIR ? 127 : 126);
	}
	close(pfd[1]);
	(void)setpgid(pid, pid); /* both sides, so that the kill below always finds the group */

	char out[OUTPUT_MAX];
	size_t len = 0;
	bool eof = false;
	int status = 0, r = -ETIMEDOUT;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			r = 0;
			break;
		}
		if (w < 0 && errno != EINTR) {
			r = negative_errno();
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int k = poll(&p, eof ? 0 : 1, (int)(left < 20 ? left : 20));
		if (k > 0) {
			if (len == sizeof(out)) {
				/* keep the end: the error is the last thing said */
				memmove(out, out + sizeof(out) / 2, sizeof(out) / 2);
				len = sizeof(out) / 2;
			}
			ssize_t n = read(pfd[0], out + len, sizeof(out) - len);
			if (n == 0)
				eof = true;
			else if (n > 0)
				len += (size_t)n;
		}
	}
	if (r == 0 && !eof) {
		/* What it wrote just before exiting; a callout it left behind holding the
		 * pipe must not keep us waiting. */
		(void)fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		ssize_t n;
		while (len < sizeof(out) && (n = read(pfd[0], out + len, sizeof(out) - len)) > 0)
			len += (size_t)n;
	}
	close(pfd[0]);
	if (r == -ETIMEDOUT) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		/* Reap it when it dies at once; a process blocked in the kernel is left. */
		for (int i = 0; i < 10 && waitpid(pid, &status, WNOHANG) == 0; i++)
			(void)poll(NULL, 0, 10);
		log_warning(ctx, "%s %s %s did not finish within %d ms; killed", argv[0], argv[1],
			    argv[3] ? argv[3] : "", timeout_ms);
		last_line(out, len, detail, detail_size);
		return -ETIMEDOUT;
	}
	if (r < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (detail && detail_size)
			detail[0] = '\0';
		return 0;
	}
	last_line(out, len, detail, detail_size);
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126) &&
	    len == 0) {
		set_detail(detail, detail_size, "cannot run %s", argv[0]);
		return WEXITSTATUS(status) == 127 ? -ENOENT : -EACCES;
	}
	if (detail && detail_size && !detail[0])
		snprintf(detail, detail_size, "%s %d", WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	log_debug(ctx, "%s %s: failed: %s", argv[0], argv[1], detail ? detail : "");
	return -EPROTO;
}

static bool device_active(struct gvtg_ctx *ctx, const char *uuid)
{
	_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, uuid, NULL);
	return p && gvtg_io_access(ctx, p) == 0;
}


int gvtg_definition_apply_attrs(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
				int timeout_ms, char *detail, size_t detail_size)
{
	for (size_t i = 0; i < def->n_attrs; i++) {
		const struct gvtg_definition_attr *a = &def->attrs[i];
		_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, def->uuid, a->name, NULL);
		int r = p ? gvtg_io_write_attr(ctx, p, a->value, strlen(a->value)) : -ENOMEM;
		if (r < 0) {
			set_detail(detail, detail_size, "writing '%s' to its attribute %s",
				   a->value, a->name);
			log_debug(ctx, "start %s: attribute %s: errno %d", def->uuid, a->name, -r);
			int k = gvtg_mdev_remove_bounded(ctx, def->uuid, timeout_ms);
			if (k < 0 && k != -ENOENT)
				log_warning(ctx, "start %s: removing it again: errno %d", def->uuid,
					    -k);
			return r;
		}
	}
	return 0;
}

static int start_sysfs(struct gvtg_ctx *ctx, const struct gvtg_definition *def, int timeout_ms,
		       char *detail, size_t detail_size)
{
	int r = gvtg_mdev_create(ctx, def->parent, def->type, def->uuid);
	if (r < 0) {
		set_detail(detail, detail_size, "creating it on %s type %s", def->parent,
			   def->type);
		return r;
	}
	return gvtg_definition_apply_attrs(ctx, def, timeout_ms, detail, detail_size);
}

int gvtg_definition_start(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			  int timeout_ms, char *detail, size_t detail_size)
{
	if (!def->type || !gvtg_name_is_valid(def->parent) || !gvtg_name_is_valid(def->type))
		return -EINVAL;
	set_detail(detail, detail_size, "%s", "");
	_cleanup_free_ char *mdevctl = NULL;
	int r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		set_detail(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r == 0)
		return start_sysfs(ctx, def, timeout_ms, detail, detail_size);

	char *const argv[] = { mdevctl, "start", "--uuid", (char *)def->uuid, "--parent",
			       def->parent, NULL };
	int64_t t0 = now_ms();
	r = run_bounded(ctx, argv, timeout_ms, detail, detail_size);
	if (r >= 0 && !device_active(ctx, def->uuid)) {
		set_detail(detail, detail_size, "%s start reported success, but /%s/%s does not "
			   "exist", mdevctl, MDEV_DEVICES, def->uuid);
		return -ENODEV;
	}
	if (r < 0 && device_active(ctx, def->uuid)) {
		/* mdevctl undoes a refused attr itself; a timeout or a failed callout can
		 * leave the device: nothing may stay active after a failed start. */
		int64_t left = timeout_ms - (now_ms() - t0);
		int k = gvtg_mdev_remove_bounded(ctx, def->uuid, left > 1000 ? (int)left : 1000);
		if (k < 0 && k != -ENOENT)
			log_warning(ctx, "start %s: removing it again: errno %d", def->uuid,
				    -k);
	}
	return r;
}

int gvtg_definition_stop(struct gvtg_ctx *ctx, const char *uuid, int timeout_ms, char *detail,
			 size_t detail_size)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	set_detail(detail, detail_size, "%s", "");
	if (!device_active(ctx, u))
		return -ENOENT;
	_cleanup_free_ char *mdevctl = NULL;
	r = gvtg_mdevctl_find(ctx, &mdevctl);
	if (r < 0) {
		set_detail(detail, detail_size, "GVTG_MDEVCTL must be an absolute path");
		return r;
	}
	if (r == 0)
		return gvtg_mdev_remove_bounded(ctx, u, timeout_ms);
	char *const argv[] = { mdevctl, "stop", "--uuid", u, NULL };
	r = run_bounded(ctx, argv, timeout_ms, detail, detail_size);
	if (r >= 0 && device_active(ctx, u)) {
		set_detail(detail, detail_size, "%s stop reported success, but /%s/%s still "
			   "exists", mdevctl, MDEV_DEVICES, u);
		return -EBUSY;
	}
	return r;
}

/* ---- the lifecycle's step: a definition speaks for its UUID ---------------------- */

int gvtg_definition_lookup(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
			   const struct gvtg_config *cfg, const char *uuid, bool by_hand,
			   struct gvtg_diag *d, struct gvtg_definition *ret_def)
{
	struct gvtg_definition def = { 0 };
	int r = gvtg_definition_find(ctx, uuid, &def);
	if (r == -ENOENT)
		return 0;
	if (def.path)
		snprintf(d->file, sizeof(d->file), "/%s", def.path);
	if (r == -ENOTUNIQ) {
		/* Both files, and so both parents: the first in {file}, the other in {detail}. */
		snprintf(d->detail, sizeof(d->detail), "/%s/%s/%s", GVTG_DEFINITIONS_DIR,
			 def.other_parent, def.uuid);
		gvtg_definition_clear(&def);
		gvtg_diag_report(ctx, d, GVTG_CAUSE_DEFINITION_TWO_PARENTS);
		return r;
	}
	if (r < 0) {
		snprintf(d->detail, sizeof(d->detail), "%s", r == -EBADMSG ? def.error : "cannot be read");
		if (!d->file[0])
			snprintf(d->file, sizeof(d->file), "/%s/*/%s", GVTG_DEFINITIONS_DIR, uuid);
		gvtg_definition_clear(&def);
		d->err = r == -EBADMSG ? 0 : -r;
		gvtg_diag_report(ctx, d, GVTG_CAUSE_DEFINITION_DAMAGED);
		return r;
	}
	struct gvtg_definition_conflict k;
	if (gvtg_definition_check(&def, dom, cfg, &k) < 0) {
		snprintf(d->parent, sizeof(d->parent), "%s", def.parent);
		snprintf(d->type, sizeof(d->type), "%s", def.type);
		snprintf(d->source, sizeof(d->source), "%s",
			 by_hand && k.source == GVTG_SOURCE_METADATA ? "command line"
								     : gvtg_source_to_string(k.source));
		snprintf(d->detail, sizeof(d->detail), "%s %s", k.what, k.theirs);
		gvtg_definition_clear(&def);
		gvtg_diag_report(ctx, d, GVTG_CAUSE_DEFINITION_CONFLICT);
		return -EEXIST;
	}
	*ret_def = def;
	return 1;
}
