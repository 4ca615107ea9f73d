/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch.h - what the VM (vm.c, vcpu.c, devmem.c) asks of the architecture:
 * KVM's VM-wide set-up, the guest RAM map, the platform devices, the boot
 * protocol and the vCPUs' initial state.  One implementation per directory
 * under vmm/arch/ (the Makefile's ARCH picks it); that directory also
 * provides layout.h (the guest-physical map), loader.h (kernel_parse and
 * struct kernel_info) and arch_vm.h (struct arch_vm, the VM's own state).
 * Each returns 0 or -errno with the reason logged, unless it says otherwise.
 */
#ifndef EMBER_ARCH_H
#define EMBER_ARCH_H

#include "ember.h"

struct vm;
struct vcpu;
struct kernel_info;

/* The KVM capabilities ember needs on this architecture (vm.c checks them). */
struct kvm_cap_req {
	long cap;
	const char *name; /* after KVM_CAP_, for the message */
};
extern const struct kvm_cap_req arch_kvm_caps[];
extern const size_t arch_nr_kvm_caps;
/* Right after KVM_CREATE_VM, before memory (x86: TSS, identity map, irqchip, PIT). */
int arch_vm_init(struct vm *vm);
/*
 * For a VM made ahead of its configuration (vm_pre_create): 1 after doing
 * all of arch_vm_init on the bare @vm_fd (x86: it needs no configuration;
 * its PIT and irqchip set-up waits on kernel threads and SRCU, slow in a
 * nested L1), 0 if arch_vm_init must still run (aarch64: the GIC's layout
 * depends on the vCPU count), or -errno.
 */
int arch_vm_pre_init(int vm_fd);
/* Guest RAM for @mem_size bytes: fills @start/@len, returns the region count. */
unsigned arch_mem_regions(uint64_t mem_size, uint64_t start[GM_MAX_REGIONS],
			  uint64_t len[GM_MAX_REGIONS]);
/* One past the highest guest-physical RAM address for @mem_size bytes. */
uint64_t arch_ram_end(uint64_t mem_size);
/*
 * After memory, before the vCPUs: the CPU model (x86: KVM's CPUID and the
 * CPU template).  *@phys_bits: the guest's physical address width.
 */
int arch_vm_cpu_init(struct vm *vm, unsigned *phys_bits);
/*
 * Once every vCPU exists, before any irqfd: aarch64 initialises the GIC and
 * then the vCPUs there (KVM wants that order, and irqfds only after it).
 */
int arch_vcpus_created(struct vm *vm);
/* After the serial port is set up: it and the platform devices on their buses. */
int arch_setup_devices(struct vm *vm);
/* Kernel, initrd and boot structures into guest memory; vm->cmdline is final. */
int arch_vm_load(struct vm *vm, const uint8_t *img, size_t img_len, const struct kernel_info *ki,
		 const uint8_t *initrd, size_t initrd_len);
/* One vCPU's initial state (the boot registers on vCPU 0). */
int arch_vcpu_setup(struct vcpu *v);
/* Logs @what with where vCPU @v stopped, as far as its registers tell. */
void arch_report_crash(struct vcpu *v, const char *what);
/* Frees what the arch_* calls above set up; safe on a half-built VM. */
void arch_vm_destroy(struct vm *vm);

#endif /* EMBER_ARCH_H */
