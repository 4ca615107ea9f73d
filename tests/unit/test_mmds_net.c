// SPDX-License-Identifier: Apache-2.0
/*
 * The MMDS network stack with crafted guest frames: ARP, which frames are
 * taken and which go to the tap, a V1 GET and V2's token flow over TCP,
 * a response larger than a segment, and the hostile cases: malformed
 * frames, a SYN flood (30 connections, RSTs, eviction), half-open
 * connections (retransmitted SYN-ACK, then reset), an oversized request.
 * After each, the stack still answers.
 */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "mmds_net.h"
#include "mmds_store.h"
#include "mmds_tcp.h"
#include "mmds_wire.h"

#include "mmds_frame.h"

#define GUEST_IP MMDS_FRAME_GUEST_IP
#define MMDS_IP	 MMDS_DEFAULT_IPV4

struct rig {
	struct mmds *store;
	struct mmds_net *s;
	uint64_t now;
	uint8_t out[2048];
	size_t out_len;
	/* the last TCP segment received, parsed */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, mss;
	const uint8_t *data;
	size_t dlen;
};

#define guest_mac mmds_frame_guest_mac

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	json_t *doc =
	    json_loads("{\"latest\":{\"meta-data\":{\"id\":\"i-123\"}},\"n\":1}", 0, NULL);

	assert_int_equal(mmds_create(&r->store, 0), 0);
	assert_int_equal(mmds_put(r->store, doc), 0);
	json_decref(doc);
	assert_int_equal(mmds_net_create(&r->s, r->store, MMDS_IP), 0);
	r->now = 1000;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	mmds_net_destroy(r->s);
	mmds_destroy(r->store);
	free(r);
	return 0;
}

static bool tx(struct rig *r, const uint8_t *f, size_t len)
{
	/* Two segments, split mid-header, as a guest's chain may be. */
	struct iovec iov[2] = {{(void *)f, len / 3}, {(void *)(f + len / 3), len - len / 3}};

	return mmds_net_tx(r->s, iov, 2, r->now);
}

/* A TCP segment from the guest's @port to the MMDS's port 80. */
static bool tx_tcp(struct rig *r, uint16_t port, uint32_t seq, uint32_t ack, uint8_t flags,
		   const char *data, size_t dlen)
{
	uint8_t f[4096];

	assert_true(54 + dlen <= sizeof(f));
	return tx(r, f, mmds_frame_tcp(f, port, seq, ack, flags, data, dlen));
}

/* The next frame to the guest: a checked TCP segment from port 80 (true), or none. */
static bool rx_tcp(struct rig *r)
{
	const uint8_t *ip = r->out + 14, *tcp;
	size_t thl, tot;

	r->out_len = mmds_net_rx(r->s, r->out, sizeof(r->out), r->now);
	if (!r->out_len)
		return false;
	assert_memory_equal(r->out, guest_mac, 6);
	assert_int_equal(wire_get16(r->out + 12), 0x0800);
	assert_int_equal(wire_fold(wire_sum(0, ip, 20)), 0);
	tot = wire_get16(ip + 2);
	assert_int_equal(14 + tot, r->out_len);
	assert_int_equal(wire_get32(ip + 12), MMDS_IP);
	assert_int_equal(wire_get32(ip + 16), GUEST_IP);
	tcp = ip + 20;
	thl = (size_t)(tcp[12] >> 4) * 4;
	/* The checksum over pseudo-header and segment comes out 0. */
	assert_int_equal(
	    wire_fold(wire_sum(wire_sum(0, ip + 12, 8) + 6 + (uint32_t)(tot - 20), tcp, tot - 20)),
	    0);
	assert_int_equal(wire_get16(tcp), 80);
	r->seq = wire_get32(tcp + 4);
	r->ack = wire_get32(tcp + 8);
	r->flags = tcp[13];
	r->win = wire_get16(tcp + 14);
	r->mss = thl == 24 && tcp[20] == 2 ? wire_get16(tcp + 22) : 0;
	r->data = tcp + thl;
	r->dlen = tot - 20 - thl;
	return true;
}

/* A connection from @port through the handshake; our next seq is 1000, theirs in *peer. */
static void connect_(struct rig *r, uint16_t port, uint32_t *peer)
{
	assert_true(tx_tcp(r, port, 999, 0, TCP_SYN, NULL, 0));
	do /* past an evicted connection's RST */
		assert_true(rx_tcp(r));
	while (r->flags == TCP_RST);
	assert_int_equal(r->flags, TCP_SYN | TCP_ACK);
	assert_int_equal(r->ack, 1000);
	assert_int_equal(r->mss, MMDS_TCP_MSS);
	*peer = r->seq + 1;
	assert_true(tx_tcp(r, port, 1000, *peer, TCP_ACK, NULL, 0));
	assert_false(rx_tcp(r));
}

/* One request on a fresh connection; the whole response (all segments, acked) into @resp. */
static void request(struct rig *r, uint16_t port, const char *req, char *resp, size_t size)
{
	uint32_t peer, seq = 1000 + (uint32_t)strlen(req);
	bool closed_first = false; /* the MMDS's FIN came before ours */
	size_t got = 0;

	connect_(r, port, &peer);
	assert_true(tx_tcp(r, port, 1000, peer, TCP_ACK | TCP_PSH, req, strlen(req)));
	while (rx_tcp(r)) {
		assert_true(r->dlen + got < size);
		assert_int_equal(r->seq, peer);
		memcpy(resp + got, r->data, r->dlen);
		got += r->dlen;
		peer += (uint32_t)r->dlen + !!(r->flags & TCP_FIN);
		closed_first |= !!(r->flags & TCP_FIN);
		assert_int_equal(r->ack, seq);
		assert_true(tx_tcp(r, port, seq, peer, TCP_ACK, NULL, 0));
	}
	resp[got] = '\0';
	/* Close our side: the MMDS acks and sends its FIN; our ACK ends it. */
	assert_true(tx_tcp(r, port, seq, peer, TCP_ACK | TCP_FIN, NULL, 0));
	while (rx_tcp(r))
		if (r->flags & TCP_FIN)
			peer = r->seq + 1;
	if (!closed_first)
		assert_true(tx_tcp(r, port, seq + 1, peer, TCP_ACK, NULL, 0));
	assert_false(rx_tcp(r)); /* no RST: the MMDS saw a clean close */
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

static void test_arp(void **state)
{
	struct rig *r = *state;
	uint8_t f[42] = {0};

	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	wire_put16(f + 12, 0x0806);
	wire_put16(f + 14, 1);
	wire_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	wire_put16(f + 20, 1);
	memcpy(f + 22, guest_mac, 6);
	wire_put32(f + 28, GUEST_IP);
	wire_put32(f + 38, 0xac1e0001); /* someone else: the tap's */
	assert_false(tx(r, f, sizeof(f)));
	assert_false(tx(r, f, 30)); /* truncated */
	wire_put32(f + 38, MMDS_IP);
	assert_true(tx(r, f, sizeof(f)));
	r->out_len = mmds_net_rx(r->s, r->out, sizeof(r->out), r->now);
	assert_int_equal(r->out_len, 42);
	assert_memory_equal(r->out, guest_mac, 6);
	assert_int_equal(wire_get16(r->out + 20), 2); /* reply */
	assert_memory_equal(r->out + 22, "\x06\x01\x23\x45\x67\x01", 6);
	assert_int_equal(wire_get32(r->out + 28), MMDS_IP);
	assert_memory_equal(r->out + 32, guest_mac, 6);
	assert_int_equal(wire_get32(r->out + 38), GUEST_IP);
	assert_int_equal(mmds_net_rx(r->s, r->out, sizeof(r->out), r->now), 0);
	wire_put16(f + 20, 2); /* a reply for the MMDS is no request: the tap's */
	assert_false(tx(r, f, sizeof(f)));
}

static void test_which_frames(void **state)
{
	struct rig *r = *state;
	uint8_t f[80] = {0};

	assert_false(tx(r, f, 10)); /* shorter than Ethernet */
	wire_put16(f + 12, 0x86dd); /* IPv6 */
	assert_false(tx(r, f, sizeof(f)));
	wire_put16(f + 12, 0x0800);
	f[14] = 0x45;
	wire_put16(f + 16, 60);
	wire_put32(f + 30, 0x08080808); /* elsewhere */
	assert_false(tx(r, f, sizeof(f)));
	wire_put32(f + 30, MMDS_IP);
	f[14] = 0x44; /* IHL 4: not IPv4 we can read, the tap's */
	assert_false(tx(r, f, sizeof(f)));
	f[14] = 0x45;
	wire_put16(f + 16, 200); /* longer than the frame */
	assert_false(tx(r, f, sizeof(f)));
	wire_put16(f + 16, 60);
	f[23] = 17; /* UDP to the MMDS: taken, dropped */
	assert_true(tx(r, f, sizeof(f)));
	f[23] = 6;
	wire_put16(f + 20, 0x2000); /* a fragment */
	assert_true(tx(r, f, sizeof(f)));
	wire_put16(f + 20, 0);
	f[14 + 20 + 12] = 0xf0; /* TCP data offset past the packet */
	assert_true(tx(r, f, sizeof(f)));
	assert_int_equal(mmds_net_rx(r->s, r->out, sizeof(r->out), r->now), 0);
	assert_int_equal(mmds_net_stats(r->s)->dropped_non_tcp, 2);
	assert_int_equal(mmds_tcp_stats(mmds_net_tcp(r->s))->bad_segs, 1);
}

static void test_v1_get(void **state)
{
	struct rig *r = *state;
	char resp[8192];

	request(r, 40000, "GET /latest/meta-data/id HTTP/1.1\r\nHost: x\r\n\r\n", resp,
		sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(strstr(resp, "Content-Type: text/plain\r\n"));
	assert_string_equal(body_of(resp), "i-123");
	request(r, 40001, "GET /latest HTTP/1.1\r\nAccept: application/json\r\n\r\n", resp,
		sizeof(resp));
	assert_string_equal(body_of(resp), "{\"meta-data\":{\"id\":\"i-123\"}}");
	request(r, 40002, "GET http://169.254.169.254//latest/ HTTP/1.0\r\n\r\n", resp,
		sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.0 200", 12), 0);
	assert_string_equal(body_of(resp), "meta-data/");
	request(r, 40003, "GET /nope HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 404", 12), 0);
	assert_string_equal(body_of(resp), "Resource not found: /nope.");
	request(r, 40004, "GET /n HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 501", 12), 0);
	request(r, 40005, "POST / HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 405", 12), 0);
	assert_non_null(strstr(resp, "Allow: GET, PUT\r\n"));
	request(r, 40006, "GARBAGE\r\n\r\n", resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 400", 12), 0);
	assert_int_equal(mmds_tcp_conns(mmds_net_tcp(r->s)), 0); /* all closed */
}

/* A response of several segments: all of it arrives, in order. */
static void test_big_response(void **state)
{
	struct rig *r = *state;
	static char resp[40000], big[20001];
	json_t *doc;

	memset(big, 'x', sizeof(big) - 1);
	doc = json_pack("{s:s}", "big", big);
	assert_int_equal(mmds_put(r->store, doc), 0);
	json_decref(doc);
	request(r, 40100, "GET /big HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_string_equal(body_of(resp), big);
}

static char *token_of(char *resp)
{
	assert_int_equal(strncmp(resp, "HTTP/1.1 200", 12), 0);
	assert_non_null(strstr(resp, "X-metadata-token-ttl-seconds: 60\r\n"));
	return (char *)body_of(resp);
}

static void test_v2_tokens(void **state)
{
	struct rig *r = *state;
	struct mmds_config c = {.version = MMDS_V2, .ipv4 = MMDS_IP};
	char resp[4096], req[512], tok[64];

	mmds_set_config(r->store, &c);
	request(r, 41000, "GET /latest/meta-data/id HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 401", 12), 0);
	assert_non_null(strstr(body_of(resp), "No MMDS token provided."));
	request(r, 41001, "GET /latest/meta-data/id HTTP/1.1\r\nX-metadata-token: bogus\r\n\r\n",
		resp, sizeof(resp));
	assert_string_equal(body_of(resp), "MMDS token not valid.");
	request(r, 41002, "PUT /latest/api/token HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 400", 12), 0);
	assert_non_null(strstr(body_of(resp), "Token time to live value not found."));
	request(r, 41003,
		"PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 0\r\n\r\n", resp,
		sizeof(resp));
	assert_non_null(strstr(body_of(resp), "between 1 and 21600"));
	request(r, 41004,
		"PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 60\r\n"
		"X-Forwarded-For: 1.2.3.4\r\n\r\n",
		resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 400", 12), 0);
	request(r, 41005,
		"PUT /latest/api/token HTTP/1.1\r\nX-metadata-token-ttl-seconds: 60\r\n\r\n", resp,
		sizeof(resp));
	snprintf(tok, sizeof(tok), "%s", token_of(resp));
	snprintf(req, sizeof(req),
		 "GET /latest/meta-data/id HTTP/1.1\r\nX-metadata-token: %s\r\n\r\n", tok);
	request(r, 41006, req, resp, sizeof(resp));
	assert_string_equal(body_of(resp), "i-123");
	r->now += 60 * 1000; /* expired */
	request(r, 41007, req, resp, sizeof(resp));
	assert_int_equal(strncmp(resp, "HTTP/1.1 401", 12), 0);
}

/* 40 SYNs: 30 connections, 10 RSTs; past the idle time a SYN evicts one. */
static void test_syn_flood(void **state)
{
	struct rig *r = *state;
	unsigned synacks = 0, rsts = 0;

	for (uint16_t p = 0; p < 40; p++)
		assert_true(tx_tcp(r, (uint16_t)(50000 + p), 7, 0, TCP_SYN, NULL, 0));
	while (rx_tcp(r)) {
		synacks += r->flags == (TCP_SYN | TCP_ACK);
		rsts += !!(r->flags & TCP_RST);
	}
	assert_int_equal(synacks, MMDS_TCP_MAX_CONNS);
	assert_int_equal(rsts, 10);
	assert_int_equal(mmds_tcp_conns(mmds_net_tcp(r->s)), MMDS_TCP_MAX_CONNS);
	/* Idle past the eviction time: a new SYN takes the oldest one's place. */
	r->now += MMDS_TCP_EVICT_MS + 1;
	assert_true(tx_tcp(r, 40200, 999, 0, TCP_SYN, NULL, 0));
	synacks = rsts = 0;
	while (rx_tcp(r)) {
		synacks += r->flags == (TCP_SYN | TCP_ACK) && r->ack == 1000;
		rsts += r->flags == TCP_RST;
	}
	assert_int_equal(synacks, 1);
	assert_int_equal(rsts, 1);
	assert_int_equal(mmds_tcp_stats(mmds_net_tcp(r->s))->conns_evicted, 1);
	assert_int_equal(mmds_tcp_conns(mmds_net_tcp(r->s)), MMDS_TCP_MAX_CONNS);
}

/* A SYN never acked: the SYN-ACK is retransmitted 15 times, then the connection is reset. */
static void test_half_open(void **state)
{
	struct rig *r = *state;
	unsigned synacks = 0;

	assert_true(tx_tcp(r, 42000, 7, 0, TCP_SYN, NULL, 0));
	for (int i = 0; i < 40 && mmds_tcp_conns(mmds_net_tcp(r->s)); i++) {
		while (rx_tcp(r))
			synacks += r->flags == (TCP_SYN | TCP_ACK);
		r->now += MMDS_TCP_RTO_MS;
	}
	assert_int_equal(synacks, 1 + MMDS_TCP_RTO_MAX);
	assert_int_equal(mmds_tcp_conns(mmds_net_tcp(r->s)), 0);
}

/* A request that never ends: reset at MMDS_HTTP_REQ_MAX bytes. */
static void test_oversized(void **state)
{
	struct rig *r = *state;
	char junk[1400], resp[4096];
	uint32_t peer, seq = 1000;
	bool reset = false;

	memset(junk, 'a', sizeof(junk));
	connect_(r, 43000, &peer);
	for (int i = 0; i < 3 && !reset; i++) {
		tx_tcp(r, 43000, seq, peer, TCP_ACK, junk, sizeof(junk));
		seq += sizeof(junk);
		while (rx_tcp(r))
			reset |= !!(r->flags & TCP_RST);
	}
	assert_true(reset);
	assert_int_equal(mmds_tcp_conns(mmds_net_tcp(r->s)), 0);
	assert_int_equal(mmds_tcp_stats(mmds_net_tcp(r->s))->oversized, 1);
	/* A segment for the gone connection gets a RST; the stack still serves. */
	assert_true(tx_tcp(r, 43000, seq, peer, TCP_ACK, NULL, 0));
	assert_true(rx_tcp(r));
	assert_true(r->flags & TCP_RST);
	request(r, 43001, "GET /latest/meta-data/id HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_string_equal(body_of(resp), "i-123");
}

/* A lost segment: the guest's duplicate ACK brings it again. */
static void test_retransmit(void **state)
{
	struct rig *r = *state;
	uint32_t peer;
	const char *req = "GET /latest/meta-data/id HTTP/1.1\r\n\r\n";
	size_t n = strlen(req);

	connect_(r, 44000, &peer);
	assert_true(tx_tcp(r, 44000, 1000, peer, TCP_ACK | TCP_PSH, req, n));
	assert_true(rx_tcp(r)); /* "lost" */
	assert_int_equal(r->seq, peer);
	assert_true(r->dlen > 0);
	assert_false(rx_tcp(r));
	assert_true(tx_tcp(r, 44000, 1000 + (uint32_t)n, peer, TCP_ACK, NULL, 0)); /* dup ACK */
	assert_true(rx_tcp(r));
	assert_int_equal(r->seq, peer);
	assert_true(r->dlen > 0);
}

static uint64_t metric(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	assert_true(json_is_integer(v));
	return (uint64_t)json_integer_value(v);
}

/*
 * Firecracker's "mmds" metrics group: its names, V1 GETs counted by token
 * (none / not valid) though both are answered, connections, frames both
 * ways, a runt frame as rx_bad_eth; two NICs' stacks are summed.
 */
static void test_metrics(void **state)
{
	struct rig *r = *state;
	const struct mmds_net *two[2] = {r->s, r->s}; /* two[0]: one NIC */
	const struct mmds_net_stats *st = mmds_net_stats(r->s);
	uint8_t runt[10] = {0};
	char resp[4096];
	json_t *o;

	request(r, 42000, "GET /latest/meta-data/id HTTP/1.1\r\n\r\n", resp, sizeof(resp));
	assert_string_equal(body_of(resp), "i-123");
	request(r, 42001, "GET /latest/meta-data/id HTTP/1.1\r\nX-metadata-token: bogus\r\n\r\n",
		resp, sizeof(resp));
	assert_string_equal(body_of(resp), "i-123");
	assert_false(tx(r, runt, sizeof(runt)));
	o = mmds_net_metrics(r->store, two, 1);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 13);
	assert_int_equal(metric(o, "rx_no_token"), 1);
	assert_int_equal(metric(o, "rx_invalid_token"), 1);
	assert_int_equal(metric(o, "rx_bad_eth"), 1);
	assert_int_equal(metric(o, "rx_accepted"), st->frames_in);
	assert_true(st->frames_in >= 10); /* two handshakes, requests, acks, closes */
	assert_int_equal(metric(o, "rx_count"), st->frames_in);
	assert_int_equal(metric(o, "rx_accepted_err"), 0);
	assert_int_equal(metric(o, "rx_accepted_unusual"), 0);
	assert_int_equal(metric(o, "connections_created"), 2);
	assert_int_equal(metric(o, "connections_destroyed"), 2);
	assert_int_equal(metric(o, "tx_frames"), st->frames_out);
	assert_int_equal(metric(o, "tx_count"), st->frames_out);
	assert_true(metric(o, "tx_bytes") >= st->frames_out * 54);
	assert_int_equal(metric(o, "tx_errors"), 0);
	json_decref(o);
	o = mmds_net_metrics(r->store, two, 2);
	assert_int_equal(metric(o, "rx_accepted"), 2 * st->frames_in);
	assert_int_equal(metric(o, "connections_created"), 4);
	assert_int_equal(metric(o, "rx_no_token"), 1); /* one store */
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_arp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_which_frames, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_half_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retransmit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	};
	return cmocka_run_group_tests_name("mmds_net", tests, NULL, NULL);
}
