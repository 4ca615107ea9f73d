// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the kernel image, the one file ember boots that its user
 * may have got from anywhere: raw bytes -> kernel_parse (ELF vmlinux with or
 * without the PVH note, or bzImage) -> kernel_load into a small fake guest
 * RAM -> what vm_load does next with the parsed sizes: boot_place_initrd
 * (the input again as the initrd) and its copy in, then boot_setup for the
 * entry ember would use (and, for an ELF with a PVH note, the other entry
 * too), with a command line whose length depends on the input so that the
 * image's cmdline_size limit is hit from both sides.  What parse accepted is
 * checked against the image (entry inside the footprint, segments inside
 * the file, payload copied byte for byte, initrd below its limit and above
 * the kernel); a broken invariant aborts.  Refusals are the point.
 *
 * Not reached: mptable_build (its inputs are the vCPU count, not the image),
 * the vCPU registers for either entry (vcpu.c needs KVM), and images too big
 * for FUZZ_RAM, which are refused by the footprint check before any copy.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_loader --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <asm/bootparam.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "layout.h"
#include "loader.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

/*
 * Guest RAM: the boot structures below 1 MiB plus 1 MiB for the kernel,
 * which is all the seeds need.  One static buffer, not one per input: it is
 * never read before the loader or boot_setup writes the part checked.
 */
#define FUZZ_RAM (2u << 20)

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t elf, bzimage, loaded, initrd, booted_pvh, booted_64;
} depth;

/* A broken invariant: say which, then crash so the fuzzer keeps the input. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_loader: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool in_img(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* What kernel_parse promises about an image it accepted. */
static void check_parsed(const struct kernel_info *ki, size_t len)
{
	CHECK(ki->load_start >= LAYOUT_HIGH_MEM && ki->load_start < ki->load_end);
	CHECK(ki->cmdline_max >= 1 && ki->cmdline_max <= LAYOUT_CMDLINE_MAX);
	if (ki->has_pvh)
		CHECK(ki->pvh_entry >= ki->load_start && ki->pvh_entry < ki->load_end);
	if (ki->format == KERNEL_BZIMAGE) {
		CHECK(!ki->has_pvh && ki->entry64 == LAYOUT_HIGH_MEM + 0x200);
		CHECK(ki->payload_size && in_img(len, ki->setup_size, ki->payload_size));
		CHECK(ki->load_end >= LAYOUT_HIGH_MEM + ki->payload_size);
		/* The zero page copies hdr_len bytes from 0x1f1 of the image. */
		CHECK(in_img(len, 0x1f1, ki->hdr_len));
		return;
	}
	CHECK(ki->format == KERNEL_ELF);
	CHECK(ki->entry64 >= ki->load_start && ki->entry64 < ki->load_end);
	CHECK(ki->nr_segs >= 1 && ki->nr_segs <= KERNEL_MAX_SEGMENTS);
	for (unsigned i = 0; i < ki->nr_segs; i++) {
		const struct kernel_segment *s = &ki->seg[i];

		CHECK(in_img(len, s->offset, s->filesz) && s->filesz <= s->memsz);
		CHECK(s->paddr >= ki->load_start && s->paddr + s->memsz <= ki->load_end);
	}
}

/* The copy is the file: the payload, or the last segment (later ones overwrite). */
static void check_loaded(const uint8_t *ram, const uint8_t *img, const struct kernel_info *ki)
{
	const struct kernel_segment *s = &ki->seg[ki->nr_segs ? ki->nr_segs - 1 : 0];

	if (ki->format == KERNEL_BZIMAGE) {
		CHECK(!memcmp(ram + LAYOUT_HIGH_MEM, img + ki->setup_size, ki->payload_size));
		return;
	}
	CHECK(!memcmp(ram + s->paddr, img + s->offset, s->filesz));
	for (uint64_t i = s->filesz; i < s->memsz; i++)
		CHECK(ram[s->paddr + i] == 0);
}

/* boot_setup, as vm_load calls it, and what it must have written. */
static void fuzz_boot(const struct guest_mem *gm, struct boot_config *bc, bool pvh)
{
	const uint8_t *ram = gm->region[0].host;
	size_t cmdlen = strlen(bc->cmdline);
	int r = boot_setup(gm, bc, pvh);

	if (cmdlen + 1 > bc->ki->cmdline_max) {
		CHECK(r == -E2BIG);
		return;
	}
	/* Whatever header the image has, the zero page takes what ember knows of it. */
	CHECK(r == 0);
	CHECK(!memcmp(ram + LAYOUT_CMDLINE, bc->cmdline, cmdlen + 1));
	if (pvh) {
		uint32_t magic;

		memcpy(&magic, ram + LAYOUT_PVH_INFO, sizeof(magic));
		CHECK(magic == 0x336ec578u);
		depth.booted_pvh++;
	} else {
		const struct boot_params *bp = (const void *)(ram + LAYOUT_ZERO_PAGE);

		/* The image's header is copied into the zero page, never past its hdr. */
		if (bc->ki->format == KERNEL_BZIMAGE)
			CHECK(bc->ki->hdr_len <= sizeof(struct setup_header));
		CHECK(bp->hdr.cmd_line_ptr == LAYOUT_CMDLINE && bp->hdr.cmdline_size == cmdlen);
		CHECK(bp->hdr.ramdisk_image == bc->initrd_gpa &&
		      bp->hdr.ramdisk_size == bc->initrd_size);
		depth.booted_64++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(4096) uint8_t ram[FUZZ_RAM]; /* pages, as guest RAM is */
	static char cmdline[LAYOUT_CMDLINE_MAX + 64];
	struct guest_mem gm = {.nr_regions = 1};
	struct kernel_info ki;
	struct boot_config bc = {.ki = &ki, .img = data, .img_len = size, .mem_size = FUZZ_RAM};
	const char *why = NULL;
	uint32_t sum = 0;
	size_t cmdlen;

	if (kernel_parse(data, size, &ki, &why)) {
		CHECK(why && *why);
		return 0;
	}
	check_parsed(&ki, size);
	if (ki.format == KERNEL_ELF)
		depth.elf++;
	else
		depth.bzimage++;
	gm.region[0] = (struct gm_region){.gpa = 0, .size = FUZZ_RAM, .host = ram};
	if (kernel_load(&gm, data, size, &ki, &why)) {
		/* Refused only when the footprint is not RAM. */
		CHECK(ki.load_end > FUZZ_RAM);
		return 0;
	}
	CHECK(ki.load_end <= FUZZ_RAM);
	check_loaded(ram, data, &ki);
	depth.loaded++;

	/* The image doubles as the initrd: a size the fuzzer controls, up to all of it. */
	for (size_t i = 0; i < size; i++)
		sum = sum * 31 + data[i];
	bc.initrd_size = size - sum % (size + 1);
	if (bc.initrd_size &&
	    !boot_place_initrd(&ki, bc.mem_size, bc.initrd_size, &bc.initrd_gpa)) {
		CHECK(!(bc.initrd_gpa & 0xfff) && bc.initrd_gpa >= ki.load_end);
		CHECK(bc.initrd_gpa + bc.initrd_size <= (uint64_t)ki.initrd_max + 1);
		CHECK(!gm_write(&gm, bc.initrd_gpa, data, bc.initrd_size));
		depth.initrd++;
	} else {
		bc.initrd_size = 0;
	}

	/* A command line around the image's limit: short for most, too long for some. */
	cmdlen = (sum >> 8) % 4 ? (sum >> 10) % 64 : (sum >> 10) % sizeof(cmdline);
	memset(cmdline, 'x', cmdlen);
	cmdline[cmdlen] = '\0';
	bc.cmdline = cmdline;
	fuzz_boot(&gm, &bc, ki.has_pvh);
	if (ki.has_pvh) /* the 64-bit entry stays valid for an ELF with a PVH note */
		fuzz_boot(&gm, &bc, false);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds: images as the kernel's build lays them out ---------------- */

#define SEED_PADDR LAYOUT_HIGH_MEM
#define SEED_CODE  256u
#define SEED_BSS   8192u

/*
 * A vmlinux: two PT_LOADs (text, then data + bss), a PT_NOTE whose second
 * note is the PVH entry (a GNU build-id note first, as in a real kernel).
 */
static void seed_elf(struct fuzz_seed *s, unsigned *n, const char *name, bool pvh)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[3];
		Elf64_Nhdr gnu;
		char gnu_name[4];
		uint8_t build_id[8];
		Elf64_Nhdr xen;
		char xen_name[4];
		uint32_t xen_entry;
		uint8_t text[SEED_CODE], data[SEED_CODE];
	} f;

	memset(&f, 0, sizeof(f));
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_entry = SEED_PADDR;
	f.eh.e_phoff = offsetof(typeof(f), ph);
	f.eh.e_ehsize = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 3;
	f.ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			       .p_flags = PF_R | PF_X,
			       .p_offset = offsetof(typeof(f), text),
			       .p_vaddr = 0xffffffff81000000ull,
			       .p_paddr = SEED_PADDR,
			       .p_filesz = SEED_CODE,
			       .p_memsz = SEED_CODE};
	f.ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
			       .p_flags = PF_R | PF_W,
			       .p_offset = offsetof(typeof(f), data),
			       .p_vaddr = 0xffffffff81001000ull,
			       .p_paddr = SEED_PADDR + 0x1000,
			       .p_filesz = SEED_CODE,
			       .p_memsz = SEED_CODE + SEED_BSS};
	f.ph[2] = (Elf64_Phdr){.p_type = PT_NOTE,
			       .p_offset = offsetof(typeof(f), gnu),
			       .p_filesz = offsetof(typeof(f), text) - offsetof(typeof(f), gnu)};
	f.gnu = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 8, .n_type = NT_GNU_BUILD_ID};
	memcpy(f.gnu_name, "GNU", 4);
	memcpy(f.build_id, "\x12\x34\x56\x78\x9a\xbc\xde\xf0", 8);
	f.xen = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = pvh ? 18 : 17};
	memcpy(f.xen_name, "Xen", 4);
	f.xen_entry = SEED_PADDR + 0x10;
	memset(f.text, 0x90, sizeof(f.text));
	memset(f.data, 0xa5, sizeof(f.data));
	fuzz_seed_add(s, n, name, &f, sizeof(f));
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A bzImage: boot sector + @setup_sects setup sectors, then the payload. */
static void seed_bzimage(struct fuzz_seed *s, unsigned *n, const char *name, uint8_t setup_sects,
			 uint16_t version, uint32_t cmdline_size)
{
	size_t setup = ((size_t)(setup_sects ? setup_sects : 4) + 1) * 512, payload = 2048;
	uint8_t *b = calloc(1, setup + payload);

	if (!b)
		abort();
	b[0x1f1] = setup_sects;
	put_le(b + 0x1f4, payload / 16, 4); /* syssize, 16-byte units */
	put_le(b + 0x1fe, 0xaa55, 2);
	b[0x200] = 0xeb; /* jmp short over the header ... */
	b[0x201] = 0x66; /* ... which ends at 0x268 */
	memcpy(b + 0x202, "HdrS", 4);
	put_le(b + 0x206, version, 2);
	b[0x211] = 0x01;		  /* LOADED_HIGH */
	put_le(b + 0x22c, 0x37ffffff, 4); /* initrd_addr_max */
	put_le(b + 0x230, 0x200000, 4);	  /* kernel_alignment */
	put_le(b + 0x236, 0x1 | 0x2, 2);  /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	put_le(b + 0x238, cmdline_size, 4);
	put_le(b + 0x258, 0x100000, 8); /* pref_address */
	put_le(b + 0x260, 0x20000, 4);	/* init_size: 128 KiB to decompress in */
	memset(b + setup, 0xcc, payload);
	fuzz_seed_add(s, n, name, b, setup + payload);
	free(b);
}

static int fuzz_report(void)
{
	printf("fuzz_loader: %zu ELF and %zu bzImage accepted, %zu loaded, %zu initrds placed, "
	       "%zu PVH and %zu 64-bit boot set-ups\n",
	       depth.elf, depth.bzimage, depth.loaded, depth.initrd, depth.booted_pvh,
	       depth.booted_64);
	return !depth.elf || !depth.bzimage || !depth.loaded || !depth.initrd ||
	       !depth.booted_pvh || !depth.booted_64;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	unsigned n = 0;

	if (max < 4)
		abort();
	seed_elf(s, &n, "vmlinux-pvh", true);
	seed_elf(s, &n, "vmlinux-no-pvh", false);
	seed_bzimage(s, &n, "bzimage-2.15", 2, 0x020f, 2047);
	/* setup_sects 0 means 4; a 255-byte cmdline limit is the smallest kept. */
	seed_bzimage(s, &n, "bzimage-2.12-sects0", 0, 0x020c, 255);
	return n;
}

#endif
