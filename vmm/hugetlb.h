/* SPDX-License-Identifier: MIT */
#ifndef EMBER_HUGETLB_H
#define EMBER_HUGETLB_H

#include <stddef.h>
#include <stdint.h>

#define HUGETLB_2M (2ull << 20)

/*
 * Anonymous private guest RAM on 2 MiB hugetlbfs pages (machine-config
 * huge_pages "2M").  Returns MAP_FAILED with errno set; on a pool too small
 * it logs how many pages were needed and how many the host had free.
 */
void *hugetlb_map(size_t len);

/* Free 2 MiB pages nobody has reserved yet; -errno when unreadable. */
long long hugetlb_available(void);

#endif
