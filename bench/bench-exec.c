/* SPDX-License-Identifier: MIT */
/*
 * A small timer for the benchmarks: runs programs the way libvirt runs a hook (fork,
 * exec, domain XML on stdin, wait) and reports wall-clock medians.  Written for this
 * because a shell loop or a timer that starts a shell per run would measure the shell,
 * and the numbers that matter here are ratios of a few hundred microseconds.
 *
 *   bench-exec [-n RUNS] [-w WARMUP] [-p WORKERS] [-v] GROUP [-- GROUP]...
 *   GROUP:     LABEL STDIN EXPECT PROGRAM [ARG]...
 *
 * STDIN is a file (or "-" for /dev/null); EXPECT the exit status every run must have
 * ("*": any exit, but no signal).  "{}" in STDIN and in the arguments becomes the
 * worker's index.
 *
 * Without -p the groups run interleaved (A B A B ...), so slow drifts of the machine hit
 * all of them alike; one line per group: LABEL median_us min_us p90_us failures.
 * With -p K, each round starts K workers at once (released together), each running all
 * groups in order with its own index; one line: "parallel" median_us min_us p90_us
 * failures, the times being the wall time of a whole round.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct group {
	char **argv; /* LABEL STDIN EXPECT PROGRAM ARGS..., NULL-terminated */
	int argc;
	long *ns;
	int fails;
	long maxrss_kib;
};

static bool verbose;

static long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* s with every "{}" replaced by the decimal index. */
static char *subst(const char *s, int index)
{
	char num[16];
	int nl = snprintf(num, sizeof(num), "%d", index);
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, "{}")); p += 2)
		n++;
	char *out = malloc(strlen(s) + n * (size_t)nl + 1), *o = out;
	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '{' && s[1] == '}') {
			memcpy(o, num, (size_t)nl);
			o += nl;
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* Run one group once; true when it ended as expected. */
static bool run_once(struct group *g, int index)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench-exec: fork");
		return false;
	}
	if (pid == 0) {
		const char *in = g->argv[1];
		char *path = strcmp(in, "-") ? subst(in, index) : strdup("/dev/null");
		int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
			perror("bench-exec: stdin");
			_exit(127);
		}
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		    (!verbose && dup2(null, STDERR_FILENO) < 0))
			_exit(127);
		char **argv = calloc((size_t)g->argc - 2, sizeof(*argv));
		if (!argv)
			_exit(127);
		for (int i = 3; i < g->argc; i++)
			argv[i - 3] = subst(g->argv[i], index);
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return false;
	if (ru.ru_maxrss > g->maxrss_kib)
		g->maxrss_kib = ru.ru_maxrss;
	if (!WIFEXITED(st))
		return false;
	const char *want = g->argv[2];
	return !strcmp(want, "*") || WEXITSTATUS(st) == atoi(want);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static void report(const char *label, long *ns, int n, int fails, long maxrss_kib)
{
	qsort(ns, (size_t)n, sizeof(*ns), cmp_long);
	long med = n % 2 ? ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2;
	int p90 = (n * 9) / 10;
	if (p90 >= n)
		p90 = n - 1;
	printf("%s\t%.1f\t%.1f\t%.1f\t%d\t%ld\n", label, med / 1e3, ns[0] / 1e3, ns[p90] / 1e3,
	       fails, maxrss_kib);
}

static int parallel_round(struct group *groups, int ngroups, int workers, long *ret_ns)
{
	int barrier[2];
	if (pipe(barrier) < 0)
		return -1;
	pid_t *pids = calloc((size_t)workers, sizeof(*pids));
	if (!pids)
		return -1;
	for (int w = 0; w < workers; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			perror("bench-exec: fork");
			exit(1);
		}
		if (pids[w] == 0) {
			char c;
			close(barrier[1]);
			while (read(barrier[0], &c, 1) < 0 && errno == EINTR)
				;
			int fails = 0;
			for (int g = 0; g < ngroups; g++)
				fails += !run_once(&groups[g], w);
			_exit(fails > 255 ? 255 : fails);
		}
	}
	close(barrier[0]);
	long t0 = now_ns();
	close(barrier[1]); /* EOF releases every worker at once */
	int fails = 0;
	for (int w = 0; w < workers; w++) {
		int st;
		while (waitpid(pids[w], &st, 0) < 0)
			if (errno != EINTR)
				break;
		fails += WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	*ret_ns = now_ns() - t0;
	free(pids);
	return fails;
}

int main(int argc, char **argv)
{
	int runs = 21, warmup = 3, workers = 0, c;
	while ((c = getopt(argc, argv, "+n:w:p:v")) != -1) {
		switch (c) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'p':
			workers = atoi(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			return 2;
		}
	}
	if (runs < 1 || warmup < 0 || workers < 0 || optind >= argc) {
		fputs("usage: bench-exec [-n RUNS] [-w WARMUP] [-p WORKERS] [-v] "
		      "LABEL STDIN EXPECT PROGRAM [ARG]... [-- GROUP]...\n", stderr);
		return 2;
	}

	struct group *groups = calloc((size_t)argc, sizeof(*groups));
	if (!groups)
		return 1;
	int ngroups = 0;
	for (int i = optind; i < argc;) {
		if (!strcmp(argv[i], "--")) {
			i++;
			continue;
		}
		struct group *g = &groups[ngroups++];
		g->argv = &argv[i];
		while (i < argc && strcmp(argv[i], "--"))
			i++, g->argc++;
		if (g->argc < 4) {
			fprintf(stderr, "bench-exec: group '%s' needs LABEL STDIN EXPECT PROGRAM\n",
				g->argv[0]);
			return 2;
		}
		g->ns = calloc((size_t)runs, sizeof(long));
		if (!g->ns)
			return 1;
	}

	if (workers > 0) {
		long *ns = calloc((size_t)runs, sizeof(long));
		int fails = 0;
		if (!ns)
			return 1;
		for (int r = 0; r < warmup + runs; r++) {
			long t;
			int f = parallel_round(groups, ngroups, workers, &t);
			if (f < 0)
				return 1;
			if (r >= warmup) {
				ns[r - warmup] = t;
				fails += f;
			}
		}
		report("parallel", ns, runs, fails, 0);
		return 0;
	}

	for (int r = 0; r < warmup + runs; r++)
		for (int g = 0; g < ngroups; g++) {
			long t0 = now_ns();
			bool ok = run_once(&groups[g], 0);
			long t = now_ns() - t0;
			if (r >= warmup) {
				groups[g].ns[r - warmup] = t;
				groups[g].fails += !ok;
			}
		}
	for (int g = 0; g < ngroups; g++)
		report(groups[g].argv[0], groups[g].ns, runs, groups[g].fails, groups[g].maxrss_kib);
	return 0;
}
