// SPDX-License-Identifier: Apache-2.0
/*
 * ACPI tables (ACPI 6.5, chapter 5).  Hardware-reduced (FADT flag
 * HW_REDUCED_ACPI): no PM timer, GPE blocks or SCI, so ember emulates no
 * ACPI registers; events reach the guest through the Generic Event Device
 * (ACPI0013), an interrupt and an _EVT method.  With hardware-reduced ACPI
 * Linux does without the 8259 and numbers IOAPIC interrupts dynamically,
 * so every device with an interrupt must be in the DSDT, the legacy ones
 * too: COM1 (PNP0501) and the i8042 (PNP0303), and each virtio-mmio slot
 * (LNRO0005, the ID drivers/virtio/virtio_mmio.c matches).
 *
 * The MADT says what the MP table says (mptable.c): one enabled LAPIC per
 * vCPU, the IOAPIC after them, ISA interrupts 1:1 (no overrides), LINT1 NMI.
 */
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "layout.h"

#define HDR_LEN	 36u /* every table but the RSDP starts with this header */
#define RSDP_LEN 36u
#define FADT_LEN 276u /* ACPI 6.x, up to the hypervisor vendor identity */

/* FADT fields, by offset (ACPI 6.5, table 5.9). */
#define FADT_DSDT	   40
#define FADT_BOOT_ARCH	   109
#define FADT_FLAGS	   112
#define FADT_MINOR	   131
#define FADT_X_DSDT	   140
#define FADT_HYPERVISOR_ID 268

#define FADT_HW_REDUCED (1u << 20)
/* IA-PC boot architecture: an 8042 at 0x60/0x64 (i8042 probes it), no VGA. */
#define BOOT_ARCH_8042	 (1u << 1)
#define BOOT_ARCH_NO_VGA (1u << 2)

#define MADT_PCAT_COMPAT 1u /* there are 8259s (KVM's); Linux ignores them when reduced */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_LAPIC_NMI = 4 };

static const char oem_id[6] = {'E', 'M', 'B', 'E', 'R', ' '};
static const char oem_table[8] = {'E', 'M', 'B', 'E', 'R', 'V', 'M', ' '};

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t acpi_sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *b++);
	return s;
}

/* The common header; the checksum (byte 9) is set by seal() once the body is there. */
static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memset(t, 0, HDR_LEN);
	memcpy(t, sig, 4);
	le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, oem_id, 6);
	memcpy(t + 16, oem_table, 8);
	le32(t + 24, 1);	   /* OEM revision */
	memcpy(t + 28, "EMBR", 4); /* creator */
	le32(t + 32, 1);	   /* creator revision */
}

static void seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-acpi_sum(t, len);
}

static size_t align8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

static void build_rsdp(uint8_t *p, uint64_t xsdt)
{
	memset(p, 0, RSDP_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, oem_id, 6);
	p[15] = 2; /* revision: ACPI 2.0+, with the XSDT; no RSDT */
	le32(p + 20, RSDP_LEN);
	le64(p + 24, xsdt);
	p[8] = (uint8_t)-acpi_sum(p, 20);	 /* over the ACPI 1.0 part */
	p[32] = (uint8_t)-acpi_sum(p, RSDP_LEN); /* over all of it */
}

static void build_fadt(uint8_t *t, uint64_t dsdt)
{
	header(t, "FACP", FADT_LEN, 6);
	memset(t + HDR_LEN, 0, FADT_LEN - HDR_LEN);
	le32(t + FADT_DSDT, (uint32_t)dsdt);
	le16(t + FADT_BOOT_ARCH, BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA);
	le32(t + FADT_FLAGS, FADT_HW_REDUCED);
	t[FADT_MINOR] = 5; /* 6.5 */
	le64(t + FADT_X_DSDT, dsdt);
	memcpy(t + FADT_HYPERVISOR_ID, "EMBERKVM", 8);
	seal(t, FADT_LEN);
}

static size_t madt_len(unsigned nr_cpus)
{
	return HDR_LEN + 8 + nr_cpus * 8u + 12 + 6;
}

static void build_madt(uint8_t *t, unsigned nr_cpus)
{
	uint32_t len = (uint32_t)madt_len(nr_cpus);
	uint8_t *p = t + HDR_LEN;

	header(t, "APIC", len, 5);
	le32(p, (uint32_t)LAYOUT_LAPIC);
	le32(p + 4, MADT_PCAT_COMPAT);
	p += 8;
	for (unsigned i = 0; i < nr_cpus; i++, p += 8) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = (uint8_t)i; /* ACPI processor UID */
		p[3] = (uint8_t)i; /* APIC ID */
		le32(p + 4, 1);	   /* enabled */
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = (uint8_t)nr_cpus; /* IOAPIC ID after the LAPICs', as in the MP table */
	p[3] = 0;
	le32(p + 4, (uint32_t)LAYOUT_IOAPIC);
	le32(p + 8, 0); /* GSI base */
	p += 12;
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff; /* every processor */
	le16(p + 3, 0);
	p[5] = 1; /* LINT1 */
	seal(t, len);
}

/* Device(name) { _HID, _UID, _CRS }: the shape of every device below. */
static void dev_begin(struct aml *a, const char *name, const char *hid, bool eisa, unsigned uid)
{
	aml_device_begin(a, name);
	aml_name(a, "_HID");
	if (eisa)
		aml_eisaid(a, hid);
	else
		aml_string(a, hid);
	aml_name(a, "_UID");
	aml_int(a, uid);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
}

static void dsdt_legacy(struct aml *a)
{
	dev_begin(a, "COM1", "PNP0501", true, 0);
	aml_res_io(a, PORT_COM1, 8);
	aml_res_irq(a, IRQ_COM1);
	aml_restemplate_end(a);
	aml_end(a);

	dev_begin(a, "PS2_", "PNP0303", true, 0);
	aml_res_io(a, PORT_I8042_DATA, 1);
	aml_res_io(a, PORT_I8042_CMD, 1);
	aml_res_irq(a, IRQ_KBD);
	aml_restemplate_end(a);
	aml_end(a);
}

/*
 * drivers/virt/vmgenid.c: _HID VMGENCTR, ADDR returning the id's address
 * as a package of two 32-bit halves, Notify(0x80) when it changed.  The GED
 * runs _EVT with the GSI that fired (drivers/acpi/evged.c).
 */
static void dsdt_vmgenid(struct aml *a, uint64_t gpa, uint32_t gsi)
{
	aml_device_begin(a, "VGEN");
	aml_name(a, "_HID");
	aml_string(a, "VMGENCTR");
	aml_name(a, "_CID");
	aml_string(a, "VM_Gen_Counter");
	aml_name(a, "_DDN");
	aml_string(a, "VM_Gen_Counter");
	aml_method_begin(a, "ADDR", 0, false);
	aml_return_begin(a);
	aml_package_begin(a, 2);
	aml_int(a, (uint32_t)gpa);
	aml_int(a, gpa >> 32);
	aml_end(a);
	aml_end(a);
	aml_end(a);

	dev_begin(a, "GED_", "ACPI0013", false, 0);
	aml_res_irq(a, gsi);
	aml_restemplate_end(a);
	aml_method_begin(a, "_EVT", 1, true);
	aml_if_begin(a);
	aml_lequal_arg(a, 0, gsi);
	aml_notify(a, "\\_SB_.VGEN", 0x80);
	aml_end(a);
	aml_end(a);
	aml_end(a);
}

/* The DSDT's AML (after its header) into @a. */
static void dsdt_aml(struct aml *a, const struct acpi_config *c)
{
	aml_scope_begin(a, "\\_SB_");
	dsdt_legacy(a);
	for (unsigned i = 0; i < c->nr_virtio; i++) {
		const struct acpi_mmio_dev *d = &c->virtio[i];
		char name[5] = "VIO0";

		name[3] = "0123456789ABCDEF"[i & 0xf]; /* VIO0..VIOF: 16 slots */
		dev_begin(a, name, "LNRO0005", false, i);
		aml_res_mem32_fixed(a, (uint32_t)d->base, d->size, true);
		aml_res_irq(a, d->gsi);
		aml_restemplate_end(a);
		aml_end(a);
	}
	if (c->vmgenid)
		dsdt_vmgenid(a, c->vmgenid_gpa, c->ged_gsi);
	aml_end(a);
}

static bool config_ok(const struct acpi_config *c, uint64_t gpa)
{
	if (!c->nr_cpus || c->nr_cpus > MAX_VCPUS || c->nr_virtio > MAX_VIRTIO_DEVS ||
	    gpa + ACPI_TABLES_MAX > UINT32_MAX)
		return false;
	for (unsigned i = 0; i < c->nr_virtio; i++)
		if (c->virtio[i].base + c->virtio[i].size > UINT32_MAX)
			return false;
	return !c->vmgenid || c->ged_gsi < IOAPIC_PINS;
}

int acpi_build_layout(uint8_t *buf, size_t len, uint64_t gpa, const struct acpi_config *c,
		      struct acpi_layout *l)
{
	struct aml a;
	size_t dsdt_len;

	if (!config_ok(c, gpa))
		return -EINVAL;
	l->rsdp = 0;
	l->xsdt = align8(RSDP_LEN);
	l->fadt = align8(l->xsdt + HDR_LEN + 2 * 8);
	l->madt = align8(l->fadt + FADT_LEN);
	l->dsdt = align8(l->madt + madt_len(c->nr_cpus));
	if (l->dsdt + HDR_LEN > len)
		return -ENOSPC;
	memset(buf, 0, l->dsdt);

	aml_init(&a, buf + l->dsdt + HDR_LEN, len - l->dsdt - HDR_LEN);
	dsdt_aml(&a, c);
	if (a.err)
		return a.err == -ENOSPC ? -ENOSPC : -EINVAL;
	dsdt_len = HDR_LEN + a.len;
	header(buf + l->dsdt, "DSDT", (uint32_t)dsdt_len, 2); /* 2: 64-bit integers */
	seal(buf + l->dsdt, (uint32_t)dsdt_len);
	l->end = l->dsdt + dsdt_len;

	build_madt(buf + l->madt, c->nr_cpus);
	build_fadt(buf + l->fadt, gpa + l->dsdt);
	header(buf + l->xsdt, "XSDT", HDR_LEN + 2 * 8, 1);
	le64(buf + l->xsdt + HDR_LEN, gpa + l->fadt);
	le64(buf + l->xsdt + HDR_LEN + 8, gpa + l->madt);
	seal(buf + l->xsdt, HDR_LEN + 2 * 8);
	build_rsdp(buf + l->rsdp, gpa + l->xsdt);
	return (int)l->end;
}

int acpi_build(uint8_t *buf, size_t len, uint64_t gpa, const struct acpi_config *c)
{
	struct acpi_layout l;

	return acpi_build_layout(buf, len, gpa, c, &l);
}
