/* SPDX-License-Identifier: MIT */
/* UUIDs through libuuid: the kernel names mdev devices in lower case. */
#include <string.h>
#include <uuid/uuid.h>

#include "gvtg-private.h"

int gvtg_uuid_normalize(const char *in, char ret_out[GVTG_UUID_STRLEN + 1])
{
	uuid_t u;

	/* uuid_parse() accepts exactly the 8-4-4-4-12 form; check the length first so
	 * that trailing bytes are refused too. */
	if (!in || strlen(in) != GVTG_UUID_STRLEN || uuid_parse(in, u) < 0)
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
