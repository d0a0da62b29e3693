/* SPDX-License-Identifier: MIT */
/*
 * What the commands share: messages in the hook's style, the library context and the
 * configuration, the lock, placement, creating and removing a vGPU with its record,
 * tables through libsmartcols, and reading files under the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/* ---- messages ---------------------------------------------------------------------- */

void ctl_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("gvtgctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("gvtgctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(". See 'gvtgctl --help'\n", stderr);
	return CTL_EXIT_USAGE;
}

static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
{
	struct ctl *c = userdata;
	if (priority > (c->verbose > 1 ? GVTG_LOG_DEBUG : GVTG_LOG_INFO))
		return;
	fputs("gvtgctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* ---- setup ------------------------------------------------------------------------- */

int ctl_open(struct ctl *c)
{
	if (c->ctx)
		return 0;
	int r = gvtg_ctx_new(c->root, &c->ctx);
	if (r < 0) {
		ctl_error("opening the root directory, %s: %s. Check the --root argument",
			  c->root ? c->root : "/", strerror(-r));
		return r;
	}
	if (c->verbose)
		gvtg_ctx_set_log_fn(c->ctx, lib_log, c);
	return 0;
}

const char *ctl_config_path(const struct ctl *c)
{
	if (c->cfg && c->cfg->path)
		return c->cfg->path;
	return c->config ? c->config : gvtg_config_default_path();
}

int ctl_open_config(struct ctl *c)
{
	int r = ctl_open(c);
	if (r < 0 || c->cfg)
		return r;
	r = gvtg_config_load(c->ctx, c->config, &c->cfg);
	if (r == -EBADMSG && c->cfg) {
		ctl_error("reading the configuration, %s line %d: %s. Fix the file (see "
			  "gvtg-hook.conf(5)); 'gvtgctl check' reports the same",
			  ctl_config_path(c), c->cfg->error_line, c->cfg->error);
		return r;
	}
	if (r < 0) {
		ctl_error("reading the configuration, %s: %s. Check the file's permissions",
			  ctl_config_path(c), strerror(-r));
		return r;
	}
	return 0;
}

void ctl_free(struct ctl *c)
{
	c->cfg = gvtg_config_free(c->cfg);
	c->ctx = gvtg_ctx_free(c->ctx);
	free(c->config);
	c->config = NULL;
}

int ctl_lock(struct ctl *c, const char *what)
{
	int timeout = c->cfg ? c->cfg->lock_timeout_ms : GVTG_LOCK_TIMEOUT_MS_DEFAULT;
	int fd = gvtg_lock_acquire(c->ctx, timeout);
	if (fd >= 0)
		return fd;
	if (fd == -ETIMEDOUT)
		ctl_error("%s, /%s/lock: still held after %d s by a gvtg-hook or another "
			  "gvtgctl. Find the holder with 'fuser -v /%s/lock'",
			  what, gvtg_state_dir(), timeout / 1000, gvtg_state_dir());
	else
		ctl_error("%s, /%s/lock: %s. Check that /%s is writable (run as root)", what,
			  gvtg_state_dir(), strerror(-fd), gvtg_state_dir());
	return fd;
}

void ctl_describe_parents(struct ctl *c, char *out, size_t size)
{
	gvtg_parents_summary(c->ctx, out, size);
	if (!out[0])
		snprintf(out, size, "none");
}

void ctl_describe_types(struct ctl *c, const char *parent, char *out, size_t size)
{
	gvtg_types_summary(c->ctx, parent, 0, out, size);
	if (!out[0])
		snprintf(out, size, "none");
}

const char *ctl_source_string(enum gvtg_source s)
{
	/* The command line stands where the hook has the domain's metadata. */
	if (s == GVTG_SOURCE_METADATA)
		return "command line";
	return gvtg_source_to_string(s);
}

int ctl_resolve(struct ctl *c, const char *what, const char *uuid, const char *parent,
		const char *type, struct gvtg_placement *ret_placement)
{
	/* The command line's choice takes the place of a domain's metadata, so the rules
	 * after it are exactly the hook's. */
	struct gvtg_meta_device meta = { .parent = (char *)parent, .type = (char *)type };
	struct gvtg_domain dom = { .meta = &meta, .n_meta = 1 };
	memcpy(meta.uuid, uuid, sizeof(meta.uuid));

	struct gvtg_placement p = { 0 };
	int r = gvtg_placement_resolve(c->ctx, parent || type ? &dom : NULL, c->cfg, uuid, &p);
	if (r >= 0) {
		*ret_placement = p;
		return 0;
	}

	char list[512];
	switch (r) {
	case -ENXIO:
		ctl_error("%s, %s: no mdev parent device is registered on this host. Enable "
			  "GVT-g (i915.enable_gvt=1 intel_iommu=on, module kvmgt); 'gvtgctl "
			  "check' shows what is missing",
			  what, uuid);
		break;
	case -ENOENT:
		ctl_describe_parents(c, list, sizeof(list));
		ctl_error("%s, %s: mdev parent '%s' (from the %s) is not registered. "
			  "Registered parents: %s",
			  what, uuid, p.parent ? p.parent : "?", ctl_source_string(p.parent_source),
			  list);
		break;
	case -EINVAL:
		ctl_error("%s, %s: the parent or type (from the command line or %s) is not a "
			  "valid sysfs name. Name one that 'gvtgctl types' lists",
			  what, uuid, ctl_config_path(c));
		break;
	case -ENOTUNIQ:
		if (!p.parent) {
			ctl_describe_parents(c, list, sizeof(list));
			ctl_error("%s, %s: several mdev parents and none chosen: %s. Choose one "
				  "with --parent, or set parent= in %s [defaults]",
				  what, uuid, list, ctl_config_path(c));
		} else {
			ctl_describe_types(c, p.parent, list, sizeof(list));
			ctl_error("%s, %s: parent %s has several types and none is chosen: %s. "
				  "Choose one with --type, or set type= in %s [defaults]",
				  what, uuid, p.parent, list, ctl_config_path(c));
		}
		break;
	case -ENODATA:
		ctl_error("%s, %s: parent %s offers no mdev types: the graphics aperture is "
			  "too small for any vGPU. Raise the aperture size in the firmware setup",
			  what, uuid, p.parent ? p.parent : "?");
		break;
	default:
		ctl_error("%s, %s: choosing its parent and type: %s", what, uuid, strerror(-r));
	}
	gvtg_placement_clear(&p);
	return r;
}

int ctl_create_vgpu(struct ctl *c, const char *what, const char *uuid, const char *parent,
		    const char *type, enum gvtg_origin origin)
{
	char list[512];
	struct gvtg_type t;
	int r = gvtg_type_get(c->ctx, parent, type, &t);
	if (r < 0) {
		ctl_describe_types(c, parent, list, sizeof(list));
		ctl_error("%s, %s: parent %s has no type '%s'. Its types: %s", what, uuid, parent,
			  type, list);
		return r == -ENOENT ? -ENOENT : r;
	}
	int avail = t.available;
	gvtg_type_clear(&t);
	if (avail == 0) {
		ctl_describe_types(c, parent, list, sizeof(list));
		ctl_error("%s, %s: %s type %s has no instances left (other vGPUs use the "
			  "graphics memory). Remove one, or choose another type: %s",
			  what, uuid, parent, type, list);
		return -ENOSPC;
	}

	r = gvtg_mdev_create(c->ctx, parent, type, uuid);
	switch (r) {
	case 0:
		break;
	case -EEXIST:
		ctl_error("%s, %s: the UUID is already in use by another mediated device "
			  "(EEXIST). Choose another UUID, or leave it out to get a new one",
			  what, uuid);
		return r;
	case -ENOSPC:
	case -EUSERS:
		ctl_describe_types(c, parent, list, sizeof(list));
		ctl_error("%s, %s: no room for another vGPU of type %s on %s (%s). Remove one, "
			  "or choose a smaller type: %s",
			  what, uuid, type, parent, r == -ENOSPC ? "ENOSPC" : "EUSERS", list);
		return r;
	case -EACCES:
	case -EPERM:
		ctl_error("%s, %s: permission denied writing %s's create file. Run gvtgctl "
			  "as root",
			  what, uuid, type);
		return r;
	case -ENOENT:
		ctl_error("%s, %s: %s type %s went away (ENOENT). Run 'gvtgctl check'", what,
			  uuid, parent, type);
		return r;
	default:
		ctl_error("%s, %s: the kernel refused to create it on %s type %s: %s", what,
			  uuid, parent, type, strerror(-r));
		return r;
	}

	struct gvtg_record rec = {
		.origin = origin,
		.time = (int64_t)time(NULL),
		.parent = (char *)parent,
		.type = (char *)type,
	};
	memcpy(rec.uuid, uuid, sizeof(rec.uuid));
	r = gvtg_record_write(c->ctx, &rec);
	if (r < 0) {
		ctl_error("%s, %s: writing its ownership record in /%s: %s. Check that /%s is "
			  "writable; the vGPU was removed again",
			  what, uuid, gvtg_state_dir(), strerror(-r), gvtg_state_dir());
		int timeout = c->cfg ? c->cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
		(void)gvtg_mdev_remove_bounded(c->ctx, uuid, timeout);
		return r;
	}
	return 0;
}

int ctl_remove_vgpu(struct ctl *c, const char *what, const char *uuid, bool had_record)
{
	int timeout = c->cfg ? c->cfg->remove_timeout_ms : GVTG_REMOVE_TIMEOUT_MS_DEFAULT;
	int r = gvtg_mdev_remove_bounded(c->ctx, uuid, timeout);
	if (r == -ETIMEDOUT) {
		struct gvtg_record rec;
		if (had_record && gvtg_record_read(c->ctx, uuid, &rec) >= 0) {
			rec.remove_pending = true;
			(void)gvtg_record_write(c->ctx, &rec);
			gvtg_record_clear(&rec);
		}
		ctl_error("%s, %s: the removal is still blocked after %d ms: a QEMU process "
			  "still holds the vGPU. Stop the VM that uses it; the removal "
			  "finishes by itself then",
			  what, uuid, timeout);
		return r;
	}
	if (r < 0 && r != -ENOENT) {
		ctl_error("%s, %s: the kernel refused to remove it: %s. Check 'dmesg'", what,
			  uuid, strerror(-r));
		return r;
	}
	r = gvtg_record_delete(c->ctx, uuid);
	if (r < 0) {
		ctl_error("%s, %s: the vGPU is gone but deleting its record /%s/%s failed: %s. "
			  "Delete the file by hand",
			  what, uuid, gvtg_state_dir(), uuid, strerror(-r));
		return r;
	}
	return 0;
}

/* ---- tables ------------------------------------------------------------------------ */

struct libscols_table *ctl_table_new(struct ctl *c, const char *name,
				     const struct ctl_column *cols, size_t n_cols)
{
	struct libscols_table *tb = scols_new_table();
	if (!tb)
		return NULL;
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, c->json);
	for (size_t i = 0; i < n_cols; i++) {
		const struct ctl_column *d = &cols[i];
		struct libscols_column *cl = scols_table_new_column(
			tb, c->json ? d->json : d->human, d->width, c->json ? 0 : d->flags);
		if (!cl) {
			scols_unref_table(tb);
			return NULL;
		}
		scols_column_set_json_type(cl, d->json_type);
	}
	return tb;
}

int ctl_cell(struct ctl *c, struct libscols_line *ln, size_t col, const char *value)
{
	if (!value)
		return c->json ? 0 : scols_line_set_data(ln, col, "-");
	return scols_line_set_data(ln, col, value);
}

int ctl_cell_fmt(struct ctl *c, struct libscols_line *ln, size_t col, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	int r = scols_line_refer_data(ln, col, s);
	if (r < 0)
		free(s);
	return r;
}

/* libsmartcols prints each table as its own JSON object, {"name": [...]}: keep what is
 * between the outer braces so that several tables make one object. */
static int json_inner(struct libscols_table *tb, char **ret_inner)
{
	char *s = NULL;
	if (scols_print_table_to_string(tb, &s) < 0 || !s)
		return -ENOMEM;
	char *open = strchr(s, '{');
	char *close = strrchr(s, '}');
	if (!open || !close || close < open) {
		free(s);
		return -EINVAL;
	}
	char *e = close;
	while (e > open + 1 && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	*e = '\0';
	char *b = open + 1;
	while (*b == '\n')
		b++;
	char *inner = strdup(b);
	free(s);
	if (!inner)
		return -ENOMEM;
	*ret_inner = inner;
	return 0;
}

int ctl_tables_print(struct ctl *c, struct libscols_table **tables, size_t n)
{
	int r = 0;
	if (c->json) {
		fputs("{\n", stdout);
		for (size_t i = 0; i < n && r >= 0; i++) {
			char *inner;
			r = json_inner(tables[i], &inner);
			if (r < 0)
				break;
			fprintf(stdout, "%s%s", inner, i + 1 < n ? ",\n" : "\n");
			free(inner);
		}
		fputs("}\n", stdout);
	} else {
		/* An empty table prints nothing, not even its headings (as lsblk does). */
		bool printed = false;
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (scols_table_is_empty(tables[i]))
				continue;
			if (printed)
				fputc('\n', stdout);
			r = scols_print_table(tables[i]);
			printed = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		scols_unref_table(tables[i]);
	if (fflush(stdout) != 0 || ferror(stdout))
		r = -EIO;
	if (r < 0)
		ctl_error("printing the output, stdout: %s. Check where the output goes",
			  strerror(r == -EIO ? EIO : -r));
	return r;
}

/* ---- files under the root ---------------------------------------------------------- */

static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int ctl_read_file(struct ctl *c, const char *path, char **ret_text)
{
	int fd = openat(gvtg_ctx_get_root_fd(c->ctx), rel(path), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			/* Files read here (/proc, sysfs attributes) are small; /proc/cmdline
			 * and /proc/stat fit well below this bound. */
			if (cap >= 1024 * 1024)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = -errno;
			free(buf);
			close(fd);
			return r;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	*ret_text = buf;
	return 0;
}

bool ctl_exists(struct ctl *c, const char *path)
{
	struct stat st;
	return fstatat(gvtg_ctx_get_root_fd(c->ctx), rel(path), &st, 0) == 0;
}
