// SPDX-License-Identifier: Apache-2.0
/*
 * Token buckets (virtio/limiter.c) on a clock the test drives: refill at
 * size / refill_time, the one-time burst first, requests larger than the
 * bucket, slow rates that must not round to nothing, the all-or-nothing
 * rule across the two buckets, and the settings' checks and encoding.
 */
#include <string.h>

#include "limiter.h"
#include "unit.h"

#define MS 1000000ull /* ns */

static void test_refill(void **state)
{
	const struct tbucket_cfg c = {.size = 100, .refill_time_ms = 1000};
	struct tbucket b;

	(void)state;
	tbucket_init(&b, &c, 0);
	assert_int_equal(tbucket_take(&b, 100, 0), 0); /* starts full */
	/* 100 tokens a second: one more is 10 ms away. */
	assert_int_equal(tbucket_take(&b, 1, 0), 10 * MS);
	assert_int_equal(tbucket_take(&b, 1, 5 * MS), 5 * MS);
	assert_int_equal(tbucket_take(&b, 1, 10 * MS), 0);
	/* Idle for a minute: full again, never fuller. */
	assert_int_equal(tbucket_take(&b, 100, 60000 * MS), 0);
	assert_true(tbucket_take(&b, 1, 60000 * MS) > 0);
	/* A zero-token request and an unlimited bucket always pass. */
	assert_int_equal(tbucket_take(&b, 0, 60000 * MS), 0);
	tbucket_init(&b, &(struct tbucket_cfg){0}, 0);
	assert_int_equal(tbucket_take(&b, UINT64_MAX, 0), 0);
}

static void test_burst(void **state)
{
	const struct tbucket_cfg c = {.size = 100, .one_time_burst = 50, .refill_time_ms = 1000};
	struct tbucket b;

	(void)state;
	tbucket_init(&b, &c, 0);
	assert_int_equal(tbucket_take(&b, 150, 0), 0); /* burst plus the bucket */
	assert_int_equal(tbucket_take(&b, 1, 0), 10 * MS);
	/* The burst never comes back: after a full refill, 101 is more than the bucket. */
	assert_int_equal(tbucket_take(&b, 101, 5000 * MS), 0);
	assert_int_equal(tbucket_take(&b, 1, 5000 * MS), 20 * MS); /* the debt, then one */
	/* A short bucket takes nothing: the burst is kept for later. */
	tbucket_init(&b, &c, 0);
	assert_int_equal(tbucket_take(&b, 100, 0), 0); /* all from the burst and 50 of the bucket */
	assert_int_equal(tbucket_take(&b, 60, 0), 100 * MS);
	assert_int_equal(tbucket_take(&b, 50, 0), 0);
}

/* A request larger than the bucket goes when the bucket is full, and leaves a debt. */
static void test_oversize(void **state)
{
	const struct tbucket_cfg c = {.size = 100, .refill_time_ms = 1000};
	struct tbucket b;

	(void)state;
	tbucket_init(&b, &c, 0);
	assert_int_equal(tbucket_take(&b, 250, 0), 0);
	/* 150 owed plus 1: 1.51 s at 100 a second. */
	assert_int_equal(tbucket_take(&b, 1, 0), 1510 * MS);
	assert_int_equal(tbucket_take(&b, 1, 1509 * MS), 1 * MS + 0);
	assert_int_equal(tbucket_take(&b, 1, 1510 * MS), 0);
	/* Not full: an oversized request waits for a full bucket. */
	assert_true(tbucket_take(&b, 250, 1600 * MS) > 0);
	assert_int_equal(tbucket_take(&b, 250, 3000 * MS), 0);
}

/* 3 tokens a second refilled every millisecond must still add up to 3 a second. */
static void test_slow_rate(void **state)
{
	const struct tbucket_cfg c = {.size = 3, .refill_time_ms = 1000};
	struct tbucket b;
	unsigned got = 0;

	(void)state;
	tbucket_init(&b, &c, 0);
	assert_int_equal(tbucket_take(&b, 3, 0), 0);
	for (uint64_t t = 1; t <= 10000; t++)
		if (tbucket_take(&b, 1, t * MS) == 0)
			got++;
	assert_int_equal(got, 30);
}

/* Sustained, the achieved rate is the configured one (within a request). */
static void test_rate(void **state)
{
	const struct tbucket_cfg c = {.size = 10000, .refill_time_ms = 100}; /* 100 kB/s */
	struct tbucket b;
	uint64_t t = 0, bytes = 0, wait;

	(void)state;
	tbucket_init(&b, &c, 0);
	while (t < 10000 * MS) {
		wait = tbucket_take(&b, 1500, t);
		if (wait) {
			t += wait;
			continue;
		}
		bytes += 1500;
	}
	/* 10 s at 100 kB/s, plus the full bucket at the start. */
	assert_true(bytes >= 1000000 + 10000 - 1500 && bytes <= 1000000 + 10000 + 1500);
}

static void test_cfg_check(void **state)
{
	struct limiter_cfg c = {0};
	char err[200];

	(void)state;
	assert_int_equal(limiter_cfg_check(&c, err, sizeof(err)), 0);
	assert_true(limiter_cfg_unlimited(&c));
	c.ops = (struct tbucket_cfg){.size = 5};
	assert_int_equal(limiter_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ops token bucket: refill_time must be positive when size is set");
	c.ops.refill_time_ms = 1;
	assert_int_equal(limiter_cfg_check(&c, err, sizeof(err)), 0);
	assert_false(limiter_cfg_unlimited(&c));
	c.bw = (struct tbucket_cfg){.size = 1ull << 60, .refill_time_ms = 1};
	assert_int_equal(limiter_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bandwidth token bucket"));
	c.bw = (struct tbucket_cfg){.size = 1, .refill_time_ms = 1ull << 40};
	assert_int_equal(limiter_cfg_check(&c, err, sizeof(err)), -EINVAL);
	/* A burst alone (size 0) limits nothing, as in Firecracker. */
	c.bw = (struct tbucket_cfg){.one_time_burst = 10};
	assert_int_equal(limiter_cfg_check(&c, err, sizeof(err)), 0);
}

static void test_cfg_persist(void **state)
{
	const struct limiter_cfg c = {
	    .bw = {.size = 4096, .one_time_burst = 7, .refill_time_ms = 250},
	    .ops = {.size = 10, .refill_time_ms = 1000}};
	struct limiter_cfg out;
	const char *why;
	struct pw w;
	struct pr r;

	(void)state;
	pw_init(&w);
	limiter_cfg_save(&c, &w);
	assert_int_equal(w.len, 48);
	pr_init(&r, w.buf, w.len);
	limiter_cfg_load(&r, &out);
	assert_int_equal(pr_finish(&r, &why), 0);
	assert_memory_equal(&out, &c, sizeof(c));
	/* A size without a refill time cannot come in through a snapshot either. */
	memset(w.buf + 40, 0, 8); /* ops.refill_time_ms */
	pr_init(&r, w.buf, w.len);
	limiter_cfg_load(&r, &out);
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "a rate limiter out of range");
	pr_init(&r, w.buf, 47);
	limiter_cfg_load(&r, &out);
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	pw_free(&w);
}

/* Both buckets or neither: an op is not spent on a request the bytes refuse. */
static void test_all_or_nothing(void **state)
{
	const struct limiter_cfg c = {.bw = {.size = 100, .refill_time_ms = 1000},
				      .ops = {.size = 10, .refill_time_ms = 1000}};
	struct limiter l;

	(void)state;
	assert_int_equal(limiter_init(&l, &c, NULL, NULL, NULL), 0);
	assert_true(limiter_consume(&l, 100));
	assert_int_equal(l.ops.budget, 9);
	assert_false(limiter_consume(&l, 50));
	assert_int_equal(l.ops.budget, 9);
	assert_int_equal(l.throttled, 1);
	/* Without a loop there is no timer: the limiter does not claim to wait. */
	assert_false(limiter_blocked(&l));
	limiter_refund(&l, 60);
	assert_int_equal(l.bw.budget, 60);
	assert_true(limiter_consume(&l, 50));
	limiter_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refill),	cmocka_unit_test(test_burst),
	    cmocka_unit_test(test_oversize),	cmocka_unit_test(test_slow_rate),
	    cmocka_unit_test(test_rate),	cmocka_unit_test(test_cfg_check),
	    cmocka_unit_test(test_cfg_persist), cmocka_unit_test(test_all_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
