// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for virtio-net frames, both ways.  Per input a net device is
 * made from the registry's parse of a --net spec, on one end of a
 * SOCK_SEQPACKET socketpair instead of a tap (vnet_create_with_fd, as
 * test_vnet.c does: one message per frame, like a tap's reads and writes);
 * the target plays the host's network on the other end and a guest driver
 * over fake guest memory, with input-chosen features (checksum, TSO, ECN
 * each way, EVENT_IDX, INDIRECT_DESC) and queue size.  Then the input is a
 * list of operations: TX frames with any virtio_net_hdr (flags, gso_type,
 * sizes, offsets) split over chosen segments, some writable or outside
 * RAM; RX buffers of chosen sizes and segments; host frames of any length
 * (0 to 128 KiB) written into the device; host reads; kicks of any queue
 * index; device resets.  The device end can get a small send buffer, so
 * the tap refuses frames (EAGAIN: the frame waits for EPOLLOUT; EMSGSIZE).
 *
 * Checked besides the sanitizers: a frame reaching the host is one the
 * guest sent, byte for byte, in order, within VNET_MAX_LEN and with only
 * the offloads the guest negotiated; a frame reaching the guest is one the
 * host sent (num_buffers 1), in order, within the chain it was given (only
 * its length when the chain has a segment across the end of RAM: those
 * overlap between chains); no used length exceeds what the chain offered,
 * no head comes back that was not out; the loop goes quiet; at the end
 * every TX chain is back, and no host frame waits while the guest has RX
 * buffers posted (the stall class of Firecracker's CVE-2020-16843).
 *
 * Not reached: the tap ioctls (TUNSETOFFLOAD; a socketpair is no tap),
 * the rate limiters (unlimited here) and MRG_RXBUF, which ember does not
 * offer: every RX frame goes into one chain.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_net --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device.h"
#include "net.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"
#include "vrig.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t up, tx_posted, tx_returned, to_host, tx_gso, host_sent, to_guest, rx_returned,
	    rx_empty, resets;
} depth;

/* An oracle failed: say which, then abort (libFuzzer keeps the input). */
static void __attribute__((noreturn)) fail(const char *why)
{
	fprintf(stderr, "fuzz_net: %s\n", why);
	abort();
}

#define RAM	  (4u << 20)
#define RXQ	  0u
#define TXQ	  1u
#define QMAX	  256u
#define SEGS_MAX  8u
#define HDR	  VNET_HDR_LEN
#define FRAME_MAX (VNET_MAX_LEN + 65536u) /* what the host or the guest may try */
#define LOG_MAX	  128u

static const uint64_t qbase[2] = {0x10000, 0x20000};  /* desc; avail +0x1000; used +0x2000 */
static const uint64_t tables[2] = {0x40000, 0x60000}; /* 128 bytes of table per head */
/* Buffers, clear of the last 128 KiB where segments across the end of RAM lie. */
static const uint64_t area[2][2] = {{0x200000, RAM - 0x20000}, {0x100000, 0x200000}};

static _Alignas(4096) uint8_t ram[RAM];
static uint64_t dirty[RAM / 4096 / 64]; /* gm_ptr_w marks pages here */
static uint8_t frame[FRAME_MAX];	/* scratch: a frame being built or checked */

/*
 * Frames sent one way, in order: the receiver must see a subsequence of
 * them.  A frame is its 12-byte header and a payload made from its number.
 */
struct flog {
	struct {
		uint32_t len;
		uint8_t hdr[HDR];
		uint16_t seq;
	} f[LOG_MAX];
	unsigned n, next;
};

static void frame_make(uint8_t *buf, uint32_t len, const uint8_t *hdr, uint16_t seq)
{
	memcpy(buf, hdr, len < HDR ? len : HDR);
	for (uint32_t i = HDR; i < len; i++)
		buf[i] = (uint8_t)(seq * 37u + i);
}

static void flog_add(struct flog *l, uint32_t len, const uint8_t *hdr, uint16_t seq)
{
	if (l->n == LOG_MAX)
		fail("the target's bound, not the device's");
	l->f[l->n].len = len;
	memcpy(l->f[l->n].hdr, hdr, HDR);
	l->f[l->n].seq = seq;
	l->n++;
}

/* @buf (@len bytes) arrived: it must be a later frame of @l; @rx: num_buffers forced to 1. */
static void flog_match(struct flog *l, const uint8_t *buf, uint32_t len, bool rx)
{
	static uint8_t want[FRAME_MAX];

	for (unsigned j = l->next; j < l->n; j++) {
		if (l->f[j].len != len)
			continue;
		frame_make(want, len, l->f[j].hdr, l->f[j].seq);
		if (rx) {
			want[10] = 1;
			want[11] = 0;
		}
		if (!memcmp(want, buf, len)) {
			l->next = j + 1;
			return;
		}
	}
	fail("a frame nobody sent, or out of order");
}

/* ---- the guest driver --------------------------------------------------------- */

struct chain {
	bool out; /* posted and not yet returned */
	unsigned nseg, ndesc;
	struct seg seg[SEGS_MAX];
	uint64_t wbytes;
	bool straddle; /* a segment across the end of RAM: such segments overlap */
};

struct queue {
	struct ring ring;
	uint16_t in_use, outstanding;
	uint64_t alloc;
	struct chain c[QMAX]; /* by head */
};

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	struct vnet *n;
	struct virtio_mmio *t;
	int host, peek; /* the network's end; a dup of the device's, to look into */
	uint64_t feat;	/* what the driver accepted */
	uint8_t fsel, qsel;
	uint16_t qsize;
	bool live;
	struct queue q[2];
	struct flog to_host, to_guest;
	uint16_t seq;
};

/*
 * Reset, then up with the device's features minus what @fsel drops (bit i:
 * CSUM, GUEST_CSUM, GUEST_TSO4, GUEST_TSO6, GUEST_ECN, HOST_TSO4,
 * HOST_TSO6, HOST_ECN) and what @qsel drops (bit 0 EVENT_IDX, 1
 * INDIRECT_DESC); queue size from @qsel bits 2-4.
 */
static void drv_up(struct rig *r)
{
	static const unsigned bits[8] = {VIRTIO_NET_F_CSUM,	  VIRTIO_NET_F_GUEST_CSUM,
					 VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
					 VIRTIO_NET_F_GUEST_ECN,  VIRTIO_NET_F_HOST_TSO4,
					 VIRTIO_NET_F_HOST_TSO6,  VIRTIO_NET_F_HOST_ECN};
	static const unsigned ring_bits[2] = {VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC};
	static const uint16_t qsizes[8] = {256, 16, 64, 8, 4, 2, 1, 256};

	wr32(r->t, VIRTIO_MMIO_STATUS, 0);
	memset(ram + qbase[0], 0, 0x70000);
	memset(r->q, 0, sizeof(r->q));
	r->q[RXQ].alloc = area[RXQ][0];
	r->q[TXQ].alloc = area[TXQ][0];
	r->qsize = qsizes[(r->qsel >> 2) & 7];
	for (unsigned q = 0; q < 2; q++)
		r->q[q].ring = (struct ring){.desc = qbase[q], .size = r->qsize};
	r->feat = drv_features(
	    r->t, feature_bits(r->fsel, bits, 8) | feature_bits(r->qsel, ring_bits, 2), 0);
	drv_queues(r->t, qbase, 2, r->qsize);
	r->live = rd32(r->t, VIRTIO_MMIO_STATUS) == 0xf;
	depth.up += r->live;
}

/* Guest memory for @len bytes of queue @q's buffers; 0 when it is all in use. */
static uint64_t buf_alloc(struct rig *r, unsigned q, uint32_t len)
{
	struct queue *qu = &r->q[q];
	uint64_t a;

	/* Never under a chain still out: what the device sees is what we posted. */
	if (qu->alloc + len > area[q][1]) {
		if (qu->outstanding || len > area[q][1] - area[q][0])
			return 0;
		qu->alloc = area[q][0];
	}
	a = qu->alloc;
	qu->alloc += ((uint64_t)len + 63) & ~63ull;
	return a;
}

/* Makes @c available on @q (an indirect table if @indirect); false if no room. */
static bool post(struct rig *r, unsigned q, struct chain *c, bool indirect)
{
	struct queue *qu = &r->q[q];
	unsigned n = indirect ? 1 : c->nseg;
	uint64_t table = tables[q] + 128 * (uint64_t)qu->ring.next_desc;
	uint16_t head;

	if (qu->in_use + n > r->qsize)
		return false;
	head = post_chain(ram, &qu->ring, c->seg, c->nseg, indirect ? table : 0);
	c->ndesc = n;
	c->out = true;
	c->wbytes = 0;
	for (unsigned i = 0; i < c->nseg; i++)
		c->wbytes += c->seg[i].w ? c->seg[i].len : 0;
	qu->c[head] = *c;
	qu->in_use = (uint16_t)(qu->in_use + n);
	qu->outstanding++;
	return true;
}

/* A returned RX chain: the frame in it must be the next one(s) the host sent. */
static void rx_returned(struct rig *r, const struct chain *c, uint32_t len)
{
	uint32_t got = 0;

	if (len > c->wbytes || (len && len < HDR))
		fail("RX used length beyond the chain, or shorter than a header");
	if (!len) {
		depth.rx_empty++;
		return;
	}
	for (unsigned i = 0; i < c->nseg && got < len; i++) {
		uint32_t k = c->seg[i].len < len - got ? c->seg[i].len : len - got;

		if (!c->seg[i].w || c->seg[i].addr + k > RAM)
			fail("written into a segment it could not have used");
		memcpy(frame + got, ram + c->seg[i].addr, k);
		got += k;
	}
	/* Two chains' segments across the end of RAM share bytes: no telling whose. */
	if (!c->straddle)
		flog_match(&r->to_guest, frame, len, true);
	depth.to_guest++;
}

/* Takes every used entry of both queues and judges it. */
static void reap(struct rig *r)
{
	for (unsigned q = 0; q < 2; q++) {
		struct queue *qu = &r->q[q];
		uint32_t id, len;

		while (used_next(ram, &qu->ring, &id, &len)) {
			struct chain *c;

			if (id >= r->qsize || !qu->c[id].out)
				fail("a head that was not out");
			c = &qu->c[id];
			if (q == RXQ) {
				rx_returned(r, c, len);
				depth.rx_returned++;
			} else if (len) {
				fail("the device writes nothing into a TX chain");
			} else {
				depth.tx_returned++;
			}
			c->out = false;
			qu->in_use = (uint16_t)(qu->in_use - c->ndesc);
			qu->outstanding--;
		}
	}
}

/* Runs the device's handlers until nothing is ready; a device that spins fails. */
static void settle(struct rig *r)
{
	struct epoll_event ev;

	/* After 1000 rounds, one more look: still busy is a device that spins. */
	if (!pump(&r->loop, 1000) && epoll_wait(r->loop.epfd, &ev, 1, 0) > 0)
		fail("the device keeps the loop busy");
	reap(r);
}

/* Only offloads the guest negotiated may reach the tap (vnet_tx_header_ok's rule). */
static bool header_allowed(uint64_t f, const uint8_t *hdr)
{
	uint8_t gso = hdr[1];

	if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(f & (1ull << VIRTIO_NET_F_CSUM)))
		return false;
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !(f & (1ull << VIRTIO_NET_F_HOST_ECN)))
		return false;
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(gso & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return f & (1ull << VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return f & (1ull << VIRTIO_NET_F_HOST_TSO6);
	default:
		return false;
	}
}

/* The host reads every frame the device wrote and checks it. */
static void host_read(struct rig *r)
{
	for (;;) {
		ssize_t k = recv(r->host, frame, sizeof(frame), MSG_DONTWAIT | MSG_TRUNC);

		if (k < 0)
			return;
		if (k < HDR || k > VNET_MAX_LEN)
			fail("a frame of impossible length reached the tap");
		if (!header_allowed(r->feat, frame))
			fail("a frame with offloads the guest did not negotiate reached the tap");
		flog_match(&r->to_host, frame, (uint32_t)k, false);
		depth.to_host++;
		depth.tx_gso += frame[1] != VIRTIO_NET_HDR_GSO_NONE;
	}
}

/*
 * Segment list for @total bytes of queue @q: count (bits 0-2, +1); bit 3
 * indirect; bit 4 one segment of the wrong direction; bit 5 one across the
 * end of RAM; then a 16-bit length per segment but the last (RX: each
 * segment's length; TX: split points, the last takes the rest).
 */
static bool chain_build(struct rig *r, unsigned q, struct in *in, uint32_t total, struct chain *c,
			bool *indirect)
{
	uint8_t v = take8(in);
	unsigned bad = take8(in);
	uint32_t left = total;

	memset(c, 0, sizeof(*c));
	c->nseg = (v & 7) + 1u;
	*indirect = v & 8;
	for (unsigned i = 0; i < c->nseg; i++) {
		uint32_t len = q == RXQ		  ? take16(in)
			       : i + 1 == c->nseg ? left
						  : take16(in) % (left + 1);

		if (q == TXQ)
			left -= len;
		c->seg[i].len = len;
		c->seg[i].w = q == RXQ;
		c->seg[i].addr = buf_alloc(r, q, len);
		if (!c->seg[i].addr && len)
			return false;
	}
	if (v & 16)
		c->seg[bad % c->nseg].w = !c->seg[bad % c->nseg].w;
	if (v & 32) {
		c->seg[bad % c->nseg].addr = RAM - c->seg[bad % c->nseg].len / 2 - 1;
		c->straddle = true;
	}
	return true;
}

/* A guest frame: 12 header bytes, a length (bit 3 of @op: +64 KiB), its segments. */
static void op_tx(struct rig *r, uint8_t op, struct in *in)
{
	uint8_t hdr[HDR];
	uint32_t len, off = 0;
	struct chain c;
	bool indirect;

	for (unsigned i = 0; i < HDR; i++)
		hdr[i] = take8(in);
	len = take16(in) + (op & 8 ? 65536u : 0);
	if (!chain_build(r, TXQ, in, len, &c, &indirect))
		return;
	frame_make(frame, len, hdr, r->seq);
	for (unsigned i = 0; i < c.nseg; i++) {
		if (c.seg[i].addr + c.seg[i].len <= RAM)
			memcpy(ram + c.seg[i].addr, frame + off, c.seg[i].len);
		off += c.seg[i].len;
	}
	if (!post(r, TXQ, &c, indirect))
		return;
	flog_add(&r->to_host, len, hdr, r->seq++);
	depth.tx_posted++;
	if (!(op & 16))
		wr32(r->t, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
}

static void op_rx_buffer(struct rig *r, uint8_t op, struct in *in)
{
	struct chain c;
	bool indirect;

	if (!chain_build(r, RXQ, in, 0, &c, &indirect) || !post(r, RXQ, &c, indirect))
		return;
	if (!(op & 16))
		wr32(r->t, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
}

/* The host sends a frame: 12 header bytes, a length (bit 3 of @op: +64 KiB). */
static void op_host_send(struct rig *r, uint8_t op, struct in *in)
{
	uint8_t hdr[HDR];
	uint32_t len;

	for (unsigned i = 0; i < HDR; i++)
		hdr[i] = take8(in);
	len = take16(in) + (op & 8 ? 65536u : 0);
	frame_make(frame, len, hdr, r->seq);
	if (send(r->host, frame, len, MSG_DONTWAIT) != (ssize_t)len)
		return; /* the socket's limits, not the device's */
	/* Only what the device passes on: a frame of a usable length. */
	if (len >= HDR && len <= VNET_MAX_LEN)
		flog_add(&r->to_guest, len, hdr, r->seq);
	r->seq++;
	depth.host_sent++;
}

/*
 * Input: features dropped (drv_up's @fsel); queue bits (drv_up's @qsel;
 * bit 5 a MAC and an MTU in the spec, bit 6 a small send buffer on the
 * device's end); then up to 48 operations: op bits 0-2 pick TX frame (0,
 * 1), RX buffer, host frame, host read, a kick of the queue in the next
 * byte, reset, or nothing; bit 4 posts without a kick.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rig r;
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	const struct vdev_type *type = vdev_type_find("net");
	struct in in = {data, size};
	int sv[2], big = 1 << 20, small = 4096;
	char err[200];

	log_set_level(LOG_ERROR);
	memset(&r, 0, sizeof(r));
	r.fsel = take8(&in);
	r.qsel = take8(&in);
	r.gm.nr_regions = 1;
	r.gm.region[0] = (struct gm_region){.gpa = 0, .size = RAM, .host = ram, .dirty = dirty};
	if (!type ||
	    type->parse(r.qsel & 32 ? "tap=fuzz0,id=eth0,mac=02:00:00:00:00:01,mtu=1500"
				    : "tap=fuzz0",
			cfg, err, sizeof(err)) ||
	    evloop_init(&r.loop) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv))
		fail("the rig, not the input");
	/* Room for a 64 KiB frame in one message, unless the input wants a full tap. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, r.qsel & 64 ? &small : &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	r.host = sv[1];
	r.peek = dup(sv[0]);
	if (r.peek < 0 ||
	    vnet_create_with_fd(&r.n, (const struct vnet_config *)cfg, sv[0], &r.gm, &r.loop))
		abort();
	r.t = vnet_transport(r.n);
	drv_up(&r);
	for (unsigned k = 0; k < 48 && in.n && r.live; k++) {
		uint8_t op = take8(&in);

		switch (op & 7) {
		case 0:
		case 1:
			op_tx(&r, op, &in);
			break;
		case 2:
			op_rx_buffer(&r, op, &in);
			break;
		case 3:
			op_host_send(&r, op, &in);
			break;
		case 4:
			host_read(&r);
			break;
		case 5:
			wr32(r.t, VIRTIO_MMIO_QUEUE_NOTIFY, take8(&in));
			break;
		case 6:
			settle(&r);
			drv_up(&r); /* what is out is the guest's again */
			depth.resets++;
			break;
		}
		settle(&r);
	}
	/* A driver kicks what it posted; then the host takes all there is. */
	for (unsigned round = 0; r.live && round < 64; round++) {
		wr32(r.t, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
		wr32(r.t, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
		settle(&r);
		host_read(&r);
		settle(&r);
		if (!r.q[TXQ].outstanding)
			break;
	}
	if (r.live && rd32(r.t, VIRTIO_MMIO_STATUS) == 0xf) {
		char c;

		if (r.q[TXQ].outstanding)
			fail("a guest frame the device never finished");
		if (r.q[RXQ].outstanding && recv(r.peek, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)
			fail("a host frame waits although the guest gave buffers");
	}
	vnet_destroy(r.n);
	close(r.peek);
	close(r.host);
	evloop_destroy(&r.loop);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds ------------------------------------------------------------ */

static int fuzz_report(void)
{
	printf("fuzz_net: %zu devices up, %zu resets; TX: %zu frames posted, %zu returned, %zu "
	       "reached the host (%zu GSO); RX: %zu host frames sent, %zu chains returned, %zu "
	       "frames reached the guest, %zu chains returned empty\n",
	       depth.up, depth.resets, depth.tx_posted, depth.tx_returned, depth.to_host,
	       depth.tx_gso, depth.host_sent, depth.rx_returned, depth.to_guest, depth.rx_empty);
	return !depth.to_host || !depth.tx_gso || !depth.to_guest || !depth.rx_empty;
}

/* A virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, 0. */
static void hdr(struct sw *w, unsigned flags, unsigned gso, unsigned hdr_len, unsigned gso_size,
		unsigned csum_start, unsigned csum_offset)
{
	b8(w, flags);
	b8(w, gso);
	b16(w, hdr_len);
	b16(w, gso_size);
	b16(w, csum_start);
	b16(w, csum_offset);
	b16(w, 0);
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	struct sw w = {.len = 0};
	unsigned n = 0;

	if (max < 5)
		abort();
	/* A plain 60-byte frame out, in one segment; the host reads it. */
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0); /* TX */
	hdr(&w, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
	b16(&w, HDR + 60);
	b8(&w, 0); /* one segment */
	b8(&w, 0);
	b8(&w, 4); /* host read */
	seed_add(s, &n, "tx-plain", &w);

	/* A plain frame in: a 1526-byte buffer posted, then a 74-byte frame; a 16-byte
	 * buffer then takes a second frame too big for it (dropped, returned empty). */
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 2); /* RX buffer */
	b8(&w, 0);
	b8(&w, 0);
	b16(&w, 1526);
	b8(&w, 3); /* host frame */
	hdr(&w, 0, 0, 0, 0, 0, 0);
	b16(&w, HDR + 62);
	b8(&w, 2);
	b8(&w, 0);
	b8(&w, 0);
	b16(&w, 16);
	b8(&w, 3);
	hdr(&w, 0, 0, 0, 0, 0, 0);
	b16(&w, HDR + 62);
	seed_add(s, &n, "rx-plain", &w);

	/* A TSO4 frame with checksum offload: 12 + 54 + 8000 bytes, header alone
	 * in its segment and the rest over two, in an indirect table. */
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0);
	hdr(&w, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);
	b16(&w, HDR + 54 + 8000);
	b8(&w, 2 | 8); /* three segments, indirect */
	b8(&w, 0);
	b16(&w, HDR);
	b16(&w, 54 + 4000);
	b8(&w, 4);
	seed_add(s, &n, "tx-gso-tcp4", &w);

	/* A 1514-byte frame each way split over four descriptors (1, 11, 500, rest). */
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 1);
	hdr(&w, 0, 0, 0, 0, 0, 0);
	b16(&w, HDR + 1514);
	b8(&w, 3);
	b8(&w, 0);
	b16(&w, 1);
	b16(&w, 11);
	b16(&w, 500);
	b8(&w, 2); /* RX buffer of four segments */
	b8(&w, 3);
	b8(&w, 0);
	b16(&w, 1);
	b16(&w, 11);
	b16(&w, 500);
	b16(&w, 1014);
	b8(&w, 3);
	hdr(&w, 0, 0, 0, 0, 0, 0);
	b16(&w, HDR + 1514);
	b8(&w, 4);
	seed_add(s, &n, "split", &w);

	/*
	 * A full tap: a small send buffer on the device's end, five 1500-byte
	 * frames posted and kicked (some wait for EPOLLOUT), then the host
	 * reads; a GSO frame without HOST_TSO6 negotiated (dropped); a reset.
	 */
	b8(&w, 1u << 6); /* HOST_TSO6 not accepted */
	b8(&w, 64);
	for (unsigned i = 0; i < 5; i++) {
		b8(&w, 0);
		hdr(&w, 0, 0, 0, 0, 0, 0);
		b16(&w, 1500);
		b8(&w, 0);
		b8(&w, 0);
	}
	b8(&w, 4);
	b8(&w, 0);
	hdr(&w, 0, VIRTIO_NET_HDR_GSO_TCPV6, 74, 1428, 0, 0);
	b16(&w, 3000);
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 2); /* an RX buffer, then a reset with it out */
	b8(&w, 0);
	b8(&w, 0);
	b16(&w, 2000);
	b8(&w, 6);
	b8(&w, 0);
	hdr(&w, 0, 0, 0, 0, 0, 0);
	b16(&w, 100);
	b8(&w, 0);
	b8(&w, 0);
	seed_add(s, &n, "tap-full", &w);
	return n;
}
#endif
