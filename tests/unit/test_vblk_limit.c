// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk's limits through the device model: a drive made from its
 * registered type on a temporary raw image (sync engine), driven by a test
 * driver with chains in fake guest memory.  Requests over the rate limit
 * wait on the limiter's timer and a live update lifts the limit at once; a
 * wakeup moves at most 16 MiB before the queue yields.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RAM   0x400000
#define QSIZE 64 /* 20 three-descriptor chains at once */
#define BUF   0x100000

static const uint64_t qbase[1] = {0x10000};
#define HDR  0x200000
#define STAT 0x201000

#include "devrig.h"

static char img[] = "/tmp/ember-blklim-XXXXXX";

/* A drive on a fresh 1 MiB image, with @lim. */
static void blk_up(struct rig *r, const struct limiter_cfg *lim)
{
	char spec[64];
	int fd = mkstemp(img);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "%s,id=lim,engine=sync", img);
	rig_up(r, "block", spec, lim);
}

static void blk_down(struct rig *r)
{
	rig_down(r);
	unlink(img);
	memcpy(img + strlen(img) - 6, "XXXXXX", 6);
}

/* A 4 KiB read of sector 0: header, data, status. */
static void read_req(struct rig *r)
{
	const uint32_t h[4] = {htole32(0), 0, 0, 0}; /* VIRTIO_BLK_T_IN, sector 0 */
	const struct seg s[3] = {{HDR, 16, false}, {BUF, 4096, true}, {STAT, 1, true}};

	put(r, HDR, h, sizeof(h));
	add_chain(r, 0, s, 3);
}

/*
 * 8 KiB a second: the first two reads drain the bucket, the third waits for
 * the timer, the loop sleeps meanwhile; a PATCH lifting the limit releases
 * what waits at once.
 */
static void test_read_limited(void **state)
{
	const struct limiter_cfg lim = {.bw = {.size = 8192, .refill_time_ms = 1000}};
	const struct limiter_cfg none = {0};
	struct rig r = {0};
	uint64_t t0;
	json_t *m;

	(void)state;
	blk_up(&r, &lim);
	t0 = time_now_us();
	for (int i = 0; i < 4; i++)
		read_req(&r);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 2);
	while (used_count(&r, 0) < 3) {
		run_once(&r, 50);
		assert_true(time_now_us() - t0 < 5000000);
	}
	/* 4 KiB more at 8 KiB/s: about half a second. */
	assert_true(time_now_us() - t0 >= 400000);
	m = r.type->metrics(r.dev);
	assert_true(json_integer_value(json_object_get(m, "rate_limiter_throttled_count")) >= 1);
	json_decref(m);
	assert_int_equal(r.type->set_limiter(r.dev, "", &none), 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 4);
	assert_int_equal(at(&r, STAT)[0], 0); /* VIRTIO_BLK_S_OK */
	assert_int_equal(r.type->set_limiter(r.dev, "rx", &none), -EINVAL);
	blk_down(&r);
}

/* Two requests a second, whatever their size. */
static void test_ops_limited(void **state)
{
	const struct limiter_cfg lim = {.ops = {.size = 2, .refill_time_ms = 1000}};
	struct rig r = {0};

	(void)state;
	blk_up(&r, &lim);
	for (int i = 0; i < 3; i++)
		read_req(&r);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 2);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0); /* a guest's kick does not get past it */
	settle(&r);
	assert_int_equal(used_count(&r, 0), 2);
	blk_down(&r);
}

/*
 * 20 requests of 1 MiB in the ring: one wakeup serves 16 MiB, then the queue
 * kicks itself and lets the rest of the loop run before the other 4.
 */
static void test_batch_yields(void **state)
{
	const uint32_t h[4] = {0, 0, 0, 0}; /* VIRTIO_BLK_T_IN, sector 0 */
	const struct seg s[3] = {{HDR, 16, false}, {BUF, 1 << 20, true}, {STAT, 1, true}};
	struct rig r = {0};

	(void)state;
	blk_up(&r, NULL);
	put(&r, HDR, h, sizeof(h));
	for (int i = 0; i < 20; i++)
		add_chain(&r, 0, s, 3);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(run_once(&r, 0), 1);
	assert_int_equal(used_count(&r, 0), 16);
	assert_int_equal(run_once(&r, 0), 1); /* its own kick */
	assert_int_equal(used_count(&r, 0), 20);
	blk_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_limited),
	    cmocka_unit_test(test_ops_limited),
	    cmocka_unit_test(test_batch_yields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
