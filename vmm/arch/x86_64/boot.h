/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boot-time guest memory contents: e820 map, zero page (Linux 64-bit boot
 * protocol), PVH start info, identity page tables and the boot GDT.  These
 * only write guest memory; the matching vCPU register state is in vcpu.c.
 */
#ifndef EMBER_BOOT_H
#define EMBER_BOOT_H

#include "ember.h"
#include "loader.h"

/* e820 types, as in the zero page and the PVH memmap. */
#define E820_RAM      1
#define E820_RESERVED 2

struct e820_range {
	uint64_t addr, size;
	uint32_t type;
};

/* Boot GDT selectors: __BOOT_CS / __BOOT_DS of boot.rst, plus 32-bit code for PVH. */
#define GDT_SEL_CODE32 0x08
#define GDT_SEL_CODE64 0x10
#define GDT_SEL_DATA   0x18
#define GDT_SEL_TSS    0x20
#define GDT_ENTRIES    5

/* The 64-bit descriptors for the entries above, in GDT order. */
extern const uint64_t boot_gdt[GDT_ENTRIES];

/* Split guest RAM around the MMIO gap below 4 GiB. */
void mem_split(uint64_t mem_size, uint64_t *low, uint64_t *high);

/* Fills @out (capacity @max) with the guest's RAM map; returns the count or -ENOSPC. */
int e820_build(uint64_t mem_size, struct e820_range *out, unsigned max);

struct boot_config {
	const struct kernel_info *ki;
	const uint8_t *img; /* kernel image, for the bzImage setup header */
	size_t img_len;
	const char *cmdline;
	uint64_t mem_size;
	uint64_t initrd_gpa, initrd_size; /* size 0: no initrd */
	uint64_t rsdp_gpa;		  /* ACPI tables' root; 0: none */
};

/* Where an initrd of @size goes: page-aligned, as high as the kernel allows. */
int boot_place_initrd(const struct kernel_info *ki, uint64_t mem_size, uint64_t size,
		      uint64_t *gpa);

/*
 * Writes everything the entry the vCPU will use needs: command line, GDT,
 * and either the PVH start info or the zero page plus page tables.
 * Returns 0, -E2BIG (command line too long) or -EFAULT.
 */
int boot_setup(const struct guest_mem *gm, const struct boot_config *bc, bool pvh);

#endif /* EMBER_BOOT_H */
