// SPDX-License-Identifier: Apache-2.0
/*
 * The snapshot state file: CRC check values, writer/reader round trip, and
 * every kind of damage refused with a message that names it.  Damage behind
 * the CRC (counts, lengths) is crafted with the CRC recomputed, so it is the
 * structural check that must fire, not the checksum.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "snapfile.h"

#define CHECK_XZ 0x995dc9bbdf1939faull /* CRC-64/XZ of "123456789" (published check value) */

static uint64_t crc_bitwise(const uint8_t *p, size_t len)
{
	uint64_t c = ~0ull;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xc96c5795d7870f42ull : c >> 1;
	}
	return ~c;
}

static void test_crc64(void **state)
{
	uint8_t buf[1000];

	(void)state;
	assert_true(snap_crc64(0, "123456789", 9) == CHECK_XZ);
	assert_true(snap_crc64(0, "", 0) == 0);
	/* Chaining gives the same result as one call. */
	assert_true(snap_crc64(snap_crc64(0, "1234", 4), "56789", 5) == CHECK_XZ);
	/* Every table entry, through each single byte, against the bitwise form. */
	for (unsigned i = 0; i < 256; i++) {
		uint8_t b = (uint8_t)i;

		assert_true(snap_crc64(0, &b, 1) == crc_bitwise(&b, 1));
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	assert_true(snap_crc64(0, buf, sizeof(buf)) == crc_bitwise(buf, sizeof(buf)));
	/* Every alignment and length around the 8-byte slices, and chained at any split. */
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len < 40; len++) {
			uint64_t want = crc_bitwise(buf + off, len);

			assert_true(snap_crc64(0, buf + off, len) == want);
			for (size_t cut = 0; cut <= len; cut += 3)
				assert_true(snap_crc64(snap_crc64(0, buf + off, cut),
						       buf + off + cut, len - cut) == want);
		}
}

/* An image of the sections (@types[i], id 0 or 1 for the second device), @data each. */
static void image_of(struct snap_image *img, const uint32_t *types, unsigned n, uint8_t data)
{
	struct snap_writer w;
	const uint8_t *b;
	uint8_t d[8] = {data};
	char err[256];
	size_t len;
	unsigned devs = 0;

	assert_int_equal(snap_w_begin(&w, 0), 0);
	for (unsigned i = 0; i < n; i++) {
		d[1] = (uint8_t)i;
		assert_int_equal(snap_w_section(&w, types[i],
						types[i] == SNAP_SEC_DEVICE ? devs++ : 0, d,
						sizeof(d)),
				 0);
	}
	b = snap_w_bytes(&w, &len);
	assert_non_null(b);
	assert_int_equal(snap_parse(b, len, img, err, sizeof(err)), 0);
	snap_w_free(&w);
}

/*
 * A migration's early configuration against its final state: every
 * section of the one in the other, unchanged, and no device more.
 */
static void test_sections_within(void **state)
{
	static const uint32_t cfg[] = {SNAP_SEC_MACHINE, SNAP_SEC_DEVICE};
	static const uint32_t full[] = {SNAP_SEC_MACHINE, SNAP_SEC_DEVICE, SNAP_SEC_VCPU_REGS};
	static const uint32_t more[] = {SNAP_SEC_MACHINE, SNAP_SEC_DEVICE, SNAP_SEC_DEVICE};
	static const uint32_t less[] = {SNAP_SEC_MACHINE};
	struct snap_image a, b;

	(void)state;
	image_of(&a, cfg, 2, 7);
	assert_int_equal(snap_sections_within(&a, &a), 0);
	image_of(&b, full, 3, 7);
	assert_int_equal(snap_sections_within(&a, &b), 0);
	snap_image_free(&b);
	image_of(&b, full, 3, 8); /* the same sections, other bytes */
	assert_int_equal(snap_sections_within(&a, &b), -ESTALE);
	snap_image_free(&b);
	image_of(&b, more, 3, 7); /* a device the configuration did not have */
	assert_int_equal(snap_sections_within(&a, &b), -ESTALE);
	snap_image_free(&b);
	image_of(&b, less, 1, 7); /* a section missing */
	assert_int_equal(snap_sections_within(&a, &b), -ESTALE);
	snap_image_free(&b);
	snap_image_free(&a);
}

/* ---- fixtures ------------------------------------------------------------ */

static const uint8_t regs0[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; /* odd length: padding */
static const uint8_t regs1[] = {0xaa, 0xbb, 0xcc};
static const char blk[] = "/srv/disk.ext4";

/* Five sections in the order the VMM writes them: devices, VM, vCPUs. */
static uint8_t *sample(size_t *len, uint32_t flags)
{
	struct snap_writer w;
	const uint8_t *b;
	uint8_t *copy;
	uint64_t mem[2] = {0, 128ull << 20};

	assert_int_equal(snap_w_begin(&w, flags), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_DEVICE, 0, blk, sizeof(blk)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_MEM_REGION, 0, mem, sizeof(mem)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_CLOCK, 0, NULL, 0), 0); /* empty payload */
	assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_REGS, 0, regs0, sizeof(regs0)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_REGS, 1, regs1, sizeof(regs1)), 0);
	b = snap_w_bytes(&w, len);
	assert_non_null(b);
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, b, *len);
	snap_w_free(&w);
	return copy;
}

/* Offsets of each section header in sample(), and the CRC. */
static const size_t sec_off[] = {32, 32 + 16 + 16, 64 + 16 + 16, 96 + 16, 112 + 16 + 16};
#define SAMPLE_LEN (144 + 16 + 8 + 8)

static int memfd_with(const void *buf, size_t len)
{
	int fd = memfd_create("snap", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	return fd;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Recomputes the trailing CRC so damage in front of it gets past the CRC check. */
static void reseal(uint8_t *b, size_t len)
{
	put64(b + len - 8, snap_crc64(0, b, len - 8));
}

/* Parsing @b must fail with -EINVAL and a message containing @needle. */
static void expect_bad(const uint8_t *b, size_t len, const char *needle)
{
	struct snap_image img;
	char err[256] = "";
	int rc = snap_parse(b, len, &img, err, sizeof(err));

	if (rc != -EINVAL || !strstr(err, needle))
		fail_msg("len %zu: rc %d, \"%s\", want \"%s\"", len, rc, err, needle);
	assert_null(img.buf);
	assert_null(img.sections);
	snap_image_free(&img); /* safe on a failed image */
}

/* ---- round trip ---------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct snap_writer w;
	struct snap_image img;
	const struct snap_section *s;
	const void *data;
	uint64_t len, mem[2] = {0, 128ull << 20};
	uint32_t pos = 0;
	char err[256] = "";
	int fd = memfd_create("snap", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(snap_w_begin(&w, SNAP_F_DIFF), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_DEVICE, 0, blk, sizeof(blk)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_MEM_REGION, 0, mem, sizeof(mem)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_CLOCK, 0, NULL, 0), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_REGS, 0, regs0, sizeof(regs0)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_REGS, 1, regs1, sizeof(regs1)), 0);
	assert_int_equal(snap_w_finish(&w, fd), 0);
	assert_int_equal(w.len, SAMPLE_LEN);
	/* Sealed: nothing more can be added, and the error sticks. */
	assert_int_equal(snap_w_section(&w, SNAP_SEC_PIT, 0, "x", 1), -EINVAL);
	assert_null(snap_w_bytes(&w, (size_t *)&len));
	snap_w_free(&w);

	assert_int_equal(snap_read_fd(fd, SNAP_DEFAULT_MAX, &img, err, sizeof(err)), 0);
	assert_int_equal(img.version, SNAP_VERSION);
	assert_int_equal(img.arch, SNAP_ARCH_HOST);
	assert_int_equal(img.flags, SNAP_F_DIFF);
	assert_int_equal(img.size, SAMPLE_LEN);
	assert_int_equal(img.nr_sections, 5);
	assert_int_equal(snap_find(&img, SNAP_SEC_DEVICE, 0, &data, &len), 0);
	assert_int_equal(len, sizeof(blk));
	assert_string_equal(data, blk);
	assert_int_equal(snap_find(&img, SNAP_SEC_MEM_REGION, 0, &data, &len), 0);
	assert_int_equal(len, sizeof(mem));
	assert_int_equal(((const uint64_t *)data)[1], 128ull << 20); /* aligned: read in place */
	assert_int_equal(snap_find(&img, SNAP_SEC_CLOCK, 0, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(snap_find(&img, SNAP_SEC_VCPU_REGS, 1, &data, &len), 0);
	assert_int_equal(len, sizeof(regs1));
	assert_memory_equal(data, regs1, sizeof(regs1));
	assert_int_equal(snap_find(&img, SNAP_SEC_VCPU_REGS, 2, &data, &len), -ENOENT);
	assert_int_equal(snap_find(&img, SNAP_SEC_PIT, 0, &data, &len), -ENOENT);
	for (uint32_t i = 0; i < img.nr_sections; i++)
		assert_int_equal((uintptr_t)img.sections[i].data % SNAP_ALIGN, 0);
	/* Iteration over one type, in file order. */
	s = snap_next(&img, SNAP_SEC_VCPU_REGS, &pos);
	assert_non_null(s);
	assert_int_equal(s->id, 0);
	assert_memory_equal(s->data, regs0, sizeof(regs0));
	s = snap_next(&img, SNAP_SEC_VCPU_REGS, &pos);
	assert_non_null(s);
	assert_int_equal(s->id, 1);
	assert_null(snap_next(&img, SNAP_SEC_VCPU_REGS, &pos));
	pos = 0;
	for (unsigned n = 0; n < 5; n++)
		assert_non_null(snap_next(&img, SNAP_SEC_ANY, &pos));
	assert_null(snap_next(&img, SNAP_SEC_ANY, &pos));
	snap_image_free(&img);
	snap_image_free(&img); /* idempotent */
	close(fd);
}

static void test_empty_image(void **state)
{
	struct snap_writer w;
	struct snap_image img;
	const uint8_t *b;
	size_t len;
	char err[256];

	(void)state;
	assert_int_equal(snap_w_begin(&w, 0), 0);
	b = snap_w_bytes(&w, &len);
	assert_non_null(b);
	assert_int_equal(len, SNAP_HDR_SIZE + SNAP_CRC_SIZE);
	assert_memory_equal(b, "EMBERSNP", 8);
	assert_int_equal(snap_parse(b, len, &img, err, sizeof(err)), 0);
	assert_int_equal(img.nr_sections, 0);
	snap_image_free(&img);
	snap_w_free(&w);
}

static void test_writer_errors(void **state)
{
	struct snap_writer w;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(snap_w_begin(&w, 0x80), -EINVAL); /* unknown flag */
	assert_int_equal(snap_w_section(&w, SNAP_SEC_PIT, 0, "x", 1), -EINVAL);
	assert_null(snap_w_bytes(&w, &len));
	snap_w_free(&w);

	assert_int_equal(snap_w_begin(&w, 0), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_PIT, 0, NULL, 4), -EINVAL);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_PIT, 0, "x", 1), -EINVAL); /* sticky */
	snap_w_free(&w);

	assert_int_equal(snap_w_begin(&w, 0), 0);
	for (uint32_t i = 0; i < SNAP_MAX_SECTIONS; i++)
		assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_MSRS, i, &i, sizeof(i)), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_MSRS, 9999, "x", 1), -E2BIG);
	snap_w_free(&w);

	assert_int_equal(snap_w_begin(&w, 0), 0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_PIT, 0, "x", UINT64_MAX), -EFBIG);
	snap_w_free(&w);

	/* Write failures come back as -errno: a full disk, a read-only fd. */
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		assert_int_equal(snap_w_begin(&w, 0), 0);
		assert_int_equal(snap_w_finish(&w, fd), -ENOSPC);
		snap_w_free(&w);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(snap_w_begin(&w, 0), 0);
	assert_int_equal(snap_w_finish(&w, fd), -EBADF);
	snap_w_free(&w);
	close(fd);
}

/* ---- damage -------------------------------------------------------------- */

static void test_empty_and_not_regular(void **state)
{
	struct snap_image img;
	char err[256] = "";
	int fd = memfd_create("snap", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(snap_read_fd(fd, SNAP_DEFAULT_MAX, &img, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "state file is empty");
	close(fd);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(snap_read_fd(fd, SNAP_DEFAULT_MAX, &img, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "state file is not a regular file");
	close(fd);
	assert_int_equal(snap_read_fd(-1, SNAP_DEFAULT_MAX, &img, err, sizeof(err)), -EBADF);
	assert_non_null(strstr(err, "cannot stat the state file"));
	expect_bad((const uint8_t *)"", 0, "state file is empty");
}

/* A sparse 1 TiB file: refused from fstat, which a read or malloc could not survive. */
static void test_over_cap(void **state)
{
	struct snap_image img;
	char err[256] = "";
	size_t len;
	uint8_t *b = sample(&len, 0);
	int fd = memfd_with(b, len);

	(void)state;
	assert_int_equal(snap_read_fd(fd, len - 1, &img, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "over the limit"));
	assert_int_equal(snap_read_fd(fd, len, &img, err, sizeof(err)), 0); /* exactly at cap */
	snap_image_free(&img);
	assert_int_equal(ftruncate(fd, 1ll << 40), 0);
	assert_int_equal(snap_read_fd(fd, SNAP_DEFAULT_MAX, &img, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "state file is 1099511627776 bytes, over the limit of 67108864");
	assert_null(img.buf);
	close(fd);
	free(b);
}

static void test_truncated(void **state)
{
	char want[128];
	size_t len;
	uint8_t *b = sample(&len, 0);

	(void)state;
	assert_int_equal(len, SAMPLE_LEN);
	/* Every prefix is refused, and says it was cut short. */
	for (size_t l = 1; l < len; l++)
		expect_bad(b, l, "truncated");
	expect_bad(b, 5, "truncated in its header (5 of 32 bytes)");
	expect_bad(b, 31, "truncated in its header (31 of 32 bytes)");
	/* At each section boundary, and inside each section's header and payload. */
	for (unsigned i = 0; i < ARRAY_SIZE(sec_off); i++) {
		snprintf(want, sizeof(want), "truncated after section %u of 5 (%zu of %zu bytes)",
			 i, sec_off[i], len);
		expect_bad(b, sec_off[i], want);
		snprintf(want, sizeof(want), "truncated in the header of section %u", i);
		expect_bad(b, sec_off[i] + 7, want);
	}
	expect_bad(b, sec_off[0] + 16 + 3, "truncated in section 0 (device 0)");
	expect_bad(b, sec_off[3] + 16 + 11, "truncated in section 3 (vcpu-regs 0)"); /* padding */
	expect_bad(b, sec_off[4] + 16 + 1, "truncated in section 4 (vcpu-regs 1)");
	expect_bad(b, len - 8, "truncated in its CRC");
	expect_bad(b, len - 1, "truncated in its CRC (175 of 176 bytes)");
	free(b);
}

static void test_flipped_bytes(void **state)
{
	size_t len;
	uint8_t *b = sample(&len, 0);

	(void)state;
	/* Anything past the identifying fields is caught by the CRC, bit by bit. */
	for (size_t i = 16; i < len; i++) {
		if (i >= 24 && i < 32)
			continue; /* the length field: a mismatch, below */
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			expect_bad(b, len, "CRC64");
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (size_t i = 0; i < 8; i++) {
		b[i] ^= 0x20;
		expect_bad(b, len, "not an ember state file (bad magic");
		b[i] ^= 0x20;
	}
	put64(b + 24, len + 1);
	expect_bad(b, len, "truncated in its CRC (176 of 177 bytes)");
	put64(b + 24, len - 2);
	expect_bad(b, len, "state file is 176 bytes but its header says 174");
	put64(b + 24, len + (1ull << 48)); /* enormous */
	expect_bad(b, len, "truncated");
	free(b);
}

static void test_identity_fields(void **state)
{
	struct snap_image img;
	char err[256] = "";
	size_t len;
	uint8_t *b = sample(&len, 0), *big;

	(void)state;
	memcpy(b, "QEMUSNAP", 8);
	expect_bad(b, len, "not an ember state file");
	memcpy(b, "EMBERSNP", 8);
	/* Version and architecture are read before the CRC: a newer format may
	 * put its checksum elsewhere, and the message must say why, not "corrupt". */
	assert_int_equal(b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24, SNAP_VERSION);
	assert_int_equal(SNAP_VERSION, 2);
	put32(b + 8, 3);
	expect_bad(b, len, "snapshot format version 3 is newer than this ember's 2");
	put32(b + 8, UINT32_MAX);
	expect_bad(b, len, "snapshot format version 4294967295 is newer than this ember's 2");
	put32(b + 8, 0);
	expect_bad(b, len, "snapshot format version 0 is invalid");
	/* Version 1 held raw device structs: refused, with what to do about it. */
	put32(b + 8, 1);
	expect_bad(b, len,
		   "snapshot format version 1 is from an older ember; this one reads version 2 "
		   "only: take the snapshot again");
	put32(b + 8, SNAP_VERSION);
	put32(b + 12, 7);
	expect_bad(b, len, "snapshot is for architecture 7 (unknown), this ember is");
	put32(b + 12, SNAP_ARCH_HOST);
	put32(b + 16, 0x6);
	reseal(b, len);
	expect_bad(b, len, "unknown flags 0x6");
	put32(b + 16, 0);
	reseal(b, len);
	assert_int_equal(snap_parse(b, len, &img, err, sizeof(err)), 0);
	snap_image_free(&img);
	/* Trailing junk after a valid image. */
	big = calloc(1, len + 8);
	assert_non_null(big);
	memcpy(big, b, len);
	expect_bad(big, len + 8, "state file is 184 bytes but its header says 176");
	free(big);
	free(b);
}

/* Damage behind a valid CRC: the structural checks must catch it themselves. */
static void test_structure(void **state)
{
	size_t len;
	uint8_t *b = sample(&len, 0);

	(void)state;
	put32(b + 20, 6); /* count too high */
	reseal(b, len);
	expect_bad(b, len, "state file claims 6 sections but its data ends after 5");
	put32(b + 20, 4); /* count too low */
	reseal(b, len);
	expect_bad(b, len, "state file has 24 bytes after its 4 sections");
	put32(b + 20, 0);
	reseal(b, len);
	expect_bad(b, len, "state file has 136 bytes after its 0 sections");
	put32(b + 20, SNAP_MAX_SECTIONS + 1);
	reseal(b, len);
	expect_bad(b, len, "state file claims 4097 sections, more than the 4096 allowed");
	put32(b + 20, UINT32_MAX);
	reseal(b, len);
	expect_bad(b, len, "claims 4294967295 sections");
	put32(b + 20, 5);

	/* Section lengths: one too long, and ones that would wrap offset + len. */
	put64(b + sec_off[4] + 8, 3 + 8);
	reseal(b, len);
	expect_bad(b, len, "section 4 (vcpu-regs 1) length 11 runs past the end");
	put64(b + sec_off[4] + 8, UINT64_MAX);
	reseal(b, len);
	expect_bad(b, len, "section 4 (vcpu-regs 1) length 18446744073709551615 runs past");
	put64(b + sec_off[4] + 8, UINT64_MAX - 15);
	reseal(b, len);
	expect_bad(b, len, "runs past");
	put64(b + sec_off[0] + 8, 1ull << 63);
	reseal(b, len);
	expect_bad(b, len, "section 0 (device 0) length 9223372036854775808 runs past");
	put64(b + sec_off[0] + 8, sizeof(blk));
	put64(b + sec_off[4] + 8, 3);
	/* A shorter length leaves bytes the count does not account for. */
	put64(b + sec_off[4] + 8, 0);
	reseal(b, len);
	expect_bad(b, len, "state file has 8 bytes after its 5 sections");
	put64(b + sec_off[4] + 8, 3);

	/* A file cut inside the last payload's padding (length fixed up, CRC too):
	 * the payload fits but its padding does not. */
	{
		uint8_t *c = malloc(len - 1);

		assert_non_null(c);
		memcpy(c, b, len - 9);
		put64(c + 24, len - 1);
		reseal(c, len - 1);
		expect_bad(c, len - 1, "section 4 (vcpu-regs 1) length 3 runs past the end");
		free(c);
	}

	/* The same (type, id) twice would make snap_find ambiguous. */
	put32(b + sec_off[4] + 4, 0);
	reseal(b, len);
	expect_bad(b, len, "section 4 duplicates section 3 (vcpu-regs 0)");
	put32(b + sec_off[4] + 4, 1);
	reseal(b, len);
	expect_bad(b, len - 1, "truncated"); /* still sane after all the edits */
	{
		struct snap_image img;
		char err[256];

		assert_int_equal(snap_parse(b, len, &img, err, sizeof(err)), 0);
		snap_image_free(&img);
	}
	free(b);
}

static void test_mem_check(void **state)
{
	char err[256] = "";
	int fd = memfd_create("mem", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(ftruncate(fd, 8192), 0);
	assert_int_equal(snap_mem_check(fd, 8192, err, sizeof(err)), 0);
	assert_int_equal(snap_mem_check(fd, 4096, err, sizeof(err)), 0);
	assert_int_equal(snap_mem_check(fd, 8193, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory file is 8192 bytes, the snapshot needs 8193");
	close(fd);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(snap_mem_check(fd, 0, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory file is not a regular file");
	close(fd);
	assert_int_equal(snap_mem_check(-1, 0, err, sizeof(err)), -EBADF);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(snap_section_name(SNAP_SEC_VCPU_LAPIC), "vcpu-lapic");
	assert_string_equal(snap_section_name(SNAP_SEC_DEV_MMIO), "virtio-mmio");
	assert_string_equal(snap_section_name(SNAP_SEC_I8042), "i8042");
	assert_string_equal(snap_section_name(SNAP_SEC_DEVICE), "device");
	assert_int_equal(SNAP_SEC_DEVICE, 0x205); /* part of the format */
	assert_int_equal(SNAP_SEC_DEV_MMIO, 0x200);
	/* Version 1's raw device sections are gone, and their numbers stay unused. */
	for (uint32_t t = 0x201; t <= 0x204; t++)
		assert_string_equal(snap_section_name(t), "unknown");
	assert_string_equal(snap_section_name(0xdead), "unknown");
}

/*
 * A state file holds one architecture's KVM state: each ember refuses the
 * other's, by the header, before any section is looked at.  Both directions
 * are checked here whatever the host is (snap_parse_arch plays the other build).
 */
static void test_arch_refused(void **state)
{
	static const struct {
		uint32_t wrote, reads;
		const char *msg;
	} cases[] = {
	    {SNAP_ARCH_X86_64, SNAP_ARCH_AARCH64,
	     "snapshot is for architecture 1 (x86_64), this ember is aarch64 (2)"},
	    {SNAP_ARCH_AARCH64, SNAP_ARCH_X86_64,
	     "snapshot is for architecture 2 (aarch64), this ember is x86_64 (1)"},
	    {SNAP_ARCH_X86_64, SNAP_ARCH_X86_64, NULL},
	    {SNAP_ARCH_AARCH64, SNAP_ARCH_AARCH64, NULL},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct snap_writer w;
		struct snap_image img;
		const uint8_t *b;
		size_t len;
		char err[256] = "";

		assert_int_equal(snap_w_begin(&w, 0), 0);
		assert_int_equal(w.arch, SNAP_ARCH_HOST);
		w.arch = cases[i].wrote;
		assert_int_equal(snap_w_section(&w, SNAP_SEC_VCPU_REGS, 0, "regs", 4), 0);
		b = snap_w_bytes(&w, &len);
		assert_non_null(b);
		if (cases[i].msg) {
			assert_int_equal(
			    snap_parse_arch(b, len, cases[i].reads, &img, err, sizeof(err)),
			    -EINVAL);
			assert_string_equal(err, cases[i].msg);
			assert_null(img.buf);
		} else {
			assert_int_equal(
			    snap_parse_arch(b, len, cases[i].reads, &img, err, sizeof(err)), 0);
			assert_int_equal(img.arch, cases[i].wrote);
			snap_image_free(&img);
		}
		snap_w_free(&w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc64),	  cmocka_unit_test(test_sections_within),
	    cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_empty_image),
	    cmocka_unit_test(test_writer_errors), cmocka_unit_test(test_empty_and_not_regular),
	    cmocka_unit_test(test_over_cap),	  cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_flipped_bytes), cmocka_unit_test(test_identity_fields),
	    cmocka_unit_test(test_structure),	  cmocka_unit_test(test_mem_check),
	    cmocka_unit_test(test_names),	  cmocka_unit_test(test_arch_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
