/* SPDX-License-Identifier: Apache-2.0 */
/*
 * migrate_stream.h - the live-migration wire format (snapshot/migrate_stream.c).
 * Byte level only, no KVM: the receiver's checks are unit-tested and fuzzed.
 *
 * One connection, source -> destination, plus two small messages back:
 *
 *   destination -> source, first, 32 bytes ("greeting"):
 *        0  8  magic "EMBERMGD"
 *        8  4  MIG_VERSION
 *       12  4  architecture (SNAP_ARCH_HOST: the sender's)
 *       16  8  nonce: random, chosen by the destination for this connection
 *       24  8  CRC-64/XZ of bytes [0, 24)
 *
 *   then frames both ways, each a 32-byte header and a payload:
 *        0  4  type (enum mig_frame_type)
 *        4  4  flags, 0
 *        8  8  sequence number: 0, 1, 2 ... per direction
 *       16  8  payload length L (each type has its own bound)
 *       24  8  CRC-64/XZ over the nonce (8 bytes LE), header bytes [0, 24)
 *              and the payload
 *
 * The nonce in every CRC makes a recorded stream worthless against another
 * connection (a replay is refused at its first frame) and the sequence
 * number refuses a frame repeated, dropped or reordered inside one.  The
 * CRC is not a MAC: like the API socket, the migration socket must only be
 * reachable by the control plane (or the network between two hosts
 * trusted); its job is to catch corruption, truncation and confusion.
 *
 * Source frames, in this order: HELLO once; CONFIG at most once (what the
 * VM is, no state: the destination builds the VM from it while RAM still
 * arrives, so that is not downtime); PAGES any number of times (a
 * page sent again replaces the older copy; one frame carries any pages,
 * scattered or not, so a last pass of dirty pages all over RAM is a few
 * frames, not one per page); STATE once (a snapshot state
 * file, snapfile.h, checked by snap_parse); END.  Destination frames: OK
 * (the VM is built and starts) or ERR (a message).  Nothing received runs
 * before END has been checked: pages go into memory no vCPU can see yet.
 */
#ifndef EMBER_MIGRATE_STREAM_H
#define EMBER_MIGRATE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "snapfile.h"

#define MIG_GREETING_MAGIC "EMBERMGD"
#define MIG_VERSION	   2u /* 2: PAGES lists its pages' offsets */
#define MIG_GREETING_SIZE  32u
#define MIG_HDR_SIZE	   32u
#define MIG_PAGE	   4096u
#define MIG_MAX_RUN	   256u /* pages per PAGES frame: 1 MiB */
#define MIG_PAGES_HDR	   8u	/* u32 pages, u32 0 */
#define MIG_MAX_REGIONS	   4u
#define MIG_MAX_ERR	   200u
#define MIG_MAX_MEM	   (1ull << 40) /* CONFIG_MAX_MEM_MIB */

enum mig_frame_type {
	MIG_FR_HELLO = 1,  /* u32 version, u32 arch, u32 nr_regions, u32 0, u64 bytes,
			    * then per region u64 gpa, u64 size */
	MIG_FR_PAGES = 2,  /* u32 n, u32 0, n u64 offsets in RAM (regions back to back),
			    * page-aligned and ascending, then the n pages */
	MIG_FR_STATE = 3,  /* a snapshot state file */
	MIG_FR_END = 4,	   /* u32 flags (MIG_END_PAUSED), u32 0 */
	MIG_FR_CONFIG = 5, /* a snapshot state file of settings only (snap_config_build) */
	MIG_FR_OK = 0x10,  /* empty */
	MIG_FR_ERR = 0x11  /* a message, up to MIG_MAX_ERR bytes, no NUL */
};

#define MIG_END_PAUSED 0x1u /* the VM was paused at the source and stays paused */

void mig_greeting_encode(uint8_t out[MIG_GREETING_SIZE], uint64_t nonce);
int mig_greeting_decode(const uint8_t in[MIG_GREETING_SIZE], uint64_t *nonce, char *err,
			size_t errlen);

/* One part of a payload, so page data is never copied to be framed. */
struct mig_part {
	const void *p;
	size_t len;
};

/* The header for a payload of @parts, sequence number @seq. */
void mig_hdr_encode(uint8_t out[MIG_HDR_SIZE], uint64_t nonce, uint32_t type, uint64_t seq,
		    const struct mig_part *parts, unsigned nr);

/* The largest payload a frame of @type may carry (0 for an unknown type). */
uint64_t mig_max_payload(uint32_t type);

struct mig_region {
	uint64_t gpa, size;
};

/*
 * The receiving end (destination for source frames, source for the
 * answer).  pages() stores a checked run of pages; it may fail (-errno).
 */
struct mig_rx {
	uint64_t nonce, seq;
	enum { MIG_RX_HELLO, MIG_RX_PAGES, MIG_RX_END, MIG_RX_DONE } state;
	uint64_t mem_bytes;
	uint32_t nr_regions;
	struct mig_region region[MIG_MAX_REGIONS];
	uint32_t end_flags;
	struct snap_image img;	  /* the STATE frame, once received */
	struct snap_image config; /* the CONFIG frame, if one was received */
	uint64_t pages_rx, bytes_rx;
	int (*pages)(void *ctx, uint64_t off, const uint8_t *data, uint32_t n);
	void *ctx;
};

void mig_rx_init(struct mig_rx *rx, uint64_t nonce);
void mig_rx_free(struct mig_rx *rx);
/*
 * A header: its sequence number, type (a source frame), flags and length
 * bound, before any of the payload is read or allocated.
 */
int mig_rx_header(const struct mig_rx *rx, const uint8_t hdr[MIG_HDR_SIZE], uint32_t *type,
		  uint64_t *len, char *err, size_t errlen);
/* The payload that header announced: CRC, then the frame's content and order. */
int mig_rx_frame(struct mig_rx *rx, const uint8_t hdr[MIG_HDR_SIZE], const uint8_t *payload,
		 char *err, size_t errlen);
/*
 * A whole recorded stream of source frames (tests, fuzzing): 0 only if it
 * ends with END exactly at @len.
 */
int mig_rx_buffer(struct mig_rx *rx, const uint8_t *buf, size_t len, char *err, size_t errlen);

/*
 * The destination's answer, as the source reads it.  With @payload NULL:
 * the header only (type, sequence 0, *@len bounded), 0 or -EINVAL.  With
 * the payload: 0 for OK, -EREMOTEIO for ERR (its message in @err), -EINVAL
 * for a bad CRC.
 */
int mig_answer_check(uint64_t nonce, const uint8_t hdr[MIG_HDR_SIZE], const uint8_t *payload,
		     uint64_t *len, char *err, size_t errlen);

#include <sys/socket.h>

/*
 * A migration url into a socket address: "unix:/path", "tcp:IPV4:PORT" or
 * "tcp:[IPV6]:PORT" (numeric: no name lookups from the VMM).  0 or -EINVAL.
 */
int migrate_url(const char *url, struct sockaddr_storage *ss, socklen_t *len, char *err,
		size_t errlen);

#endif /* EMBER_MIGRATE_STREAM_H */
