/* SPDX-License-Identifier: MIT */
/*
 * The I/O layer: every file the library opens, reads or writes goes through here,
 * relative to the context's root directory fd.  Tests inject faults at this one place.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "gvtg-private.h"

static gvtg_io_fault_fn fault_fn;
static void *fault_userdata;

void gvtg_io_set_fault_fn(gvtg_io_fault_fn fn, void *userdata)
{
	fault_fn = fn;
	fault_userdata = userdata;
}

bool gvtg_io_fault_active(void)
{
	return fault_fn != NULL;
}

static int io_fault(enum gvtg_io_op op, const char *path, const void *buf, size_t len)
{
	if (!fault_fn)
		return 0;
	return fault_fn(fault_userdata, op, path, buf, len);
}

char *gvtg_path_join(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	const char *s;

	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		len += strlen(s) + 1;
	va_end(ap);

	char *out = malloc(len + 1), *p = out;
	if (!out)
		return NULL;
	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *)) {
		if (p != out)
			*p++ = '/';
		size_t n = strlen(s);
		memcpy(p, s, n);
		p += n;
	}
	va_end(ap);
	*p = '\0';
	return out;
}

static int read_text(struct gvtg_ctx *ctx, const char *path, size_t max, bool regular,
		     char **ret_text)
{
	int r = io_fault(GVTG_IO_READ, path, NULL, 0);
	if (r < 0)
		return r;

	/* A state file is ours only as a regular file: a FIFO would block the read (and
	 * everyone waiting for the lock), a symlink could point anywhere. */
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (regular ? O_NOFOLLOW | O_NONBLOCK : 0);
	_cleanup_close_ int fd = openat(ctx->root_fd, path, flags);
	if (fd < 0)
		return regular && errno == ELOOP ? -EBADMSG : negative_errno();
	if (regular) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return negative_errno();
		if (!S_ISREG(st.st_mode))
			return -EBADMSG;
	}

	_cleanup_free_ char *buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	*ret_text = TAKE_PTR(buf);
	return 0;
}

int gvtg_io_read_text(struct gvtg_ctx *ctx, const char *path, size_t max, char **ret_text)
{
	return read_text(ctx, path, max, false, ret_text);
}

int gvtg_io_read_state(struct gvtg_ctx *ctx, const char *path, size_t max, char **ret_text)
{
	return read_text(ctx, path, max, true, ret_text);
}

int gvtg_io_write_attr(struct gvtg_ctx *ctx, const char *path, const void *buf, size_t len)
{
	int r = io_fault(GVTG_IO_WRITE_ATTR, path, buf, len);
	if (r < 0 || r == GVTG_IO_HANDLED)
		return r < 0 ? r : 0;
	if (r == GVTG_IO_SHORT_WRITE && len > 0)
		len--;

	/* No O_CREAT, no O_TRUNC: sysfs attributes exist or the operation is not possible
	 * (ENOENT: no such type or device). */
	_cleanup_close_ int fd = openat(ctx->root_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	ssize_t n;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	if (r == GVTG_IO_SHORT_WRITE || (size_t)n != len)
		return -EIO;
	return 0;
}

int gvtg_io_write_atomic(struct gvtg_ctx *ctx, const char *path, const void *buf, size_t len,
			 int mode)
{
	int r = io_fault(GVTG_IO_WRITE_ATOMIC, path, buf, len);
	if (r < 0)
		return r;

	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	_cleanup_close_ int fd = openat(ctx->root_fd, tmp,
					O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
					mode);
	if (fd < 0)
		return negative_errno();
	const char *p = buf;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = negative_errno();
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	/* State lives on tmpfs: fsync is cheap there and keeps the rename meaningful
	 * anywhere else. */
	if (fsync(fd) < 0 || renameat(ctx->root_fd, tmp, ctx->root_fd, path) < 0) {
		r = negative_errno();
		goto fail;
	}
	return 0;
fail:
	(void)unlinkat(ctx->root_fd, tmp, 0);
	return r;
}

int gvtg_io_unlink(struct gvtg_ctx *ctx, const char *path)
{
	int r = io_fault(GVTG_IO_UNLINK, path, NULL, 0);
	if (r < 0)
		return r;
	if (unlinkat(ctx->root_fd, path, 0) < 0)
		return negative_errno();
	return 0;
}

int gvtg_io_opendir(struct gvtg_ctx *ctx, const char *path, DIR **ret_dir)
{
	int r = io_fault(GVTG_IO_READ, path, NULL, 0);
	if (r < 0)
		return r;
	int fd = openat(ctx->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	DIR *d = fdopendir(fd);
	if (!d) {
		r = negative_errno();
		close(fd);
		return r;
	}
	*ret_dir = d;
	return 0;
}

int gvtg_io_readlink(struct gvtg_ctx *ctx, const char *path, char **ret_target)
{
	int r = io_fault(GVTG_IO_READ, path, NULL, 0);
	if (r < 0)
		return r;
	char buf[PATH_MAX];
	ssize_t n = readlinkat(ctx->root_fd, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = '\0';
	char *t = strdup(buf);
	if (!t)
		return -ENOMEM;
	*ret_target = t;
	return 0;
}

int gvtg_io_access(struct gvtg_ctx *ctx, const char *path)
{
	int r = io_fault(GVTG_IO_READ, path, NULL, 0);
	if (r < 0)
		return r;
	if (faccessat(ctx->root_fd, path, F_OK, 0) < 0)
		return negative_errno();
	return 0;
}

int gvtg_io_mkdir_p(struct gvtg_ctx *ctx, const char *path, int mode)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *s = p;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (*p && mkdirat(ctx->root_fd, p, (mode_t)mode) < 0 && errno != EEXIST)
			return negative_errno();
		*s = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int gvtg_io_open_lock(struct gvtg_ctx *ctx, const char *path)
{
	int r = io_fault(GVTG_IO_LOCK, path, NULL, 0);
	if (r < 0)
		return r;
	int fd = openat(ctx->root_fd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
			0600);
	if (fd < 0)
		return negative_errno();
	return fd;
}
