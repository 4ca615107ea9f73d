// SPDX-License-Identifier: Apache-2.0
/*
 * aarch64's part of the allow-lists (jail/seccomp_rules.c has the rules all
 * architectures share and says how to read them).  aarch64 has only the
 * generic syscall table: glibc's epoll_wait is epoll_pwait there, unlink
 * is unlinkat.  Its KVM ioctls after a thread's filter is on: only a
 * vCPU's crash report reads registers; everything else (the vGIC through
 * KVM_CREATE_DEVICE and KVM_SET_DEVICE_ATTR, KVM_ARM_PREFERRED_TARGET,
 * KVM_ARM_VCPU_INIT, KVM_SET_ONE_REG of the boot registers) happens
 * before the vCPU threads start, as does a restore's KVM_SET_*.  A
 * snapshot (or a migration's last pass, or a fork) reads the VM's state
 * on the VMM thread, under its filter: the read-only ioctls below.
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
    /* arch_report_crash() names pc and sp_el1 (aarch64_vcpu.c).  The VMM
     * thread: every register of a snapshot (snapshot/arch/aarch64/snap_kvm.c). */
    RULE(R_VCPU | R_VMM, ioctl, .c = {EQ(1, KVM_GET_ONE_REG)}),
    /* The KVM state a snapshot saves, read-only ioctls: each vCPU's register
     * list and MP state, the vGIC's registers through its device attributes. */
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_REG_LIST)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_MP_STATE)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_DEVICE_ATTR)}),
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
