// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the live-migration stream as a destination reads it
 * (snapshot/migrate_stream.c): raw bytes -> frame headers (bounds before
 * any payload is read) -> CRC -> HELLO / CONFIG and STATE (snap_parse) /
 * PAGES (offset lists) / END
 * in order, pages stored into a small RAM.  Random bytes rarely carry a
 * good CRC and sequence, so every input is read twice: as it is, and with
 * each frame's sequence number and CRC made right (the structure checks
 * must then hold on their own).  The input's head also goes to the
 * greeting and answer decoders.  Any crash, leak or sanitizer report is a
 * bug; refusals are the point.  `make fuzz` runs the seeds below and 2000
 * mutations of each (driver.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate_stream.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

#include "../unit/mig_rig.h"

#define NONCE	 0x5eed5eed5eed5eedull
#define FUZZ_RAM (64u * MIG_PAGE)

static struct {
	size_t frames, pages, states, accepted;
} depth;

static uint8_t ram[FUZZ_RAM];

/* The receiver promised off + n pages <= the HELLO's size; RAM here is smaller. */
static int store(void *ctx, uint64_t off, const uint8_t *data, uint32_t n)
{
	const struct mig_rx *rx = ctx;

	if (off > rx->mem_bytes || (uint64_t)n * MIG_PAGE > rx->mem_bytes - off)
		abort();
	if (off > FUZZ_RAM || (uint64_t)n * MIG_PAGE > FUZZ_RAM - off)
		return -ENOSPC;
	memcpy(ram + off, data, (size_t)n * MIG_PAGE);
	depth.pages += n;
	return 0;
}

static void run(const uint8_t *data, size_t size)
{
	struct mig_rx rx;
	char err[256];

	mig_rx_init(&rx, NONCE);
	rx.pages = store;
	rx.ctx = &rx;
	if (!mig_rx_buffer(&rx, data, size, err, sizeof(err))) {
		/* Accepted: a complete, ordered stream whose state parsed. */
		if (rx.state != MIG_RX_DONE || !rx.img.buf)
			abort();
		depth.accepted++;
	}
	depth.frames += rx.seq;
	depth.states += rx.img.buf != NULL;
	mig_rx_free(&rx);
}

/* The same frames with their sequence numbers and CRCs made right. */
static void run_fixed(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t off = 0;
	uint64_t seq = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	while (size - off >= MIG_HDR_SIZE) {
		uint8_t *h = buf + off;
		uint64_t len =
		    h[16] | (uint64_t)h[17] << 8 | (uint64_t)h[18] << 16 | (uint64_t)h[19] << 24;
		struct mig_part part;
		uint32_t type = h[0] | (uint32_t)h[1] << 8;

		if (len > size - off - MIG_HDR_SIZE)
			len = size - off - MIG_HDR_SIZE;
		part = (struct mig_part){h + MIG_HDR_SIZE, len};
		mig_hdr_encode(h, NONCE, type, seq++, &part, 1);
		off += MIG_HDR_SIZE + len;
	}
	run(buf, size);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t nonce, len;
	char err[256];

	run(data, size);
	run_fixed(data, size);
	if (size >= MIG_GREETING_SIZE)
		(void)mig_greeting_decode(data, &nonce, err, sizeof(err));
	if (size >= MIG_HDR_SIZE && !mig_answer_check(NONCE, data, NULL, &len, err, sizeof(err)) &&
	    len <= size - MIG_HDR_SIZE)
		(void)mig_answer_check(NONCE, data, data + MIG_HDR_SIZE, &len, err, sizeof(err));
	return 0;
}

/* make fuzz fails if the seeds stop reaching stored pages, a parsed state and END. */
static int fuzz_report(void)
{
	bool deep = depth.pages && depth.states && depth.accepted;

	printf("fuzz_migrate: %zu frames, %zu pages, %zu states, %zu accepted\n", depth.frames,
	       depth.pages, depth.states, depth.accepted);
	return !deep;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	struct mig_buf b;
	unsigned n = 0;

	if (max < 3)
		return 0;
	mig_buf_good(&b, NONCE);
	fuzz_seed_add(s, &n, "good", b.p, b.len);
	free(b.p);
	/* The largest run of pages, then RAM's last page. */
	b = (struct mig_buf){.nonce = NONCE};
	mig_buf_hello(&b, MIG_VERSION, MIG_MAX_RUN * MIG_PAGE);
	mig_buf_pages(&b, 0, 4, 1);
	mig_buf_pages(&b, (MIG_MAX_RUN - 1) * MIG_PAGE, 1, 2);
	mig_buf_state(&b);
	mig_buf_end(&b, 0);
	fuzz_seed_add(s, &n, "edges", b.p, b.len);
	free(b.p);
	b = (struct mig_buf){.nonce = NONCE};
	mig_buf_hello(&b, MIG_VERSION, 4 * MIG_PAGE);
	mig_buf_state(&b);
	mig_buf_end(&b, MIG_END_PAUSED);
	fuzz_seed_add(s, &n, "no-pages", b.p, b.len);
	free(b.p);
	/* The settings ahead of the pages (the destination builds the VM from them), scattered. */
	b = (struct mig_buf){.nonce = NONCE};
	mig_buf_hello(&b, MIG_VERSION, 16 * MIG_PAGE);
	mig_buf_image(&b, MIG_FR_CONFIG);
	mig_buf_page_list(&b, (const uint64_t[]){0, 3 * MIG_PAGE, 4 * MIG_PAGE, 15 * MIG_PAGE}, 4,
			  7);
	mig_buf_state(&b);
	mig_buf_end(&b, 0);
	fuzz_seed_add(s, &n, "config-scattered", b.p, b.len);
	free(b.p);
	return n;
}
