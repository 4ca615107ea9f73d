/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acpi.h - ACPI tables for the guest (vmm/acpi.c): RSDP, XSDT, a
 * hardware-reduced FADT, MADT and a DSDT describing COM1, the i8042, every
 * virtio-mmio device and, optionally, the VM Generation ID with the Generic
 * Event Device that announces its changes.  Linux then finds the virtio
 * devices without virtio_mmio.device= hints and reseeds its RNG when a
 * snapshot is restored (vmgenid.c).  Kernels without ACPI use the MP table.
 */
#ifndef EMBER_ACPI_H
#define EMBER_ACPI_H

#include "ember.h"

struct acpi_mmio_dev {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

struct acpi_config {
	unsigned nr_cpus;
	const struct acpi_mmio_dev *virtio;
	unsigned nr_virtio;
	bool vmgenid;	      /* describe the VM Generation ID and the GED */
	uint64_t vmgenid_gpa; /* where its 16 bytes are */
	uint32_t ged_gsi;     /* the GED's interrupt */
};

/* Room the tables of any configuration ember allows take (MAX_VCPUS, 16 devices). */
#define ACPI_TABLES_MAX 4096u

/*
 * Builds every table into @buf as it will sit at guest address @gpa (the
 * tables point at each other by address), the RSDP first.  Returns the
 * bytes used, or -EINVAL (a configuration out of range) / -ENOSPC.
 */
int acpi_build(uint8_t *buf, size_t len, uint64_t gpa, const struct acpi_config *c);

/* Offsets inside what acpi_build() wrote, for its tests. */
struct acpi_layout {
	size_t rsdp, xsdt, fadt, madt, dsdt, end;
};
int acpi_build_layout(uint8_t *buf, size_t len, uint64_t gpa, const struct acpi_config *c,
		      struct acpi_layout *l);

/* Sum of @n bytes: an ACPI table with its checksum filled in sums to 0. */
uint8_t acpi_sum(const void *p, size_t n);

#endif /* EMBER_ACPI_H */
