/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the domain XML extraction, the first code that sees what a libvirt
 * user wrote.  The input is passed without a terminating NUL, so any read past the
 * length is caught by ASan; every field of a successful parse is read once so that a
 * bad pointer or a missing terminator shows up here and not in the hook.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gvtg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the lengths go, so the reads are not optimised away. */
size_t fuzz_domain_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gvtg_domain *d = NULL;
	size_t sink = 0;

	if (gvtg_domain_parse((const char *)data, size, &d) < 0) {
		fuzz_domain_sink += strlen(gvtg_domain_parse_error());
		return 0;
	}
	sink += d->name ? strlen(d->name) : 0;
	sink += strlen(d->uuid);
	for (size_t i = 0; i < d->n_hostdevs; i++) {
		if (strlen(d->hostdevs[i].uuid) != GVTG_UUID_STRLEN)
			abort();
		sink += d->hostdevs[i].model ? strlen(d->hostdevs[i].model) : 0;
	}
	for (size_t i = 0; i < d->n_meta; i++) {
		if (strlen(d->meta[i].uuid) != GVTG_UUID_STRLEN)
			abort();
		sink += d->meta[i].parent ? strlen(d->meta[i].parent) : 0;
		sink += d->meta[i].type ? strlen(d->meta[i].type) : 0;
	}
	fuzz_domain_sink += sink;
	gvtg_domain_free(d);
	return 0;
}
