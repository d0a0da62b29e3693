/* SPDX-License-Identifier: MIT */
/*
 * Child processes: the one runner for mdevctl, the removals the kernel may block and
 * gvtgctl's run of the hook's self-test.  A child keeps no descriptor but stdin, stdout
 * and stderr (and the one it is handed, as 3): neither the lock nor libvirt's pipes
 * reach it or its callouts.  It runs in a process group of its own, so that at the
 * deadline the whole group is killed, callouts included, and reaped.  What it says is
 * kept (the last GVTG_RUN_OUTPUT_MAX bytes: an error is the last thing said) and
 * cleaned before anyone sees it.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "gvtg-private.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int64_t gvtg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: every descriptor above 2 (above 3 when one is kept) goes. */
static void close_from(int first)
{
	if (close_range((unsigned)first, ~0u, 0) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		for (int fd = first; fd < 65536; fd++)
			close(fd);
		return;
	}
	int keep = dirfd(d), fds[1024];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < ELEMENTSOF(fds)) {
		int fd = atoi(de->d_name);
		if (fd >= first && fd != keep)
			fds[n++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void child(const struct gvtg_run *run, int out_fd)
{
	(void)setpgid(0, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO) < 0 ||
	    dup2(out_fd >= 0 ? out_fd : null, STDERR_FILENO) < 0)
		_exit(127);
	int kept = -1;
	if (!(run->flags & GVTG_RUN_KEEP_FDS)) {
		if (run->keep_fd >= 0) {
			kept = 3;
			if (run->keep_fd != 3 && dup2(run->keep_fd, 3) < 0)
				_exit(127);
		}
		close_from(kept >= 0 ? 4 : 3);
	} else {
		kept = run->keep_fd;
	}
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	for (size_t i = 0; run->env && run->env[i] && run->env[i + 1]; i += 2)
		setenv(run->env[i], run->env[i + 1], 1);
	if (run->fn)
		_exit(run->fn(run->userdata, kept) & 0xff);
	/* libvirt runs hooks with a bare environment; callouts are shell scripts. */
	if (!getenv("PATH"))
		setenv("PATH", DEFAULT_PATH, 1);
	execv(run->argv[0], run->argv);
	/* The shell's convention: 127 not found, 126 found but not runnable. */
	_exit(errno == ENOENT || errno == ENOTDIR ? 127 : 126);
}

int gvtg_run_start(struct gvtg_run *run)
{
	int pfd[2] = { -1, -1 };
	run->pid = 0;
	run->state = GVTG_RUN_NOT_STARTED;
	run->out_fd = -1;
	run->output_len = 0;
	if (run->flags & GVTG_RUN_CAPTURE) {
		if (!run->output && !(run->output = malloc(GVTG_RUN_OUTPUT_MAX + 1)))
			return -ENOMEM;
		run->output[0] = '\0';
		if (pipe2(pfd, O_CLOEXEC) < 0)
			return negative_errno();
	}
	pid_t pid = fork();
	if (pid < 0) {
		int r = negative_errno();
		closep(&pfd[0]);
		closep(&pfd[1]);
		return r;
	}
	if (pid == 0)
		child(run, pfd[1]);
	closep(&pfd[1]);
	(void)setpgid(pid, pid); /* both sides, so that the kill always finds the group */
	run->pid = pid;
	run->out_fd = pfd[0];
	run->state = GVTG_RUN_RUNNING;
	return 0;
}

static void take_output(struct gvtg_run *run, bool drain)
{
	if (run->out_fd < 0)
		return;
	if (drain) /* a callout left behind holding the pipe must not keep us waiting */
		(void)fcntl(run->out_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		if (run->output_len == GVTG_RUN_OUTPUT_MAX) {
			memmove(run->output, run->output + GVTG_RUN_OUTPUT_MAX / 2,
				GVTG_RUN_OUTPUT_MAX / 2);
			run->output_len = GVTG_RUN_OUTPUT_MAX / 2;
		}
		ssize_t n = read(run->out_fd, run->output + run->output_len,
				 GVTG_RUN_OUTPUT_MAX - run->output_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || !drain || errno != EAGAIN) {
				close(run->out_fd);
				run->out_fd = -1;
			}
			return;
		}
		run->output_len += (size_t)n;
		if (!drain)
			return;
	}
}

static void finish(struct gvtg_run *run, int status)
{
	take_output(run, true);
	closep(&run->out_fd);
	run->out_fd = -1;
	if (WIFEXITED(status)) {
		run->state = GVTG_RUN_EXITED;
		run->code = WEXITSTATUS(status);
	} else {
		run->state = GVTG_RUN_SIGNALED;
		run->code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	run->pid = 0;
}

static void clean_output(struct gvtg_run *run)
{
	if (!run->output)
		return;
	char raw[GVTG_RUN_OUTPUT_MAX + 1];
	memcpy(raw, run->output, run->output_len);
	run->output_len = gvtg_text_clean(raw, run->output_len, run->output,
					  GVTG_RUN_OUTPUT_MAX + 1, GVTG_TEXT_KEEP_NEWLINES);
}

void gvtg_run_wait(struct gvtg_run *runs, size_t n, int timeout_ms)
{
	int64_t deadline = gvtg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int delay_ms = 1;
	for (;;) {
		size_t running = 0;
		struct pollfd pfds[64];
		size_t n_pfds = 0;
		for (size_t i = 0; i < n; i++) {
			struct gvtg_run *run = &runs[i];
			if (run->state != GVTG_RUN_RUNNING)
				continue;
			int status;
			pid_t w = waitpid(run->pid, &status, WNOHANG);
			if (w == run->pid) {
				finish(run, status);
				continue;
			}
			if (w < 0 && errno != EINTR) {
				run->state = GVTG_RUN_LOST;
				run->code = errno;
				closep(&run->out_fd);
				run->out_fd = -1;
				continue;
			}
			running++;
			if (run->out_fd >= 0 && n_pfds < ELEMENTSOF(pfds))
				pfds[n_pfds++] = (struct pollfd){ .fd = run->out_fd, .events = POLLIN };
		}
		int64_t left = deadline - gvtg_now_ms();
		if (running == 0 || left <= 0)
			break;
		int wait = (int)(left < delay_ms ? left : delay_ms);
		if (delay_ms < 20)
			delay_ms *= 2;
		if (poll(n_pfds ? pfds : NULL, n_pfds, wait) <= 0)
			continue;
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < n_pfds; k++)
				if (runs[i].state == GVTG_RUN_RUNNING && runs[i].out_fd == pfds[k].fd &&
				    pfds[k].revents)
					take_output(&runs[i], false);
	}
	for (size_t i = 0; i < n; i++) {
		struct gvtg_run *run = &runs[i];
		if (run->state == GVTG_RUN_RUNNING && (run->flags & GVTG_RUN_LEAVE)) {
			/* A write blocked in the kernel: killing it would not stop the removal
			 * (the kernel waits on, uninterruptibly), so it goes on, and ends by
			 * itself when the holder lets go. */
			take_output(run, true);
			closep(&run->out_fd);
			run->out_fd = -1;
			run->state = GVTG_RUN_LEFT;
		} else if (run->state == GVTG_RUN_RUNNING) {
			kill(-run->pid, SIGKILL);
			kill(run->pid, SIGKILL);
			take_output(run, true);
			closep(&run->out_fd);
			run->out_fd = -1;
			/* Reaped when it dies at once; one blocked in the kernel is left. */
			int status;
			for (int k = 0; k < 20 && waitpid(run->pid, &status, WNOHANG) == 0; k++)
				(void)poll(NULL, 0, 10);
			run->state = GVTG_RUN_KILLED;
		}
		clean_output(run);
	}
}

int gvtg_run(struct gvtg_run *run, int timeout_ms)
{
	int r = gvtg_run_start(run);
	if (r < 0)
		return r;
	gvtg_run_wait(run, 1, timeout_ms);
	return 0;
}

void gvtg_run_clear(struct gvtg_run *run)
{
	if (!run)
		return;
	free(run->output);
	run->output = NULL;
	run->output_len = 0;
}

const char *gvtg_run_last_line(const struct gvtg_run *run, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = '\0';
	if (!run->output)
		return buf;
	const char *out = run->output, *end = out + run->output_len;
	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	const char *s = end;
	while (s > out && s[-1] != '\n')
		s--;
	size_t n = (size_t)(end - s);
	if (n >= size)
		n = size - 1;
	while (n > 0 && (s[n] & 0xc0) == 0x80 && n < (size_t)(end - s))
		n--; /* not half a character */
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}
