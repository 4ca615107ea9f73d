/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_VIRTQ_H
#define EMBER_VIRTQ_H

#include "ember.h"

/*
 * Split virtqueue, device side.  The guest owns the rings and may rewrite
 * them at any moment, so every descriptor is copied out once and only the
 * copy is validated and used.  Nothing here trusts a guest value: chain
 * lengths are bounded by the queue size, indexes by the ring size.
 */

/* Largest queue any ember device offers (the spec allows 32768). */
#define VIRTQ_MAX_SIZE 1024

/*
 * Plain state, saved as is by snapshots.  desc/avail/used/size/ready mirror
 * the transport registers; the rest is the device's progress through the
 * rings once the queue has been started.
 */
struct virtq {
	uint64_t desc, avail, used; /* guest-physical ring addresses */
	uint32_t size;		    /* QueueNum as written: validated only at start */
	bool ready;		    /* QueueReady */

	bool event_idx, indirect; /* negotiated VIRTIO_RING_F_* */
	uint16_t last_avail;	  /* next avail ring entry to take */
	uint16_t used_idx;	  /* next used index to publish */
	uint16_t signalled_used;  /* used_idx when the guest was last interrupted */
	bool signalled_valid;	  /* signalled_used means something yet */
};

struct virtq_seg {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable */
};

/* One popped chain.  Big (tens of KiB): devices keep one as scratch. */
struct virtq_chain {
	uint16_t head;
	/*
	 * 0, or -EINVAL when the chain could not be walked (loop, next out of
	 * range, bad indirect table): then seg[] holds nothing trustworthy and
	 * the request can only be returned with len 0.
	 */
	int err;
	unsigned nr;
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
	uint8_t table[VIRTQ_MAX_SIZE * 16]; /* local copy of an indirect table */
};

/*
 * Checks size and ring placement before the queue is used; @max is the
 * device's QueueNumMax.  Returns 0 or -EINVAL with *why naming the problem.
 */
int virtq_validate(const struct virtq *vq, const struct guest_mem *gm, uint32_t max,
		   const char **why);
/* Starts consuming from index 0 with the negotiated ring features. */
void virtq_start(struct virtq *vq, bool event_idx, bool indirect);
/* Back to the power-on state (all registers zero). */
void virtq_reset(struct virtq *vq);
/*
 * Takes the next available chain.  Returns 1 with *c filled (check c->err),
 * 0 when the ring is empty, -EIO when the guest's avail index is more than
 * the queue size ahead of us (the queue is unusable until reset).
 */
int virtq_pop(struct virtq *vq, const struct guest_mem *gm, struct virtq_chain *c);
/*
 * Gives back the chain virtq_pop() just returned, before anything was pushed
 * (a rate-limited device that may not serve it yet): the next pop returns
 * it again.
 */
void virtq_unpop(struct virtq *vq);
/*
 * The request/response shape of small control queues (pmem, mem): the first
 * readable segment, before any writable one, of at least @in_len bytes, and
 * the first writable one of at least @out_len.  0 with their indices, or -1.
 */
int virtq_chain_req_resp(const struct virtq_chain *c, uint32_t in_len, uint32_t out_len,
			 unsigned *in, unsigned *out);
/* Returns chain @head with @len bytes written to the used ring. */
int virtq_push(struct virtq *vq, const struct guest_mem *gm, uint16_t head, uint32_t len);
/*
 * After pushing: does the guest want an interrupt?  Honours used_event
 * (EVENT_IDX) or VRING_AVAIL_F_NO_INTERRUPT; records the signal when true.
 */
bool virtq_needs_signal(struct virtq *vq, const struct guest_mem *gm);
/*
 * Before going idle: asks the guest to notify us about the next buffer
 * (avail_event with EVENT_IDX) and returns true if one has already arrived,
 * in which case the caller must keep popping.
 */
bool virtq_arm_notify(struct virtq *vq, const struct guest_mem *gm);

#endif /* EMBER_VIRTQ_H */
