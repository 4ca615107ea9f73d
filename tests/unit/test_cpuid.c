// SPDX-License-Identifier: Apache-2.0
/* CPUID normalisation on made-up KVM_GET_SUPPORTED_CPUID tables. */
#include "cpuid.h"
#include "unit.h"

#define E(f, i, a, b, c, d)                                                                        \
	{                                                                                          \
		.function = (f), .index = (i), .eax = (a), .ebx = (b), .ecx = (c), .edx = (d)      \
	}

/* Host topology deliberately wrong for the guest: 64 threads, APIC id 0x2a. */
static const struct kvm_cpuid_entry2 amd[] = {
    E(0x0, 0, 0xd, 0x68747541 /* "Auth" */, 0x444d4163, 0x69746e65),
    E(0x1, 0, 0x800f12, 0x2a400800, 0x7ed8320b, 0x178bfbff),
    E(0xb, 0, 1, 2, 0x100, 0x2a),
    E(0xb, 1, 7, 64, 0x201, 0x2a),
    E(0xb, 2, 0, 0, 2, 0x2a),
    E(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
    E(0x80000001, 0, 0, 0, 0x2, 0),
    E(0x80000008, 0, 0x3030, 0, 0x703f, 0),
    E(0x8000001e, 0, 0x2a, 0x1f, 0x3, 0),
};

static const struct kvm_cpuid_entry2 intel[] = {
    E(0x0, 0, 0x16, 0x756e6547 /* "Genu" */, 0x6c65746e, 0x49656e69),
    E(0x1, 0, 0x906ea, 0x2a100800, 0x7ffafbff, 0xbfebfbff),
    E(0x4, 0, 0x1c004121, 0, 0, 0),
    E(0x4, 3, 0x1c03c163, 0, 0, 0),
    E(0x1f, 1, 4, 16, 0x201, 0x2a),
    E(0x80000008, 0, 0x3027, 0, 0xdead, 0),
};

static void run(const struct kvm_cpuid_entry2 *src, size_t n, struct kvm_cpuid_entry2 *dst,
		unsigned index, unsigned cpus)
{
	memcpy(dst, src, n * sizeof(*src));
	cpuid_normalize(dst, (unsigned)n, index, cpus);
}

static void test_amd(void **state)
{
	struct kvm_cpuid_entry2 t[ARRAY_SIZE(amd)];
	const unsigned n = ARRAY_SIZE(amd);

	(void)state;
	run(amd, n, t, 3, 4);
	assert_int_equal(cpuid_find(t, n, 1, 0)->ebx >> 24, 3);		 /* APIC id */
	assert_int_equal((cpuid_find(t, n, 1, 0)->ebx >> 16) & 0xff, 4); /* logical CPUs */
	assert_int_equal(cpuid_find(t, n, 1, 0)->ebx & 0xffff, 0x0800);	 /* clflush kept */
	assert_true(cpuid_find(t, n, 1, 0)->ecx & (1u << 31));		 /* hypervisor */
	assert_true(cpuid_find(t, n, 1, 0)->ecx & (1u << 24));		 /* TSC-deadline */
	assert_true(cpuid_find(t, n, 1, 0)->edx & (1u << 28));		 /* HTT: >1 CPU */
	assert_int_equal(cpuid_find(t, n, 0xb, 0)->ebx, 1);		 /* 1 thread/core */
	assert_int_equal(cpuid_find(t, n, 0xb, 1)->ebx, 4);		 /* 4 cores */
	assert_int_equal(cpuid_find(t, n, 0xb, 1)->eax, 2);		 /* 2 id bits */
	assert_int_equal(cpuid_find(t, n, 0xb, 2)->ecx >> 8 & 0xff, 0);	 /* end of levels */
	for (unsigned s = 0; s < 3; s++)
		assert_int_equal(cpuid_find(t, n, 0xb, s)->edx, 3); /* x2APIC id */
	assert_int_equal(cpuid_find(t, n, 0x80000008, 0)->ecx & 0xff, 3);
	assert_int_equal(cpuid_find(t, n, 0x8000001e, 0)->eax, 3);
	assert_true(cpuid_find(t, n, 0x80000001, 0)->ecx & 2); /* CmpLegacy */
	/* Hypervisor leaf untouched. */
	assert_memory_equal(cpuid_find(t, n, 0x40000000, 0), &amd[5], sizeof(amd[5]));

	run(amd, n, t, 0, 1);
	assert_int_equal(cpuid_find(t, n, 1, 0)->ebx >> 24, 0);
	assert_false(cpuid_find(t, n, 1, 0)->edx & (1u << 28));
	assert_false(cpuid_find(t, n, 0x80000001, 0)->ecx & 2);
}

static void test_intel(void **state)
{
	struct kvm_cpuid_entry2 t[ARRAY_SIZE(intel)];
	const unsigned n = ARRAY_SIZE(intel);

	(void)state;
	run(intel, n, t, 31, 32);
	assert_int_equal(cpuid_find(t, n, 1, 0)->ebx >> 24, 31);
	assert_int_equal(cpuid_find(t, n, 4, 0)->eax >> 26, 31);	/* cores - 1 */
	assert_int_equal(cpuid_find(t, n, 4, 0)->eax & 0x3fff, 0x0121); /* cache bits kept */
	assert_int_equal(cpuid_find(t, n, 0x1f, 1)->ebx, 32);
	assert_int_equal(cpuid_find(t, n, 0x1f, 1)->eax, 5);
	assert_int_equal(cpuid_find(t, n, 0x1f, 1)->edx, 31);
	/* AMD-only leaves are left alone on Intel. */
	assert_int_equal(cpuid_find(t, n, 0x80000008, 0)->ecx, 0xdead);
	assert_null(cpuid_find(t, n, 0x1234, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_amd),
	    cmocka_unit_test(test_intel),
	};
	return cmocka_run_group_tests_name("cpuid", tests, NULL, NULL);
}
