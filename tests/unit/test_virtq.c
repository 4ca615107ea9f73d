// SPDX-License-Identifier: Apache-2.0
/*
 * Split virtqueue, device side, against rings a test "driver" lays out in
 * fake guest memory: chains, every malformed chain and indirect table, the
 * avail index running ahead, EVENT_IDX and NO_INTERRUPT, ring validation.
 * After each bad chain a good one must still come through.
 */
#include <endian.h>

#include <linux/virtio_ring.h>

#include "unit.h"
#include "virtq.h"

#define QSIZE 16
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define TABLE 0x8000 /* indirect tables */
#define BUF   0x10000
#define RAM   0x100000

struct rig {
	struct guest_mem gm;
	struct virtq vq;
	struct virtq_chain c;
	uint16_t avail_idx;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->vq = (struct virtq){
	    .desc = DESC, .avail = AVAIL, .used = USED, .size = QSIZE, .ready = true};
	virtq_start(&r->vq, false, true);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	fake_gm_free(&r->gm);
	free(r);
	return 0;
}

static void put16(struct rig *r, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	assert_int_equal(gm_write(&r->gm, gpa, &v, 2), 0);
}

static uint16_t get16(struct rig *r, uint64_t gpa)
{
	uint16_t v;

	assert_int_equal(gm_read(&r->gm, gpa, &v, 2), 0);
	return le16toh(v);
}

static uint32_t get32(struct rig *r, uint64_t gpa)
{
	uint32_t v;

	assert_int_equal(gm_read(&r->gm, gpa, &v, 4), 0);
	return le32toh(v);
}

static void put_desc(struct rig *r, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t d[16];
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &f, 2);
	memcpy(d + 14, &n, 2);
	assert_int_equal(gm_write(&r->gm, table + 16 * (uint64_t)i, d, 16), 0);
}

static void offer(struct rig *r, uint16_t head)
{
	put16(r, AVAIL + 4 + 2 * (r->avail_idx % QSIZE), head);
	r->avail_idx++;
	put16(r, AVAIL + 2, r->avail_idx);
}

/* A good two-descriptor chain at @head; pops it and checks it. */
static void good_chain(struct rig *r, uint16_t head)
{
	uint16_t second = (head + 1) % QSIZE;

	put_desc(r, DESC, head, BUF, 16, VRING_DESC_F_NEXT, second);
	put_desc(r, DESC, second, BUF + 0x100, 1, VRING_DESC_F_WRITE, 0);
	offer(r, head);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, 0);
	assert_int_equal(r->c.head, head);
	assert_int_equal(r->c.nr, 2);
	assert_int_equal(r->c.seg[0].addr, BUF);
	assert_false(r->c.seg[0].write);
	assert_int_equal(r->c.seg[1].len, 1);
	assert_true(r->c.seg[1].write);
}

/* Pops one chain that must be rejected as unwalkable, then a good one. */
static void expect_bad_then_good(struct rig *r, uint16_t head)
{
	offer(r, head);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, -EINVAL);
	assert_int_equal(r->c.nr, 0);
	assert_int_equal(r->c.head, head);
	assert_int_equal(virtq_push(&r->vq, &r->gm, r->c.head, 0), 0);
	good_chain(r, 10);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 0);
}

static void test_simple_chain_and_used(void **state)
{
	struct rig *r = *state;

	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 0);
	put_desc(r, DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 7);
	put_desc(r, DESC, 7, BUF + 0x1000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0);
	put_desc(r, DESC, 0, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	offer(r, 3);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, 0);
	assert_int_equal(r->c.nr, 3);
	assert_int_equal(r->c.seg[1].addr, BUF + 0x1000);
	assert_int_equal(r->c.seg[1].len, 4096);
	assert_true(r->c.seg[1].write);
	assert_int_equal(r->c.seg[2].addr, BUF + 0x3000);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 0);

	assert_int_equal(virtq_push(&r->vq, &r->gm, 3, 4097), 0);
	assert_int_equal(get16(r, USED + 2), 1);
	assert_int_equal(get32(r, USED + 4), 3);
	assert_int_equal(get32(r, USED + 8), 4097);
}

static void test_loop(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(r, DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	expect_bad_then_good(r, 0);
	/* A chain looping onto itself. */
	put_desc(r, DESC, 5, BUF, 16, VRING_DESC_F_NEXT, 5);
	expect_bad_then_good(r, 5);
}

static void test_next_out_of_range(void **state)
{
	struct rig *r = *state;

	put_desc(r, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, QSIZE);
	expect_bad_then_good(r, 0);
	put_desc(r, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 0xffff);
	expect_bad_then_good(r, 0);
}

static void test_head_out_of_range(void **state)
{
	struct rig *r = *state;

	expect_bad_then_good(r, QSIZE);
	expect_bad_then_good(r, 0xffff);
}

static void test_indirect_good(void **state)
{
	struct rig *r = *state;

	put_desc(r, TABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(r, TABLE, 2, BUF + 0x1000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	put_desc(r, TABLE, 1, BUF + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	put_desc(r, DESC, 4, TABLE, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(r, 4);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, 0);
	assert_int_equal(r->c.head, 4);
	assert_int_equal(r->c.nr, 3);
	assert_int_equal(r->c.seg[1].addr, BUF + 0x1000);
	assert_int_equal(r->c.seg[2].addr, BUF + 0x2000);
	assert_true(r->c.seg[2].write);
	/* The table was copied: changing it now changes nothing popped. */
	put_desc(r, TABLE, 1, 0xdead000, 1, VRING_DESC_F_WRITE, 0);
	assert_int_equal(r->c.seg[2].addr, BUF + 0x2000);
}

static void test_indirect_bad(void **state)
{
	struct rig *r = *state;

	put_desc(r, TABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(r, TABLE, 1, BUF + 0x100, 1, VRING_DESC_F_WRITE, 0);

	put_desc(r, DESC, 0, TABLE, 0, VRING_DESC_F_INDIRECT, 0); /* empty table */
	expect_bad_then_good(r, 0);
	put_desc(r, DESC, 0, TABLE, 24, VRING_DESC_F_INDIRECT, 0); /* not a multiple of 16 */
	expect_bad_then_good(r, 0);
	put_desc(r, DESC, 0, TABLE, 16 * (QSIZE + 1), VRING_DESC_F_INDIRECT, 0); /* > size */
	expect_bad_then_good(r, 0);
	put_desc(r, DESC, 0, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0); /* past RAM */
	expect_bad_then_good(r, 0);
	put_desc(r, DESC, 0, UINT64_MAX - 15, 32, VRING_DESC_F_INDIRECT, 0); /* wraps */
	expect_bad_then_good(r, 0);
	/* INDIRECT with NEXT is forbidden. */
	put_desc(r, DESC, 0, TABLE, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	expect_bad_then_good(r, 0);
	/* An indirect descriptor that is not the head. */
	put_desc(r, DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(r, DESC, 1, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad_then_good(r, 0);

	/* Nested table. */
	put_desc(r, TABLE + 0x100, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(r, DESC, 0, TABLE + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad_then_good(r, 0);
	/* A one-entry table is fine at 16 bytes, not at 24. */
	put_desc(r, TABLE + 0x300, 0, BUF, 1, VRING_DESC_F_WRITE, 0);
	put_desc(r, DESC, 0, TABLE + 0x300, 24, VRING_DESC_F_INDIRECT, 0);
	expect_bad_then_good(r, 0);
	put_desc(r, DESC, 0, TABLE + 0x300, 16, VRING_DESC_F_INDIRECT, 0);
	offer(r, 0);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, 0);
	assert_int_equal(r->c.nr, 1);
	/* Loop and out-of-range next inside the table. */
	put_desc(r, TABLE + 0x200, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(r, TABLE + 0x200, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	put_desc(r, DESC, 0, TABLE + 0x200, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad_then_good(r, 0);
	put_desc(r, TABLE + 0x200, 1, BUF, 16, VRING_DESC_F_NEXT, 2); /* 2 >= 2 entries */
	expect_bad_then_good(r, 0);

	/* Not negotiated: even a well-formed table is refused. */
	r->vq.indirect = false;
	put_desc(r, DESC, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad_then_good(r, 0);
}

static void test_avail_runs_ahead(void **state)
{
	struct rig *r = *state;

	/* Exactly a ring's worth outstanding is fine. */
	for (unsigned i = 0; i < QSIZE; i++) {
		put_desc(r, DESC, i, BUF, 1, VRING_DESC_F_WRITE, 0);
		offer(r, (uint16_t)i);
	}
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 1);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), 0);
	/* One more than that is a broken ring, however often we look. */
	put16(r, AVAIL + 2, r->avail_idx + QSIZE + 1);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), -EIO);
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), -EIO);
	put16(r, AVAIL + 2, r->avail_idx - 1); /* "behind" is ahead by 65535 */
	assert_int_equal(virtq_pop(&r->vq, &r->gm, &r->c), -EIO);
}

static void test_used_wraps(void **state)
{
	struct rig *r = *state;

	/* 3 laps of the ring: indices wrap at the ring size and at 65536. */
	r->vq.last_avail = r->vq.used_idx = 0xfff0;
	r->avail_idx = 0xfff0;
	for (unsigned i = 0; i < 3 * QSIZE; i++) {
		good_chain(r, (uint16_t)(i % QSIZE));
		assert_int_equal(virtq_push(&r->vq, &r->gm, r->c.head, 1), 0);
	}
	assert_int_equal(get16(r, USED + 2), (uint16_t)(0xfff0 + 3 * QSIZE));
}

static void test_event_idx(void **state)
{
	struct rig *r = *state;

	virtq_start(&r->vq, true, true);
	put16(r, AVAIL + 4 + 2 * QSIZE, 0); /* used_event */
	good_chain(r, 0);
	virtq_push(&r->vq, &r->gm, 0, 1);
	assert_true(virtq_needs_signal(&r->vq, &r->gm)); /* first one always */
	good_chain(r, 2);
	virtq_push(&r->vq, &r->gm, 2, 1);
	/* used_event 0 was passed with the first entry: stay quiet. */
	assert_false(virtq_needs_signal(&r->vq, &r->gm));
	put16(r, AVAIL + 4 + 2 * QSIZE, 2); /* wake me when entry 2 is used */
	good_chain(r, 4);
	virtq_push(&r->vq, &r->gm, 4, 1);
	assert_true(virtq_needs_signal(&r->vq, &r->gm));
	good_chain(r, 6);
	virtq_push(&r->vq, &r->gm, 6, 1);
	assert_false(virtq_needs_signal(&r->vq, &r->gm));
	/* NO_INTERRUPT means nothing with EVENT_IDX. */
	put16(r, AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	put16(r, AVAIL + 4 + 2 * QSIZE, 4);
	good_chain(r, 8);
	virtq_push(&r->vq, &r->gm, 8, 1);
	assert_true(virtq_needs_signal(&r->vq, &r->gm));

	/* avail_event follows what we consumed; a late buffer is noticed. */
	assert_false(virtq_arm_notify(&r->vq, &r->gm));
	assert_int_equal(get16(r, USED + 4 + 8 * QSIZE), r->vq.last_avail);
	put_desc(r, DESC, 12, BUF, 1, VRING_DESC_F_WRITE, 0);
	offer(r, 12);
	assert_true(virtq_arm_notify(&r->vq, &r->gm));
}

static void test_no_interrupt_flag(void **state)
{
	struct rig *r = *state;

	good_chain(r, 0);
	virtq_push(&r->vq, &r->gm, 0, 1);
	assert_true(virtq_needs_signal(&r->vq, &r->gm));
	put16(r, AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	good_chain(r, 2);
	virtq_push(&r->vq, &r->gm, 2, 1);
	assert_false(virtq_needs_signal(&r->vq, &r->gm));
	/* Without EVENT_IDX avail_event is left alone. */
	put16(r, USED + 4 + 8 * QSIZE, 0x5555);
	assert_false(virtq_arm_notify(&r->vq, &r->gm));
	assert_int_equal(get16(r, USED + 4 + 8 * QSIZE), 0x5555);
}

static void expect_invalid(struct rig *r, struct virtq vq)
{
	const char *why;

	assert_int_equal(virtq_validate(&vq, &r->gm, QSIZE, &why), -EINVAL);
	assert_non_null(why);
}

static void test_validate(void **state)
{
	struct rig *r = *state;
	struct virtq good = {.desc = DESC, .avail = AVAIL, .used = USED, .size = QSIZE};
	struct virtq v;
	const char *why;

	assert_int_equal(virtq_validate(&good, &r->gm, QSIZE, &why), 0);
	assert_null(why);
	v = good, v.size = 0, expect_invalid(r, v);
	v = good, v.size = 12, expect_invalid(r, v);
	v = good, v.size = 32, expect_invalid(r, v);
	v = good, v.size = 0x10010, expect_invalid(r, v); /* would truncate to 16 */
	v = good, v.desc = DESC + 8, expect_invalid(r, v);
	v = good, v.avail = AVAIL + 1, expect_invalid(r, v);
	v = good, v.used = USED + 2, expect_invalid(r, v);
	v = good, v.desc = RAM - 16 * QSIZE + 16, expect_invalid(r, v);
	v = good, v.avail = RAM - (6 + 2 * QSIZE) + 2, expect_invalid(r, v);
	v = good, v.used = RAM - (6 + 8 * QSIZE) + 6, expect_invalid(r, v);
	v = good, v.used = UINT64_MAX - 3, expect_invalid(r, v);
	/* Rings ending exactly at the end of RAM are fine. */
	v = good, v.used = RAM - (6 + 8 * QSIZE) - 2;
	assert_int_equal(virtq_validate(&v, &r->gm, QSIZE, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_simple_chain_and_used, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_runs_ahead, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_used_wraps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
	};
	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
