// SPDX-License-Identifier: Apache-2.0
/*
 * x86_64 behind vmm/arch.h: the in-kernel PIC/IOAPIC/LAPIC and PIT, RAM
 * split around the MMIO gap below 4 GiB, KVM's CPUID and the CPU template,
 * COM1 and the i8042 on port I/O, and the Linux/PVH boot with ACPI and MP
 * tables.  vm.c calls these in the order arch.h gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "acpi.h"
#include "arch.h"
#include "boot.h"
#include "mptable.h"
#include "vm.h"

#define KVM_TSS_ADDR	      0xfffbd000ull /* 3 pages KVM needs below 4 GiB, inside the gap */
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ull
#define CPUID_MAX_ENTRIES     256

const struct kvm_cap_req arch_kvm_caps[] = {
    {KVM_CAP_IRQCHIP, "IRQCHIP"},     {KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR"},
    {KVM_CAP_PIT2, "PIT2"},	      {KVM_CAP_TSC_DEADLINE_TIMER, "TSC_DEADLINE_TIMER"},
    {KVM_CAP_EXT_CPUID, "EXT_CPUID"},
};
const size_t arch_nr_kvm_caps = ARRAY_SIZE(arch_kvm_caps);

int arch_vm_pre_init(int vm_fd)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int r;

	r = kvm_ioctl(vm_fd, KVM_SET_TSS_ADDR, (void *)KVM_TSS_ADDR);
	if (r >= 0)
		r = kvm_ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
	if (r >= 0)
		r = kvm_ioctl(vm_fd, KVM_CREATE_IRQCHIP, NULL);
	if (r >= 0)
		r = kvm_ioctl(vm_fd, KVM_CREATE_PIT2, &pit);
	if (r < 0) {
		log_err("KVM VM set-up (TSS, irqchip, PIT): %s", strerror(-r));
		return r;
	}
	return 1;
}

int arch_vm_init(struct vm *vm)
{
	int r = arch_vm_pre_init(vm->vm_fd);

	return r < 0 ? r : 0;
}

static int get_supported_cpuid(struct vm *vm)
{
	struct kvm_cpuid2 *c;
	int r;

	c = vm->arch.cpuid = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	r = kvm_ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
	return r < 0 ? r : 0;
}

/* CPUID 0x80000008 EAX[7:0]: the physical address width the guest sees. */
static unsigned guest_phys_bits(const struct kvm_cpuid2 *c)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			return c->entries[i].eax & 0xff;
	return 36;
}

int arch_vm_cpu_init(struct vm *vm, unsigned *phys_bits)
{
	int r = get_supported_cpuid(vm);

	if (r) {
		log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(-r));
		return r;
	}
	r = vm_apply_cpu_template(vm);
	if (r)
		return r;
	*phys_bits = guest_phys_bits(vm->arch.cpuid);
	return 0;
}

int arch_vcpus_created(struct vm *vm)
{
	(void)vm; /* the APs wait for their SIPI in KVM's reset state */
	return 0;
}

int vm_ctrl_alt_del(struct vm *vm)
{
	return i8042_ctrl_alt_del(&vm->i8042);
}

static void i8042_reset(void *opaque)
{
	log_info("guest reset via i8042");
	vm_request_exit(opaque, EXIT_GUEST_OK);
}

/* COM1 and the i8042 on their ISA ports and lines, and the boot timer's port. */
int arch_setup_devices(struct vm *vm)
{
	int fd, r = i8042_init(&vm->i8042, i8042_reset, vm);

	if (r)
		return r;
	vm->arch.i8042_ready = true;
	/* IRQ 1 for keyboard input (SendCtrlAltDel). */
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd >= 0) {
		struct kvm_irqfd kirq = {.fd = (uint32_t)fd, .gsi = IRQ_KBD};

		if (kvm_ioctl(vm->vm_fd, KVM_IRQFD, &kirq) == 0)
			vm->i8042.irq_fd = fd;
		else
			close(fd);
	}
	r = bus_register(&vm->pio, PORT_COM1, 8, &serial_ops, &vm->serial);
	if (!r)
		r = bus_register(&vm->pio, PORT_I8042_DATA, 1, &i8042_data_ops, &vm->i8042);
	if (!r)
		r = bus_register(&vm->pio, PORT_I8042_CMD, 1, &i8042_cmd_ops, &vm->i8042);
	if (!r)
		r = bus_register(&vm->pio, PORT_BOOT_TIMER, 1, &vm_boot_timer_ops, vm);
	return r;
}

/*
 * The ACPI tables, from the devices as virtio_devs.c placed them, and the
 * VM generation ID they describe.  The MP table stays for kernels without
 * ACPI; a kernel with it takes the MADT.
 */
static int write_acpi(struct vm *vm, uint64_t *rsdp)
{
	struct acpi_mmio_dev devs[MAX_VIRTIO_DEVS];
	struct acpi_config c = {
	    .nr_cpus = vm->nr_vcpus,
	    .virtio = devs,
	    .nr_virtio = vm->nr_devs,
	    .vmgenid = true,
	    .vmgenid_gpa = LAYOUT_VMGENID,
	    .ged_gsi = IRQ_GED,
	};
	uint8_t buf[ACPI_TABLES_MAX];
	int r;

	for (unsigned i = 0; i < vm->nr_devs; i++)
		devs[i] = (struct acpi_mmio_dev){vm->dev[i].base, VIRTIO_MMIO_SIZE, vm->dev[i].gsi};
	r = acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &c);
	if (r >= 0 && LAYOUT_ACPI + (uint64_t)r > LAYOUT_ACPI_END)
		r = -ENOSPC;
	if (r >= 0)
		r = gm_write(&vm->mem, LAYOUT_ACPI, buf, (uint64_t)r);
	if (r < 0) {
		log_err("ACPI tables: %s", strerror(-r));
		return r;
	}
	*rsdp = LAYOUT_ACPI;
	return vmgenid_boot(vm, LAYOUT_VMGENID);
}

int arch_vm_load(struct vm *vm, const uint8_t *img, size_t img_len, const struct kernel_info *ki,
		 const uint8_t *initrd, size_t initrd_len)
{
	struct boot_config bc = {
	    .ki = ki,
	    .img = img,
	    .img_len = img_len,
	    .cmdline = vm->cmdline,
	    .mem_size = vm->cfg->mem_mib << 20,
	    .initrd_size = initrd_len,
	};
	uint8_t mp[1024];
	const char *why;
	int r;

	r = kernel_load(&vm->mem, img, img_len, ki, &why);
	if (r) {
		log_err("%s: %s", vm->cfg->kernel, why);
		return r;
	}
	if (initrd) {
		r = boot_place_initrd(ki, bc.mem_size, initrd_len, &bc.initrd_gpa);
		if (!r)
			r = gm_write(&vm->mem, bc.initrd_gpa, initrd, initrd_len);
		if (r) {
			log_err("%s: initrd (%zu bytes) does not fit in guest memory below the "
				"kernel's limit",
				vm->cfg->initrd, initrd_len);
			return r;
		}
	}
	vm->arch.entry.pvh = ki->has_pvh;
	vm->arch.entry.rip = ki->has_pvh ? ki->pvh_entry : ki->entry64;
	if (!vm->cfg->no_acpi) {
		r = write_acpi(vm, &bc.rsdp_gpa);
		if (r)
			return r;
	}
	r = boot_setup(&vm->mem, &bc, vm->arch.entry.pvh);
	if (r) {
		log_err(r == -E2BIG
			    ? "kernel command line longer than the kernel accepts (%u bytes)"
			    : "boot structures do not fit in guest memory (%u)",
			ki->cmdline_max);
		return r;
	}
	r = mptable_build(mp, sizeof(mp), LAYOUT_EBDA, vm->nr_vcpus);
	if (r >= 0)
		r = gm_write(&vm->mem, LAYOUT_EBDA, mp, (uint64_t)r);
	if (r < 0) {
		log_err("MP table: %s", strerror(-r));
		return r;
	}
	log_debug("boot: %s entry at 0x%llx", vm->arch.entry.pvh ? "PVH" : "64-bit",
		  (unsigned long long)vm->arch.entry.rip);
	return 0;
}

void arch_vm_destroy(struct vm *vm)
{
	if (vm->arch.i8042_ready) {
		if (vm->i8042.irq_fd >= 0)
			close(vm->i8042.irq_fd);
		i8042_destroy(&vm->i8042);
		vm->arch.i8042_ready = false;
	}
	free(vm->arch.cpuid);
	vm->arch.cpuid = NULL;
}
