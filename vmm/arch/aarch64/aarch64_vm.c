// SPDX-License-Identifier: Apache-2.0
/*
 * aarch64 behind vmm/arch.h: an in-kernel GICv3 and the architected timer,
 * RAM from 2 GiB (layout.h), the 8250 UART and the boot timer on the MMIO
 * bus, and the Linux arm64 boot (booting.rst): the Image at the start of
 * RAM, the device tree (fdt.c) in RAM's last 2 MiB, the VM Generation ID's
 * 64 KiB block below it (outside the tree's 2 MiB: booting.rst wants that
 * block mapped with no special attributes, and the id's is device memory
 * to the guest), the initrd below that.
 * The vCPUs' own set-up is in aarch64_vcpu.c.
 *
 * Order, as KVM wants it: the GIC device is created with the VM (so irqfds
 * can be bound to it), initialised once every vCPU exists, and the vCPUs
 * are initialised (KVM_ARM_VCPU_INIT) after that, which is when KVM gives
 * them the MPIDR values the device tree names.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "arm64_fdt.h"
#include "vm.h"
#include "vmgenid.h"

/* KVM_DEV_ARM_VGIC_GRP_NR_IRQS counts the 32 private interrupts too. */
#define GIC_NR_IRQS (32u + IOAPIC_PINS)
#define UART_SIZE   8u

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

static int gic_attr(struct vm *vm, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uintptr_t)val};

	return kvm_ioctl(vm->arch.gic_fd, KVM_SET_DEVICE_ATTR, &a);
}

/* Nothing ahead: the GIC's redistributors, below, are laid out per vCPU. */
int arch_vm_pre_init(int vm_fd)
{
	(void)vm_fd;
	return 0;
}

/* The GICv3 (the only vGIC the KVM we test on emulates) and where it sits. */
int arch_vm_init(struct vm *vm)
{
	struct kvm_create_device cd = {.type = KVM_DEV_TYPE_ARM_VGIC_V3};
	struct kvm_vcpu_init pref;
	const uint64_t dist = LAYOUT_GICD_BASE, redist = LAYOUT_GICR_BASE(vm->cfg->vcpus);
	const uint32_t nr_irqs = GIC_NR_IRQS;
	int r = kvm_ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &pref);

	if (r < 0) {
		log_err("KVM_ARM_PREFERRED_TARGET: %s", strerror(-r));
		return r;
	}
	vm->arch.target = pref.target;
	r = kvm_ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd);
	if (r < 0) {
		log_err("KVM has no in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3): %s", strerror(-r));
		return r;
	}
	vm->arch.gic_fd = (int)cd.fd;
	vm->arch.has_gic = true;
	r = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (r >= 0)
		r = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	if (r >= 0)
		r = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (r < 0) {
		log_err("GICv3 set-up (addresses, %u interrupts): %s", nr_irqs, strerror(-r));
		return r;
	}
	return 0;
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
	if (arch_ram_end(vm->cfg->mem_mib << 20) > LAYOUT_DRAM_END) {
		log_err("--mem %llu MiB: aarch64 guest RAM ends at 0x%llx",
			(unsigned long long)vm->cfg->mem_mib, (unsigned long long)LAYOUT_DRAM_END);
		return -EINVAL;
	}
	*phys_bits = 40; /* KVM's IPA size on arm64 when KVM_CREATE_VM asks for none */
	return 0;
}

int vm_ctrl_alt_del(struct vm *vm)
{
	(void)vm;
	log_err("SendCtrlAltDel is x86-only (there is no i8042 on aarch64)");
	return -ENOTSUP;
}

/*
 * Every vCPU exists: the GIC can be initialised (KVM_IRQFD refuses with
 * EAGAIN until it is), then the vCPUs (aarch64_vcpu.c).
 */
int arch_vcpus_created(struct vm *vm)
{
	int r = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);

	if (r < 0) {
		log_err("GICv3 initialisation: %s", strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		r = arm64_vcpu_init(&vm->vcpus[i]);
		if (r) {
			log_err("vCPU %u: KVM_ARM_VCPU_INIT: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

int arch_setup_devices(struct vm *vm)
{
	int r = bus_register(&vm->mmio, LAYOUT_SERIAL, UART_SIZE, &serial_ops, &vm->serial);

	return r ? r : bus_register(&vm->mmio, LAYOUT_BOOT_TIMER, 1, &vm_boot_timer_ops, vm);
}

static int write_fdt(struct vm *vm, uint64_t initrd_gpa, uint64_t initrd_len, uint64_t genid)
{
	struct arm64_fdt_dev devs[MAX_VIRTIO_DEVS];
	uint64_t mpidr[MAX_VCPUS];
	struct arm64_fdt_config c = {
	    .nr_cpus = vm->nr_vcpus,
	    .mpidr = mpidr,
	    .mem_start = LAYOUT_DRAM_START,
	    .mem_size = vm->cfg->mem_mib << 20,
	    .cmdline = vm->cmdline,
	    .initrd_start = initrd_gpa,
	    .initrd_size = initrd_len,
	    .gicd_base = LAYOUT_GICD_BASE,
	    .gicd_size = LAYOUT_GICD_SIZE,
	    .gicr_base = LAYOUT_GICR_BASE(vm->nr_vcpus),
	    .gicr_size = vm->nr_vcpus * LAYOUT_GICR_SIZE,
	    .serial = {LAYOUT_SERIAL, UART_SIZE, IRQ_SERIAL},
	    .virtio = devs,
	    .nr_virtio = vm->nr_devs,
	    .vmgenid = {genid, VMGENID_SIZE, IRQ_GED},
	    .vmgenid_reserve = LAYOUT_VMGENID_BLOCK,
	};
	void *buf = calloc(1, LAYOUT_FDT_MAX);
	int r = buf ? 0 : -ENOMEM;

	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++)
		r = arm64_vcpu_mpidr(&vm->vcpus[i], &mpidr[i]);
	for (unsigned i = 0; i < vm->nr_devs; i++)
		devs[i] = (struct arm64_fdt_dev){vm->dev[i].base, VIRTIO_MMIO_SIZE, vm->dev[i].gsi};
	if (!r)
		r = arm64_fdt_build(buf, LAYOUT_FDT_MAX, &c);
	if (r >= 0)
		r = gm_write(&vm->mem, vm->arch.fdt_gpa, buf, (uint64_t)r);
	free(buf);
	if (r < 0)
		log_err("device tree: %s", strerror(-r));
	return r < 0 ? r : 0;
}

int arch_vm_load(struct vm *vm, const uint8_t *img, size_t img_len, const struct kernel_info *ki,
		 const uint8_t *initrd, size_t initrd_len)
{
	uint64_t ram_end = arch_ram_end(vm->cfg->mem_mib << 20);
	uint64_t kernel = arm64_image_addr(ki, LAYOUT_DRAM_START), initrd_gpa = 0, genid;
	const char *why;
	int r;

	/* The tree in RAM's last 2 MiB block (booting.rst), past the kernel and its bss. */
	vm->arch.fdt_gpa = (ram_end - LAYOUT_FDT_MAX) & ~(ARM64_IMAGE_ALIGN - 1);
	genid = vm->arch.fdt_gpa - LAYOUT_VMGENID_BLOCK;
	if (ram_end < LAYOUT_DRAM_START + LAYOUT_FDT_MAX + LAYOUT_VMGENID_BLOCK ||
	    genid < kernel + ki->image_size) {
		log_err("%s: the kernel (%llu bytes with its bss) and the device tree do not fit "
			"in %llu MiB of guest memory",
			vm->cfg->kernel, (unsigned long long)ki->image_size,
			(unsigned long long)vm->cfg->mem_mib);
		return -EFAULT;
	}
	r = arm64_image_load(&vm->mem, img, img_len, ki, kernel, &why);
	if (r) {
		log_err("%s: %s", vm->cfg->kernel, why);
		return r;
	}
	if (initrd) {
		initrd_gpa = (genid - initrd_len) & ~(uint64_t)(GM_PAGE_SIZE - 1);
		if (initrd_len > genid || initrd_gpa < kernel + ki->image_size ||
		    gm_write(&vm->mem, initrd_gpa, initrd, initrd_len)) {
			log_err("%s: initrd (%zu bytes) does not fit in guest memory between the "
				"kernel and the device tree",
				vm->cfg->initrd, initrd_len);
			return -EFAULT;
		}
	}
	vm->arch.entry = kernel;
	r = write_fdt(vm, initrd_gpa, initrd_len, genid);
	if (r)
		return r;
	log_debug("boot: Image at 0x%llx, device tree at 0x%llx", (unsigned long long)kernel,
		  (unsigned long long)vm->arch.fdt_gpa);
	return vmgenid_boot(vm, genid);
}

void arch_vm_destroy(struct vm *vm)
{
	if (vm->arch.has_gic)
		close(vm->arch.gic_fd);
	vm->arch.has_gic = false;
}
