/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork_pages.h - the pages a forked parent wrote since its first fork
 * (vmm/fork_pages.c), for its later forks.
 *
 * After the first fork the parent's RAM is the frozen memfd plus its own
 * private copies.  A later fork's children map the same memfd, so they must
 * also get the parent's copies: the pages whose content differs from the
 * memfd's (found in the page table or compared, never tracked, so the
 * guest's writes, ember's own and the balloon's discards are all seen
 * right).  A restored VM is in that state from the start: its memory file
 * is the base.  Only those pages are sent,
 * after the state, as runs: a 16-byte header (u64 LE offset into RAM, the
 * regions back to back; u32 LE pages, 1..FORK_PAGES_RUN; u32 0), then the
 * pages.  The child writes them into its RAM before its vCPUs run.
 */
#ifndef EMBER_FORK_PAGES_H
#define EMBER_FORK_PAGES_H

#include <stdint.h>

#include "vm.h"

#define FORK_PAGES_RUN 256u /* pages per run: 1 MiB */

/* The pages that differ from @vm->ram_fd: *@bits (one bit a page, RAM back to back), *@count. */
int fork_pages_diff(struct vm *vm, uint64_t **bits, uint64_t *count);
/* The runs of @bits, to one child. */
int fork_pages_send(int fd, const struct vm *vm, const uint64_t *bits);
/* The child: exactly @count pages in runs into @vm's RAM, each checked.  0 or -errno. */
int fork_pages_recv(int fd, struct vm *vm, uint64_t count, char *err, size_t errlen);

#endif /* EMBER_FORK_PAGES_H */
