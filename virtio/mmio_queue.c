// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-mmio transport's queue calls for devices (virtio_mmio.h):
 * popping chains, pushing used ones, re-arming notifications, and
 * virtio_mmio_process, the loop most devices' queue handlers are.  A chain
 * the guest corrupted puts the device in NEEDS_RESET; nothing here can
 * take ember down.  The register half is virtio_mmio.c.
 */
#include <sys/eventfd.h>

#include "virtio_mmio.h"

bool virtio_mmio_queue_ready(struct virtio_mmio *t, unsigned q)
{
	struct virtq *vq = virtio_mmio_queue(t, q);

	return vq && vq->ready && virtio_mmio_live(t);
}

void virtio_mmio_kick(struct virtio_mmio *t, unsigned q)
{
	if (q < t->ops->num_queues)
		(void)eventfd_write(t->notify_fd[q], 1);
}

int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_chain *c)
{
	struct virtq *vq = virtio_mmio_queue(t, q);
	int n;

	if (!vq)
		return 0;
	n = virtq_pop(vq, t->gm, c);
	if (n < 0)
		virtio_mmio_needs_reset(t, "avail index ran ahead of the ring");
	return n;
}

bool virtio_mmio_arm(struct virtio_mmio *t, unsigned q)
{
	struct virtq *vq = virtio_mmio_queue(t, q);

	return vq && virtq_arm_notify(vq, t->gm);
}

void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t len)
{
	struct virtq *vq = virtio_mmio_queue(t, q);

	if (!vq || virtq_push(vq, t->gm, head, len))
		log_ratelimited(&t->rl, LOG_WARN, "%s: used ring unreachable", t->name);
}

unsigned virtio_mmio_process(struct virtio_mmio *t, unsigned q, const struct virtio_queue_loop *l)
{
	unsigned used = 0, taken = 0;
	uint32_t len;
	int n;

	if (!virtio_mmio_queue_ready(t, q))
		return 0;
	for (;;) {
		if (l->more && !l->more(t->dev))
			break; /* the device resumes the queue itself (a slot frees up) */
		if (taken == l->budget) {
			/* Come back through the loop, after the other devices' events. */
			virtio_mmio_kick(t, q);
			break;
		}
		n = virtio_mmio_pop(t, q, l->chain);
		if (n < 0)
			break;
		if (n == 0) {
			if (virtio_mmio_arm(t, q))
				continue; /* a buffer came in while we re-armed */
			break;
		}
		taken++;
		len = 0;
		n = l->handle(t->dev, l->chain, &len);
		if (n == VIRTIO_CHAIN_USED) {
			virtio_mmio_push(t, q, l->chain->head, len);
			used++;
		} else if (n == VIRTIO_CHAIN_KEPT_STOP) {
			break;
		} else if (n == VIRTIO_CHAIN_RETRY) {
			virtq_unpop(virtio_mmio_queue(t, q));
			break;
		}
	}
	if (used)
		virtio_mmio_signal_used(t, q);
	return used;
}
