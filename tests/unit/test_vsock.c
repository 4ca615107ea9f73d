// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock against real Unix sockets in a temp dir: the test is both
 * the guest's driver (packets built in fake guest memory, the device's
 * evloop handlers run by hand) and the host processes (clients of uds_path,
 * listeners on uds_path_PORT).  Covers the CONNECT/OK protocol including
 * garbage, guest-initiated streams with and without a listener, credit in
 * both directions, shutdown, RST and malformed packets (the stream cap
 * and handshake deadlines: test_vsock_limits.c).
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "unit.h"
#include "vsock_mux.h"
#include "vsock_rig.h"

static void test_config_parse(void **state)
{
	struct vsock_config c;
	char err[160], longp[128];

	(void)state;
	assert_int_equal(vsock_config_parse("cid=3,uds=/tmp/v.sock", &c, err, sizeof(err)), 0);
	assert_int_equal(c.guest_cid, 3);
	assert_string_equal(c.uds_path, "/tmp/v.sock");
	assert_string_equal(c.vsock_id, "vsock");
	assert_int_equal(vsock_config_parse("uds=x,cid=4294967294,id=v1", &c, err, sizeof(err)), 0);
	assert_int_equal(c.guest_cid, 4294967294u);
	assert_string_equal(c.vsock_id, "v1");
	memset(longp, 'a', sizeof(longp));
	snprintf(longp, sizeof(longp), "cid=3,uds=%.100s",
		 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaa");
	static const char *bad[] = {"cid=3",
				    "uds=/x",
				    "cid=2,uds=/x",
				    "cid=0,uds=/x",
				    "cid=-3,uds=/x",
				    "cid=4294967295,uds=/x",
				    "cid=3x,uds=/x",
				    "cid=3,uds=",
				    "cid=3,uds=/x,foo=1",
				    "cid=,uds=/x",
				    ""};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = 0;
		assert_int_equal(vsock_config_parse(bad[i], &c, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != 0);
	}
	assert_int_equal(vsock_config_parse(longp, &c, err, sizeof(err)), -EINVAL);
}

static void test_parse_connect(void **state)
{
	uint32_t port;

	(void)state;
	assert_int_equal(vsock_parse_connect("CONNECT 52", 10, &port), 0);
	assert_int_equal(port, 52);
	assert_int_equal(vsock_parse_connect("CONNECT 4294967295", 18, &port), 0);
	assert_int_equal(port, 4294967295u);
	static const char *bad[] = {"CONNECT",	    "CONNECT ",		  "connect 52",
				    "CONNECT  52",  "CONNECT 52 ",	  "CONNECT -1",
				    "CONNECT 0x10", "CONNECT 4294967296", "CONNEC 52",
				    "LISTEN 52",    "CONNECT 52\r",	  "CONNECT 99999999999"};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(vsock_parse_connect(bad[i], strlen(bad[i]), &port), -EINVAL);
}

static void test_device_config(void **state)
{
	struct rig *r = *state;
	uint64_t cid = 0;
	struct vsock_config cfg = {.guest_cid = CID};
	struct vsock *v2;
	int fd;

	assert_int_equal(rd32(r, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	virtio_mmio_bus_ops.read(r->t, VIRTIO_MMIO_CONFIG, (uint8_t *)&cid, 8);
	assert_int_equal(le64toh(cid), CID);
	/* A stale socket is replaced; a regular file is not ours to remove. */
	snprintf(cfg.uds_path, sizeof(cfg.uds_path), "%s/file", r->dir);
	fd = open(cfg.uds_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(vsock_create(&v2, &cfg, &r->gm, &r->loop), -EEXIST);
	/* A live VM's socket (the rig's own) is not taken from it... */
	snprintf(cfg.uds_path, sizeof(cfg.uds_path), "%s", r->uds);
	assert_int_equal(vsock_create(&v2, &cfg, &r->gm, &r->loop), -EADDRINUSE);
	fd = host_connect(r, 52, 65536, &(uint32_t){0}); /* ...which still serves */
	close(fd);
	/* ...but one its listener left behind is. */
	snprintf(cfg.uds_path, sizeof(cfg.uds_path), "%s/stale", r->dir);
	{
		struct sockaddr_un a = {.sun_family = AF_UNIX};

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", cfg.uds_path);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(fd, 1), 0);
		close(fd);
	}
	assert_int_equal(vsock_create(&v2, &cfg, &r->gm, &r->loop), 0);
	vsock_destroy(v2);
	cfg.guest_cid = 2;
	assert_int_equal(vsock_create(&v2, &cfg, &r->gm, &r->loop), -EINVAL);
}

static void test_host_connect_stream(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	uint8_t buf[64];
	uint32_t hp;
	int fd = host_connect(r, 52, 65536, &hp);

	assert_int_equal(vsock_nr_conns(r->v), 1);
	host_write(fd, "hello", 5);
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_int_equal(h.src_port, hp);
	assert_int_equal(h.dst_port, 52);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "hello", 5);

	send_pkt(r, OP(RW), 52, hp, 0, "world!", 6, 65536, 5);
	assert_int_equal(host_read(r, fd, buf, 6), 6);
	assert_memory_equal(buf, "world!", 6);

	/* Host half-close: the guest hears SHUTDOWN(SEND) and may still send. */
	shutdown(fd, SHUT_WR);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(SHUTDOWN));
	assert_int_equal(h.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	assert_int_equal(h.fwd_cnt, 6);
	send_pkt(r, OP(RW), 52, hp, 0, "late", 4, 65536, 5);
	assert_int_equal(host_read(r, fd, buf, 4), 4);
	assert_memory_equal(buf, "late", 4);

	/* The guest closes: it gets the RST it waits for, the host gets EOF. */
	send_pkt(r, OP(SHUTDOWN), 52, hp, 3, NULL, 0, 65536, 5);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(h.src_port, hp);
	assert_int_equal(h.dst_port, 52);
	expect_eof(r, fd);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	close(fd);
	no_pkt(r);
}

static void test_host_bad_lines(void **state)
{
	struct rig *r = *state;
	static const char *bad[] = {"HELLO 52\n",
				    "CONNECT\n",
				    "CONNECT abc\n",
				    "CONNECT 52 \n",
				    "connect 52\n",
				    "CONNECT 4294967296\n",
				    "CONNECT 52CONNECT 52CONNECT 52CONNECT 52\n"};
	struct vsock_hdr h;
	uint32_t hp;
	int fd;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = host_client(r);
		host_write(fd, bad[i], strlen(bad[i]));
		expect_eof(r, fd);
		close(fd);
		assert_int_equal(vsock_stats(r->v)->host_bad_lines, i + 1);
	}
	/* 40 bytes, no newline at all. */
	fd = host_client(r);
	host_write(fd, "0123456789012345678901234567890123456789", 40);
	expect_eof(r, fd);
	close(fd);
	no_pkt(r);
	assert_int_equal(vsock_nr_conns(r->v), 0);

	/* A slow client: half a line waits without spinning, then completes. */
	fd = host_client(r);
	host_write(fd, "CONN", 4);
	settle(r);
	assert_int_equal(vsock_nr_conns(r->v), 1);
	host_write(fd, "ECT 7\npayload", 13);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(REQUEST));
	assert_int_equal(h.dst_port, 7);
	hp = h.src_port;
	/* Bytes after the line are stream data: not sent before the guest accepts. */
	no_pkt(r);
	send_pkt(r, OP(RESPONSE), 7, hp, 0, NULL, 0, 65536, 0);
	uint8_t buf[32];
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_int_equal(h.len, 7);
	assert_memory_equal(buf, "payload", 7);
	close(fd);
}

static void test_host_connect_refused(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	int fd = host_client(r);

	host_write(fd, "CONNECT 99\n", 11);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(REQUEST));
	send_pkt(r, OP(RST), 99, h.src_port, 0, NULL, 0, 0, 0);
	expect_eof(r, fd);
	close(fd);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	no_pkt(r);

	/* The client gives up before the guest answers: the guest's RESPONSE gets a RST. */
	fd = host_client(r);
	host_write(fd, "CONNECT 98\n", 11);
	get_pkt(r, &h, NULL);
	close(fd);
	settle(r);
	uint32_t hp = h.src_port;
	if (!used_count(r, RXQ)) /* already reset on HUP, or on the response */
		send_pkt(r, OP(RESPONSE), 98, hp, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(h.src_port, hp);
	assert_int_equal(vsock_nr_conns(r->v), 0);
}

static void test_guest_connect(void **state)
{
	struct rig *r = *state;
	int l = host_listen(r, 1234), fd;
	struct vsock_hdr h;
	uint8_t buf[64];

	send_pkt(r, OP(REQUEST), 5000, 1234, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RESPONSE));
	assert_int_equal(h.src_port, 1234);
	assert_int_equal(h.dst_port, 5000);
	fd = accept(l, NULL, NULL);
	assert_true(fd >= 0);
	send_pkt(r, OP(RW), 5000, 1234, 0, "ping", 4, 65536, 0);
	assert_int_equal(host_read(r, fd, buf, 4), 4);
	assert_memory_equal(buf, "ping", 4);
	host_write(fd, "pong!", 5);
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_int_equal(h.len, 5);
	assert_int_equal(h.fwd_cnt, 4);
	assert_memory_equal(buf, "pong!", 5);
	/* A duplicate REQUEST for a live pair resets it. */
	send_pkt(r, OP(REQUEST), 5000, 1234, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	expect_eof(r, fd);
	close(fd);

	/* A guest RST closes the host side and is not answered. */
	send_pkt(r, OP(REQUEST), 5001, 1234, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RESPONSE));
	fd = accept(l, NULL, NULL);
	send_pkt(r, OP(RST), 5001, 1234, 0, NULL, 0, 0, 0);
	expect_eof(r, fd);
	no_pkt(r);
	close(fd);
	close(l);
	assert_int_equal(vsock_nr_conns(r->v), 0);
}

static void test_guest_connect_no_listener(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;

	send_pkt(r, OP(REQUEST), 6000, 4321, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(h.src_port, 4321);
	assert_int_equal(h.dst_port, 6000);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	assert_int_equal(vsock_stats(r->v)->conns_refused, 1);
}

/* The guest's window bounds what we send; with none left the socket is not polled. */
static void test_credit_host_to_guest(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	uint8_t data[300], got[300];
	uint32_t hp, n = 0;
	int fd = host_connect(r, 60, 100, &hp);

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	host_write(fd, data, sizeof(data));
	while (n < 100) {
		get_pkt(r, &h, got + n);
		assert_int_equal(h.op, OP(RW));
		n += h.len;
	}
	assert_int_equal(n, 100);
	no_pkt(r); /* also: settle() fails if EPOLLIN kept firing */
	send_pkt(r, OP(CREDIT_UPDATE), 60, hp, 0, NULL, 0, 100, 100);
	while (n < 200) {
		get_pkt(r, &h, got + n);
		n += h.len;
	}
	assert_int_equal(n, 200);
	no_pkt(r);
	/* A bigger window lets the rest through. */
	send_pkt(r, OP(CREDIT_UPDATE), 60, hp, 0, NULL, 0, 4096, 150);
	while (n < 300) {
		get_pkt(r, &h, got + n);
		n += h.len;
	}
	assert_memory_equal(got, data, sizeof(data));
	close(fd);
}

static void test_credit_guest_to_host(void **state)
{
	struct rig *r = *state;
	static uint8_t chunk[VSOCK_MAX_PAYLOAD], sink[VSOCK_MAX_PAYLOAD];
	struct vsock_hdr h;
	uint64_t sent = 0;
	uint32_t hp;
	int fd = host_connect(r, 61, 65536, &hp), rst_at = -1, sz = 32768;

	send_pkt(r, OP(CREDIT_REQUEST), 61, hp, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(CREDIT_UPDATE));
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	assert_int_equal(h.fwd_cnt, 0);

	/* Half the window forwarded: the guest is told without asking. */
	memset(chunk, 0x5a, sizeof(chunk));
	send_pkt(r, OP(RW), 61, hp, 0, chunk, VSOCK_CONN_BUF / 2, 65536, 0);
	assert_int_equal(host_read(r, fd, sink, VSOCK_CONN_BUF / 2), VSOCK_CONN_BUF / 2);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(CREDIT_UPDATE));
	assert_int_equal(h.fwd_cnt, VSOCK_CONN_BUF / 2);

	/* The host stops reading: a guest that ignores its credit gets reset. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (int i = 0; i < 64 && rst_at < 0; i++) {
		send_pkt(r, OP(RW), 61, hp, 0, chunk, sizeof(chunk), 65536, 0);
		sent += sizeof(chunk);
		while (used_count(r, RXQ)) {
			get_pkt(r, &h, NULL);
			if (h.op == OP(RST))
				rst_at = i;
		}
	}
	assert_true(rst_at >= 0);
	assert_true(sent > VSOCK_CONN_BUF);
	assert_true(vsock_stats(r->v)->tx_bad_pkt >= 1);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	close(fd);
}

/* Whatever the guest sends, ember survives and other streams keep working. */
static void test_malformed(void **state)
{
	struct rig *r = *state;
	const struct vsock_stats *st = vsock_stats(r->v);
	struct vsock_hdr h, base = {.src_cid = CID,
				    .dst_cid = VSOCK_HOST_CID,
				    .src_port = 70,
				    .dst_port = 7000,
				    .type = VIRTIO_VSOCK_TYPE_STREAM,
				    .op = OP(RW),
				    .buf_alloc = 4096};
	uint8_t buf[64];
	uint32_t hp;
	int fd = host_connect(r, 52, 65536, &hp);

	/* Wrong addresses: dropped without an answer. */
	h = base;
	h.src_cid = 4;
	send_hdr(r, &h, NULL, 0);
	h = base;
	h.dst_cid = 3;
	send_hdr(r, &h, NULL, 0);
	h = base;
	h.src_cid = CID | (1ull << 32);
	send_hdr(r, &h, NULL, 0);
	no_pkt(r);
	assert_int_equal(st->tx_bad_addr, 3);

	/* Unknown op / type, oversized, len beyond the chain, data to nobody: RST. */
	static const struct {
		uint16_t op, type;
		uint32_t len;
	} rst_cases[] = {{99, 1, 0},
			 {0, 1, 0},
			 {OP(RW), 2, 0},
			 {OP(RW), 1, VSOCK_MAX_PAYLOAD + 1},
			 {OP(RW), 1, 0xffffffff},
			 {OP(RW), 1, 100},
			 {OP(CREDIT_UPDATE), 1, 0},
			 {OP(SHUTDOWN), 1, 0},
			 {OP(RESPONSE), 1, 0}};
	for (unsigned i = 0; i < ARRAY_SIZE(rst_cases); i++) {
		h = base;
		h.op = rst_cases[i].op;
		h.type = rst_cases[i].type;
		h.len = rst_cases[i].len;
		send_hdr(r, &h, NULL, 0); /* the chain holds the header only */
		get_pkt(r, &h, NULL);
		assert_int_equal(h.op, OP(RST));
		assert_int_equal(h.dst_port, 70);
		assert_int_equal(h.src_port, 7000);
		no_pkt(r);
	}
	/* A RST to nobody is not answered. */
	h = base;
	h.op = OP(RST);
	send_hdr(r, &h, NULL, 0);
	no_pkt(r);

	/* Chains too short for a header, or device-writable: dropped. */
	struct seg shrt[] = {{TXBUF, VSOCK_HDR_LEN - 1, false}};
	struct seg wrt[] = {{TXBUF, VSOCK_HDR_LEN, true}};
	struct seg outside[] = {{RAM - 20, VSOCK_HDR_LEN, false}};
	vsock_hdr_encode(&base, at(r, TXBUF));
	add_chain(r, TXQ, shrt, 1);
	add_chain(r, TXQ, wrt, 1);
	add_chain(r, TXQ, outside, 1);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	settle(r);
	assert_int_equal(used_count(r, TXQ), 3);
	r->used_seen[TXQ] += 3;
	no_pkt(r);
	assert_int_equal(st->tx_malformed, 3 + 1);

	/* A bad packet on a live stream resets that stream only... */
	int l = host_listen(r, 7001), fd2;
	send_pkt(r, OP(REQUEST), 71, 7001, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RESPONSE));
	fd2 = accept(l, NULL, NULL);
	send_pkt(r, 42, 71, 7001, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(h.dst_port, 71);
	expect_eof(r, fd2);
	close(fd2);
	close(l);

	/* ...and the first stream still works. */
	assert_false(rd32(r, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	send_pkt(r, OP(RW), 52, hp, 0, "alive", 5, 65536, 0);
	assert_int_equal(host_read(r, fd, buf, 5), 5);
	assert_memory_equal(buf, "alive", 5);
	host_write(fd, "yes", 3);
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_memory_equal(buf, "yes", 3);
	close(fd);
}

/* The host closes with data still queued: the guest gets it, then SHUTDOWN(both). */
static void test_host_hup(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	uint8_t buf[64];
	uint32_t hp;
	int fd = host_connect(r, 80, 3, &hp);

	host_write(fd, "abcdef", 6);
	close(fd);
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_int_equal(h.len, 3);
	no_pkt(r);
	send_pkt(r, OP(CREDIT_UPDATE), 80, hp, 0, NULL, 0, 3, 3);
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_memory_equal(buf, "def", 3);
	send_pkt(r, OP(CREDIT_UPDATE), 80, hp, 0, NULL, 0, 3, 6);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(SHUTDOWN));
	assert_int_equal(h.flags, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	/* Data to a closed host: RST. */
	send_pkt(r, OP(RW), 80, hp, 0, "x", 1, 3, 6);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(vsock_nr_conns(r->v), 0);
}

/* No RX buffers: control packets wait for the guest's kick, nothing spins. */
static void test_rx_starved(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	uint16_t head;

	/* Use up the posted buffers with resets to nobody. */
	for (unsigned i = 0; i < 8; i++)
		send_pkt(r, OP(RW), 100 + i, 9000, 0, NULL, 0, 0, 0);
	for (unsigned i = 0; i < 8; i++)
		used_pop(r, RXQ, &head);
	send_pkt(r, OP(RW), 200, 9000, 0, NULL, 0, 0, 0);
	send_pkt(r, OP(RW), 201, 9000, 0, NULL, 0, 0, 0);
	no_pkt(r);
	post_rx(r);
	get_pkt(r, &h, NULL); /* posts another */
	assert_int_equal(h.dst_port, 200);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.dst_port, 201);
}

/* A stream killed while epoll still holds an event for it: the event is harmless. */
static void test_stale_event(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h = {.src_cid = CID,
			      .dst_cid = VSOCK_HOST_CID,
			      .src_port = 77,
			      .type = VIRTIO_VSOCK_TYPE_STREAM,
			      .op = OP(RST)};
	uint64_t a = TXBUF;
	struct seg s[] = {{a, VSOCK_HDR_LEN, false}};
	uint32_t hp;
	int fd = host_connect(r, 77, 65536, &hp);

	h.dst_port = hp;
	host_write(fd, "data", 4); /* EPOLLIN ready on the stream's socket */
	vsock_hdr_encode(&h, at(r, a));
	add_chain(r, TXQ, s, 1);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ); /* the RST frees it, same batch */
	settle(r);
	r->used_seen[TXQ]++;
	assert_int_equal(vsock_nr_conns(r->v), 0);
	expect_eof(r, fd);
	close(fd);
	/* Whichever event ran first, the data may have made it; nothing else may. */
	while (used_count(r, RXQ)) {
		get_pkt(r, &h, NULL);
		assert_int_equal(h.op, OP(RW));
	}
	no_pkt(r);
}

static void test_reset_closes_streams(void **state)
{
	struct rig *r = *state;
	uint32_t hp;
	int fd = host_connect(r, 90, 65536, &hp);

	wr(r, VIRTIO_MMIO_STATUS, 0);
	expect_eof(r, fd);
	close(fd);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	driver_up(r);
	fd = host_connect(r, 90, 65536, &hp);
	close(fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_parse),
	    cmocka_unit_test(test_parse_connect),
	    T(test_device_config),
	    T(test_host_connect_stream),
	    T(test_host_bad_lines),
	    T(test_host_connect_refused),
	    T(test_guest_connect),
	    T(test_guest_connect_no_listener),
	    T(test_credit_host_to_guest),
	    T(test_credit_guest_to_host),
	    T(test_malformed),
	    T(test_host_hup),
	    T(test_rx_starved),
	    T(test_stale_event),
	    T(test_reset_closes_streams),
	};
	return cmocka_run_group_tests_name("vsock", tests, NULL, NULL);
}
