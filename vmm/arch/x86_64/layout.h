/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86_64 guest-physical memory map.  Low memory follows the PC layout the
 * Linux boot protocol expects; everything ember writes before boot lives
 * below 1 MiB, the kernel above it.
 */
#ifndef EMBER_LAYOUT_H
#define EMBER_LAYOUT_H

#include "ember.h"

#define LAYOUT_GDT	   0x500ull  /* boot GDT */
#define LAYOUT_IDT	   0x540ull  /* empty IDT: any early fault is a triple fault */
#define LAYOUT_PVH_INFO	   0x6000ull /* struct hvm_start_info */
#define LAYOUT_PVH_MODLIST 0x6040ull /* one hvm_modlist_entry: the initrd */
#define LAYOUT_PVH_MEMMAP  0x6100ull /* hvm_memmap_table_entry[] */
#define LAYOUT_ZERO_PAGE   0x7000ull /* struct boot_params */
#define LAYOUT_BOOT_STACK  0x8ff0ull /* rsp for the 64-bit entry */
#define LAYOUT_PML4	   0x9000ull /* identity page tables for the first 1 GiB */
#define LAYOUT_PDPT	   0xa000ull
#define LAYOUT_PD	   0xb000ull
#define LAYOUT_CMDLINE	   0x20000ull  /* kernel command line */
#define LAYOUT_CMDLINE_MAX 2048u       /* COMMAND_LINE_SIZE on x86, with the NUL */
#define LAYOUT_EBDA	   0x9fc00ull  /* MP table; e820 RAM ends here below 1 MiB */
#define LAYOUT_HIGH_MEM	   0x100000ull /* 1 MiB: bzImage protected-mode code */
/*
 * ACPI (vmm/acpi.c): the RSDP at the start of the BIOS area, where a kernel
 * that is not told its address scans for it, the tables after it; and the
 * 16-byte VM Generation ID on a page of its own.  Linux keeps 640 KiB-1 MiB
 * out of its RAM whatever the e820 map says, so nothing here is reused.
 */
#define LAYOUT_ACPI	0xe0000ull
#define LAYOUT_ACPI_END 0xff000ull
#define LAYOUT_VMGENID	0xff000ull

/* Devices live in [MMIO_GAP_START, 4 GiB); RAM beyond it continues at 4 GiB. */
#define LAYOUT_MMIO_GAP_START 0xc0000000ull
#define LAYOUT_MMIO_GAP_END   0x100000000ull
#define LAYOUT_IOAPIC	      0xfec00000ull
#define LAYOUT_LAPIC	      0xfee00000ull

/* Identity-mapped by the boot page tables (512 x 2 MiB). */
#define LAYOUT_IDENT_MAP_END GiB(1)

/* ISA ports and lines. */
#define PORT_COM1	0x3f8u
#define IRQ_COM1	4u
#define ARCH_SERIAL_GSI IRQ_COM1 /* vm.c's serial irqfd */
#define PORT_I8042_DATA 0x60u
#define IRQ_KBD		1u
#define PORT_I8042_CMD	0x64u
#define PORT_BOOT_TIMER 0x440u /* guest init writes a byte here when it starts */

#define MAX_VCPUS 32u

/*
 * virtio-mmio slots: 4 KiB each from 0xd0000000 (inside the MMIO gap), one
 * IOAPIC pin each from 5 (0-4 are the PIT, keyboard, cascade and COM1).
 * The IOAPIC has 24 pins, which bounds the count.
 */
#define LAYOUT_VIRTIO_BASE 0xd0000000ull
#define LAYOUT_VIRTIO_SLOT 0x1000ull
#define IRQ_VIRTIO_FIRST   5u
/* virtio_devs.c adds virtio_mmio.device=SIZE@BASE:IRQ to the command line (IRQ = GSI here). */
#define ARCH_CMDLINE_DEVICE_HINTS 1
#define MAX_VIRTIO_DEVS		  16u
#define IOAPIC_PINS		  24u
/* The ACPI Generic Event Device's line (VM Generation ID changes): the last pin. */
#define IRQ_GED 23u
_Static_assert(IRQ_VIRTIO_FIRST + MAX_VIRTIO_DEVS <= IRQ_GED && IRQ_GED < IOAPIC_PINS,
	       "the GED's pin must be past virtio's, on the IOAPIC");

#endif /* EMBER_LAYOUT_H */
