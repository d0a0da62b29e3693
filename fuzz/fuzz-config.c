/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the configuration parser.  The file is root's, but a parser that
 * crashes on a typo would stop every VM start, so it gets the same treatment as the
 * domain XML.  Checks the invariants the hook relies on: names that pass
 * gvtg_name_is_valid(), normalised UUIDs, timeouts in range, one error line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gvtg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	if (name && !gvtg_name_is_valid(name))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct gvtg_config *c = NULL;
	int r = gvtg_config_parse_string(text, &c);
	free(text);
	if (!c) {
		if (r >= 0)
			abort();
		return 0;
	}
	if (r < 0 && (c->error_line <= 0 || !c->error[0]))
		abort();
	if (memchr(c->error, '\0', sizeof(c->error)) == NULL)
		abort();
	check_name(c->parent);
	check_name(c->type);
	if (c->remove_timeout_ms < 0 || c->remove_timeout_ms > 3600 * 1000 ||
	    c->lock_timeout_ms < 0 || c->lock_timeout_ms > 3600 * 1000 ||
	    c->mdevctl_timeout_ms < 1000 || c->mdevctl_timeout_ms > 3600 * 1000)
		abort();
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct gvtg_config_device *d = &c->devices[i];
		char u[GVTG_UUID_STRLEN + 1];
		if (gvtg_uuid_normalize(d->uuid, u) < 0 || strcmp(u, d->uuid) != 0)
			abort();
		check_name(d->parent);
		check_name(d->type);
		if (gvtg_config_find(c, d->uuid) == NULL)
			abort();
	}
	gvtg_config_free(c);
	return 0;
}
