/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock_backend.h - the virtio-vsock device (vsock.c) and what is behind it.
 *
 * The device owns the virtqueues, the guest's RX buffers, the queue of RSTs
 * it owes the guest, and the checks every packet gets on its way in (a
 * header that fits the chain, the guest's own CID).  A backend owns the
 * streams: it takes the guest's packets (send), produces packets for the
 * guest into a buffer the device lends it (recv), and says whether it has
 * any (has_rx).  ember's backend is the hybrid muxer (vsock_mux.c:
 * Firecracker's Unix-socket protocol); another (vhost, a loopback for tests)
 * would implement the same ops.
 *
 * Calls go one way at the link level: the device calls the backend through
 * its ops; the backend reaches the device only through the vsock_dev_ops it
 * was given (lock, RST, "deliver now"), so neither file names the other's
 * symbols beyond vsock_mux_create().
 *
 * Threads: everything runs under the device's lock, which the backend takes
 * (dev->lock) in its own event handlers.
 */
#ifndef EMBER_VSOCK_BACKEND_H
#define EMBER_VSOCK_BACKEND_H

#include <sys/uio.h>

#include "evloop.h"
#include "virtq.h"
#include "vsock.h"

#define VSOCK_HDR_LEN 44

/* struct virtio_vsock_hdr, decoded to host order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t *raw, struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *raw);

/*
 * A guest RX buffer the device holds and lends to the backend: a chain of
 * device-writable segments, all inside guest memory (checked when it was
 * popped), @cap bytes in all, header included.
 */
struct vsock_rxbuf {
	const struct virtq_chain *chain;
	const struct guest_mem *gm;
	uint32_t cap;
};

/* Copies into the buffer at @off; false if it does not fit. */
bool vsock_rxbuf_write(const struct vsock_rxbuf *b, uint32_t off, const void *src, uint32_t len);
/* iovecs over the buffer from @off, at most @max bytes (readv() fills them); the count. */
unsigned vsock_rxbuf_iov(const struct vsock_rxbuf *b, uint32_t off, uint32_t max, struct iovec *iov,
			 unsigned nr_iov);

struct vsock_backend;

struct vsock_backend_ops {
	/*
	 * A packet from the guest: its header fits the chain, comes from the
	 * guest's CID to the host, and @payload holds h->len bytes.
	 */
	void (*send)(struct vsock_backend *be, const struct vsock_hdr *h, const uint8_t *payload);
	/* The next packet for the guest into @b: its length, header included; 0: none. */
	uint32_t (*recv)(struct vsock_backend *be, const struct vsock_rxbuf *b);
	bool (*has_rx)(const struct vsock_backend *be);
	/* The driver reset the device: the guest's streams are gone. */
	void (*reset)(struct vsock_backend *be);
	unsigned (*nr_conns)(const struct vsock_backend *be);
	void (*destroy)(struct vsock_backend *be);
};

struct vsock_backend {
	const struct vsock_backend_ops *ops;
};

/* What a backend may ask of its device (vsock.c implements them). */
struct vsock_dev_ops {
	void (*lock)(void *dev);
	void (*unlock)(void *dev);
	/* The guest is owed an RST for this port pair (queued in the device). */
	void (*rst)(void *dev, uint32_t host_port, uint32_t guest_port);
	/* Something to deliver came up outside a device callback: deliver it now. */
	void (*rx_ready)(void *dev);
};

/*
 * The hybrid muxer (vsock_mux.c): a listener on cfg->uds_path, host clients
 * and streams; counts its events in @st, which the device shares.  0 or
 * -errno (logged).
 */
int vsock_mux_create(struct vsock_backend **out, const struct vsock_config *cfg,
		     struct evloop *loop, const struct vsock_dev_ops *dev_ops, void *dev,
		     struct vsock_stats *st);
/*
 * What vsock_mux_create() would refuse about @cfg->uds_path, found without
 * binding it (vsock_host.c): 0 or -errno, logged.
 */
int vsock_mux_probe(const struct vsock_config *cfg);
/* Tests: a shorter handshake deadline than VSOCK_HANDSHAKE_MS. */
void vsock_mux_set_handshake_ms(struct vsock_backend *be, unsigned ms);

#endif /* EMBER_VSOCK_BACKEND_H */
