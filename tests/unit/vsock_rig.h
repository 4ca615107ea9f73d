/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-vsock test rig shared by test_vsock*.c: fake guest memory with
 * the three queues, the device's evloop handlers run by hand, the guest's
 * packets built and read there, and host processes as real Unix sockets in
 * a temp dir (clients of uds_path, listeners on uds_path_PORT).
 */
#ifndef EMBER_TEST_VSOCK_RIG_H
#define EMBER_TEST_VSOCK_RIG_H

#include <endian.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "unit.h"
#include "vsock_mux.h"

#define RAM   0x800000
#define QSIZE 64
#define RXQ   0
#define TXQ   1
#define EVQ   2
#define RXBUF 0x100000 /* slot i: header at +0x2000*i, payload at +0x100 */
#define TXBUF 0x300000
#define CID   3
#define S_ALL 0xf
#define OP(x) VIRTIO_VSOCK_OP_##x

static const uint64_t qbase[3] = {0x10000, 0x20000, 0x30000};

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	struct vsock *v;
	struct virtio_mmio *t;
	char dir[32], uds[64];
	uint16_t avail_idx[3], used_seen[3], next_desc[3];
	uint64_t rx_addr[QSIZE]; /* by head */
	unsigned rx_slot;
};

#define VDRIVER_QUEUES
#include "vdriver.h"

static inline uint32_t used_pop(struct rig *r, unsigned q, uint16_t *head)
{
	uint32_t e[2];

	assert_int_equal(gm_read(&r->gm, qbase[q] + 0x2004 + 8 * (r->used_seen[q] % QSIZE), e, 8),
			 0);
	r->used_seen[q]++;
	*head = (uint16_t)le32toh(e[0]);
	return le32toh(e[1]);
}

static inline int run_once(struct rig *r, int timeout_ms)
{
	return loop_run_once(&r->loop, timeout_ms);
}

static inline void settle(struct rig *r)
{
	loop_settle(&r->loop, 200);
}

static inline void post_rx(struct rig *r)
{
	uint64_t a = RXBUF + 0x2000 * (uint64_t)(r->rx_slot++ % 32);
	struct seg s[] = {{a, VSOCK_HDR_LEN, true}, {a + 0x100, 4096, true}};
	uint16_t head = add_chain(r, RXQ, s, 2);

	r->rx_addr[head] = a;
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
}

static inline void driver_up(struct rig *r)
{
	uint64_t f;

	wr(r, VIRTIO_MMIO_STATUS, 0);
	memset(at(r, qbase[0]), 0, 0x30000);
	memset(r->avail_idx, 0, sizeof(r->avail_idx));
	memset(r->used_seen, 0, sizeof(r->used_seen));
	memset(r->next_desc, 0, sizeof(r->next_desc));
	r->rx_slot = 0;
	wr(r, VIRTIO_MMIO_STATUS, 1);
	wr(r, VIRTIO_MMIO_STATUS, 3);
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd32(r, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f |= rd32(r, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(r, VIRTIO_MMIO_STATUS, 0xb);
	vd_queues(r, 3, qbase, QSIZE);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
	for (unsigned i = 0; i < 8; i++)
		post_rx(r);
	settle(r);
}

static inline int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct vsock_config cfg = {.guest_cid = CID, .vsock_id = "vsock0"};

	assert_non_null(r);
	log_set_level(LOG_ERROR);
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	snprintf(r->dir, sizeof(r->dir), "/tmp/ember-vsock-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->uds, sizeof(r->uds), "%s/v.sock", r->dir);
	snprintf(cfg.uds_path, sizeof(cfg.uds_path), "%s", r->uds);
	assert_int_equal(vsock_create(&r->v, &cfg, &r->gm, &r->loop), 0);
	r->t = vsock_transport(r->v);
	driver_up(r);
	*state = r;
	return 0;
}

static inline int teardown(void **state)
{
	struct rig *r = *state;
	char cmd[128];

	vsock_destroy(r->v);
	/* uds_path and whatever else a test made go here. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
	close(r->loop.epfd);
	fake_gm_free(&r->gm);
	free(r);
	return 0;
}

/* Guest -> device: one packet in a header + payload chain. */
static inline void send_hdr(struct rig *r, const struct vsock_hdr *h, const void *payload,
			    uint32_t len)
{
	uint64_t a = TXBUF + 0x20000 * (uint64_t)(r->avail_idx[TXQ] % 8);
	struct seg s[2] = {{a, VSOCK_HDR_LEN, false}, {a + 0x100, len, false}};

	vsock_hdr_encode(h, at(r, a));
	if (len)
		memcpy(at(r, a + 0x100), payload, len);
	add_chain(r, TXQ, s, len ? 2 : 1);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	settle(r);
	assert_int_equal(used_count(r, TXQ), 1);
	r->used_seen[TXQ]++;
}

static inline void send_pkt(struct rig *r, uint16_t op, uint32_t gport, uint32_t hport,
			    uint32_t flags, const void *payload, uint32_t len, uint32_t buf_alloc,
			    uint32_t fwd_cnt)
{
	struct vsock_hdr h = {.src_cid = CID,
			      .dst_cid = VSOCK_HOST_CID,
			      .src_port = gport,
			      .dst_port = hport,
			      .len = len,
			      .type = VIRTIO_VSOCK_TYPE_STREAM,
			      .op = op,
			      .flags = flags,
			      .buf_alloc = buf_alloc,
			      .fwd_cnt = fwd_cnt};

	send_hdr(r, &h, payload, len);
}

/* Device -> guest: the next packet (waits for it), payload copied out. */
static inline void get_pkt(struct rig *r, struct vsock_hdr *h, uint8_t *payload)
{
	uint64_t deadline = time_now_us() + 5000000;
	uint16_t head;
	uint32_t len;

	run_once(r, 0);
	while (!used_count(r, RXQ)) {
		run_once(r, 20);
		assert_true(time_now_us() < deadline);
	}
	len = used_pop(r, RXQ, &head);
	assert_true(head < QSIZE);
	vsock_hdr_decode(at(r, r->rx_addr[head]), h);
	assert_int_equal(len, VSOCK_HDR_LEN + h->len);
	assert_int_equal(h->src_cid, VSOCK_HOST_CID);
	assert_int_equal(h->dst_cid, CID);
	assert_int_equal(h->type, VIRTIO_VSOCK_TYPE_STREAM);
	if (payload)
		memcpy(payload, at(r, r->rx_addr[head] + 0x100), h->len);
	post_rx(r);
}

static inline void no_pkt(struct rig *r)
{
	settle(r);
	assert_int_equal(used_count(r, RXQ), 0);
}

static inline int host_client(struct rig *r)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->uds);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static inline void host_write(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads up to n bytes, pumping the device; returns what came (0 at EOF). */
static inline ssize_t host_read(struct rig *r, int fd, void *buf, size_t n)
{
	uint64_t deadline = time_now_us() + 5000000;
	size_t got = 0;

	while (got < n) {
		ssize_t k = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);

		/* Closed with our bytes unread shows as a reset: also the end. */
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			break;
		if (k > 0) {
			got += (size_t)k;
			continue;
		}
		assert_int_equal(errno, EAGAIN);
		run_once(r, 20);
		assert_true(time_now_us() < deadline);
	}
	return (ssize_t)got;
}

static inline void expect_eof(struct rig *r, int fd)
{
	char c;

	assert_int_equal(host_read(r, fd, &c, 1), 0);
}

/* CONNECT, the guest accepts with @buf_alloc: returns the client, *hport the stream's port. */
static inline int host_connect(struct rig *r, uint32_t gport, uint32_t buf_alloc, uint32_t *hport)
{
	struct vsock_hdr h;
	char line[32], want[32];
	int fd = host_client(r);

	snprintf(line, sizeof(line), "CONNECT %u\n", gport);
	host_write(fd, line, strlen(line));
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(REQUEST));
	assert_int_equal(h.dst_port, gport);
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	assert_true(h.src_port >= VSOCK_PORT_FIRST);
	*hport = h.src_port;
	send_pkt(r, OP(RESPONSE), gport, *hport, 0, NULL, 0, buf_alloc, 0);
	snprintf(want, sizeof(want), "OK %u\n", *hport);
	assert_int_equal(host_read(r, fd, line, strlen(want)), (ssize_t)strlen(want));
	assert_memory_equal(line, want, strlen(want));
	return fd;
}

static inline int host_listen(struct rig *r, uint32_t port)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", r->uds, port);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

#endif
