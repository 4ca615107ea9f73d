// SPDX-License-Identifier: Apache-2.0
/*
 * The aarch64 guest's device tree (arm64_fdt.h), written with libfdt's
 * sequential-write API: the nodes a Linux arm64 guest needs to boot on KVM
 * (Documentation/devicetree/bindings: cpus with PSCI, the architected
 * timer, GICv3, memory, chosen) plus its devices.  Every interrupt names
 * the GIC; device interrupts are SPIs, edge-triggered, as KVM's irqfds
 * deliver them.
 */
#include <libfdt.h>
#include <stdio.h>

#include "arm64_fdt.h"

/* The architected timer's PPIs: secure and non-secure physical, virtual, hypervisor. */
static const uint32_t timer_ppis[] = {13, 14, 11, 10};
#define GIC_MAINTENANCE_PPI 9
/* MPIDR_EL1's affinity fields (Aff3, Aff2-0): what a cpu node's reg holds. */
#define MPIDR_AFF_MASK 0xff00ffffffull
/* The 8250's input clock: the PC's, so divisors mean what the guest expects. */
#define UART_CLOCK_HZ 1843200u

/* libfdt's errors as -errno: only running out of room is not a bug here. */
static int fdt_errno(int e)
{
	return e == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = {cpu_to_fdt64(base), cpu_to_fdt64(size)};

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int prop_irq(void *fdt, uint32_t type, uint32_t num, uint32_t flags)
{
	fdt32_t irq[3] = {cpu_to_fdt32(type), cpu_to_fdt32(num), cpu_to_fdt32(flags)};

	return fdt_property(fdt, "interrupts", irq, sizeof(irq));
}

/* Opens "NAME@BASE" (unit address in hex, as the bindings spell it). */
static int begin_at(void *fdt, const char *name, uint64_t base)
{
	char n[64];

	snprintf(n, sizeof(n), "%s@%llx", name, (unsigned long long)base);
	return fdt_begin_node(fdt, n);
}

static int add_cpus(void *fdt, const struct arm64_fdt_config *c)
{
	int r = fdt_begin_node(fdt, "cpus");

	r = r ? r : fdt_property_u32(fdt, "#address-cells", 2);
	r = r ? r : fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; !r && i < c->nr_cpus; i++) {
		uint64_t mpidr = c->mpidr[i] & MPIDR_AFF_MASK;

		r = begin_at(fdt, "cpu", mpidr);
		r = r ? r : fdt_property_string(fdt, "device_type", "cpu");
		r = r ? r : fdt_property_string(fdt, "compatible", "arm,arm-v8");
		r = r ? r : fdt_property_string(fdt, "enable-method", "psci");
		r = r ? r : fdt_property_u64(fdt, "reg", mpidr);
		r = r ? r : fdt_end_node(fdt);
	}
	return r ? r : fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct arm64_fdt_config *c)
{
	fdt64_t reg[4] = {cpu_to_fdt64(c->gicd_base), cpu_to_fdt64(c->gicd_size),
			  cpu_to_fdt64(c->gicr_base), cpu_to_fdt64(c->gicr_size)};
	int r = begin_at(fdt, "intc", c->gicd_base);

	r = r ? r : fdt_property_string(fdt, "compatible", "arm,gic-v3");
	r = r ? r : fdt_property(fdt, "interrupt-controller", NULL, 0);
	r = r ? r : fdt_property_u32(fdt, "#interrupt-cells", 3);
	r = r ? r : fdt_property(fdt, "reg", reg, sizeof(reg));
	r = r ? r : fdt_property_u32(fdt, "phandle", ARM64_FDT_PHANDLE_GIC);
	r = r ? r : prop_irq(fdt, ARM64_FDT_GIC_PPI, GIC_MAINTENANCE_PPI, ARM64_FDT_IRQ_LEVEL_HIGH);
	return r ? r : fdt_end_node(fdt);
}

static int add_timer_psci(void *fdt)
{
	fdt32_t irq[3 * ARRAY_SIZE(timer_ppis)];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(timer_ppis); i++) {
		irq[3 * i] = cpu_to_fdt32(ARM64_FDT_GIC_PPI);
		irq[3 * i + 1] = cpu_to_fdt32(timer_ppis[i]);
		irq[3 * i + 2] = cpu_to_fdt32(ARM64_FDT_IRQ_LEVEL_HIGH);
	}
	r = fdt_begin_node(fdt, "timer");
	r = r ? r : fdt_property_string(fdt, "compatible", "arm,armv8-timer");
	r = r ? r : fdt_property(fdt, "always-on", NULL, 0);
	r = r ? r : fdt_property(fdt, "interrupts", irq, sizeof(irq));
	r = r ? r : fdt_end_node(fdt);
	/* PSCI 0.2 through HVC: KVM implements it (KVM_ARM_VCPU_PSCI_0_2). */
	r = r ? r : fdt_begin_node(fdt, "psci");
	r = r ? r : fdt_property_string(fdt, "compatible", "arm,psci-0.2");
	r = r ? r : fdt_property_string(fdt, "method", "hvc");
	return r ? r : fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct arm64_fdt_config *c, const char *stdout_path)
{
	int r = fdt_begin_node(fdt, "chosen");

	if (!r && c->cmdline)
		r = fdt_property_string(fdt, "bootargs", c->cmdline);
	if (!r && c->initrd_size) {
		r = fdt_property_u64(fdt, "linux,initrd-start", c->initrd_start);
		r = r ? r
		      : fdt_property_u64(fdt, "linux,initrd-end", c->initrd_start + c->initrd_size);
	}
	r = r ? r : fdt_property_string(fdt, "stdout-path", stdout_path);
	return r ? r : fdt_end_node(fdt);
}

static int add_dev(void *fdt, const char *name, const char *compatible,
		   const struct arm64_fdt_dev *d)
{
	int r = begin_at(fdt, name, d->base);

	r = r ? r : fdt_property_string(fdt, "compatible", compatible);
	r = r ? r : prop_reg(fdt, d->base, d->size);
	return r ? r : prop_irq(fdt, ARM64_FDT_GIC_SPI, d->gsi, ARM64_FDT_IRQ_EDGE_RISING);
}

/*
 * The VM Generation ID (bindings/rng/microsoft,vmgenid.yaml; Linux 6.10+
 * binds drivers/virt/vmgenid.c to it) and the RAM it lives in, withheld
 * from the guest's allocator: the driver ioremaps the id, which arm64
 * refuses for RAM in its linear map, hence no-map.
 */
static int add_vmgenid(void *fdt, const struct arm64_fdt_config *c)
{
	int r = fdt_begin_node(fdt, "reserved-memory");

	r = r ? r : fdt_property_u32(fdt, "#address-cells", 2);
	r = r ? r : fdt_property_u32(fdt, "#size-cells", 2);
	r = r ? r : fdt_property(fdt, "ranges", NULL, 0);
	r = r ? r : begin_at(fdt, "vmgenid", c->vmgenid.base);
	r = r ? r : prop_reg(fdt, c->vmgenid.base, c->vmgenid_reserve);
	r = r ? r : fdt_property(fdt, "no-map", NULL, 0);
	r = r ? r : fdt_end_node(fdt);
	r = r ? r : fdt_end_node(fdt);
	r = r ? r : add_dev(fdt, "vmgenid", "microsoft,vmgenid", &c->vmgenid);
	return r ? r : fdt_end_node(fdt);
}

static bool config_ok(const struct arm64_fdt_config *c)
{
	const struct arm64_fdt_dev *g = &c->vmgenid;

	if (!c->nr_cpus || c->nr_cpus > ARM64_FDT_MAX_CPUS || !c->mpidr || !c->mem_size ||
	    !c->gicd_size || !c->gicr_size || !c->serial.size || (c->nr_virtio && !c->virtio))
		return false;
	/* The id inside the reserved block, the block inside RAM (checked against wrapping). */
	if (g->size && (g->size > c->vmgenid_reserve || g->base < c->mem_start ||
			c->vmgenid_reserve > c->mem_size ||
			g->base - c->mem_start > c->mem_size - c->vmgenid_reserve))
		return false;
	for (unsigned i = 0; i < c->nr_virtio; i++)
		if (!c->virtio[i].size)
			return false;
	return true;
}

int arm64_fdt_build(void *buf, size_t cap, const struct arm64_fdt_config *c)
{
	char stdout_path[64];
	int r;

	if (!config_ok(c))
		return -EINVAL;
	if (cap > INT32_MAX)
		cap = INT32_MAX;
	snprintf(stdout_path, sizeof(stdout_path), "/uart@%llx",
		 (unsigned long long)c->serial.base);
	r = fdt_create(buf, (int)cap);
	r = r ? r : fdt_finish_reservemap(buf);
	r = r ? r : fdt_begin_node(buf, "");
	r = r ? r : fdt_property_string(buf, "compatible", "linux,dummy-virt");
	r = r ? r : fdt_property_u32(buf, "#address-cells", 2);
	r = r ? r : fdt_property_u32(buf, "#size-cells", 2);
	r = r ? r : fdt_property_u32(buf, "interrupt-parent", ARM64_FDT_PHANDLE_GIC);
	r = r ? r : add_cpus(buf, c);
	r = r ? r : begin_at(buf, "memory", c->mem_start);
	r = r ? r : fdt_property_string(buf, "device_type", "memory");
	r = r ? r : prop_reg(buf, c->mem_start, c->mem_size);
	r = r ? r : fdt_end_node(buf);
	r = r ? r : add_chosen(buf, c, stdout_path);
	r = r ? r : add_gic(buf, c);
	r = r ? r : add_timer_psci(buf);
	/* The 8250: its clock, so the guest's baud divisors come out as on a PC. */
	r = r ? r : add_dev(buf, "uart", "ns16550a", &c->serial);
	r = r ? r : fdt_property_u32(buf, "clock-frequency", UART_CLOCK_HZ);
	r = r ? r : fdt_end_node(buf);
	for (unsigned i = 0; !r && i < c->nr_virtio; i++) {
		r = add_dev(buf, "virtio_mmio", "virtio,mmio", &c->virtio[i]);
		r = r ? r : fdt_property(buf, "dma-coherent", NULL, 0);
		r = r ? r : fdt_end_node(buf);
	}
	if (c->vmgenid.size)
		r = r ? r : add_vmgenid(buf, c);
	r = r ? r : fdt_end_node(buf);
	r = r ? r : fdt_finish(buf);
	return r ? fdt_errno(r) : (int)fdt_totalsize(buf);
}
