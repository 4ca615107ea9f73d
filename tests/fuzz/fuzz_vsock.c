// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for virtio-vsock and its hybrid muxer (vsock.c, vsock_mux.c,
 * vsock_client.c, vsock_conn.c, vsock_host.c, vsock_pkt.c): both of its
 * untrusted sides at once, interleaved as the input says.  The input is a
 * byte of options, then a list of commands, each a byte and its operands:
 * the guest posts a TX packet (a virtio_vsock_hdr with every field from the
 * input, fixed up to the right CIDs and the stream's ports when an option
 * bit says so, so that mutations get past the address check; payload, and
 * a chain layout: split header, one segment, a device-writable or
 * out-of-RAM segment), posts RX buffers of a chosen size, resets the
 * driver, posts an event buffer and has a TRANSPORT_RESET sent; a host
 * process connects to uds_path and writes bytes (the CONNECT line, garbage,
 * partial and long lines, stream data), reads, half-closes or closes,
 * listens on uds_path_<port> for guest connections and accepts them; and
 * the bytes of a command go straight to vsock_parse_connect().  After each
 * command the device's loop runs until quiet (epoll_wait 0, bounded) and
 * the guest takes what the device put in its RX ring, checking every
 * packet (CIDs, type, op, used length = header + len within the buffer,
 * no RW longer than a buf_alloc the guest gave on that stream); a host
 * client's first bytes must be "OK ".  A fresh device per input (a
 * private temp dir, removed at exit) keeps runs independent; every fd is
 * closed at the end of the input.
 *
 * Not reached: the handshake deadlines (2 s timers: waiting for them would
 * make runs slow and timing-dependent), EMFILE on accept, the
 * VSOCK_MAX_CONNS cap and the 2048-RST queue limit (inputs are too short to
 * open a thousand streams), and the KVM ioeventfd path of a queue notify.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_vsock --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>
#include <linux/virtio_vsock.h>

#include "vsock_mux.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"
#include "vrig.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t inputs, guest_pkts, rx_pkts, requests, responses, ok_lines, rw_to_guest,
	    bytes_to_guest, bytes_to_host, shutdowns, rsts, credit_updates, connect_parsed;
} depth;

/* Guest memory: three rings, TX packets, RX buffers, an event buffer. */
#define RAM	    0x100000u
#define QSIZE	    64u
#define RXQ	    0
#define TXQ	    1
#define EVQ	    2
#define TXBUF	    0x40000u /* 0x10000 a packet: 44 + up to 0xff00 payload */
#define TXSLOTS	    4u
#define RXBUF	    0x80000u /* slot i at +0x2000*i: header, payload at +0x100 */
#define RXSLOTS	    16u	     /* at most this many posted: their descriptors never wrap */
#define EVBUF	    0xc0000u
#define CID	    3
#define HOST_FDS    6
#define LISTENERS   2
#define LOOP_ROUNDS 16

static const uint64_t qbase[3] = {0x10000, 0x20000, 0x30000};

enum host_kind { HOST_NONE, HOST_CLIENT, HOST_ACCEPTED };

struct rig {
	uint8_t *ram;
	struct guest_mem gm;
	struct evloop loop;
	struct vsock *v;
	struct virtio_mmio *t;
	char uds[80];
	struct ring vq[3];
	uint64_t rx_addr[QSIZE];    /* by head: the buffer's header address */
	uint32_t rx_payload[QSIZE]; /* by head: its payload room, 0 if not posted */
	unsigned rx_posted, rx_slot, rx_size;
	bool auto_rx;
	uint32_t last_host_port, last_guest_port; /* of the last REQUEST/RESPONSE seen */
	struct {
		int fd;
		enum host_kind kind;
		size_t got; /* bytes read so far */
	} host[HOST_FDS];
	struct {
		int fd;
		char path[96];
	} lsn[LISTENERS];
	/*
	 * The largest buf_alloc the guest sent on each port pair: the device's
	 * credit for a stream never exceeds the guest's last buf_alloc, so no
	 * RW may be longer (a bound that holds however the packets went).
	 */
	struct {
		uint32_t guest_port, host_port, buf_alloc;
	} credit[32];
	unsigned nr_credit;
	bool credit_full; /* more pairs than that: no bound this input */
};

/* A broken promise of the device (or of the rig): say which, then crash for the fuzzer. */
#define fuzz_fail(why)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "fuzz_vsock: %s (line %d)\n", why, __LINE__);                      \
		abort();                                                                           \
	} while (0)

static char fuzz_dir[] = "/tmp/ember-fuzz-vsock-XXXXXX";
static bool fuzz_dir_made;

/* At exit (libFuzzer's too): every input removed its own sockets, so the dir is empty. */
static void fuzz_dir_remove(void)
{
	rmdir(fuzz_dir);
}

/* ---- the guest's driver ------------------------------------------------------- */

static void post_rx(struct rig *r)
{
	uint64_t a = RXBUF + 0x2000 * (uint64_t)(r->rx_slot++ % (2 * RXSLOTS));
	uint16_t head;

	if (r->rx_size < VSOCK_HDR_LEN) {
		/* Too small for a header: the device must hand it back empty. */
		struct seg s = {a, r->rx_size, true};

		head = post_chain(r->ram, &r->vq[RXQ], &s, 1, 0);
		r->rx_payload[head] = 0;
	} else {
		struct seg s[2] = {{a, VSOCK_HDR_LEN, true}, {a + 0x100, r->rx_size, true}};

		head = post_chain(r->ram, &r->vq[RXQ], s, 2, 0);
		r->rx_payload[head] = r->rx_size;
	}
	r->rx_addr[head] = a;
	r->rx_posted++;
	wr32(r->t, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
}

static void driver_up(struct rig *r)
{
	wr32(r->t, VIRTIO_MMIO_STATUS, 0);
	memset(r->ram + qbase[0], 0, 0x30000);
	for (unsigned q = 0; q < 3; q++)
		r->vq[q] = (struct ring){.desc = qbase[q], .size = QSIZE};
	r->rx_posted = r->rx_slot = 0;
	drv_features(r->t, 0, 0);
	drv_queues(r->t, qbase, 3, QSIZE);
	for (unsigned i = 0; i < 8; i++)
		post_rx(r);
	pump(&r->loop, LOOP_ROUNDS);
}

static void note_credit(struct rig *r, const struct vsock_hdr *h)
{
	unsigned i;

	for (i = 0; i < r->nr_credit; i++)
		if (r->credit[i].guest_port == h->src_port && r->credit[i].host_port == h->dst_port)
			break;
	if (i == r->nr_credit) {
		if (i == ARRAY_SIZE(r->credit)) {
			r->credit_full = true;
			return;
		}
		r->credit[r->nr_credit++].guest_port = h->src_port;
		r->credit[i].host_port = h->dst_port;
	}
	if (h->buf_alloc > r->credit[i].buf_alloc)
		r->credit[i].buf_alloc = h->buf_alloc;
}

/* An RW to the guest: within a buf_alloc the guest gave for that stream. */
static void check_credit(const struct rig *r, const struct vsock_hdr *h)
{
	if (r->credit_full)
		return;
	for (unsigned i = 0; i < r->nr_credit; i++)
		if (r->credit[i].guest_port == h->dst_port &&
		    r->credit[i].host_port == h->src_port) {
			if (h->len > r->credit[i].buf_alloc)
				fuzz_fail("RW beyond the guest's buf_alloc");
			return;
		}
	fuzz_fail("RW on a stream the guest never spoke on");
}

/* A packet the device gave the guest: what any guest driver may rely on. */
static void check_rx(struct rig *r, uint16_t head, uint32_t len)
{
	struct vsock_hdr h;

	if (head >= QSIZE || !r->rx_addr[head])
		fuzz_fail("RX used head the guest never posted");
	if (!len)
		return; /* a buffer handed back unused (too small) */
	if (len < VSOCK_HDR_LEN || !r->rx_payload[head])
		fuzz_fail("RX packet in a buffer too small for it");
	vsock_hdr_decode(r->ram + r->rx_addr[head], &h);
	if (h.src_cid != VSOCK_HOST_CID || h.dst_cid != CID || h.type != VIRTIO_VSOCK_TYPE_STREAM ||
	    len != VSOCK_HDR_LEN + h.len || h.len > r->rx_payload[head] ||
	    (h.len && h.op != VIRTIO_VSOCK_OP_RW))
		fuzz_fail("RX packet header or used length wrong");
	depth.rx_pkts++;
	switch (h.op) {
	case VIRTIO_VSOCK_OP_REQUEST:
	case VIRTIO_VSOCK_OP_RESPONSE:
		r->last_host_port = h.src_port;
		r->last_guest_port = h.dst_port;
		if (h.op == VIRTIO_VSOCK_OP_REQUEST)
			depth.requests++;
		else
			depth.responses++;
		break;
	case VIRTIO_VSOCK_OP_RW:
		check_credit(r, &h);
		depth.rw_to_guest++;
		depth.bytes_to_guest += h.len;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		depth.shutdowns++;
		break;
	case VIRTIO_VSOCK_OP_RST:
		depth.rsts++;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		depth.credit_updates++;
		break;
	default:
		fuzz_fail("RX packet with an op the device never sends");
	}
}

/* The guest takes its RX packets (and TX completions), and posts as many buffers again. */
static void guest_poll(struct rig *r)
{
	for (int round = 0; round < 4; round++) {
		unsigned taken = 0;
		uint32_t id, len;

		while (used_next(r->ram, &r->vq[RXQ], &id, &len)) {
			uint16_t head = (uint16_t)id;

			check_rx(r, head, len);
			r->rx_addr[head] = 0;
			if (r->rx_posted)
				r->rx_posted--;
			taken++;
		}
		r->vq[TXQ].used_seen = get16(r->ram, qbase[TXQ] + 0x2002);
		if (!taken || !r->auto_rx)
			return;
		while (taken-- && r->rx_posted < RXSLOTS)
			post_rx(r);
		pump(&r->loop, LOOP_ROUNDS);
	}
}

/* Options of a TX command. */
#define TX_FIX_ADDR  1u /* src_cid = guest, dst_cid = host, type = stream */
#define TX_FIX_PORTS 2u /* the ports of the last stream the guest heard of */
#define TX_FIX_LEN   4u /* hdr.len = the payload's length */
#define TX_LAYOUT(o) (((o) >> 4) & 3u)

static void cmd_tx(struct rig *r, struct in *in)
{
	uint8_t opt = take8(in), raw[VSOCK_HDR_LEN] = {0};
	uint64_t a = TXBUF + 0x10000 * (uint64_t)(r->vq[TXQ].avail_idx % TXSLOTS);
	struct seg s[3];
	struct vsock_hdr h;
	const uint8_t *p;
	size_t got, plen;
	unsigned n;

	p = take_bytes(in, VSOCK_HDR_LEN, &got);
	memcpy(raw, p, got);
	plen = take16(in);
	p = take_bytes(in, plen > 0xff00 ? 0xff00 : plen, &plen);
	vsock_hdr_decode(raw, &h);
	if (opt & TX_FIX_ADDR) {
		h.src_cid = CID;
		h.dst_cid = VSOCK_HOST_CID;
		h.type = VIRTIO_VSOCK_TYPE_STREAM;
	}
	if (opt & TX_FIX_PORTS) {
		h.src_port = r->last_guest_port;
		h.dst_port = r->last_host_port;
	}
	if (opt & TX_FIX_LEN)
		h.len = (uint32_t)plen;
	note_credit(r, &h);
	vsock_hdr_encode(&h, r->ram + a);
	memcpy(r->ram + a + 0x100, p, plen);
	switch (TX_LAYOUT(opt)) {
	case 0: /* header, payload: as Linux sends */
		s[0] = (struct seg){a, VSOCK_HDR_LEN, false};
		s[1] = (struct seg){a + 0x100, (uint32_t)plen, false};
		n = plen ? 2 : 1;
		break;
	case 1: /* one segment */
		memmove(r->ram + a + VSOCK_HDR_LEN, p, plen);
		s[0] = (struct seg){a, VSOCK_HDR_LEN + (uint32_t)plen, false};
		n = 1;
		break;
	case 2: /* the header split in two */
		s[0] = (struct seg){a, 20, false};
		s[1] = (struct seg){a + 20, VSOCK_HDR_LEN - 20, false};
		s[2] = (struct seg){a + 0x100, (uint32_t)plen, false};
		n = plen ? 3 : 2;
		break;
	default: /* malformed: a writable segment, or one past the end of RAM */
		s[0] = (struct seg){a, VSOCK_HDR_LEN, false};
		s[1] =
		    (struct seg){plen & 1 ? RAM - 8 : a + 0x100, (uint32_t)plen + 16, !(plen & 1)};
		n = 2;
	}
	post_chain(r->ram, &r->vq[TXQ], s, n, 0);
	wr32(r->t, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	depth.guest_pkts++;
}

static int host_slot(struct rig *r, struct in *in, bool free_one)
{
	unsigned i = take8(in) % HOST_FDS;

	for (unsigned k = 0; k < HOST_FDS; k++, i = (i + 1) % HOST_FDS)
		if ((r->host[i].fd < 0) == free_one)
			return (int)i;
	return -1;
}

static void host_close(struct rig *r, unsigned i)
{
	if (r->host[i].fd >= 0)
		close(r->host[i].fd);
	r->host[i].fd = -1;
	r->host[i].kind = HOST_NONE;
	r->host[i].got = 0;
}

static void cmd_host_connect(struct rig *r, struct in *in)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int i = host_slot(r, in, true), fd;

	if (i < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->uds);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fuzz_fail("cannot connect to the device's listener");
	r->host[i].fd = fd;
	r->host[i].kind = HOST_CLIENT;
}

static void cmd_host_write(struct rig *r, struct in *in)
{
	int i = host_slot(r, in, false);
	size_t len;
	const uint8_t *p = take_bytes(in, take8(in), &len);

	if (i >= 0 && len)
		(void)send(r->host[i].fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void cmd_host_read(struct rig *r, struct in *in)
{
	int i = host_slot(r, in, false);
	char buf[4096];
	ssize_t n;

	if (i < 0)
		return;
	while ((n = recv(r->host[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (r->host[i].kind == HOST_CLIENT && !r->host[i].got) {
			/* Nothing reaches a host client before the guest accepted. */
			if (n < 3 || memcmp(buf, "OK ", 3))
				fuzz_fail("host client got bytes before OK");
			depth.ok_lines++;
		} else {
			depth.bytes_to_host += (size_t)n;
		}
		r->host[i].got += (size_t)n;
	}
}

static void cmd_host_shut(struct rig *r, struct in *in)
{
	int i = host_slot(r, in, false);
	unsigned how = take8(in) % 4;

	if (i < 0)
		return;
	if (how == 3)
		host_close(r, (unsigned)i);
	else
		(void)shutdown(r->host[i].fd, (int)how); /* SHUT_RD, SHUT_WR, SHUT_RDWR */
}

static void cmd_listen(struct rig *r, struct in *in)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	uint32_t port = take32(in);
	unsigned i;
	int fd;

	for (i = 0; i < LISTENERS && r->lsn[i].fd >= 0; i++)
		;
	if (i == LISTENERS)
		return;
	snprintf(r->lsn[i].path, sizeof(r->lsn[i].path), "%s_%u", r->uds, port);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->lsn[i].path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		abort();
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4)) {
		close(fd); /* the same port twice */
		return;
	}
	r->lsn[i].fd = fd;
}

static void cmd_accept(struct rig *r, struct in *in)
{
	unsigned l = take8(in) % LISTENERS;
	int i = host_slot(r, in, true), fd;

	if (i < 0 || r->lsn[l].fd < 0)
		return;
	fd = accept4(r->lsn[l].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	r->host[i].fd = fd;
	r->host[i].kind = HOST_ACCEPTED;
}

static void cmd_post_rx(struct rig *r, struct in *in)
{
	unsigned nr = 1 + take8(in) % 8, size = take8(in);

	/* 0..15: smaller than a header; else 64-byte steps up to the slot's 7.9 KiB */
	r->rx_size = size < 16 ? size : (size % 124) * 64 + 64;
	while (nr-- && r->rx_posted < RXSLOTS)
		post_rx(r);
	r->rx_size = 4096;
}

/* A TRANSPORT_RESET into an event buffer the guest posts (as after a restore). */
static void cmd_event(struct rig *r, struct in *in)
{
	uint8_t len = take8(in);
	struct seg s = {EVBUF, len % 16, !(len & 0x80)};

	post_chain(r->ram, &r->vq[EVQ], &s, 1, 0);
	(void)vsock_transport_reset(r->v);
}

static void cmd_parse_connect(struct rig *r, struct in *in)
{
	size_t len;
	const uint8_t *p = take_bytes(in, take8(in), &len);
	char line[256];
	uint32_t port;

	(void)r;
	memcpy(line, p, len); /* a copy exactly as long: ASan sees any over-read */
	if (!vsock_parse_connect(line, len, &port))
		depth.connect_parsed++;
}

/* A driver reset: the guest's streams go. */
static void cmd_reset(struct rig *r, struct in *in)
{
	(void)in;
	driver_up(r);
}

static void cmd_auto_rx(struct rig *r, struct in *in)
{
	(void)in;
	r->auto_rx = !r->auto_rx;
}

/* The commands, by the input's byte % 12. */
static void (*const commands[12])(struct rig *r, struct in *in) = {
    cmd_tx,	cmd_host_connect, cmd_host_write, cmd_host_read,     cmd_host_shut, cmd_listen,
    cmd_accept, cmd_post_rx,	  cmd_reset,	  cmd_parse_connect, cmd_event,	    cmd_auto_rx};

static void rig_up(struct rig *r)
{
	static uint8_t ram[RAM];
	struct vsock_config cfg = {.guest_cid = CID, .vsock_id = "fuzz"};

	memset(r, 0, sizeof(*r));
	memset(ram, 0, sizeof(ram));
	r->ram = ram;
	r->gm.region[0] = (struct gm_region){.gpa = 0, .size = RAM, .host = ram};
	r->gm.nr_regions = 1;
	for (unsigned i = 0; i < HOST_FDS; i++)
		r->host[i].fd = -1;
	for (unsigned i = 0; i < LISTENERS; i++)
		r->lsn[i].fd = -1;
	if (!fuzz_dir_made) {
		if (!mkdtemp(fuzz_dir))
			abort();
		fuzz_dir_made = true;
		atexit(fuzz_dir_remove);
	}
	snprintf(r->uds, sizeof(r->uds), "%s/v.sock", fuzz_dir);
	snprintf(cfg.uds_path, sizeof(cfg.uds_path), "%s", r->uds);
	if (evloop_init(&r->loop) || vsock_create(&r->v, &cfg, &r->gm, &r->loop))
		abort(); /* the rig, not the input */
	r->t = vsock_transport(r->v);
	r->rx_size = 4096;
	r->auto_rx = true;
	driver_up(r);
}

static void rig_down(struct rig *r)
{
	for (unsigned i = 0; i < HOST_FDS; i++)
		host_close(r, i);
	for (unsigned i = 0; i < LISTENERS; i++)
		if (r->lsn[i].fd >= 0) {
			close(r->lsn[i].fd);
			unlink(r->lsn[i].path);
		}
	vsock_destroy(r->v);
	evloop_destroy(&r->loop);
	unlink(r->uds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	struct rig r;
	uint8_t opt;

	log_set_level(LOG_ERROR);
	rig_up(&r);
	opt = take8(&in);
	r.auto_rx = !(opt & 1);
	depth.inputs++;
	for (unsigned cmds = 0; in.n && cmds < 64; cmds++) {
		commands[take8(&in) % 12](&r, &in);
		pump(&r.loop, LOOP_ROUNDS);
		guest_poll(&r);
	}
	rig_down(&r);
	return 0;
}

/* ---- built-in seeds ------------------------------------------------------------ */

#ifndef EMBER_LIBFUZZER
/* The guest sends @op on the last stream it heard of (or @gport -> @hport if given). */
static void sb_tx(struct sw *b, uint16_t op, uint32_t gport, uint32_t hport, uint32_t flags,
		  uint32_t buf_alloc, uint32_t fwd_cnt, const char *payload)
{
	struct vsock_hdr h = {.src_port = gport,
			      .dst_port = hport,
			      .op = op,
			      .flags = flags,
			      .buf_alloc = buf_alloc,
			      .fwd_cnt = fwd_cnt};
	uint8_t raw[VSOCK_HDR_LEN];
	size_t n = payload ? strlen(payload) : 0;

	vsock_hdr_encode(&h, raw);
	b8(b, 0);
	b8(b, TX_FIX_ADDR | TX_FIX_LEN | (gport || hport ? 0 : TX_FIX_PORTS));
	bbytes(b, raw, sizeof(raw));
	b16(b, (unsigned)n);
	bbytes(b, payload, n);
}

static void sb_host_write(struct sw *b, unsigned slot, const char *s)
{
	b8(b, 2);
	b8(b, slot);
	bstr(b, s);
}

static void sb_host(struct sw *b, unsigned cmd, unsigned slot)
{
	b8(b, cmd);
	b8(b, slot);
}

static int fuzz_report(void)
{
	printf("fuzz_vsock: %zu inputs: %zu guest packets, %zu to the guest (%zu REQUEST, "
	       "%zu RESPONSE, %zu RW with %zu bytes, %zu SHUTDOWN, %zu RST, %zu CREDIT_UPDATE), "
	       "%zu OK lines and %zu bytes to host sockets, %zu CONNECT lines parsed\n",
	       depth.inputs, depth.guest_pkts, depth.rx_pkts, depth.requests, depth.responses,
	       depth.rw_to_guest, depth.bytes_to_guest, depth.shutdowns, depth.rsts,
	       depth.credit_updates, depth.ok_lines, depth.bytes_to_host, depth.connect_parsed);
	return !depth.requests || !depth.responses || !depth.ok_lines || !depth.rw_to_guest ||
	       !depth.bytes_to_host || !depth.shutdowns || !depth.rsts || !depth.credit_updates ||
	       !depth.connect_parsed;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	static const char *lines[] = {"CONNECT 52", "CONNECT 4294967295", "CONNECT 4294967296",
				      "CONNECT  7", "connect 7",	  "CONNECT 0x10"};
	struct sw b = {.len = 0};
	unsigned n = 0;

	if (max < 6)
		abort();
	/* A host CONNECT, the guest accepts, data both ways, half-close, close. */
	b8(&b, 0);
	sb_host(&b, 1, 0);
	sb_host_write(&b, 0, "CONNECT 52\n");
	sb_tx(&b, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, 0, 65536, 0, NULL);
	sb_host(&b, 3, 0);
	sb_host_write(&b, 0, "hello");
	sb_tx(&b, VIRTIO_VSOCK_OP_RW, 0, 0, 0, 65536, 5, "world!");
	sb_host(&b, 3, 0);
	b8(&b, 4), b8(&b, 0), b8(&b, SHUT_WR);
	sb_tx(&b, VIRTIO_VSOCK_OP_SHUTDOWN, 0, 0, 3, 65536, 5, NULL);
	sb_host(&b, 3, 0);
	seed_add(s, &n, "host-connect", &b);

	/* A guest REQUEST to a host listener, data both ways, a credit request, host close. */
	b8(&b, 0);
	b8(&b, 5), bbytes(&b, "\xd2\x04\0\0", 4); /* listen on port 1234 */
	sb_tx(&b, VIRTIO_VSOCK_OP_REQUEST, 5000, 1234, 0, 65536, 0, NULL);
	b8(&b, 6), b8(&b, 0), b8(&b, 0); /* accept */
	sb_tx(&b, VIRTIO_VSOCK_OP_RW, 0, 0, 0, 65536, 0, "ping");
	sb_host(&b, 3, 0);
	sb_host_write(&b, 0, "pong");
	sb_tx(&b, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0, 0, 65536, 4, NULL);
	b8(&b, 4), b8(&b, 0), b8(&b, 3); /* close */
	seed_add(s, &n, "guest-request", &b);

	/* RSTs: no listener, no stream, an unknown op, an RST for nothing. */
	b8(&b, 0);
	sb_tx(&b, VIRTIO_VSOCK_OP_REQUEST, 6000, 99, 0, 65536, 0, NULL);
	sb_tx(&b, VIRTIO_VSOCK_OP_RW, 6001, 98, 0, 65536, 0, "x");
	sb_tx(&b, 99, 6002, 97, 0, 65536, 0, NULL);
	sb_tx(&b, VIRTIO_VSOCK_OP_RST, 6003, 96, 0, 65536, 0, NULL);
	seed_add(s, &n, "rst", &b);

	/* No credit: host bytes wait for the guest's CREDIT_UPDATEs. */
	b8(&b, 0);
	sb_host(&b, 1, 0);
	sb_host_write(&b, 0, "CONNECT 80\nearly");
	sb_tx(&b, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, 0, 0, 0, NULL);
	sb_host(&b, 3, 0);
	sb_host_write(&b, 0, "more");
	/* Credit for 4 of the 9 bytes, then for the rest. */
	sb_tx(&b, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0, 0, 4, 0, NULL);
	sb_tx(&b, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0, 0, 8, 4, NULL);
	sb_tx(&b, VIRTIO_VSOCK_OP_RST, 0, 0, 0, 8, 9, NULL);
	seed_add(s, &n, "credit", &b);

	/* The host's line: garbage, a long line, one in pieces; lines to the parser. */
	b8(&b, 0);
	sb_host(&b, 1, 0);
	sb_host_write(&b, 0, "HELLO 52\n");
	sb_host(&b, 1, 1);
	sb_host_write(&b, 1, "0123456789012345678901234567890123456789");
	sb_host(&b, 1, 2);
	sb_host_write(&b, 2, "CONN");
	sb_host_write(&b, 2, "ECT 7\npayload");
	sb_host(&b, 3, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(lines); i++)
		b8(&b, 9), bstr(&b, lines[i]);
	seed_add(s, &n, "host-lines", &b);

	/* Small RX buffers, a driver reset mid-stream, an event buffer. */
	b8(&b, 1); /* the guest does not repost RX buffers by itself */
	sb_host(&b, 1, 0);
	sb_host_write(&b, 0, "CONNECT 9\n");
	b8(&b, 7), b8(&b, 2), b8(&b, 8);  /* two buffers, smaller than a header */
	b8(&b, 7), b8(&b, 4), b8(&b, 20); /* four of 256 bytes */
	sb_tx(&b, VIRTIO_VSOCK_OP_RESPONSE, 0, 0, 0, 65536, 0, NULL);
	sb_host_write(&b, 0, "0123456789012345678901234567890123456789");
	b8(&b, 8);
	b8(&b, 10), b8(&b, 4);
	seed_add(s, &n, "reset", &b);
	return n;
}
#endif
