/* SPDX-License-Identifier: MIT */
/*
 * The libvirt qemu hook's logic: what to do for each operation, the wording of every
 * message and the exit codes.  Policy lives here; sysfs, XML, configuration and records
 * are the library's.  main.c decides quickly whether an operation needs any of this.
 *
 *   prepare begin    create (or adopt, or reuse) every mdev vGPU of the domain, all or none
 *   release end      remove what this domain's start created; leave everything else alone
 *   reconnect begin  restore missing records; always exit 0 (non-zero kills the VM)
 */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gvtg.h"
#include "hook.h"

struct hook {
	struct gvtg_ctx *ctx;
	FILE *err;
	const char *domain_arg;
	struct gvtg_domain *dom;
	struct gvtg_config *cfg;
	bool use_syslog;
};

/* One line on stderr (libvirt shows it in virsh's error) and the same in syslog. */
static void fail_msg(struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_msg(struct hook *h, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(h->err, "gvtg-hook: %s\n", line);
	fflush(h->err);
	if (h->use_syslog)
		syslog(LOG_ERR, "%s", line);
}

/* What was done: syslog only, since libvirt drops a successful hook's stderr. */
static void action_msg(struct hook *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void action_msg(struct hook *h, const char *fmt, ...)
{
	if (!h->use_syslog)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsyslog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void lib_log(void *userdata, int priority, const char *fmt, va_list ap)
{
	struct hook *h = userdata;
	if (h->use_syslog && priority <= GVTG_LOG_INFO)
		vsyslog(priority, fmt, ap);
}

static const char *domain_name(const struct hook *h)
{
	if (h->dom && h->dom->name)
		return h->dom->name;
	return h->domain_arg;
}

/* ---- messages that explain a refusal -------------------------------------------- */

static void describe_types(struct hook *h, const char *parent, bool only_free, char *out,
			   size_t size)
{
	gvtg_types_summary(h->ctx, parent,
			   GVTG_SUMMARY_DETAILS | (only_free ? GVTG_SUMMARY_FREE_ONLY : 0), out,
			   size);
}

static const char *config_path(const struct hook *h)
{
	return h->cfg && h->cfg->path ? h->cfg->path : gvtg_config_default_path();
}

static void explain_placement_error(struct hook *h, const char *uuid,
				    const struct gvtg_placement *p, int r)
{
	char list[512];
	const char *dn = domain_name(h);

	switch (r) {
	case -ENXIO:
		fail_msg(h,
			 "creating vGPU %s for domain '%s': no mdev parent device is registered "
			 "on this host. Enable GVT-g (kernel options i915.enable_gvt=1 "
			 "intel_iommu=on, module kvmgt) on a Broadwell to Comet Lake iGPU; "
			 "'gvtgctl check' shows what is missing",
			 uuid, dn);
		break;
	case -ENOENT:
		gvtg_parents_summary(h->ctx, list, sizeof(list));
		fail_msg(h,
			 "creating vGPU %s for domain '%s': mdev parent '%s' (from the %s) is not "
			 "registered: GVT-g is not enabled on it or the PCI address is wrong. "
			 "Registered parents: %s",
			 uuid, dn, p->parent ? p->parent : "?",
			 gvtg_source_to_string(p->parent_source), list[0] ? list : "none");
		break;
	case -EINVAL:
		fail_msg(h,
			 "creating vGPU %s for domain '%s': the parent or type named in the %s or "
			 "%s is not a valid sysfs name (no '/', no leading '.'). Fix it there",
			 uuid, dn, "domain metadata", config_path(h));
		break;
	case -ENOTUNIQ:
		if (!p->parent) {
			gvtg_parents_summary(h->ctx, list, sizeof(list));
			fail_msg(h,
				 "creating vGPU %s for domain '%s': several mdev parents and none "
				 "chosen: %s. Set parent= in the domain metadata (gvtgctl xml) or in "
				 "%s",
				 uuid, dn, list, config_path(h));
		} else {
			describe_types(h, p->parent, false, list, sizeof(list));
			fail_msg(h,
				 "creating vGPU %s for domain '%s': parent %s has several types and "
				 "none is chosen: %s. Set type= in the domain metadata (gvtgctl xml) "
				 "or in %s [defaults]",
				 uuid, dn, p->parent, list, config_path(h));
		}
		break;
	case -ENODATA:
		fail_msg(h,
			 "creating vGPU %s for domain '%s': parent %s offers no mdev types: the "
			 "graphics aperture is too small for any vGPU. Raise the aperture size "
			 "in the firmware setup",
			 uuid, dn, p->parent ? p->parent : "?");
		break;
	default:
		fail_msg(h, "creating vGPU %s for domain '%s': choosing its parent and type: %s",
			 uuid, dn, strerror(-r));
	}
}

static const char *errno_label(int r)
{
	switch (r) {
	case -ENOSPC:
		return "ENOSPC";
	case -EUSERS:
		return "EUSERS";
	case -EDQUOT:
		return "EDQUOT";
	default:
		return "no instances left";
	}
}

static void explain_create_error(struct hook *h, const char *uuid, const char *parent,
				 const char *type, int r)
{
	char list[512];
	const char *dn = domain_name(h);

	switch (r) {
	case -ENOENT:
		fail_msg(h,
			 "creating vGPU %s on %s type %s: no such type or parent (ENOENT): GVT-g "
			 "is not enabled (i915.enable_gvt=1, module kvmgt) or the parent went "
			 "away. Run 'gvtgctl check'",
			 uuid, parent, type);
		break;
	case -ENOSPC:
	case -EUSERS:
	case -EDQUOT:
	case -ENOBUFS: /* our own: available_instances read 0 before trying */
		describe_types(h, parent, true, list, sizeof(list));
		if (!strncmp(type, "i915-", 5))
			fail_msg(h,
				 "creating vGPU %s on %s type %s: no room for another vGPU of this "
				 "type (%s): other vGPUs use the graphics memory or the firmware's "
				 "aperture is too small. Types that still fit: %s. Stop another VM, "
				 "choose a smaller type, or raise the aperture in the firmware",
				 uuid, parent, type, errno_label(r), list[0] ? list : "none");
		else
			fail_msg(h,
				 "creating vGPU %s on %s type %s: no room for another device of this "
				 "type (%s): other mediated devices use the parent's capacity. Types "
				 "that still fit: %s. Stop another VM or choose another type",
				 uuid, parent, type, errno_label(r), list[0] ? list : "none");
		break;
	case -EEXIST:
		fail_msg(h,
			 "creating vGPU %s for domain '%s': the UUID is already in use by another "
			 "mediated device (EEXIST). Give this domain another UUID (uuidgen) or "
			 "remove the other device",
			 uuid, dn);
		break;
	case -EACCES:
	case -EPERM:
		fail_msg(h,
			 "creating vGPU %s on %s type %s: permission denied: only root can create "
			 "vGPUs, and qemu:///session runs hooks as the user. Use qemu:///system, "
			 "or create the vGPU in advance with 'gvtgctl create'",
			 uuid, parent, type);
		break;
	case -EINVAL:
		fail_msg(h,
			 "creating vGPU %s on %s type %s: the kernel refused the request (EINVAL). "
			 "Check the UUID and the type with 'gvtgctl types'",
			 uuid, parent, type);
		break;
	case -ENODEV:
		fail_msg(h,
			 "creating vGPU %s on %s type %s: the parent device is going away "
			 "(ENODEV): its driver is being unbound. Start the domain again once "
			 "%s is bound",
			 uuid, parent, type, parent);
		break;
	case -EIO:
		fail_msg(h,
			 "creating vGPU %s on %s type %s: the kernel took only part of the "
			 "UUID (short write). Report this as a bug",
			 uuid, parent, type);
		break;
	default:
		fail_msg(h, "creating vGPU %s on %s type %s: %s", uuid, parent, type,
			 strerror(-r));
	}
}

/* ---- prepare begin ---------------------------------------------------------------- */

enum step_kind {
	STEP_NONE,
	STEP_CREATED,   /* made now: remove it and its record on rollback */
	STEP_CLAIMED,   /* record written for an existing device: restore the old record */
	STEP_REUSED,    /* already this domain's: leave as is */
};

struct step {
	enum step_kind kind;
	char uuid[GVTG_UUID_STRLEN + 1];
	bool had_record;
	struct gvtg_record old; /* the record before this call, when had_record */
};

static void set_domain(struct gvtg_record *rec, const struct gvtg_domain *dom)
{
	free(rec->domain_name);
	rec->domain_name = dom->name ? strdup(dom->name) : NULL;
	memcpy(rec->domain_uuid, dom->uuid, sizeof(rec->domain_uuid));
	rec->time = (int64_t)time(NULL);
	rec->remove_pending = false;
}

static int check_model(struct hook *h, const char *uuid, const struct gvtg_hostdev *hd,
		       const struct gvtg_type *t)
{
	if (!hd->model || !t->device_api || !strcmp(hd->model, t->device_api))
		return 0;
	fail_msg(h,
		 "creating vGPU %s on %s type %s: the type provides device_api '%s' but the "
		 "<hostdev> has model='%s'. Set model='%s' or choose a type of that API",
		 uuid, t->parent, t->id, t->device_api, hd->model, t->device_api);
	return -EINVAL;
}

/* A device that exists and no domain holds: may this domain use it? */
static int claim_existing(struct hook *h, const struct gvtg_hostdev *hd,
			  const struct gvtg_device *dev, struct gvtg_record *rec, bool had_record,
			  struct step *st)
{
	const char *u = hd->uuid;
	struct gvtg_placement p = { 0 };
	int r = gvtg_placement_resolve(h->ctx, h->dom, h->cfg, u, &p);
	/* Only an explicit choice can contradict what exists; "automatic" fits anything. */
	bool bad_type = r >= 0 && p.type_source != GVTG_SOURCE_AUTO && dev->type &&
			strcmp(p.type, dev->type) != 0;
	bool bad_parent = p.parent && p.parent_source != GVTG_SOURCE_AUTO && dev->parent &&
			  strcmp(p.parent, dev->parent) != 0;
	if (bad_type || bad_parent) {
		fail_msg(h,
			 "using vGPU %s for domain '%s': it exists as %s type %s, but the %s asks "
			 "for %s type %s. Remove it ('gvtgctl remove %s') or change the setting",
			 u, domain_name(h), dev->parent ? dev->parent : "?",
			 dev->type ? dev->type : "?",
			 gvtg_source_to_string(bad_type ? p.type_source : p.parent_source),
			 p.parent ? p.parent : "?", p.type ? p.type : "?", u);
		gvtg_placement_clear(&p);
		return -EEXIST;
	}
	gvtg_placement_clear(&p);

	if (dev->parent && dev->type) {
		struct gvtg_type t;
		if (gvtg_type_get(h->ctx, dev->parent, dev->type, &t) >= 0) {
			r = check_model(h, u, hd, &t);
			gvtg_type_clear(&t);
			if (r < 0)
				return r;
		}
	}

	st->had_record = had_record;
	if (had_record) {
		st->old = *rec;
		/* keep st->old's strings; give rec copies of its own */
		rec->domain_name = rec->domain_name ? strdup(rec->domain_name) : NULL;
		rec->parent = rec->parent ? strdup(rec->parent) : NULL;
		rec->type = rec->type ? strdup(rec->type) : NULL;
	} else {
		memcpy(rec->uuid, u, sizeof(rec->uuid));
		rec->origin = GVTG_ORIGIN_ADOPTED;
		rec->parent = dev->parent ? strdup(dev->parent) : NULL;
		rec->type = dev->type ? strdup(dev->type) : NULL;
	}
	set_domain(rec, h->dom);
	r = gvtg_record_write(h->ctx, rec);
	if (r < 0) {
		fail_msg(h,
			 "using vGPU %s for domain '%s': writing its ownership record in /%s: %s. "
			 "Check that /%s is writable",
			 u, domain_name(h), gvtg_state_dir(), strerror(-r), gvtg_state_dir());
		if (had_record) {
			gvtg_record_clear(&st->old);
			st->had_record = false;
		}
		return r;
	}
	st->kind = STEP_CLAIMED;
	memcpy(st->uuid, u, sizeof(st->uuid));
	action_msg(h, "%s vGPU %s (%s %s, %s) for domain '%s'",
		   had_record ? "using" : "adopted", u, dev->parent ? dev->parent : "?",
		   dev->type ? dev->type : "?", gvtg_origin_to_string(rec->origin),
		   domain_name(h));
	return 0;
}

static int create_new(struct hook *h, const struct gvtg_hostdev *hd, struct step *st)
{
	const char *u = hd->uuid;
	struct gvtg_placement p = { 0 };
	int r = gvtg_placement_resolve(h->ctx, h->dom, h->cfg, u, &p);
	if (r < 0) {
		explain_placement_error(h, u, &p, r);
		gvtg_placement_clear(&p);
		return r;
	}

	struct gvtg_type t;
	r = gvtg_type_get(h->ctx, p.parent, p.type, &t);
	if (r < 0) {
		char list[512];
		describe_types(h, p.parent, false, list, sizeof(list));
		fail_msg(h,
			 "creating vGPU %s for domain '%s': parent %s has no type '%s' (from the "
			 "%s). Its types: %s",
			 u, domain_name(h), p.parent, p.type, gvtg_source_to_string(p.type_source),
			 list[0] ? list : "none");
		gvtg_placement_clear(&p);
		return r;
	}
	r = check_model(h, u, hd, &t);
	if (r >= 0 && t.available == 0) {
		explain_create_error(h, u, p.parent, p.type, -ENOBUFS);
		r = -ENOSPC;
	}
	gvtg_type_clear(&t);
	if (r < 0) {
		gvtg_placement_clear(&p);
		return r;
	}

	r = gvtg_mdev_create(h->ctx, p.parent, p.type, u);
	if (r < 0) {
		explain_create_error(h, u, p.parent, p.type, r);
		gvtg_placement_clear(&p);
		return r;
	}
	memcpy(st->uuid, u, sizeof(st->uuid));
	st->kind = STEP_CREATED;

	struct gvtg_record rec = { .origin = GVTG_ORIGIN_CREATED };
	memcpy(rec.uuid, u, sizeof(rec.uuid));
	rec.parent = p.parent;
	rec.type = p.type;
	set_domain(&rec, h->dom);
	r = gvtg_record_write(h->ctx, &rec);
	free(rec.domain_name);
	if (r < 0) {
		fail_msg(h,
			 "creating vGPU %s for domain '%s': writing its ownership record in /%s: "
			 "%s. Check that /%s is writable; the vGPU was removed again",
			 u, domain_name(h), gvtg_state_dir(), strerror(-r), gvtg_state_dir());
		gvtg_placement_clear(&p);
		return r; /* rollback removes the device */
	}
	action_msg(h, "created vGPU %s (%s %s) for domain '%s'", u, p.parent, p.type,
		   domain_name(h));
	gvtg_placement_clear(&p);
	return 0;
}

static int prepare_one(struct hook *h, const struct gvtg_hostdev *hd, struct step *st)
{
	const char *u = hd->uuid;
	struct gvtg_device dev;
	int r = gvtg_device_get(h->ctx, u, &dev);
	if (r == -ENOENT)
		return create_new(h, hd, st);
	if (r < 0) {
		fail_msg(h, "looking up vGPU %s in /sys/bus/mdev/devices: %s", u, strerror(-r));
		return r;
	}

	struct gvtg_record rec = { 0 };
	r = gvtg_record_read(h->ctx, u, &rec);
	if (r == -EBADMSG) {
		fail_msg(h,
			 "using vGPU %s for domain '%s': its ownership record /%s/%s is damaged. "
			 "Check which domain uses the vGPU, then delete the file",
			 u, domain_name(h), gvtg_state_dir(), u);
		gvtg_device_clear(&dev);
		return r;
	}
	if (r < 0 && r != -ENOENT) {
		fail_msg(h, "using vGPU %s: reading its ownership record in /%s: %s", u,
			 gvtg_state_dir(), strerror(-r));
		gvtg_device_clear(&dev);
		return r;
	}
	bool had_record = r >= 0;

	if (had_record && gvtg_record_in_use(&rec)) {
		if (!strcmp(rec.domain_uuid, h->dom->uuid)) {
			/* Ours already: a crash or a killed libvirt left it. */
			st->kind = STEP_REUSED;
			memcpy(st->uuid, u, sizeof(st->uuid));
			action_msg(h, "reusing vGPU %s (%s %s), already held by domain '%s'", u,
				   dev.parent ? dev.parent : "?", dev.type ? dev.type : "?",
				   domain_name(h));
			r = 0;
		} else {
			fail_msg(h,
				 "using vGPU %s for domain '%s': it is in use by domain '%s' (%s). "
				 "Give this domain another vGPU UUID, or shut down '%s' first",
				 u, domain_name(h), rec.domain_name ? rec.domain_name : "?",
				 rec.domain_uuid, rec.domain_name ? rec.domain_name : "?");
			r = -EBUSY;
		}
		gvtg_record_clear(&rec);
		gvtg_device_clear(&dev);
		return r;
	}
	r = claim_existing(h, hd, &dev, &rec, had_record, st);
	gvtg_record_clear(&rec);
	gvtg_device_clear(&dev);
	return r;
}

static void rollback(struct hook *h, struct step *steps, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct step *st = &steps[i];
		int r;
		switch (st->kind) {
		case STEP_CREATED:
			r = gvtg_mdev_remove_bounded(h->ctx, st->uuid, h->cfg->remove_timeout_ms);
			if (r < 0 && r != -ENOENT) {
				fail_msg(h,
					 "undoing the start: removing vGPU %s: %s. Remove it with "
					 "'gvtgctl remove %s'",
					 st->uuid, strerror(-r), st->uuid);
				break; /* keep its record: it is still ours */
			}
			(void)gvtg_record_delete(h->ctx, st->uuid);
			action_msg(h, "removed vGPU %s again: the start of domain '%s' failed",
				   st->uuid, domain_name(h));
			break;
		case STEP_CLAIMED:
			if (st->had_record)
				r = gvtg_record_write(h->ctx, &st->old);
			else
				r = gvtg_record_delete(h->ctx, st->uuid);
			if (r < 0)
				fail_msg(h, "undoing the start: restoring the record of vGPU %s: %s",
					 st->uuid, strerror(-r));
			break;
		case STEP_REUSED:
		case STEP_NONE:
			break;
		}
		if (st->had_record)
			gvtg_record_clear(&st->old);
	}
}

static int lock_or_explain(struct hook *h, const char *what)
{
	int fd = gvtg_lock_acquire(h->ctx, h->cfg->lock_timeout_ms);
	if (fd >= 0)
		return fd;
	if (fd == -ETIMEDOUT)
		fail_msg(h,
			 "%s for domain '%s': the lock /%s/lock was still held after %d s by "
			 "another gvtg-hook or gvtgctl. Find the holder with 'fuser -v /%s/lock'",
			 what, domain_name(h), gvtg_state_dir(), h->cfg->lock_timeout_ms / 1000,
			 gvtg_state_dir());
	else
		fail_msg(h, "%s for domain '%s': taking the lock /%s/lock: %s. Check /%s", what,
			 domain_name(h), gvtg_state_dir(), strerror(-fd), gvtg_state_dir());
	return fd;
}

static int do_prepare(struct hook *h)
{
	if (!h->dom->uuid[0]) {
		fail_msg(h, "domain '%s' has no <uuid> in its XML: cannot record ownership",
			 domain_name(h));
		return 1;
	}
	int lock = lock_or_explain(h, "preparing vGPUs");
	if (lock < 0)
		return 1;

	struct step *steps = calloc(h->dom->n_hostdevs, sizeof(*steps));
	if (!steps) {
		gvtg_lock_release(lock);
		fail_msg(h, "out of memory");
		return 1;
	}
	int r = 0;
	size_t i;
	for (i = 0; i < h->dom->n_hostdevs; i++) {
		r = prepare_one(h, &h->dom->hostdevs[i], &steps[i]);
		if (r < 0)
			break;
	}
	if (r < 0)
		rollback(h, steps, i + 1);
	else
		for (size_t k = 0; k < h->dom->n_hostdevs; k++)
			if (steps[k].had_record)
				gvtg_record_clear(&steps[k].old);
	free(steps);
	gvtg_lock_release(lock);
	return r < 0 ? 1 : 0;
}

/* ---- release end ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void release_one(struct hook *h, const char *u, int64_t deadline)
{
	struct gvtg_record rec;
	int r = gvtg_record_read(h->ctx, u, &rec);
	if (r == -ENOENT) {
		action_msg(h, "left vGPU %s alone: no ownership record, so domain '%s' did not "
			      "get it from gvtg-hook",
			   u, domain_name(h));
		return;
	}
	if (r < 0) {
		fail_msg(h, "releasing vGPU %s: reading its ownership record: %s; left alone", u,
			 strerror(-r));
		return;
	}
	if (strcmp(rec.domain_uuid, h->dom->uuid) != 0) {
		action_msg(h, "left vGPU %s alone: it is %s, not held by domain '%s'", u,
			   gvtg_record_in_use(&rec) ? "held by another domain" : "idle",
			   domain_name(h));
		gvtg_record_clear(&rec);
		return;
	}

	switch (rec.origin) {
	case GVTG_ORIGIN_ADOPTED:
		r = gvtg_record_delete(h->ctx, u);
		action_msg(h, "released adopted vGPU %s of domain '%s'; the vGPU stays", u,
			   domain_name(h));
		break;
	case GVTG_ORIGIN_MANUAL:
	case GVTG_ORIGIN_BOOT:
	keep:
		free(rec.domain_name);
		rec.domain_name = NULL;
		rec.domain_uuid[0] = '\0';
		rec.time = (int64_t)time(NULL);
		r = gvtg_record_write(h->ctx, &rec);
		action_msg(h, "released vGPU %s (%s) of domain '%s'; the vGPU stays", u,
			   gvtg_origin_to_string(rec.origin), domain_name(h));
		break;
	case GVTG_ORIGIN_CREATED: {
		if (h->cfg->release == GVTG_RELEASE_KEEP)
			goto keep;
		int64_t left = deadline - now_ms();
		r = gvtg_mdev_remove_bounded(h->ctx, u, left > 0 ? (int)left : 0);
		if (r >= 0 || r == -ENOENT) {
			r = gvtg_record_delete(h->ctx, u);
			action_msg(h, "removed vGPU %s of domain '%s'", u, domain_name(h));
		} else if (r == -ETIMEDOUT) {
			rec.remove_pending = true;
			(void)gvtg_record_write(h->ctx, &rec);
			fail_msg(h,
				 "removing vGPU %s of domain '%s': still blocked after %d ms (QEMU "
				 "may still hold it); the removal goes on in the background and the "
				 "record is marked pending",
				 u, domain_name(h), h->cfg->remove_timeout_ms);
			r = 0;
		} else {
			fail_msg(h, "removing vGPU %s of domain '%s': %s. Remove it with "
				    "'gvtgctl remove %s'",
				 u, domain_name(h), strerror(-r), u);
			r = 0;
		}
		break;
	}
	}
	if (r < 0)
		fail_msg(h, "releasing vGPU %s: updating its record in /%s: %s", u,
			 gvtg_state_dir(), strerror(-r));
	gvtg_record_clear(&rec);
}

static int do_release(struct hook *h)
{
	if (!h->dom->uuid[0])
		return 0;
	int lock = lock_or_explain(h, "releasing vGPUs");
	if (lock < 0)
		return 0;
	/* One bound for the whole call, however many vGPUs. */
	int64_t deadline = now_ms() + h->cfg->remove_timeout_ms;
	for (size_t i = 0; i < h->dom->n_hostdevs; i++)
		release_one(h, h->dom->hostdevs[i].uuid, deadline);
	gvtg_lock_release(lock);
	return 0;
}

/* ---- reconnect begin -------------------------------------------------------------- */

static int do_reconnect(struct hook *h)
{
	if (!h->dom->uuid[0])
		return 0;
	int lock = gvtg_lock_acquire(h->ctx, h->cfg->lock_timeout_ms);
	if (lock < 0)
		return 0;
	for (size_t i = 0; i < h->dom->n_hostdevs; i++) {
		const char *u = h->dom->hostdevs[i].uuid;
		struct gvtg_device dev;
		struct gvtg_record rec;
		if (gvtg_device_get(h->ctx, u, &dev) < 0)
			continue;
		int r = gvtg_record_read(h->ctx, u, &rec);
		if (r >= 0) {
			gvtg_record_clear(&rec);
		} else {
			/* We cannot know who made it: adopted, so it is never removed by us. */
			struct gvtg_record nr = { .origin = GVTG_ORIGIN_ADOPTED };
			memcpy(nr.uuid, u, sizeof(nr.uuid));
			nr.parent = dev.parent;
			nr.type = dev.type;
			set_domain(&nr, h->dom);
			if (gvtg_record_write(h->ctx, &nr) >= 0)
				action_msg(h, "restored the record of vGPU %s for running domain '%s'",
					   u, domain_name(h));
			free(nr.domain_name);
		}
		gvtg_device_clear(&dev);
	}
	gvtg_lock_release(lock);
	return 0;
}

/* ---- entry ------------------------------------------------------------------------ */

enum hook_op gvtg_hook_classify(const char *op, const char *sub)
{
	if (!strcmp(op, "prepare") && !strcmp(sub, "begin"))
		return HOOK_PREPARE;
	if (!strcmp(op, "release") && !strcmp(sub, "end"))
		return HOOK_RELEASE;
	if (!strcmp(op, "reconnect") && !strcmp(sub, "begin"))
		return HOOK_RECONNECT;
	return HOOK_IGNORED;
}

int gvtg_hook_run(int argc, char **argv, const char *xml, size_t len, int read_error,
		  FILE *err)
{
	struct hook h = { .err = err, .use_syslog = true };
	if (argc != 5)
		return 2;
	/* Freeing a large DOM leaves millions of chunks in fastbins; the next large
	 * allocation then consolidates them all (a third of the time for 16 MiB). */
	mallopt(M_MXFAST, 0);
	enum hook_op op = gvtg_hook_classify(argv[2], argv[3]);
	h.domain_arg = argv[1];
	/* Failing is only allowed to stop a start; after that, exit 0 whatever happens. */
	int fail_code = op == HOOK_PREPARE ? 1 : 0;

	int r = read_error;
	if (op == HOOK_IGNORED)
		return 0;
	openlog("gvtg-hook", LOG_PID, LOG_DAEMON);
	if (r == -EFBIG) {
		if (op == HOOK_PREPARE)
			fail_msg(&h, "domain '%s': the domain XML on stdin is larger than %zu MiB; "
				     "refusing it. Shorten the domain definition",
				 h.domain_arg, GVTG_XML_MAX >> 20);
		return fail_code;
	}
	if (r < 0) {
		fail_msg(&h, "domain '%s': reading the domain XML from stdin: %s", h.domain_arg,
			 strerror(-r));
		return fail_code;
	}

	r = gvtg_domain_parse(xml, len, &h.dom);
	if (r < 0) {
		if (op == HOOK_PREPARE || r != -EBADMSG)
			fail_msg(&h, "domain '%s': %s. libvirt passes the domain XML on stdin; "
				     "check the domain with 'virsh dumpxml %s'",
				 h.domain_arg, gvtg_domain_parse_error(), h.domain_arg);
		return fail_code;
	}
	if (h.dom->n_hostdevs == 0) {
		/* Not our business: no configuration, no lock, no sysfs. */
		gvtg_domain_free(h.dom);
		return 0;
	}

	const char *root = secure_getenv("GVTG_ROOT");
	r = gvtg_ctx_new(root, &h.ctx);
	if (r < 0) {
		fail_msg(&h, "opening the root directory %s: %s", root ? root : "/", strerror(-r));
		gvtg_domain_free(h.dom);
		return fail_code;
	}
	gvtg_ctx_set_log_fn(h.ctx, lib_log, &h);

	r = gvtg_config_load(h.ctx, NULL, &h.cfg);
	if (r < 0) {
		if (h.cfg && r == -EBADMSG)
			fail_msg(&h, "configuration %s, line %d: %s. Fix the file (see "
				     "gvtg-hook.conf(5))",
				 h.cfg->path ? h.cfg->path : gvtg_config_default_path(),
				 h.cfg->error_line, h.cfg->error);
		else
			fail_msg(&h, "reading the configuration %s: %s",
				 gvtg_config_default_path(),
				 h.cfg && h.cfg->error[0] ? h.cfg->error : strerror(-r));
		/* A broken file must not stop the release of running VMs' vGPUs: go on
		 * with the defaults there, refuse new starts. */
		if (op == HOOK_PREPARE || !h.cfg) {
			gvtg_config_free(h.cfg);
			gvtg_domain_free(h.dom);
			gvtg_ctx_free(h.ctx);
			return fail_code;
		}
	}

	int ret;
	switch (op) {
	case HOOK_PREPARE:
		ret = do_prepare(&h);
		break;
	case HOOK_RELEASE:
		ret = do_release(&h);
		break;
	case HOOK_RECONNECT:
		ret = do_reconnect(&h);
		break;
	default:
		ret = 0;
	}
	gvtg_config_free(h.cfg);
	gvtg_domain_free(h.dom);
	gvtg_ctx_free(h.ctx);
	closelog();
	return ret;
}
