/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel image parsing and loading.  kernel_parse() only reads the image
 * bytes (no KVM, no guest memory), so it is unit-tested against valid,
 * truncated and garbage images; kernel_load() copies a parsed image in.
 */
#ifndef EMBER_LOADER_H
#define EMBER_LOADER_H

#include "ember.h"

enum kernel_format { KERNEL_ELF, KERNEL_BZIMAGE };

#define KERNEL_MAX_SEGMENTS 16

struct kernel_segment {
	uint64_t offset, filesz; /* in the file */
	uint64_t paddr, memsz;	 /* in the guest */
};

struct kernel_info {
	enum kernel_format format;
	uint64_t entry64;     /* 64-bit boot protocol entry (guest-physical) */
	bool has_pvh;	      /* ELF carries XEN_ELFNOTE_PHYS32_ENTRY */
	uint32_t pvh_entry;   /* 32-bit PVH entry */
	uint64_t load_start;  /* lowest guest address the kernel occupies */
	uint64_t load_end;    /* one past the highest, incl. decompression room */
	uint32_t initrd_max;  /* highest address the initrd may end at (inclusive) */
	uint32_t cmdline_max; /* bytes incl. the NUL */

	/* KERNEL_ELF */
	struct kernel_segment seg[KERNEL_MAX_SEGMENTS];
	unsigned nr_segs;

	/* KERNEL_BZIMAGE */
	uint64_t setup_size;   /* real-mode part, skipped */
	uint64_t payload_size; /* protected-mode part, loaded at LAYOUT_HIGH_MEM */
	uint32_t hdr_len;      /* bytes of setup_header to copy from 0x1f1 */
};

/*
 * Returns 0, or -ENOEXEC with *why set to a static sentence saying what is
 * wrong with the image.
 */
int kernel_parse(const uint8_t *img, size_t len, struct kernel_info *ki, const char **why);
int kernel_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		const struct kernel_info *ki, const char **why);

#endif /* EMBER_LOADER_H */
