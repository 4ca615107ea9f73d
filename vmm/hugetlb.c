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
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ember.h"
#include "hugetlb.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26) /* log2(2 MiB) << MAP_HUGE_SHIFT */
#endif

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26) /* log2(2 MiB) << MFD_HUGE_SHIFT */
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

void *hugetlb_map(size_t len, int fd, uint64_t off, bool shared)
{
	void *p = fd < 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0)
			 : mmap(NULL, len, PROT_READ | PROT_WRITE,
				shared ? MAP_SHARED : MAP_PRIVATE, fd, (off_t)off);
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

int hugetlb_memfd(uint64_t len)
{
	int fd = memfd_create("ember-ram", MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

bool hugetlb_is_file(int fd)
{
	struct statfs s;

	return !fstatfs(fd, &s) && s.f_type == HUGETLBFS_MAGIC;
}
