// SPDX-License-Identifier: Apache-2.0
/*
 * Split virtqueue, device side (virtio 1.1, 2.6).
 *
 * The rings live in guest memory and the guest can change them under us at
 * any time.  Ring placement is checked once at start (virtq_validate), so the
 * gm_ptr() calls below cannot fail for a started queue; they are still
 * checked because a NULL here must never become a crash.  Loads and stores of
 * ring fields shared with the guest are single atomic accesses, which is why
 * virtq_validate insists on the spec's ring alignment.
 */
#include <endian.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtq.h"

#define DESC_SIZE 16u

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static uint64_t avail_size(uint32_t size)
{
	return 6 + 2 * (uint64_t)size; /* flags, idx, ring[], used_event */
}

static uint64_t used_size(uint32_t size)
{
	return 6 + 8 * (uint64_t)size; /* flags, idx, ring[], avail_event */
}

int virtq_validate(const struct virtq *vq, const struct guest_mem *gm, uint32_t max,
		   const char **why)
{
	*why = NULL;
	if (vq->size == 0)
		*why = "queue size 0";
	else if (vq->size & (vq->size - 1))
		*why = "queue size not a power of two";
	else if (vq->size > max || vq->size > VIRTQ_MAX_SIZE)
		*why = "queue size above QueueNumMax";
	else if (vq->desc % VRING_DESC_ALIGN_SIZE || vq->avail % VRING_AVAIL_ALIGN_SIZE ||
		 vq->used % VRING_USED_ALIGN_SIZE)
		*why = "misaligned ring";
	else if (!gm_range_ok(gm, vq->desc, DESC_SIZE * (uint64_t)vq->size))
		*why = "descriptor table outside guest memory";
	else if (!gm_range_ok(gm, vq->avail, avail_size(vq->size)))
		*why = "available ring outside guest memory";
	else if (!gm_range_ok(gm, vq->used, used_size(vq->size)))
		*why = "used ring outside guest memory";
	return *why ? -EINVAL : 0;
}

void virtq_start(struct virtq *vq, bool event_idx, bool indirect)
{
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static uint16_t *ring16(const struct guest_mem *gm, uint64_t gpa)
{
	return gm_ptr(gm, gpa, 2);
}

static bool load16(const struct guest_mem *gm, uint64_t gpa, int order, uint16_t *v)
{
	uint16_t *p = ring16(gm, gpa);

	if (!p)
		return false;
	*v = le16toh(__atomic_load_n(p, order));
	return true;
}

/*
 * The one read of a descriptor: after the barrier the compiler cannot go
 * back to guest memory for a field, so what we validate is what we use.
 */
static void desc_decode(const void *raw, struct vdesc *d)
{
	uint8_t b[DESC_SIZE];
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;

	memcpy(b, raw, sizeof(b));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(&addr, b, 8);
	memcpy(&len, b + 8, 4);
	memcpy(&flags, b + 12, 2);
	memcpy(&next, b + 14, 2);
	d->addr = le64toh(addr);
	d->len = le32toh(len);
	d->flags = le16toh(flags);
	d->next = le16toh(next);
}

static void chain_add(struct virtq_chain *c, const struct vdesc *d)
{
	c->seg[c->nr++] = (struct virtq_seg){
	    .addr = d->addr,
	    .len = d->len,
	    .write = d->flags & VRING_DESC_F_WRITE,
	};
}

/* Walks the table an indirect descriptor points to; returns 0 or -EINVAL. */
static int virtq_walk_indirect(const struct virtq *vq, const struct guest_mem *gm,
			       const struct vdesc *ind, struct virtq_chain *c)
{
	const void *p;
	unsigned n, idx = 0;
	struct vdesc d;

	/* A table is as bounded as the ring itself: at most size entries. */
	if (ind->len == 0 || ind->len % DESC_SIZE || ind->len / DESC_SIZE > vq->size)
		return -EINVAL;
	p = gm_ptr(gm, ind->addr, ind->len);
	if (!p)
		return -EINVAL;
	memcpy(c->table, p, ind->len);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	n = ind->len / DESC_SIZE;
	for (;;) {
		if (c->nr >= n)
			return -EINVAL; /* loop inside the table */
		desc_decode(c->table + (size_t)idx * DESC_SIZE, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return -EINVAL; /* nested tables are forbidden */
		chain_add(c, &d);
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -EINVAL;
		idx = d.next;
	}
}

/*
 * An indirect descriptor must be the whole chain (Linux only ever uses it
 * so); the spec forbids INDIRECT together with NEXT anyway.
 */
static int virtq_walk(const struct virtq *vq, const struct guest_mem *gm, struct virtq_chain *c)
{
	uint16_t idx = c->head;
	struct vdesc d;

	if (idx >= vq->size)
		return -EINVAL;
	for (;;) {
		const void *raw;

		if (c->nr >= vq->size)
			return -EINVAL; /* longer than the ring: a loop */
		raw = gm_ptr(gm, vq->desc + (uint64_t)idx * DESC_SIZE, DESC_SIZE);
		if (!raw)
			return -EINVAL;
		desc_decode(raw, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect || c->nr || (d.flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			return virtq_walk_indirect(vq, gm, &d, c);
		}
		chain_add(c, &d);
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return -EINVAL;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *vq, const struct guest_mem *gm, struct virtq_chain *c)
{
	uint16_t avail_idx, head, pending;

	/* Acquire: the ring entry and descriptors are read after the index. */
	if (!load16(gm, vq->avail + 2, __ATOMIC_ACQUIRE, &avail_idx))
		return -EIO;
	pending = avail_idx - vq->last_avail;
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return -EIO;
	if (!load16(gm, vq->avail + 4 + 2 * (uint64_t)(vq->last_avail & (vq->size - 1)),
		    __ATOMIC_RELAXED, &head))
		return -EIO;
	vq->last_avail++;
	c->head = head;
	c->nr = 0;
	c->err = virtq_walk(vq, gm, c);
	if (c->err)
		c->nr = 0;
	return 1;
}

int virtq_push(struct virtq *vq, const struct guest_mem *gm, uint16_t head, uint32_t len)
{
	uint64_t elem = vq->used + 4 + 8 * (uint64_t)(vq->used_idx & (vq->size - 1));
	uint32_t *e = gm_ptr_w(gm, elem, 8);
	uint16_t *idx = gm_ptr_w(gm, vq->used + 2, 2);

	if (!e || !idx)
		return -EFAULT;
	__atomic_store_n(&e[0], htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e[1], htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that publishes it. */
	__atomic_store_n(idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

bool virtq_needs_signal(struct virtq *vq, const struct guest_mem *gm)
{
	uint16_t old = vq->signalled_used, v;
	bool valid = vq->signalled_valid;

	/* Our used index store must be visible before we read the guest's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx) {
		if (!load16(gm, vq->avail, __ATOMIC_RELAXED, &v))
			return true;
		return !(v & VRING_AVAIL_F_NO_INTERRUPT);
	}
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!load16(gm, vq->avail + 4 + 2 * (uint64_t)vq->size, __ATOMIC_RELAXED, &v))
		return true;
	return !valid || vring_need_event(v, vq->used_idx, old);
}

bool virtq_arm_notify(struct virtq *vq, const struct guest_mem *gm)
{
	uint16_t avail_idx;

	if (vq->event_idx) {
		uint16_t *ev = gm_ptr_w(gm, vq->used + 4 + 8 * (uint64_t)vq->size, 2);

		if (ev)
			__atomic_store_n(ev, htole16(vq->last_avail), __ATOMIC_RELAXED);
	}
	/*
	 * Full barrier between publishing avail_event and re-reading the avail
	 * index: otherwise a buffer added just before the guest saw our
	 * avail_event would get neither a notification nor a look from us.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!load16(gm, vq->avail + 2, __ATOMIC_ACQUIRE, &avail_idx))
		return false;
	return avail_idx != vq->last_avail;
}

int virtq_chain_req_resp(const struct virtq_chain *c, uint32_t in_len, uint32_t out_len,
			 unsigned *in, unsigned *out)
{
	int i_in = -1, i_out = -1;

	for (unsigned i = 0; !c->err && i < c->nr && i_out < 0; i++) {
		if (!c->seg[i].write && i_in < 0)
			i_in = (int)i;
		else if (c->seg[i].write)
			i_out = (int)i;
	}
	if (i_in < 0 || i_out < 0 || c->seg[i_in].len < in_len || c->seg[i_out].len < out_len)
		return -1;
	*in = (unsigned)i_in;
	*out = (unsigned)i_out;
	return 0;
}
