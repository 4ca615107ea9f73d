// SPDX-License-Identifier: Apache-2.0
/*
 * Strict number parsing shared by the CLI, the HTTP parser and the jailer:
 * everything a user or client types goes through one well-tested path.
 */
#include "ember.h"

int str_to_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9')
			return -EINVAL;
		/* v * 10 + d <= max, without computing anything that can wrap. */
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
