/* SPDX-License-Identifier: MIT */
/*
 * Mediated devices in sysfs: parents (sys/class/mdev_bus), their types
 * (<parent>/mdev_supported_types), active devices (sys/bus/mdev/devices), create and
 * remove.  No name becomes part of a path before gvtg_name_is_valid() accepted it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "gvtg-private.h"

#define MDEV_BUS "sys/class/mdev_bus"
#define MDEV_DEVICES "sys/bus/mdev/devices"
#define ATTR_MAX 4096

bool gvtg_name_is_valid(const char *name)
{
	if (!name || !*name || name[0] == '.' || strlen(name) > 128)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._:-+@", *p))
			return false;
	return true;
}

void gvtg_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the entries of a directory that pass gvtg_name_is_valid(), sorted. */
static int list_names(struct gvtg_ctx *ctx, const char *path, char ***ret_names, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	int r = gvtg_io_opendir(ctx, path, &d);
	if (r < 0)
		return r;

	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!gvtg_name_is_valid(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), strcmp_ptr);
	*ret_names = v;
	*ret_n = n;
	return 0;
oom:
	gvtg_strv_free(v, n);
	return -ENOMEM;
}

int gvtg_parents_list(struct gvtg_ctx *ctx, char ***ret_names, size_t *ret_n)
{
	char **v;
	size_t n;
	int r = list_names(ctx, MDEV_BUS, &v, &n);
	if (r == -ENOENT) {
		/* No mdev core loaded: no parents, not an error. */
		v = NULL;
		n = 0;
	} else if (r < 0)
		return r;
	*ret_names = v;
	*ret_n = n;
	return 0;
}

int gvtg_parent_check(struct gvtg_ctx *ctx, const char *parent)
{
	if (!gvtg_name_is_valid(parent))
		return -EINVAL;
	_cleanup_free_ char *p = gvtg_path_join(MDEV_BUS, parent, "mdev_supported_types", NULL);
	if (!p)
		return -ENOMEM;
	return gvtg_io_access(ctx, p);
}

void gvtg_type_clear(struct gvtg_type *t)
{
	if (!t)
		return;
	free(t->parent);
	free(t->id);
	free(t->name);
	free(t->device_api);
	free(t->description);
	memset(t, 0, sizeof(*t));
}

void gvtg_types_free(struct gvtg_type *types, size_t n)
{
	if (!types)
		return;
	for (size_t i = 0; i < n; i++)
		gvtg_type_clear(&types[i]);
	free(types);
}

/* An optional attribute of a type: NULL when missing or unreadable. */
static char *type_attr(struct gvtg_ctx *ctx, const char *dir, const char *attr)
{
	_cleanup_free_ char *p = gvtg_path_join(dir, attr, NULL);
	char *v = NULL;
	if (p && gvtg_io_read_text(ctx, p, ATTR_MAX, &v) < 0)
		return NULL;
	return v;
}

int gvtg_type_get(struct gvtg_ctx *ctx, const char *parent, const char *type,
		  struct gvtg_type *ret_type)
{
	if (!gvtg_name_is_valid(parent) || !gvtg_name_is_valid(type))
		return -EINVAL;
	_cleanup_free_ char *dir =
		gvtg_path_join(MDEV_BUS, parent, "mdev_supported_types", type, NULL);
	if (!dir)
		return -ENOMEM;
	int r = gvtg_io_access(ctx, dir);
	if (r < 0)
		return r;

	struct gvtg_type t = { .available = -1 };
	t.parent = strdup(parent);
	t.id = strdup(type);
	if (!t.parent || !t.id) {
		gvtg_type_clear(&t);
		return -ENOMEM;
	}
	t.name = type_attr(ctx, dir, "name");
	t.device_api = type_attr(ctx, dir, "device_api");
	t.description = type_attr(ctx, dir, "description");
	_cleanup_free_ char *avail = type_attr(ctx, dir, "available_instances");
	if (avail) {
		char *end;
		errno = 0;
		long v = strtol(avail, &end, 10);
		if (errno == 0 && end != avail && *end == '\0' && v >= 0 && v <= INT32_MAX)
			t.available = (int)v;
	}
	*ret_type = t;
	return 0;
}

int gvtg_types_list(struct gvtg_ctx *ctx, const char *parent, struct gvtg_type **ret_types,
		    size_t *ret_n)
{
	if (!gvtg_name_is_valid(parent))
		return -EINVAL;
	_cleanup_free_ char *dir = gvtg_path_join(MDEV_BUS, parent, "mdev_supported_types", NULL);
	if (!dir)
		return -ENOMEM;
	char **names;
	size_t n;
	int r = list_names(ctx, dir, &names, &n);
	if (r < 0)
		return r;

	struct gvtg_type *types = calloc(n ? n : 1, sizeof(*types));
	if (!types) {
		gvtg_strv_free(names, n);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		r = gvtg_type_get(ctx, parent, names[i], &types[k]);
		if (r == -ENOENT)
			continue; /* went away while listing */
		if (r < 0) {
			gvtg_types_free(types, k);
			gvtg_strv_free(names, n);
			return r;
		}
		k++;
	}
	gvtg_strv_free(names, n);
	*ret_types = types;
	*ret_n = k;
	return 0;
}

void gvtg_device_clear(struct gvtg_device *d)
{
	if (!d)
		return;
	free(d->parent);
	free(d->type);
	memset(d, 0, sizeof(*d));
}

void gvtg_devices_free(struct gvtg_device *devs, size_t n)
{
	if (!devs)
		return;
	for (size_t i = 0; i < n; i++)
		gvtg_device_clear(&devs[i]);
	free(devs);
}

/* Last component of a path, and the one before it. */
static const char *last_component(const char *path, size_t *ret_len, const char **ret_prev,
				  size_t *ret_prev_len)
{
	const char *end = path + strlen(path);
	while (end > path && end[-1] == '/')
		end--;
	const char *s = end;
	while (s > path && s[-1] != '/')
		s--;
	*ret_len = (size_t)(end - s);
	if (ret_prev) {
		const char *pe = s;
		while (pe > path && pe[-1] == '/')
			pe--;
		const char *ps = pe;
		while (ps > path && ps[-1] != '/')
			ps--;
		*ret_prev = ps;
		*ret_prev_len = (size_t)(pe - ps);
	}
	return s;
}

int gvtg_device_get(struct gvtg_ctx *ctx, const char *uuid, struct gvtg_device *ret_dev)
{
	struct gvtg_device d = { 0 };
	int r = gvtg_uuid_normalize(uuid, d.uuid);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = gvtg_path_join(MDEV_DEVICES, d.uuid, NULL);
	_cleanup_free_ char *typelink = gvtg_path_join(MDEV_DEVICES, d.uuid, "mdev_type", NULL);
	if (!dir || !typelink)
		return -ENOMEM;
	r = gvtg_io_access(ctx, dir);
	if (r < 0)
		return r;

	/* The type: <dev>/mdev_type -> .../mdev_supported_types/<type>.  The parent: the
	 * directory that holds the device, <parent>/<uuid>. */
	_cleanup_free_ char *target = NULL;
	if (gvtg_io_readlink(ctx, typelink, &target) >= 0) {
		size_t len;
		const char *s = last_component(target, &len, NULL, NULL);
		char *t = strndup(s, len);
		if (t && gvtg_name_is_valid(t))
			d.type = t;
		else
			free(t);
	}
	_cleanup_free_ char *devtarget = NULL;
	if (gvtg_io_readlink(ctx, dir, &devtarget) >= 0) {
		size_t len, plen;
		const char *prev;
		(void)last_component(devtarget, &len, &prev, &plen);
		char *p = strndup(prev, plen);
		if (p && gvtg_name_is_valid(p))
			d.parent = p;
		else
			free(p);
	}
	*ret_dev = d;
	return 0;
}

static int device_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gvtg_device *)a)->uuid, ((const struct gvtg_device *)b)->uuid);
}

int gvtg_devices_list(struct gvtg_ctx *ctx, struct gvtg_device **ret_devs, size_t *ret_n)
{
	char **names;
	size_t n;
	int r = list_names(ctx, MDEV_DEVICES, &names, &n);
	if (r == -ENOENT) {
		names = NULL;
		n = 0;
	} else if (r < 0)
		return r;

	struct gvtg_device *devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs) {
		gvtg_strv_free(names, n);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char u[GVTG_UUID_STRLEN + 1];
		if (gvtg_uuid_normalize(names[i], u) < 0 || strcmp(u, names[i]) != 0)
			continue;
		r = gvtg_device_get(ctx, names[i], &devs[k]);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			gvtg_devices_free(devs, k);
			gvtg_strv_free(names, n);
			return r;
		}
		k++;
	}
	gvtg_strv_free(names, n);
	if (k > 1)
		qsort(devs, k, sizeof(*devs), device_cmp);
	*ret_devs = devs;
	*ret_n = k;
	return 0;
}

int gvtg_mdev_create(struct gvtg_ctx *ctx, const char *parent, const char *type,
		     const char *uuid)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	if (!gvtg_name_is_valid(parent) || !gvtg_name_is_valid(type))
		return -EINVAL;
	_cleanup_free_ char *p =
		gvtg_path_join(MDEV_BUS, parent, "mdev_supported_types", type, "create", NULL);
	if (!p)
		return -ENOMEM;
	/* Exactly the 36 bytes, in one write(2): the kernel parses the buffer of that one
	 * call, and its error (EEXIST, ENOSPC...) is the write's result. */
	r = gvtg_io_write_attr(ctx, p, u, GVTG_UUID_STRLEN);
	if (r < 0)
		log_debug(ctx, "create %s on %s/%s: errno %d", u, parent, type, -r);
	else
		log_debug(ctx, "created %s on %s/%s", u, parent, type);
	return r;
}

int gvtg_mdev_remove(struct gvtg_ctx *ctx, const char *uuid)
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, u, "remove", NULL);
	if (!p)
		return -ENOMEM;
	r = gvtg_io_write_attr(ctx, p, "1", 1);
	if (r < 0)
		log_debug(ctx, "remove %s: errno %d", u, -r);
	else
		log_debug(ctx, "removed %s", u);
	return r;
}

struct remove_job {
	struct gvtg_ctx *ctx;
	char uuid[GVTG_UUID_STRLEN + 1];
};

/* In the child: the runner kept only stdin/out/err (/dev/null) and the root directory,
 * as 3.  Above all the lock is gone: a flock belongs to the open file description, and a
 * child blocked in the kernel would hold it for every other domain until the removal
 * ends.  (A test's emulated kernel works through descriptors of its own: all are kept.) */
static int remove_child(void *userdata, int kept_fd)
{
	struct remove_job *job = userdata;
	struct gvtg_ctx *ctx = job->ctx;
	if (gvtg_io_fault_active()) {
		if (ctx->lock_fd >= 0)
			close(ctx->lock_fd); /* every descriptor was kept: this one must go */
	} else if (kept_fd >= 0) {
		ctx->root_fd = kept_fd;
	}
	ctx->lock_fd = -1;
	ctx->log_fn = NULL;
	ctx->report_fn = NULL;
	int r = gvtg_mdev_remove(ctx, job->uuid);
	return r < 0 && -r < 255 ? -r : (r < 0 ? 254 : 0);
}

static bool device_gone(struct gvtg_ctx *ctx, const char *uuid)
{
	_cleanup_free_ char *p = gvtg_path_join(MDEV_DEVICES, uuid, NULL);
	return p && gvtg_io_access(ctx, p) == -ENOENT;
}

int gvtg_mdev_remove_many(struct gvtg_ctx *ctx, const char (*uuids)[GVTG_UUID_STRLEN + 1],
			  size_t n, int timeout_ms, int *ret_results)
{
	struct remove_job jobs[64];
	struct gvtg_run runs[64];
	if (n > ELEMENTSOF(runs))
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct remove_job){ .ctx = ctx };
		runs[i] = (struct gvtg_run){ .fn = remove_child, .userdata = &jobs[i],
					     .keep_fd = ctx->root_fd, .flags = GVTG_RUN_LEAVE };
		if (gvtg_io_fault_active())
			runs[i].flags |= GVTG_RUN_KEEP_FDS;
		ret_results[i] = gvtg_uuid_normalize(uuids[i], jobs[i].uuid);
		if (ret_results[i] < 0)
			continue;
		ret_results[i] = gvtg_run_start(&runs[i]);
	}
	int wait_ms = timeout_ms > 0 ? timeout_ms : GVTG_REMOVE_GRACE_MS;
	gvtg_run_wait(runs, n, wait_ms);
	for (size_t i = 0; i < n; i++) {
		const struct gvtg_run *run = &runs[i];
		if (ret_results[i] < 0)
			continue;
		switch (run->state) {
		case GVTG_RUN_EXITED:
			ret_results[i] = run->code ? -run->code : 0;
			break;
		case GVTG_RUN_LEFT:
			/* Gone from sysfs while its child still unwinds: removed, not pending. */
			if (device_gone(ctx, jobs[i].uuid)) {
				ret_results[i] = 0;
				break;
			}
			ret_results[i] = -ETIMEDOUT;
			log_warning(ctx, "remove %s still blocked after %d ms, left running in "
				    "process %ld", jobs[i].uuid, wait_ms, (long)run->pid);
			break;
		case GVTG_RUN_LOST:
			ret_results[i] = run->code > 0 ? -run->code : -ECHILD;
			break;
		default:
			ret_results[i] = -EINTR;
			break;
		}
	}
	return 0;
}

int gvtg_mdev_remove_bounded(struct gvtg_ctx *ctx, const char *uuid, int timeout_ms)
{
	char u[1][GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u[0]);
	if (r < 0)
		return r;
	int result;
	r = gvtg_mdev_remove_many(ctx, (const char(*)[GVTG_UUID_STRLEN + 1])u, 1, timeout_ms,
				  &result);
	return r < 0 ? r : result;
}

/* ---- holders: who has the device's VFIO group open ---- */

/* The device nodes through which a process can hold the vGPU: its VFIO group
 * (/dev/vfio/<group>) and, with iommufd, its own cdev (/dev/vfio/devices/vfio<N>). */
int gvtg_mdev_vfio_nodes(struct gvtg_ctx *ctx, const char *u, char want[2][64], size_t *ret_n)
{
	size_t n = 0;
	_cleanup_free_ char *link = gvtg_path_join(MDEV_DEVICES, u, "iommu_group", NULL);
	_cleanup_free_ char *target = NULL;
	if (!link)
		return -ENOMEM;
	if (gvtg_io_readlink(ctx, link, &target) >= 0) {
		const char *group = strrchr(target, '/');
		group = group ? group + 1 : target;
		if (*group && strspn(group, "0123456789") == strlen(group))
			snprintf(want[n++], 64, "/dev/vfio/%s", group);
	}
	_cleanup_free_ char *cdir = gvtg_path_join(MDEV_DEVICES, u, "vfio-dev", NULL);
	_cleanup_closedir_ DIR *d = NULL;
	if (cdir && gvtg_io_opendir(ctx, cdir, &d) >= 0) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "vfio", 4) && de->d_name[4] &&
			    strspn(de->d_name + 4, "0123456789") == strlen(de->d_name + 4)) {
				snprintf(want[n++], 64, "/dev/vfio/devices/%.40s", de->d_name);
				break;
			}
	}
	*ret_n = n;
	return 0;
}

int gvtg_device_holder(struct gvtg_ctx *ctx, const char *uuid, long *ret_pid,
		       char ret_comm[32])
{
	char u[GVTG_UUID_STRLEN + 1];
	int r = gvtg_uuid_normalize(uuid, u);
	if (r < 0)
		return r;
	char want[2][64];
	size_t n_want;
	r = gvtg_mdev_vfio_nodes(ctx, u, want, &n_want);
	if (r < 0)
		return r;
	if (n_want == 0)
		return 0; /* no VFIO node: nothing can hold it open */

	_cleanup_closedir_ DIR *proc = NULL;
	if (gvtg_io_opendir(ctx, "proc", &proc) < 0)
		return 0;
	struct dirent *de;
	while ((de = readdir(proc))) {
		if (strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		_cleanup_free_ char *fdp = gvtg_path_join("proc", de->d_name, "fd", NULL);
		_cleanup_closedir_ DIR *fds = NULL;
		if (!fdp || gvtg_io_opendir(ctx, fdp, &fds) < 0)
			continue;
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			if (fe->d_name[0] == '.')
				continue;
			_cleanup_free_ char *p = gvtg_path_join(fdp, fe->d_name, NULL);
			_cleanup_free_ char *t = NULL;
			if (!p || gvtg_io_readlink(ctx, p, &t) < 0)
				continue;
			bool match = false;
			for (size_t k = 0; k < n_want; k++)
				match = match || !strcmp(t, want[k]);
			if (!match)
				continue;
			*ret_pid = strtol(de->d_name, NULL, 10);
			if (ret_comm) {
				_cleanup_free_ char *cp = gvtg_path_join("proc", de->d_name, "comm",
									 NULL);
				_cleanup_free_ char *comm = NULL;
				if (cp && gvtg_io_read_text(ctx, cp, 256, &comm) >= 0)
					snprintf(ret_comm, 32, "%.31s", comm);
				else
					snprintf(ret_comm, 32, "?");
			}
			return 1;
		}
	}
	return 0;
}

int gvtg_gvt_info_parse(const char *description, struct gvtg_gvt_info *ret_info)
{
	struct gvtg_gvt_info info = { 0 };
	bool any = false;
	if (!description)
		return -EINVAL;
	for (const char *line = description; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[128];
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			char *colon = strchr(buf, ':');
			if (colon) {
				*colon = '\0';
				char *v = colon + 1;
				while (*v == ' ' || *v == '\t')
					v++;
				unsigned long n = strtoul(v, NULL, 10);
				if (n > 1u << 30)
					n = 0;
				if (!strcmp(buf, "low_gm_size"))
					info.low_gm_mb = (unsigned)n, any = true;
				else if (!strcmp(buf, "high_gm_size"))
					info.high_gm_mb = (unsigned)n, any = true;
				else if (!strcmp(buf, "fence"))
					info.fence = (unsigned)n, any = true;
				else if (!strcmp(buf, "weight"))
					info.weight = (unsigned)n, any = true;
				else if (!strcmp(buf, "resolution")) {
					snprintf(info.resolution, sizeof(info.resolution), "%s", v);
					any = true;
				}
			}
		}
		line += len;
		if (*line == '\n')
			line++;
	}
	if (!any)
		return -EINVAL;
	*ret_info = info;
	return 0;
}

/* Append to a summary; false once it is full (then it ends in "..."). */
static bool summary_add(char *out, size_t size, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool summary_add(char *out, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(out + *used, size - *used, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= size - *used) {
		if (size > 4)
			strcpy(out + size - 4, "...");
		*used = size;
		return false;
	}
	*used += (size_t)k;
	return true;
}

void gvtg_parents_summary(struct gvtg_ctx *ctx, char *out, size_t size)
{
	char **parents;
	size_t n, used = 0;
	out[0] = '\0';
	if (gvtg_parents_list(ctx, &parents, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!summary_add(out, size, &used, "%s%s", i ? ", " : "", parents[i]))
			break;
	gvtg_strv_free(parents, n);
}

void gvtg_types_summary(struct gvtg_ctx *ctx, const char *parent, unsigned flags, char *out,
			size_t size)
{
	struct gvtg_type *types;
	size_t n, used = 0;
	out[0] = '\0';
	if (gvtg_types_list(ctx, parent, &types, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct gvtg_type *t = &types[i];
		if ((flags & GVTG_SUMMARY_FREE_ONLY) && t->available <= 0)
			continue;
		struct gvtg_gvt_info info;
		char what[96] = "";
		if (!(flags & GVTG_SUMMARY_DETAILS))
			;
		else if (t->description && gvtg_gvt_info_parse(t->description, &info) == 0 &&
			 info.resolution[0])
			snprintf(what, sizeof(what), "%s, ", info.resolution);
		else if (t->name)
			snprintf(what, sizeof(what), "%.60s, ", t->name);
		if (!summary_add(out, size, &used, "%s%s (%s%d left)", used ? ", " : "", t->id,
				 what, t->available < 0 ? 0 : t->available))
			break;
	}
	gvtg_types_free(types, n);
}
