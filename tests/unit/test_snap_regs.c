// SPDX-License-Identifier: Apache-2.0
/*
 * aarch64's register lists in a snapshot (snapshot/snap_regs.h): the exact
 * bytes of a list, a round trip with every width KVM uses (U32 fpsr, U64
 * system registers, U128 FP/SIMD, a U2048 SVE-sized one), and the refusals
 * a hostile state file must meet: a cut at any byte, a count larger than
 * the payload (before any allocation), a size other than the id's (KVM
 * would read the id's size past our buffer), a size over the cap, another
 * version, trailing bytes; and fixed-size lists (the vGIC's attributes).
 */
#include "unit.h"

#include "snap_regs.h"

#define SIZE_U32   (2ull << 52)
#define SIZE_U64   (3ull << 52)
#define SIZE_U128  (4ull << 52)
#define SIZE_U2048 (8ull << 52)
#define ARM64	   0x6000000000000000ull

static const uint8_t v128[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static uint8_t v2048[256];

static void build(struct pw *w)
{
	uint32_t fpsr = 0x08000010;
	uint64_t pc = 0xffff800008001234ull;

	for (size_t i = 0; i < sizeof(v2048); i++)
		v2048[i] = (uint8_t)(i * 7);
	pw_init(w);
	snap_regs_begin(w, 4);
	snap_regs_put(w, ARM64 | SIZE_U32 | 0x10 | 0xd4, &fpsr, 4);
	snap_regs_put(w, ARM64 | SIZE_U64 | 0x10 | 0x40, &pc, 8);
	snap_regs_put(w, ARM64 | SIZE_U128 | 0x10 | 0x54, v128, 16);
	snap_regs_put(w, ARM64 | SIZE_U2048 | 0x15 << 16, v2048, 256);
	assert_int_equal(w->err, 0);
}

static void test_bytes(void **state)
{
	static const uint8_t head[] = {
	    1,	  0,	0,    0,    4,	  0,	0,    0, /* version 1, 4 registers */
	    0xd4, 0x00, 0x00, 0x00, 0x00, 0,	0x20, 0x60,
	    4,	  0,	0,    0,    0x10, 0x00, 0,    0x08, /* fpsr, little-endian */
	};
	struct pw w;

	(void)state;
	build(&w);
	/* 0x10 | 0xd4 = 0xd4: the id's low byte */
	assert_int_equal(w.len, 8 + (12 + 4) + (12 + 8) + (12 + 16) + (12 + 256));
	assert_memory_equal(w.buf, head, sizeof(head));
	pw_free(&w);
}

static void test_round_trip(void **state)
{
	struct snap_reg *r;
	uint32_t n;
	const char *why = NULL;
	uint64_t pc;
	struct pw w;

	(void)state;
	build(&w);
	assert_int_equal(snap_regs_parse(w.buf, w.len, SNAP_REGS_SIZE_ID, &r, &n, &why), 0);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].size, 4);
	assert_int_equal(r[1].id, ARM64 | SIZE_U64 | 0x50);
	memcpy(&pc, r[1].val, 8);
	assert_int_equal(pc, 0xffff800008001234ull);
	assert_int_equal(r[2].size, 16);
	assert_memory_equal(r[2].val, v128, 16);
	assert_int_equal(r[3].size, 256);
	assert_memory_equal(r[3].val, v2048, 256);
	free(r);
	/* An empty list is a list. */
	pw_free(&w);
	pw_init(&w);
	snap_regs_begin(&w, 0);
	assert_int_equal(snap_regs_parse(w.buf, w.len, SNAP_REGS_SIZE_ID, &r, &n, &why), 0);
	assert_int_equal(n, 0);
	free(r);
	pw_free(&w);
	assert_int_equal(snap_reg_id_size(ARM64 | SIZE_U32), 4);
	assert_int_equal(snap_reg_id_size(ARM64 | SIZE_U2048), 256);
}

static void expect_bad(const uint8_t *p, size_t len, uint32_t fixed, const char *want)
{
	struct snap_reg *r = (void *)1;
	uint32_t n = 99;
	const char *why = NULL;

	assert_int_equal(snap_regs_parse(p, len, fixed, &r, &n, &why), -EINVAL);
	assert_non_null(why);
	if (want && strcmp(why, want))
		fail_msg("len %zu: \"%s\", want \"%s\"", len, why, want);
	assert_null(r);
	assert_int_equal(n, 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_hostile(void **state)
{
	struct pw w;
	uint8_t *b;

	(void)state;
	build(&w);
	b = w.buf;
	/* Cut anywhere: refused, never read past the end. */
	for (size_t l = 0; l < w.len; l++) {
		uint8_t *cut = malloc(l ? l : 1);

		memcpy(cut, b, l);
		expect_bad(cut, l, SNAP_REGS_SIZE_ID, NULL);
		free(cut);
	}
	put32(b, 2);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "register list of an unknown version");
	put32(b, 1);
	/* A count the payload cannot hold: refused before allocating for it. */
	put32(b + 4, UINT32_MAX);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "register count larger than the list");
	put32(b + 4, 5);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, NULL);
	put32(b + 4, 3);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "trailing bytes");
	put32(b + 4, 4);
	/* fpsr's size says 8 while its id says U32: KVM would read 4, we would send 8. */
	put32(b + 8 + 8, 8);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "register size does not match its id");
	put32(b + 8 + 8, 0);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "register of a bad size");
	put32(b + 8 + 8, UINT32_MAX);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "register of a bad size");
	put32(b + 8 + 8, 4);
	/* The last value's size past the end. */
	put32(b + w.len - 256 - 4, 256 + 8);
	expect_bad(b, w.len, SNAP_REGS_SIZE_ID, "register of a bad size");
	put32(b + w.len - 256 - 4, 256);
	pw_free(&w);
}

/* The vGIC's lists: every value one width, whatever the id (an attribute) says. */
static void test_fixed(void **state)
{
	uint32_t v = 0xabcd, n;
	struct snap_reg *r;
	const char *why;
	struct pw w;

	(void)state;
	pw_init(&w);
	snap_regs_begin(&w, 2);
	snap_regs_put(&w, 0x100, &v, 4);
	snap_regs_put(&w, 0x6100, &v, 4);
	assert_int_equal(snap_regs_parse(w.buf, w.len, 4, &r, &n, &why), 0);
	assert_int_equal(n, 2);
	assert_int_equal(r[1].id, 0x6100);
	free(r);
	expect_bad(w.buf, w.len, 8, "register size does not match its id");
	expect_bad(w.buf, w.len, SNAP_REGS_SIZE_ID, "register size does not match its id");
	pw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
