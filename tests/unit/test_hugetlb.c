// SPDX-License-Identifier: Apache-2.0
/* 2 MiB hugetlbfs guest RAM (issue 18): gm_discard on whole huge pages, a short pool refused. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "ember.h"
#include "hugetlb.h"

#define MB2 (2ull << 20)

/*
 * The region is ordinary anonymous memory flagged hugetlb (the host here has
 * no pool): what is checked is which bytes gm_discard drops.  hugetlbfs
 * refuses MADV_DONTNEED on a part of a huge page, so only whole 2 MiB pages
 * inside the range may go; the rest of the range keeps its data.
 */
static void test_discard_whole_huge_pages(void **state)
{
	uint8_t *raw =
	    mmap(NULL, 5 * MB2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guest_mem gm = {.nr_regions = 1};
	uint64_t dirty[4 * MB2 / 4096 / 64] = {0};
	uint8_t *p;

	(void)state;
	assert_true(raw != MAP_FAILED);
	p = (uint8_t *)(((uintptr_t)raw + MB2 - 1) & ~(uintptr_t)(MB2 - 1));
	memset(p, 0xab, 4 * MB2);
	gm.region[0] = (struct gm_region){
	    .gpa = 0, .size = 4 * MB2, .host = p, .dirty = dirty, .hugetlb = true};
	/* Less than a huge page, or straddling two: nothing to give back, no error. */
	assert_int_equal(gm_discard(&gm, 4096, 4096), 0);
	assert_int_equal(gm_discard(&gm, MB2 - 4096, 8192), 0);
	assert_int_equal(p[4096], 0xab);
	assert_int_equal(p[MB2 - 1], 0xab);
	assert_int_equal(p[MB2], 0xab);
	assert_int_equal(dirty[0], 0);
	/* 4 KiB into page 0 up to 4 KiB into page 3: pages 1 and 2 go, 0 and 3 stay. */
	assert_int_equal(gm_discard(&gm, 4096, 3 * MB2), 0);
	assert_int_equal(p[4096], 0xab);
	assert_int_equal(p[MB2 - 1], 0xab);
	assert_int_equal(p[MB2], 0);
	assert_int_equal(p[3 * MB2 - 1], 0);
	assert_int_equal(p[3 * MB2], 0xab);
	/* Dirty exactly where it was dropped (a Diff snapshot stores those zeros). */
	assert_int_equal(dirty[0], 0);
	assert_int_equal(dirty[MB2 / 4096 / 64], ~0ull);
	assert_int_equal(dirty[(3 * MB2 - 4096) / 4096 / 64], ~0ull);
	assert_int_equal(dirty[3 * MB2 / 4096 / 64], 0);
	/* Still the usual checks first. */
	assert_int_equal(gm_discard(&gm, 4096, 100), -EINVAL);
	assert_int_equal(gm_discard(&gm, 3 * MB2, 2 * MB2), -EFAULT);
	munmap(raw, 5 * MB2);
}

/* A pool too small is a refusal that says so, never a mapping that SIGBUSes later. */
static void test_map_short_pool(void **state)
{
	struct log_capture why;
	long long avail = hugetlb_available();
	void *p;

	(void)state;
	if (avail < 0 || avail >= 4096)
		skip();
	log_capture_begin(&why);
	p = hugetlb_map((size_t)(avail + 1) * MB2, -1, 0, false);
	log_capture_end(&why);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, ENOMEM);
	assert_non_null(strstr(why.msg, "not enough free 2 MiB huge pages"));
	assert_non_null(strstr(why.msg, "free_hugepages"));
}

/*
 * A booted 2M VM's RAM is a hugetlbfs memfd (a live fork hands it to its
 * children, and their restore maps it only because it is one); an ordinary
 * memfd or file is not taken for one.
 */
static void test_memfd(void **state)
{
	int fd = hugetlb_memfd(4 * MB2), plain = memfd_create("plain", MFD_CLOEXEC);
	struct stat st;

	(void)state;
	assert_true(plain >= 0);
	assert_false(hugetlb_is_file(plain));
	assert_false(hugetlb_is_file(-1));
	close(plain);
	if (fd == -ENOSYS || fd == -EINVAL || fd == -ENOENT)
		skip(); /* no hugetlbfs for 2 MiB pages in this kernel */
	assert_true(fd >= 0);
	assert_true(hugetlb_is_file(fd));
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 4 * MB2);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_discard_whole_huge_pages),
	    cmocka_unit_test(test_map_short_pool),
	    cmocka_unit_test(test_memfd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
