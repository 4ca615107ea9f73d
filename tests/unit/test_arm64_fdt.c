// SPDX-License-Identifier: Apache-2.0
/*
 * The aarch64 device tree builder (vmm/arch/aarch64/fdt.c): a sample
 * machine's tree parsed back with libfdt, every node and property checked,
 * and no node in it that the test does not know; then the variants (no
 * initrd, no command line, one vCPU, no VM Generation ID) and the refusals
 * (too small a buffer, configurations no guest could boot with).
 */
#include <libfdt.h>
#include <stdio.h>

#include "arch/aarch64/arm64_fdt.h"
#include "arch/aarch64/layout.h"
#include "unit.h"

#define NR_CPUS	  3u
#define NR_VIRTIO 4u
#define FDT_CAP	  (64u << 10)
#define CMDLINE	  "console=ttyS0 reboot=k panic=1 root=/dev/vda"

/* As KVM reports them: bit 31 RES1, Aff0 then Aff1 (16 vCPUs per cluster). */
static const uint64_t mpidr[NR_CPUS] = {0x80000000, 0x80000001, 0x80000102};

static struct arm64_fdt_dev virtio[NR_VIRTIO];

static struct arm64_fdt_config sample(void)
{
	for (unsigned i = 0; i < NR_VIRTIO; i++)
		virtio[i] = (struct arm64_fdt_dev){LAYOUT_VIRTIO_BASE + i * LAYOUT_VIRTIO_SLOT,
						   LAYOUT_VIRTIO_SLOT, IRQ_VIRTIO_FIRST + i};
	return (struct arm64_fdt_config){
	    .nr_cpus = NR_CPUS,
	    .mpidr = mpidr,
	    .mem_start = LAYOUT_DRAM_START,
	    .mem_size = MiB(256),
	    .cmdline = CMDLINE,
	    .initrd_start = LAYOUT_DRAM_START + MiB(200),
	    .initrd_size = 123456,
	    .gicd_base = LAYOUT_GICD_BASE,
	    .gicd_size = LAYOUT_GICD_SIZE,
	    .gicr_base = LAYOUT_GICR_BASE(NR_CPUS),
	    .gicr_size = NR_CPUS * LAYOUT_GICR_SIZE,
	    .serial = {LAYOUT_SERIAL, 0x1000, IRQ_SERIAL},
	    .virtio = virtio,
	    .nr_virtio = NR_VIRTIO,
	    .vmgenid = {LAYOUT_DRAM_START + MiB(256) - LAYOUT_VMGENID_BLOCK, 16, IRQ_GED},
	    .vmgenid_reserve = LAYOUT_VMGENID_BLOCK,
	};
}

static void *build(const struct arm64_fdt_config *c)
{
	void *fdt = calloc(1, FDT_CAP);
	int n;

	assert_non_null(fdt);
	n = arm64_fdt_build(fdt, FDT_CAP, c);
	assert_true(n > 0);
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_int_equal(fdt_totalsize(fdt), (uint32_t)n);
	return fdt;
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	if (off < 0)
		fail_msg("no node %s", path);
	return off;
}

/* Property @name of @off as @n big-endian cells; its length must be exactly that. */
static void cells(const void *fdt, int off, const char *name, const uint32_t *want, int n)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, off, name, &len);

	if (!p)
		fail_msg("no property %s", name);
	assert_int_equal(len, n * 4);
	for (int i = 0; i < n; i++)
		assert_int_equal(fdt32_to_cpu(p[i]), want[i]);
}

static void u32_is(const void *fdt, int off, const char *name, uint32_t v)
{
	cells(fdt, off, name, &v, 1);
}

static void u64_is(const void *fdt, int off, const char *name, uint64_t v)
{
	const uint32_t c[2] = {(uint32_t)(v >> 32), (uint32_t)v};

	cells(fdt, off, name, c, 2);
}

/* A reg of one (address, size) pair in 2+2 cells. */
static void reg_is(const void *fdt, int off, uint64_t base, uint64_t size)
{
	const uint32_t c[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
			       (uint32_t)size};

	cells(fdt, off, "reg", c, 4);
}

static void str_is(const void *fdt, int off, const char *name, const char *v)
{
	int len;
	const char *p = fdt_getprop(fdt, off, name, &len);

	if (!p)
		fail_msg("no property %s", name);
	assert_int_equal(len, (int)strlen(v) + 1);
	assert_string_equal(p, v);
}

static void empty_is(const void *fdt, int off, const char *name)
{
	int len;

	assert_non_null(fdt_getprop(fdt, off, name, &len));
	assert_int_equal(len, 0);
}

static void absent(const void *fdt, int off, const char *name)
{
	int len;

	assert_null(fdt_getprop(fdt, off, name, &len));
	assert_int_equal(len, -FDT_ERR_NOTFOUND);
}

static void irq_is(const void *fdt, int off, uint32_t type, uint32_t num, uint32_t flags)
{
	const uint32_t c[3] = {type, num, flags};

	cells(fdt, off, "interrupts", c, 3);
}

static unsigned count_nodes(const void *fdt)
{
	unsigned n = 0;

	for (int off = fdt_next_node(fdt, -1, NULL); off >= 0; off = fdt_next_node(fdt, off, NULL))
		n++;
	return n;
}

static void check_tree(const void *fdt, const struct arm64_fdt_config *c)
{
	char path[64];
	int off;

	off = node(fdt, "/");
	str_is(fdt, off, "compatible", "linux,dummy-virt");
	u32_is(fdt, off, "#address-cells", 2);
	u32_is(fdt, off, "#size-cells", 2);
	u32_is(fdt, off, "interrupt-parent", ARM64_FDT_PHANDLE_GIC);

	off = node(fdt, "/cpus");
	u32_is(fdt, off, "#address-cells", 2);
	u32_is(fdt, off, "#size-cells", 0);
	for (unsigned i = 0; i < c->nr_cpus; i++) {
		/* reg is MPIDR_EL1's affinity fields, without its RES1 bit 31 and MT/U bits. */
		uint64_t aff = c->mpidr[i] & 0xff00ffffffull;

		snprintf(path, sizeof(path), "/cpus/cpu@%llx", (unsigned long long)aff);
		off = node(fdt, path);
		str_is(fdt, off, "device_type", "cpu");
		str_is(fdt, off, "compatible", "arm,arm-v8");
		str_is(fdt, off, "enable-method", "psci");
		u64_is(fdt, off, "reg", aff);
	}

	snprintf(path, sizeof(path), "/memory@%llx", (unsigned long long)c->mem_start);
	off = node(fdt, path);
	str_is(fdt, off, "device_type", "memory");
	reg_is(fdt, off, c->mem_start, c->mem_size);

	off = node(fdt, "/chosen");
	snprintf(path, sizeof(path), "/uart@%llx", (unsigned long long)c->serial.base);
	str_is(fdt, off, "stdout-path", path);
	if (c->cmdline)
		str_is(fdt, off, "bootargs", c->cmdline);
	else
		absent(fdt, off, "bootargs");
	if (c->initrd_size) {
		u64_is(fdt, off, "linux,initrd-start", c->initrd_start);
		u64_is(fdt, off, "linux,initrd-end", c->initrd_start + c->initrd_size);
	} else {
		absent(fdt, off, "linux,initrd-start");
		absent(fdt, off, "linux,initrd-end");
	}

	/* stdout-path names the UART node. */
	off = node(fdt, path);
	str_is(fdt, off, "compatible", "ns16550a");
	reg_is(fdt, off, c->serial.base, c->serial.size);
	irq_is(fdt, off, ARM64_FDT_GIC_SPI, c->serial.gsi, ARM64_FDT_IRQ_EDGE_RISING);
	u32_is(fdt, off, "clock-frequency", 1843200);

	snprintf(path, sizeof(path), "/intc@%llx", (unsigned long long)c->gicd_base);
	off = node(fdt, path);
	{
		const uint32_t reg[8] = {(uint32_t)(c->gicd_base >> 32), (uint32_t)c->gicd_base,
					 (uint32_t)(c->gicd_size >> 32), (uint32_t)c->gicd_size,
					 (uint32_t)(c->gicr_base >> 32), (uint32_t)c->gicr_base,
					 (uint32_t)(c->gicr_size >> 32), (uint32_t)c->gicr_size};

		cells(fdt, off, "reg", reg, 8);
	}
	str_is(fdt, off, "compatible", "arm,gic-v3");
	empty_is(fdt, off, "interrupt-controller");
	u32_is(fdt, off, "#interrupt-cells", 3);
	u32_is(fdt, off, "phandle", ARM64_FDT_PHANDLE_GIC);
	assert_int_equal(fdt_node_offset_by_phandle(fdt, ARM64_FDT_PHANDLE_GIC), off);
	irq_is(fdt, off, ARM64_FDT_GIC_PPI, 9, ARM64_FDT_IRQ_LEVEL_HIGH);

	off = node(fdt, "/timer");
	str_is(fdt, off, "compatible", "arm,armv8-timer");
	empty_is(fdt, off, "always-on");
	{
		const uint32_t irq[12] = {1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4};

		cells(fdt, off, "interrupts", irq, 12);
	}

	off = node(fdt, "/psci");
	str_is(fdt, off, "compatible", "arm,psci-0.2");
	str_is(fdt, off, "method", "hvc");

	for (unsigned i = 0; i < c->nr_virtio; i++) {
		snprintf(path, sizeof(path), "/virtio_mmio@%llx",
			 (unsigned long long)c->virtio[i].base);
		off = node(fdt, path);
		str_is(fdt, off, "compatible", "virtio,mmio");
		reg_is(fdt, off, c->virtio[i].base, c->virtio[i].size);
		irq_is(fdt, off, ARM64_FDT_GIC_SPI, c->virtio[i].gsi, ARM64_FDT_IRQ_EDGE_RISING);
		empty_is(fdt, off, "dma-coherent");
	}
	/* Linux's vmgenid driver maps the id: its RAM block is no-map reserved memory. */
	if (c->vmgenid.size) {
		off = node(fdt, "/reserved-memory");
		u32_is(fdt, off, "#address-cells", 2);
		u32_is(fdt, off, "#size-cells", 2);
		empty_is(fdt, off, "ranges");
		snprintf(path, sizeof(path), "/reserved-memory/vmgenid@%llx",
			 (unsigned long long)c->vmgenid.base);
		off = node(fdt, path);
		reg_is(fdt, off, c->vmgenid.base, c->vmgenid_reserve);
		empty_is(fdt, off, "no-map");
		snprintf(path, sizeof(path), "/vmgenid@%llx", (unsigned long long)c->vmgenid.base);
		off = node(fdt, path);
		str_is(fdt, off, "compatible", "microsoft,vmgenid");
		reg_is(fdt, off, c->vmgenid.base, c->vmgenid.size);
		irq_is(fdt, off, ARM64_FDT_GIC_SPI, c->vmgenid.gsi, ARM64_FDT_IRQ_EDGE_RISING);
	}
	/* Root, cpus and each cpu, memory, chosen, intc, timer, psci, uart, virtio,
	 * reserved-memory with its one block and the vmgenid: no more. */
	assert_int_equal(count_nodes(fdt),
			 1 + 1 + c->nr_cpus + 6 + c->nr_virtio + (c->vmgenid.size ? 3 : 0));
}

static void test_sample(void **state)
{
	struct arm64_fdt_config c = sample();
	void *fdt = build(&c);

	(void)state;
	check_tree(fdt, &c);
	free(fdt);
}

static void test_variants(void **state)
{
	struct arm64_fdt_config c = sample();
	void *fdt;

	(void)state;
	c.initrd_size = 0;
	c.cmdline = NULL;
	c.nr_virtio = 0;
	c.nr_cpus = 1;
	c.vmgenid.size = 0;
	fdt = build(&c);
	check_tree(fdt, &c);
	free(fdt);
}

static void test_too_small(void **state)
{
	struct arm64_fdt_config c = sample();
	uint8_t *buf = malloc(FDT_CAP);
	int n;

	(void)state;
	assert_non_null(buf);
	n = arm64_fdt_build(buf, FDT_CAP, &c);
	assert_true(n > 0);
	/* One byte short of the tree, and much less: refused, never overrun. */
	memset(buf, 0xa5, FDT_CAP);
	assert_int_equal(arm64_fdt_build(buf, (size_t)n - 1, &c), -ENOSPC);
	for (size_t i = (size_t)n - 1; i < FDT_CAP; i++)
		assert_int_equal(buf[i], 0xa5);
	assert_int_equal(arm64_fdt_build(buf, 16, &c), -ENOSPC);
	free(buf);
}

static void test_bad_config(void **state)
{
	struct arm64_fdt_config c;
	uint8_t buf[4096];
	struct arm64_fdt_dev sized0 = {LAYOUT_VIRTIO_BASE, 0, 5};

	(void)state;
	c = sample(), c.nr_cpus = 0;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.nr_cpus = ARM64_FDT_MAX_CPUS + 1;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.mpidr = NULL;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.mem_size = 0;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.gicr_size = 0;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.serial.size = 0;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.virtio = NULL;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.virtio = &sized0, c.nr_virtio = 1;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	/* The id must lie in its reserved block, and the block in RAM, whatever wraps. */
	c = sample(), c.vmgenid_reserve = 8;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.vmgenid.size = UINT64_MAX;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.vmgenid.base += 4096;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.vmgenid.base = LAYOUT_DRAM_START - LAYOUT_VMGENID_BLOCK;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.vmgenid.base = UINT64_MAX - 8;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	c = sample(), c.vmgenid_reserve = UINT64_MAX;
	assert_int_equal(arm64_fdt_build(buf, sizeof(buf), &c), -EINVAL);
	/* And the sample itself is fine in this buffer: the refusals above are the checks'. */
	c = sample();
	assert_true(arm64_fdt_build(buf, sizeof(buf), &c) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_variants),
	    cmocka_unit_test(test_too_small),
	    cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests_name("arm64_fdt", tests, NULL, NULL);
}
