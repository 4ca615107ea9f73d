// SPDX-License-Identifier: Apache-2.0
/*
 * MP tables: floating pointer, then the configuration table with one
 * processor entry per vCPU, one ISA bus, the IOAPIC, an interrupt entry per
 * IOAPIC pin and the two local interrupts (LINT0 ExtINT, LINT1 NMI).  Linux
 * scans the last KiB of base memory for the floating pointer, so the caller
 * puts this at LAYOUT_EBDA.
 */
#include <string.h>

#include "layout.h"
#include "mptable.h"

#define MP_SPEC_REV	4 /* 1.4 */
#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VER	0x11

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_IRQ_INT = 0, MP_IRQ_NMI = 1, MP_IRQ_EXTINT = 3 };

struct mpf_intel { /* floating pointer structure, 16 bytes */
	char signature[4];
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table { /* configuration table header, 44 bytes */
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc { /* also the layout of a local interrupt entry */
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

#define CPU_ENABLED	   1
#define CPU_BOOTPROCESSOR  2
#define CPU_FEATURE_STEP   0x600 /* family 6: a value, not a claim the guest relies on */
#define CPU_FEATURE_FLAGS  0x201 /* FPU | APIC */
#define MPC_APIC_USABLE	   1
#define MP_ALL_LOCAL_APICS 0xff

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

size_t mptable_size(unsigned nr_cpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       nr_cpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (MPTABLE_NR_IRQS + 2) * sizeof(struct mpc_intsrc);
}

int mptable_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned nr_cpus)
{
	struct mpf_intel *mpf = (struct mpf_intel *)buf;
	struct mpc_table *mpc = (struct mpc_table *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1);
	uint8_t ioapic_id = (uint8_t)nr_cpus; /* right after the LAPIC ids */
	uint16_t entries = 0;
	size_t size = mptable_size(nr_cpus);

	if (!nr_cpus || nr_cpus > MAX_VCPUS || gpa + size > UINT32_MAX)
		return -EINVAL;
	if (len < size)
		return -ENOSPC;
	memset(buf, 0, size);

	for (unsigned i = 0; i < nr_cpus; i++, entries++) {
		struct mpc_cpu c = {
		    .type = MP_PROCESSOR,
		    .apicid = (uint8_t)i,
		    .apicver = MP_APIC_VERSION,
		    .cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
		    .cpufeature = CPU_FEATURE_STEP,
		    .featureflag = CPU_FEATURE_FLAGS,
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}

	struct mpc_bus bus = {
	    .type = MP_BUS, .busid = 0, .bustype = {'I', 'S', 'A', ' ', ' ', ' '}};
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	entries++;

	struct mpc_ioapic io = {
	    .type = MP_IOAPIC,
	    .apicid = ioapic_id,
	    .apicver = MP_IOAPIC_VER,
	    .flags = MPC_APIC_USABLE,
	    .apicaddr = (uint32_t)LAYOUT_IOAPIC,
	};
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	entries++;

	/* Identity routing, as KVM's default GSI routing has it: ISA IRQ n -> pin n. */
	for (unsigned irq = 0; irq < MPTABLE_NR_IRQS; irq++, entries++) {
		struct mpc_intsrc src = {
		    .type = MP_INTSRC,
		    .irqtype = MP_IRQ_INT,
		    .srcbusirq = (uint8_t)irq,
		    .dstapic = ioapic_id,
		    .dstirq = (uint8_t)irq,
		};
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
	}

	const struct mpc_intsrc lint[2] = {
	    {.type = MP_LINTSRC, .irqtype = MP_IRQ_EXTINT, .dstapic = 0, .dstirq = 0},
	    {.type = MP_LINTSRC, .irqtype = MP_IRQ_NMI, .dstapic = MP_ALL_LOCAL_APICS, .dstirq = 1},
	};
	memcpy(p, lint, sizeof(lint));
	p += sizeof(lint);
	entries += 2;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->spec = MP_SPEC_REV;
	memcpy(mpc->oem, "EMBER   ", 8);
	memcpy(mpc->productid, "EMBER-VM    ", 12);
	mpc->oemcount = entries;
	mpc->lapic = (uint32_t)LAYOUT_LAPIC;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = MP_SPEC_REV;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return (int)size;
}
