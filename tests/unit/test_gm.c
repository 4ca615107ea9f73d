// SPDX-License-Identifier: Apache-2.0
/* Guest-memory range checks: boundaries and arithmetic that would wrap. */
#include "unit.h"

static struct guest_mem gm;

static int setup(void **state)
{
	(void)state;
	fake_gm_init(&gm, 0x10000, 0x100000, 0x1000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_gm_free(&gm);
	return 0;
}

static void test_inside(void **state)
{
	(void)state;
	assert_true(gm_range_ok(&gm, 0, 0x10000));
	assert_true(gm_range_ok(&gm, 0xffff, 1));
	assert_true(gm_range_ok(&gm, 0x100000, 0x1000));
	assert_true(gm_range_ok(&gm, 0x10000, 0)); /* empty range at the very end */
	assert_ptr_equal(gm_ptr(&gm, 0x100010, 4), gm.region[1].host + 0x10);
}

static void test_outside(void **state)
{
	(void)state;
	assert_false(gm_range_ok(&gm, 0xffff, 2));	  /* one byte past region 0 */
	assert_false(gm_range_ok(&gm, 0x10000, 1));	  /* the hole */
	assert_false(gm_range_ok(&gm, 0xfff00, 0x200));	  /* straddles into region 1 */
	assert_false(gm_range_ok(&gm, 0x100000, 0x1001)); /* past region 1 */
	assert_false(gm_range_ok(&gm, 0x200000, 0));	  /* empty range nowhere */
	assert_null(gm_ptr(&gm, 0x10000, 4));
}

static void test_wrapping(void **state)
{
	(void)state;
	/* gpa + len wraps to a small number: must not look "inside". */
	assert_false(gm_range_ok(&gm, 0x8000, UINT64_MAX));
	assert_false(gm_range_ok(&gm, UINT64_MAX, 2));
	assert_false(gm_range_ok(&gm, UINT64_MAX - 0xff, 0x200));
	assert_false(gm_range_ok(&gm, 0x100800, UINT64_MAX - 0x7ff));
}

static void test_read_write(void **state)
{
	uint32_t v = 0xdeadbeef, back = 0;

	(void)state;
	assert_int_equal(gm_write(&gm, 0x100ffc, &v, 4), 0);
	assert_int_equal(gm_read(&gm, 0x100ffc, &back, 4), 0);
	assert_int_equal(back, 0xdeadbeef);
	assert_int_equal(gm_write(&gm, 0x100ffd, &v, 4), -EFAULT);
	assert_int_equal(gm_read(&gm, 0xfffe, &back, 4), -EFAULT);
	assert_int_equal(gm_total(&gm), 0x11000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inside),
	    cmocka_unit_test(test_outside),
	    cmocka_unit_test(test_wrapping),
	    cmocka_unit_test(test_read_write),
	};
	return cmocka_run_group_tests_name("gm", tests, setup, teardown);
}
