// SPDX-License-Identifier: Apache-2.0
/* MP tables, read back the way Linux's mpparse does. */
#include "layout.h"
#include "mptable.h"
#include "unit.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

struct parsed {
	unsigned cpus, bsps, buses, ioapics, intsrc, lintsrc;
	uint8_t apic_ids[256];
	uint8_t ioapic_id;
};

/* Walks the table like smp_scan_config + smp_read_mpc; fails the test on any inconsistency. */
static void parse(const uint8_t *buf, uint64_t gpa, struct parsed *p)
{
	uint32_t physptr, lapic;
	uint16_t len, count;
	const uint8_t *mpc, *e;

	memset(p, 0, sizeof(*p));
	assert_memory_equal(buf, "_MP_", 4);
	assert_int_equal(buf[8], 1); /* length in paragraphs */
	assert_int_equal(buf[9], 4); /* spec 1.4 */
	assert_int_equal(sum(buf, 16), 0);
	memcpy(&physptr, buf + 4, 4);
	assert_int_equal(physptr, gpa + 16);
	mpc = buf + (physptr - gpa);
	assert_memory_equal(mpc, "PCMP", 4);
	memcpy(&len, mpc + 4, 2);
	memcpy(&count, mpc + 34, 2);
	memcpy(&lapic, mpc + 36, 4);
	assert_int_equal(lapic, LAYOUT_LAPIC);
	assert_int_equal(sum(mpc, len), 0);
	e = mpc + 44;
	for (unsigned i = 0; i < count; i++) {
		assert_true(e < mpc + len);
		switch (e[0]) {
		case 0:
			p->apic_ids[p->cpus++] = e[1];
			assert_true(e[3] & 1); /* enabled */
			p->bsps += !!(e[3] & 2);
			e += 20;
			break;
		case 1:
			assert_memory_equal(e + 2, "ISA   ", 6);
			p->buses++;
			e += 8;
			break;
		case 2:
			p->ioapic_id = e[1];
			p->ioapics++;
			e += 8;
			break;
		case 3:
			assert_int_equal(e[7], e[5]); /* ISA IRQ n -> IOAPIC pin n */
			p->intsrc++;
			e += 8;
			break;
		case 4:
			p->lintsrc++;
			e += 8;
			break;
		default:
			fail_msg("unknown MP entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, mpc + len);
}

static void check(unsigned n)
{
	uint8_t buf[2048];
	struct parsed p;
	int size = mptable_build(buf, sizeof(buf), LAYOUT_EBDA, n);

	assert_int_equal(size, (int)mptable_size(n));
	/* Must fit in the KiB below 640 KiB that Linux scans, with 32 CPUs too. */
	assert_true(size <= 1024);
	parse(buf, LAYOUT_EBDA, &p);
	assert_int_equal(p.cpus, n);
	assert_int_equal(p.bsps, 1);
	assert_int_equal(p.buses, 1);
	assert_int_equal(p.ioapics, 1);
	assert_int_equal(p.intsrc, MPTABLE_NR_IRQS);
	assert_int_equal(p.lintsrc, 2);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(p.apic_ids[i], i);
		assert_int_not_equal(p.ioapic_id, i); /* IOAPIC id distinct from LAPIC ids */
	}
}

static void test_counts(void **state)
{
	(void)state;
	check(1);
	check(2);
	check(4);
	check(32);
}

static void test_bad_args(void **state)
{
	uint8_t buf[2048];

	(void)state;
	assert_int_equal(mptable_build(buf, sizeof(buf), LAYOUT_EBDA, 0), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), LAYOUT_EBDA, 33), -EINVAL);
	assert_int_equal(mptable_build(buf, 100, LAYOUT_EBDA, 4), -ENOSPC);
	assert_int_equal(mptable_build(buf, sizeof(buf), 0xfffffff0ull, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests_name("mptable", tests, NULL, NULL);
}
