/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest-driver side shared by the virtio device tests: guest memory
 * pokes and 4-byte transport register accesses, as Linux's virtio_mmio
 * driver makes them.  Include it after the test's struct rig, which has
 * `struct guest_mem gm` and `struct virtio_mmio *t`.
 */
#ifndef EMBER_TEST_VDRIVER_H
#define EMBER_TEST_VDRIVER_H

#include <endian.h>

#include <linux/virtio_mmio.h>

static inline void put(struct rig *r, uint64_t gpa, const void *p, size_t n)
{
	assert_int_equal(gm_write(&r->gm, gpa, p, n), 0);
}

static inline uint8_t *at(struct rig *r, uint64_t gpa)
{
	return gm_ptr(&r->gm, gpa, 1);
}

static inline uint16_t get16(struct rig *r, uint64_t gpa)
{
	uint16_t v;

	assert_int_equal(gm_read(&r->gm, gpa, &v, 2), 0);
	return le16toh(v);
}

static inline void put16(struct rig *r, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	put(r, gpa, &v, 2);
}

static inline uint32_t rd32(struct rig *r, uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_bus_ops.read(r->t, off, (uint8_t *)&v, 4);
	return v;
}

static inline void wr(struct rig *r, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(r->t, off, (uint8_t *)&v, 4);
}

static inline uint64_t dev_features(struct rig *r)
{
	uint64_t f;

	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd32(r, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd32(r, VIRTIO_MMIO_DEVICE_FEATURES);
}

#ifdef VDRIVER_QUEUES
/*
 * Split rings laid out from qbase[q] (descriptors; avail at +0x1000, used at
 * +0x2000) of QSIZE entries, and struct rig has next_desc[], avail_idx[] and
 * used_seen[] per queue: the driver posting chains and reading completions.
 */
struct seg {
	uint64_t addr;
	uint32_t len;
	bool w;
};

static inline uint16_t add_chain(struct rig *r, unsigned q, const struct seg *s, unsigned n)
{
	uint64_t desc = qbase[q], avail = qbase[q] + 0x1000;
	uint16_t head = r->next_desc[q];

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		uint16_t next = (uint16_t)((head + i + 1) % QSIZE);
		uint64_t d[2] = {htole64(s[i].addr),
				 htole32(s[i].len) |
				     (uint64_t)htole16((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
						       (s[i].w ? VRING_DESC_F_WRITE : 0))
					 << 32 |
				     (uint64_t)next << 48};

		assert_int_equal(gm_write(&r->gm, desc + 16 * (uint64_t)idx, d, 16), 0);
	}
	r->next_desc[q] = (uint16_t)((head + n) % QSIZE);
	put16(r, avail + 4 + 2 * (r->avail_idx[q] % QSIZE), head);
	r->avail_idx[q]++;
	put16(r, avail + 2, r->avail_idx[q]);
	return head;
}

static inline uint16_t used_count(struct rig *r, unsigned q)
{
	return (uint16_t)(get16(r, qbase[q] + 0x2002) - r->used_seen[q]);
}
#endif

/* Queues 0..@nq-1 of @size entries, rings at base, base+4K, base+8K; ready. */
static inline void vd_queues(struct rig *r, unsigned nq, const uint64_t *base, uint32_t size)
{
	for (unsigned q = 0; q < nq; q++) {
		wr(r, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(r, VIRTIO_MMIO_QUEUE_NUM, size);
		wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base[q]);
		wr(r, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)base[q] + 0x1000);
		wr(r, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)base[q] + 0x2000);
		wr(r, VIRTIO_MMIO_QUEUE_READY, 1);
	}
}

#endif /* EMBER_TEST_VDRIVER_H */
