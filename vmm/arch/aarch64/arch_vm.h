/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch_vm.h (aarch64) - the VM's aarch64 state (struct vm's .arch), set up
 * by vmm/arch/aarch64/ behind vmm/arch.h.
 */
#ifndef EMBER_ARCH_VM_H
#define EMBER_ARCH_VM_H

#include <stdbool.h>
#include <stdint.h>

struct arch_vm {
	bool has_gic;	  /* gic_fd is open */
	int gic_fd;	  /* the in-kernel GICv3 (KVM_CREATE_DEVICE) */
	uint64_t entry;	  /* where vCPU 0 starts: the Image's first instruction */
	uint64_t fdt_gpa; /* the device tree, in x0 at entry */
	uint32_t target;  /* KVM_ARM_PREFERRED_TARGET */
};

struct vcpu;
/* aarch64_vcpu.c: KVM_ARM_VCPU_INIT (PSCI 0.2; all but vCPU 0 powered off). */
int arm64_vcpu_init(struct vcpu *v);
/* MPIDR_EL1 as KVM set it at KVM_ARM_VCPU_INIT. */
int arm64_vcpu_mpidr(struct vcpu *v, uint64_t *mpidr);

#endif /* EMBER_ARCH_VM_H */
