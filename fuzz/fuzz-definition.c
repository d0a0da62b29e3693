/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the reader of mdevctl's definition files (lib/definition-json.c).
 * Anyone who may write /etc/mdevctl.d (virt-manager, `virsh nodedev-define`) feeds it,
 * and the hook reads it on every start of a VM with a defined vGPU.  Checks what the
 * lifecycle relies on: a type and attribute names that are safe path components, no
 * "remove" attribute, C strings throughout, an error exactly when it is refused; and
 * that the error line, cleaned by gvtg_text_clean(), is fit for a terminal.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gvtg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No control character, no C1, nothing that is not UTF-8. */
static void check_clean(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = gvtg_utf8_len(s + i, n - i);
		if (k == 0 || c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0))
			abort();
		i += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gvtg_definition d = { 0 };
	int r = gvtg_definition_parse((const char *)data, size, &d);
	if (r < 0) {
		if ((r != -EBADMSG && r != -ENOMEM) || (r == -EBADMSG && !d.error[0]) || d.type ||
		    d.attrs || d.n_attrs)
			abort();
	} else {
		if (r != 0 || d.error[0] || !d.type || !gvtg_name_is_valid(d.type) ||
		    d.n_attrs > GVTG_DEFINITION_ATTRS_MAX || (d.n_attrs && !d.attrs))
			abort();
		for (size_t i = 0; i < d.n_attrs; i++) {
			const struct gvtg_definition_attr *a = &d.attrs[i];
			if (!a->name || !a->value || !gvtg_name_is_valid(a->name) ||
			    !strcmp(a->name, "remove"))
				abort();
			(void)strlen(a->value);
		}
	}
	if (memchr(d.error, '\0', sizeof(d.error)) == NULL)
		abort();
	char clean[sizeof(d.error) * 6];
	gvtg_text_clean(d.error, strlen(d.error), clean, sizeof(clean), 0);
	check_clean(clean);
	/* The raw input through the cleaning too: whatever it is, what comes out is safe. */
	char *out = malloc(size * 6 + 1);
	if (out) {
		gvtg_text_clean((const char *)data, size, out, size * 6 + 1, 0);
		check_clean(out);
		free(out);
	}
	gvtg_definition_clear(&d);
	return 0;
}
