// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-mmio transport's state in a snapshot, field by field
 * (persist.h).  Version 1:
 *
 *   u16 version, u32 device_id,
 *   u32 status, dev_features_sel, drv_features_sel, u64 driver_features,
 *   u32 queue_sel, interrupt_status, config_generation, bool activated,
 *   u8 queue count (VIRTIO_MMIO_MAX_QUEUES), then per queue:
 *     u64 desc, avail, used, u32 size, bool ready, event_idx, indirect,
 *     u16 last_avail, used_idx, signalled_used, bool signalled_valid.
 *
 * Decoding checks the form (lengths, flags); virtio_mmio_restore() then
 * checks the meaning (status bits, features, ring placement in guest RAM).
 */
#include "virtio_mmio.h"

#define MMIO_STATE_VERSION 1

void virtio_mmio_state_save(const struct virtio_mmio_state *st, uint32_t device_id, struct pw *w)
{
	pw_u16(w, MMIO_STATE_VERSION);
	pw_u32(w, device_id);
	pw_u32(w, st->status);
	pw_u32(w, st->dev_features_sel);
	pw_u32(w, st->drv_features_sel);
	pw_u64(w, st->driver_features);
	pw_u32(w, st->queue_sel);
	pw_u32(w, st->interrupt_status);
	pw_u32(w, st->config_generation);
	pw_bool(w, st->activated);
	pw_u8(w, VIRTIO_MMIO_MAX_QUEUES);
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		const struct virtq *vq = &st->vq[q];

		pw_u64(w, vq->desc);
		pw_u64(w, vq->avail);
		pw_u64(w, vq->used);
		pw_u32(w, vq->size);
		pw_bool(w, vq->ready);
		pw_bool(w, vq->event_idx);
		pw_bool(w, vq->indirect);
		pw_u16(w, vq->last_avail);
		pw_u16(w, vq->used_idx);
		pw_u16(w, vq->signalled_used);
		pw_bool(w, vq->signalled_valid);
	}
}

int virtio_mmio_state_load(const void *p, size_t len, uint32_t device_id,
			   struct virtio_mmio_state *st, const char **why)
{
	struct pr r;

	*st = (struct virtio_mmio_state){0};
	pr_init(&r, p, len);
	if (pr_u16(&r) != MMIO_STATE_VERSION)
		pr_fail(&r, "an unknown transport state version");
	if (pr_u32(&r) != device_id)
		pr_fail(&r, "transport state is for another device");
	st->status = pr_u32(&r);
	st->dev_features_sel = pr_u32(&r);
	st->drv_features_sel = pr_u32(&r);
	st->driver_features = pr_u64(&r);
	st->queue_sel = pr_u32(&r);
	st->interrupt_status = pr_u32(&r);
	st->config_generation = pr_u32(&r);
	st->activated = pr_bool(&r);
	if (pr_u8(&r) != VIRTIO_MMIO_MAX_QUEUES)
		pr_fail(&r, "a queue count this ember does not have");
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES && !r.why; q++) {
		struct virtq *vq = &st->vq[q];

		vq->desc = pr_u64(&r);
		vq->avail = pr_u64(&r);
		vq->used = pr_u64(&r);
		vq->size = pr_u32(&r);
		vq->ready = pr_bool(&r);
		vq->event_idx = pr_bool(&r);
		vq->indirect = pr_bool(&r);
		vq->last_avail = pr_u16(&r);
		vq->used_idx = pr_u16(&r);
		vq->signalled_used = pr_u16(&r);
		vq->signalled_valid = pr_bool(&r);
	}
	return pr_finish(&r, why);
}
