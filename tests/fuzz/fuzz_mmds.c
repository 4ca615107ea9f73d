// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the MMDS network stack: guest frames (Ethernet up, as
 * virtio-net hands them over) into mmds_net_tx, the stack's replies pulled
 * with mmds_net_rx after each.  Input: records of [ctl u8][len u16 LE][frame].
 * ctl bit 0 rewrites the frame's TCP acknowledgment number as "what the
 * stack sent last, plus the low byte of the one given", so inputs can
 * follow a handshake past the stack's random initial sequence number; bit 1
 * moves time on 400 ms (retransmissions), bit 2 by 11 s (eviction).
 *
 * Checks beyond no crash: every reply fits MMDS_NET_OUT_MAX with a valid
 * IPv4 header checksum and TCP checksum, comes from the MMDS address, and
 * the stack never holds more than 30 connections nor sends without end.
 *
 *   build/fuzz_mmds          # the built-in seeds, then 2000 mutations of each
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmds_net.h"
#include "mmds_store.h"
#include "mmds_tcp.h"
#include "mmds_wire.h"

#include "../unit/mmds_frame.h"

#define FUZZ_DICT	"\r\n: /0123456789GETPUT\x02\x10\x11\x18\xa9\xfe"
#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

static uint32_t last_end; /* seq after the last segment the stack sent */
static unsigned answered; /* responses with a 200: the seeds reach the HTTP layer */

static void check_reply(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t tot;

	if (len > MMDS_NET_OUT_MAX || len < 14)
		abort();
	if (wire_get16(f + 12) == 0x0806)
		return;
	tot = wire_get16(ip + 2);
	if (14 + tot != len || wire_fold(wire_sum(0, ip, 20)) != 0 ||
	    wire_get32(ip + 12) != MMDS_DEFAULT_IPV4)
		abort();
	if (wire_fold(wire_sum(wire_sum(0, ip + 12, 8) + 6 + (uint32_t)(tot - 20), ip + 20,
			       tot - 20)) != 0)
		abort();
	{
		const uint8_t *tcp = ip + 20;
		size_t dlen = tot - 20 - (size_t)(tcp[12] >> 4) * 4;

		last_end = wire_get32(tcp + 4) + (uint32_t)dlen + !!(tcp[13] & TCP_SYN) +
			   !!(tcp[13] & TCP_FIN);
		answered += dlen >= 12 && !memcmp(tcp + (tcp[12] >> 4) * 4 + 8, " 200", 4);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[MMDS_NET_FRAME_MAX + 64], out[2048];
	struct mmds_config c = {.set = true, .version = MMDS_V1, .ipv4 = MMDS_DEFAULT_IPV4};
	json_t *doc = json_pack("{s:{s:s}, s:i}", "latest", "id", "i-1", "n", 1);
	struct mmds *m;
	struct mmds_net *s;
	uint64_t now = 1000;
	size_t off = 0;

	if (mmds_create(&m, 0))
		abort();
	mmds_put(m, doc);
	json_decref(doc);
	if (size && (data[0] & 0x80))
		c.version = MMDS_V2;
	mmds_set_config(m, &c);
	if (mmds_net_create(&s, m, MMDS_DEFAULT_IPV4))
		abort();
	last_end = 0;
	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8, sent = 0;
		struct iovec iov[2];

		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > sizeof(frame))
			len = sizeof(frame);
		memcpy(frame, data + off, len);
		off += len;
		if ((ctl & 1) && len >= 14 + 20 + 20)
			wire_put32(frame + 14 + 20 + 8, last_end + frame[14 + 20 + 11]);
		now += (ctl & 2) ? 400 : 1;
		now += (ctl & 4) ? 11000 : 0;
		/* Split where the input says: the stack must read across segments. */
		iov[0] = (struct iovec){frame, len ? ctl % len : 0};
		iov[1] = (struct iovec){frame + iov[0].iov_len, len - iov[0].iov_len};
		mmds_net_tx(s, iov, 2, now);
		for (size_t n; (n = mmds_net_rx(s, out, sizeof(out), now)); sent++) {
			check_reply(out, n);
			if (sent > 10000) /* a response is bounded; this is a loop */
				abort();
		}
		if (mmds_tcp_conns(mmds_net_tcp(s)) > MMDS_TCP_MAX_CONNS)
			abort();
	}
	mmds_net_destroy(s);
	mmds_destroy(m);
	return 0;
}

static int fuzz_report(void)
{
	printf("fuzz_mmds: %u responses with status 200\n", answered);
	return answered ? 0 : 1;
}

/* A TCP frame from the guest's @port as a record with @ctl (ack_delta: see ctl bit 0). */
static size_t seed_tcp(uint8_t *p, uint8_t ctl, uint16_t port, uint32_t seq, uint8_t ack_delta,
		       uint8_t flags, const char *data)
{
	size_t len = mmds_frame_tcp(p + 3, port, seq, ack_delta, flags, data,
				    data ? strlen(data) : 0);

	p[0] = ctl;
	p[1] = (uint8_t)len;
	p[2] = (uint8_t)(len >> 8);
	return 3 + len;
}

/* SYN, ACK, a request (and a FIN) on one connection. */
static size_t seed_get(uint8_t *buf, uint8_t v2, const char *req)
{
	size_t n = 0, rl = strlen(req);

	n += seed_tcp(buf + n, v2, 40000, 100, 0, TCP_SYN, NULL);
	n += seed_tcp(buf + n, 1, 40000, 101, 0, TCP_ACK, NULL);
	n += seed_tcp(buf + n, 1, 40000, 101, 0, TCP_ACK | TCP_PSH, req);
	n += seed_tcp(buf + n, 1, 40000, 101 + (uint32_t)rl, 0, TCP_ACK | TCP_FIN, NULL);
	return n;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	static uint8_t buf[8192];
	static const uint8_t arp[] = {
	    0,	  42,	0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 6,	0,    0xac, 0x1e,
	    0,	  2,	8,    6,    0,	  1,	8,    0,    6,	  4,	0,    1,    6,
	    0,	  0xac, 0x1e, 0,    2,	  0xac, 0x1e, 0,    2,	  0,	0,    0,    0,
	    0,	  0,	0xa9, 0xfe, 0xa9, 0xfe};
	unsigned n = 0;
	size_t len;

	if (max < 6)
		return 0;
	fuzz_seed_add(s, &n, "arp", arp, sizeof(arp));
	len = seed_get(buf, 0, "GET /latest/id HTTP/1.1\r\nAccept: application/json\r\n\r\n");
	fuzz_seed_add(s, &n, "get-v1", buf, len);
	len = seed_get(buf, 0x80, "PUT /latest/api/token HTTP/1.1\r\n"
				  "X-metadata-token-ttl-seconds: 60\r\n\r\n");
	fuzz_seed_add(s, &n, "token-v2", buf, len);
	len = seed_get(buf, 0x80, "GET / HTTP/1.0\r\nX-metadata-token: AAAA\r\n\r\n");
	fuzz_seed_add(s, &n, "get-v2-bad-token", buf, len);
	len = 0;
	for (uint16_t p = 0; p < 40; p++)
		len += seed_tcp(buf + len, 0, (uint16_t)(50000 + p), 7, 0, TCP_SYN, NULL);
	len += seed_tcp(buf + len, 6, 41000, 7, 0, TCP_SYN, NULL);
	fuzz_seed_add(s, &n, "syn-flood", buf, len);
	len = seed_get(buf, 2, "GET /latest/id HTTP/1.1\r\n\r\n");
	len += seed_tcp(buf + len, 3, 40000, 101, 0, TCP_ACK, NULL); /* a duplicate ACK */
	fuzz_seed_add(s, &n, "retransmit", buf, len);
	return n;
}
