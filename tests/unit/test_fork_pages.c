// SPDX-License-Identifier: Apache-2.0
/*
 * The pages a forked or restored VM wrote over its base (vmm/fork_pages.c):
 * both ways of finding them (the page table, comparing) find exactly the
 * pages written, not those only read or given back by the balloon; they
 * reach a child's RAM; a child refuses runs that do not fit its RAM.
 * fork_pages.c is built in here: the unit objects leave out vmm/'s fork
 * code (it needs the snapshot stream's socket helpers, stubbed below).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

#include "../../vmm/fork_pages.c"

int migrate_send_all(int fd, const void *p, size_t len)
{
	return write(fd, p, len) == (ssize_t)len ? 0 : -EIO;
}

int migrate_recv_all(int fd, void *p, size_t len)
{
	return recv(fd, p, len, MSG_WAITALL) == (ssize_t)len ? 0 : -EIO;
}

#define NPG 64 /* two regions of 32 pages, back to back in the base */

/* A VM of two regions mapped privately over @base, as a restore maps its memory file. */
static struct vm *fake_vm(int base)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	assert_non_null(vm);
	vm->ram_fd = base;
	vm->mem.nr_regions = 2;
	for (unsigned i = 0; i < 2; i++) {
		struct gm_region *g = &vm->mem.region[i];

		g->gpa = i * (4ull << 30);
		g->size = NPG / 2 * PG;
		g->host = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, base,
			       (off_t)(i * g->size));
		assert_true(g->host != MAP_FAILED);
	}
	return vm;
}

static void free_vm(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++)
		munmap(vm->mem.region[i].host, vm->mem.region[i].size);
	free(vm);
}

static uint8_t *page(struct vm *vm, unsigned pg)
{
	uint64_t left;

	return page_at(vm, pg, &left);
}

static int make_base(void)
{
	int fd = memfd_create("base", MFD_CLOEXEC);
	uint8_t buf[PG];

	assert_true(fd >= 0);
	for (unsigned i = 0; i < NPG; i++) {
		memset(buf, 0x40 + i, sizeof(buf));
		assert_int_equal(write(fd, buf, sizeof(buf)), PG);
	}
	return fd;
}

/* Written: 3, 31 (end of region 0), 32 (start of region 1), 63.  Read only: 5.
 * Written, then dropped (MADV_DONTNEED, the balloon): 10. */
static struct vm *written_vm(int base)
{
	struct vm *vm = fake_vm(base);
	static const unsigned w[] = {3, 31, 32, 63};
	volatile uint8_t sink = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(w); i++)
		page(vm, w[i])[7] = 0xee;
	sink += page(vm, 5)[0];
	(void)sink;
	page(vm, 10)[0] = 1;
	assert_int_equal(madvise(page(vm, 10), PG, MADV_DONTNEED), 0);
	return vm;
}

static void check_bits(const uint64_t *bits, uint64_t count)
{
	assert_int_equal(count, 4);
	assert_int_equal(bits[0], 1ull << 3 | 1ull << 31 | 1ull << 32 | 1ull << 63);
}

static void test_diff_pagemap(void **state)
{
	int base = make_base();
	struct vm *vm = written_vm(base);
	uint64_t bits[1] = {0}, count = 0;

	(void)state;
	if (diff_pagemap(vm, bits, &count) == -ENOENT)
		skip(); /* no /proc here */
	check_bits(bits, count);
	free_vm(vm);
	close(base);
}

static void test_diff_compare(void **state)
{
	int base = make_base();
	struct vm *vm = written_vm(base);
	uint64_t bits[1] = {0}, count = 0;

	(void)state;
	assert_int_equal(diff_compare(vm, bits, &count), 0);
	check_bits(bits, count);
	free_vm(vm);
	close(base);
}

/* The written pages reach a child mapped over the same base; the rest stays the base's. */
static void test_send_recv(void **state)
{
	int base = make_base(), sv[2];
	struct vm *vm = written_vm(base), *child = fake_vm(base);
	uint64_t *bits, count;
	char err[200];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fork_pages_diff(vm, &bits, &count), 0);
	check_bits(bits, count);
	assert_int_equal(fork_pages_send(sv[0], vm, bits), 0);
	assert_int_equal(fork_pages_recv(sv[1], child, count, err, sizeof(err)), 0);
	for (unsigned i = 0; i < NPG; i++)
		assert_memory_equal(page(child, i), page(vm, i), PG);
	assert_int_equal(page(child, 10)[0], 0x40 + 10);
	free(bits);
	free_vm(child);
	free_vm(vm);
	close(sv[0]);
	close(sv[1]);
	close(base);
}

/* A run past the child's RAM, across its regions, empty, or beyond what was announced. */
static void test_recv_bad_runs(void **state)
{
	static const struct {
		uint64_t off, k, count;
	} bad[] = {
	    {NPG * PG, 1, 1},		  /* past the end */
	    {31 * PG, 2, 2},		  /* across two regions */
	    {0, 0, 1},			  /* empty */
	    {0, 2, 1},			  /* more than announced */
	    {PG + 1, 1, 1},		  /* not page aligned */
	    {0, FORK_PAGES_RUN + 1, NPG}, /* too long */
	};
	int base = make_base();
	struct vm *child = fake_vm(base);
	char err[200];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t hdr[16] = {0};
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		put_le(hdr, bad[i].off, 8);
		put_le(hdr + 8, bad[i].k, 4);
		assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
		assert_int_equal(fork_pages_recv(sv[1], child, bad[i].count, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "a bad run"));
		close(sv[0]);
		close(sv[1]);
	}
	free_vm(child);
	close(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_pagemap),
	    cmocka_unit_test(test_diff_compare),
	    cmocka_unit_test(test_send_recv),
	    cmocka_unit_test(test_recv_bad_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
