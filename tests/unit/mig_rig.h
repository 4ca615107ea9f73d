/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mig_rig.h - builds migration streams in memory (migrate_stream.h) for the
 * unit tests and the fuzz target: a frame at a time, each with the nonce
 * and the next sequence number, so a test can damage one part and keep the
 * rest right.  No cmocka here.
 */
#ifndef EMBER_MIG_RIG_H
#define EMBER_MIG_RIG_H

#include <stdlib.h>
#include <string.h>

#include "migrate_stream.h"

struct mig_buf {
	uint8_t *p;
	size_t len;
	uint64_t nonce, seq;
};

static inline void mig_buf_add(struct mig_buf *b, uint32_t type, const void *payload, size_t len)
{
	struct mig_part part = {payload, len};
	uint8_t *n = realloc(b->p, b->len + MIG_HDR_SIZE + len + 1);

	if (!n)
		abort();
	b->p = n;
	mig_hdr_encode(b->p + b->len, b->nonce, type, b->seq++, &part, 1);
	if (len)
		memcpy(b->p + b->len + MIG_HDR_SIZE, payload, len);
	b->len += MIG_HDR_SIZE + len;
}

static inline void mig_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Where guest RAM starts in vm_create's layout (each vmm/arch/ARCH/layout.h). */
#if defined(__aarch64__)
#define MIG_RIG_GPA 0x80000000ull
#else
#define MIG_RIG_GPA 0ull
#endif

/* HELLO for one region of @bytes at MIG_RIG_GPA, in version @version. */
static inline void mig_buf_hello(struct mig_buf *b, uint32_t version, uint64_t bytes)
{
	uint8_t h[40] = {0};

	mig_le(h, version, 4);
	mig_le(h + 4, SNAP_ARCH_HOST, 4);
	mig_le(h + 8, 1, 4);
	mig_le(h + 16, bytes, 8);
	mig_le(h + 24, MIG_RIG_GPA, 8); /* region 0: gpa, size */
	mig_le(h + 32, bytes, 8);
	mig_buf_add(b, MIG_FR_HELLO, h, sizeof(h));
}

/* One PAGES frame of the @n pages at offsets @offs, page i filled with the byte @fill + i. */
static inline void mig_buf_page_list(struct mig_buf *b, const uint64_t *offs, uint32_t n,
				     uint8_t fill)
{
	size_t len = MIG_PAGES_HDR + (size_t)n * (8 + MIG_PAGE);
	uint8_t *p = calloc(1, len), *data = p + MIG_PAGES_HDR + (size_t)n * 8;

	if (!p)
		abort();
	mig_le(p, n, 4);
	for (uint32_t i = 0; i < n; i++) {
		mig_le(p + MIG_PAGES_HDR + (size_t)i * 8, offs[i], 8);
		memset(data + (size_t)i * MIG_PAGE, fill + (int)i, MIG_PAGE);
	}
	mig_buf_add(b, MIG_FR_PAGES, p, len);
	free(p);
}

/* @n adjacent pages at @off (n <= MIG_MAX_RUN), as one frame. */
static inline void mig_buf_pages(struct mig_buf *b, uint64_t off, uint32_t n, uint8_t fill)
{
	uint64_t offs[MIG_MAX_RUN];

	for (uint32_t i = 0; i < n && i < MIG_MAX_RUN; i++)
		offs[i] = off + (uint64_t)i * MIG_PAGE;
	mig_buf_page_list(b, offs, n, fill);
}

/* A small valid snapshot state file with one machine section, as a frame of @type. */
static inline void mig_buf_image(struct mig_buf *b, uint32_t type)
{
	struct snap_writer w;
	uint8_t m[16] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
	const uint8_t *img;
	size_t len;

	if (snap_w_begin(&w, 0))
		abort();
	snap_w_section(&w, SNAP_SEC_MACHINE, 0, m, sizeof(m));
	img = snap_w_bytes(&w, &len);
	if (!img)
		abort();
	mig_buf_add(b, type, img, len);
	snap_w_free(&w);
}

/* STATE: the image above. */
static inline void mig_buf_state(struct mig_buf *b)
{
	mig_buf_image(b, MIG_FR_STATE);
}

static inline void mig_buf_end(struct mig_buf *b, uint32_t flags)
{
	uint8_t e[8] = {0};

	mig_le(e, flags, 4);
	mig_buf_add(b, MIG_FR_END, e, sizeof(e));
}

/* A good stream: 16 pages of RAM, 3 sent then one of them again, state, end. */
static inline void mig_buf_good(struct mig_buf *b, uint64_t nonce)
{
	*b = (struct mig_buf){.nonce = nonce};
	mig_buf_hello(b, MIG_VERSION, 16 * MIG_PAGE);
	mig_buf_pages(b, 0, 3, 0x10);
	mig_buf_pages(b, 15 * MIG_PAGE, 1, 0x20);
	mig_buf_pages(b, MIG_PAGE, 1, 0x30);
	mig_buf_state(b);
	mig_buf_end(b, MIG_END_PAUSED);
}

#endif /* EMBER_MIG_RIG_H */
