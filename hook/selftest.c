/* SPDX-License-Identifier: MIT */
/*
 * `gvtg-hook --self-test`, the core module's half: the executable has loaded this
 * module (so its libraries resolved), and here the module parses a domain with one mdev
 * hostdev, the way it parses libvirt's on every start.  gvtgctl check runs it to tell
 * an installed hook that works from one that only exists.
 */
#include <string.h>

#include "early.h"
#include "gvtg.h"

#define SELF_TEST_VGPU "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define SELF_TEST_DOMAIN "11111111-2222-4333-8444-555555555501"

static const char self_test_domain[] =
	"<domain type='kvm'>\n"
	"  <name>gvtg-hook-self-test</name>\n"
	"  <uuid>" SELF_TEST_DOMAIN "</uuid>\n"
	"  <metadata>\n"
	"    <gvtg:vgpu xmlns:gvtg='" GVTG_METADATA_NS "'>\n"
	"      <gvtg:device uuid='" SELF_TEST_VGPU "' type='i915-GVTg_V5_4'/>\n"
	"    </gvtg:vgpu>\n"
	"  </metadata>\n"
	"  <devices>\n"
	"    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>\n"
	"      <source><address uuid='" SELF_TEST_VGPU "'/></source>\n"
	"    </hostdev>\n"
	"  </devices>\n"
	"</domain>\n";

int gvtg_hook_self_test(FILE *err)
{
	struct gvtg_domain *d = NULL;
	int r = gvtg_domain_parse(self_test_domain, sizeof(self_test_domain) - 1, &d);
	if (r < 0) {
		fprintf(err,
			"gvtg-hook: self-test: parsing a built-in domain XML failed (%d): %s. "
			"libxml2 does not work as the hook needs: reinstall gvtg-hook and its "
			"libxml2\n",
			r, gvtg_domain_parse_error());
		return 1;
	}
	bool ok = d->name && !strcmp(d->name, "gvtg-hook-self-test") &&
		  !strcmp(d->uuid, SELF_TEST_DOMAIN) && d->n_hostdevs == 1 &&
		  !strcmp(d->hostdevs[0].uuid, SELF_TEST_VGPU) && d->hostdevs[0].model &&
		  !strcmp(d->hostdevs[0].model, "vfio-pci") && d->n_meta == 1 &&
		  d->meta[0].type && !strcmp(d->meta[0].type, "i915-GVTg_V5_4");
	gvtg_domain_free(d);
	if (!ok) {
		fprintf(err, "gvtg-hook: self-test: a built-in domain XML with one mdev vGPU "
			     "was parsed, but not into that vGPU: the core module is damaged "
			     "or mismatched. Reinstall gvtg-hook\n");
		return 1;
	}
	return 0;
}
