/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the cmocka unit tests: includes in the order cmocka needs, fake guest memory. */
#ifndef EMBER_UNIT_H
#define EMBER_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ember.h"

/* One or two calloc'ed regions laid out as ember lays out guest RAM. */
static inline void fake_gm_init(struct guest_mem *gm, uint64_t low, uint64_t high_gpa,
				uint64_t high)
{
	memset(gm, 0, sizeof(*gm));
	gm->region[0] = (struct gm_region){.gpa = 0, .size = low, .host = calloc(1, low)};
	assert_non_null(gm->region[0].host);
	gm->nr_regions = 1;
	if (high) {
		gm->region[1] =
		    (struct gm_region){.gpa = high_gpa, .size = high, .host = calloc(1, high)};
		assert_non_null(gm->region[1].host);
		gm->nr_regions = 2;
	}
}

static inline void fake_gm_free(struct guest_mem *gm)
{
	for (unsigned i = 0; i < gm->nr_regions; i++)
		free(gm->region[i].host);
	gm->nr_regions = 0;
}

#endif /* EMBER_UNIT_H */
