// SPDX-License-Identifier: Apache-2.0
/*
 * Device memory placement (vmm/devmem.c): above RAM and 4 GiB, never in the
 * guest's e820 map, aligned as each device asks, the same for the same
 * devices in the same order (what a restore relies on), exactly where a
 * snapshot says when it is free, and refused where it would overlap, wrap
 * or leave the guest's physical address space.
 */
#include "unit.h"

#include "boot.h"
#include "devmem.h"

static void init(struct devmem *d, uint64_t mem_size, unsigned phys_bits)
{
	memset(d, 0, sizeof(*d));
	d->base = d->next = devmem_base(mem_size);
	d->limit = 1ull << phys_bits;
}

static void test_base_above_ram(void **state)
{
	static const uint64_t sizes[] = {MiB(128), GiB(1), GiB(3), GiB(3) + MiB(2),
					 GiB(8) + MiB(6)};
	struct e820_range map[16];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t base = devmem_base(sizes[i]);
		int n = e820_build(sizes[i], map, ARRAY_SIZE(map));

		assert_true(n > 0);
		assert_true(base >= GiB(4) && base % GiB(1) == 0);
		for (int j = 0; j < n; j++)
			assert_true(map[j].addr + map[j].size <= base);
	}
	assert_true(devmem_base(MiB(128)) == GiB(4));
	assert_true(devmem_base(GiB(3) + MiB(2)) == GiB(5));
	assert_true(devmem_base(GiB(8)) == GiB(9));
}

static void test_reserve(void **state)
{
	struct devmem d, again;
	uint64_t a = 0, b = 0, c = 0, x;

	(void)state;
	init(&d, MiB(256), 40);
	assert_int_equal(devmem_reserve(&d, MiB(6), MiB(2), &a), 0);
	assert_int_equal(devmem_reserve(&d, MiB(512), MiB(128), &b), 0);
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &c), 0);
	assert_true(a == GiB(4));
	assert_true(b == GiB(4) + MiB(128)); /* aligned past the first */
	assert_true(c == b + MiB(512));
	/* The same devices in the same order: the same layout. */
	init(&again, MiB(256), 40);
	x = 0;
	assert_int_equal(devmem_reserve(&again, MiB(6), MiB(2), &x), 0);
	assert_true(x == a);
	/* A restore asks for its place: free and aligned is granted... */
	x = c + MiB(2);
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &x), 0);
	assert_true(x == c + MiB(2));
	/* ... overlapping, misaligned, below the base, past the limit or wrapping is not. */
	x = a + MiB(2);
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &x), -EEXIST);
	x = GiB(7) + 4096;
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &x), -ENOSPC);
	x = GiB(2);
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &x), -ENOSPC);
	x = (1ull << 40) - MiB(2);
	assert_int_equal(devmem_reserve(&d, MiB(4), MiB(2), &x), -ENOSPC);
	x = UINT64_MAX - MiB(2) + 1;
	assert_int_equal(devmem_reserve(&d, MiB(4), MiB(2), &x), -ENOSPC);
	x = 0;
	assert_int_equal(devmem_reserve(&d, 1ull << 40, MiB(2), &x), -ENOSPC);
	/* Nonsense sizes and alignments. */
	x = 0;
	assert_int_equal(devmem_reserve(&d, 0, MiB(2), &x), -EINVAL);
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(3), &x), -EINVAL);
	assert_int_equal(devmem_reserve(&d, 100, 4096, &x), -EINVAL);
	/* A bounded number of devices. */
	while (d.nr_res < DEVMEM_MAX_RES) {
		x = 0;
		assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &x), 0);
	}
	x = 0;
	assert_int_equal(devmem_reserve(&d, MiB(2), MiB(2), &x), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_above_ram),
	    cmocka_unit_test(test_reserve),
	};
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests_name("devmem", tests, NULL, NULL);
}
