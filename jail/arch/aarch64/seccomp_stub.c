// SPDX-License-Identifier: Apache-2.0
/*
 * seccomp.h on aarch64, for now: jail/seccomp_rules.c is x86-64's table
 * (its syscall and KVM ioctl numbers), compiled to BPF on the build host.
 * Until aarch64 has its own table, installing a filter fails with a message
 * naming --no-seccomp, rather than running a guest unfiltered unasked.
 * Custom filters (--seccomp-filter, seccomp_custom.c) work as on x86.
 */
#include <sys/capability.h>
#include <sys/prctl.h>

#include "seccomp.h"

static const char *const role_names[] = {
    [SECCOMP_VMM] = "vmm",
    [SECCOMP_VCPU] = "vcpu",
    [SECCOMP_API] = "api",
};

const char *seccomp_role_name(enum seccomp_role role)
{
	return (unsigned)role < ARRAY_SIZE(role_names) ? role_names[role] : "?";
}

int seccomp_init_handler(void)
{
	return 0;
}

int seccomp_install(enum seccomp_role role)
{
	log_err("no built-in seccomp filter for the %s thread on aarch64 yet: run with "
		"--no-seccomp, or give one with --seccomp-filter",
		seccomp_role_name(role));
	return -ENOSYS;
}

int seccomp_rule_count(enum seccomp_role role)
{
	(void)role;
	return 0;
}

uint64_t seccomp_faults(void)
{
	return 0;
}

/* What seccomp.c does on x86, minus the per-capability bounding-set loop. */
int seccomp_drop_caps(void)
{
	cap_t none = cap_init();
	int r;

	if (!none)
		return -errno;
	r = cap_set_proc(none) ? -errno : 0;
	cap_free(none);
	if (!r && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		r = -errno;
	return r;
}
