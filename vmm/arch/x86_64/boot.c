// SPDX-License-Identifier: Apache-2.0
/*
 * Guest memory set-up for the two ways into Linux:
 *   - 64-bit boot protocol: zero page at LAYOUT_ZERO_PAGE (rsi), long mode
 *     with identity-mapped page tables (boot.rst, "64-bit BOOT PROTOCOL").
 *   - PVH: hvm_start_info at LAYOUT_PVH_INFO (ebx), 32-bit flat protected
 *     mode, paging off (Xen's arch-x86/hvm/start_info.h).
 */
#include <asm/bootparam.h>
#include <string.h>

#include "arch.h"
#include "boot.h"
#include "layout.h"

/* Descriptor: base, limit and the 16 flag bits (G D/B L AVL : P DPL S TYPE). */
#define GDT_ENTRY(flags, base, limit)                                                              \
	((((uint64_t)(base)&0xff000000ull) << 32) | (((uint64_t)(flags)&0xf0ffull) << 40) |        \
	 (((uint64_t)(limit)&0xf0000ull) << 32) | (((uint64_t)(base)&0x00ffffffull) << 16) |       \
	 ((uint64_t)(limit)&0xffffull))

const uint64_t boot_gdt[GDT_ENTRIES] = {
    [0] = 0,
    [GDT_SEL_CODE32 / 8] = GDT_ENTRY(0xc09b, 0, 0xfffff), /* 32-bit code, for PVH */
    [GDT_SEL_CODE64 / 8] = GDT_ENTRY(0xa09b, 0, 0xfffff), /* 64-bit code */
    [GDT_SEL_DATA / 8] = GDT_ENTRY(0xc093, 0, 0xfffff),	  /* flat data */
    [GDT_SEL_TSS / 8] = GDT_ENTRY(0x808b, 0, 0xfffff),	  /* busy TSS: VMX wants one */
};

_Static_assert(LAYOUT_GDT + sizeof(boot_gdt) <= LAYOUT_IDT, "boot GDT overlaps the IDT");

#define PVH_MAGIC	  0x336ec578u
#define PVH_MEMMAP_MAX	  8u
#define PTE_PRESENT_RW	  0x3ull
#define PTE_PAGE_SIZE_2M  0x80ull
#define BOOT_LOADER_OTHER 0xff /* type_of_loader: "undefined" */

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

void mem_split(uint64_t mem_size, uint64_t *low, uint64_t *high)
{
	*low = mem_size < LAYOUT_MMIO_GAP_START ? mem_size : LAYOUT_MMIO_GAP_START;
	*high = mem_size - *low;
}

int e820_build(uint64_t mem_size, struct e820_range *out, unsigned max)
{
	uint64_t low, high;
	unsigned n = 0;

	mem_split(mem_size, &low, &high);
	/* Base memory ends where the EBDA (our MP table) begins. */
	if (n == max)
		return -ENOSPC;
	out[n++] = (struct e820_range){0, low < LAYOUT_EBDA ? low : LAYOUT_EBDA, E820_RAM};
	if (low > LAYOUT_HIGH_MEM) {
		if (n == max)
			return -ENOSPC;
		out[n++] = (struct e820_range){LAYOUT_HIGH_MEM, low - LAYOUT_HIGH_MEM, E820_RAM};
	}
	if (high) {
		if (n == max)
			return -ENOSPC;
		out[n++] = (struct e820_range){LAYOUT_MMIO_GAP_END, high, E820_RAM};
	}
	return (int)n;
}

int boot_place_initrd(const struct kernel_info *ki, uint64_t mem_size, uint64_t size, uint64_t *gpa)
{
	uint64_t low, high, top;

	mem_split(mem_size, &low, &high);
	/* initrd_max is the last byte the initrd may occupy, inclusive. */
	top = (uint64_t)ki->initrd_max + 1 < low ? (uint64_t)ki->initrd_max + 1 : low;
	if (size > top)
		return -ENOMEM;
	*gpa = (top - size) & ~0xfffull;
	if (*gpa < ki->load_end)
		return -ENOMEM;
	return 0;
}

static int write_pagetables(const struct guest_mem *gm)
{
	uint64_t *pml4 = gm_ptr(gm, LAYOUT_PML4, 4096);
	uint64_t *pdpt = gm_ptr(gm, LAYOUT_PDPT, 4096);
	uint64_t *pd = gm_ptr(gm, LAYOUT_PD, 4096);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT | PTE_PRESENT_RW;
	pdpt[0] = LAYOUT_PD | PTE_PRESENT_RW;
	/* 512 x 2 MiB: the first GiB, enough for kernel, zero page, command line. */
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_PRESENT_RW | PTE_PAGE_SIZE_2M;
	return 0;
}

static int write_zero_page(const struct guest_mem *gm, const struct boot_config *bc)
{
	const struct kernel_info *ki = bc->ki;
	struct e820_range map[E820_MAX_ENTRIES_ZEROPAGE];
	struct boot_params bp;
	int n;

	memset(&bp, 0, sizeof(bp));
	if (ki->format == KERNEL_BZIMAGE) {
		/* The kernel reads its own header back: give it the image's. */
		if (ki->hdr_len > sizeof(bp.hdr) || 0x1f1 + (size_t)ki->hdr_len > bc->img_len)
			return -EINVAL;
		memcpy(&bp.hdr, bc->img + 0x1f1, ki->hdr_len);
	} else {
		bp.hdr.boot_flag = 0xaa55;
		bp.hdr.header = 0x53726448; /* "HdrS" */
		bp.hdr.version = 0x020c;
		bp.hdr.kernel_alignment = 0x1000000;
		bp.hdr.loadflags = LOADED_HIGH;
	}
	bp.hdr.type_of_loader = BOOT_LOADER_OTHER;
	bp.hdr.vid_mode = 0xffff; /* "normal" */
	bp.hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp.hdr.cmdline_size = (uint32_t)strlen(bc->cmdline);
	bp.hdr.ramdisk_image = (uint32_t)bc->initrd_gpa;
	bp.hdr.ramdisk_size = (uint32_t)bc->initrd_size;
	bp.acpi_rsdp_addr = bc->rsdp_gpa;

	n = e820_build(bc->mem_size, map, ARRAY_SIZE(map));
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		bp.e820_table[i].addr = map[i].addr;
		bp.e820_table[i].size = map[i].size;
		bp.e820_table[i].type = map[i].type;
	}
	bp.e820_entries = (uint8_t)n;
	return gm_write(gm, LAYOUT_ZERO_PAGE, &bp, sizeof(bp));
}

static int write_pvh_info(const struct guest_mem *gm, const struct boot_config *bc)
{
	struct e820_range map[PVH_MEMMAP_MAX];
	struct hvm_memmap_table_entry mm[PVH_MEMMAP_MAX];
	struct hvm_start_info si = {
	    .magic = PVH_MAGIC,
	    .version = 1,
	    .cmdline_paddr = LAYOUT_CMDLINE,
	    .memmap_paddr = LAYOUT_PVH_MEMMAP,
	    .rsdp_paddr = bc->rsdp_gpa,
	};
	int n, r;

	n = e820_build(bc->mem_size, map, ARRAY_SIZE(map));
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){map[i].addr, map[i].size, map[i].type, 0};
	si.memmap_entries = (uint32_t)n;
	if (bc->initrd_size) {
		struct hvm_modlist_entry mod = {.paddr = bc->initrd_gpa, .size = bc->initrd_size};

		si.nr_modules = 1;
		si.modlist_paddr = LAYOUT_PVH_MODLIST;
		r = gm_write(gm, LAYOUT_PVH_MODLIST, &mod, sizeof(mod));
		if (r)
			return r;
	}
	r = gm_write(gm, LAYOUT_PVH_MEMMAP, mm, (uint64_t)n * sizeof(mm[0]));
	return r ? r : gm_write(gm, LAYOUT_PVH_INFO, &si, sizeof(si));
}

int boot_setup(const struct guest_mem *gm, const struct boot_config *bc, bool pvh)
{
	size_t cmdlen = strlen(bc->cmdline) + 1;
	uint64_t idt = 0;
	int r;

	if (cmdlen > bc->ki->cmdline_max || cmdlen > LAYOUT_CMDLINE_MAX)
		return -E2BIG;
	r = gm_write(gm, LAYOUT_CMDLINE, bc->cmdline, cmdlen);
	if (!r)
		r = gm_write(gm, LAYOUT_GDT, boot_gdt, sizeof(boot_gdt));
	if (!r)
		r = gm_write(gm, LAYOUT_IDT, &idt, sizeof(idt));
	if (r)
		return r;
	if (pvh)
		return write_pvh_info(gm, bc);
	r = write_pagetables(gm);
	return r ? r : write_zero_page(gm, bc);
}

unsigned arch_mem_regions(uint64_t mem_size, uint64_t start[GM_MAX_REGIONS],
			  uint64_t len[GM_MAX_REGIONS])
{
	mem_split(mem_size, &len[0], &len[1]);
	start[0] = 0;
	start[1] = LAYOUT_MMIO_GAP_END;
	return len[1] ? 2 : 1;
}

uint64_t arch_ram_end(uint64_t mem_size)
{
	uint64_t low, high;

	mem_split(mem_size, &low, &high);
	return high ? LAYOUT_MMIO_GAP_END + high : LAYOUT_MMIO_GAP_END;
}
