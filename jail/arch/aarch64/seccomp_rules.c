// SPDX-License-Identifier: Apache-2.0
/*
 * aarch64's part of the allow-lists (jail/seccomp_rules.c has the rules all
 * architectures share and says how to read them).  aarch64 has only the
 * generic syscall table: glibc's epoll_wait is epoll_pwait there, unlink
 * is unlinkat.  Its KVM ioctls after a thread's filter is on: only a
 * vCPU's crash report reads registers; everything else (the vGIC through
 * KVM_CREATE_DEVICE and KVM_SET_DEVICE_ATTR, KVM_ARM_PREFERRED_TARGET,
 * KVM_ARM_VCPU_INIT, KVM_SET_ONE_REG of the boot registers) happens
 * before the vCPU threads start.  Snapshots are refused on aarch64 before
 * any KVM call (snapshot/arch/aarch64/snap_kvm.c): their ioctls come with
 * them.
 *
 * Compiled for the target (ember: names for the SIGSYS message) and for
 * the build host (seccomp_gen.c, tests/unit/test_seccomp_bpf.c), whose
 * headers give x86's numbers: libseccomp translates them by name, and the
 * ioctl numbers here are the same on both (KVM's generic ones).
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "ember.h"
#include "seccomp_table.h"

static const struct seccomp_rule rules[] = {
    /* arch_report_crash() names pc and sp_el1 (aarch64_vcpu.c). */
    RULE(R_VCPU, ioctl, .c = {EQ(1, KVM_GET_ONE_REG)}),
    /* The event loop (evloop.c) and the API thread's own: glibc's
     * epoll_wait is epoll_pwait with no signal mask on aarch64. */
    RULE(R_VMM | R_API, epoll_pwait),
    /* A failed snapshot removes its files (snapshot.c): unlink is unlinkat. */
    RULE(R_VMM, unlinkat),
};

const struct seccomp_arch_rules seccomp_arch_aarch64 = {
    .name = "aarch64",
    .scmp_arch = SCMP_ARCH_AARCH64,
    .rules = rules,
    .nr_rules = ARRAY_SIZE(rules),
};
