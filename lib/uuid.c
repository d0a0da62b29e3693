/* SPDX-License-Identifier: MIT */
/*
 * UUIDs: every form libvirt takes for a domain's <uuid> or an mdev address is read here,
 * once, into the kernel's form (36 characters, lower case), the only one used after.
 */
#include <string.h>
#include <uuid/uuid.h>

#include "gvtg-private.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* libvirt's rule (virUUIDParse): 32 hex digits in pairs, any number of '-' or ' '
 * before or between the pairs, white space around the whole. */
int gvtg_uuid_normalize(const char *in, char ret_out[GVTG_UUID_STRLEN + 1])
{
	uuid_t u;
	if (!in)
		return -EINVAL;
	const char *p = in;
	while (is_space(*p))
		p++;
	for (size_t i = 0; i < sizeof(u);) {
		if (*p == '-' || *p == ' ') {
			p++;
			continue;
		}
		int hi = hex_value(p[0]);
		int lo = hi < 0 ? -1 : hex_value(p[1]);
		if (lo < 0)
			return -EINVAL;
		u[i++] = (unsigned char)(hi * 16 + lo);
		p += 2;
	}
	while (is_space(*p))
		p++;
	if (*p)
		return -EINVAL;
	uuid_unparse_lower(u, ret_out);
	return 0;
}

int gvtg_uuid_generate(char ret_out[GVTG_UUID_STRLEN + 1])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, ret_out);
	return 0;
}
