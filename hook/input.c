/* SPDX-License-Identifier: MIT */
/*
 * Reading the domain XML libvirt writes on the hook's stdin: all of it, so libvirt's
 * writer is never left blocked, but never more than GVTG_XML_MAX bytes in memory.
 * Part of the small executable (main.c) as well as the core module: it needs only libc.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "early.h"
#include "gvtg.h"
#include "hook.h"

static void drain_rest(int fd)
{
	char sink[65536];
	ssize_t n;
	while ((n = read(fd, sink, sizeof(sink))) > 0 || (n < 0 && errno == EINTR))
		;
}

/* -EFBIG, keeping the document's first GVTG_XML_HEAD bytes (NUL-terminated) in
 * *ret_buf: release end still finds the domain's UUID there.  Takes buf. */
static int too_large(char *buf, size_t len, char **ret_buf, size_t *ret_len)
{
	if (len > GVTG_XML_HEAD)
		len = GVTG_XML_HEAD;
	char *head = realloc(buf, len + 1);
	if (!head) {
		free(buf);
		return -EFBIG;
	}
	head[len] = '\0';
	*ret_buf = head;
	*ret_len = len;
	return -EFBIG;
}

/* Read into buf[len..cap) and on, growing the heap buffer buf (which may be NULL when
 * cap is 0).  Takes buf; on success *ret_buf is NUL-terminated. */
static int read_heap(int fd, char *buf, size_t cap, size_t len, char **ret_buf,
		     size_t *ret_len)
{
	for (;;) {
		if (len == cap) {
			if (cap > GVTG_XML_MAX) { /* read one byte past the limit */
				/* Drain the rest so libvirt's writer is not left blocked; the
				 * answer is "too large", with the head kept. */
				drain_rest(fd);
				return too_large(buf, len, ret_buf, ret_len);
			}
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			if (ncap > GVTG_XML_MAX + 1)
				ncap = GVTG_XML_MAX + 1;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
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
	if (len > GVTG_XML_MAX)
		return too_large(buf, len, ret_buf, ret_len);
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int gvtg_hook_read_input(int fd, char **ret_buf, size_t *ret_len)
{
	return read_heap(fd, NULL, 0, 0, ret_buf, ret_len);
}

int gvtg_hook_read_input_into(int fd, char *first, size_t size, char **ret_buf,
			      size_t *ret_len)
{
	size_t len = 0;
	while (len < size - 1) {
		ssize_t n = read(fd, first + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EBADF || errno == EINVAL)
				break;
			return -errno;
		}
		if (n == 0) {
			first[len] = '\0';
			*ret_buf = first;
			*ret_len = len;
			return 0;
		}
		len += (size_t)n;
	}
	if (len < size - 1) { /* no stdin */
		first[len] = '\0';
		*ret_buf = first;
		*ret_len = len;
		return 0;
	}
	/* Larger than the caller's buffer: go on on the heap. */
	size_t cap = 64 * 1024;
	while (cap < len)
		cap *= 2;
	if (cap > GVTG_XML_MAX + 1)
		cap = len > GVTG_XML_MAX + 1 ? len : GVTG_XML_MAX + 1;
	char *buf = malloc(cap + 1);
	if (!buf) {
		drain_rest(fd);
		return -ENOMEM;
	}
	memcpy(buf, first, len);
	return read_heap(fd, buf, cap, len, ret_buf, ret_len);
}
