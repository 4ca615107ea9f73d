// SPDX-License-Identifier: Apache-2.0
/*
 * ACPI tables and the AML encoder: checksums, lengths and pointers read
 * back the way ACPICA's table manager walks them, and AML byte encodings
 * of snippets whose bytes iasl produces for the same ASL.
 * `test_acpi --dump DIR` writes the tables of a 2-vCPU, 3-device VM with a
 * VM Generation ID to DIR, for `iasl -d DIR/dsdt.dat`.
 */
#include <stdio.h>

#include "acpi.h"
#include "aml.h"
#include "layout.h"
#include "snap_dev.h"
#include "unit.h"
#include "vmgenid.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static const struct acpi_mmio_dev three[3] = {
    {LAYOUT_VIRTIO_BASE, 0x1000, 5},
    {LAYOUT_VIRTIO_BASE + 0x1000, 0x1000, 6},
    {LAYOUT_VIRTIO_BASE + 0x2000, 0x1000, 7},
};

static struct acpi_config cfg(unsigned cpus, unsigned devs, bool genid)
{
	static struct acpi_mmio_dev many[MAX_VIRTIO_DEVS];

	for (unsigned i = 0; i < MAX_VIRTIO_DEVS; i++)
		many[i] = (struct acpi_mmio_dev){LAYOUT_VIRTIO_BASE + i * 0x1000ull, 0x1000,
						 IRQ_VIRTIO_FIRST + i};
	return (struct acpi_config){.nr_cpus = cpus,
				    .virtio = devs <= 3 ? three : many,
				    .nr_virtio = devs,
				    .vmgenid = genid,
				    .vmgenid_gpa = LAYOUT_VMGENID,
				    .ged_gsi = IRQ_GED};
}

/* The table at guest address @addr: signature, length inside the buffer, checksum. */
static const uint8_t *table_at(const uint8_t *buf, size_t used, uint64_t addr, const char *sig)
{
	const uint8_t *t;

	assert_true(addr >= LAYOUT_ACPI && addr + 36 <= LAYOUT_ACPI + used);
	t = buf + (addr - LAYOUT_ACPI);
	assert_memory_equal(t, sig, 4);
	assert_true(addr + rd32(t + 4) <= LAYOUT_ACPI + used);
	assert_int_equal(acpi_sum(t, rd32(t + 4)), 0);
	assert_memory_equal(t + 10, "EMBER ", 6);
	return t;
}

static void check_tables(unsigned cpus, unsigned devs, bool genid)
{
	struct acpi_config c = cfg(cpus, devs, genid);
	uint8_t buf[ACPI_TABLES_MAX];
	const uint8_t *xsdt, *fadt, *madt, *dsdt, *e;
	unsigned lapics = 0, ioapics = 0, nmis = 0;
	int n = acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &c);

	assert_true(n > 0);
	/* RSDP: both checksums, revision 2, the XSDT. */
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(acpi_sum(buf, 20), 0);
	assert_int_equal(acpi_sum(buf, 36), 0);
	assert_int_equal(buf[15], 2);
	assert_int_equal(rd32(buf + 20), 36);
	assert_int_equal(rd32(buf + 16), 0); /* no RSDT */
	xsdt = table_at(buf, (size_t)n, rd64(buf + 24), "XSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 16);
	fadt = table_at(buf, (size_t)n, rd64(xsdt + 36), "FACP");
	madt = table_at(buf, (size_t)n, rd64(xsdt + 44), "APIC");

	/* FADT: 6.5, hardware-reduced, both DSDT pointers the same, no SCI or FACS. */
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(fadt[8], 6);
	assert_int_equal(fadt[131], 5);
	assert_true(rd32(fadt + 112) & (1u << 20));
	assert_int_equal(fadt[46] | fadt[47] << 8, 0);
	assert_int_equal(rd32(fadt + 36), 0);
	assert_int_equal(rd64(fadt + 132), 0);
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));
	assert_int_equal(fadt[109] & 0x6, 0x6); /* 8042, no VGA */
	dsdt = table_at(buf, (size_t)n, rd64(fadt + 140), "DSDT");
	assert_int_equal(dsdt[8], 2);

	/* MADT: one enabled LAPIC per vCPU, ids 0..n-1, then one IOAPIC after them. */
	assert_int_equal(rd32(madt + 36), LAYOUT_LAPIC);
	assert_int_equal(rd32(madt + 4), 44 + 8 * cpus + 12 + 6);
	for (e = madt + 44; e < madt + rd32(madt + 4); e += e[1]) {
		assert_true(e[1] >= 2);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[3], lapics);
			assert_int_equal(rd32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], cpus);
			assert_int_equal(rd32(e + 4), LAYOUT_IOAPIC);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 4:
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("MADT entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, madt + rd32(madt + 4));
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);

	/* DSDT: one LNRO0005 per device, the VM generation ID only when asked. */
	unsigned found = 0;
	for (const uint8_t *p = dsdt; p + 8 < dsdt + rd32(dsdt + 4); p++)
		found += !memcmp(p, "LNRO0005", 8);
	assert_int_equal(found, devs);
	assert_int_equal(memmem(dsdt, rd32(dsdt + 4), "VMGENCTR", 8) != NULL, genid);
	assert_int_equal(memmem(dsdt, rd32(dsdt + 4), "ACPI0013", 8) != NULL, genid);
	assert_true(LAYOUT_ACPI + (uint64_t)n <= LAYOUT_ACPI_END);
}

static void test_tables(void **state)
{
	(void)state;
	check_tables(1, 0, false);
	check_tables(1, 3, true);
	check_tables(2, 3, true);
	check_tables(MAX_VCPUS, MAX_VIRTIO_DEVS, true); /* the largest: still fits */
}

static void test_bad_config(void **state)
{
	struct acpi_config c = cfg(0, 0, false);
	uint8_t buf[ACPI_TABLES_MAX];

	(void)state;
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &c), -EINVAL);
	c = cfg(MAX_VCPUS + 1, 0, false);
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &c), -EINVAL);
	c = cfg(1, 3, true);
	c.ged_gsi = 24;
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &c), -EINVAL);
	c = cfg(1, 3, true);
	for (size_t len = 0; len < 800; len += 50)
		assert_int_equal(acpi_build(buf, len, LAYOUT_ACPI, &c), -ENOSPC);
}

/* Runs @emit into a fresh encoder and compares with @want. */
#define AML_EQ(want, ...)                                                                          \
	do {                                                                                       \
		static const uint8_t w_[] = want;                                                  \
		uint8_t b_[512];                                                                   \
		struct aml a_, *a = &a_;                                                           \
		aml_init(a, b_, sizeof(b_));                                                       \
		__VA_ARGS__;                                                                       \
		assert_int_equal(a->err, 0);                                                       \
		assert_int_equal(a->depth, 0);                                                     \
		assert_int_equal(a->len, sizeof(w_));                                              \
		assert_memory_equal(b_, w_, sizeof(w_));                                           \
	} while (0)
#define B(...)                                                                                     \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}

static void test_aml_data(void **state)
{
	(void)state;
	AML_EQ(B(0x00), aml_int(a, 0));
	AML_EQ(B(0x01), aml_int(a, 1));
	AML_EQ(B(0x0a, 0x80), aml_int(a, 0x80));
	AML_EQ(B(0x0b, 0x34, 0x12), aml_int(a, 0x1234));
	AML_EQ(B(0x0c, 0x00, 0x00, 0x00, 0xd0), aml_int(a, 0xd0000000));
	AML_EQ(B(0x0e, 1, 0, 0, 0, 1, 0, 0, 0), aml_int(a, 0x100000001ull));
	AML_EQ(B(0x0d, 'A', 'B', 0), aml_string(a, "AB"));
	/* EISAID ("PNP0501") = 0x0105D041, EISAID ("PNP0303") = 0x0303D041 */
	AML_EQ(B(0x0c, 0x41, 0xd0, 0x05, 0x01), aml_eisaid(a, "PNP0501"));
	AML_EQ(B(0x0c, 0x41, 0xd0, 0x03, 0x03), aml_eisaid(a, "PNP0303"));
	AML_EQ(B('_', 'S', 'B', '_'), aml_namestring(a, "_SB_"));
	AML_EQ(B(0x5c, 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N'),
	       aml_namestring(a, "\\_SB_.VGEN"));
	AML_EQ(B(0x2f, 3, 'A', 'A', 'A', 'A', 'B', 'B', 'B', 'B', 'C', 'C', 'C', 'C'),
	       aml_namestring(a, "AAAA.BBBB.CCCC"));
	/* Name (_UID, 0x05) */
	AML_EQ(B(0x08, '_', 'U', 'I', 'D', 0x0a, 0x05), aml_name(a, "_UID"); aml_int(a, 5));
}

static void test_aml_bad_names(void **state)
{
	uint8_t b[64];
	struct aml a;
	const char *bad[] = {"", "_SB", "_SB_.", "_sb_", "1ABC", "\\", "AAAA..BBBB", "_SB_X"};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		aml_init(&a, b, sizeof(b));
		aml_namestring(&a, bad[i]);
		assert_int_equal(a.err, -EINVAL);
	}
	aml_init(&a, b, sizeof(b));
	aml_eisaid(&a, "pnp0501");
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_end(&a); /* nothing open */
	assert_int_equal(a.err, -EINVAL);
	aml_init(&a, b, 3);
	aml_string(&a, "ABCD");
	assert_int_equal(a.err, -ENOSPC);
	aml_init(&a, b, sizeof(b));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_if_begin(&a);
	assert_int_equal(a.err, -E2BIG);
}

/* If { Zero x @n }: a construct whose PkgLength covers @n bytes and itself. */
static void if_of_zeros(struct aml *a, uint8_t *buf, size_t cap, unsigned n)
{
	aml_init(a, buf, cap);
	aml_if_begin(a);
	for (unsigned i = 0; i < n; i++)
		aml_int(a, 0);
	aml_end(a);
}

static void test_aml_pkglen(void **state)
{
	static uint8_t big[70000];
	struct aml a;

	(void)state;
	assert_int_equal(aml_pkglen_size(0), 1);
	assert_int_equal(aml_pkglen_size(62), 1);
	assert_int_equal(aml_pkglen_size(63), 2); /* 64 with itself: two bytes */
	assert_int_equal(aml_pkglen_size(4093), 2);
	assert_int_equal(aml_pkglen_size(4094), 3);
	assert_int_equal(aml_pkglen_size((1u << 20) - 4), 3);
	assert_int_equal(aml_pkglen_size((1u << 20) - 3), 4);
	assert_int_equal(aml_pkglen_size((1u << 28) - 4), 0);

	/* If of 62 zero bytes: PkgLength 63 in one byte; 63 bytes: 0x41 0x04 (= 65). */
	if_of_zeros(&a, big, sizeof(big), 62);
	assert_int_equal(a.len, 64);
	assert_int_equal(big[1], 63);
	if_of_zeros(&a, big, sizeof(big), 63);
	assert_int_equal(a.len, 66);
	assert_int_equal(big[1], 0x41); /* low nibble 1, one more byte */
	assert_int_equal(big[2], 0x04);
	/* 5000 bytes: three-byte PkgLength 5003 = 0x138b. */
	if_of_zeros(&a, big, sizeof(big), 5000);
	assert_int_equal(a.err, 0);
	assert_int_equal(big[1], 0x80 | 0xb);
	assert_int_equal(big[2], 0x38);
	assert_int_equal(big[3], 0x01);
	assert_int_equal(big[4], 0);
}

/*
 * The bytes iasl 20200925 (`iasl -oa`: no path optimisations) compiles
 * this ASL to, after the DSDT header:
 *
 *   Scope (\_SB) {
 *     Device (VGEN) { Name (_HID, "VMGE0001") }
 *     Device (GED_) { Name (_HID, "ACPI0013")
 *       Name (_CRS, ResourceTemplate () {
 *         Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) {23} })
 *       Method (_EVT, 1, Serialized) {
 *         If ((Arg0 == 0x17)) { Notify (\_SB.VGEN, 0x80) } } }
 *     Device (COM1) { Name (_HID, "LNRO0005")
 *       Name (_CRS, ResourceTemplate () {
 *         Memory32Fixed (ReadWrite, 0xD0000000, 0x00001000, )
 *         IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08, ) })
 *       Method (ADDR, 0, NotSerialized) { Return (Package (0x02) { 0x000FF000, Zero }) } } }
 */
static const uint8_t iasl_bytes[] = {
    0x10, 0x49, 0x0a, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x14, 0x56, 0x47, 0x45, 0x4e, 0x08,
    0x5f, 0x48, 0x49, 0x44, 0x0d, 0x56, 0x4d, 0x47, 0x45, 0x30, 0x30, 0x30, 0x31, 0x00, 0x5b, 0x82,
    0x43, 0x04, 0x47, 0x45, 0x44, 0x5f, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x41, 0x43, 0x50, 0x49,
    0x30, 0x30, 0x31, 0x33, 0x00, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x0e, 0x0a, 0x0b, 0x89, 0x06,
    0x00, 0x03, 0x01, 0x17, 0x00, 0x00, 0x00, 0x79, 0x00, 0x14, 0x19, 0x5f, 0x45, 0x56, 0x54, 0x09,
    0xa0, 0x12, 0x93, 0x68, 0x0a, 0x17, 0x86, 0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x56, 0x47, 0x45,
    0x4e, 0x0a, 0x80, 0x5b, 0x82, 0x45, 0x04, 0x43, 0x4f, 0x4d, 0x31, 0x08, 0x5f, 0x48, 0x49, 0x44,
    0x0d, 0x4c, 0x4e, 0x52, 0x4f, 0x30, 0x30, 0x30, 0x35, 0x00, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11,
    0x19, 0x0a, 0x16, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00, 0x47,
    0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x79, 0x00, 0x14, 0x10, 0x41, 0x44, 0x44, 0x52, 0x00,
    0xa4, 0x12, 0x08, 0x02, 0x0c, 0x00, 0xf0, 0x0f, 0x00, 0x00};

static void test_aml_iasl(void **state)
{
	uint8_t b[512];
	struct aml a;

	(void)state;
	aml_init(&a, b, sizeof(b));
	aml_scope_begin(&a, "\\_SB_");
	aml_device_begin(&a, "VGEN");
	aml_name(&a, "_HID");
	aml_string(&a, "VMGE0001");
	aml_end(&a);
	aml_device_begin(&a, "GED_");
	aml_name(&a, "_HID");
	aml_string(&a, "ACPI0013");
	aml_name(&a, "_CRS");
	aml_restemplate_begin(&a);
	aml_res_irq(&a, 23);
	aml_restemplate_end(&a);
	aml_method_begin(&a, "_EVT", 1, true);
	aml_if_begin(&a);
	aml_lequal_arg(&a, 0, 23);
	aml_notify(&a, "\\_SB_.VGEN", 0x80);
	aml_end(&a);
	aml_end(&a);
	aml_end(&a);
	aml_device_begin(&a, "COM1");
	aml_name(&a, "_HID");
	aml_string(&a, "LNRO0005");
	aml_name(&a, "_CRS");
	aml_restemplate_begin(&a);
	aml_res_mem32_fixed(&a, 0xd0000000, 0x1000, true);
	aml_res_io(&a, 0x3f8, 8);
	aml_restemplate_end(&a);
	aml_method_begin(&a, "ADDR", 0, false);
	aml_return_begin(&a);
	aml_package_begin(&a, 2);
	aml_int(&a, 0xff000);
	aml_int(&a, 0);
	aml_end(&a);
	aml_end(&a);
	aml_end(&a);
	aml_end(&a);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.depth, 0);
	assert_int_equal(a.len, sizeof(iasl_bytes));
	assert_memory_equal(b, iasl_bytes, sizeof(iasl_bytes));
}

/* The snapshot section: round trip, and every way a hostile one is refused. */
static void test_vmgenid_state(void **state)
{
	const struct vmgenid g = {.on = true, .gpa = LAYOUT_VMGENID, .gsi = IRQ_GED, .irq_fd = 7};
	struct vmgenid back;
	const char *why;
	struct pw w;

	(void)state;
	pw_init(&w);
	vmgenid_save(&g, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, 2 + 8 + 4);
	assert_int_equal(w.buf[0], VMGENID_STATE_VERSION); /* little-endian u16 first */
	assert_int_equal(w.buf[1], 0);
	assert_int_equal(vmgenid_load(w.buf, w.len, &back, &why), 0);
	assert_true(back.on);
	assert_int_equal(back.gpa, LAYOUT_VMGENID);
	assert_int_equal(back.gsi, IRQ_GED);
	assert_int_equal(back.irq_fd, -1); /* never from the file */
	for (size_t len = 0; len < w.len; len++)
		assert_int_equal(vmgenid_load(w.buf, len, &back, &why), -EINVAL);
	w.buf[0] = 2; /* a version this ember does not know */
	assert_int_equal(vmgenid_load(w.buf, w.len, &back, &why), -EINVAL);
	w.buf[0] = 1;
	w.buf[10] = IRQ_VIRTIO_FIRST; /* a virtio device's line */
	assert_int_equal(vmgenid_load(w.buf, w.len, &back, &why), -EINVAL);
	w.buf[10] = IOAPIC_PINS;
	assert_int_equal(vmgenid_load(w.buf, w.len, &back, &why), -EINVAL);
	w.buf[10] = IRQ_GED;
	memset(w.buf + 2, 0xff, 8); /* an address whose 16 bytes wrap */
	assert_int_equal(vmgenid_load(w.buf, w.len, &back, &why), -EINVAL);
	pw_free(&w);
}

/* Each new id is written where asked, and differs from the last one. */
static void test_vmgenid_new_id(void **state)
{
	struct guest_mem gm;
	uint8_t first[VMGENID_SIZE];

	(void)state;
	fake_gm_init(&gm, MiB(1), 0, 0);
	assert_int_equal(vmgenid_new_id(&gm, LAYOUT_VMGENID), 0);
	memcpy(first, gm.region[0].host + LAYOUT_VMGENID, VMGENID_SIZE);
	assert_int_equal(vmgenid_new_id(&gm, LAYOUT_VMGENID), 0);
	assert_memory_not_equal(first, gm.region[0].host + LAYOUT_VMGENID, VMGENID_SIZE);
	assert_int_equal(vmgenid_new_id(&gm, MiB(1) - 8), -EFAULT);
	fake_gm_free(&gm);
}

/* snap_dev_save writes the section only for a guest that has the device. */
static void vmgenid_section(bool on, struct snap_image *img)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct snap_writer w;
	const uint8_t *b;
	char err[160];
	size_t len;

	assert_non_null(vm);
	assert_int_equal(serial_init(&vm->serial, -1, -1, -1), 0);
	assert_int_equal(i8042_init(&vm->i8042, NULL, NULL), 0);
	if (on)
		vm->genid =
		    (struct vmgenid){.on = true, .gpa = 0xff000, .gsi = IRQ_GED, .irq_fd = -1};
	assert_int_equal(snap_w_begin(&w, 0), 0);
	assert_int_equal(snap_dev_save(vm, &w, false), 0);
	b = snap_w_bytes(&w, &len);
	assert_non_null(b);
	if (snap_parse(b, len, img, err, sizeof(err)))
		fail_msg("snap_parse: %s", err);
	snap_w_free(&w);
	serial_destroy(&vm->serial);
	i8042_destroy(&vm->i8042);
	free(vm);
}

static void test_vmgenid_section(void **state)
{
	struct snap_image img = {0};
	struct vmgenid g;
	const char *why;
	const void *p;
	uint64_t len;

	(void)state;
	vmgenid_section(false, &img);
	assert_int_equal(snap_find(&img, SNAP_SEC_VMGENID, 0, &p, &len), -ENOENT);
	snap_image_free(&img);
	vmgenid_section(true, &img);
	assert_int_equal(snap_find(&img, SNAP_SEC_VMGENID, 0, &p, &len), 0);
	assert_int_equal(vmgenid_load(p, len, &g, &why), 0);
	assert_int_equal(g.gpa, 0xff000);
	assert_int_equal(g.gsi, IRQ_GED);
	assert_string_equal(snap_section_name(SNAP_SEC_VMGENID), "vmgenid");
	snap_image_free(&img);
}

/* A saved address outside guest memory is refused before anything is touched. */
static void test_vmgenid_outside_memory(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct vmgenid g = {.on = true, .gpa = MiB(1) - 8, .gsi = IRQ_GED, .irq_fd = -1};

	(void)state;
	assert_non_null(vm);
	fake_gm_init(&vm->mem, MiB(1), 0, 0);
	vm->vm_fd = -1;
	vm->genid.irq_fd = -1;
	assert_int_equal(vmgenid_restored(vm, &g), -EINVAL);
	g.gpa = GiB(5);
	assert_int_equal(vmgenid_restored(vm, &g), -EINVAL);
	assert_false(vm->genid.on);
	assert_int_equal(vm->genid.irq_fd, -1);
	fake_gm_free(&vm->mem);
	free(vm);
}

static int dump(const char *dir)
{
	struct acpi_config c = cfg(2, 3, true);
	uint8_t buf[ACPI_TABLES_MAX];
	struct acpi_layout l;
	char path[512];

	if (acpi_build_layout(buf, sizeof(buf), LAYOUT_ACPI, &c, &l) < 0)
		return 1;
	const struct {
		const char *name;
		size_t off;
	} t[] = {{"dsdt", l.dsdt}, {"facp", l.fadt}, {"apic", l.madt}, {"xsdt", l.xsdt}};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint32_t len = rd32(buf + t[i].off + 4);
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.dat", dir, t[i].name);
		f = fopen(path, "w");
		if (!f)
			return 1;
		if (fwrite(buf + t[i].off, 1, len, f) != len) {
			fclose(f);
			return 1;
		}
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables),	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_aml_data),	    cmocka_unit_test(test_aml_bad_names),
	    cmocka_unit_test(test_aml_pkglen),	    cmocka_unit_test(test_aml_iasl),
	    cmocka_unit_test(test_vmgenid_state),   cmocka_unit_test(test_vmgenid_new_id),
	    cmocka_unit_test(test_vmgenid_section), cmocka_unit_test(test_vmgenid_outside_memory),
	};

	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
