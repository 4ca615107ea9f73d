// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the split virtqueue walker (virtio/virtq.c), the code
 * every device runs on guest-written rings: the input is guest memory (two
 * separately allocated regions with a hole between them, so a range that
 * crosses a region's end lands in an ASan redzone) and its first bytes also
 * say where the rings are, their size, the negotiated ring features and the
 * indices a restored queue would start from.  virtq_validate decides; a
 * queue it accepts is run as a device runs it: virtq_pop until empty,
 * virtq_arm_notify, and per chain (as the header's action bytes say) push
 * at once, hold and push later out of order, or virtq_unpop and pop again;
 * virtq_needs_signal after pushes.  Every byte each segment claims is read,
 * and the device-writable ones written (through gm_ptr/gm_ptr_w, as devices
 * do), so a bad mapping is a sanitizer report.  Also checked: a chain is
 * never longer than the ring, a bad chain carries no segments, an unpopped
 * chain pops again the same, and the used index in memory is ours.
 *
 * Not reached: the transport and the devices (fuzz_mmio drives those), and
 * concurrency: the guest rewriting rings in the middle of a pop is only
 * approximated by writable segments that overlap the rings.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_virtq --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtq.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t valid, popped, walked, indirect, unpopped, pushed, signalled, eio;
} depth;

/*
 * Guest memory: two regions of REGION bytes at REGION0_GPA and REGION1_GPA,
 * the input copied over both (region 0 first, repeated if short).
 */
#define REGION	    0x2000u
#define REGION0_GPA 0x0u
#define REGION1_GPA 0x4000u

/* The header at the start of the input (and so of region 0). */
#define H_FLAGS	     0 /* u8: bit 0 event_idx, 1 indirect, 2 signalled_valid */
#define H_SIZE	     2 /* u16 QueueNum */
#define H_MAX	     4 /* u16 QueueNumMax, 0 for VIRTQ_MAX_SIZE */
#define H_DESC	     8 /* u32 each: ring addresses */
#define H_AVAIL	     12
#define H_USED	     16
#define H_LAST_AVAIL 20 /* u16 each: a restored queue's progress */
#define H_USED_IDX   22
#define H_SIGNALLED  24
#define H_ACTIONS    32 /* u8 per chain popped: what the device does with it */
#define N_ACTIONS    32
#define H_LEN	     (H_ACTIONS + N_ACTIONS)

/* Rounds of the device loop per input (pops, plus re-arms). */
#define MAX_ROUNDS 48
/* Chains a device may hold before it must push them. */
#define MAX_HELD 8

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A bug in ember, not a refusal: stop so the input is kept. */
static void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_virtq: %s\n", what);
	abort();
}

/*
 * Reads every byte of each segment and writes the device-writable ones, as a
 * device serving the chain would; the sanitizers judge the mapping.
 * Returns the bytes written (what a device would push as used length).
 */
static uint32_t touch(const struct guest_mem *gm, const struct virtq_chain *c, uint8_t pattern)
{
	static uint8_t scratch[REGION];
	uint64_t written = 0;

	for (unsigned i = 0; i < c->nr; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint8_t *p = s->write ? gm_ptr_w(gm, s->addr, s->len) : gm_ptr(gm, s->addr, s->len);

		if (!p)
			continue; /* a device refuses such a buffer */
		/* memcpy/memset: ASan checks the whole range at once, cheaply. */
		for (uint32_t off = 0; off < s->len; off += sizeof(scratch)) {
			uint32_t n =
			    s->len - off < sizeof(scratch) ? s->len - off : sizeof(scratch);

			memcpy(scratch, p + off, n);
		}
		if (s->write) {
			memset(p, pattern, s->len);
			written += s->len;
		}
	}
	return written > UINT32_MAX ? UINT32_MAX : (uint32_t)written;
}

static void check_chain(const struct virtq *vq, const struct virtq_chain *c)
{
	if (c->nr > vq->size || c->nr > VIRTQ_MAX_SIZE)
		fuzz_fail("chain longer than the ring");
	if (c->err && c->nr)
		fuzz_fail("a chain that failed to walk still has segments");
	if (!c->err && c->head >= vq->size)
		fuzz_fail("a walked chain whose head is outside the ring");
}

/*
 * An oracle for virtq_validate, from the spec's sizes (virtio 1.1, 2.6):
 * what it accepts is a power of two within both maxima and three aligned
 * rings wholly inside guest memory.
 */
static void check_validated(const struct virtq *vq, const struct guest_mem *gm, uint32_t max)
{
	uint64_t n = vq->size;

	if (!n || (n & (n - 1)) || n > max || n > VIRTQ_MAX_SIZE || vq->desc % 16 ||
	    vq->avail % 2 || vq->used % 4 || !gm_range_ok(gm, vq->desc, 16 * n) ||
	    !gm_range_ok(gm, vq->avail, 6 + 2 * n) || !gm_range_ok(gm, vq->used, 6 + 8 * n))
		fuzz_fail("validate accepted a queue the spec does not allow");
}

/* Read before the device writes anything: whether the walk took a table. */
static bool head_is_indirect(const struct virtq *vq, const struct guest_mem *gm, uint16_t head)
{
	uint16_t flags;

	return !gm_read(gm, vq->desc + 16 * (uint64_t)head + 12, &flags, 2) &&
	       (le16toh(flags) & VRING_DESC_F_INDIRECT);
}

static void push(struct virtq *vq, const struct guest_mem *gm, uint16_t head, uint32_t len)
{
	uint16_t idx;

	if (virtq_push(vq, gm, head, len))
		fuzz_fail("push to a validated used ring failed");
	depth.pushed++;
	/* The index store is push's last write: memory must say what we say. */
	if (gm_read(gm, vq->used + 2, &idx, 2) || le16toh(idx) != vq->used_idx)
		fuzz_fail("used index in memory differs from the device's");
	if (virtq_needs_signal(vq, gm))
		depth.signalled++;
}

/* A device serving the queue; what it does with chain k is actions[k]. */
static void run_device(struct virtq *vq, const struct guest_mem *gm, const uint8_t *actions)
{
	static struct virtq_chain c, again;
	uint16_t held[MAX_HELD];
	unsigned nheld = 0, k = 0;

	for (int round = 0; round < MAX_ROUNDS; round++) {
		uint8_t act = actions[k % N_ACTIONS];
		int r = virtq_pop(vq, gm, &c);

		if (r < 0) {
			depth.eio++;
			break; /* the transport would now set NEEDS_RESET */
		}
		if (r == 0) {
			if (!virtq_arm_notify(vq, gm))
				break;
			continue; /* a buffer came in while re-arming */
		}
		k++;
		depth.popped++;
		check_chain(vq, &c);
		if (!c.err)
			depth.walked++;
		if (!c.err && head_is_indirect(vq, gm, c.head))
			depth.indirect++;
		/* Rate-limited device: give it back untouched; it must pop the same. */
		if ((act & 3) == 1) {
			uint16_t before = vq->last_avail;

			virtq_unpop(vq);
			if (virtq_pop(vq, gm, &again) != 1 || again.head != c.head ||
			    again.err != c.err || again.nr != c.nr || vq->last_avail != before)
				fuzz_fail("an unpopped chain did not pop again the same");
			depth.unpopped++;
		}
		{
			uint32_t len = touch(gm, &c, (uint8_t)~act);

			/* The used length is the guest's to distrust: sometimes lie. */
			if (act & 0x80)
				len = le32_at(actions + (k % (N_ACTIONS - 3)));
			if ((act & 3) == 2 && nheld < MAX_HELD) {
				held[nheld++] = c.head; /* I/O in flight: returned later */
				continue;
			}
			push(vq, gm, c.head, len);
		}
		/* Complete held chains out of order, as parallel I/O does. */
		if ((act & 0x0c) == 0x0c && nheld) {
			unsigned i = act % nheld;

			push(vq, gm, held[i], 0);
			held[i] = held[--nheld];
		}
	}
	while (nheld)
		push(vq, gm, held[--nheld], 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *region[2];
	struct guest_mem gm = {.nr_regions = 2};
	uint8_t hdr[H_LEN] = {0};
	struct virtq vq = {0};
	const char *why;
	uint16_t max;

	/* Heap, exactly REGION bytes each: ASan's redzones sit right at the ends. */
	for (int i = 0; i < 2; i++)
		if (!region[i] && !(region[i] = malloc(REGION)))
			abort();
	if (!size)
		return 0;
	for (size_t off = 0; off < 2 * REGION; off += size) {
		size_t n = size < 2 * REGION - off ? size : 2 * REGION - off;

		for (size_t j = 0; j < n; j++)
			region[(off + j) / REGION][(off + j) % REGION] = data[j];
	}
	memcpy(hdr, data, size < H_LEN ? size : H_LEN);
	gm.region[0] = (struct gm_region){.gpa = REGION0_GPA, .size = REGION, .host = region[0]};
	gm.region[1] = (struct gm_region){.gpa = REGION1_GPA, .size = REGION, .host = region[1]};

	vq.size = le16_at(hdr + H_SIZE);
	vq.desc = le32_at(hdr + H_DESC);
	vq.avail = le32_at(hdr + H_AVAIL);
	vq.used = le32_at(hdr + H_USED);
	max = le16_at(hdr + H_MAX);
	if (virtq_validate(&vq, &gm, max ? max : VIRTQ_MAX_SIZE, &why))
		return 0;
	if (why)
		fuzz_fail("validate accepted a queue and named a problem");
	check_validated(&vq, &gm, max ? max : VIRTQ_MAX_SIZE);
	depth.valid++;
	vq.ready = true;
	virtq_start(&vq, hdr[H_FLAGS] & 1, hdr[H_FLAGS] & 2);
	/* As a restored queue: it goes on from the saved indices. */
	vq.last_avail = le16_at(hdr + H_LAST_AVAIL);
	vq.used_idx = le16_at(hdr + H_USED_IDX);
	vq.signalled_used = le16_at(hdr + H_SIGNALLED);
	vq.signalled_valid = hdr[H_FLAGS] & 4;
	run_device(&vq, &gm, hdr + H_ACTIONS);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds: rings as Linux's virtio_ring lays them out ----------------- */

/* Where the seeds put things (gpa); region 1's are at REGION1_GPA + x. */
#define S_QSIZE 16u
#define S_DESC	0x100u /* 16 * 16 bytes */
#define S_AVAIL 0x200u /* 6 + 2 * 16 */
#define S_USED	0x240u /* 6 + 8 * 16 */
#define S_TABLE 0x300u /* an indirect table of 3 */
/*
 * Seeds are SEED_LEN bytes, repeated over the regions: what is at seed
 * offset x is also at gpa x + k * SEED_LEN in both.  So the avail ring is
 * written twice, at S_AVAIL and at S_AVAIL_END, which is also where it must
 * sit to end exactly at either region's end.
 */
#define SEED_LEN    0x400u
#define S_AVAIL_END (SEED_LEN - (6 + 2 * S_QSIZE))
#define S_USED_END  (SEED_LEN - (8 + 8 * S_QSIZE)) /* 4-aligned, 2 bytes short */

struct seed_mem {
	uint8_t b[2 * REGION]; /* the input: region 0, then region 1 */
};

static uint8_t *seed_at(struct seed_mem *m, uint64_t gpa)
{
	return gpa >= REGION1_GPA ? m->b + REGION + (gpa - REGION1_GPA) : m->b + gpa;
}

static void seed_put16(struct seed_mem *m, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(seed_at(m, gpa), &v, 2);
}

static void seed_put32(struct seed_mem *m, uint64_t gpa, uint32_t v)
{
	v = htole32(v);
	memcpy(seed_at(m, gpa), &v, 4);
}

static void seed_desc(struct seed_mem *m, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next)
{
	uint8_t *d = seed_at(m, table + 16 * (uint64_t)i);
	uint64_t a = htole64(addr);

	memcpy(d, &a, 8);
	seed_put32(m, table + 16 * (uint64_t)i + 8, len);
	seed_put16(m, table + 16 * (uint64_t)i + 12, flags);
	seed_put16(m, table + 16 * (uint64_t)i + 14, next);
}

/*
 * Four chains posted from avail index @first: a lone readable buffer; a
 * block-style header/data/status list across both regions (the status byte
 * is region 1's last); an indirect table (header, data, status); and one
 * writable buffer that ends exactly at region 1's end.
 */
static void seed_ring(struct seed_mem *m, uint8_t flags, uint16_t first, uint16_t used_event,
		      uint32_t desc, uint32_t avail, uint32_t used)
{
	static const uint16_t heads[] = {0, 1, 4, 5};
	const uint16_t F_NEXT = VRING_DESC_F_NEXT, F_W = VRING_DESC_F_WRITE;

	memset(m, 0, sizeof(*m));
	m->b[H_FLAGS] = flags;
	seed_put16(m, H_SIZE, S_QSIZE);
	seed_put16(m, H_MAX, 256);
	seed_put32(m, H_DESC, desc);
	seed_put32(m, H_AVAIL, avail);
	seed_put32(m, H_USED, used);
	seed_put16(m, H_LAST_AVAIL, first);
	seed_put16(m, H_USED_IDX, first);
	seed_put16(m, H_SIGNALLED, first);
	/* push, unpop+push, hold, hold, push and complete a held one, ... */
	for (unsigned i = 0; i < N_ACTIONS; i++)
		m->b[H_ACTIONS + i] = (uint8_t[]){0x00, 0x01, 0x02, 0x02, 0x0c, 0x8d, 0x00}[i % 7];

	seed_desc(m, S_DESC, 0, 0x400, 64, 0, 0);
	seed_desc(m, S_DESC, 1, 0x500, 16, F_NEXT, 2);
	seed_desc(m, S_DESC, 2, REGION1_GPA, 512, F_NEXT, 3);
	seed_desc(m, S_DESC, 3, REGION1_GPA + REGION - 1, 1, F_W, 0);
	seed_desc(m, S_DESC, 4, S_TABLE, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	seed_desc(m, S_DESC, 5, REGION1_GPA + 0x1000, REGION - 0x1000, F_W, 0);
	seed_desc(m, S_TABLE, 0, 0x600, 16, F_NEXT, 1);
	seed_desc(m, S_TABLE, 1, REGION1_GPA + 0x800, 1024, F_NEXT | F_W, 2);
	seed_desc(m, S_TABLE, 2, 0x700, 1, F_W, 0);

	for (uint32_t a = S_AVAIL; a <= S_AVAIL_END; a += S_AVAIL_END - S_AVAIL) {
		for (unsigned i = 0; i < 4; i++)
			seed_put16(m, a + 4 + 2 * ((first + i) % S_QSIZE), heads[i]);
		seed_put16(m, a + 2, (uint16_t)(first + 4));
		seed_put16(m, a + 4 + 2 * S_QSIZE, used_event);
	}
	seed_put16(m, S_USED + 2, first);
}

static void seed_add(struct fuzz_seed *s, unsigned *n, const char *name, const struct seed_mem *m)
{
	s[*n] = (struct fuzz_seed){.name = name, .data = malloc(SEED_LEN), .len = SEED_LEN};
	if (!s[*n].data)
		abort();
	memcpy(s[*n].data, m->b, SEED_LEN);
	(*n)++;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max);

/*
 * Each seed once more, alone: the rings Linux could lay out must be taken
 * and the ones a step past a region's end refused, so a validate grown too
 * strict fails here as surely as one grown too lax fails the oracle.
 */
static int seeds_judged_right(void)
{
	struct fuzz_seed s[32];
	unsigned n = fuzz_seeds(s, 32), bad = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t before = depth.valid;
		bool refuse = strstr(s[i].name, "past-end");

		LLVMFuzzerTestOneInput(s[i].data, s[i].len);
		if ((depth.valid > before) == refuse) {
			printf("fuzz_virtq: seed %s %s\n", s[i].name,
			       refuse ? "accepted" : "refused");
			bad++;
		}
		free(s[i].data);
	}
	return bad;
}

static int fuzz_report(void)
{
	int bad = seeds_judged_right();

	printf("fuzz_virtq: %zu queues valid, %zu chains popped (%zu walked, %zu indirect), "
	       "%zu unpopped, %zu pushed, %zu signalled, %zu -EIO\n",
	       depth.valid, depth.popped, depth.walked, depth.indirect, depth.unpopped,
	       depth.pushed, depth.signalled, depth.eio);
	return bad || !depth.walked || !depth.indirect || !depth.unpopped || !depth.pushed ||
	       !depth.signalled;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	/* Last SEED_LEN copy in each region: rings ending at (or 2 bytes before) its end. */
	const uint32_t end0 = REGION0_GPA + REGION - SEED_LEN,
		       end1 = REGION1_GPA + REGION - SEED_LEN;
	static struct seed_mem m;
	unsigned n = 0;

	if (max < 8)
		abort();
	seed_ring(&m, 2, 0, 0, S_DESC, S_AVAIL, S_USED); /* indirect, no event_idx */
	seed_add(s, &n, "ring-indirect", &m);
	/* event_idx: interrupt after the second */
	seed_ring(&m, 1 | 2, 0, 1, S_DESC, S_AVAIL, S_USED);
	seed_add(s, &n, "ring-event-idx", &m);
	/* indices wrapping past 0xffff */
	seed_ring(&m, 1 | 2 | 4, 0xfffe, 0xffff, S_DESC, S_AVAIL, S_USED);
	seed_add(s, &n, "ring-event-idx-wrap", &m);
	/* indirect not negotiated: chain 4 is refused */
	seed_ring(&m, 0, 0, 0, S_DESC, S_AVAIL, S_USED);
	seed_add(s, &n, "ring-no-indirect", &m);
	/* The last places rings fit: the avail ring ends region 0, the used ring region 1. */
	seed_ring(&m, 1 | 2, 0, 0, end0 + S_DESC, end0 + S_AVAIL_END, end1 + S_USED_END);
	seed_add(s, &n, "rings-at-region-ends", &m);
	/* One step further, each is refused: a validate that takes it fails the oracle. */
	seed_ring(&m, 1 | 2, 0, 0, end0 + S_DESC, end0 + S_AVAIL_END + 2, end1 + S_USED_END);
	seed_add(s, &n, "avail-past-end", &m);
	seed_ring(&m, 1 | 2, 0, 0, end0 + S_DESC, end0 + S_AVAIL_END, end1 + S_USED_END + 4);
	seed_add(s, &n, "used-past-end", &m);
	seed_ring(&m, 1 | 2, 0, 0, REGION1_GPA + REGION - 16 * (S_QSIZE - 1), S_AVAIL, S_USED);
	seed_add(s, &n, "desc-past-end", &m);
	return n;
}

#endif
