/* SPDX-License-Identifier: MIT */
/*
 * mdev-probe: the library's mdev calls, one per subcommand, for the tests that run
 * against a real kernel's sysfs (tests/vm).  Results go to stdout in a fixed form the
 * guest script compares exactly: a library error is printed as "-ENAME" (the errno's
 * symbolic name), so a test can tell EUSERS from ENOSPC without parsing prose.
 *
 *   mdev-probe [--root DIR] parents
 *   mdev-probe [--root DIR] types PARENT
 *   mdev-probe [--root DIR] type PARENT TYPE        one type, or -ENAME
 *   mdev-probe [--root DIR] available PARENT TYPE   available_instances only
 *   mdev-probe [--root DIR] create PARENT TYPE UUID prints 0 or -ENAME
 *   mdev-probe [--root DIR] remove UUID             prints 0 or -ENAME
 *   mdev-probe [--root DIR] devices
 *   mdev-probe [--root DIR] device UUID
 *
 * Exit status: 0 when the call succeeded, 1 when it returned an error, 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gvtg.h"

static void ctx_freep(struct gvtg_ctx **p)
{
	gvtg_ctx_free(*p);
}
#define _cleanup_ctx_ __attribute__((cleanup(ctx_freep)))

static const char usage[] =
	"usage: mdev-probe [--root DIR] parents | types PARENT | type PARENT TYPE |\n"
	"       available PARENT TYPE | create PARENT TYPE UUID | remove UUID |\n"
	"       devices | device UUID\n";

/* "-EEXIST" for -17: the name is what the tests assert, the number differs by arch. */
static void print_error(int r)
{
	const char *name = strerrorname_np(-r);
	if (name)
		printf("-%s\n", name);
	else
		printf("-%d\n", -r);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* One line per type; strings are quoted since names contain spaces ("Dual port serial"),
 * and a missing file shows as "-" so a test can tell absent from empty. */
static void print_type(const struct gvtg_type *t)
{
	printf("%s available=%d device_api=%s name=\"%s\" description=\"%s\"\n", t->id,
	       t->available, or_dash(t->device_api), or_dash(t->name),
	       or_dash(t->description));
}

static int cmd_parents(struct gvtg_ctx *ctx)
{
	char **names;
	size_t n;
	int r = gvtg_parents_list(ctx, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		puts(names[i]);
	gvtg_strv_free(names, n);
	return 0;
}

static int cmd_types(struct gvtg_ctx *ctx, const char *parent)
{
	struct gvtg_type *types;
	size_t n;
	int r = gvtg_types_list(ctx, parent, &types, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		print_type(&types[i]);
	gvtg_types_free(types, n);
	return 0;
}

static int cmd_type(struct gvtg_ctx *ctx, const char *parent, const char *type,
		    bool only_available)
{
	struct gvtg_type t;
	int r = gvtg_type_get(ctx, parent, type, &t);
	if (r < 0)
		return r;
	if (only_available)
		printf("%d\n", t.available);
	else
		print_type(&t);
	gvtg_type_clear(&t);
	return 0;
}

static void print_device(const struct gvtg_device *d)
{
	printf("%s %s %s\n", d->uuid, or_dash(d->parent), or_dash(d->type));
}

static int cmd_devices(struct gvtg_ctx *ctx)
{
	struct gvtg_device *devs;
	size_t n;
	int r = gvtg_devices_list(ctx, &devs, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		print_device(&devs[i]);
	gvtg_devices_free(devs, n);
	return 0;
}

static int cmd_device(struct gvtg_ctx *ctx, const char *uuid)
{
	struct gvtg_device d;
	int r = gvtg_device_get(ctx, uuid, &d);
	if (r < 0)
		return r;
	print_device(&d);
	gvtg_device_clear(&d);
	return 0;
}

/* create/remove print their result even on success, so every outcome is one line. */
static int print_result(int r)
{
	if (r < 0)
		print_error(r);
	else
		puts("0");
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	int i = 1;
	if (i + 1 < argc && !strcmp(argv[i], "--root")) {
		root = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[i];
	char **a = argv + i + 1;
	int na = argc - i - 1;

	_cleanup_ctx_ struct gvtg_ctx *ctx = NULL;
	int r = gvtg_ctx_new(root, &ctx);
	if (r < 0) {
		fprintf(stderr, "mdev-probe: opening root %s: %s\n", root ? root : "/",
			strerror(-r));
		return 1;
	}

	if (!strcmp(cmd, "create") && na == 3)
		return print_result(gvtg_mdev_create(ctx, a[0], a[1], a[2]));
	if (!strcmp(cmd, "remove") && na == 1)
		return print_result(gvtg_mdev_remove(ctx, a[0]));

	if (!strcmp(cmd, "parents") && na == 0)
		r = cmd_parents(ctx);
	else if (!strcmp(cmd, "types") && na == 1)
		r = cmd_types(ctx, a[0]);
	else if (!strcmp(cmd, "type") && na == 2)
		r = cmd_type(ctx, a[0], a[1], false);
	else if (!strcmp(cmd, "available") && na == 2)
		r = cmd_type(ctx, a[0], a[1], true);
	else if (!strcmp(cmd, "devices") && na == 0)
		r = cmd_devices(ctx);
	else if (!strcmp(cmd, "device") && na == 1)
		r = cmd_device(ctx, a[0]);
	else {
		fputs(usage, stderr);
		return 2;
	}
	if (r < 0) {
		print_error(r);
		return 1;
	}
	return 0;
}
