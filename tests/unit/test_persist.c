// SPDX-License-Identifier: Apache-2.0
/*
 * The encodings of saved state (virtio/persist.h): the writer's bytes at
 * every width (little-endian, bools one byte, strings u16 length + bytes),
 * the reader back, and everything the reader must refuse: a payload cut at
 * any byte, a bool other than 0 or 1, a string too long for its field or
 * holding a NUL, bytes left over; the first problem is the one reported.
 * Then the virtio-mmio transport's encoding (virtio/mmio_persist.c): a
 * round trip with every field set, and its refusals.  The device types'
 * encodings are in test_vdev.c.
 */
#include "unit.h"

#include "persist.h"
#include "virtio_mmio.h"

/* ---- pw / pr ------------------------------------------------------------------- */

/* One of everything; the bytes it must give. */
static void write_all(struct pw *w)
{
	pw_u8(w, 0xa5);
	pw_u16(w, 0xbeef);
	pw_u32(w, 0xdeadbeef);
	pw_u64(w, 0x0123456789abcdefull);
	pw_bool(w, true);
	pw_bool(w, false);
	pw_str(w, "ember");
	pw_str(w, "");
	pw_bytes(w, "\x00\xff\x7f", 3);
}

static const uint8_t all_bytes[] = {
    0xa5,					    /* u8 */
    0xef, 0xbe,					    /* u16 */
    0xef, 0xbe, 0xad, 0xde,			    /* u32 */
    0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, /* u64 */
    1,	  0,					    /* bools */
    5,	  0,	0x65, 0x6d, 0x62, 0x65, 0x72,	    /* "ember" */
    0,	  0,					    /* "" */
    0x00, 0xff, 0x7f,				    /* bytes */
};

/* Reads write_all()'s fields back into @v (pr_finish not called). */
struct all {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	bool t, f;
	char s[8], e[4];
	uint8_t b[3];
};

static void read_all(struct pr *r, struct all *v)
{
	v->u8 = pr_u8(r);
	v->u16 = pr_u16(r);
	v->u32 = pr_u32(r);
	v->u64 = pr_u64(r);
	v->t = pr_bool(r);
	v->f = pr_bool(r);
	pr_str(r, v->s, sizeof(v->s));
	pr_str(r, v->e, sizeof(v->e));
	pr_bytes(r, v->b, sizeof(v->b));
}

static void test_round_trip(void **state)
{
	struct pw w;
	struct pr r;
	struct all v;
	const char *why = "x";

	(void)state;
	pw_init(&w);
	write_all(&w);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, sizeof(all_bytes));
	assert_memory_equal(w.buf, all_bytes, sizeof(all_bytes));

	pr_init(&r, w.buf, w.len);
	read_all(&r, &v);
	assert_int_equal(pr_finish(&r, &why), 0);
	assert_null(why);
	assert_int_equal(v.u8, 0xa5);
	assert_int_equal(v.u16, 0xbeef);
	assert_int_equal(v.u32, 0xdeadbeef);
	assert_true(v.u64 == 0x0123456789abcdefull);
	assert_true(v.t);
	assert_false(v.f);
	assert_string_equal(v.s, "ember");
	assert_string_equal(v.e, "");
	assert_memory_equal(v.b, "\x00\xff\x7f", 3);
	pw_free(&w);
	assert_null(w.buf);
	assert_int_equal(w.len, 0);

	/* The extremes of every width. */
	pw_init(&w);
	pw_u8(&w, 0);
	pw_u8(&w, UINT8_MAX);
	pw_u16(&w, 0);
	pw_u16(&w, UINT16_MAX);
	pw_u32(&w, 0);
	pw_u32(&w, UINT32_MAX);
	pw_u64(&w, 0);
	pw_u64(&w, UINT64_MAX);
	assert_int_equal(w.len, 2 * (1 + 2 + 4 + 8));
	pr_init(&r, w.buf, w.len);
	assert_int_equal(pr_u8(&r), 0);
	assert_int_equal(pr_u8(&r), UINT8_MAX);
	assert_int_equal(pr_u16(&r), 0);
	assert_int_equal(pr_u16(&r), UINT16_MAX);
	assert_int_equal(pr_u32(&r), 0);
	assert_int_equal(pr_u32(&r), UINT32_MAX);
	assert_true(pr_u64(&r) == 0);
	assert_true(pr_u64(&r) == UINT64_MAX);
	assert_int_equal(pr_finish(&r, &why), 0);
	pw_free(&w);
}

/* The buffer grows far past its first allocation, and keeps every byte. */
static void test_growth(void **state)
{
	struct pw w;
	struct pr r;
	const char *why;
	char big[UINT16_MAX + 2];

	(void)state;
	pw_init(&w);
	for (uint32_t i = 0; i < 5000; i++)
		pw_u32(&w, i * 2654435761u);
	assert_int_equal(w.len, 20000);
	assert_true(w.cap >= w.len);
	pr_init(&r, w.buf, w.len);
	for (uint32_t i = 0; i < 5000; i++)
		assert_int_equal(pr_u32(&r), i * 2654435761u);
	assert_int_equal(pr_finish(&r, &why), 0);
	pw_free(&w);

	/* The longest string a u16 can say, and one byte more: an error that sticks. */
	memset(big, 's', sizeof(big));
	big[UINT16_MAX] = 0;
	pw_init(&w);
	pw_str(&w, big);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 2 + UINT16_MAX);
	big[UINT16_MAX] = 's';
	big[UINT16_MAX + 1] = 0;
	pw_str(&w, big);
	assert_int_equal(w.err, -E2BIG);
	assert_int_equal(w.len, 2 + UINT16_MAX);
	pw_u8(&w, 1);
	pw_str(&w, "x");
	assert_int_equal(w.err, -E2BIG);
	assert_int_equal(w.len, 2 + UINT16_MAX);
	pw_free(&w);
}

/* Cut anywhere, the payload is refused as truncated; nothing is read past the cut. */
static void test_truncated(void **state)
{
	struct pr r;
	struct all v;
	const char *why;

	(void)state;
	for (size_t len = 0; len < sizeof(all_bytes); len++) {
		memset(&v, 0x55, sizeof(v));
		pr_init(&r, all_bytes, len);
		read_all(&r, &v);
		assert_int_equal(pr_finish(&r, &why), -EINVAL);
		assert_string_equal(why, "truncated");
		assert_true(r.off <= len);
		/* Strings that were not read whole are empty, not half-filled. */
		assert_int_equal(strlen(v.s) == 0 || !strcmp(v.s, "ember"), 1);
		assert_int_equal(v.e[0], 0);
	}
}

static void test_bools(void **state)
{
	struct pr r;
	const char *why;

	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		uint8_t byte = (uint8_t)b;
		bool v;

		pr_init(&r, &byte, 1);
		v = pr_bool(&r);
		if (b <= 1) {
			assert_int_equal(pr_finish(&r, &why), 0);
			assert_int_equal(v, b == 1);
		} else {
			assert_false(v);
			assert_int_equal(pr_finish(&r, &why), -EINVAL);
			assert_string_equal(why, "a flag that is neither 0 nor 1");
		}
	}
}

static void test_strings(void **state)
{
	static const uint8_t abcd[] = {4, 0, 'a', 'b', 'c', 'd'};
	static const uint8_t nul[] = {3, 0, 'a', 0, 'b'};
	static const uint8_t huge[] = {0xff, 0xff, 'a'};
	struct pr r;
	char dst[8];
	const char *why;

	(void)state;
	/* Four characters need five bytes of room. */
	pr_init(&r, abcd, sizeof(abcd));
	pr_str(&r, dst, 5);
	assert_int_equal(pr_finish(&r, &why), 0);
	assert_string_equal(dst, "abcd");
	memset(dst, 'x', sizeof(dst));
	pr_init(&r, abcd, sizeof(abcd));
	pr_str(&r, dst, 4);
	assert_int_equal(dst[0], 0);
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "a string too long");
	/* Too long is found from the length, before the bytes are missed. */
	pr_init(&r, huge, sizeof(huge));
	pr_str(&r, dst, sizeof(dst));
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "a string too long");
	/* A NUL would cut the string short in C: refused. */
	pr_init(&r, nul, sizeof(nul));
	pr_str(&r, dst, sizeof(dst));
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "a string with a NUL in it");
	/* The length itself cut short. */
	pr_init(&r, abcd, 1);
	pr_str(&r, dst, sizeof(dst));
	assert_int_equal(dst[0], 0);
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "truncated");
}

static void test_trailing_and_first_error(void **state)
{
	static const uint8_t b[] = {7, 2, 0xff, 0xff, 0xff, 0xff, 9};
	struct pr r;
	const char *why;

	(void)state;
	/* Everything valid but not everything read. */
	pr_init(&r, b, sizeof(b));
	assert_int_equal(pr_u8(&r), 7);
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "trailing bytes");
	pr_init(&r, b, 0);
	assert_int_equal(pr_finish(&r, &why), 0); /* nothing, all read */

	/* A bad flag, then a read past the end, then trailing bytes: the flag is reported. */
	pr_init(&r, b, sizeof(b));
	assert_int_equal(pr_u8(&r), 7);
	assert_false(pr_bool(&r));
	/* After an error nothing more is consumed: the bytes are there, 0 comes back. */
	assert_int_equal(pr_u32(&r), 0);
	assert_int_equal(r.off, 2);
	pr_u64(&r);
	pr_fail(&r, "a decoder's own check");
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "a flag that is neither 0 nor 1");

	/* A decoder's own check first: it wins over a later truncation. */
	pr_init(&r, b, 1);
	pr_fail(&r, "an engine out of range");
	pr_u64(&r);
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "an engine out of range");
	/* pr_finish is repeatable. */
	assert_int_equal(pr_finish(&r, &why), -EINVAL);
	assert_string_equal(why, "an engine out of range");
}

/* ---- the virtio-mmio transport's encoding --------------------------------------- */

#define MMIO_LEN  (2 + 4 + 3 * 4 + 8 + 3 * 4 + 1 + 1 + VIRTIO_MMIO_MAX_QUEUES * MMIO_QLEN)
#define MMIO_QLEN (3 * 8 + 4 + 3 + 3 * 2 + 1)
#define MMIO_ACT  (2 + 4 + 3 * 4 + 8 + 3 * 4) /* activated */
#define MMIO_NQ	  (MMIO_ACT + 1)	      /* the queue count */
#define MMIO_Q(q) (MMIO_NQ + 1 + (q)*MMIO_QLEN)
#define DEVICE_ID 0x1234567u

/* Every field set, and no two alike. */
static void mmio_sample(struct virtio_mmio_state *st)
{
	memset(st, 0, sizeof(*st));
	st->status = 0x8f;
	st->dev_features_sel = 1;
	st->drv_features_sel = 0x11;
	st->driver_features = 0x8000000100000020ull;
	st->queue_sel = 5;
	st->interrupt_status = 3;
	st->config_generation = 0xfedcba98;
	st->activated = true;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		struct virtq *vq = &st->vq[q];

		vq->desc = 0x100000000ull * q + 0x1000 + q;
		vq->avail = 0x200000000ull * q + 0x2002 + q;
		vq->used = 0x300000000ull * q + 0x3004 + q;
		vq->size = 16u << q;
		vq->ready = q & 1;
		vq->event_idx = (q & 2) != 0;
		vq->indirect = (q & 4) != 0;
		vq->last_avail = (uint16_t)(0xfff0 + q);
		vq->used_idx = (uint16_t)(0x1230 + q);
		vq->signalled_used = (uint16_t)(0x4560 + q);
		vq->signalled_valid = !(q & 1);
	}
}

static void test_mmio_round_trip(void **state)
{
	struct virtio_mmio_state in, out;
	const char *why = "x";
	struct pw w;

	(void)state;
	mmio_sample(&in);
	pw_init(&w);
	virtio_mmio_state_save(&in, DEVICE_ID, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, MMIO_LEN);
	assert_memory_equal(w.buf, "\x01\x00\x67\x45\x23\x01", 6); /* version 1, the id */
	assert_int_equal(w.buf[MMIO_NQ], VIRTIO_MMIO_MAX_QUEUES);
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(virtio_mmio_state_load(w.buf, w.len, DEVICE_ID, &out, &why), 0);
	assert_int_equal(out.status, 0x8f);
	assert_int_equal(out.dev_features_sel, 1);
	assert_int_equal(out.drv_features_sel, 0x11);
	assert_true(out.driver_features == 0x8000000100000020ull);
	assert_int_equal(out.queue_sel, 5);
	assert_int_equal(out.interrupt_status, 3);
	assert_int_equal(out.config_generation, 0xfedcba98);
	assert_true(out.activated);
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		const struct virtq *a = &out.vq[q], *b = &in.vq[q];

		assert_true(a->desc == b->desc);
		assert_true(a->avail == b->avail);
		assert_true(a->used == b->used);
		assert_int_equal(a->size, b->size);
		assert_int_equal(a->ready, b->ready);
		assert_int_equal(a->event_idx, b->event_idx);
		assert_int_equal(a->indirect, b->indirect);
		assert_int_equal(a->last_avail, b->last_avail);
		assert_int_equal(a->used_idx, b->used_idx);
		assert_int_equal(a->signalled_used, b->signalled_used);
		assert_int_equal(a->signalled_valid, b->signalled_valid);
	}
	pw_free(&w);
}

static void mmio_refused(const uint8_t *p, size_t len, uint32_t id, const char *want)
{
	struct virtio_mmio_state st;
	const char *why = NULL;

	assert_int_equal(virtio_mmio_state_load(p, len, id, &st, &why), -EINVAL);
	assert_non_null(why);
	if (strcmp(why, want))
		fail_msg("len %zu: \"%s\", want \"%s\"", len, why, want);
}

static void test_mmio_refusals(void **state)
{
	struct virtio_mmio_state in;
	uint8_t b[MMIO_LEN + 1];
	struct pw w;

	(void)state;
	mmio_sample(&in);
	pw_init(&w);
	virtio_mmio_state_save(&in, DEVICE_ID, &w);
	assert_int_equal(w.len, MMIO_LEN);
	memcpy(b, w.buf, MMIO_LEN);
	pw_free(&w);

	mmio_refused(b, MMIO_LEN, DEVICE_ID + 1, "transport state is for another device");
	mmio_refused(b, MMIO_LEN, VIRTIO_ID_NET, "transport state is for another device");
	for (size_t len = 0; len < MMIO_LEN; len++)
		mmio_refused(b, len, DEVICE_ID, "truncated");
	b[MMIO_LEN] = 0;
	mmio_refused(b, MMIO_LEN + 1, DEVICE_ID, "trailing bytes");

	b[0] = 0;
	mmio_refused(b, MMIO_LEN, DEVICE_ID, "an unknown transport state version");
	b[0] = 2;
	mmio_refused(b, MMIO_LEN, DEVICE_ID, "an unknown transport state version");
	b[0] = 1;
	b[1] = 1; /* 257 */
	mmio_refused(b, MMIO_LEN, DEVICE_ID, "an unknown transport state version");
	b[1] = 0;
	/* More or fewer queues than this ember has. */
	b[MMIO_NQ] = VIRTIO_MMIO_MAX_QUEUES - 1;
	mmio_refused(b, MMIO_LEN, DEVICE_ID, "a queue count this ember does not have");
	b[MMIO_NQ] = VIRTIO_MMIO_MAX_QUEUES + 1;
	mmio_refused(b, MMIO_LEN, DEVICE_ID, "a queue count this ember does not have");
	b[MMIO_NQ] = VIRTIO_MMIO_MAX_QUEUES;

	/* Every flag: activated, then each queue's ready, event_idx, indirect, signalled_valid. */
	b[MMIO_ACT] = 2;
	mmio_refused(b, MMIO_LEN, DEVICE_ID, "a flag that is neither 0 nor 1");
	b[MMIO_ACT] = 1;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		static const size_t flags[] = {28, 29, 30, 37};

		for (unsigned i = 0; i < ARRAY_SIZE(flags); i++) {
			uint8_t *f = &b[MMIO_Q(q) + flags[i]];
			uint8_t was = *f;

			assert_true(was <= 1);
			*f = 0x80;
			mmio_refused(b, MMIO_LEN, DEVICE_ID, "a flag that is neither 0 nor 1");
			*f = was;
		}
	}
	/* Untouched after all that: still accepted. */
	{
		struct virtio_mmio_state st;
		const char *why;

		assert_int_equal(virtio_mmio_state_load(b, MMIO_LEN, DEVICE_ID, &st, &why), 0);
		assert_int_equal(st.vq[7].last_avail, 0xfff7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_truncated),	    cmocka_unit_test(test_bools),
	    cmocka_unit_test(test_strings),	    cmocka_unit_test(test_trailing_and_first_error),
	    cmocka_unit_test(test_mmio_round_trip), cmocka_unit_test(test_mmio_refusals),
	};
	return cmocka_run_group_tests_name("persist", tests, NULL, NULL);
}
