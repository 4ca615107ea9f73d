/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vrig.h - the guest driver's plumbing shared by the virtio device fuzz
 * targets (fuzz_blk, fuzz_net, fuzz_vsock; fuzz_mmio takes the seed
 * writer): the input read front to back, 4-byte transport register
 * accesses through virtio_mmio_bus_ops, little-endian guest memory, Linux's
 * virtio_mmio bring-up, split-ring chains posted and used entries taken,
 * the device's event loop run until quiet, and the seeds built in code.
 * Each target used to carry its own copy of these; one copy keeps them the
 * same, so a target differs from the others only in what it checks.
 * Guest memory is one flat buffer (@ram, at guest address 0); rings lie at
 * a descriptor table's address, the avail ring 4 KiB and the used ring
 * 8 KiB above it.  Include after driver.h, before the target's own macros.
 */
#ifndef EMBER_FUZZ_VRIG_H
#define EMBER_FUZZ_VRIG_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <sys/epoll.h>

#include "evloop.h"
#include "virtio_mmio.h"

/* ---- the input, read front to back; zeros once it runs out ------------------------ */

struct in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t take8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* @bytes (up to 8) of the input as a little-endian number. */
static inline uint64_t take_le(struct in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)take8(in) << (8 * i);
	return v;
}

static inline uint16_t take16(struct in *in)
{
	return (uint16_t)take_le(in, 2);
}

static inline uint32_t take32(struct in *in)
{
	return (uint32_t)take_le(in, 4);
}

static inline uint64_t take64(struct in *in)
{
	return take_le(in, 8);
}

/* Up to @want bytes of the input, as many as are left (*@got). */
static inline const uint8_t *take_bytes(struct in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/* ---- the transport's registers and guest memory ----------------------------------- */

static inline uint32_t rd32(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_bus_ops.read(t, off, (uint8_t *)&v, 4);
	return le32toh(v);
}

static inline void wr32(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	v = htole32(v);
	virtio_mmio_bus_ops.write(t, off, (uint8_t *)&v, 4);
}

static inline void put16(uint8_t *ram, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(ram + gpa, &v, 2);
}

static inline uint16_t get16(const uint8_t *ram, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, ram + gpa, 2);
	return le16toh(v);
}

/* ---- Linux's virtio_mmio bring-up, after the target's reset ------------------------ */

/* The feature bits @bits[i] for which bit i of @sel is set. */
static inline uint64_t feature_bits(unsigned sel, const unsigned *bits, unsigned n)
{
	uint64_t f = 0;

	for (unsigned i = 0; i < n; i++)
		if (sel & (1u << i))
			f |= 1ull << bits[i];
	return f;
}

/*
 * ACKNOWLEDGE, DRIVER, the device's features less @drop and plus @add (one
 * it may never have offered) accepted, FEATURES_OK written: the driver
 * reads the status back if it cares whether the device took them.
 * Returns the features the driver wrote.
 */
static inline uint64_t drv_features(struct virtio_mmio *t, uint64_t drop, uint64_t add)
{
	uint64_t f;

	wr32(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr32(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr32(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd32(t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr32(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f |= rd32(t, VIRTIO_MMIO_DEVICE_FEATURES);
	f = (f & ~drop) | add;
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr32(t, VIRTIO_MMIO_STATUS, 0xb);
	return f;
}

/* Queues 0 to @nq - 1 of @size entries, rings at @qbase[q], made ready; then DRIVER_OK. */
static inline void drv_queues(struct virtio_mmio *t, const uint64_t *qbase, unsigned nq,
			      uint16_t size)
{
	for (unsigned q = 0; q < nq; q++) {
		wr32(t, VIRTIO_MMIO_QUEUE_SEL, q);
		wr32(t, VIRTIO_MMIO_QUEUE_NUM, size);
		wr32(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)qbase[q]);
		wr32(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)qbase[q] + 0x1000);
		wr32(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)qbase[q] + 0x2000);
		wr32(t, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr32(t, VIRTIO_MMIO_STATUS, 0xf);
}

/* ---- split rings: the driver's side ------------------------------------------------ */

/* One ring: where it is (@desc; avail +0x1000, used +0x2000) and how far the driver got. */
struct ring {
	uint64_t desc;
	uint16_t size, avail_idx, next_desc, used_seen;
};

struct seg {
	uint64_t addr;
	uint32_t len;
	bool w;
};

/*
 * Writes @s (@n segments) as a chain from @q's next free descriptor, or,
 * when @table is not 0, into the indirect table there with one descriptor
 * pointing at it; makes the head available and returns it.  No room
 * check: the target counts what it has out.
 */
static inline uint16_t post_chain(uint8_t *ram, struct ring *q, const struct seg *s, unsigned n,
				  uint64_t table)
{
	uint16_t head = q->next_desc, qs = q->size;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = table ? (uint16_t)i : (uint16_t)((head + i) % qs);
		uint16_t next = table ? (uint16_t)(i + 1) : (uint16_t)((head + i + 1) % qs);
		uint64_t desc[2] = {htole64(s[i].addr),
				    htole64(s[i].len |
					    (uint64_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
						       (s[i].w ? VRING_DESC_F_WRITE : 0))
						<< 32 |
					    (uint64_t)next << 48)};

		memcpy(ram + (table ? table : q->desc) + 16 * (uint64_t)idx, desc, 16);
	}
	if (table) {
		uint64_t desc[2] = {htole64(table),
				    htole64(16ull * n | (uint64_t)VRING_DESC_F_INDIRECT << 32)};

		memcpy(ram + q->desc + 16 * (uint64_t)head, desc, 16);
		n = 1;
	}
	q->next_desc = (uint16_t)((head + n) % qs);
	put16(ram, q->desc + 0x1000 + 4 + 2 * (uint64_t)(q->avail_idx % qs), head);
	q->avail_idx++;
	put16(ram, q->desc + 0x1000 + 2, q->avail_idx);
	return head;
}

/* The next used entry the driver has not taken: true with its id and length, or false. */
static inline bool used_next(const uint8_t *ram, struct ring *q, uint32_t *id, uint32_t *len)
{
	uint32_t e[2];

	if (q->used_seen == get16(ram, q->desc + 0x2002))
		return false;
	memcpy(e, ram + q->desc + 0x2004 + 8 * (uint64_t)(q->used_seen % q->size), 8);
	q->used_seen++;
	*id = le32toh(e[0]);
	*len = le32toh(e[1]);
	return true;
}

/*
 * Runs the device's handlers (epoll_wait with a zero timeout, then each
 * ready one) for at most @rounds rounds: true once nothing is ready, false
 * when the rounds ran out (whether more is ready then is not looked at).
 */
static inline bool pump(struct evloop *loop, int rounds)
{
	for (int round = 0; round < rounds; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(loop->epfd, ev, 16, 0);

		if (n <= 0)
			return true;
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			h->fn(h, ev[i].events);
		}
	}
	return false;
}

/* ---- seeds built in code ------------------------------------------------------------ */

#ifndef EMBER_LIBFUZZER
/* A seed being written: b8(), b16(), bbytes() and bstr() append, seed_add() stores it. */
struct sw {
	uint8_t buf[4096];
	size_t len;
};

static inline void bbytes(struct sw *w, const void *p, size_t n)
{
	if (w->len + n > sizeof(w->buf))
		abort();
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void b8(struct sw *w, unsigned v)
{
	uint8_t c = (uint8_t)v;

	bbytes(w, &c, 1);
}

static inline void b16(struct sw *w, unsigned v)
{
	b8(w, v & 0xff);
	b8(w, v >> 8);
}

/* @s behind a byte of its length. */
static inline void bstr(struct sw *w, const char *s)
{
	b8(w, (unsigned)strlen(s));
	bbytes(w, s, strlen(s));
}

/* What @w holds becomes seed @name (the @n-th of @s); @w starts empty again. */
static inline void seed_add(struct fuzz_seed *s, unsigned *n, const char *name, struct sw *w)
{
	fuzz_seed_add(s, n, name, w->buf, w->len);
	w->len = 0;
}
#endif

#endif /* EMBER_FUZZ_VRIG_H */
