/* SPDX-License-Identifier: MIT */
/*
 * libgvtg: the public interface of the gvtg-hook library.
 *
 * Mediated devices in sysfs (mdev.c), domain XML (domain.c), configuration
 * (config.c), ownership records and the lock (state.c), UUIDs (uuid.c),
 * placement policy (policy.c), mdevctl's definitions (definitions.c,
 * definition-json.c, mdevctl.c), child processes (run.c) and the cleaning of
 * outside text (text.c).  Every path is relative to a root directory
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
#include <sys/types.h>

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

/* Parse any form libvirt takes (any case, dashes or none, see uuid.c), write the
 * 36-character lower-case form plus NUL; -EINVAL for anything else. */
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

/* ---- child processes (run.c) ----
 * The one runner: argv[0] executed (or fn called) in a child in a process group of its
 * own, stdin /dev/null, no descriptor but 0-2 (and keep_fd, as 3); stdout and stderr
 * captured with GVTG_RUN_CAPTURE (else /dev/null).  gvtg_run_wait() waits for at most
 * timeout_ms for all of them together; then each one still running has its group
 * killed and is reaped, or with GVTG_RUN_LEAVE is left to finish on its own.  The output
 * (the last GVTG_RUN_OUTPUT_MAX bytes) is cleaned by gvtg_text_clean(), newlines kept. */
#define GVTG_RUN_OUTPUT_MAX 4096
#define GVTG_RUN_CAPTURE 1u
#define GVTG_RUN_LEAVE 2u       /* at the deadline leave it running (a write the kernel blocks) */
#define GVTG_RUN_KEEP_FDS 4u    /* keep every descriptor: a test's emulated kernel */
enum gvtg_run_state {
	GVTG_RUN_NOT_STARTED,
	GVTG_RUN_RUNNING,
	GVTG_RUN_EXITED,        /* code: its exit status */
	GVTG_RUN_SIGNALED,      /* code: the signal */
	GVTG_RUN_KILLED,        /* still running at the deadline: its group was killed */
	GVTG_RUN_LEFT,          /* still running at the deadline, left (GVTG_RUN_LEAVE) */
	GVTG_RUN_LOST,          /* waitpid() failed: code is its errno */
};
struct gvtg_run {
	char *const *argv;                      /* exec'd, or: */
	int (*fn)(void *userdata, int kept_fd); /* called in the child; returns its status */
	void *userdata;
	const char *const *env;                 /* name, value, ..., NULL: set in the child */
	/* results */
	char *output;                           /* cleaned, NUL-terminated (CAPTURE) */
	size_t output_len;
	/* in */
	int keep_fd;                            /* -1: none */
	unsigned flags;
	/* results */
	enum gvtg_run_state state;
	int code;
	pid_t pid;
	int out_fd;
};
int gvtg_run_start(struct gvtg_run *run);
void gvtg_run_wait(struct gvtg_run *runs, size_t n, int timeout_ms);
/* Start and wait: 0 when it ran (see state and code), -errno when it could not start. */
int gvtg_run(struct gvtg_run *run, int timeout_ms);
void gvtg_run_clear(struct gvtg_run *run);
/* The output's last line that says something, into buf; "" when there is none. */
const char *gvtg_run_last_line(const struct gvtg_run *run, char *buf, size_t size);
int64_t gvtg_now_ms(void);

/* ---- text from outside (text.c) ----
 * The one cleaning of text that came from a file, the kernel or a child process, before
 * it reaches a terminal, stderr or syslog.  Tab, CR and newline become a space (newline
 * kept with GVTG_TEXT_KEEP_NEWLINES); other control characters the escape that names them
 * (ESC: \x1b, BEL: \x07, C1 CSI: \u009b); each byte that is not UTF-8 is U+FFFD.  At most
 * size - 1 bytes, never half a character; returns the length written. */
#define GVTG_TEXT_KEEP_NEWLINES 1u
size_t gvtg_text_clean(const char *in, size_t len, char *out, size_t size, unsigned flags);
/* Length of the well-formed UTF-8 sequence (RFC 3629) at s, of at most n bytes; 0: none. */
size_t gvtg_utf8_len(const char *s, size_t n);

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
 * missing or malformed UUID, or the domain has one and a malformed <uuid>; -EFBIG
 * when larger than GVTG_XML_MAX. */
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

/* Where an effective setting came from (gvtgctl config). */
struct gvtg_config_origin {
	char section[GVTG_UUID_STRLEN + 1]; /* "defaults", "hook", "sleep" or a vGPU's UUID */
	char key[32];
	const char *file;       /* one of the config's files[] (NULL: a string parsed) */
	int line;
};

struct gvtg_config {
	char *path;             /* the main file, or on an error the file it is about */
	char *parent;           /* [defaults] parent, or NULL */
	char *type;             /* [defaults] type, or NULL */
	enum gvtg_release_mode release;
	int remove_timeout_ms;  /* waiting on a removal the kernel blocks */
	int mdevctl_timeout_ms; /* one run of mdevctl start or stop (never 0) */
	int lock_timeout_ms;
	bool sleep_remove;      /* remove idle vGPUs before host suspend */
	struct gvtg_config_device *devices;
	size_t n_devices;
	/* On an error: the line (0 when it is about the whole file) and a message that
	 * quotes that line or its value; the settings are then all the defaults. */
	int error_line;
	char error[160];
	/* The files read, in order (absolute): the main file when it exists, then the
	 * drop-ins; and where each setting that is not a default came from. */
	char **files;
	size_t n_files;
	struct gvtg_config_origin *origins;
	size_t n_origins;
};

#define GVTG_REMOVE_TIMEOUT_MS_DEFAULT 10000
#define GVTG_MDEVCTL_TIMEOUT_MS_DEFAULT 30000
#define GVTG_LOCK_TIMEOUT_MS_DEFAULT 30000

/* Read the configuration file (path relative to the root; NULL: the built-in path).
 * A missing file gives the defaults and returns 0.  A bad line returns -EBADMSG; a file
 * that is no configuration returns -EISDIR (a directory), -EINVAL (a FIFO, socket or
 * device), -EFBIG (over 1 MiB) or the read's -errno.  Each fills ret_config with the
 * defaults, error_line and error; only -ENOMEM leaves it unset. */
int gvtg_config_load(struct gvtg_ctx *ctx, const char *path, struct gvtg_config **ret_config);
/* The drop-ins: gvtg_config_load() reads the main file, then every regular file named
 * *.conf in the directory <path>.d (a symlink is followed as for the main file; one that
 * leads nowhere is no file; names starting with '.' are skipped), in the lexical order of
 * their names, a later file's setting replacing an earlier one's.  The first error of any
 * file ends the reading as above; path then names that file (or the directory). */
#define GVTG_CONFIG_DROPINS_MAX 256
/* One file alone, without its drop-ins (gvtgctl check validates each file). */
int gvtg_config_load_file(struct gvtg_ctx *ctx, const char *path,
			  struct gvtg_config **ret_config);
/* The drop-in files of path's directory, sorted, absolute; none when the directory does
 * not exist.  -ENOTDIR, -E2BIG (more than GVTG_CONFIG_DROPINS_MAX) or the -errno of
 * reading the directory. */
int gvtg_config_dropins(struct gvtg_ctx *ctx, const char *path, char ***ret_files,
			size_t *ret_n);
/* Where section's key came from; NULL: the built-in default. */
const struct gvtg_config_origin *gvtg_config_origin(const struct gvtg_config *c,
						    const char *section, const char *key);
/* Every effective setting, in the order of gvtg-hook.conf(5): section, key, its value in
 * the file's words (NULL: not set, e.g. [defaults] type) and where it came from (NULL:
 * the built-in default).  Stops at fn's first non-zero return and returns it. */
typedef int (*gvtg_config_setting_fn)(void *userdata, const char *section, const char *key,
				      const char *value,
				      const struct gvtg_config_origin *origin);
int gvtg_config_foreach(const struct gvtg_config *c, gvtg_config_setting_fn fn,
			void *userdata);
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
	GVTG_SOURCE_DEFINITION, /* mdevctl's definition of the UUID (mdevctl.c) */
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

/*
 * THE placement of a vGPU UUID, for every caller (the hook's start, boot, gvtgctl create,
 * xml and attach): its mdevctl definition when it has one (gvtg_definition_find; the
 * domain's metadata and the configuration's [<uuid>] section must agree with it,
 * gvtg_definition_check; its parent must be registered), else gvtg_placement_resolve().
 * dom may be NULL; by hand, the command line's choice stands in dom's metadata.
 * Returns 1 placed by the definition (ret_def, when not NULL, filled: clear it), 0 by the
 * policy, < 0 refused and reported through d (its op, uuid and domain set by the
 * caller): definition-conflict, -two-parents and -damaged naming the file,
 * parent-not-registered (for a definition: its file too), no-parent, parent-ambiguous,
 * type-ambiguous, no-types, invalid-name, and with GVTG_PLACE_CHECK_TYPE type-not-found.
 * ret_placement is always set (as far as it was resolved) and must be cleared.
 */
struct gvtg_diag;
struct gvtg_definition;
#define GVTG_PLACE_BY_HAND 1u    /* a command line stands where a domain has its metadata */
#define GVTG_PLACE_CHECK_TYPE 2u /* and the type exists on the parent */
#define GVTG_PLACE_QUIET 4u      /* nothing reported: the caller only looks */
/* The vGPU exists and is compared with the placement: the policy's failures (nothing is
 * asked, a named parent is gone) are no refusal and return 0 with what was asked; only
 * a definition's own refusals are reported. */
#define GVTG_PLACE_EXISTS 8u
int gvtg_placement_decide(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
			  const struct gvtg_config *cfg, const char *uuid, unsigned flags,
			  struct gvtg_diag *d, struct gvtg_placement *ret_placement,
			  struct gvtg_definition *ret_def);

/* ---- ownership records and the lock (state.c) ----------------------------- */

enum gvtg_origin {
	GVTG_ORIGIN_CREATED,    /* made by the hook for a domain: the hook may remove it */
	GVTG_ORIGIN_ADOPTED,    /* existed before the domain started: never removed by the hook */
	GVTG_ORIGIN_MANUAL,     /* made by an admin with gvtgctl create */
	GVTG_ORIGIN_BOOT,       /* made at boot from the configuration */
	GVTG_ORIGIN_DEFINED,    /* started from its mdevctl definition for a domain: stopped again */
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
int gvtg_sleep_list_read(struct gvtg_ctx *ctx, struct gvtg_sleep_entry **ret_v, size_t *ret_n,
			 int *ret_bad_line, size_t *ret_n_bad);
void gvtg_sleep_entries_free(struct gvtg_sleep_entry *v, size_t n);

/* ---- diagnosis (diag.c): every failure the project knows, in one table -------------- */

/*
 * One row per cause: a stable id (for scripts, the man page and tests), a level, the
 * cause in words and the fix, as templates over the facts of a struct gvtg_diag.  Both
 * programs print gvtg_diag_format()'s line after their own prefix ("gvtg-hook: ",
 * "gvtgctl: "); nothing else turns an errno into words.  Notices are the "what was done"
 * lines (syslog for the hook, stdout or --verbose for gvtgctl).
 */
enum gvtg_cause {
	GVTG_CAUSE_NONE,
	/* the host and placement */
	GVTG_CAUSE_NO_PARENT,           /* no mdev parent registered at all */
	GVTG_CAUSE_PARENT_UNKNOWN,      /* ENOENT on a named parent */
	GVTG_CAUSE_PARENT_AMBIGUOUS,
	GVTG_CAUSE_TYPE_AMBIGUOUS,
	GVTG_CAUSE_NO_TYPES,            /* a parent with no types: aperture too small */
	GVTG_CAUSE_TYPE_UNKNOWN,        /* ENOENT on a named type; "did you mean" */
	GVTG_CAUSE_NAME_INVALID,        /* a parent or type that is no sysfs name */
	GVTG_CAUSE_MODEL_MISMATCH,      /* <hostdev model> vs the type's device_api */
	GVTG_CAUSE_EXISTS_ELSEWHERE,    /* exists with another parent or type */
	/* the kernel's answer to create */
	GVTG_CAUSE_NO_INSTANCES,        /* available_instances is 0 */
	GVTG_CAUSE_NO_ROOM,             /* ENOSPC, EUSERS, EDQUOT */
	GVTG_CAUSE_FRAGMENTED,          /* ENOSPC although an instance is shown */
	GVTG_CAUSE_CREATE_ENOENT,       /* the type or parent went away */
	GVTG_CAUSE_UUID_IN_USE,         /* EEXIST */
	GVTG_CAUSE_PERMISSION,          /* EACCES, EPERM */
	GVTG_CAUSE_KERNEL_EINVAL,
	GVTG_CAUSE_PARENT_GOING,        /* ENODEV */
	GVTG_CAUSE_KERNEL_BUSY,         /* EBUSY */
	GVTG_CAUSE_SHORT_WRITE,         /* EIO from a short write */
	GVTG_CAUSE_KERNEL_OTHER,        /* any other errno: named */
	/* ownership */
	GVTG_CAUSE_HELD_BY_DOMAIN,      /* a record names another domain */
	GVTG_CAUSE_HELD_BY_PROCESS,     /* a process holds /dev/vfio/<group> */
	GVTG_CAUSE_EXISTS,              /* gvtgctl create of a UUID that exists */
	GVTG_CAUSE_NO_SUCH_VGPU,        /* gvtgctl remove of a UUID that does not */
	GVTG_CAUSE_REMOVE_BLOCKED,      /* still blocked after remove_timeout: pending */
	GVTG_CAUSE_REMOVE_FAILED,
	/* mdevctl's definitions (mdevctl.c) */
	GVTG_CAUSE_DEFINITION_CONFLICT, /* metadata or [uuid] section says otherwise */
	GVTG_CAUSE_DEFINITION_TWO_PARENTS,
	GVTG_CAUSE_DEFINITION_DAMAGED,
	GVTG_CAUSE_DEFINITION_START,    /* mdevctl start failed or timed out, an attr refused */
	GVTG_CAUSE_DEFINITION_STOP,     /* mdevctl stop failed: removed through sysfs */
	GVTG_CAUSE_DEFINITION_MISMATCH, /* mdevctl start made no device, or another type */
	/* state, configuration, input */
	GVTG_CAUSE_LOCK_TIMEOUT,
	GVTG_CAUSE_LOCK_FAILED,
	GVTG_CAUSE_RECORD_DAMAGED,
	GVTG_CAUSE_RECORD_WRITE,
	GVTG_CAUSE_STATE_UNREADABLE,
	GVTG_CAUSE_SLEEP_LIST_DAMAGED,
	GVTG_CAUSE_SLEEP_LINE_SKIPPED,  /* one line of the list damaged: the rest is handled */
	GVTG_CAUSE_CONFIG_ERROR,        /* file, line, what */
	GVTG_CAUSE_CONFIG_UNREADABLE,   /* release and reconnect go on with the defaults */
	GVTG_CAUSE_XML_ERROR,           /* line and what is wrong, in our words */
	GVTG_CAUSE_XML_INVALID,         /* well-formed but not acceptable (our own words) */
	GVTG_CAUSE_RELEASE_BY_RECORDS,  /* release end: the XML refused, released by records */
	GVTG_CAUSE_DOMAIN_NO_UUID,
	GVTG_CAUSE_INPUT_TOO_LARGE,
	GVTG_CAUSE_INPUT_UNREADABLE,
	GVTG_CAUSE_MODULE_LOAD,         /* printed by the executable, which has no library */
	GVTG_CAUSE_ROOT_UNREADABLE,
	GVTG_CAUSE_OUTPUT_FAILED,       /* gvtgctl's stdout */
	GVTG_CAUSE_INTERNAL,            /* out of memory, fork failed...: errno named */
	/* notices: what was done */
	GVTG_CAUSE_DONE_CREATED,
	GVTG_CAUSE_DONE_ADOPTED,
	GVTG_CAUSE_DONE_USED,
	GVTG_CAUSE_DONE_REUSED,
	GVTG_CAUSE_DONE_REMOVED,
	GVTG_CAUSE_DONE_KEPT,
	GVTG_CAUSE_DONE_DROPPED,        /* an adopted record dropped, the vGPU stays */
	GVTG_CAUSE_DONE_ROLLED_BACK,
	GVTG_CAUSE_DONE_RESTORED,       /* reconnect wrote a missing record */
	GVTG_CAUSE_DONE_LEFT_ALONE,
	GVTG_CAUSE_DONE_STALE_RECORD,   /* a record of a vGPU that is gone, deleted */
	GVTG_CAUSE_DONE_SKIPPED,        /* boot: parent not registered yet */
	GVTG_CAUSE_DONE_NOTHING,        /* boot, sleep: nothing to do */
	GVTG_CAUSE__MAX,
};

enum gvtg_diag_level {
	GVTG_DIAG_ERROR,        /* the operation failed */
	GVTG_DIAG_WARNING,      /* something is wrong, the operation went on */
	GVTG_DIAG_NOTICE,       /* what was done */
};

struct gvtg_cause_row {
	enum gvtg_cause cause;
	enum gvtg_diag_level level;
	const char *id;         /* stable: "no-room", "lock-timeout"... */
	const char *text;       /* template of the cause */
	const char *fix;        /* template of what to do, "" for notices */
};

/* What was being done: the start of the line ("creating vGPU U for domain 'D'"). */
enum gvtg_op {
	GVTG_OP_NONE,
	GVTG_OP_CREATE,         /* the hook's start, gvtgctl create */
	GVTG_OP_USE,            /* an existing vGPU for a starting domain */
	GVTG_OP_RELEASE,
	GVTG_OP_RECONNECT,
	GVTG_OP_ROLLBACK,
	GVTG_OP_REMOVE,         /* gvtgctl remove */
	GVTG_OP_BOOT_CREATE,
	GVTG_OP_BOOT_REMOVE,
	GVTG_OP_SLEEP_REMOVE,
	GVTG_OP_SLEEP_CREATE,
	GVTG_OP_START,          /* all the vGPUs of a starting domain */
	GVTG_OP_STOP,           /* all the vGPUs of a stopping domain */
	GVTG_OP_BOOT,
	GVTG_OP_SLEEP,
	GVTG_OP_CONFIG,
	GVTG_OP_READ_XML,
	GVTG_OP_READ_STATE,
	GVTG_OP_DEFINE,         /* gvtgctl define */
	GVTG_OP_WRITE_XML,      /* gvtgctl xml */
	GVTG_OP_ATTACH,         /* gvtgctl attach */
};

#define GVTG_DIAG_NAME_MAX 130
#define GVTG_DIAG_TYPES_MAX 512

/* The facts of one diagnosis; empty strings and 0 are "not known". */
struct gvtg_diag {
	enum gvtg_cause cause;
	enum gvtg_op op;
	int err;                                /* errno (positive), or 0 */
	char uuid[GVTG_UUID_STRLEN + 1];        /* "" when gvtgctl made one up */
	char parent[GVTG_DIAG_NAME_MAX];
	char type[GVTG_DIAG_NAME_MAX];
	char domain[GVTG_DIAG_NAME_MAX];        /* the domain being started or stopped */
	char holder[GVTG_DIAG_NAME_MAX];        /* the other domain that holds it */
	char file[256];
	int line;
	long pid;                               /* a process holding the device */
	char comm[32];
	char source[48];                        /* where a choice came from */
	char types[GVTG_DIAG_TYPES_MAX];        /* "id (resolution, n left), ..." */
	char detail[256];                       /* what is wrong, a suggestion */
	int timeout_ms;
};

/* The table, in enum order. */
const struct gvtg_cause_row *gvtg_causes(size_t *ret_n);
const struct gvtg_cause_row *gvtg_cause_row(enum gvtg_cause c);
/* "<what was done>: <cause>. <fix>" (no prefix, no newline).  Returns the length. */
int gvtg_diag_format(const struct gvtg_diag *d, char *out, size_t size);

/* The library reports every diagnosis (failures and what was done) through this
 * callback, one call each; the functions below also return -errno on failure. */
typedef void (*gvtg_report_fn)(void *userdata, const struct gvtg_diag *d);
void gvtg_ctx_set_report_fn(struct gvtg_ctx *ctx, gvtg_report_fn fn, void *userdata);

/* Helpers for diagnoses the programs meet outside the lifecycle (reading input,
 * configuration, XML).  They fill d and report it through the context (ctx may be
 * NULL: then only d is filled). */
void gvtg_diag_init(struct gvtg_diag *d, enum gvtg_op op, const char *uuid,
		    const char *domain);
void gvtg_diag_report(struct gvtg_ctx *ctx, struct gvtg_diag *d, enum gvtg_cause cause);
/* A configuration that gvtg_config_load() refused (r < 0; cfg may be NULL). */
void gvtg_diag_config(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *path,
		      int r, enum gvtg_op op, const char *domain, struct gvtg_diag *ret_diag);
/* gvtg_domain_parse() failed with r: the line and what is wrong, reworded. */
void gvtg_diag_xml(struct gvtg_ctx *ctx, int r, const char *domain,
		   struct gvtg_diag *ret_diag);
/* The same refusal at release end, which goes on by the records that name the domain's
 * UUID: one warning that says why the XML is not used (r: what gvtg_domain_parse() or
 * the input's reader returned). */
void gvtg_diag_xml_release(struct gvtg_ctx *ctx, int r, const char *domain,
			   struct gvtg_diag *ret_diag);
/* The closest type id to a mistyped one among a parent's types (gvtg_types_list(): the
 * caller reads them; "" when none is close): "GVTg_V5_4" -> "i915-GVTg_V5_4". */
void gvtg_type_suggest(const struct gvtg_type *types, size_t n, const char *type, char *out,
		       size_t size);

/* ---- lifecycle (acquire.c, release.c, vgpu.c, boot.c): start, stop, by hand, boot, sleep */

/*
 * How a vGPU came to exist decides what release does with it: ONE table in release.c
 * (release_actions[]) maps each origin to an action.  Extension point: a new origin
 * (e.g. a vGPU defined in mdevctl, whose release stops it) is one enum value in
 * enum gvtg_origin, its name in state.c, one row in release_actions[] and, when it
 * comes with its own placement source, one step in gvtg_placement_decide().
 */
enum gvtg_release_action {
	GVTG_RELEASE_ACTION_REMOVE,     /* remove the device and its record (or keep: config) */
	GVTG_RELEASE_ACTION_DROP,       /* drop the record, the device stays */
	GVTG_RELEASE_ACTION_IDLE,       /* the device stays, its record says idle */
	GVTG_RELEASE_ACTION_STOP,       /* stop it like `mdevctl stop`: the definition stays */
};
enum gvtg_release_action gvtg_origin_release_action(enum gvtg_origin o);

/* prepare begin: every mdev hostdev of dom, created, adopted, used or reused, with its
 * record; all or nothing (what this call did is undone on failure).  Takes the lock. */
int gvtg_acquire(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
		 const struct gvtg_config *cfg);
/* release end: every record that names the domain's UUID, whatever its XML still
 * lists.  Each removal is bounded; a vGPU that is gone is never marked pending.
 * Returns the number of records acted on.  Takes the lock. */
int gvtg_release(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
		 const struct gvtg_config *cfg);
/* Does any record name this domain UUID?  No lock: a quick answer for release end. */
bool gvtg_domain_has_records(struct gvtg_ctx *ctx, const char *domain_uuid);
/* reconnect begin: write a record (adopted) for an existing vGPU of dom that has NONE;
 * a damaged record is reported and left as it is.  Takes the lock. */
int gvtg_reconnect(struct gvtg_ctx *ctx, const struct gvtg_domain *dom,
		   const struct gvtg_config *cfg);

/* By hand: create one vGPU with its record (origin manual or boot).  uuid_given false
 * keeps a generated UUID out of the messages.  Placement as the hook's, the command line
 * (parent, type; NULL: not given) standing for the domain metadata.  Takes the lock. */
int gvtg_vgpu_create(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *uuid,
		     bool uuid_given, const char *parent, const char *type,
		     enum gvtg_origin origin, struct gvtg_placement *ret_placement);
#define GVTG_REMOVE_FORCE 1u    /* even when a record says a domain holds it */
/* By hand: remove one vGPU and its record; never one a process holds (even forced).
 * Takes the lock. */
int gvtg_vgpu_remove(struct gvtg_ctx *ctx, const struct gvtg_config *cfg, const char *uuid,
		     unsigned flags);

/* gvtgctl boot: create the configured boot = yes vGPUs (a parent not registered yet is
 * skipped); all or nothing per run, so that a failed unit leaves nothing behind.
 * stop: remove the idle boot vGPUs no process holds, drop records of vGPUs that are
 * gone.  Take the lock. */
int gvtg_boot_start(struct gvtg_ctx *ctx, const struct gvtg_config *cfg);
int gvtg_boot_stop(struct gvtg_ctx *ctx, const struct gvtg_config *cfg);
/* gvtgctl sleep pre / post: remove idle recorded vGPUs no process holds, listed for
 * post, which creates them again. */
int gvtg_sleep_pre(struct gvtg_ctx *ctx, const struct gvtg_config *cfg);
int gvtg_sleep_post(struct gvtg_ctx *ctx, const struct gvtg_config *cfg);

/* Which process holds the vGPU's VFIO group open: 1 with ret_pid and ret_comm (may be
 * NULL) filled, 0 when none, -errno.  Scans <root>/proc/<pid>/fd for
 * /dev/vfio/<iommu group of the device>. */
int gvtg_device_holder(struct gvtg_ctx *ctx, const char *uuid, long *ret_pid,
		       char ret_comm[32]);

/* After gvtg_domain_parse() failed on XML that is not well-formed: libxml2's error code
 * (xmlParserErrors, -1 unknown) and line; 0 when the failure was another one (then
 * gvtg_domain_parse_error() has our own words). */
int gvtg_domain_parse_where(int *ret_line);

/* ---- definitions: mdevctl's persistent vGPUs (mdevctl.c) ------------------- */

/*
 * A definition is the file etc/mdevctl.d/<parent>/<uuid> (relative to the root) that
 * mdevctl, `virsh nodedev-define` and virt-manager write: JSON
 * {"mdev_type": "...", "start": "auto"|"manual", "attrs": [{"name": "value"}, ...]}.
 * It speaks for one UUID: it gives that vGPU's parent and type, and the attributes to
 * write, in order, once the device exists.
 */
#define GVTG_DEFINITIONS_DIR "etc/mdevctl.d"
#define GVTG_DEFINITION_MAX ((size_t)64 * 1024) /* larger files are refused */
#define GVTG_DEFINITION_ATTRS_MAX 64

struct gvtg_definition_attr {
	char *name;     /* a sysfs attribute of the device: one path component */
	char *value;    /* the bytes written (a JSON number: its text) */
};

struct gvtg_definition {
	char uuid[GVTG_UUID_STRLEN + 1];
	char *parent;           /* the directory name */
	char *type;             /* mdev_type */
	bool autostart;         /* "start": "auto" (mdevctl starts it when the parent registers) */
	struct gvtg_definition_attr *attrs;
	size_t n_attrs;
	char *path;             /* relative to the root, e.g. "etc/mdevctl.d/mtty/<uuid>" */
	/* gvtg_definition_find() -ENOTUNIQ: the second parent that defines the UUID (the
	 * first is parent).  -EBADMSG: path is the damaged file and error says why. */
	char *other_parent;
	char error[160];
};

/* Parse a definition's JSON (strict: RFC 8259, nesting at most 8 deep).  Fills type,
 * autostart and attrs of ret_def; -EBADMSG with ret_def->error set when it is not a
 * definition (ret_def is then cleared of everything else). */
int gvtg_definition_parse(const char *json, size_t len, struct gvtg_definition *ret_def);
/* The definition of a UUID under any parent.  -ENOENT: none.  -ENOTUNIQ: defined under
 * two parents (ret_def: parent, other_parent, path).  -EBADMSG: the file is damaged, not
 * a regular file, or larger than GVTG_DEFINITION_MAX (ret_def: path, error).  On these
 * two errors ret_def must be cleared by the caller. */
int gvtg_definition_find(struct gvtg_ctx *ctx, const char *uuid, struct gvtg_definition *ret_def);
/* Every definition, sorted by UUID then parent; a damaged file is listed with type NULL
 * and error set.  No etc/mdevctl.d is an empty list. */
int gvtg_definitions_list(struct gvtg_ctx *ctx, struct gvtg_definition **ret_defs,
			  size_t *ret_n);
void gvtg_definition_clear(struct gvtg_definition *d);
void gvtg_definitions_free(struct gvtg_definition *defs, size_t n);
/* "mdevctl auto" or "mdevctl manual": what gvtgctl and the messages call its origin. */
const char *gvtg_definition_origin(const struct gvtg_definition *d);

/* Where the domain's metadata or the configuration's [<uuid>] section names a parent or
 * type other than the definition's: -EEXIST with ret_conflict filled (the first one found,
 * metadata first).  The configuration's [defaults] and the automatic choice never
 * conflict: the definition outranks them. */
struct gvtg_definition_conflict {
	enum gvtg_source source;        /* GVTG_SOURCE_METADATA or GVTG_SOURCE_CONFIG_DEVICE */
	const char *what;               /* "parent" or "type" */
	const char *theirs;             /* the value there (points into dom or cfg) */
	const char *ours;               /* the definition's (points into the definition) */
};
int gvtg_definition_check(const struct gvtg_definition *def, const struct gvtg_domain *dom,
			  const struct gvtg_config *cfg, struct gvtg_definition_conflict *ret_conflict);

/*
 * Which mdevctl runs.  GVTG_MDEVCTL set: that program (an absolute path), or none when
 * it is empty.  Not set: under the root "/" the first of /usr/sbin/mdevctl,
 * /usr/bin/mdevctl, /sbin/mdevctl, /bin/mdevctl that is executable; under any other root
 * none, so that a test root never makes the host's mdevctl act on the host's /sys.
 * Returns 1 and the path, 0 when none is to be used (then sysfs is written directly).
 */
int gvtg_mdevctl_find(struct gvtg_ctx *ctx, char **ret_path);

/* Start a definition: `mdevctl start --uuid U --parent P` when gvtg_mdevctl_find() gives
 * one (its callouts and notifiers run, it writes the attrs), in a child process killed
 * with its callouts after timeout_ms (mdevctl_timeout); else create it in sysfs and
 * write each attr in order to <device>/<attr>.  A failure leaves the device not active
 * (a device this call made is removed again).  -ETIMEDOUT, -ENOENT, the kernel's -errno,
 * or -EPROTO when mdevctl exited non-zero; detail (may be NULL) gets mdevctl's last error
 * line (cleaned) or the attr that was refused.  Success says mdevctl exited 0: whether
 * the device is there, and of the definition's type, is the caller's to check. */
int gvtg_definition_start(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			  int timeout_ms, char *detail, size_t detail_size);
/* Write the definition's attrs in order to the device's sysfs attributes; on a refusal
 * the device is removed again and detail names the attr. */
int gvtg_definition_apply_attrs(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
				char *detail, size_t detail_size);
/* Write def (uuid, parent, type, autostart; no attrs) as a definition: `mdevctl define`
 * when gvtg_mdevctl_find() gives one (bounded by timeout_ms, and the file checked after),
 * else the file in mdevctl's format, atomically, with the directories mdevctl needs.
 * The caller has checked that nothing else holds the UUID.  -errno; detail (may be NULL)
 * says what failed (mdevctl's last line, the file). */
int gvtg_definition_write(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			  int timeout_ms, char *detail, size_t detail_size);
/* Remove def's file (uuid, parent): `mdevctl undefine`, else unlink; an active vGPU
 * stays active.  -errno; detail as above. */
int gvtg_definition_delete(struct gvtg_ctx *ctx, const struct gvtg_definition *def,
			   int timeout_ms, char *detail, size_t detail_size);
/* Stop it as the one removal does (removal.c): `mdevctl stop --uuid U` when there is an
 * mdevctl, at most timeout_ms; then, if the device is still there, the sysfs remove, at
 * most timeout_ms.  The definition stays.  0 removed, -ENOENT not active, -ETIMEDOUT the
 * kernel still blocks the removal; detail: how mdevctl failed, "" when it did not. */
int gvtg_definition_stop(struct gvtg_ctx *ctx, const char *uuid, int timeout_ms, char *detail,
			 size_t detail_size);
