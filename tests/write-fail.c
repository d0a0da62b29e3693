/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim for black-box tests: make write(2) to a file whose path ends in a given
 * suffix fail with a given errno, as the kernel's create and remove attributes do, so the
 * built hook and gvtgctl meet every kernel answer on a plain fake tree.
 *
 *   GVTG_TEST_WRITE_FAIL=<suffix>=<errno>    e.g. "/create=28" (ENOSPC); errno 0 writes
 *                                            one byte less (a short write)
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	const char *spec = getenv("GVTG_TEST_WRITE_FAIL");
	const char *eq = spec ? strrchr(spec, '=') : NULL;
	if (eq && fd > 2) {
		char link[64], path[4096];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t k = readlink(link, path, sizeof(path) - 1);
		size_t sl = (size_t)(eq - spec);
		if (k >= (ssize_t)sl) {
			path[k] = '\0';
			if (!strncmp(path + k - sl, spec, sl)) {
				int e = atoi(eq + 1);
				if (e == 0)
					return n > 0 ? real(fd, buf, n - 1) : 0;
				errno = e;
				return -1;
			}
		}
	}
	return real(fd, buf, n);
}
