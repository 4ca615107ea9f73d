/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_VSOCK_H
#define EMBER_VSOCK_H

#include "ember.h"
#include "evloop.h"
#include "persist.h"
#include "virtio_mmio.h"

/*
 * virtio-vsock with Firecracker's hybrid host side: no vhost, guest streams
 * are proxied to AF_UNIX stream sockets.
 *
 * Host-initiated: a host process connects to cfg->uds_path, writes
 * "CONNECT <port>\n" and, once the guest's listener on that port accepted,
 * reads "OK <host_port>\n"; from then on the socket is the stream.  A line
 * that is not exactly that (or has no '\n' within 32 bytes) closes it.
 * Guest-initiated: a connection to CID 2 port P is forwarded to the Unix
 * socket "<uds_path>_<P>"; when nothing listens there the guest gets a reset.
 */

#define VSOCK_HOST_CID	  2
#define VSOCK_MAX_CONNS	  1023	       /* live streams plus clients still sending CONNECT */
#define VSOCK_CONN_BUF	  (128 * 1024) /* buf_alloc we advertise per stream */
#define VSOCK_MAX_PAYLOAD 65536

/* Plain data: --vsock fills it, and later PUT /vsock. */
/* Room for "_<port>" after it, so guest-initiated paths fit sun_path too. */
#define VSOCK_UDS_MAX (108u - 1u - 11u)

struct vsock_config {
	uint64_t guest_cid; /* 3 .. 0xfffffffe */
	char uds_path[108]; /* sizeof(sun_path) */
	char vsock_id[64];  /* Firecracker vsock_id; default "vsock" */
};

/*
 * Parses "cid=N,uds=PATH[,id=NAME]" into a zeroed *cfg.  Returns 0, or
 * -EINVAL with a message in err.
 */
int vsock_config_parse(const char *spec, struct vsock_config *cfg, char *err, size_t errlen);
/* The device type's settings hooks (device.h), in vsock_config.c. */
const char *vsock_config_id(const void *cfg);
void vsock_config_save(const void *cfg, struct pw *w);
void vsock_config_load(struct pr *r, uint16_t version, void *cfg);
int vsock_config_set(void *cfg, const char *field, const char *value, char *err, size_t errlen);

/* Counters for metrics; written on the VMM thread under the transport lock. */
struct vsock_stats {
	uint64_t rx_pkts, tx_pkts;   /* to / from the guest */
	uint64_t rx_bytes, tx_bytes; /* stream payload */
	uint64_t tx_malformed;	     /* bad chain, short header, len beyond the chain */
	uint64_t tx_bad_addr;	     /* wrong src_cid/dst_cid: dropped */
	uint64_t tx_bad_pkt;	     /* unknown op/type, len > 64 KiB, credit overrun */
	uint64_t rst_sent, rst_dropped;
	uint64_t conns_opened, conns_refused; /* refused: cap, no listener */
	uint64_t host_bad_lines;
	uint64_t handshake_timeouts; /* CONNECT line late, or guest silent on REQUEST */
};

struct vsock;

/*
 * Listens on cfg->uds_path (a stale socket there is unlinked; any other
 * file is an error).  Returns 0 or -errno (with a log line saying why).
 */
int vsock_create(struct vsock **out, const struct vsock_config *cfg, const struct guest_mem *gm,
		 struct evloop *loop);
struct virtio_mmio *vsock_transport(struct vsock *v);
const struct vsock_stats *vsock_stats(const struct vsock *v);
/* Streams and pending host clients, counted against VSOCK_MAX_CONNS. */
unsigned vsock_nr_conns(const struct vsock *v);
/* Tests: a handshake deadline shorter than VSOCK_HANDSHAKE_MS. */
void vsock_set_handshake_ms(struct vsock *v, unsigned ms);
/* Closes every stream and the listener; the socket file stays, as in Firecracker. */
void vsock_destroy(struct vsock *v);
/*
 * After a snapshot restore: the host ends of every connection are gone, so
 * tell the guest with a TRANSPORT_RESET event (virtio 1.2, 5.10.6.7); its
 * listeners stay.  0, or -ENOBUFS when the driver posted no event buffer.
 */
int vsock_transport_reset(struct vsock *v);
const struct vsock_config *vsock_get_config(const struct vsock *v);

#endif /* EMBER_VSOCK_H */
