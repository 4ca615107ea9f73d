/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arm64_fdt.h - the aarch64 guest's device tree, built with libfdt from a plain
 * description of the machine (fdt.c).  Pure: no KVM, no guest memory, so it
 * is unit-tested on any host by parsing the blob back.
 */
#ifndef EMBER_ARM64_FDT_H
#define EMBER_ARM64_FDT_H

#include "ember.h"

#define ARM64_FDT_MAX_CPUS 512u

/* A device on the MMIO bus with one SPI (a GSI: KVM maps GSI n to SPI n). */
struct arm64_fdt_dev {
	uint64_t base, size;
	unsigned gsi;
};

struct arm64_fdt_config {
	unsigned nr_cpus;
	const uint64_t *mpidr; /* nr_cpus MPIDR_EL1 values, from KVM */
	uint64_t mem_start, mem_size;
	const char *cmdline;		    /* NULL: none */
	uint64_t initrd_start, initrd_size; /* size 0: no initrd */
	/* GICv3: distributor and the redistributors of all vCPUs. */
	uint64_t gicd_base, gicd_size, gicr_base, gicr_size;
	struct arm64_fdt_dev serial; /* the 8250 (ns16550a); stdout-path names it */
	const struct arm64_fdt_dev *virtio;
	unsigned nr_virtio;
	/*
	 * The VM Generation ID ("microsoft,vmgenid": its 16 bytes at
	 * vmgenid.base and its SPI) and how much RAM from there is kept from
	 * the guest's own use (reserved-memory, no-map: Linux ioremaps it).
	 * vmgenid.size 0: none.
	 */
	struct arm64_fdt_dev vmgenid;
	uint64_t vmgenid_reserve;
};

/*
 * Writes the tree into @buf (@cap bytes): its size, -ENOSPC when it does
 * not fit, -EINVAL for a configuration no guest could boot with (no CPU,
 * no memory, a device without registers).
 */
int arm64_fdt_build(void *buf, size_t cap, const struct arm64_fdt_config *c);

/* The interrupt specifier's first cell (GIC bindings) and its flags. */
#define ARM64_FDT_GIC_SPI	  0u
#define ARM64_FDT_GIC_PPI	  1u
#define ARM64_FDT_IRQ_EDGE_RISING 1u
#define ARM64_FDT_IRQ_LEVEL_HIGH  4u
/* The GIC's phandle: every interrupt-parent. */
#define ARM64_FDT_PHANDLE_GIC 1u

#endif /* EMBER_ARM64_FDT_H */
