// SPDX-License-Identifier: Apache-2.0
/* e820 map, initrd placement, zero page and PVH start info written to fake guest memory. */
#include <asm/bootparam.h>

#include "boot.h"
#include "layout.h"
#include "unit.h"

static void test_e820_small(void **state)
{
	struct e820_range m[8];

	(void)state;
	assert_int_equal(e820_build(MiB(128), m, 8), 2);
	assert_int_equal(m[0].addr, 0);
	assert_int_equal(m[0].size, LAYOUT_EBDA); /* MP table region excluded */
	assert_int_equal(m[0].type, E820_RAM);
	assert_int_equal(m[1].addr, MiB(1));
	assert_int_equal(m[1].size, MiB(127));
	assert_int_equal(m[1].type, E820_RAM);
}

static void test_e820_gap(void **state)
{
	struct e820_range m[8];
	uint64_t low, high;

	(void)state;
	/* 3 GiB fits below the gap exactly; 4 GiB spills 1 GiB above 4 GiB. */
	assert_int_equal(e820_build(GiB(3), m, 8), 2);
	assert_int_equal(m[1].addr + m[1].size, LAYOUT_MMIO_GAP_START);
	assert_int_equal(e820_build(GiB(4), m, 8), 3);
	assert_int_equal(m[2].addr, GiB(4));
	assert_int_equal(m[2].size, GiB(1));
	mem_split(GiB(4), &low, &high);
	assert_int_equal(low, LAYOUT_MMIO_GAP_START);
	assert_int_equal(high, GiB(1));
	/* The table never describes the MMIO gap as RAM. */
	for (int i = 0; i < 3; i++)
		assert_false(m[i].addr < LAYOUT_MMIO_GAP_END &&
			     m[i].addr + m[i].size > LAYOUT_MMIO_GAP_START);
	assert_int_equal(e820_build(GiB(4), m, 2), -ENOSPC);
}

static void test_initrd_placement(void **state)
{
	struct kernel_info ki = {.load_end = MiB(24), .initrd_max = 0x37ffffff};
	uint64_t gpa;

	(void)state;
	assert_int_equal(boot_place_initrd(&ki, MiB(128), 1000000, &gpa), 0);
	assert_int_equal(gpa & 0xfff, 0);
	assert_true(gpa >= ki.load_end);
	assert_true(gpa + 1000000 <= MiB(128));
	assert_true(MiB(128) - (gpa + 1000000) < 4096); /* as high as possible */
	/* Capped by initrd_max even with lots of RAM. */
	assert_int_equal(boot_place_initrd(&ki, GiB(2), 4096, &gpa), 0);
	assert_true(gpa + 4096 <= 0x38000000ull);
	/* Would overlap the kernel. */
	assert_int_equal(boot_place_initrd(&ki, MiB(128), MiB(110), &gpa), -ENOMEM);
	assert_int_equal(boot_place_initrd(&ki, MiB(128), GiB(1), &gpa), -ENOMEM);
}

static void test_zero_page_elf(void **state)
{
	struct kernel_info ki = {.format = KERNEL_ELF, .cmdline_max = 2048, .load_end = MiB(20)};
	struct boot_config bc = {.ki = &ki,
				 .cmdline = "console=ttyS0 hello",
				 .mem_size = MiB(128),
				 .initrd_gpa = MiB(100),
				 .initrd_size = 12345,
				 .rsdp_gpa = LAYOUT_ACPI};
	struct guest_mem gm;
	struct boot_params *bp;
	uint64_t *pml4, *pd;

	(void)state;
	fake_gm_init(&gm, MiB(128), 0, 0);
	assert_int_equal(boot_setup(&gm, &bc, false), 0);
	bp = (struct boot_params *)(gm.region[0].host + LAYOUT_ZERO_PAGE);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE);
	assert_string_equal((char *)gm.region[0].host + LAYOUT_CMDLINE, "console=ttyS0 hello");
	assert_int_equal(bp->hdr.ramdisk_image, MiB(100));
	assert_int_equal(bp->hdr.ramdisk_size, 12345);
	assert_int_equal(bp->acpi_rsdp_addr, LAYOUT_ACPI);
	assert_int_equal(bp->e820_entries, 2);
	assert_int_equal(bp->e820_table[1].addr, MiB(1));
	assert_int_equal(bp->e820_table[1].size, MiB(127));
	/* Identity map: PML4[0] -> PDPT -> PD with 2 MiB pages. */
	pml4 = (uint64_t *)(gm.region[0].host + LAYOUT_PML4);
	pd = (uint64_t *)(gm.region[0].host + LAYOUT_PD);
	assert_int_equal(pml4[0] & ~0xfffull, LAYOUT_PDPT);
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[511], (511ull << 21) | 0x83);
	/* GDT in place. */
	assert_memory_equal(gm.region[0].host + LAYOUT_GDT, boot_gdt, sizeof(boot_gdt));
	fake_gm_free(&gm);
}

static void test_zero_page_bzimage_header_copied(void **state)
{
	uint8_t img[0x1000] = {0};
	struct kernel_info ki = {.format = KERNEL_BZIMAGE, .cmdline_max = 2048, .hdr_len = 0x7b};
	struct boot_config bc = {
	    .ki = &ki, .img = img, .img_len = sizeof(img), .cmdline = "x", .mem_size = MiB(64)};
	struct guest_mem gm;
	struct boot_params *bp;

	(void)state;
	img[0x1f1] = 4;	   /* setup_sects */
	img[0x211] = 0x81; /* loadflags as the image has them */
	memcpy(img + 0x202, "HdrS", 4);
	fake_gm_init(&gm, MiB(64), 0, 0);
	assert_int_equal(boot_setup(&gm, &bc, false), 0);
	bp = (struct boot_params *)(gm.region[0].host + LAYOUT_ZERO_PAGE);
	assert_int_equal(bp->hdr.setup_sects, 4);
	assert_int_equal(bp->hdr.loadflags, 0x81);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.type_of_loader, 0xff); /* ours, not the image's */
	/* A header length beyond the image is refused, not over-read. */
	bc.img_len = 0x200;
	assert_int_equal(boot_setup(&gm, &bc, false), -EINVAL);
	fake_gm_free(&gm);
}

struct pvh_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist, cmdline, rsdp, memmap;
	uint32_t memmap_entries, reserved;
};

static void test_pvh(void **state)
{
	struct kernel_info ki = {.format = KERNEL_ELF, .cmdline_max = 2048};
	struct boot_config bc = {.ki = &ki,
				 .cmdline = "pvh",
				 .mem_size = GiB(4),
				 .initrd_gpa = MiB(64),
				 .initrd_size = 777,
				 .rsdp_gpa = LAYOUT_ACPI};
	struct guest_mem gm;
	const struct pvh_info *si;
	const uint64_t *mod, *mm;

	(void)state;
	fake_gm_init(&gm, MiB(1), 0, 0); /* boot structures only live below 1 MiB */
	assert_int_equal(boot_setup(&gm, &bc, true), 0);
	si = (const struct pvh_info *)(gm.region[0].host + LAYOUT_PVH_INFO);
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->cmdline, LAYOUT_CMDLINE);
	assert_int_equal(si->nr_modules, 1);
	assert_int_equal(si->rsdp, LAYOUT_ACPI);
	mod = (const uint64_t *)(gm.region[0].host + si->modlist);
	assert_int_equal(mod[0], MiB(64));
	assert_int_equal(mod[1], 777);
	assert_int_equal(si->memmap_entries, 3);
	mm = (const uint64_t *)(gm.region[0].host + si->memmap);
	assert_int_equal(mm[2 * 3], GiB(4)); /* third entry: 24 bytes = 3 u64 each */
	assert_int_equal(mm[2 * 3 + 1], GiB(1));
	fake_gm_free(&gm);
}

static void test_cmdline_limits(void **state)
{
	struct kernel_info ki = {.format = KERNEL_ELF, .cmdline_max = 256};
	char line[4096];
	struct boot_config bc = {.ki = &ki, .cmdline = line, .mem_size = MiB(64)};
	struct guest_mem gm;

	(void)state;
	fake_gm_init(&gm, MiB(64), 0, 0);
	memset(line, 'a', 255);
	line[255] = '\0';
	assert_int_equal(boot_setup(&gm, &bc, true), 0); /* 255 + NUL fits */
	line[255] = 'a';
	line[256] = '\0';
	assert_int_equal(boot_setup(&gm, &bc, true), -E2BIG);
	ki.cmdline_max = 100000;
	memset(line, 'b', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(boot_setup(&gm, &bc, false), -E2BIG); /* never past 2 KiB */
	fake_gm_free(&gm);
	/* Guest memory too small for the boot structures. */
	fake_gm_init(&gm, 0x8000, 0, 0);
	line[10] = '\0';
	ki.cmdline_max = 2048;
	assert_int_equal(boot_setup(&gm, &bc, false), -EFAULT);
	fake_gm_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_e820_small),
	    cmocka_unit_test(test_e820_gap),
	    cmocka_unit_test(test_initrd_placement),
	    cmocka_unit_test(test_zero_page_elf),
	    cmocka_unit_test(test_zero_page_bzimage_header_copied),
	    cmocka_unit_test(test_pvh),
	    cmocka_unit_test(test_cmdline_limits),
	};
	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
