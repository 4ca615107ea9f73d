// SPDX-License-Identifier: Apache-2.0
/*
 * Guest RAM into snapshot memory files (snapshot/snap_mem.c) and the dirty
 * log ember keeps for its own writes (gm_ptr_w, gm_mark_dirty in vmm/gm.c).
 *
 * The guest RAM here is real mmap'ed memory in two regions, the second far
 * above the first as ember's high RAM is, so the file offsets (region i
 * after regions 0..i-1) differ from the guest addresses.  Every page that
 * holds data holds a pattern unique to its region and page, so a page
 * written at the wrong offset shows.  Holes are checked with SEEK_DATA
 * where the temp directory's filesystem reports them (probed once).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "unit.h"

#include "snap_mem.h"

#define PG	   4096u
#define R0_PAGES   160u /* more than two bitmap words: runs cross word boundaries */
#define R1_PAGES   24u
#define R1_GPA	   0x100000000ull
#define TOTAL	   ((uint64_t)(R0_PAGES + R1_PAGES) * PG)
#define WORDS(pgs) (((pgs) + 63) / 64)

static const unsigned nr_pages[2] = {R0_PAGES, R1_PAGES};
static bool holes_ok; /* the temp filesystem reports holes to SEEK_DATA */

struct rig {
	struct guest_mem gm;
	char path[64];
	int fd;		      /* the memory file */
	uint64_t want[2][3];  /* per region: pages expected as data in the file */
	uint64_t dirty[2][3]; /* per region: the Diff job's bitmap */
};

static void bit_set(uint64_t *bits, unsigned pg)
{
	bits[pg / 64] |= 1ull << (pg % 64);
}

static bool bit_get(const uint64_t *bits, unsigned pg)
{
	return bits[pg / 64] >> (pg % 64) & 1;
}

/* Distinct per region, page and byte, never a whole page of zeros. */
static void fill_page(uint8_t *p, unsigned region, unsigned pg)
{
	for (unsigned i = 0; i < PG; i++)
		p[i] = (uint8_t)(region * 97 + pg * 31 + i * 7 + 1);
}

static uint8_t *page_of(struct rig *r, unsigned region, unsigned pg)
{
	return r->gm.region[region].host + (uint64_t)pg * PG;
}

/* Fresh anonymous memory, as a booted VM's RAM; no THP, so a touch faults in one page. */
static uint8_t *anon(size_t len)
{
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	(void)madvise(m, len, MADV_NOHUGEPAGE);
	return m;
}

static int tmp_file_in(const char *dir, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/ember-snapmem-XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

static int tmp_file(char *path, size_t size)
{
	return tmp_file_in("/tmp", path, size);
}

static bool no_swap(void)
{
	struct sysinfo si;

	return sysinfo(&si) == 0 && si.totalswap == 0;
}

static bool is_hole(int fd, uint64_t off)
{
	off_t d = lseek(fd, (off_t)off, SEEK_DATA);

	if (d < 0) {
		assert_int_equal(errno, ENXIO);
		return true;
	}
	return (uint64_t)d >= off + PG;
}

static int group_setup(void **state)
{
	char path[64];
	int fd = tmp_file(path, sizeof(path));
	uint8_t page[PG];

	(void)state;
	log_set_level(LOG_ERROR);
	memset(page, 1, sizeof(page));
	assert_int_equal(ftruncate(fd, 2 * PG), 0);
	assert_int_equal(pwrite(fd, page, PG, PG), PG);
	holes_ok = lseek(fd, 0, SEEK_DATA) == PG;
	if (!holes_ok)
		print_message("the temp filesystem reports no holes: hole checks skipped\n");
	close(fd);
	unlink(path);
	return 0;
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->gm.region[0] = (struct gm_region){.gpa = 0, .size = R0_PAGES * PG};
	r->gm.region[1] = (struct gm_region){.gpa = R1_GPA, .size = R1_PAGES * PG};
	r->gm.region[0].host = anon(R0_PAGES * PG);
	r->gm.region[1].host = anon(R1_PAGES * PG);
	r->gm.nr_regions = 2;
	r->fd = tmp_file(r->path, sizeof(r->path));
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	for (unsigned i = 0; i < 2; i++)
		munmap(r->gm.region[i].host, r->gm.region[i].size);
	close(r->fd);
	unlink(r->path);
	free(r);
	return 0;
}

/* Writes the pattern into page @pg of @region and expects it in the file. */
static void touch(struct rig *r, unsigned region, unsigned pg)
{
	fill_page(page_of(r, region, pg), region, pg);
	bit_set(r->want[region], pg);
}

/*
 * The file is exactly guest RAM's size; every page in want[] holds what
 * RAM holds, every other page reads as zero, and with @holes those are
 * holes and the wanted ones are not.
 */
static void check_file(struct rig *r, bool holes)
{
	static const uint8_t zero[PG];
	uint8_t buf[PG];
	uint64_t off = 0;
	struct stat st;

	assert_int_equal(fstat(r->fd, &st), 0);
	assert_int_equal(st.st_size, TOTAL);
	for (unsigned region = 0; region < 2; region++) {
		for (unsigned pg = 0; pg < nr_pages[region]; pg++, off += PG) {
			bool want = bit_get(r->want[region], pg);

			assert_int_equal(pread(r->fd, buf, PG, (off_t)off), PG);
			if (memcmp(buf, want ? page_of(r, region, pg) : zero, PG))
				fail_msg("region %u page %u (file offset 0x%llx): wrong content",
					 region, pg, (unsigned long long)off);
			if (holes && holes_ok && is_hole(r->fd, off) == want)
				fail_msg("region %u page %u: %s", region, pg,
					 want ? "a hole" : "data where a hole belongs");
		}
	}
}

static int write_job(struct rig *r, bool diff, bool fresh_anon, char *err, size_t errlen)
{
	struct snap_mem_job job = {.gm = &r->gm,
				   .nr_regions = r->gm.nr_regions,
				   .fd = r->fd,
				   .diff = diff,
				   .fresh_anon = fresh_anon};

	job.dirty[0] = r->dirty[0];
	job.dirty[1] = r->dirty[1];
	return snap_mem_write(&job, err, errlen);
}

static void write_ok(struct rig *r, bool diff, bool fresh_anon)
{
	char err[160] = "";

	assert_int_equal(write_job(r, diff, fresh_anon, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* ---- snap_mem_write ------------------------------------------------------------ */

/*
 * A booted VM's Full snapshot: only the pages the guest touched may hold
 * data.  Without swap they are the only pages written and the rest stay
 * holes; with swap an absent page may be swapped out, so every page is
 * written (the untouched ones as zeros) and only the content is checked.
 */
static void test_full_fresh_anon(void **state)
{
	struct rig *r = *state;
	static const unsigned r0[] = {0, 1, 2, 63, 64, 100, R0_PAGES - 1};
	bool sparse = no_swap();

	for (unsigned i = 0; i < ARRAY_SIZE(r0); i++)
		touch(r, 0, r0[i]);
	touch(r, 1, 0);
	touch(r, 1, R1_PAGES - 1);
	write_ok(r, false, true);
	if (!sparse) {
		print_message("host has swap: every page is written, holes not checked\n");
		memset(r->want, 0xff, sizeof(r->want));
	}
	check_file(r, sparse);
}

/*
 * Restored RAM (the File backend maps the memory file MAP_PRIVATE): pages
 * the guest never touched since still hold the snapshot's data and are not
 * resident, so a Full snapshot of it must write every page, not just what
 * mincore() sees.  Region 0 is such a mapping, region 1 anonymous.
 */
static void test_full_every_page(void **state)
{
	struct rig *r = *state;
	char path[64];
	int src = tmp_file(path, sizeof(path));
	uint8_t page[PG];

	for (unsigned pg = 0; pg < R0_PAGES; pg++) {
		fill_page(page, 1, pg + 7); /* not region 0's pattern: touch() below differs */
		assert_int_equal(pwrite(src, page, PG, (off_t)pg * PG), PG);
	}
	munmap(r->gm.region[0].host, R0_PAGES * PG);
	r->gm.region[0].host =
	    mmap(NULL, R0_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, src, 0);
	assert_true(r->gm.region[0].host != MAP_FAILED);
	close(src);
	unlink(path);
	/* Drop the page cache where allowed, so "not resident" is as likely as it gets. */
	(void)madvise(r->gm.region[0].host, R0_PAGES * PG, MADV_DONTNEED);
	touch(r, 0, 5); /* the guest's own write, private to this mapping */
	touch(r, 1, 3);
	write_ok(r, false, false);
	memset(r->want, 0xff, sizeof(r->want));
	check_file(r, false);
	if (holes_ok)
		assert_int_equal(lseek(r->fd, 0, SEEK_HOLE), TOTAL);
}

/*
 * Diff: only the pages in dirty[] are written, at their offsets; the rest
 * stay holes ("unchanged") although RAM holds data everywhere.  The dirty
 * runs cross a bitmap word (62..65) and end at a region's last page.
 */
static void test_diff_dirty_only(void **state)
{
	struct rig *r = *state;
	static const unsigned r0[] = {5, 62, 63, 64, 65, R0_PAGES - 1};

	for (unsigned region = 0; region < 2; region++)
		for (unsigned pg = 0; pg < nr_pages[region]; pg++)
			fill_page(page_of(r, region, pg), region, pg);
	for (unsigned i = 0; i < ARRAY_SIZE(r0); i++)
		bit_set(r->dirty[0], r0[i]);
	bit_set(r->dirty[1], 0);
	bit_set(r->dirty[1], 7);
	memcpy(r->want, r->dirty, sizeof(r->want));
	write_ok(r, true, true); /* fresh_anon means nothing to a Diff */
	check_file(r, true);
}

/* Nothing dirty: a file of guest RAM's size and no data at all. */
static void test_diff_nothing_dirty(void **state)
{
	struct rig *r = *state;

	touch(r, 0, 0);
	memset(r->want, 0, sizeof(r->want));
	write_ok(r, true, false);
	check_file(r, true);
	if (holes_ok) {
		assert_int_equal(lseek(r->fd, 0, SEEK_DATA), -1);
		assert_int_equal(errno, ENXIO);
	}
}

/* Failures come back as -errno with a message; nothing is claimed written. */
static void test_write_errors(void **state)
{
	struct rig *r = *state;
	char err[160];
	int fd;

	touch(r, 0, 1);
	/* Not open for writing: the sizing fails. */
	close(r->fd);
	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	assert_true(r->fd >= 0);
	err[0] = 0;
	assert_int_equal(write_job(r, false, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot size the memory file"));

	/* A device, not a file. */
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	dup2(fd, r->fd);
	close(fd);
	err[0] = 0;
	assert_true(write_job(r, false, true, err, sizeof(err)) < 0);
	assert_true(err[0] != 0);

	/* Sized fine, then every write refused (a sealed memfd): the write path's error. */
	fd = memfd_create("mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	dup2(fd, r->fd);
	close(fd);
	err[0] = 0;
	assert_int_equal(write_job(r, false, false, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "cannot write the memory file"));
	bit_set(r->dirty[1], 2);
	err[0] = 0;
	assert_int_equal(write_job(r, true, false, err, sizeof(err)), -EPERM);
	assert_true(err[0] != 0);
}

/* ---- snap_mem_rebase ----------------------------------------------------------- */

#define RB_PAGES 8u

static void make_file_in(const char *dir, char *path, size_t size, unsigned seed,
			 const unsigned *pages, unsigned n)
{
	int fd = tmp_file_in(dir, path, size);
	uint8_t page[PG];

	assert_int_equal(ftruncate(fd, RB_PAGES * PG), 0);
	for (unsigned i = 0; i < n; i++) {
		fill_page(page, seed, pages[i]);
		assert_int_equal(pwrite(fd, page, PG, (off_t)pages[i] * PG), PG);
	}
	close(fd);
}

static void make_file(char *path, size_t size, unsigned seed, const unsigned *pages, unsigned n)
{
	make_file_in("/tmp", path, size, seed, pages, n);
}

/* Page @pg of the file at @path holds @seed's pattern. */
static bool page_is(const char *path, unsigned pg, unsigned seed)
{
	uint8_t got[PG], want[PG];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, PG, (off_t)pg * PG), PG);
	close(fd);
	fill_page(want, seed, pg);
	return !memcmp(got, want, PG);
}

/*
 * The diff's data pages (a run of two, and the last page) land on the base;
 * the rest stay.  @diff_dir: the diff on another filesystem (/dev/shm)
 * makes copy_file_range fail with EXDEV, and the read/write path must do it.
 */
static void rebase_in(const char *diff_dir)
{
	static const unsigned all[RB_PAGES] = {0, 1, 2, 3, 4, 5, 6, 7};
	static const unsigned changed[] = {1, 2, RB_PAGES - 1};
	char base[64], diff[64], err[160] = "";
	struct stat st;

	if (!holes_ok)
		skip(); /* a diff without holes is all "changed": nothing to tell apart */
	make_file(base, sizeof(base), 1, all, RB_PAGES);
	make_file_in(diff_dir, diff, sizeof(diff), 2, changed, ARRAY_SIZE(changed));
	assert_int_equal(snap_mem_rebase(base, diff, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	for (unsigned pg = 0; pg < RB_PAGES; pg++) {
		bool is_changed = pg == 1 || pg == 2 || pg == RB_PAGES - 1;

		if (!page_is(base, pg, is_changed ? 2 : 1))
			fail_msg("base page %u: wrong content after the rebase", pg);
	}
	assert_int_equal(stat(base, &st), 0);
	assert_int_equal(st.st_size, RB_PAGES * PG);
	assert_true(page_is(diff, 1, 2)); /* the diff is only read */
	unlink(base);
	unlink(diff);
}

static void test_rebase(void **state)
{
	(void)state;
	rebase_in("/tmp");
}

static void test_rebase_cross_fs(void **state)
{
	struct stat a, b;

	(void)state;
	if (stat("/dev/shm", &a) || stat("/tmp", &b) || a.st_dev == b.st_dev)
		skip(); /* needs two filesystems */
	rebase_in("/dev/shm");
}

static void test_rebase_refused(void **state)
{
	static const unsigned all[RB_PAGES] = {0, 1, 2, 3, 4, 5, 6, 7};
	static const unsigned one[] = {3};
	char base[64], diff[64], err[200];
	int fd;

	(void)state;
	make_file(base, sizeof(base), 1, all, RB_PAGES);
	make_file(diff, sizeof(diff), 2, one, 1);

	/* A diff of another size belongs to another VM. */
	fd = open(diff, O_WRONLY | O_CLOEXEC);
	assert_int_equal(ftruncate(fd, (RB_PAGES + 1) * PG), 0);
	close(fd);
	err[0] = 0;
	assert_int_equal(snap_mem_rebase(base, diff, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "same size"));
	assert_true(page_is(base, 3, 1));

	/* Either file missing: the message names it. */
	unlink(diff);
	err[0] = 0;
	assert_int_equal(snap_mem_rebase(base, diff, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, diff));
	err[0] = 0;
	assert_int_equal(snap_mem_rebase("/nonexistent/base", base, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/base"));
	assert_true(page_is(base, 3, 1));
	unlink(base);

	/* Not a regular file, although the sizes agree (both 0). */
	close(tmp_file(base, sizeof(base)));
	err[0] = 0;
	assert_int_equal(snap_mem_rebase(base, "/dev/null", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "regular"));
	unlink(base);
}

/* ---- ember's own writes: gm_ptr_w, gm_mark_dirty -------------------------------- */

#define LOW  0x100000u /* 256 pages: four bitmap words */
#define HIGH 0x10000u  /* 16 pages */

struct dirty_rig {
	struct guest_mem gm;
	uint64_t bits[2][4], want[2][4];
};

static int dirty_setup(void **state)
{
	struct dirty_rig *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	fake_gm_init(&d->gm, LOW, R1_GPA, HIGH);
	d->gm.region[0].dirty = d->bits[0];
	d->gm.region[1].dirty = d->bits[1];
	*state = d;
	return 0;
}

static int dirty_teardown(void **state)
{
	struct dirty_rig *d = *state;

	fake_gm_free(&d->gm);
	free(d);
	return 0;
}

/* The logs hold exactly the pages want[] names. */
static void expect_marked(const struct dirty_rig *d)
{
	for (unsigned region = 0; region < 2; region++)
		for (unsigned pg = 0; pg < 256; pg++)
			if (bit_get(d->bits[region], pg) != bit_get(d->want[region], pg))
				fail_msg("region %u page %u: %s", region, pg,
					 bit_get(d->want[region], pg) ? "not marked" : "marked");
}

static void test_gm_marks_exact_pages(void **state)
{
	struct dirty_rig *d = *state;
	uint32_t v = 0x12345678;

	/* Four bytes across the page 1 / page 2 boundary: both pages, nothing else. */
	assert_ptr_equal(gm_ptr_w(&d->gm, 0x1ffe, 4), d->gm.region[0].host + 0x1ffe);
	bit_set(d->want[0], 1);
	bit_set(d->want[0], 2);
	expect_marked(d);
	/* One byte at a page's last address. */
	gm_mark_dirty(&d->gm, 0x5fff, 1);
	bit_set(d->want[0], 5);
	/* Across a bitmap word: pages 63..65. */
	gm_mark_dirty(&d->gm, 63 * PG + 0x800, 2 * PG);
	bit_set(d->want[0], 63);
	bit_set(d->want[0], 64);
	bit_set(d->want[0], 65);
	/* The last page of RAM below 4 GiB, and the high region's own log. */
	gm_mark_dirty(&d->gm, LOW - PG, PG);
	bit_set(d->want[0], 255);
	gm_mark_dirty(&d->gm, R1_GPA + 3 * PG + 0xfff, 2);
	bit_set(d->want[1], 3);
	bit_set(d->want[1], 4);
	/* gm_write is how devices fill guest buffers: it marks too. */
	assert_int_equal(gm_write(&d->gm, R1_GPA + HIGH - 4, &v, 4), 0);
	bit_set(d->want[1], 15);
	expect_marked(d);
	/* Reads and empty ranges mark nothing. */
	assert_non_null(gm_ptr(&d->gm, 0x30000, PG));
	assert_int_equal(gm_read(&d->gm, 0x40000, &v, 4), 0);
	gm_mark_dirty(&d->gm, 0x50000, 0);
	assert_ptr_equal(gm_ptr_w(&d->gm, 0x60000, 0), d->gm.region[0].host + 0x60000);
	assert_ptr_equal(gm_ptr_w(&d->gm, 0, 0), d->gm.region[0].host); /* off + len - 1 wraps */
	expect_marked(d);
}

/* Outside guest memory: NULL, and not a bit set, in either region's log. */
static void test_gm_marks_nothing_outside(void **state)
{
	struct dirty_rig *d = *state;
	uint32_t v = 0;

	assert_null(gm_ptr_w(&d->gm, LOW - 2, 4)); /* runs past region 0 */
	assert_null(gm_ptr_w(&d->gm, LOW, 1));	   /* the gap */
	assert_null(gm_ptr_w(&d->gm, R1_GPA + HIGH, 1));
	assert_null(gm_ptr_w(&d->gm, 0x1000, UINT64_MAX)); /* wraps */
	gm_mark_dirty(&d->gm, LOW - PG, 2 * PG);
	gm_mark_dirty(&d->gm, R1_GPA - 1, 2);
	gm_mark_dirty(&d->gm, UINT64_MAX - 1, 4);
	assert_int_equal(gm_write(&d->gm, R1_GPA + HIGH - 2, &v, 4), -EFAULT);
	expect_marked(d);
}

/* A VM that does not track dirty pages has no logs: writes work, nothing is touched. */
static void test_gm_untracked(void **state)
{
	struct guest_mem gm;
	uint32_t v = 7;

	(void)state;
	fake_gm_init(&gm, LOW, R1_GPA, HIGH);
	assert_ptr_equal(gm_ptr_w(&gm, 0x1ffe, 4), gm.region[0].host + 0x1ffe);
	gm_mark_dirty(&gm, 0, LOW);
	gm_mark_dirty(&gm, R1_GPA, HIGH);
	assert_int_equal(gm_write(&gm, R1_GPA, &v, 4), 0);
	assert_null(gm.region[0].dirty);
	assert_null(gm.region[1].dirty);
	fake_gm_free(&gm);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_full_fresh_anon),
	    T(test_full_every_page),
	    T(test_diff_dirty_only),
	    T(test_diff_nothing_dirty),
	    T(test_write_errors),
	    cmocka_unit_test(test_rebase),
	    cmocka_unit_test(test_rebase_cross_fs),
	    cmocka_unit_test(test_rebase_refused),
	    cmocka_unit_test_setup_teardown(test_gm_marks_exact_pages, dirty_setup, dirty_teardown),
	    cmocka_unit_test_setup_teardown(test_gm_marks_nothing_outside, dirty_setup,
					    dirty_teardown),
	    cmocka_unit_test(test_gm_untracked),
	};
	return cmocka_run_group_tests_name("snap_mem", tests, group_setup, NULL);
}
