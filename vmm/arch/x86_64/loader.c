// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel image formats (Documentation/x86/boot.rst, the ELF spec):
 *   - ELF64 vmlinux: PT_LOAD segments at their physical addresses; e_entry is
 *     the physical 64-bit entry.  A XEN_ELFNOTE_PHYS32_ENTRY note adds the
 *     PVH entry, which we prefer: no zero page or page tables needed.
 *   - bzImage: setup sectors (skipped; we enter in long mode) followed by the
 *     protected-mode kernel, loaded at 1 MiB, entered at +0x200.
 * Every offset and size read from the image is checked against the image
 * length before use; an image is untrusted input.
 */
#include <elf.h>
#include <string.h>

#include "layout.h"
#include "loader.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* setup_header field offsets within the image (boot.rst "THE REAL-MODE KERNEL HEADER"). */
#define BZ_SETUP_SECTS	0x1f1
#define BZ_SYSSIZE	0x1f4
#define BZ_BOOT_FLAG	0x1fe
#define BZ_JUMP		0x200
#define BZ_HEADER	0x202
#define BZ_VERSION	0x206
#define BZ_LOADFLAGS	0x211
#define BZ_INITRD_MAX	0x22c
#define BZ_XLOADFLAGS	0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE	0x260
#define BZ_HDR_MIN_LEN	0x268 /* through init_size and handover_offset */
/*
 * The end of the header this loader knows (protocol 2.15, struct
 * setup_header).  A newer kernel's header may run further; the fields it
 * adds are ones we do not fill, so only this much is handed back to it.
 */
#define BZ_HDR_KNOWN_END  0x26c
#define BZ_ENTRY64_OFFSET 0x200 /* startup_64 is 512 bytes into the payload */

#define ELF_DEFAULT_INITRD_MAX 0x37ffffffu

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* [off, off+n) inside a buffer of len bytes, without wrapping. */
static bool in_file(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -ENOEXEC;
}

/* Look for the PVH entry note in one PT_NOTE segment. */
static void elf_scan_notes(const uint8_t *p, uint64_t n, struct kernel_info *ki)
{
	uint64_t pos = 0;

	while (n - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;

		memcpy(&nh, p + pos, sizeof(nh));
		pos += sizeof(nh);
		uint64_t name_len = ((uint64_t)nh.n_namesz + 3) & ~3ull;
		uint64_t desc_len = ((uint64_t)nh.n_descsz + 3) & ~3ull;

		if (name_len > n - pos || desc_len > n - pos - name_len)
			return; /* malformed note: ignore the rest, it is optional */
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(p + pos, "Xen", 4) && nh.n_descsz >= 4) {
			ki->has_pvh = true;
			ki->pvh_entry = le32(p + pos + name_len);
		}
		pos += name_len + desc_len;
	}
}

static int elf_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return fail(why, "ELF header truncated");
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(why, "not a 64-bit little-endian ELF");
	if (eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
		return fail(why, "ELF is not an x86_64 executable");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0)
		return fail(why, "ELF program header table is malformed");
	if (!in_file(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
		return fail(why, "ELF program headers lie past the end of the file (truncated?)");

	ki->format = KERNEL_ELF;
	ki->load_start = UINT64_MAX;
	ki->load_end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && in_file(len, ph.p_offset, ph.p_filesz))
			elf_scan_notes(img + ph.p_offset, ph.p_filesz, ki);
		if (ph.p_type != PT_LOAD)
			continue;
		if (!in_file(len, ph.p_offset, ph.p_filesz))
			return fail(why, "ELF segment lies past the end of the file (truncated?)");
		if (ph.p_filesz > ph.p_memsz || ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return fail(why, "ELF segment sizes are inconsistent");
		if (ki->nr_segs == KERNEL_MAX_SEGMENTS)
			return fail(why, "ELF has too many loadable segments");
		ki->seg[ki->nr_segs++] = (struct kernel_segment){
		    .offset = ph.p_offset,
		    .filesz = ph.p_filesz,
		    .paddr = ph.p_paddr,
		    .memsz = ph.p_memsz,
		};
		if (ph.p_paddr < ki->load_start)
			ki->load_start = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > ki->load_end)
			ki->load_end = ph.p_paddr + ph.p_memsz;
	}
	if (!ki->nr_segs)
		return fail(why, "ELF has no loadable segment");
	if (ki->load_start < LAYOUT_HIGH_MEM)
		return fail(why, "ELF loads below 1 MiB, over ember's boot structures");
	if (eh.e_entry < ki->load_start || eh.e_entry >= ki->load_end)
		return fail(why, "ELF entry point is outside its loaded segments");
	if (ki->has_pvh && (ki->pvh_entry < ki->load_start || ki->pvh_entry >= ki->load_end))
		ki->has_pvh = false; /* a bogus note must not redirect the boot */
	ki->entry64 = eh.e_entry;
	ki->initrd_max = ELF_DEFAULT_INITRD_MAX;
	ki->cmdline_max = LAYOUT_CMDLINE_MAX;
	return 0;
}

static int bzimage_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why)
{
	if (len < BZ_HDR_MIN_LEN)
		return fail(why, "bzImage setup header truncated");
	if (le16(img + BZ_BOOT_FLAG) != 0xaa55 || memcmp(img + BZ_HEADER, "HdrS", 4))
		return fail(why, "no Linux boot protocol header");

	uint16_t version = le16(img + BZ_VERSION);

	if (version < 0x020c)
		return fail(why, "boot protocol older than 2.12 has no 64-bit entry");
	if (!(le16(img + BZ_XLOADFLAGS) & 1 /* XLF_KERNEL_64 */))
		return fail(why, "kernel has no 64-bit entry point (XLF_KERNEL_64)");
	if (!(img[BZ_LOADFLAGS] & 1 /* LOADED_HIGH */))
		return fail(why, "zImage (not loaded high) is not supported");

	unsigned setup_sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	uint64_t setup_size = (uint64_t)(setup_sects + 1) * 512;
	uint64_t sys_size = (uint64_t)le32(img + BZ_SYSSIZE) * 16;

	/* syssize is what the build wrote: a shorter file was cut off. */
	if (!sys_size || !in_file(len, setup_size, sys_size))
		return fail(why, "bzImage payload truncated (shorter than its header says)");

	uint32_t hdr_end = BZ_JUMP + 2 + img[BZ_JUMP + 1];

	if (hdr_end > setup_size || hdr_end < BZ_HDR_MIN_LEN)
		return fail(why, "bzImage setup header length is invalid");

	uint64_t pref = le64(img + BZ_PREF_ADDRESS);
	uint32_t init_size = le32(img + BZ_INIT_SIZE);
	uint64_t end = LAYOUT_HIGH_MEM + sys_size;

	if (pref > GiB(64) || !init_size)
		return fail(why, "bzImage pref_address or init_size is invalid");
	/* The decompressor runs in [max(load, pref_address), +init_size). */
	if (pref + init_size > end)
		end = pref + init_size;

	ki->format = KERNEL_BZIMAGE;
	ki->setup_size = setup_size;
	ki->payload_size = sys_size;
	ki->hdr_len = (hdr_end < BZ_HDR_KNOWN_END ? hdr_end : BZ_HDR_KNOWN_END) - BZ_SETUP_SECTS;
	ki->entry64 = LAYOUT_HIGH_MEM + BZ_ENTRY64_OFFSET;
	ki->load_start = LAYOUT_HIGH_MEM;
	ki->load_end = end;
	ki->initrd_max = le32(img + BZ_INITRD_MAX);
	ki->cmdline_max = le32(img + BZ_CMDLINE_SIZE) + 1;
	if (ki->cmdline_max < 256 || ki->cmdline_max > LAYOUT_CMDLINE_MAX)
		ki->cmdline_max = LAYOUT_CMDLINE_MAX;
	return 0;
}

int kernel_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why)
{
	memset(ki, 0, sizeof(*ki));
	if (len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG))
		return elf_parse(img, len, ki, why);
	if (len > BZ_HEADER + 4 && !memcmp(img + BZ_HEADER, "HdrS", 4))
		return bzimage_parse(img, len, ki, why);
	return fail(why, "neither an ELF vmlinux nor a bzImage");
}

int kernel_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		const struct kernel_info *ki, const char **why)
{
	/* The whole footprint, incl. bss and decompression room, must be RAM. */
	if (!gm_range_ok(gm, ki->load_start, ki->load_end - ki->load_start))
		return fail(why, "guest memory is too small for this kernel");

	if (ki->format == KERNEL_BZIMAGE) {
		if (!in_file(len, ki->setup_size, ki->payload_size))
			return fail(why, "bzImage payload truncated");
		return gm_write(gm, LAYOUT_HIGH_MEM, img + ki->setup_size, ki->payload_size)
			   ? fail(why, "bzImage does not fit in guest memory")
			   : 0;
	}
	for (unsigned i = 0; i < ki->nr_segs; i++) {
		const struct kernel_segment *s = &ki->seg[i];
		uint8_t *dst = gm_ptr(gm, s->paddr, s->memsz);

		if (!dst || !in_file(len, s->offset, s->filesz))
			return fail(why, "ELF segment does not fit in guest memory");
		memcpy(dst, img + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}
