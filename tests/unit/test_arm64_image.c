// SPDX-License-Identifier: Apache-2.0
/*
 * The arm64 Image header parser (vmm/arch/aarch64/image.c) against synthetic
 * headers: valid ones (current and pre-3.17), truncated at every length,
 * garbage, a wrong magic, each field booting.rst constrains (flags,
 * text_offset, image_size), and loading into fake RAM at 2 GiB.
 */
#include "arch/aarch64/layout.h"
#include "arch/aarch64/loader.h"
#include "unit.h"

#define IMG_LEN	 8192u
#define IMG_SIZE MiB(3) /* image_size: the file plus a bss */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An Image: branch instructions, the header fields, the magic, a body pattern. */
static uint8_t *make_image(uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *img = calloc(1, IMG_LEN);

	assert_non_null(img);
	for (unsigned i = ARM64_IMAGE_HDR_SIZE; i < IMG_LEN; i++)
		img[i] = (uint8_t)(i * 7);
	put64(img + 0, 0x14000010d503201full); /* nop; b +64 */
	put64(img + 8, text_offset);
	put64(img + 16, image_size);
	put64(img + 24, flags);
	memcpy(img + 56, "ARM\x64", 4);
	return img;
}

static int parse(const uint8_t *img, size_t len, struct kernel_info *ki)
{
	const char *why = NULL;
	int r = arm64_image_parse(img, len, ki, &why);

	/* Every refusal says why; an accepted image leaves no reason behind. */
	if (r)
		assert_non_null(why);
	else
		assert_null(why);
	return r;
}

static void test_valid(void **state)
{
	uint8_t *img = make_image(0, IMG_SIZE, 1u << 1 | ARM64_IMAGE_FLAG_ANYWHERE);
	struct kernel_info ki;

	(void)state;
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	assert_int_equal(ki.text_offset, 0);
	assert_int_equal(ki.image_size, IMG_SIZE);
	assert_int_equal(ki.file_len, IMG_LEN);
	assert_int_equal(ki.page_kib, 4);
	assert_false(ki.old_header);
	assert_int_equal(ki.cmdline_max, LAYOUT_CMDLINE_MAX);
	/* The Image goes text_offset past the first 2 MiB aligned base in RAM. */
	assert_int_equal(arm64_image_addr(&ki, LAYOUT_DRAM_START), LAYOUT_DRAM_START);
	assert_int_equal(arm64_image_addr(&ki, LAYOUT_DRAM_START + 4096),
			 LAYOUT_DRAM_START + MiB(2));
	free(img);

	/* A text_offset below 2 MiB, page sizes 16K and 64K, image_size == file. */
	img = make_image(0x80000, IMG_LEN, 2u << 1);
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	assert_int_equal(ki.text_offset, 0x80000);
	assert_int_equal(ki.page_kib, 16);
	assert_int_equal(arm64_image_addr(&ki, LAYOUT_DRAM_START), LAYOUT_DRAM_START + 0x80000);
	put64(img + 24, 3u << 1);
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	assert_int_equal(ki.page_kib, 64);
	put64(img + 24, 0);
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	assert_int_equal(ki.page_kib, 0);
	free(img);
}

/* Before v3.17: image_size 0, text_offset 0x80000 whatever the field holds. */
static void test_old_header(void **state)
{
	uint8_t *img = make_image(0x12345, 0, ARM64_IMAGE_FLAG_BE);
	struct kernel_info ki;

	(void)state;
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	assert_true(ki.old_header);
	assert_int_equal(ki.text_offset, ARM64_OLD_TEXT_OFFSET);
	assert_int_equal(ki.image_size, IMG_LEN);
	free(img);
}

static void test_truncated(void **state)
{
	uint8_t *img = make_image(0, IMG_SIZE, 0);
	struct kernel_info ki;

	(void)state;
	for (size_t len = 0; len < ARM64_IMAGE_HDR_SIZE; len++)
		assert_int_equal(parse(img, len, &ki), -ENOEXEC);
	assert_int_equal(parse(NULL, IMG_LEN, &ki), -ENOEXEC);
	/* The header alone is an Image, if a useless one. */
	assert_int_equal(parse(img, ARM64_IMAGE_HDR_SIZE, &ki), 0);
	free(img);
}

static void test_garbage(void **state)
{
	uint8_t buf[512];
	struct kernel_info ki;

	(void)state;
	srand(20);
	for (int n = 0; n < 1000; n++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rand();
		buf[56] = 'X'; /* whatever else, never the magic */
		assert_int_equal(parse(buf, sizeof(buf), &ki), -ENOEXEC);
	}
	memset(buf, 0, sizeof(buf));
	assert_int_equal(parse(buf, sizeof(buf), &ki), -ENOEXEC);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(parse(buf, sizeof(buf), &ki), -ENOEXEC);
}

static void test_bad_magic(void **state)
{
	uint8_t *img = make_image(0, IMG_SIZE, 0);
	struct kernel_info ki;

	(void)state;
	for (unsigned i = 56; i < 60; i++) {
		img[i] ^= 0x20;
		assert_int_equal(parse(img, IMG_LEN, &ki), -ENOEXEC);
		img[i] ^= 0x20;
	}
	/* Big-endian magic (a BE kernel's bytes) is not ours either. */
	memcpy(img + 56, "\x64MRA", 4);
	assert_int_equal(parse(img, IMG_LEN, &ki), -ENOEXEC);
	memcpy(img + 56, "ARM\x64", 4);
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	free(img);
}

static void test_bad_fields(void **state)
{
	static const struct {
		uint64_t text_offset, image_size, flags;
	} bad[] = {
	    {0, IMG_SIZE, ARM64_IMAGE_FLAG_BE}, /* big-endian */
	    {0, IMG_SIZE, 1u << 4},		/* reserved flag bits */
	    {0, IMG_SIZE, 1ull << 63},
	    {0x80001, IMG_SIZE, 0},	      /* text_offset not a page multiple */
	    {MiB(2), IMG_SIZE, 0},	      /* text_offset outside the 2 MiB block */
	    {~0ull & ~0xfffull, IMG_SIZE, 0}, /* ... far outside */
	    {0, IMG_LEN - 1, 0},	      /* image_size smaller than the file */
	    {0, LAYOUT_DRAM_END, 0},	      /* larger than any RAM */
	    {0, ~0ull, 0},
	};
	struct kernel_info ki;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t *img = make_image(bad[i].text_offset, bad[i].image_size, bad[i].flags);

		assert_int_equal(parse(img, IMG_LEN, &ki), -ENOEXEC);
		free(img);
	}
}

static void test_load(void **state)
{
	uint8_t *img = make_image(0x80000, IMG_SIZE, 0);
	struct guest_mem gm = {.nr_regions = 1};
	struct kernel_info ki;
	const char *why = NULL;
	uint64_t at;

	(void)state;
	gm.region[0] = (struct gm_region){.gpa = LAYOUT_DRAM_START, .size = MiB(4)};
	gm.region[0].host = calloc(1, MiB(4));
	assert_non_null(gm.region[0].host);
	assert_int_equal(parse(img, IMG_LEN, &ki), 0);
	at = arm64_image_addr(&ki, LAYOUT_DRAM_START);
	assert_int_equal(arm64_image_load(&gm, img, IMG_LEN, &ki, at, &why), 0);
	assert_memory_equal(gm.region[0].host + 0x80000, img, IMG_LEN);
	/* image_size (with the bss) must fit, not only the file. */
	gm.region[0].size = 0x80000 + IMG_SIZE - 4096;
	assert_int_equal(arm64_image_load(&gm, img, IMG_LEN, &ki, at, &why), -EFAULT);
	assert_non_null(why);
	free(gm.region[0].host);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),     cmocka_unit_test(test_old_header),
	    cmocka_unit_test(test_truncated), cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_bad_magic), cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests_name("arm64_image", tests, NULL, NULL);
}
