// SPDX-License-Identifier: Apache-2.0
/*
 * The BPF programs ember embeds (compiled at build time by seccomp_gen.c)
 * are exactly what libseccomp makes of today's lists, with this process's
 * run-time values: a rule edited without a rebuild, a placeholder left
 * unpatched or patched in the wrong place, an instruction lost in the
 * generated file, each makes them differ.  That the programs then do what
 * the lists say is test_seccomp.c's and test_seccomp_allowed.c's part.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seccomp_rules.h"
#include "unit.h"

static void expect_same(enum seccomp_role role)
{
	const uint64_t dyn[] = {
	    [DYN_PID] = (uint64_t)getpid(), [DYN_KICK_SIG] = (uint64_t)SIGRTMIN};
	struct sock_filter *want, *got;
	size_t want_len, got_len;

	assert_int_equal(seccomp_compile(role, dyn, &want, &want_len), 0);
	got = seccomp_program(role, &got_len);
	assert_non_null(got);
	print_message("%-4s: %zu BPF instructions\n", seccomp_role_name(role), got_len);
	assert_int_equal(got_len, want_len);
	for (size_t i = 0; i < got_len; i++)
		if (memcmp(&got[i], &want[i], sizeof(got[i])))
			fail_msg("%s: instruction %zu: embedded {0x%x %u %u 0x%x}, libseccomp "
				 "{0x%x %u %u 0x%x}",
				 seccomp_role_name(role), i, got[i].code, got[i].jt, got[i].jf,
				 got[i].k, want[i].code, want[i].jt, want[i].jf, want[i].k);
	free(want);
	free(got);
}

static void test_vmm(void **state)
{
	(void)state;
	expect_same(SECCOMP_VMM);
}

static void test_vcpu(void **state)
{
	(void)state;
	expect_same(SECCOMP_VCPU);
}

static void test_api(void **state)
{
	(void)state;
	expect_same(SECCOMP_API);
}

/* The pid and the kick signal are patched in, and only where they belong. */
static void test_placeholders_patched(void **state)
{
	unsigned pid_seen = 0;
	size_t len;
	struct sock_filter *f = seccomp_program(SECCOMP_VMM, &len);

	(void)state;
	assert_non_null(f);
	for (size_t i = 0; i < len; i++) {
		assert_true(f[i].k != SECCOMP_PLACEHOLDER_PID);
		assert_true(f[i].k != SECCOMP_PLACEHOLDER_KICK_SIG);
		pid_seen += BPF_CLASS(f[i].code) == BPF_JMP && f[i].k == (uint32_t)getpid();
	}
	assert_true(pid_seen >= 1); /* tgkill's first argument */
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vmm),
	    cmocka_unit_test(test_vcpu),
	    cmocka_unit_test(test_api),
	    cmocka_unit_test(test_placeholders_patched),
	};

	return cmocka_run_group_tests_name("seccomp_bpf", tests, NULL, NULL);
}
