// SPDX-License-Identifier: Apache-2.0
/*
 * aarch64 behind vmm/arch.h.  This first cut builds (make ARCH=aarch64) but
 * does not run guests yet: creating the VM fails with a message saying so,
 * before anything is set up.  The RAM map and the Image are already the
 * real ones (layout.h, image.c).
 */
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "vm.h"

const struct kvm_cap_req arch_kvm_caps[] = {
    {KVM_CAP_ARM_PSCI_0_2, "ARM_PSCI_0_2"},
    {KVM_CAP_DEVICE_CTRL, "DEVICE_CTRL"},
    {KVM_CAP_ONE_REG, "ONE_REG"},
};
const size_t arch_nr_kvm_caps = ARRAY_SIZE(arch_kvm_caps);

int kernel_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why)
{
	return arm64_image_parse(img, len, ki, why);
}

int arch_vm_init(struct vm *vm)
{
	(void)vm;
	log_err("ember cannot run aarch64 guests yet: the vCPU, GICv3 and boot set-up are "
		"still to come (issue 20)");
	return -ENOSYS;
}

unsigned arch_mem_regions(uint64_t mem_size, uint64_t start[GM_MAX_REGIONS],
			  uint64_t len[GM_MAX_REGIONS])
{
	start[0] = LAYOUT_DRAM_START;
	len[0] = mem_size;
	return 1;
}

uint64_t arch_ram_end(uint64_t mem_size)
{
	return LAYOUT_DRAM_START + mem_size;
}

int arch_vm_cpu_init(struct vm *vm, unsigned *phys_bits)
{
	(void)vm;
	*phys_bits = 40; /* KVM's default IPA size on arm64 */
	return 0;
}

int vm_ctrl_alt_del(struct vm *vm)
{
	(void)vm;
	log_err("SendCtrlAltDel is x86-only (there is no i8042 on aarch64)");
	return -ENOTSUP;
}

int arch_setup_devices(struct vm *vm)
{
	int r = bus_register(&vm->mmio, LAYOUT_SERIAL, 8, &serial_ops, &vm->serial);

	return r ? r : bus_register(&vm->mmio, LAYOUT_BOOT_TIMER, 1, &vm_boot_timer_ops, vm);
}

int arch_vm_load(struct vm *vm, const uint8_t *img, size_t img_len, const struct kernel_info *ki,
		 const uint8_t *initrd, size_t initrd_len)
{
	(void)vm;
	(void)img;
	(void)img_len;
	(void)ki;
	(void)initrd;
	(void)initrd_len;
	return -ENOSYS;
}

int arch_vcpu_setup(struct vcpu *v)
{
	(void)v;
	return -ENOSYS;
}

void arch_report_crash(struct vcpu *v, const char *what)
{
	log_err("vCPU %u: %s", v->index, what);
}

void arch_vm_destroy(struct vm *vm)
{
	if (vm->arch.has_gic)
		close(vm->arch.gic_fd);
	vm->arch.has_gic = false;
}
