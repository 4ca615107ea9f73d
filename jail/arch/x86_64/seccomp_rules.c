// SPDX-License-Identifier: Apache-2.0
/*
 * x86-64's part of the allow-lists (jail/seccomp_rules.c has the rules all
 * architectures share and says how to read them): the syscalls glibc makes
 * under x86-64's own names, and x86's KVM state.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "ember.h"
#include "seccomp_table.h"

static const struct seccomp_rule rules[] = {
    /* report_crash() names rip and rsp; sregs for richer crash reports.
     * The VMM thread: snapshots (snap_kvm.c, with the other KVM_GET_*). */
    RULE(R_VCPU | R_VMM, ioctl, .c = {EQ(1, KVM_GET_REGS)}),
    RULE(R_VCPU | R_VMM, ioctl, .c = {EQ(1, KVM_GET_SREGS)}),
    /* The event loop (evloop.c; glibc's epoll_wait is the epoll_wait syscall
     * on x86-64) and the API thread's own loop. */
    RULE(R_VMM | R_API, epoll_wait),
    /* A failed snapshot removes its files (snapshot.c). */
    RULE(R_VMM, unlink),
    /* The KVM state a snapshot saves (snap_kvm.c), read-only ioctls: the
     * VM's interrupt controllers, PIT and clock; the MSR list from
     * /dev/kvm; each vCPU's state. */
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_IRQCHIP)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_PIT2)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_CLOCK)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_MSR_INDEX_LIST)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_XSAVE)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_XSAVE2)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_XCRS)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_DEBUGREGS)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_LAPIC)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_MSRS)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_MP_STATE)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_VCPU_EVENTS)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_CPUID2)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_TSC_KHZ)}),
};

const struct seccomp_arch_rules seccomp_arch_x86_64 = {
    .name = "x86_64",
    .scmp_arch = SCMP_ARCH_X86_64,
    .rules = rules,
    .nr_rules = ARRAY_SIZE(rules),
};
