/* SPDX-License-Identifier: MIT */
/* Fake sysfs trees for the tests; see fakesys.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesys.h"
#include "gvtg-private.h"

struct fakesys {
	char root[64];
	int root_fd;
	/* fault injection */
	char fail_match[128];
	int fail_nth;
	int fail_err;
	int fail_seen;
	int fail_op;
	bool fail_op_set;
	bool kernel;
	char *log;
	size_t log_len;
};

static int fault_fn(void *userdata, enum gvtg_io_op op, const char *path, const void *buf,
		    size_t len);

static int mkdir_p(struct fakesys *fs, const char *relpath)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", relpath);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdirat(fs->root_fd, p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdirat(fs->root_fd, p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int mkdir_parent(struct fakesys *fs, const char *relpath)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", relpath);
	char *slash = strrchr(p, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return mkdir_p(fs, p);
}

struct fakesys *fakesys_new(void)
{
	struct fakesys *fs = calloc(1, sizeof(*fs));
	if (!fs)
		abort();
	snprintf(fs->root, sizeof(fs->root), "/tmp/gvtg-test-XXXXXX");
	if (!mkdtemp(fs->root))
		abort();
	fs->root_fd = open(fs->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0)
		abort();
	mkdir_p(fs, "sys/class/mdev_bus");
	mkdir_p(fs, "sys/bus/mdev/devices");
	mkdir_p(fs, "sys/devices");
	mkdir_p(fs, "run");
	mkdir_p(fs, "etc");
	/* Record every attribute write; emulate the kernel only when asked. */
	gvtg_io_set_fault_fn(fault_fn, fs);
	return fs;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	/* A FIFO left by a blocked-remove test is just unlinked. */
	return remove(path) < 0 ? 0 : 0;
}

void fakesys_free(struct fakesys *fs)
{
	if (!fs)
		return;
	gvtg_io_set_fault_fn(NULL, NULL);
	free(fs->log);
	close(fs->root_fd);
	nftw(fs->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fs);
}

const char *fakesys_root(const struct fakesys *fs)
{
	return fs->root;
}

int fakesys_write(struct fakesys *fs, const char *relpath, const char *content)
{
	int r = mkdir_parent(fs, relpath);
	if (r < 0)
		return r;
	int fd = openat(fs->root_fd, relpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(content);
	ssize_t n = write(fd, content, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

char *fakesys_read(struct fakesys *fs, const char *relpath)
{
	int fd = openat(fs->root_fd, relpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = calloc(1, 65537);
	ssize_t n = read(fd, buf, 65536);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

bool fakesys_exists(struct fakesys *fs, const char *relpath)
{
	struct stat st;
	return fstatat(fs->root_fd, relpath, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int fakesys_unlink(struct fakesys *fs, const char *relpath)
{
	return unlinkat(fs->root_fd, relpath, 0) < 0 ? -errno : 0;
}

int fakesys_symlink(struct fakesys *fs, const char *relpath, const char *target)
{
	int r = mkdir_parent(fs, relpath);
	if (r < 0)
		return r;
	return symlinkat(target, fs->root_fd, relpath) < 0 ? -errno : 0;
}

int fakesys_count(struct fakesys *fs, const char *relpath)
{
	int fd = openat(fs->root_fd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static bool is_pci(const char *parent)
{
	return strlen(parent) == 12 && parent[4] == ':' && parent[7] == ':' && parent[10] == '.';
}

/* Device directory of a parent, relative to the root. */
static void parent_dir(const char *parent, char *out, size_t size)
{
	if (is_pci(parent))
		snprintf(out, size, "sys/devices/pci0000:00/%s", parent);
	else
		snprintf(out, size, "sys/devices/virtual/%s/%s", parent, parent);
}

int fakesys_add_parent(struct fakesys *fs, const char *parent)
{
	char dir[512], link[1024], target[1024];
	parent_dir(parent, dir, sizeof(dir));
	int r = mkdir_p(fs, dir);
	if (r < 0)
		return r;
	snprintf(link, sizeof(link), "%s/mdev_supported_types", dir);
	r = mkdir_p(fs, link);
	if (r < 0)
		return r;
	snprintf(link, sizeof(link), "sys/class/mdev_bus/%s", parent);
	snprintf(target, sizeof(target), "../../%s", dir + 4);
	return fakesys_symlink(fs, link, target);
}

int fakesys_add_type(struct fakesys *fs, const char *parent, const char *type, const char *name,
		     const char *device_api, const char *description, int available)
{
	char dir[512], p[1024], n[16];
	parent_dir(parent, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/mdev_supported_types/%s/devices", dir, type);
	int r = mkdir_p(fs, p);
	if (r < 0)
		return r;
#define ATTR(file, value)                                                                   \
	do {                                                                                \
		snprintf(p, sizeof(p), "%s/mdev_supported_types/%s/%s", dir, type, file);   \
		if ((r = fakesys_write(fs, p, value)) < 0)                                  \
			return r;                                                           \
	} while (0)
	snprintf(n, sizeof(n), "%d\n", available);
	if (name)
		ATTR("name", name);
	if (device_api)
		ATTR("device_api", device_api);
	if (description)
		ATTR("description", description);
	ATTR("available_instances", n);
	ATTR("create", "");
#undef ATTR
	return 0;
}

int fakesys_add_device(struct fakesys *fs, const char *parent, const char *type,
		       const char *uuid)
{
	char dir[512], p[1024], t[1024];
	parent_dir(parent, dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/%s/remove", dir, uuid);
	int r = fakesys_write(fs, p, "");
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s/%s/mdev_type", dir, uuid);
	snprintf(t, sizeof(t), "../mdev_supported_types/%s", type);
	if ((r = fakesys_symlink(fs, p, t)) < 0)
		return r;
	snprintf(p, sizeof(p), "sys/bus/mdev/devices/%s", uuid);
	snprintf(t, sizeof(t), "../../../%s/%s", dir + 4, uuid);
	return fakesys_symlink(fs, p, t);
}

static const char *gvt_desc(int k)
{
	switch (k) {
	case 8:
		return "low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\nresolution: 1024x768\n"
		       "weight: 2\n";
	case 4:
		return "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\n"
		       "weight: 4\n";
	case 2:
		return "low_gm_size: 256MB\nhigh_gm_size: 1024MB\nfence: 4\nresolution: "
		       "1920x1200\nweight: 8\n";
	default:
		return "low_gm_size: 512MB\nhigh_gm_size: 2048MB\nfence: 4\nresolution: "
		       "1920x1200\nweight: 16\n";
	}
}

void fakesys_gvt_host(struct fakesys *fs)
{
	static const int kinds[] = { 8, 4, 2, 1 };
	static const int avail[] = { 2, 2, 2, 1 };
	fakesys_add_parent(fs, "0000:00:02.0");
	fakesys_write(fs, "sys/devices/pci0000:00/0000:00:02.0/vendor", "0x8086\n");
	fakesys_write(fs, "sys/devices/pci0000:00/0000:00:02.0/device", "0x3e92\n");
	fakesys_write(fs, "sys/devices/pci0000:00/0000:00:02.0/class", "0x030000\n");
	fakesys_symlink(fs, "sys/bus/pci/devices/0000:00:02.0",
			"../../../devices/pci0000:00/0000:00:02.0");
	for (size_t i = 0; i < 4; i++) {
		char type[32], name[32];
		snprintf(type, sizeof(type), "i915-GVTg_V5_%d", kinds[i]);
		snprintf(name, sizeof(name), "GVTg_V5_%d", kinds[i]);
		fakesys_add_type(fs, "0000:00:02.0", type, name, "vfio-pci", gvt_desc(kinds[i]),
				 avail[i]);
	}
}

/* ---- in-process kernel emulation and fault injection ---- */

void fakesys_fail(struct fakesys *fs, const char *match, int nth, int err)
{
	snprintf(fs->fail_match, sizeof(fs->fail_match), "%s", match ? match : "");
	fs->fail_nth = match ? nth : 0;
	fs->fail_err = err;
	fs->fail_seen = 0;
	fs->fail_op_set = false;
}

void fakesys_fail_op(struct fakesys *fs, int op, const char *match, int err)
{
	fakesys_fail(fs, match, 0, err);
	fs->fail_op = op;
	fs->fail_op_set = true;
}

static int read_int(struct fakesys *fs, const char *path)
{
	char *s = fakesys_read(fs, path);
	int v = s ? atoi(s) : 0;
	free(s);
	return v;
}

static void write_int(struct fakesys *fs, const char *path, int v)
{
	char b[16];
	snprintf(b, sizeof(b), "%d\n", v);
	fakesys_write(fs, path, b);
}

static void log_write(struct fakesys *fs, const char *path, const void *buf, size_t len)
{
	size_t need = strlen(path) + len + 3;
	char *nl = realloc(fs->log, fs->log_len + need + 1);
	if (!nl)
		abort();
	fs->log = nl;
	fs->log_len += (size_t)sprintf(fs->log + fs->log_len, "%s ", path);
	memcpy(fs->log + fs->log_len, buf, len);
	fs->log_len += len;
	fs->log[fs->log_len++] = '\n';
	fs->log[fs->log_len] = '\0';
}

const char *fakesys_writes(const struct fakesys *fs)
{
	return fs->log ? fs->log : "";
}

static int emulate_create(struct fakesys *fs, const char *path, const void *buf, size_t len)
{
	char parent[256], type[256], u[40], rel[1400];
	if (sscanf(path, "sys/class/mdev_bus/%255[^/]/mdev_supported_types/%255[^/]/create",
		   parent, type) != 2)
		return 0;
	if (!fakesys_exists(fs, path))
		return -ENOENT;
	if (len != 36 && len != 37)
		return -EINVAL;
	memcpy(u, buf, 36);
	u[36] = '\0';
	char norm[GVTG_UUID_STRLEN + 1];
	if (gvtg_uuid_normalize(u, norm) < 0)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "sys/bus/mdev/devices/%s", norm);
	if (fakesys_exists(fs, rel))
		return -EEXIST;
	char pdir[512];
	parent_dir(parent, pdir, sizeof(pdir));
	snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s/available_instances", pdir, type);
	int avail = read_int(fs, rel);
	if (avail <= 0)
		return -ENOSPC;
	write_int(fs, rel, avail - 1);
	fakesys_add_device(fs, parent, type, norm);
	return GVTG_IO_HANDLED;
}

/* Remove a device's files and links; its type's name in ret_type, its dir's parent
 * directory in ret_parent_dir. */
static int remove_device_tree(struct fakesys *fs, const char *uuid, char *ret_type,
			      size_t type_size, char *ret_parent_dir, size_t dir_size)
{
	char rel[700], target[700], devdir[700], file[800];
	snprintf(rel, sizeof(rel), "sys/bus/mdev/devices/%s", uuid);
	/* sys/bus/mdev/devices/<u> -> ../../../devices/<parent path>/<u> */
	ssize_t n = readlinkat(fs->root_fd, rel, target, sizeof(target) - 1);
	if (n < 0)
		return -ENOENT;
	target[n] = '\0';
	snprintf(devdir, sizeof(devdir), "sys/%s", target + 9);
	snprintf(file, sizeof(file), "%s/mdev_type", devdir);
	ret_type[0] = '\0';
	n = readlinkat(fs->root_fd, file, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		snprintf(ret_type, type_size, "%s", strrchr(target, '/') + 1);
	}
	unlinkat(fs->root_fd, file, 0);
	snprintf(file, sizeof(file), "%s/remove", devdir);
	unlinkat(fs->root_fd, file, 0);
	unlinkat(fs->root_fd, devdir, AT_REMOVEDIR);
	unlinkat(fs->root_fd, rel, 0);
	*strrchr(devdir, '/') = '\0';
	snprintf(ret_parent_dir, dir_size, "%s", devdir);
	return 0;
}

int fakesys_remove_device(struct fakesys *fs, const char *uuid)
{
	char type[256], dir[700];
	return remove_device_tree(fs, uuid, type, sizeof(type), dir, sizeof(dir));
}

static int emulate_remove(struct fakesys *fs, const char *path, const void *buf, size_t len)
{
	char u[64], rel[1400], type[256], dir[700];
	/* sscanf cannot tell whether the literal "/remove" matched: check the end too. */
	size_t plen = strlen(path);
	if (sscanf(path, "sys/bus/mdev/devices/%63[^/]/remove", u) != 1 || plen < 7 ||
	    strcmp(path + plen - 7, "/remove") != 0)
		return 0;
	snprintf(rel, sizeof(rel), "sys/bus/mdev/devices/%s", u);
	if (!fakesys_exists(fs, rel) || !fakesys_exists(fs, path))
		return -ENOENT;
	if (len < 1 || ((const char *)buf)[0] != '1')
		return -EINVAL;
	if (remove_device_tree(fs, u, type, sizeof(type), dir, sizeof(dir)) < 0)
		return -ENOENT;
	if (type[0]) {
		snprintf(rel, sizeof(rel), "%s/mdev_supported_types/%s/available_instances", dir,
			 type);
		write_int(fs, rel, read_int(fs, rel) + 1);
	}
	return GVTG_IO_HANDLED;
}

static int fault_fn(void *userdata, enum gvtg_io_op op, const char *path, const void *buf,
		    size_t len)
{
	struct fakesys *fs = userdata;

	if (fs->fail_op_set && (int)op == fs->fail_op &&
	    (!fs->fail_match[0] || strstr(path, fs->fail_match)))
		return fs->fail_err;
	if (op != GVTG_IO_WRITE_ATTR)
		return 0;
	log_write(fs, path, buf, len);
	if (!fs->fail_op_set && fs->fail_nth > 0 && strstr(path, fs->fail_match) &&
	    ++fs->fail_seen == fs->fail_nth)
		return fs->fail_err ? fs->fail_err : GVTG_IO_SHORT_WRITE;
	if (!fs->kernel)
		return 0;
	/* Removals run in parallel child processes, as the kernel serialises its own
	 * bookkeeping: one at a time through the emulation. */
	int lk = openat(fs->root_fd, ".kernel-lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk >= 0)
		flock(lk, LOCK_EX);
	int r = emulate_create(fs, path, buf, len);
	if (r == 0)
		r = emulate_remove(fs, path, buf, len);
	if (lk >= 0)
		close(lk);
	return r;
}

void fakesys_kernel_attach(struct fakesys *fs)
{
	fs->kernel = true;
	gvtg_io_set_fault_fn(fault_fn, fs);
}

void fakesys_log_attach(struct fakesys *fs)
{
	gvtg_io_set_fault_fn(fault_fn, fs);
}
