/* SPDX-License-Identifier: MIT */
/*
 * libgvtg: the public interface of the gvtg-hook library.
 *
 * Mediated devices in sysfs (mdev.c), domain XML (domain.c), configuration
 * (config.c), ownership records and the lock (state.c), UUIDs (uuid.c) and
 * placement policy (policy.c).  Every path is relative to a root directory
 * (normally "/"), so the same code runs on a fake tree in the tests.
 *
 * Conventions: functions that can fail return >= 0 on success and -errno on
 * failure; out-parameters are named ret_* and are written only on success;
 * *_free() functions accept NULL.  The library never prints and never exits:
 * it reports through the log callback of the context.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GVTG_UUID_STRLEN 36
/* The namespace of our element in a domain's <metadata>. Stable: never change it. */
#define GVTG_METADATA_NS "urn:gvtg-hook:vgpu:1"
/* Largest domain XML the hook accepts: twice libvirt's REMOTE_STRING_MAX (4 MiB, the
 * largest XML a client can define or read back), for what libvirtd adds when it runs. */
#define GVTG_XML_MAX ((size_t)8 * 1024 * 1024)

struct gvtg_ctx;

/* Same numbers as syslog(3) priorities. */
enum gvtg_log_priority {
	GVTG_LOG_ERR = 3,
	GVTG_LOG_WARNING = 4,
	GVTG_LOG_NOTICE = 5,
	GVTG_LOG_INFO = 6,
	GVTG_LOG_DEBUG = 7,
};

typedef void (*gvtg_log_fn)(void *userdata, int priority, const char *format, va_list args);

/* ---- context ------------------------------------------------------------ */

/* root: directory every path is relative to; NULL means "/". */
int gvtg_ctx_new(const char *root, struct gvtg_ctx **ret_ctx);
struct gvtg_ctx *gvtg_ctx_free(struct gvtg_ctx *ctx);
void gvtg_ctx_set_log_fn(struct gvtg_ctx *ctx, gvtg_log_fn fn, void *userdata);
const char *gvtg_ctx_get_root(const struct gvtg_ctx *ctx);
/* The root directory's fd (O_PATH); owned by the context. */
int gvtg_ctx_get_root_fd(const struct gvtg_ctx *ctx);

/* ---- UUIDs ---------------------------------------------------------------- */

/* Parse any case, write the 36-character lower-case form plus NUL. */
int gvtg_uuid_normalize(const char *in, char ret_out[GVTG_UUID_STRLEN + 1]);
int gvtg_uuid_generate(char ret_out[GVTG_UUID_STRLEN + 1]);

/* ---- mdev sysfs ----------------------------------------------------------- */

/* A parent or type name that may become one path component. */
bool gvtg_name_is_valid(const char *name);

struct gvtg_type {
	char *parent;           /* e.g. "0000:00:02.0", "mtty" */
	char *id;               /* directory name, e.g. "i915-GVTg_V5_4" */
	char *name;             /* "name" file, or NULL */
	char *device_api;       /* e.g. "vfio-pci", or NULL */
	char *description;      /* or NULL */
	int available;          /* available_instances, -1 when unreadable */
};

struct gvtg_device {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *parent;           /* NULL when the mdev_type link cannot be read */
	char *type;
};

/* Registered parents, sorted. */
int gvtg_parents_list(struct gvtg_ctx *ctx, char ***ret_names, size_t *ret_n);
void gvtg_strv_free(char **v, size_t n);
/* -ENOENT when the parent is not registered, -EINVAL when the name is unsafe. */
int gvtg_parent_check(struct gvtg_ctx *ctx, const char *parent);

/* Types of one parent, sorted by id. */
int gvtg_types_list(struct gvtg_ctx *ctx, const char *parent, struct gvtg_type **ret_types,
		    size_t *ret_n);
/* -ENOENT when the type does not exist under that parent. */
int gvtg_type_get(struct gvtg_ctx *ctx, const char *parent, const char *type,
		  struct gvtg_type *ret_type);
void gvtg_type_clear(struct gvtg_type *t);
void gvtg_types_free(struct gvtg_type *types, size_t n);

/* Active devices (sys/bus/mdev/devices), sorted by UUID. */
int gvtg_devices_list(struct gvtg_ctx *ctx, struct gvtg_device **ret_devs, size_t *ret_n);
/* -ENOENT when no device of that UUID exists. */
int gvtg_device_get(struct gvtg_ctx *ctx, const char *uuid, struct gvtg_device *ret_dev);
void gvtg_device_clear(struct gvtg_device *d);
void gvtg_devices_free(struct gvtg_device *devs, size_t n);

/* Create: one write(2) of the lower-case UUID to <parent>/mdev_supported_types/<type>/create.
 * Returns the kernel's -errno (-ENOENT, -EEXIST, -ENOSPC, -EUSERS, -EINVAL, -EACCES...). */
int gvtg_mdev_create(struct gvtg_ctx *ctx, const char *parent, const char *type,
		     const char *uuid);
/* Remove: write "1" to sys/bus/mdev/devices/<uuid>/remove. May block in the kernel while
 * QEMU holds the device: see gvtg_mdev_remove_bounded(). */
int gvtg_mdev_remove(struct gvtg_ctx *ctx, const char *uuid);
/* The same in a child process, waited for at most timeout_ms. -ETIMEDOUT when the
 * write is still blocked then (the child is left to finish on its own). */
int gvtg_mdev_remove_bounded(struct gvtg_ctx *ctx, const char *uuid, int timeout_ms);

/* One-line summaries for messages, "" when there is nothing; "..." ends a cut one.
 * Parents: "0000:00:02.0, mtty".  Types: "i915-GVTg_V5_4 (2 left), ..." or with
 * GVTG_SUMMARY_DETAILS "i915-GVTg_V5_4 (1920x1200, 2 left)"; GVTG_SUMMARY_FREE_ONLY
 * leaves out the types with no instance left. */
#define GVTG_SUMMARY_FREE_ONLY 1u
#define GVTG_SUMMARY_DETAILS 2u
void gvtg_parents_summary(struct gvtg_ctx *ctx, char *out, size_t size);
void gvtg_types_summary(struct gvtg_ctx *ctx, const char *parent, unsigned flags, char *out,
			size_t size);

/* GVT-g's "description" of a type, decoded. Fields not present are 0 / "". */
struct gvtg_gvt_info {
	unsigned low_gm_mb;
	unsigned high_gm_mb;
	unsigned fence;
	unsigned weight;
	char resolution[32];
};
int gvtg_gvt_info_parse(const char *description, struct gvtg_gvt_info *ret_info);

/* ---- domain XML ----------------------------------------------------------- */

struct gvtg_hostdev {
	char uuid[GVTG_UUID_STRLEN + 1]; /* normalised */
	char *model;                     /* e.g. "vfio-pci", or NULL */
};

struct gvtg_meta_device {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *parent;   /* NULL when not set */
	char *type;     /* NULL when not set */
};

struct gvtg_domain {
	char *name;
	char uuid[GVTG_UUID_STRLEN + 1]; /* "" when absent */
	struct gvtg_hostdev *hostdevs;
	size_t n_hostdevs;
	struct gvtg_meta_device *meta;
	size_t n_meta;
};

/* Parse untrusted XML from memory: no network, no entities, no DTD.  -EBADMSG when the
 * document is not well-formed or is not a <domain>; -EINVAL when an mdev hostdev has a
 * missing or invalid UUID; -EFBIG when larger than GVTG_XML_MAX. */
int gvtg_domain_parse(const char *buf, size_t len, struct gvtg_domain **ret_domain);
struct gvtg_domain *gvtg_domain_free(struct gvtg_domain *d);
/* The last parse error text (thread-local), for messages; never NULL. */
const char *gvtg_domain_parse_error(void);

/* ---- configuration -------------------------------------------------------- */

enum gvtg_release_mode {
	GVTG_RELEASE_REMOVE,
	GVTG_RELEASE_KEEP,
};

struct gvtg_config_device {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *parent;
	char *type;
	bool boot;
};

struct gvtg_config {
	char *path;             /* the file read (relative to the root), for messages */
	char *parent;           /* [defaults] parent, or NULL */
	char *type;             /* [defaults] type, or NULL */
	enum gvtg_release_mode release;
	int remove_timeout_ms;
	int lock_timeout_ms;
	bool sleep_remove;      /* remove idle vGPUs before host suspend */
	struct gvtg_config_device *devices;
	size_t n_devices;
	/* On an error: the line (0 when it is about the whole file) and a message that
	 * quotes that line or its value; the settings are then all the defaults. */
	int error_line;
	char error[160];
};

#define GVTG_REMOVE_TIMEOUT_MS_DEFAULT 10000
#define GVTG_LOCK_TIMEOUT_MS_DEFAULT 30000

/* Read the configuration file (path relative to the root; NULL: the built-in path).
 * A missing file gives the defaults and returns 0.  A bad line returns -EBADMSG; a file
 * that is no configuration returns -EISDIR (a directory), -EINVAL (a FIFO, socket or
 * device), -EFBIG (over 1 MiB) or the read's -errno.  Each fills ret_config with the
 * defaults, error_line and error; only -ENOMEM leaves it unset. */
int gvtg_config_load(struct gvtg_ctx *ctx, const char *path, struct gvtg_config **ret_config);
int gvtg_config_parse_string(const char *text, struct gvtg_config **ret_config);
struct gvtg_config *gvtg_config_free(struct gvtg_config *c);
const struct gvtg_config_device *gvtg_config_find(const struct gvtg_config *c, const char *uuid);
/* Built-in configuration file path (absolute, as installed). */
const char *gvtg_config_default_path(void);

/* ---- placement policy: which parent and type a UUID gets ------------------ */

enum gvtg_source {
	GVTG_SOURCE_METADATA,
	GVTG_SOURCE_CONFIG_DEVICE,
	GVTG_SOURCE_CONFIG_DEFAULT,
	GVTG_SOURCE_AUTO,
};

struct gvtg_placement {
	char *parent;
	char *type;
	enum gvtg_source parent_source;
	enum gvtg_source type_source;
};

/* First match wins: the domain's metadata, the config's per-UUID section, the config's
 * defaults, then automatic (the only parent; the parent's only type).  -ENXIO when no
 * parent is registered, -ENOTUNIQ when a choice is ambiguous (ret_placement then holds
 * what was resolved so far, so the caller can list the choices), -EINVAL on an unsafe
 * name, -ENOENT when a named parent is not registered. */
int gvtg_placement_resolve(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
			   const struct gvtg_config *cfg, const char *uuid,
			   struct gvtg_placement *ret_placement);
void gvtg_placement_clear(struct gvtg_placement *p);
const char *gvtg_source_to_string(enum gvtg_source s);

/* ---- ownership records and the lock (state.c) ----------------------------- */

enum gvtg_origin {
	GVTG_ORIGIN_CREATED,    /* made by the hook for a domain: the hook may remove it */
	GVTG_ORIGIN_ADOPTED,    /* existed before the domain started: never removed by the hook */
	GVTG_ORIGIN_MANUAL,     /* made by an admin with gvtgctl create */
	GVTG_ORIGIN_BOOT,       /* made at boot from the configuration */
};

struct gvtg_record {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *domain_name;                      /* NULL or "" when not in use */
	char domain_uuid[GVTG_UUID_STRLEN + 1]; /* "" when not in use */
	enum gvtg_origin origin;
	int64_t time;                           /* seconds since the epoch, last change */
	bool remove_pending;                    /* a bounded remove timed out */
	char *parent;
	char *type;
};

const char *gvtg_origin_to_string(enum gvtg_origin o);
int gvtg_origin_from_string(const char *s, enum gvtg_origin *ret_origin);

/* Exclusive lock on <run>/gvtg-hook/lock, waited for at most timeout_ms:
 * -ETIMEDOUT then.  Creates the state directory (0700) when missing.  Returns the fd. */
int gvtg_lock_acquire(struct gvtg_ctx *ctx, int timeout_ms);
void gvtg_lock_release(int fd);

/* -ENOENT when there is no record; -EBADMSG when the file is damaged. */
int gvtg_record_read(struct gvtg_ctx *ctx, const char *uuid, struct gvtg_record *ret_rec);
/* Atomic: temp file + rename. */
int gvtg_record_write(struct gvtg_ctx *ctx, const struct gvtg_record *rec);
int gvtg_record_delete(struct gvtg_ctx *ctx, const char *uuid);
int gvtg_records_list(struct gvtg_ctx *ctx, struct gvtg_record **ret_recs, size_t *ret_n);
void gvtg_record_clear(struct gvtg_record *r);
void gvtg_records_free(struct gvtg_record *recs, size_t n);
bool gvtg_record_in_use(const struct gvtg_record *r);
/* Path of the state directory relative to the root, e.g. "run/gvtg-hook". */
const char *gvtg_state_dir(void);

/* ---- used by gvtgctl ---- */

/* vGPUs removed before a host suspend, to be created again after it: a list in
 * <state dir>/sleep, so that it survives gvtgctl exiting between the two. */
struct gvtg_sleep_entry {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *parent;
	char *type;
};
/* Replace the list atomically; n == 0 deletes it. */
int gvtg_sleep_list_write(struct gvtg_ctx *ctx, const struct gvtg_sleep_entry *v, size_t n);
/* No list is an empty one (0 entries); -EBADMSG when the file is damaged. */
int gvtg_sleep_list_read(struct gvtg_ctx *ctx, struct gvtg_sleep_entry **ret_v, size_t *ret_n);
void gvtg_sleep_entries_free(struct gvtg_sleep_entry *v, size_t n);
