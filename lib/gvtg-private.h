/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the library's modules: the context, logging, cleanup helpers and
 * the I/O layer (io.c), which is the ONE place where files are opened, read and written,
 * and so the one place where tests inject faults.
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gvtg.h"

struct gvtg_ctx {
	char *root;
	int root_fd;
	gvtg_log_fn log_fn;
	void *log_userdata;
	gvtg_report_fn report_fn;
	void *report_userdata;
	int lock_fd;            /* the lock this context holds, -1: none */
};

void gvtg_log(struct gvtg_ctx *ctx, int priority, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
#define log_err(ctx, ...) gvtg_log(ctx, GVTG_LOG_ERR, __VA_ARGS__)
#define log_warning(ctx, ...) gvtg_log(ctx, GVTG_LOG_WARNING, __VA_ARGS__)
#define log_notice(ctx, ...) gvtg_log(ctx, GVTG_LOG_NOTICE, __VA_ARGS__)
#define log_info(ctx, ...) gvtg_log(ctx, GVTG_LOG_INFO, __VA_ARGS__)
#define log_debug(ctx, ...) gvtg_log(ctx, GVTG_LOG_DEBUG, __VA_ARGS__)

/* ---- cleanup helpers ---- */
static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void *steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define TAKE_PTR(p) steal_ptr(&(p))
static inline int take_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}
#define TAKE_FD(fd) take_fd(&(fd))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
/* errno as a negative value, never 0 (some libc paths leave errno unset). */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* ---- configuration files (config.c, config-files.c) ---- */

/* Parse one file (relative to the root) into c over what earlier files set; a missing
 * file adds nothing.  On an error c->error says why and c->path names the file. */
int gvtg_config_load_one(struct gvtg_ctx *ctx, struct gvtg_config *c, const char *path);
/* Every drop-in of <path>.d into c, in order (gvtg_config_load). */
int gvtg_config_load_dropins(struct gvtg_ctx *ctx, struct gvtg_config *c, const char *path);
/* Record a file read (its copy, owned by c, NULL on ENOMEM) and a setting's origin. */
const char *gvtg_config_add_file(struct gvtg_config *c, const char *path);
int gvtg_config_set_origin(struct gvtg_config *c, const char *section, const char *key,
			   const char *file, int line);
void gvtg_config_free_files(struct gvtg_config *c);

/* ---- I/O layer (io.c) ---- */

/* Read a small text file (relative to the root) into a NUL-terminated string with
 * trailing newlines stripped.  At most max bytes; -EFBIG above. */
int gvtg_io_read_text(struct gvtg_ctx *ctx, const char *path, size_t max, char **ret_text);
/* The same for our state files: a regular file only (no symlink, no FIFO: -EBADMSG),
 * opened without blocking. */
int gvtg_io_read_state(struct gvtg_ctx *ctx, const char *path, size_t max, char **ret_text);
/* One open + one write(2) of exactly len bytes to an existing file (sysfs attributes).
 * A short write is -EIO. */
int gvtg_io_write_attr(struct gvtg_ctx *ctx, const char *path, const void *buf, size_t len);
/* Write a whole file atomically: <path>.tmp.<pid>, fsync, rename. mode for the new file. */
int gvtg_io_write_atomic(struct gvtg_ctx *ctx, const char *path, const void *buf, size_t len,
			 int mode);
int gvtg_io_unlink(struct gvtg_ctx *ctx, const char *path);
/* Open a directory relative to the root, for listing. */
int gvtg_io_opendir(struct gvtg_ctx *ctx, const char *path, DIR **ret_dir);
/* readlinkat relative to the root, NUL-terminated. */
int gvtg_io_readlink(struct gvtg_ctx *ctx, const char *path, char **ret_target);
/* Does path exist (not following a final symlink when nofollow). 0 yes, -ENOENT no. */
int gvtg_io_access(struct gvtg_ctx *ctx, const char *path);
/* mkdir -p relative to the root with the mode for new directories. */
int gvtg_io_mkdir_p(struct gvtg_ctx *ctx, const char *path, int mode);
/* Open a file for the lock (O_RDWR|O_CREAT, 0600). */
int gvtg_io_open_lock(struct gvtg_ctx *ctx, const char *path);

/*
 * Test seam.  When set, called before every operation of the I/O layer with its kind,
 * its path and (for writes) the bytes.  A negative return is that operation's -errno
 * result; GVTG_IO_SHORT_WRITE makes a write write one byte less; GVTG_IO_HANDLED makes
 * it succeed without touching the file (an emulated kernel).  Tests only.
 */
enum gvtg_io_op {
	GVTG_IO_READ,
	GVTG_IO_WRITE_ATTR,
	GVTG_IO_WRITE_ATOMIC,
	GVTG_IO_UNLINK,
	GVTG_IO_LOCK,
};
#define GVTG_IO_SHORT_WRITE 1
#define GVTG_IO_HANDLED 2
typedef int (*gvtg_io_fault_fn)(void *userdata, enum gvtg_io_op op, const char *path,
				const void *buf, size_t len);
void gvtg_io_set_fault_fn(gvtg_io_fault_fn fn, void *userdata);
/* Is a test seam installed?  (Its emulated kernel keeps descriptors of its own.) */
bool gvtg_io_fault_active(void);

/* Join path components with '/', each already validated. */
char *gvtg_path_join(const char *first, ...) __attribute__((sentinel));

/* ---- removals (mdev.c) ---- */

/* Remove n vGPUs at once, each in its own child process that keeps no descriptor but
 * the root (so no lock outlives the call), all waited for at most timeout_ms together.
 * ret_results[i]: 0 removed (or gone: a vGPU that is gone is never reported blocked),
 * -ETIMEDOUT still blocked, else the kernel's -errno. */
int gvtg_mdev_remove_many(struct gvtg_ctx *ctx, const char (*uuids)[GVTG_UUID_STRLEN + 1],
			  size_t n, int timeout_ms, int *ret_results);
/* The device nodes through which a process can hold the vGPU uuid (normalized): its VFIO
 * group (/dev/vfio/<group>) and, with iommufd, its cdev (/dev/vfio/devices/vfio<N>). */
int gvtg_mdev_vfio_nodes(struct gvtg_ctx *ctx, const char *uuid, char want[2][64],
			 size_t *ret_n);
/* What a remove_timeout of 0 waits: the moment a removal nothing holds takes. */
#define GVTG_REMOVE_GRACE_MS 500

/* ---- the one removal's mechanism (removal.c) ----
 * Take n vGPUs away: each defined one through `mdevctl stop` first when there is an
 * mdevctl (at most mdevctl_ms each), then the sysfs remove of every device still there,
 * together, waited for at most remove_ms (gvtg_mdev_remove_many()).  No words, no
 * records: the lifecycle's gvtg_remove_vgpus() says what happened and keeps the books. */
struct gvtg_takedown {
	/* results */
	int r;                  /* 0 removed, -ENOENT not there, -ETIMEDOUT blocked, -errno */
	int mdevctl_r;          /* < 0: mdevctl stop failed, was killed, or left the device */
	/* in */
	bool defined;
	/* results */
	bool by_mdevctl;        /* mdevctl stop took it away */
	/* in */
	char uuid[GVTG_UUID_STRLEN + 1];
	/* results */
	char mdevctl_detail[200]; /* then: how (its last line, or that it was killed) */
};
void gvtg_takedown(struct gvtg_ctx *ctx, struct gvtg_takedown *v, size_t n, int mdevctl_ms,
		   int remove_ms);

/* Write a detail text for a caller's buffer (NULL or size 0: nothing), the one way the
 * data sources fill theirs (text.c). */
void gvtg_detail_set(char *detail, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- mdevctl (mdevctl.c) ----
 * Run argv (mdevctl's path, then `VERB --uuid UUID ...`) through the runner, at most
 * timeout_ms (then killed with its callouts).  0: exit status 0.  -ETIMEDOUT; -ENOENT/-EACCES: it
 * cannot be run; -EPROTO: another status, detail its last line (cleaned) or the status. */
int gvtg_mdevctl_run(struct gvtg_ctx *ctx, char *const argv[], int timeout_ms, char *detail,
		     size_t detail_size);
