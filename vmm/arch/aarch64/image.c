// SPDX-License-Identifier: Apache-2.0
/*
 * The arm64 kernel Image (loader.h): its header checked field by field
 * against Documentation/arm64/booting.rst before a byte goes into the
 * guest.  Pure: reads only the bytes given, little-endian whatever the host.
 */
#include <string.h>

#include "layout.h"
#include "loader.h"

#define HDR_TEXT_OFFSET 8
#define HDR_IMAGE_SIZE	16
#define HDR_FLAGS	24
#define HDR_MAGIC	56

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int arm64_image_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why)
{
	static const unsigned page_kib[] = {0, 4, 16, 64};
	uint64_t flags;

	memset(ki, 0, sizeof(*ki));
	*why = NULL;
	if (!img || len < ARM64_IMAGE_HDR_SIZE) {
		*why = "too short for an arm64 Image header (64 bytes)";
		return -ENOEXEC;
	}
	if (le32(img + HDR_MAGIC) != ARM64_IMAGE_MAGIC) {
		*why = "not an arm64 Image (no \"ARM\\x64\" magic at byte 56; a vmlinux ELF or a "
		       "compressed Image.gz must be converted to Image first)";
		return -ENOEXEC;
	}
	ki->file_len = len;
	ki->cmdline_max = LAYOUT_CMDLINE_MAX;
	ki->image_size = le64(img + HDR_IMAGE_SIZE);
	if (!ki->image_size) {
		/* booting.rst: before v3.17 image_size is 0 and text_offset 0x80000. */
		ki->old_header = true;
		ki->text_offset = ARM64_OLD_TEXT_OFFSET;
		ki->image_size = len;
		return 0;
	}
	ki->text_offset = le64(img + HDR_TEXT_OFFSET);
	flags = le64(img + HDR_FLAGS);
	if (flags & ARM64_IMAGE_FLAG_BE) {
		*why = "big-endian arm64 Image: ember runs little-endian guests only";
		return -ENOEXEC;
	}
	if (flags & ~ARM64_IMAGE_FLAGS_KNOWN) {
		*why = "arm64 Image header sets flags booting.rst reserves (bits 4-63)";
		return -ENOEXEC;
	}
	ki->page_kib = page_kib[(flags & ARM64_IMAGE_PAGE_MASK) >> ARM64_IMAGE_PAGE_SHIFT];
	/* The Image sits text_offset past a 2 MiB aligned base: it must be inside it. */
	if (ki->text_offset >= ARM64_IMAGE_ALIGN || ki->text_offset % 4096) {
		*why = "arm64 Image text_offset is not a page multiple below 2 MiB";
		return -ENOEXEC;
	}
	if (ki->image_size < len) {
		*why = "arm64 Image header's image_size is smaller than the file";
		return -ENOEXEC;
	}
	if (ki->image_size > LAYOUT_DRAM_END - LAYOUT_DRAM_START) {
		*why = "arm64 Image header's image_size is larger than any guest's RAM";
		return -ENOEXEC;
	}
	return 0;
}

uint64_t arm64_image_addr(const struct kernel_info *ki, uint64_t ram_start)
{
	uint64_t base = (ram_start + ARM64_IMAGE_ALIGN - 1) & ~(ARM64_IMAGE_ALIGN - 1);

	return base + ki->text_offset;
}

int arm64_image_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		     const struct kernel_info *ki, uint64_t gpa, const char **why)
{
	/* image_size covers the bss too: all of it must be RAM, not only the file. */
	if (!gm_range_ok(gm, gpa, ki->image_size) || gm_write(gm, gpa, img, len)) {
		*why = "kernel Image (with its bss) does not fit in guest memory";
		return -EFAULT;
	}
	return 0;
}
