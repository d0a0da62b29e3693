/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: metadata and placement resolution.  A fuzzed domain XML (its
 * <metadata> names parents and types) is resolved against a fake sysfs tree with two
 * parents (one with two types, one with one), built once in a temporary directory.
 * The invariants are the safety promises: whatever the input, a resolved parent and
 * type are valid single path components, and an automatic choice exists in the tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gvtg.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[] = "/tmp/gvtg-fuzz-placement.XXXXXX";
static struct gvtg_ctx *ctx;
static struct gvtg_config *cfg;

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void mkdirs(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0755);
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		abort();
}

static void add_type(const char *parent, const char *type, const char *avail)
{
	char rel[256], f[320];
	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/mdev_supported_types/%s",
		 parent, type);
	mkdirs(rel);
	snprintf(f, sizeof(f), "%s/name", rel);
	put(f, type + 5);
	snprintf(f, sizeof(f), "%s/available_instances", rel);
	put(f, avail);
	snprintf(f, sizeof(f), "%s/device_api", rel);
	put(f, "vfio-pci\n");
	snprintf(f, sizeof(f), "%s/description", rel);
	put(f, "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\n"
	       "weight: 4\n");
	snprintf(f, sizeof(f), "%s/create", rel);
	put(f, "");
	/* create is write-only in sysfs; resolution must never write it */
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, f);
	chmod(p, 0200);
}

static void cleanup(void)
{
	gvtg_ctx_free(ctx);
	gvtg_config_free(cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz-placement: could not remove %s\n", root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(root))
		abort();
	mkdirs("sys/class/mdev_bus");
	mkdirs("sys/bus/mdev/devices");
	add_type("0000:00:02.0", "i915-GVTg_V5_4", "2\n");
	add_type("0000:00:02.0", "i915-GVTg_V5_8", "5\n");
	add_type("0000:01:00.0", "i915-GVTg_V5_2", "0\n");
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/class/mdev_bus/0000:00:02.0", root);
	if (symlink("../../devices/pci0000:00/0000:00:02.0", p) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/sys/class/mdev_bus/0000:01:00.0", root);
	if (symlink("../../devices/pci0000:00/0000:01:00.0", p) < 0)
		abort();
	if (gvtg_ctx_new(root, &ctx) < 0)
		abort();
	/* One per-UUID section, so the config path is resolved too. */
	if (gvtg_config_parse_string("[defaults]\ntype = i915-GVTg_V5_4\n"
				     "[8c2a4f7e-13b9-4d6a-a0e5-7f91c3d2b468]\n"
				     "parent = 0000:01:00.0\n",
				     &cfg) < 0)
		abort();
	atexit(cleanup);
	return 0;
}

static void check_placement(const struct gvtg_placement *p, int r)
{
	if (r < 0)
		return;
	if (!gvtg_name_is_valid(p->parent) || !gvtg_name_is_valid(p->type))
		abort();
	char rel[512];
	snprintf(rel, sizeof(rel), "sys/class/mdev_bus/%s/mdev_supported_types/%s", p->parent,
		 p->type);
	struct stat st;
	if (fstatat(gvtg_ctx_get_root_fd(ctx), rel, &st, 0) < 0 && p->type_source ==
	    GVTG_SOURCE_AUTO)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gvtg_domain *d = NULL;
	if (gvtg_domain_parse((const char *)data, size, &d) < 0)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		const struct gvtg_config *c = pass ? cfg : NULL;
		for (size_t i = 0; i < d->n_hostdevs; i++) {
			struct gvtg_placement p = { 0 };
			int r = gvtg_placement_resolve(ctx, d, c, d->hostdevs[i].uuid, &p);
			check_placement(&p, r);
			gvtg_placement_clear(&p);
		}
		for (size_t i = 0; i < d->n_meta; i++) {
			struct gvtg_placement p = { 0 };
			int r = gvtg_placement_resolve(ctx, d, c, d->meta[i].uuid, &p);
			check_placement(&p, r);
			gvtg_placement_clear(&p);
		}
	}
	gvtg_domain_free(d);
	return 0;
}
