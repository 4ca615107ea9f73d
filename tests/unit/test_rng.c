// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng (virtio/rng.c) through the device model only: created from its
 * registered type, driven by a test "driver" over the MMIO bus ops with
 * chains in fake guest memory, its loop run by hand.  Random bytes land in
 * writable buffers; bad chains come back empty and the device lives on; the
 * rate limiter holds requests back on a timer, without spinning.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RAM   0x400000
#define QSIZE 16
#define BUF   0x100000

static const uint64_t qbase[1] = {0x10000};

#include "devrig.h"

static uint32_t used_len(struct rig *r, unsigned nth)
{
	uint32_t v;

	assert_int_equal(gm_read(&r->gm, qbase[0] + 0x2000 + 4 + 8 * (uint64_t)nth + 4, &v, 4), 0);
	return le32toh(v);
}

static void request(struct rig *r, uint32_t len)
{
	const struct seg s = {BUF, len, true};

	add_chain(r, 0, &s, 1);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void test_fills_buffers(void **state)
{
	struct rig r = {0};
	const struct seg two[2] = {{BUF, 48 << 10, true}, {BUF + (48 << 10), 48 << 10, true}};
	const struct seg ro = {BUF, 64, false};
	const struct seg outside = {RAM - 16, 64, true};
	unsigned nonzero = 0;
	json_t *m;

	(void)state;
	rig_up(&r, "entropy", NULL, NULL);
	memset(at(&r, BUF), 0, 256);
	request(&r, 256);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 1);
	assert_int_equal(used_len(&r, 0), 256);
	for (unsigned i = 0; i < 256; i++)
		nonzero += at(&r, BUF)[i] != 0;
	assert_true(nonzero > 200); /* 256 random bytes are almost never mostly zero */
	/* One request fills 64 KiB at most: one chain cannot hold the VMM thread. */
	add_chain(&r, 0, two, 2);
	/* Read-only, and partly outside guest memory: returned with nothing written. */
	add_chain(&r, 0, &ro, 1);
	add_chain(&r, 0, &outside, 1);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 4);
	assert_int_equal(used_len(&r, 1), 64 << 10);
	assert_int_equal(used_len(&r, 2), 0);
	assert_int_equal(used_len(&r, 3), 0);
	assert_int_equal(rd32(&r, VIRTIO_MMIO_STATUS), S_ALL); /* no NEEDS_RESET */
	m = r.type->metrics(r.dev);
	assert_int_equal(json_integer_value(json_object_get(m, "entropy_bytes")), 256 + (64 << 10));
	assert_int_equal(json_integer_value(json_object_get(m, "bad_chains")), 1);
	json_decref(m);
	rig_down(&r);
}

/*
 * 1000 bytes per 100 ms: the first request drains the bucket, each next one
 * waits for the timer (and the loop sleeps meanwhile), and five take about
 * 400 ms.  Bounds are generous: the test proves throttling, not precision.
 */
static void test_bandwidth_limit(void **state)
{
	const struct limiter_cfg lim = {.bw = {.size = 1000, .refill_time_ms = 100}};
	struct rig r = {0};
	uint64_t t0, ms;
	json_t *m;

	(void)state;
	rig_up(&r, "entropy", NULL, &lim);
	t0 = time_now_us();
	for (unsigned i = 0; i < 5; i++)
		request(&r, 1000);
	settle(&r); /* nothing spins while the limiter waits */
	assert_int_equal(used_count(&r, 0), 1);
	while (used_count(&r, 0) < 5) {
		run_once(&r, 50);
		assert_true(time_now_us() - t0 < 5000000);
	}
	ms = (time_now_us() - t0) / 1000;
	assert_true(ms >= 350 && ms < 3000);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(used_len(&r, i), 1000);
	m = r.type->metrics(r.dev);
	assert_true(json_integer_value(json_object_get(m, "entropy_rate_limiter_throttled")) >= 4);
	json_decref(m);
	rig_down(&r);
}

/* Two operations a second: a third request waits, even a tiny one. */
static void test_ops_limit(void **state)
{
	const struct limiter_cfg lim = {.ops = {.size = 2, .refill_time_ms = 1000}};
	struct rig r = {0};

	(void)state;
	rig_up(&r, "entropy", NULL, &lim);
	for (unsigned i = 0; i < 3; i++)
		request(&r, 1);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 2);
	/* A guest kicking again does not get past the limiter. */
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 2);
	for (int i = 0; i < 40 && used_count(&r, 0) < 3; i++)
		run_once(&r, 50);
	assert_int_equal(used_count(&r, 0), 3);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fills_buffers),
	    cmocka_unit_test(test_bandwidth_limit),
	    cmocka_unit_test(test_ops_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
