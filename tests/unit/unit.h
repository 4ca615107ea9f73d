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
#include <sys/epoll.h>

#include "ember.h"
#include "evloop.h"

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

/* The device tests' event loop, run by hand: what is ready (waiting up to
 * @timeout_ms) is dispatched once; how many handlers ran. */
static inline int loop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(l->epfd, ev, 16, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
	}
	return n;
}

/* Runs until nothing is ready now; fails if a device keeps the loop busy. */
static inline void loop_settle(struct evloop *l, int rounds)
{
	for (int i = 0; i < rounds; i++)
		if (loop_run_once(l, 0) == 0)
			return;
	fail_msg("the device keeps the event loop busy");
}

#endif /* EMBER_UNIT_H */
