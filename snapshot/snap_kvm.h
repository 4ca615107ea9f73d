/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snap_kvm.h - KVM's part of a snapshot (snapshot/snap_kvm.c).  The VMM
 * thread calls these with every vCPU parked outside KVM_RUN; restores go
 * into a VM fresh from vm_create() whose vCPUs have never run.  Errors are
 * -errno with one line in @err for the API's 400 answer.
 */
#ifndef EMBER_SNAP_KVM_H
#define EMBER_SNAP_KVM_H

#include "snapfile.h"
#include "vm.h"

/* x86: PIC master and slave, IOAPIC, PIT, kvmclock; aarch64: the vGICv3. */
int snap_kvm_save_vm(struct vm *vm, struct snap_writer *w, char *err, size_t errlen);
/*
 * x86: registers, sregs, XSAVE, XCRs, debug registers, LAPIC, MSRs, MP state,
 * events, CPUID, TSC kHz; aarch64: KVM_GET_REG_LIST's registers, MP state.
 */
int snap_kvm_save_vcpu(struct vcpu *v, struct snap_writer *w, char *err, size_t errlen);

/* Before the vCPUs: x86's interrupt controllers and PIT; nothing on aarch64. */
int snap_kvm_restore_vm(struct vm *vm, const struct snap_image *img, char *err, size_t errlen);
int snap_kvm_restore_vcpu(struct vcpu *v, const struct snap_image *img, char *err, size_t errlen);
/*
 * After every vCPU's state, before any runs: aarch64's vGIC, whose per-CPU
 * parts KVM addresses by the vCPUs' MPIDR; x86's kvmclock, set last (as
 * QEMU does at resume) so that it starts from the moment the TSCs, set just
 * before, did.  @clock_realtime: advance kvmclock by the wall time since
 * the snapshot.
 */
int snap_kvm_restore_vm_late(struct vm *vm, const struct snap_image *img, bool clock_realtime,
			     char *err, size_t errlen);

#endif /* EMBER_SNAP_KVM_H */
