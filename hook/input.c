/* SPDX-License-Identifier: MIT */
/*
 * Reading the domain XML libvirt writes on the hook's stdin: all of it, so libvirt's
 * writer is never left blocked, but never more than GVTG_XML_MAX bytes in memory.
 * Part of the small executable (main.c) as well as the core module: it needs only libc.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "gvtg.h"
#include "hook.h"

int gvtg_hook_read_input(int fd, char **ret_buf, size_t *ret_len)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > GVTG_XML_MAX) {
				/* Drain the rest so libvirt's writer is not left blocked, but keep
				 * nothing: the answer is already "too large". */
				char sink[65536];
				ssize_t n;
				while ((n = read(fd, sink, sizeof(sink))) > 0 ||
				       (n < 0 && errno == EINTR))
					;
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EBADF || errno == EINVAL)
				break; /* no stdin at all: same as empty */
			int r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > GVTG_XML_MAX) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}
