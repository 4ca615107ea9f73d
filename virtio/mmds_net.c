// SPDX-License-Identifier: Apache-2.0
/*
 * Ethernet, ARP and IPv4 for the MMDS (mmds_net.h); TCP is mmds_tcp.c.
 *
 * Which frames are ours follows Firecracker's is_mmds_frame/detour_frame:
 * an ARP request whose target is the MMDS address, or a well-formed IPv4
 * packet to it.  A malformed ARP or IPv4 header is not ours and goes to the
 * tap like any other frame.  IPv4 to the MMDS that is not TCP, or a
 * fragment, or longer than MMDS_NET_FRAME_MAX, is taken and dropped.  As in
 * Firecracker, checksums of incoming packets are not checked (the guest may
 * offload them to a device that never computes them); ours are complete.
 * The peer's MAC is learned from what it sends.
 */
#include <stdlib.h>
#include <string.h>

#include "mmds_net.h"
#include "mmds_store.h"
#include "mmds_tcp.h"
#include "mmds_wire.h"

#define ETH_HLEN      14
#define ETHERTYPE_IP  0x0800
#define ETHERTYPE_ARP 0x0806
#define ARP_LEN	      28
#define IP_HLEN	      20
#define IPPROTO_TCP_  6

static const uint8_t mmds_mac[6] = {0x06, 0x01, 0x23, 0x45, 0x67, 0x01};

struct mmds_net {
	uint32_t ipv4;
	uint8_t peer_mac[6];
	bool arp_pending; /* one ARP reply owed, as dumbo keeps one */
	uint32_t arp_tpa; /* to whom */
	uint8_t arp_tha[6];
	uint16_t ip_id;
	struct mmds_tcp *tcp;
	struct mmds_net_stats st;
	uint8_t frame[MMDS_NET_FRAME_MAX]; /* the guest's frame, copied once */
};

int mmds_net_create(struct mmds_net **out, struct mmds *store, uint32_t ipv4)
{
	struct mmds_net *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || mmds_tcp_create(&s->tcp, store)) {
		free(s);
		return -ENOMEM;
	}
	s->ipv4 = ipv4;
	*out = s;
	return 0;
}

void mmds_net_destroy(struct mmds_net *s)
{
	if (!s)
		return;
	mmds_tcp_destroy(s->tcp);
	free(s);
}

uint32_t mmds_net_ipv4(const struct mmds_net *s)
{
	return s->ipv4;
}

const struct mmds_net_stats *mmds_net_stats(const struct mmds_net *s)
{
	return &s->st;
}

const struct mmds_tcp *mmds_net_tcp(const struct mmds_net *s)
{
	return s->tcp;
}

/* Copies up to @max bytes of the frame into s->frame; how many. */
static size_t net_copy(struct mmds_net *s, const struct iovec *iov, unsigned n, size_t max)
{
	size_t got = 0;

	for (unsigned i = 0; i < n && got < max; i++) {
		size_t k = iov[i].iov_len < max - got ? iov[i].iov_len : max - got;

		memcpy(s->frame + got, iov[i].iov_base, k);
		got += k;
	}
	return got;
}

/* An Ethernet/IPv4 ARP request for our address: we owe a reply. */
static bool net_arp(struct mmds_net *s, const uint8_t *a)
{
	if (wire_get16(a) != 1 || wire_get16(a + 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4 ||
	    wire_get16(a + 6) != 1 || wire_get32(a + 24) != s->ipv4)
		return false;
	memcpy(s->arp_tha, a + 8, 6);
	memcpy(s->peer_mac, a + 8, 6);
	s->arp_tpa = wire_get32(a + 14);
	s->arp_pending = true;
	s->st.arp_requests++;
	return true;
}

bool mmds_net_tx(struct mmds_net *s, const struct iovec *iov, unsigned n, uint64_t now_ms)
{
	size_t got = net_copy(s, iov, n, ETH_HLEN + IP_HLEN), ihl, tot, total = 0;
	const uint8_t *ip = s->frame + ETH_HLEN;
	uint16_t type;

	if (got < ETH_HLEN) {
		s->st.bad_eth++;
		return false;
	}
	type = wire_get16(s->frame + 12);
	if (type == ETHERTYPE_ARP) {
		got = net_copy(s, iov, n, ETH_HLEN + ARP_LEN);
		if (got < ETH_HLEN + ARP_LEN || !net_arp(s, s->frame + ETH_HLEN))
			return false;
		s->st.frames_in++;
		return true;
	}
	if (type != ETHERTYPE_IP || got < ETH_HLEN + IP_HLEN || wire_get32(ip + 16) != s->ipv4)
		return false;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = wire_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || tot < ihl || ETH_HLEN + tot > total)
		return false; /* not an IPv4 packet we can read: the tap's business */
	s->st.frames_in++;
	if (ETH_HLEN + tot > MMDS_NET_FRAME_MAX) {
		s->st.dropped_too_long++;
		return true;
	}
	/* More fragments, or an offset: the MMDS takes whole packets only. */
	if (ip[9] != IPPROTO_TCP_ || (wire_get16(ip + 6) & 0x3fff)) {
		s->st.dropped_non_tcp++;
		return true;
	}
	if (net_copy(s, iov, n, ETH_HLEN + tot) != ETH_HLEN + tot) {
		s->st.dropped_malformed++;
		return true;
	}
	memcpy(s->peer_mac, s->frame + 6, 6);
	mmds_tcp_input(s->tcp, wire_get32(ip + 12), ip + ihl, tot - ihl, now_ms);
	return true;
}

static size_t net_eth(const struct mmds_net *s, uint8_t *buf, const uint8_t *dst, uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, mmds_mac, 6);
	wire_put16(buf + 12, type);
	(void)s;
	return ETH_HLEN;
}

static size_t net_arp_reply(struct mmds_net *s, uint8_t *buf)
{
	uint8_t *a = buf + net_eth(s, buf, s->arp_tha, ETHERTYPE_ARP);

	wire_put16(a, 1);
	wire_put16(a + 2, ETHERTYPE_IP);
	a[4] = 6;
	a[5] = 4;
	wire_put16(a + 6, 2); /* reply */
	memcpy(a + 8, mmds_mac, 6);
	wire_put32(a + 14, s->ipv4);
	memcpy(a + 18, s->arp_tha, 6);
	wire_put32(a + 24, s->arp_tpa);
	s->arp_pending = false;
	return ETH_HLEN + ARP_LEN;
}

/* Ethernet, IPv4 and TCP headers around a segment of the listener. */
static size_t net_tcp_frame(struct mmds_net *s, const struct mmds_seg *g, uint8_t *buf)
{
	uint8_t *ip = buf + net_eth(s, buf, s->peer_mac, ETHERTYPE_IP), *tcp = ip + IP_HLEN;
	size_t thl = g->mss ? 24 : 20, tot = IP_HLEN + thl + g->len;
	uint32_t sum;

	memset(ip, 0, IP_HLEN + thl);
	ip[0] = 0x45;
	wire_put16(ip + 2, (uint16_t)tot);
	wire_put16(ip + 4, s->ip_id++);
	wire_put16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP_;
	wire_put32(ip + 12, s->ipv4);
	wire_put32(ip + 16, g->rip);
	wire_put16(ip + 10, wire_fold(wire_sum(0, ip, IP_HLEN)));
	wire_put16(tcp, g->lport);
	wire_put16(tcp + 2, g->rport);
	wire_put32(tcp + 4, g->seq);
	wire_put32(tcp + 8, g->ack);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = g->flags;
	wire_put16(tcp + 14, g->win);
	if (g->mss) {
		tcp[20] = 2;
		tcp[21] = 4;
		wire_put16(tcp + 22, g->mss);
	}
	if (g->len)
		memcpy(tcp + thl, g->data, g->len);
	/* The pseudo-header: addresses, protocol, TCP length. */
	sum = wire_sum(0, ip + 12, 8) + IPPROTO_TCP_ + (uint32_t)(thl + g->len);
	wire_put16(tcp + 16, wire_fold(wire_sum(sum, tcp, thl + g->len)));
	return ETH_HLEN + tot;
}

size_t mmds_net_rx(struct mmds_net *s, uint8_t *buf, size_t size, uint64_t now_ms)
{
	struct mmds_seg g;
	size_t len = 0;

	if (size < MMDS_NET_OUT_MAX)
		return 0;
	if (s->arp_pending)
		len = net_arp_reply(s, buf);
	else if (mmds_tcp_output(s->tcp, now_ms, &g))
		len = net_tcp_frame(s, &g, buf);
	if (len) {
		s->st.frames_out++;
		s->st.bytes_out += len;
	}
	return len;
}

json_t *mmds_net_metrics(struct mmds *store, const struct mmds_net *const *nets, unsigned n)
{
	uint64_t in = 0, out = 0, bytes = 0, bad_eth = 0, err = 0, unusual = 0, segs = 0;
	uint64_t opened = 0, ended = 0, no_token = 0, bad_token = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct mmds_net_stats *s = &nets[i]->st;
		const struct mmds_tcp_stats *t = mmds_tcp_stats(nets[i]->tcp);

		in += s->frames_in;
		out += s->frames_out;
		bytes += s->bytes_out;
		bad_eth += s->bad_eth;
		/* Taken but not handled: Firecracker's failed receive_packet. */
		err += s->dropped_too_long + s->dropped_malformed + t->bad_segs;
		/* Firecracker's "unusual": non-TCP IPv4 sent to the MMDS. */
		unusual += s->dropped_non_tcp;
		segs += t->segs_in - t->bad_segs;
		opened += t->conns_opened;
		/* Every way a connection ends: closed, evicted for a new one, reset. */
		ended += t->conns_closed + t->conns_evicted + t->conns_reset;
	}
	if (store)
		mmds_token_counts(store, &no_token, &bad_token);
	/* Every frame ember builds fits the buffer checked first: no tx_errors. */
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "rx_accepted", (json_int_t)in, "rx_accepted_err", (json_int_t)err,
			 "rx_accepted_unusual", (json_int_t)unusual, "rx_bad_eth",
			 (json_int_t)bad_eth, "rx_invalid_token", (json_int_t)bad_token,
			 "rx_no_token", (json_int_t)no_token, "rx_count", (json_int_t)segs,
			 "tx_bytes", (json_int_t)bytes, "tx_count", (json_int_t)out, "tx_errors",
			 (json_int_t)0, "tx_frames", (json_int_t)out, "connections_created",
			 (json_int_t)opened, "connections_destroyed", (json_int_t)ended);
}
