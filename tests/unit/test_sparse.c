// SPDX-License-Identifier: Apache-2.0
/*
 * vmm/sparse.h: the results equal memcpy / memset, and pages whose contents
 * stay zero are never written, so a fresh anonymous mapping keeps them out
 * of its RSS (what each snapshot clone would otherwise pay for).  RSS is
 * read from /proc/self/smaps for the test's own mapping.  Some host kernels
 * (seen: a 6.18 build) give a read fault its own page instead of the shared
 * zero page; there nothing can stay out of RSS, and the RSS checks say so
 * and are left out, while the contents are still checked.  sparse_fill's
 * check needs no zero page: it counts the destination's mapped pages.
 */
#include <stdio.h>
#include <sys/mman.h>

#include "unit.h"
#include "sparse.h"
#include "thread.h"

#define PAGES 64
#define LEN   (PAGES * 4096)

/* KiB resident in the mapping that starts at @p. */
static long rss_kb(const void *p)
{
	char line[256], start[32];
	FILE *f = fopen("/proc/self/smaps", "r");
	long kb = -1;
	int in = 0;

	assert_non_null(f);
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)p);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && line[0] != ' ' && strncmp(line, "Rss:", 4))
			in = !strncmp(line, start, strlen(start));
		if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* A fresh mapping of its own: PROT_NONE pages on both sides keep the
 * kernel from merging it with a neighbour (its smaps line is then its own). */
static char *fresh(void)
{
	char *p = mmap(NULL, LEN + 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_ptr_not_equal(p, MAP_FAILED);
	assert_int_equal(mprotect(p + 4096, LEN, PROT_READ | PROT_WRITE), 0);
	return p + 4096;
}

static void unmap(char *p)
{
	munmap(p - 4096, LEN + 8192);
}

/* Whether reading an untouched anonymous page maps the zero page here. */
static bool zero_page_reads(void)
{
	static int known = -1;
	char *p;

	if (known < 0) {
		p = fresh();
		(void)*(volatile char *)p;
		known = rss_kb(p) == 0;
		unmap(p);
		if (!known)
			print_message(
			    "this kernel gives read faults their own page: RSS not checked\n");
	}
	return known;
}

/* @p's RSS is @kb, where untouched pages read as the zero page. */
static void expect_rss(const char *p, long kb)
{
	if (zero_page_reads())
		assert_in_range(rss_kb(p), kb, kb);
}

static void test_copy(void **state)
{
	char *src = fresh(), *dst = fresh(), *want = malloc(LEN);

	(void)state;
	/* Two pages of data, the second straddling a page boundary of dst at an odd offset. */
	memset(src + 3 * 4096, 0xab, 100);
	memset(src + 10 * 4096 - 7, 0xcd, 20);
	sparse_copy(dst + 1, src + 1, LEN - 1);
	memset(want, 0, LEN);
	memcpy(want + 1, src + 1, LEN - 1);
	assert_memory_equal(dst, want, LEN);
	/* Written: page 3, pages 9 and 10; the other 61 read as zero and stay out. */
	expect_rss(dst, 12);
	/* A second copy over different contents still equals memcpy, zeros included. */
	memset(src + 3 * 4096, 0, 100);
	memset(src + 40 * 4096, 1, 4096);
	sparse_copy(dst, src, LEN);
	assert_memory_equal(dst, src, LEN);
	unmap(src);
	unmap(dst);
	free(want);
}

/* Pages of the mapping at @p with a page-table entry: read ones too (zero page or not). */
static int mapped_pages(char *p)
{
	unsigned char vec[PAGES];
	int n = 0;

	assert_int_equal(mincore(p, LEN, vec), 0);
	for (int i = 0; i < PAGES; i++)
		n += vec[i] & 1;
	return n;
}

/* Into a fresh (zero) destination: as memcpy, and its pages that stay
 * zero are not even read, so they never fault (on any kernel). */
static void test_fill(void **state)
{
	char *src = fresh(), *dst = fresh();

	(void)state;
	memset(src + 3 * 4096, 0xab, 100);
	memset(src + 10 * 4096 - 7, 0xcd, 20);
	sparse_fill(dst + 1, src + 1, LEN - 1);
	assert_int_equal(mapped_pages(dst), 3); /* pages 3, 9 and 10; before reading it below */
	assert_memory_equal(dst + 1, src + 1, LEN - 1);
	unmap(src);
	unmap(dst);
}

static void test_zero(void **state)
{
	char *p = fresh();

	(void)state;
	sparse_zero(p, LEN);
	expect_rss(p, 0);
	memset(p + 5 * 4096 + 4095, 1, 1);
	memset(p + 20 * 4096, 2, 4096);
	sparse_zero(p + 1, LEN - 1);
	for (size_t i = 0; i < LEN; i++)
		if (p[i])
			fail_msg("byte %zu is %d after sparse_zero", i, p[i]);
	expect_rss(p, 8);
	unmap(p);
}

/* A thread_start() thread keeps nothing of a deep call's stack after
 * thread_stack_trim(); without it the pages stay.  Each stack's RSS is read
 * after the join (the mapping is ours until thread_join frees it). */
static void *deep(void *arg)
{
	volatile char buf[256 << 10];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 1;
	return arg;
}

static void *deep_then_trim(void *arg)
{
	deep(arg);
	thread_stack_trim();
	return arg;
}

static long stack_rss_after(void *(*fn)(void *))
{
	struct ember_thread t;
	long kb;

	assert_int_equal(thread_start(&t, THREAD_STACK, fn, NULL), 0);
	pthread_join(t.id, NULL);
	assert_int_equal(rss_kb(t.map), 0); /* the guard page */
	kb = rss_kb((char *)t.map + 4096);
	munmap(t.map, t.map_len);
	return kb;
}

static void test_thread_trim(void **state)
{
	(void)state;
	assert_true(stack_rss_after(deep) >= 256);
	assert_true(stack_rss_after(deep_then_trim) <= 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_fill),
	    cmocka_unit_test(test_zero),
	    cmocka_unit_test(test_thread_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
