// SPDX-License-Identifier: MIT
/*
 * Guest RAM backed by 2 MiB hugetlbfs pages, as Firecracker's huge_pages "2M".
 *
 * Unlike Firecracker (which maps with MAP_NORESERVE and lets a short pool end
 * in SIGBUS on some later fault), ember maps without MAP_NORESERVE: the kernel
 * reserves every huge page at mmap time, so a short pool is a clear refusal at
 * InstanceStart and never a SIGBUS in the middle of a guest's life.  Pages are
 * still only allocated when first touched (no MAP_POPULATE).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ember.h"
#include "hugetlb.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26) /* log2(2 MiB) << MAP_HUGE_SHIFT */
#endif

#define HUGETLB_SYSFS "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static long long read_count(const char *name)
{
	char path[128], buf[32];
	long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), HUGETLB_SYSFS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	v = strtoll(buf, NULL, 10);
	return v < 0 ? -EIO : v;
}

long long hugetlb_available(void)
{
	long long free_pages = read_count("free_hugepages");
	long long resv = read_count("resv_hugepages");

	if (free_pages < 0)
		return free_pages;
	/* Reserved pages are free but promised to a mapping already. */
	return resv > 0 && resv <= free_pages ? free_pages - resv : free_pages;
}

void *hugetlb_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	int e = errno;

	if (p != MAP_FAILED)
		return p;
	if (e == ENOMEM) {
		long long avail = hugetlb_available();

		if (avail >= 0)
			log_err("not enough free 2 MiB huge pages: guest memory needs %llu, the "
				"host has %lld free (" HUGETLB_SYSFS "free_hugepages)",
				(unsigned long long)(len / HUGETLB_2M), avail);
		else
			log_err("not enough free 2 MiB huge pages: guest memory needs %llu and "
				"the host has no 2 MiB hugetlbfs pool (" HUGETLB_SYSFS ")",
				(unsigned long long)(len / HUGETLB_2M));
	}
	errno = e;
	return MAP_FAILED;
}
