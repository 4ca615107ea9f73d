/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-net test rig (test_vnet.c, test_vnet_mmds.c): the device on
 * one end of a SOCK_SEQPACKET socketpair, the test as the host's network
 * on the other, and a driver in fake guest memory.
 */
#ifndef EMBER_VNET_RIG_H
#define EMBER_VNET_RIG_H

#include <endian.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "net.h"
#include "unit.h"

#define RAM   0x400000
#define QSIZE 16
#define RXQ   0
#define TXQ   1
#define BUF   0x100000
#define BUF2  0x200000
#define S_ALL 0xf

static const uint64_t qbase[2] = {0x10000, 0x20000}; /* desc; avail +0x1000; used +0x2000 */

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	struct vnet *n;
	struct virtio_mmio *t;
	int host; /* the "network" end */
	int dev;  /* a dup of the device's end, to fill its send buffer */
	uint16_t avail_idx[2], used_seen[2], next_desc[2];
};

#define VDRIVER_QUEUES
#include "vdriver.h"

/* Accepts the device's features masked by @mask (VERSION_1 always). */
static inline void driver_up(struct rig *r, uint64_t mask)
{
	uint64_t f;

	wr(r, VIRTIO_MMIO_STATUS, 0);
	memset(at(r, qbase[0]), 0, 0x20000);
	memset(r->avail_idx, 0, sizeof(r->avail_idx));
	memset(r->used_seen, 0, sizeof(r->used_seen));
	memset(r->next_desc, 0, sizeof(r->next_desc));
	wr(r, VIRTIO_MMIO_STATUS, 1);
	wr(r, VIRTIO_MMIO_STATUS, 3);
	f = dev_features(r) & (mask | (1ull << VIRTIO_F_VERSION_1));
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(r, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), 0xb);
	for (unsigned q = 0; q < 2; q++) {
		wr(r, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd32(r, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
		wr(r, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)qbase[q]);
		wr(r, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)qbase[q] + 0x1000);
		wr(r, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)qbase[q] + 0x2000);
		wr(r, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
}

static inline int setup_with(void **state, const struct vnet_config *cfg)
{
	struct rig *r = calloc(1, sizeof(*r));
	int sv[2], big = 1 << 20;

	assert_non_null(r);
	log_set_level(LOG_ERROR);
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	/* Room for a 64 KiB frame in one message. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	r->host = sv[1];
	r->dev = dup(sv[0]);
	assert_int_equal(vnet_create_with_fd(&r->n, cfg, sv[0], &r->gm, &r->loop), 0);
	r->t = vnet_transport(r->n);
	*state = r;
	return 0;
}

static inline int setup(void **state)
{
	struct vnet_config cfg = {.iface_id = "eth0", .host_dev_name = "fake0"};

	setup_with(state, &cfg);
	driver_up(*state, ~0ull);
	return 0;
}

static inline int teardown(void **state)
{
	struct rig *r = *state;

	vnet_destroy(r->n);
	close(r->host);
	close(r->dev);
	close(r->loop.epfd);
	fake_gm_free(&r->gm);
	free(r);
	return 0;
}

/* Dispatches ready handlers once (no wait); returns how many ran. */
static inline int run_once(struct rig *r, int timeout_ms)
{
	return loop_run_once(&r->loop, timeout_ms);
}

/* Runs handlers until queue q has @want new used entries. */
static inline void pump(struct rig *r, unsigned q, unsigned want)
{
	uint64_t deadline = time_now_us() + 5000000;

	run_once(r, 0);
	while (used_count(r, q) < want) {
		run_once(r, 20);
		assert_true(time_now_us() < deadline);
	}
	assert_int_equal(used_count(r, q), want);
}

/* Runs handlers until nothing is ready; fails if the device keeps the loop busy. */
static inline void settle(struct rig *r)
{
	loop_settle(&r->loop, 50);
}

static inline void kick(struct rig *r, unsigned q)
{
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static inline uint32_t used_next(struct rig *r, unsigned q, uint16_t head)
{
	uint32_t e[2];

	assert_int_equal(gm_read(&r->gm, qbase[q] + 0x2004 + 8 * (r->used_seen[q] % QSIZE), e, 8),
			 0);
	r->used_seen[q]++;
	assert_int_equal(le32toh(e[0]), head);
	return le32toh(e[1]);
}

static inline void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + seed);
}

/* A frame as the host side sends it: vnet header + payload. */
static inline void host_send(struct rig *r, size_t len, unsigned seed)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	fill(buf, len, seed);
	assert_int_equal(send(r->host, buf, len, 0), (ssize_t)len);
	free(buf);
}

static inline uint16_t post_rx(struct rig *r, uint64_t addr, uint32_t len)
{
	struct seg s[] = {{addr, VNET_HDR_LEN, true}, {addr + VNET_HDR_LEN, len, true}};

	return add_chain(r, RXQ, s, 2);
}

static inline void expect_rx(struct rig *r, uint16_t head, uint64_t addr, size_t len, unsigned seed)
{
	uint8_t *want = malloc(len);

	assert_int_equal(used_next(r, RXQ, head), len);
	fill(want, len, seed);
	/* num_buffers (bytes 10-11) must be 1 whatever the tap left there. */
	want[10] = 1;
	want[11] = 0;
	assert_memory_equal(at(r, addr), want, len);
	free(want);
}

#endif /* EMBER_VNET_RIG_H */
