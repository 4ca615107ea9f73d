// SPDX-License-Identifier: Apache-2.0
/*
 * A forked parent's own pages, for its later forks (fork_pages.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fork_pages.h"
#include "migrate.h"

#define PG GM_PAGE_SIZE

static uint64_t ram_pages(const struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->mem.nr_regions - vm->devmem.nr_exposed; i++)
		n += vm->mem.region[i].size / PG;
	return n;
}

/* The host address of RAM page @pg (regions back to back), or NULL past the end. */
static uint8_t *page_at(const struct vm *vm, uint64_t pg, uint64_t *left_in_region)
{
	for (unsigned i = 0; i < vm->mem.nr_regions - vm->devmem.nr_exposed; i++) {
		const struct gm_region *g = &vm->mem.region[i];

		if (pg < g->size / PG) {
			*left_in_region = g->size / PG - pg;
			return g->host + pg * PG;
		}
		pg -= g->size / PG;
	}
	return NULL;
}

/*
 * Which pages differ, from the kernel's page table (/proc/self/pagemap): in
 * a private mapping of the base, a page this VM wrote is an anonymous copy
 * (present and not a file page, or swapped out); one it never wrote is the
 * base's page cache, or not mapped at all (dropped by the balloon: it reads
 * as the base again).  8 bytes read a page instead of the page and its base,
 * and no page of RAM touched.  2 MiB pages are compared instead: pagemap
 * does not report a huge page that is being migrated.  -errno without /proc
 * (the jailer's chroot): compare then.
 */
#define PM_PRESENT (1ull << 63)
#define PM_SWAP	   (1ull << 62)
#define PM_FILE	   (1ull << 61)

static int diff_pagemap(const struct vm *vm, uint64_t *bits, uint64_t *count)
{
	uint64_t n = ram_pages(vm), left = 0, e[FORK_PAGES_RUN];
	int fd, r = 0;

	if (vm->mem.region[0].hugetlb)
		return -ENOTSUP;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (uint64_t pg = 0; !r && pg < n;) {
		uint8_t *host = page_at(vm, pg, &left);
		uint64_t k = left < FORK_PAGES_RUN ? left : FORK_PAGES_RUN;
		struct iovec iov = {e, (size_t)k * sizeof(e[0])};
		ssize_t got = preadv(fd, &iov, 1, (off_t)((uintptr_t)host / PG * sizeof(e[0])));

		if (got != (ssize_t)iov.iov_len) {
			r = got < 0 ? -errno : -EIO;
			break;
		}
		for (uint64_t j = 0; j < k; j++)
			if (e[j] & PM_SWAP || (e[j] & (PM_PRESENT | PM_FILE)) == PM_PRESENT) {
				bits[(pg + j) / 64] |= 1ull << ((pg + j) % 64);
				(*count)++;
			}
		pg += k;
	}
	close(fd);
	return r;
}

/* Which pages differ, by reading the base and comparing every page. */
static int diff_compare(const struct vm *vm, uint64_t *bits, uint64_t *count)
{
	uint64_t n = ram_pages(vm), left = 0;
	uint8_t *buf = malloc((size_t)FORK_PAGES_RUN * PG);
	int r = buf ? 0 : -ENOMEM;

	for (uint64_t pg = 0; !r && pg < n;) {
		uint8_t *host = page_at(vm, pg, &left);
		uint64_t k = left < FORK_PAGES_RUN ? left : FORK_PAGES_RUN;
		struct iovec iov = {buf, (size_t)k * PG};
		ssize_t got = preadv(vm->ram_fd, &iov, 1, (off_t)(pg * PG));

		if (got != (ssize_t)iov.iov_len) {
			r = got < 0 ? -errno : -EIO;
			break;
		}
		for (uint64_t j = 0; j < k; j++)
			if (memcmp(host + j * PG, buf + j * PG, PG)) {
				bits[(pg + j) / 64] |= 1ull << ((pg + j) % 64);
				(*count)++;
			}
		pg += k;
	}
	free(buf);
	return r;
}

int fork_pages_diff(struct vm *vm, uint64_t **bits, uint64_t *count)
{
	size_t words = (size_t)(ram_pages(vm) + 63) / 64;
	int r;

	*count = 0;
	*bits = calloc(words, sizeof(uint64_t));
	if (!*bits)
		return -ENOMEM;
	r = diff_pagemap(vm, *bits, count);
	if (r) {
		memset(*bits, 0, words * sizeof(uint64_t));
		*count = 0;
		r = diff_compare(vm, *bits, count);
	}
	if (r) {
		free(*bits);
		*bits = NULL;
	}
	return r;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n; i--;)
		v = v << 8 | p[i];
	return v;
}

int fork_pages_send(int fd, const struct vm *vm, const uint64_t *bits)
{
	uint64_t n = ram_pages(vm), left = 0;
	int r = 0;

	for (uint64_t pg = 0; !r && pg < n;) {
		uint8_t hdr[16] = {0}, *host;
		uint64_t k = 0;

		if (!(bits[pg / 64] >> (pg % 64) & 1)) {
			pg++;
			continue;
		}
		host = page_at(vm, pg, &left);
		/* A run: consecutive dirty pages in one region, at most FORK_PAGES_RUN. */
		while (k < left && k < FORK_PAGES_RUN && pg + k < n &&
		       bits[(pg + k) / 64] >> ((pg + k) % 64) & 1)
			k++;
		put_le(hdr, pg * PG, 8);
		put_le(hdr + 8, k, 4);
		r = migrate_send_all(fd, hdr, sizeof(hdr));
		if (!r)
			r = migrate_send_all(fd, host, (size_t)k * PG);
		pg += k;
	}
	return r;
}

int fork_pages_recv(int fd, struct vm *vm, uint64_t count, char *err, size_t errlen)
{
	uint64_t n = ram_pages(vm), left = 0;

	while (count) {
		uint8_t hdr[16], *host;
		uint64_t off, k;
		int r = migrate_recv_all(fd, hdr, sizeof(hdr));

		if (r) {
			snprintf(err, errlen, "reading the parent's pages: %s", strerror(-r));
			return r;
		}
		off = get_le(hdr, 8);
		k = get_le(hdr + 8, 4);
		host = off % PG || off / PG >= n ? NULL : page_at(vm, off / PG, &left);
		if (!host || !k || k > FORK_PAGES_RUN || k > left || k > count ||
		    get_le(hdr + 12, 4)) {
			snprintf(err, errlen,
				 "a bad run of the parent's pages (offset %llu, %llu pages)",
				 (unsigned long long)off, (unsigned long long)k);
			return -EINVAL;
		}
		/* Straight into guest RAM: no vCPU runs yet, and every byte is the parent's. */
		r = migrate_recv_all(fd, host, (size_t)k * PG);
		if (r) {
			snprintf(err, errlen, "reading the parent's pages: %s", strerror(-r));
			return r;
		}
		count -= k;
	}
	return 0;
}
