// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel image parsers against synthetic images (valid, truncated at every
 * interesting point, garbage, each malformed field) and, when the guest
 * kernel cache has them, the real vmlinux and bzImage.
 */
#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "loader.h"
#include "unit.h"

#define ELF_PADDR 0x1000000ull
#define ELF_CODE  64u
#define ELF_BSS	  4096u
#define PVH_ENTRY 0x1000010u

/* A minimal vmlinux: ehdr, PT_LOAD (code + bss), PT_NOTE with the PVH entry. */
struct fake_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	struct {
		Elf64_Nhdr nh;
		char name[4];
		uint32_t desc;
	} note;
	uint8_t code[ELF_CODE];
};

static void make_elf(struct fake_elf *f, bool pvh)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_type = ET_EXEC;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_entry = ELF_PADDR;
	f->eh.e_phoff = offsetof(struct fake_elf, ph);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = pvh ? 2 : 1;
	f->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_offset = offsetof(struct fake_elf, code),
				.p_paddr = ELF_PADDR,
				.p_filesz = ELF_CODE,
				.p_memsz = ELF_CODE + ELF_BSS};
	f->ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
				.p_offset = offsetof(struct fake_elf, note),
				.p_filesz = sizeof(f->note)};
	f->note.nh = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = 18};
	memcpy(f->note.name, "Xen", 4);
	f->note.desc = PVH_ENTRY;
	memset(f->code, 0x90, sizeof(f->code));
}

static int parse(const void *img, size_t len, struct kernel_info *ki, const char **why)
{
	*why = NULL;
	return kernel_parse(img, len, ki, why);
}

static void test_elf_valid(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	const char *why;

	(void)state;
	make_elf(&f, false);
	assert_int_equal(parse(&f, sizeof(f), &ki, &why), 0);
	assert_int_equal(ki.format, KERNEL_ELF);
	assert_false(ki.has_pvh);
	assert_int_equal(ki.entry64, ELF_PADDR);
	assert_int_equal(ki.nr_segs, 1);
	assert_int_equal(ki.load_start, ELF_PADDR);
	assert_int_equal(ki.load_end, ELF_PADDR + ELF_CODE + ELF_BSS);

	make_elf(&f, true);
	assert_int_equal(parse(&f, sizeof(f), &ki, &why), 0);
	assert_true(ki.has_pvh);
	assert_int_equal(ki.pvh_entry, PVH_ENTRY);
}

static void test_elf_pvh_note_outside_image_ignored(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	const char *why;

	(void)state;
	make_elf(&f, true);
	f.note.desc = 0x1000; /* below the kernel: must not become the entry */
	assert_int_equal(parse(&f, sizeof(f), &ki, &why), 0);
	assert_false(ki.has_pvh);
	make_elf(&f, true);
	f.note.nh.n_descsz = 0x7fffffff; /* note claims more bytes than exist */
	assert_int_equal(parse(&f, sizeof(f), &ki, &why), 0);
	assert_false(ki.has_pvh);
}

static void test_elf_truncated(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	const char *why;
	const size_t cuts[] = {4, sizeof(Elf64_Ehdr) - 1, offsetof(struct fake_elf, ph) + 10,
			       offsetof(struct fake_elf, code) + 1,
			       offsetof(struct fake_elf, code) + ELF_CODE - 1};

	(void)state;
	make_elf(&f, false);
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		assert_int_equal(parse(&f, cuts[i], &ki, &why), -ENOEXEC);
		assert_non_null(why);
	}
}

static void test_elf_malformed(void **state)
{
	struct fake_elf f;
	struct kernel_info ki;
	const char *why;

	(void)state;
#define EXPECT_BAD(mutation)                                                                       \
	do {                                                                                       \
		make_elf(&f, false);                                                               \
		mutation;                                                                          \
		assert_int_equal(parse(&f, sizeof(f), &ki, &why), -ENOEXEC);                       \
		assert_non_null(why);                                                              \
	} while (0)
	EXPECT_BAD(f.eh.e_ident[EI_CLASS] = ELFCLASS32);
	EXPECT_BAD(f.eh.e_ident[EI_DATA] = ELFDATA2MSB);
	EXPECT_BAD(f.eh.e_machine = EM_AARCH64);
	EXPECT_BAD(f.eh.e_type = ET_DYN);
	EXPECT_BAD(f.eh.e_phentsize = 10);
	EXPECT_BAD(f.eh.e_phnum = 0);
	EXPECT_BAD(f.eh.e_phnum = 0xffff);
	EXPECT_BAD(f.eh.e_phoff = UINT64_MAX - 8);
	EXPECT_BAD(f.ph[0].p_offset = UINT64_MAX - 8);
	EXPECT_BAD(f.ph[0].p_filesz = f.ph[0].p_memsz + 1);
	EXPECT_BAD(f.ph[0].p_paddr = UINT64_MAX - 100);
	EXPECT_BAD(f.ph[0].p_paddr = 0x1000); /* over ember's boot structures */
	EXPECT_BAD(f.ph[0].p_type = PT_NULL);
	EXPECT_BAD(f.eh.e_entry = 0x42);
#undef EXPECT_BAD
}

/* A bzImage: 4 setup sectors + boot sector, then the payload. */
#define BZ_SETUP_SECTS 4u
#define BZ_SETUP_SIZE  ((BZ_SETUP_SECTS + 1) * 512u)
#define BZ_PAYLOAD     8192u
#define BZ_INIT_SIZE   0x800000u

static uint8_t *make_bzimage(size_t *len)
{
	uint8_t *b = calloc(1, BZ_SETUP_SIZE + BZ_PAYLOAD);
	uint32_t syssize = BZ_PAYLOAD / 16, init_size = BZ_INIT_SIZE, cmdsize = 2047;
	uint32_t initrd_max = 0x7fffffff;
	uint64_t pref = 0x1000000;
	uint16_t version = 0x020f, xlf = 0x1 | 0x2;

	assert_non_null(b);
	b[0x1f1] = BZ_SETUP_SECTS;
	memcpy(b + 0x1f4, &syssize, 4);
	b[0x1fe] = 0x55;
	b[0x1ff] = 0xaa;
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &version, 2);
	b[0x211] = 0x01; /* LOADED_HIGH */
	memcpy(b + 0x22c, &initrd_max, 4);
	memcpy(b + 0x236, &xlf, 2);
	memcpy(b + 0x238, &cmdsize, 4);
	memcpy(b + 0x258, &pref, 8);
	memcpy(b + 0x260, &init_size, 4);
	memset(b + BZ_SETUP_SIZE, 0xcc, BZ_PAYLOAD);
	*len = BZ_SETUP_SIZE + BZ_PAYLOAD;
	return b;
}

static void test_bzimage_valid(void **state)
{
	struct kernel_info ki;
	const char *why;
	size_t len;
	uint8_t *b = make_bzimage(&len);

	(void)state;
	assert_int_equal(parse(b, len, &ki, &why), 0);
	assert_int_equal(ki.format, KERNEL_BZIMAGE);
	assert_int_equal(ki.setup_size, BZ_SETUP_SIZE);
	assert_int_equal(ki.payload_size, BZ_PAYLOAD);
	assert_int_equal(ki.entry64, LAYOUT_HIGH_MEM + 0x200);
	assert_int_equal(ki.load_end, 0x1000000 + BZ_INIT_SIZE);
	assert_int_equal(ki.hdr_len, 0x26c - 0x1f1);
	assert_int_equal(ki.cmdline_max, 2048);
	assert_int_equal(ki.initrd_max, 0x7fffffff);
	free(b);
}

/*
 * A kernel newer than ember may have a longer header (the jump at 0x200
 * says how long): it boots, and only the header ember knows goes back to it
 * in the zero page (boot_setup refused it before, with a message about
 * guest memory).
 */
static void test_bzimage_longer_header(void **state)
{
	struct kernel_info ki;
	const char *why;
	size_t len;
	uint8_t *b = make_bzimage(&len);

	(void)state;
	b[0x201] = 0x7e; /* header ends at 0x280 */
	assert_int_equal(parse(b, len, &ki, &why), 0);
	assert_int_equal(ki.hdr_len, 0x26c - 0x1f1);
	free(b);
}

static void test_bzimage_truncated(void **state)
{
	struct kernel_info ki;
	const char *why;
	size_t len;
	uint8_t *b = make_bzimage(&len);
	const size_t cuts[] = {0x100, 0x205, 0x250, BZ_SETUP_SIZE, BZ_SETUP_SIZE + 1, len - 1};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		assert_int_equal(parse(b, cuts[i], &ki, &why), -ENOEXEC);
		assert_non_null(why);
	}
	free(b);
}

static void test_bzimage_malformed(void **state)
{
	struct kernel_info ki;
	const char *why;
	size_t len;
	uint8_t *b;

	(void)state;
#define EXPECT_BAD(mutation)                                                                       \
	do {                                                                                       \
		b = make_bzimage(&len);                                                            \
		mutation;                                                                          \
		assert_int_equal(parse(b, len, &ki, &why), -ENOEXEC);                              \
		assert_non_null(why);                                                              \
		free(b);                                                                           \
	} while (0)
	EXPECT_BAD(b[0x1fe] = 0);		/* boot flag */
	EXPECT_BAD(b[0x206] = 0x0b);		/* protocol 2.11 */
	EXPECT_BAD(b[0x236] = 0);		/* no XLF_KERNEL_64 */
	EXPECT_BAD(b[0x211] = 0);		/* zImage */
	EXPECT_BAD(memset(b + 0x1f4, 0xff, 4)); /* syssize past the end */
	EXPECT_BAD(memset(b + 0x1f4, 0, 4));	/* empty payload */
	EXPECT_BAD(b[0x201] = 0);		/* header too short */
	EXPECT_BAD(memset(b + 0x260, 0, 4));	/* init_size 0 */
	EXPECT_BAD(memset(b + 0x258, 0xff, 8)); /* absurd pref_address */
#undef EXPECT_BAD
}

static void test_garbage(void **state)
{
	struct kernel_info ki;
	const char *why;
	uint8_t junk[65536];

	(void)state;
	srand(1);
	for (int round = 0; round < 64; round++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)rand();
		assert_int_equal(parse(junk, sizeof(junk), &ki, &why), -ENOEXEC);
	}
	assert_int_equal(parse(junk, 0, &ki, &why), -ENOEXEC);
	assert_int_equal(parse("\x7f"
			       "ELF",
			       4, &ki, &why),
			 -ENOEXEC);
	/* Garbage behind valid magic numbers must still be refused, not crash. */
	memcpy(junk, ELFMAG, SELFMAG);
	assert_int_equal(parse(junk, sizeof(junk), &ki, &why), -ENOEXEC);
}

static void test_load_elf(void **state)
{
	struct guest_mem gm;
	struct fake_elf f;
	struct kernel_info ki;
	const char *why;

	(void)state;
	make_elf(&f, true);
	assert_int_equal(parse(&f, sizeof(f), &ki, &why), 0);
	fake_gm_init(&gm, MiB(32), 0, 0);
	memset(gm.region[0].host + ELF_PADDR, 0xaa, ELF_CODE + ELF_BSS);
	assert_int_equal(kernel_load(&gm, (const uint8_t *)&f, sizeof(f), &ki, &why), 0);
	assert_memory_equal(gm.region[0].host + ELF_PADDR, f.code, ELF_CODE);
	for (unsigned i = 0; i < ELF_BSS; i++) /* bss zeroed */
		assert_int_equal(gm.region[0].host[ELF_PADDR + ELF_CODE + i], 0);
	fake_gm_free(&gm);

	fake_gm_init(&gm, ELF_PADDR + ELF_CODE, 0, 0); /* bss does not fit */
	assert_int_equal(kernel_load(&gm, (const uint8_t *)&f, sizeof(f), &ki, &why), -ENOEXEC);
	fake_gm_free(&gm);
}

static void test_load_bzimage(void **state)
{
	struct guest_mem gm;
	struct kernel_info ki;
	const char *why;
	size_t len;
	uint8_t *b = make_bzimage(&len);

	(void)state;
	assert_int_equal(parse(b, len, &ki, &why), 0);
	fake_gm_init(&gm, MiB(32), 0, 0);
	assert_int_equal(kernel_load(&gm, b, len, &ki, &why), 0);
	assert_memory_equal(gm.region[0].host + LAYOUT_HIGH_MEM, b + BZ_SETUP_SIZE, BZ_PAYLOAD);
	fake_gm_free(&gm);
	/* The decompressor needs pref_address + init_size = 24 MiB of RAM. */
	fake_gm_init(&gm, MiB(20), 0, 0);
	assert_int_equal(kernel_load(&gm, b, len, &ki, &why), -ENOEXEC);
	fake_gm_free(&gm);
	free(b);
}

/* Reads the whole file, or returns NULL (the test then skips). */
static uint8_t *slurp_cached(const char *name, size_t *len)
{
	char pattern[512];
	const char *home = getenv("HOME");
	glob_t g;
	uint8_t *buf = NULL;

	snprintf(pattern, sizeof(pattern), "%s/.cache/ember/kernel-*/%s", home ? home : "/root",
		 name);
	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc)
		return NULL;
	FILE *f = fopen(g.gl_pathv[0], "rb");
	struct stat st;

	if (f && !fstat(fileno(f), &st) && (buf = malloc((size_t)st.st_size)) &&
	    fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
		*len = (size_t)st.st_size;
	else {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	globfree(&g);
	return buf;
}

static void test_real_images(void **state)
{
	struct kernel_info ki;
	const char *why;
	size_t len = 0;
	uint8_t *img;

	(void)state;
	img = slurp_cached("vmlinux", &len);
	if (!img)
		skip();
	assert_int_equal(parse(img, len, &ki, &why), 0);
	assert_int_equal(ki.format, KERNEL_ELF);
	assert_true(ki.has_pvh); /* CONFIG_PVH=y in guest/kernel.config */
	assert_int_equal(parse(img, len / 2, &ki, &why), -ENOEXEC);
	free(img);

	img = slurp_cached("bzImage", &len);
	assert_non_null(img);
	assert_int_equal(parse(img, len, &ki, &why), 0);
	assert_int_equal(ki.format, KERNEL_BZIMAGE);
	assert_int_equal(parse(img, len - 1, &ki, &why), -ENOEXEC);
	assert_int_equal(parse(img, len / 2, &ki, &why), -ENOEXEC);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_elf_valid),
	    cmocka_unit_test(test_elf_pvh_note_outside_image_ignored),
	    cmocka_unit_test(test_elf_truncated),
	    cmocka_unit_test(test_elf_malformed),
	    cmocka_unit_test(test_bzimage_valid),
	    cmocka_unit_test(test_bzimage_longer_header),
	    cmocka_unit_test(test_bzimage_truncated),
	    cmocka_unit_test(test_bzimage_malformed),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_load_elf),
	    cmocka_unit_test(test_load_bzimage),
	    cmocka_unit_test(test_real_images),
	};
	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
