/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch_vm.h (x86_64) - the VM's x86 state (struct vm's .arch), set up by
 * vmm/arch/x86_64/x86_vm.c and x86_vcpu.c behind vmm/arch.h.
 */
#ifndef EMBER_ARCH_VM_H
#define EMBER_ARCH_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* Where the boot vCPU starts. */
struct boot_entry {
	bool pvh;
	uint64_t rip;
};

struct arch_vm {
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, before normalisation */
	struct boot_entry entry;
	bool i8042_ready; /* i8042 initialised: its lock and IRQ eventfd to free */
};

#endif /* EMBER_ARCH_VM_H */
