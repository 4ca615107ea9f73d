// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for aarch64's register lists in a snapshot (snapshot/
 * snap_regs.c), which a restore reads from a state file it must treat as
 * hostile: each input is parsed twice, as a vCPU's list (sizes from the
 * ids, SNAP_REGS_SIZE_ID) and as a vGIC list (every value 8 bytes).  What
 * the parser accepts is checked against the payload: every value lies
 * inside it, sizes are the ones promised, and writing the list back gives
 * the same bytes.  A broken invariant aborts.  The seeds are one list of
 * each kind; `make fuzz` replays them and 2000 mutations (driver.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snap_regs.h"

#define FUZZ_HAVE_SEEDS
#include "driver.h"

static void check(const uint8_t *data, size_t size, uint32_t fixed)
{
	struct snap_reg *r = NULL;
	const char *why = NULL;
	uint32_t n = 0;
	struct pw w;

	if (snap_regs_parse(data, size, fixed, &r, &n, &why)) {
		if (!why)
			abort(); /* every refusal says why */
		return;
	}
	pw_init(&w);
	snap_regs_begin(&w, n);
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].val < data || r[i].val + r[i].size > data + size)
			abort();
		if (r[i].size != (fixed ? fixed : snap_reg_id_size(r[i].id)))
			abort();
		snap_regs_put(&w, r[i].id, r[i].val, r[i].size);
	}
	/* accepted means whole: the same list written again is the input */
	if (w.err || w.len != size || memcmp(w.buf, data, size))
		abort();
	pw_free(&w);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, SNAP_REGS_SIZE_ID);
	check(data, size, 8);
	return 0;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	static const uint8_t v[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	const uint64_t arm64 = 0x6000000000000000ull, u32 = 2ull << 52, u64 = 3ull << 52,
		       u128 = 4ull << 52;
	unsigned n = 0;
	struct pw w;

	if (max < 2)
		return 0;
	pw_init(&w); /* a vCPU's: fpsr, pc, one FP/SIMD register */
	snap_regs_begin(&w, 3);
	snap_regs_put(&w, arm64 | u32 | 0x10 | 0xd4, v, 4);
	snap_regs_put(&w, arm64 | u64 | 0x10 | 0x40, v, 8);
	snap_regs_put(&w, arm64 | u128 | 0x10 | 0x54, v, 16);
	if (!w.err)
		fuzz_seed_add(s, &n, "vcpu", w.buf, w.len);
	pw_free(&w);
	pw_init(&w); /* a vGIC's: two 8-byte attributes */
	snap_regs_begin(&w, 2);
	snap_regs_put(&w, 0x1000, v, 8);
	snap_regs_put(&w, 0x2008, v + 8, 8);
	if (!w.err)
		fuzz_seed_add(s, &n, "gic", w.buf, w.len);
	pw_free(&w);
	return n;
}
