// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for what the aarch64 port reads or writes from what its user
 * gave it: raw bytes -> arm64_image_parse (the kernel Image header) ->
 * arm64_image_load into a small fake RAM at 2 GiB, then the device tree
 * (arm64_fdt_build) with the input's bytes as the command line and the
 * vCPU and device counts taken from it, parsed back with libfdt.  What
 * the parser accepted is checked against booting.rst (text_offset inside
 * the 2 MiB block, image_size at least the file, the Image copied byte for
 * byte); the tree must be valid and carry the command line unchanged, or be
 * refused for room.  A broken invariant aborts.
 *
 * `make fuzz` (driver.h) runs the built-in seeds and 2000 mutations of each.
 */
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/aarch64/arm64_fdt.h"
#include "arch/aarch64/layout.h"
#include "arch/aarch64/loader.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

#define FUZZ_RAM (4u << 20)
#define FDT_CAP	 (32u << 10) /* above the largest size tree() asks for */

static struct {
	size_t parsed, loaded, trees, too_big;
} depth;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_arm64_image: %s:%d: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint8_t ram[FUZZ_RAM], fdt[FDT_CAP];

static void load(const uint8_t *data, size_t size, const struct kernel_info *ki)
{
	struct guest_mem gm = {.nr_regions = 1};
	const char *why = NULL;
	uint64_t at = arm64_image_addr(ki, LAYOUT_DRAM_START);

	gm.region[0] = (struct gm_region){.gpa = LAYOUT_DRAM_START, .size = FUZZ_RAM, .host = ram};
	CHECK((at - ki->text_offset) % ARM64_IMAGE_ALIGN == 0);
	if (arm64_image_load(&gm, data, size, ki, at, &why)) {
		CHECK(why && ki->image_size > FUZZ_RAM - (at - LAYOUT_DRAM_START));
		return;
	}
	CHECK(!memcmp(ram + (at - LAYOUT_DRAM_START), data, size));
	depth.loaded++;
}

/* The input as a command line (up to its first NUL), its first bytes as counts. */
static void tree(const uint8_t *data, size_t size)
{
	static const uint64_t mpidr[8] = {0x80000000, 1, 2, 3, 0x10, 0x11, 0x100, 0xff00000000};
	struct arm64_fdt_dev devs[MAX_VIRTIO_DEVS];
	char cmdline[LAYOUT_CMDLINE_MAX];
	size_t n =
	    strnlen((const char *)data, size < sizeof(cmdline) - 1 ? size : sizeof(cmdline) - 1);
	struct arm64_fdt_config c = {
	    .nr_cpus = size ? 1 + data[0] % 8 : 1,
	    .mpidr = mpidr,
	    .mem_start = LAYOUT_DRAM_START,
	    .mem_size = MiB(128),
	    .cmdline = cmdline,
	    .initrd_start = LAYOUT_DRAM_START + MiB(64),
	    .initrd_size = size,
	    .gicd_base = LAYOUT_GICD_BASE,
	    .gicd_size = LAYOUT_GICD_SIZE,
	    .gicr_base = LAYOUT_GICR_BASE(8),
	    .gicr_size = 8 * LAYOUT_GICR_SIZE,
	    .serial = {LAYOUT_SERIAL, 8, IRQ_SERIAL},
	    .virtio = devs,
	    .nr_virtio = size > 1 ? data[1] % (MAX_VIRTIO_DEVS + 1) : 0,
	};
	const char *got;
	int r, len;

	memcpy(cmdline, data, n);
	cmdline[n] = '\0';
	for (unsigned i = 0; i < MAX_VIRTIO_DEVS; i++)
		devs[i] = (struct arm64_fdt_dev){LAYOUT_VIRTIO_BASE + i * LAYOUT_VIRTIO_SLOT,
						 LAYOUT_VIRTIO_SLOT, IRQ_VIRTIO_FIRST + i};
	/* A buffer size from the input too, so running out of room is reached. */
	r = arm64_fdt_build(fdt, size > 2 ? 512 + (size_t)data[2] * 64 : FDT_CAP, &c);
	if (r == -ENOSPC) {
		depth.too_big++;
		return;
	}
	CHECK(r > 0 && fdt_check_header(fdt) == 0 && (int)fdt_totalsize(fdt) == r);
	got = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "bootargs", &len);
	CHECK(got && len == (int)n + 1 && !strcmp(got, cmdline));
	depth.trees++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kernel_info ki;
	const char *why = NULL;

	tree(data, size);
	if (arm64_image_parse(data, size, &ki, &why)) {
		CHECK(why != NULL);
		return 0;
	}
	CHECK(why == NULL && size >= ARM64_IMAGE_HDR_SIZE);
	CHECK(ki.text_offset < ARM64_IMAGE_ALIGN && ki.image_size >= size);
	depth.parsed++;
	load(data, size, &ki);
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	static const struct {
		const char *name;
		uint64_t text_offset, image_size, flags;
	} hdr[] = {
	    {"image-4k", 0, 0x10000, 0xa},
	    {"image-text-offset", 0x80000, 0x20000, 0x2},
	    {"image-old", 0x80000, 0, 0},
	    {"image-too-big", 0, 0x1000000, 0x8},
	};
	uint8_t img[4096];
	unsigned n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(hdr) && n < max; i++) {
		memset(img, 0, sizeof(img));
		memcpy(img, "console=ttyS0 reboot=k panic=1", 30);
		put64(img + 8, hdr[i].text_offset);
		put64(img + 16, hdr[i].image_size);
		put64(img + 24, hdr[i].flags);
		memcpy(img + 56, "ARM\x64", 4);
		fuzz_seed_add(s, &n, hdr[i].name, img, sizeof(img));
	}
	return n;
}

static int fuzz_report(void)
{
	printf("fuzz_arm64_image: %zu Images parsed, %zu loaded, %zu trees, %zu out of room\n",
	       depth.parsed, depth.loaded, depth.trees, depth.too_big);
	/* The seeds must keep reaching every stage. */
	return depth.parsed && depth.loaded && depth.trees && depth.too_big ? 0 : 1;
}
