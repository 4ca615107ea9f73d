/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sparse.h - assigning big, mostly empty structs without writing the pages
 * that stay zero.
 *
 * ember's configuration structs are large and nearly all zeros (an
 * api_vm_config, ~164 KiB, has room for 16 drives, 8 NICs, 8 pmem devices
 * and a CPU template; a vm_config ~68 KiB).  Calloc'd, their untouched pages
 * cost nothing, but a struct assignment or memset writes every page, and
 * each of many snapshot clones then keeps them all (bench/results/density.md
 * measured it).  These write only the pages whose contents change: reading
 * an untouched page of an anonymous mapping maps the shared zero page, which
 * costs no memory.  The result is the same as memcpy / memset.
 */
#ifndef EMBER_SPARSE_H
#define EMBER_SPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes from @p to the next page boundary, at most @left. */
static inline size_t sparse_span(const void *p, size_t left)
{
	size_t n = 4096 - ((uintptr_t)p & 4095);

	return n < left ? n : left;
}

static inline void sparse_copy(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;

	for (size_t off = 0, n; off < len; off += n) {
		n = sparse_span(d + off, len - off);
		if (memcmp(d + off, s + off, n))
			memcpy(d + off, s + off, n);
	}
}

/* @n bytes at @p are all zeros: the first is and every byte equals the next. */
static inline bool sparse_is_zero(const char *p, size_t n)
{
	return !p[0] && !memcmp(p, p + 1, n - 1);
}

/*
 * sparse_copy into @dst fresh from calloc: never reads it (each read of an
 * untouched page is a page fault too).  A page all zeros in @src is not
 * written, so @dst keeps what it holds there: zeros, or defaults set
 * before (the API server's config: api_config_defaults).
 */
static inline void sparse_fill(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;

	for (size_t off = 0, n; off < len; off += n) {
		n = sparse_span(d + off, len - off);
		if (!sparse_is_zero(s + off, n))
			memcpy(d + off, s + off, n);
	}
}

static inline void sparse_zero(void *dst, size_t len)
{
	char *d = dst;

	for (size_t off = 0, n; off < len; off += n) {
		n = sparse_span(d + off, len - off);
		if (!sparse_is_zero(d + off, n))
			memset(d + off, 0, n);
	}
}

#endif
