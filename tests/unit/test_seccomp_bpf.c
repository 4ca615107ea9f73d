// SPDX-License-Identifier: Apache-2.0
/*
 * The BPF programs ember embeds (compiled at build time by seccomp_gen.c)
 * are exactly what libseccomp makes of today's lists, with this process's
 * run-time values: a rule edited without a rebuild, a placeholder left
 * unpatched or patched in the wrong place, an instruction lost in the
 * generated file, each makes them differ.  That the programs then do what
 * the lists say is test_seccomp.c's and test_seccomp_allowed.c's part.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seccomp_rules.h"
#include "unit.h"
/* aarch64's programs as the build made them: seccomp_progs_aarch64[role]. */
#include "seccomp_bpf_aarch64.h"

static void expect_same(enum seccomp_role role)
{
	const uint64_t dyn[] = {
	    [DYN_PID] = (uint64_t)getpid(), [DYN_KICK_SIG] = (uint64_t)SIGRTMIN};
	struct sock_filter *want, *got;
	size_t want_len, got_len;

	assert_int_equal(seccomp_compile(&seccomp_arch_target, role, dyn, &want, &want_len), 0);
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

/* aarch64's embedded programs, as generated (placeholders unpatched). */
static void test_aarch64(void **state)
{
	const uint64_t dyn[] = {
	    [DYN_PID] = SECCOMP_PLACEHOLDER_PID, [DYN_KICK_SIG] = SECCOMP_PLACEHOLDER_KICK_SIG};
	const enum seccomp_role roles[] = {SECCOMP_VMM, SECCOMP_VCPU, SECCOMP_API};

	(void)state;
	for (size_t r = 0; r < ARRAY_SIZE(roles); r++) {
		const struct sock_fprog *got = &seccomp_progs_aarch64[roles[r]];
		struct sock_filter *want, *x86;
		size_t want_len, x86_len;

		assert_int_equal(
		    seccomp_compile(&seccomp_arch_aarch64, roles[r], dyn, &want, &want_len), 0);
		print_message("aarch64 %-4s: %u BPF instructions\n", seccomp_role_name(roles[r]),
			      got->len);
		assert_int_equal(got->len, want_len);
		for (size_t i = 0; i < want_len; i++)
			if (memcmp(&got->filter[i], &want[i], sizeof(want[i])))
				fail_msg("aarch64 %s: instruction %zu: embedded {0x%x %u %u 0x%x}, "
					 "libseccomp {0x%x %u %u 0x%x}",
					 seccomp_role_name(roles[r]), i, got->filter[i].code,
					 got->filter[i].jt, got->filter[i].jf, got->filter[i].k,
					 want[i].code, want[i].jt, want[i].jf, want[i].k);
		/* The arch check: A = seccomp_data.arch, compared with AUDIT_ARCH_AARCH64. */
		assert_true(want_len > 2);
		assert_int_equal(want[0].code, BPF_LD | BPF_W | BPF_ABS);
		assert_int_equal(want[0].k, 4);
		assert_int_equal(want[1].k, SCMP_ARCH_AARCH64);
		/* Not x86's program relabelled: other numbers, another length or both. */
		assert_int_equal(
		    seccomp_compile(&seccomp_arch_x86_64, roles[r], dyn, &x86, &x86_len), 0);
		assert_true(x86_len != want_len || memcmp(x86, want, want_len * sizeof(*want)));
		free(x86);
		free(want);
	}
}

/* Firecracker's aarch64 lists (resources/seccomp/aarch64-unknown-linux-musl.json). */
#define FC_A64_VMM_RULES  75
#define FC_A64_VCPU_RULES 39
#define FC_A64_API_RULES  36

static int rules_for(const struct seccomp_arch_rules *arch, enum seccomp_role role)
{
	int n = 0;

	for (size_t i = 0; i < seccomp_nr_rules; i++)
		n += !!(seccomp_rules[i].roles & (1u << role));
	for (size_t i = 0; i < arch->nr_rules; i++)
		n += !!(arch->rules[i].roles & (1u << role));
	return n;
}

/* aarch64's lists are shorter than Firecracker's for aarch64, as x86's are. */
static void test_aarch64_rule_counts(void **state)
{
	const int fc[] = {
	    [SECCOMP_VMM] = FC_A64_VMM_RULES,
	    [SECCOMP_VCPU] = FC_A64_VCPU_RULES,
	    [SECCOMP_API] = FC_A64_API_RULES,
	};

	(void)state;
	for (unsigned role = 0; role < ARRAY_SIZE(fc); role++) {
		int n = rules_for(&seccomp_arch_aarch64, role);

		print_message("aarch64 %-4s: %d rules (Firecracker %d)\n", seccomp_role_name(role),
			      n, fc[role]);
		assert_true(n > 0 && n < fc[role]);
	}
}

/* A rule naming a syscall the architecture lacks is refused, not compiled dead. */
static void test_missing_syscall_refused(void **state)
{
	(void)state;
	/* x86's rules name epoll_wait and unlink, which aarch64 has not. */
	const struct seccomp_arch_rules x86_rules_for_arm = {
	    .name = "aarch64",
	    .scmp_arch = SCMP_ARCH_AARCH64,
	    .rules = seccomp_arch_x86_64.rules,
	    .nr_rules = seccomp_arch_x86_64.nr_rules,
	};
	const uint64_t dyn[] = {[DYN_PID] = 1, [DYN_KICK_SIG] = 2};
	struct sock_filter *f = NULL;
	size_t len;

	assert_int_equal(seccomp_compile(&x86_rules_for_arm, SECCOMP_API, dyn, &f, &len), -ENOENT);
	assert_null(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vmm),
	    cmocka_unit_test(test_vcpu),
	    cmocka_unit_test(test_api),
	    cmocka_unit_test(test_placeholders_patched),
	    cmocka_unit_test(test_aarch64),
	    cmocka_unit_test(test_aarch64_rule_counts),
	    cmocka_unit_test(test_missing_syscall_refused),
	};

	return cmocka_run_group_tests_name("seccomp_bpf", tests, NULL, NULL);
}
