/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds_tcp.h - the MMDS's TCP listener on port 80, with the features and
 * bounds of Firecracker's dumbo: passive open only, the MSS option and no
 * other, in-order data only, retransmission on the first duplicate ACK or
 * after an RTO (300 ms, 15 times), at most 30 connections (a new SYN
 * evicts one idle for 10 s, or is reset), at most 100 RSTs queued, a
 * request of at most MMDS_HTTP_REQ_MAX bytes (more resets the connection).
 * Nothing here allocates per segment; a connection's response buffer is
 * the only thing that grows, with the store's size limit as its bound.
 *
 * Segments go out by pull: the device asks for the next one when the
 * guest has a buffer for it, so nothing is ever queued for a full ring.
 */
#ifndef EMBER_MMDS_TCP_H
#define EMBER_MMDS_TCP_H

#include "ember.h"

#define MMDS_TCP_PORT	   80
#define MMDS_TCP_MAX_CONNS 30
#define MMDS_TCP_MAX_RSTS  100
#define MMDS_TCP_MSS	   1460 /* what fits a 1500-byte MTU; a peer's larger MSS is capped */
#define MMDS_TCP_RTO_MS	   300
#define MMDS_TCP_RTO_MAX   15
#define MMDS_TCP_EVICT_MS  10000

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct mmds;
struct mmds_tcp;

/* A segment to send: the caller adds the IPv4 and Ethernet headers. */
struct mmds_seg {
	uint32_t rip;	/* the guest's address (host order) */
	uint16_t rport; /* the guest's port */
	uint16_t lport; /* ours */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;	     /* non-zero: an MSS option (SYN-ACK) */
	const uint8_t *data; /* valid until the next call into the listener */
	size_t len;
};

struct mmds_tcp_stats {
	uint64_t segs_in, segs_out, bad_segs;
	uint64_t conns_opened, conns_refused, conns_evicted, conns_reset, conns_closed;
	uint64_t oversized, rsts_dropped, retransmits;
};

int mmds_tcp_create(struct mmds_tcp **out, struct mmds *store);
void mmds_tcp_destroy(struct mmds_tcp *t);
/* A TCP segment (header and data, checksum not checked) from @rip to our @lip. */
void mmds_tcp_input(struct mmds_tcp *t, uint32_t rip, const uint8_t *seg, size_t len,
		    uint64_t now_ms);
/* The next segment to send, if any. */
bool mmds_tcp_output(struct mmds_tcp *t, uint64_t now_ms, struct mmds_seg *o);
/* Open connections (tests). */
unsigned mmds_tcp_conns(const struct mmds_tcp *t);
const struct mmds_tcp_stats *mmds_tcp_stats(const struct mmds_tcp *t);

#endif /* EMBER_MMDS_TCP_H */
