/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A one-queue virtio device made from its registered type (device.h), as
 * the VM makes it, for the device tests: fake guest memory, the device's
 * own event loop run by hand, and a driver (vdriver.h) that brings it up
 * and posts chains.  Include after the test's QSIZE, RAM and qbase[1].
 */
#ifndef EMBER_TEST_DEVRIG_H
#define EMBER_TEST_DEVRIG_H

#include <sys/epoll.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "device.h"
#include "limiter.h"
#include "unit.h"

#define S_ALL 0xf

/* Queues the rig's driver keeps indices for (a test may define more). */
#ifndef RIG_NQ
#define RIG_NQ 1
#endif

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	const struct vdev_type *type;
	void *dev;
	struct virtio_mmio *t;
	uint16_t avail_idx[RIG_NQ], used_seen[RIG_NQ], next_desc[RIG_NQ];
	/* Devices with memory (pmem): the test's fake VMM side, set before rig_up. */
	const struct vdev_mem_ops *mops;
	void *vmm;
};

#define VDRIVER_QUEUES
#include "vdriver.h"

/* The device of @type from the CLI's @spec, its only limiter set to @lim; driver up. */
static inline void rig_up(struct rig *r, const char *type, const char *spec,
			  const struct limiter_cfg *lim)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	const struct vdev_env env = {.gm = &r->gm, .loop = &r->loop, .mem = r->mops, .vmm = r->vmm};
	char err[100];

	log_set_level(LOG_ERROR);
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	r->type = vdev_type_find(type);
	assert_non_null(r->type);
	assert_int_equal(r->type->parse(spec, cfg, err, sizeof(err)), 0);
	if (lim)
		*r->type->limiter(cfg, "") = *lim;
	assert_int_equal(r->type->create(&r->dev, cfg, &env), 0);
	r->t = r->type->transport(r->dev);
	wr(r, VIRTIO_MMIO_STATUS, 0);
	wr(r, VIRTIO_MMIO_STATUS, 3);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	wr(r, VIRTIO_MMIO_STATUS, 0xb);
	vd_queues(r, 1, qbase, QSIZE);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
}

static inline void rig_down(struct rig *r)
{
	r->type->destroy(r->dev);
	close(r->loop.epfd);
	fake_gm_free(&r->gm);
}

static inline int run_once(struct rig *r, int timeout_ms)
{
	return loop_run_once(&r->loop, timeout_ms);
}

static inline void settle(struct rig *r)
{
	loop_settle(&r->loop, 50);
}

#endif /* EMBER_TEST_DEVRIG_H */
