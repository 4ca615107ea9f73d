/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aarch64 guest-physical memory map, after Firecracker's on aarch64: RAM
 * from 2 GiB up, devices in the GiB below it, the GICv3 at the top of the
 * GiB below that.  The kernel Image goes at the start of RAM (booting.rst:
 * a 2 MiB aligned base plus its text_offset), the device tree in the last
 * 2 MiB of RAM and the initrd just below it.
 */
#ifndef EMBER_LAYOUT_H
#define EMBER_LAYOUT_H

#include "ember.h"

#define LAYOUT_DRAM_START  0x80000000ull     /* 2 GiB */
#define LAYOUT_DRAM_END	   0x00ff80000000ull /* 1022 GiB: RAM stays below */
#define LAYOUT_MMIO_START  0x40000000ull     /* 1 GiB: platform and virtio devices */
#define LAYOUT_FDT_MAX	   MiB(2)	     /* booting.rst: at most 2 MiB, 8-byte aligned */
#define LAYOUT_CMDLINE_MAX 2048u	     /* COMMAND_LINE_SIZE on arm64, with the NUL */

/* GICv3: the distributor right below 1 GiB, one redistributor per vCPU below it. */
#define LAYOUT_GICD_SIZE	   0x10000ull
#define LAYOUT_GICR_SIZE	   0x20000ull /* per vCPU: RD_base and SGI_base frames */
#define LAYOUT_GICD_BASE	   (LAYOUT_MMIO_START - LAYOUT_GICD_SIZE)
#define LAYOUT_GICR_BASE(nr_vcpus) (LAYOUT_GICD_BASE - (uint64_t)(nr_vcpus)*LAYOUT_GICR_SIZE)

/*
 * Platform devices, one 4 KiB page each from 1 GiB: the 8250 UART (ns16550a,
 * so console=ttyS0 works as on x86) and the boot timer.  Interrupts are GSIs:
 * KVM's default routing on arm64 sends GSI n to SPI n (INTID 32 + n), which
 * is what the device tree's <GIC_SPI n> names.
 */
#define LAYOUT_SERIAL	  0x40002000ull
#define LAYOUT_BOOT_TIMER 0x40003000ull
#define IRQ_SERIAL	  4u
#define ARCH_SERIAL_GSI	  IRQ_SERIAL /* vm.c's serial irqfd */

#define MAX_VCPUS 32u

/* virtio-mmio slots: 4 KiB each, one SPI each from 5, as on x86. */
#define LAYOUT_VIRTIO_BASE 0x40010000ull
#define LAYOUT_VIRTIO_SLOT 0x1000ull
#define IRQ_VIRTIO_FIRST   5u
#define MAX_VIRTIO_DEVS	   16u
/* No virtio_mmio.device= hints: the device tree lists them, and Linux's IRQ numbers are not GSIs.
 */
#define ARCH_CMDLINE_DEVICE_HINTS 0
/* The GSIs ember hands out (vmgenid.c bounds its line with this name). */
#define IOAPIC_PINS 64u
/*
 * The VM Generation ID: its 16 bytes start RAM's last 64 KiB, a block the
 * device tree withholds from the guest (fdt.c: no-map, whatever the guest's
 * page size), and its line is the last SPI, the GED's on x86.
 */
#define LAYOUT_VMGENID_BLOCK 0x10000ull
#define IRQ_GED		     (IOAPIC_PINS - 1)
_Static_assert(IRQ_VIRTIO_FIRST + MAX_VIRTIO_DEVS <= IRQ_GED, "the GED's line is past virtio's");

#endif /* EMBER_LAYOUT_H */
