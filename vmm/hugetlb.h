/* SPDX-License-Identifier: MIT */
#ifndef EMBER_HUGETLB_H
#define EMBER_HUGETLB_H

#include <stddef.h>
#include <stdint.h>

#define HUGETLB_2M (2ull << 20)

#include <stdbool.h>

/*
 * Guest RAM on 2 MiB hugetlbfs pages (machine-config huge_pages "2M"):
 * @len bytes of @fd from @off, MAP_SHARED or MAP_PRIVATE (a live fork's
 * copy-on-write over its base), or with @fd -1 anonymous private memory.
 * Reserved whole at mmap.  Returns MAP_FAILED with errno set; on a pool too
 * small it logs how many pages were needed and how many the host had free.
 */
void *hugetlb_map(size_t len, int fd, uint64_t off, bool shared);

/* A memfd of @len bytes on 2 MiB pages (nothing reserved yet): fd or -errno. */
int hugetlb_memfd(uint64_t len);

/* Whether @fd is a hugetlbfs file (a forked or migrated VM's 2M RAM). */
bool hugetlb_is_file(int fd);

/* Free 2 MiB pages nobody has reserved yet; -errno when unreadable. */
long long hugetlb_available(void);

#endif
