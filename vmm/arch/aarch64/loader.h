/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.h (aarch64) - the arm64 kernel Image (Documentation/arm64/
 * booting.rst): its 64-byte header parsed from the bytes alone, so
 * unit-testable on any host, and where the Image goes in guest memory.
 */
#ifndef EMBER_LOADER_H
#define EMBER_LOADER_H

#include "ember.h"

#define ARM64_IMAGE_HDR_SIZE  64u
#define ARM64_IMAGE_MAGIC     0x644d5241u /* "ARM\x64", little-endian */
#define ARM64_IMAGE_ALIGN     MiB(2)	  /* the Image's base: 2 MiB aligned */
#define ARM64_OLD_TEXT_OFFSET 0x80000u	  /* kernels before v3.17 (image_size 0) */

/* flags: bit 0 big-endian, bits 1-2 page size, bit 3 placement anywhere. */
#define ARM64_IMAGE_FLAG_BE	  (1ull << 0)
#define ARM64_IMAGE_PAGE_SHIFT	  1
#define ARM64_IMAGE_PAGE_MASK	  (3ull << ARM64_IMAGE_PAGE_SHIFT)
#define ARM64_IMAGE_FLAG_ANYWHERE (1ull << 3)
#define ARM64_IMAGE_FLAGS_KNOWN	  0xfull

struct kernel_info {
	uint64_t text_offset; /* from the 2 MiB aligned base to the Image */
	/*
	 * Bytes from the Image's start the kernel needs free (text, data,
	 * bss): the header's image_size, or for a pre-3.17 kernel (0 there)
	 * the file's length, the most we know.
	 */
	uint64_t image_size;
	uint64_t file_len;
	unsigned page_kib;    /* 4, 16, 64, or 0: the header does not say */
	bool old_header;      /* image_size was 0 (before v3.17) */
	uint32_t cmdline_max; /* bytes incl. the NUL */
};

/*
 * image.c, pure (unit-tested on any host, hence its own names): 0, or
 * -ENOEXEC with *why set to a static sentence saying what is wrong with the
 * image (too short, not an arm64 Image, big-endian, sizes that do not add up).
 */
int arm64_image_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why);
/* Where the Image starts for RAM at @ram_start: the next 2 MiB aligned base plus text_offset. */
uint64_t arm64_image_addr(const struct kernel_info *ki, uint64_t ram_start);
/* Copies the Image to @gpa: 0, or -EFAULT with *why when it (and its bss) is not all RAM. */
int arm64_image_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		     const struct kernel_info *ki, uint64_t gpa, const char **why);

/* What launch.c calls on every architecture: arm64_image_parse. */
int kernel_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why);

#endif /* EMBER_LOADER_H */
