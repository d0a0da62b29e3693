/* SPDX-License-Identifier: MIT */
/*
 * gvtgctl check, the host's part: the iGPU and whether its generation can do GVT-g, the
 * kernel options and modules GVT-g needs, and the vGPU types the firmware's aperture
 * allows.  Read-only, every path under --root; the lines go to cmd-check.c's report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define IGPU "0000:00:02.0"
#define IGPU_DIR "sys/bus/pci/devices/" IGPU

/* Short names for the checks below. */
#define report(rp, ...) ctl_check_report(rp, __VA_ARGS__)
#define ST_PASS CTL_CHECK_PASS
#define ST_INFO CTL_CHECK_INFO
#define ST_WARN CTL_CHECK_WARN
#define ST_FAIL CTL_CHECK_FAIL

/* ---- the iGPU and its generation ------------------------------------------------ */

enum support {
	GEN_GVT,        /* GVT-g works */
	GEN_OLD,        /* before Broadwell */
	GEN_ATOM,       /* an Atom's iGPU of a GVT-g era: never supported */
	GEN_GEN11,      /* Ice Lake era: GVT-d only */
	GEN_SRIOV,      /* Gen12 and later: SR-IOV instead */
};

/* Device IDs of Intel iGPUs by family, as the i915 driver's PCI ID tables group them.
 * First match wins: the Atom IDs come before the ranges they sit in. */
static const struct igpu_family {
	uint16_t first, last;
	const char *name;
	enum support support;
} families[] = {
	{ 0x5a84, 0x5a85, "Apollo Lake", GEN_ATOM },
	{ 0x3184, 0x3185, "Gemini Lake", GEN_ATOM },
	{ 0x22b0, 0x22b3, "Cherry View/Braswell", GEN_ATOM },
	{ 0x0f30, 0x0f33, "Bay Trail", GEN_OLD },
	{ 0x0100, 0x01ff, "Sandy Bridge/Ivy Bridge", GEN_OLD },
	{ 0x0400, 0x04ff, "Haswell", GEN_OLD },
	{ 0x0a00, 0x0aff, "Haswell", GEN_OLD },
	{ 0x0c00, 0x0cff, "Haswell", GEN_OLD },
	{ 0x0d00, 0x0dff, "Haswell", GEN_OLD },
	{ 0x1600, 0x16ff, "Broadwell", GEN_GVT },
	{ 0x1900, 0x19ff, "Skylake", GEN_GVT },
	{ 0x5900, 0x59ff, "Kaby Lake", GEN_GVT },
	{ 0x3e00, 0x3eff, "Coffee Lake/Whiskey Lake", GEN_GVT },
	{ 0x9b00, 0x9bff, "Comet Lake", GEN_GVT },
	{ 0x87c0, 0x87cf, "Amber Lake/Comet Lake", GEN_GVT },
	{ 0x5a00, 0x5aff, "Cannon Lake", GEN_GEN11 },
	{ 0x8a00, 0x8aff, "Ice Lake", GEN_GEN11 },
	{ 0x4500, 0x45ff, "Elkhart Lake", GEN_GEN11 },
	{ 0x4e00, 0x4eff, "Jasper Lake", GEN_GEN11 },
	{ 0x9a00, 0x9aff, "Tiger Lake", GEN_SRIOV },
	{ 0x4c80, 0x4c9f, "Rocket Lake", GEN_SRIOV },
	{ 0x4600, 0x46ff, "Alder Lake", GEN_SRIOV },
	{ 0xa700, 0xa7ff, "Raptor Lake", GEN_SRIOV },
	{ 0x7d00, 0x7dff, "Meteor Lake/Arrow Lake", GEN_SRIOV },
	{ 0x6400, 0x64ff, "Lunar Lake", GEN_SRIOV },
	{ 0xb000, 0xb0ff, "Panther Lake", GEN_SRIOV },
};

static const struct igpu_family *igpu_family(unsigned id)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (id >= families[i].first && id <= families[i].last)
			return &families[i];
	return NULL;
}

static bool read_hex(struct ctl *c, const char *path, unsigned long *ret)
{
	char *s;
	if (ctl_read_file(c, path, &s) < 0)
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 16);
	bool ok = errno == 0 && end != s && *end == '\0';
	free(s);
	if (ok)
		*ret = v;
	return ok;
}

#define NO_GVT_NOTHING "this GPU cannot do GVT-g, and gvtg-hook has nothing to manage here"

static void check_igpu(struct ctl_check_report *rp)
{
	struct ctl *c = ctl_check_report_ctl(rp);
	unsigned long vendor, class, device;
	if (!read_hex(c, IGPU_DIR "/vendor", &vendor) || !read_hex(c, IGPU_DIR "/class", &class) ||
	    vendor != 0x8086 || (class >> 8) != 0x0300) {
		report(rp, "igpu", ST_FAIL,
		       "GVT-g needs the integrated GPU of an Intel Core CPU from Broadwell to "
		       "Comet Lake (5th to 10th generation)",
		       "no Intel integrated GPU at " IGPU);
		return;
	}
	if (!read_hex(c, IGPU_DIR "/device", &device)) {
		report(rp, "igpu", ST_WARN, "check that sysfs is mounted and readable",
		       "Intel iGPU at " IGPU " with an unreadable device ID");
		return;
	}
	const struct igpu_family *f = igpu_family((unsigned)device);
	if (!f) {
		report(rp, "igpu", ST_WARN,
		       "cannot tell whether GVT-g supports it: GVT-g covers Broadwell to Comet "
		       "Lake only",
		       "Intel iGPU at " IGPU " has the unknown device ID 0x%04lx", device);
		return;
	}
	switch (f->support) {
	case GEN_GVT:
		report(rp, "igpu", ST_PASS,
		       NULL, "Intel iGPU at " IGPU " (0x%04lx, %s) supports GVT-g",
		       device, f->name);
		break;
	case GEN_OLD:
		ctl_check_report_instead(rp, NO_GVT_NOTHING);
		report(rp, "igpu", ST_FAIL,
		       "GVT-g needs Broadwell (5th generation) or newer, up to Comet Lake",
		       "Intel iGPU at " IGPU " (0x%04lx, %s) is older than GVT-g", device,
		       f->name);
		break;
	case GEN_ATOM:
		ctl_check_report_instead(rp, NO_GVT_NOTHING);
		report(rp, "igpu", ST_FAIL,
		       "GVT-g is not supported on Atom/Pentium Silver/Celeron iGPUs; it needs a "
		       "Core CPU from Broadwell to Comet Lake",
		       "Intel iGPU at " IGPU " (0x%04lx, %s)", device, f->name);
		break;
	case GEN_GEN11:
		ctl_check_report_instead(rp, "this GPU cannot do GVT-g; it can be passed whole to "
					     "one VM (GVT-d), which gvtg-hook does not manage");
		report(rp, "igpu", ST_FAIL,
		       "GVT-g is not supported on this generation; only GVT-d (passing the "
		       "whole GPU to one VM) works",
		       "Intel iGPU at " IGPU " (0x%04lx, %s)", device, f->name);
		break;
	case GEN_SRIOV:
		ctl_check_report_instead(rp, "this GPU cannot do GVT-g; it can use SR-IOV virtual "
					     "functions (with the xe driver, or the i915 SR-IOV "
					     "module) or be passed whole to one VM (GVT-d), which "
					     "gvtg-hook does not manage");
		report(rp, "igpu", ST_FAIL,
		       "GVT-g is not supported on this generation; use SR-IOV",
		       "Intel iGPU at " IGPU " (0x%04lx, %s)", device, f->name);
		break;
	}
}

/* ---- kernel options and modules --------------------------------------------------- */

static void check_enable_gvt(struct ctl_check_report *rp)
{
	char *v;
	const char *fix = "add i915.enable_gvt=1 to the kernel command line and reboot";
	int r = ctl_read_file(ctl_check_report_ctl(rp), "sys/module/i915/parameters/enable_gvt", &v);
	if (r < 0) {
		report(rp, "i915-enable-gvt", ST_FAIL, fix,
		       "i915 has no enable_gvt parameter (i915 not loaded, or built without "
		       "GVT-g)");
		return;
	}
	if (!strcmp(v, "Y") || !strcmp(v, "1"))
		report(rp, "i915-enable-gvt", ST_PASS,
		       NULL, "GVT-g enabled in i915 (i915.enable_gvt=1)");
	else
		report(rp, "i915-enable-gvt", ST_FAIL,
		       fix, "GVT-g not enabled in i915 (enable_gvt is %s)", v);
	free(v);
}

static void check_enable_guc(struct ctl_check_report *rp)
{
	char *v;
	if (ctl_read_file(ctl_check_report_ctl(rp), "sys/module/i915/parameters/enable_guc", &v) < 0) {
		report(rp, "i915-enable-guc", ST_INFO,
		       NULL, "i915.enable_guc not readable (i915 not loaded)");
		return;
	}
	long n = strtol(v, NULL, 10);
	if (n <= 0)
		report(rp, "i915-enable-guc", ST_PASS,
		       NULL, "GuC firmware loading off (i915.enable_guc=%ld)", n);
	else
		report(rp, "i915-enable-guc", ST_WARN,
		       "add i915.enable_guc=0 to the kernel command line: GVT-g does not work "
		       "with GuC submission",
		       "GuC firmware loading on (i915.enable_guc=%ld)", n);
	free(v);
}

static void check_module(struct ctl_check_report *rp, const char *id, const char *name,
			 const char *alt, const char *fix)
{
	char p[128], q[128];
	snprintf(p, sizeof(p), "sys/module/%s", name);
	snprintf(q, sizeof(q), "sys/module/%s", alt ? alt : name);
	if (ctl_exists(ctl_check_report_ctl(rp), p))
		report(rp, id, ST_PASS, NULL, "module %s loaded", name);
	else if (alt && ctl_exists(ctl_check_report_ctl(rp), q))
		report(rp, id, ST_PASS, NULL, "module %s loaded", alt);
	else if (alt)
		report(rp, id, ST_FAIL, fix, "module %s (or %s) not loaded", name, alt);
	else
		report(rp, id, ST_FAIL, fix, "module %s not loaded", name);
}

static bool dir_has_entries(struct ctl *c, const char *path)
{
	int fd = openat(gvtg_ctx_get_root_fd(c->ctx), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	bool any = false;
	struct dirent *de;
	while (!any && (de = readdir(d)))
		any = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return any;
}

static bool cmdline_has(struct ctl *c, const char *opt)
{
	char *line;
	if (ctl_read_file(c, "proc/cmdline", &line) < 0)
		return false;
	bool found = false;
	size_t len = strlen(opt);
	for (char *tok = strtok(line, " \t\n"); tok && !found; tok = strtok(NULL, " \t\n"))
		/* intel_iommu=on,sm_on counts too */
		found = !strncmp(tok, opt, len) && (tok[len] == '\0' || tok[len] == ',');
	free(line);
	return found;
}

static void check_iommu(struct ctl_check_report *rp)
{
	if (dir_has_entries(ctl_check_report_ctl(rp), "sys/class/iommu"))
		report(rp, "iommu", ST_PASS, NULL, "IOMMU enabled (/sys/class/iommu)");
	else if (cmdline_has(ctl_check_report_ctl(rp), "intel_iommu=on"))
		report(rp, "iommu", ST_PASS, NULL, "IOMMU enabled (intel_iommu=on)");
	else
		report(rp, "iommu", ST_FAIL,
		       "add intel_iommu=on to the kernel command line and reboot",
		       "IOMMU not enabled");
}

static void check_vfio_node(struct ctl_check_report *rp)
{
	if (ctl_exists(ctl_check_report_ctl(rp), "dev/vfio/vfio"))
		report(rp, "vfio-node", ST_PASS, NULL, "/dev/vfio/vfio present");
	else
		report(rp, "vfio-node", ST_FAIL,
		       "modprobe vfio; the device node comes with it",
		       "/dev/vfio/vfio missing");
}

/* ---- vGPU types ---------------------------------------------------------------------- */

static void check_types(struct ctl_check_report *rp)
{
	struct gvtg_type *types;
	size_t n = 0;
	int r = gvtg_types_list(ctl_check_report_ctl(rp)->ctx, IGPU, &types, &n);
	if (r < 0 || n == 0) {
		if (r >= 0)
			gvtg_types_free(types, n);
		report(rp, "vgpu-types", ST_FAIL,
		       "enable GVT-g (i915.enable_gvt=1, module kvmgt); if it is on, the "
		       "graphics aperture is too small: raise it in the firmware setup",
		       IGPU " offers no vGPU types");
		return;
	}
	/* The aperture (low_gm) is what limits the types: a small one in the firmware
	 * leaves only the smallest. */
	const struct gvtg_type *largest = NULL;
	unsigned largest_mb = 0;
	for (size_t i = 0; i < n; i++) {
		struct gvtg_gvt_info info;
		if (!types[i].description || gvtg_gvt_info_parse(types[i].description, &info) < 0)
			continue;
		if (!largest || info.low_gm_mb > largest_mb) {
			largest = &types[i];
			largest_mb = info.low_gm_mb;
		}
	}
	if (largest && largest_mb < 256)
		report(rp, "vgpu-types", ST_WARN,
		       "the graphics aperture set in the firmware is small; raise it (512 MB "
		       "or more) in the firmware setup for larger types",
		       IGPU " offers only small vGPU types (largest %s, %u MB aperture)",
		       largest->id, largest_mb);
	else
		report(rp, "vgpu-types", ST_PASS,
		       NULL, IGPU " offers %zu vGPU type%s", n, n == 1 ? "" : "s");
	gvtg_types_free(types, n);
}

void ctl_check_host(struct ctl_check_report *rp)
{
	check_igpu(rp);
	check_enable_gvt(rp);
	check_enable_guc(rp);
	check_module(rp, "module-kvmgt", "kvmgt", NULL,
		     "modprobe kvmgt, and add it to /etc/modules-load.d/ to load it at boot");
	check_module(rp, "module-vfio", "vfio", NULL, "modprobe vfio vfio_iommu_type1");
	check_module(rp, "module-mdev", "mdev", "vfio_mdev",
		     "modprobe mdev (vfio_mdev before Linux 5.16)");
	check_iommu(rp);
	check_vfio_node(rp);
	check_types(rp);
}
