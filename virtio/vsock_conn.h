/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_VSOCK_CONN_H
#define EMBER_VSOCK_CONN_H

/*
 * Inside the vsock device, shared by vsock.c (virtqueues), vsock_conn.c
 * (streams, credit, the packet state machine) and vsock_host.c (the Unix
 * socket side).  Everything runs under the transport lock.
 */
#include <sys/uio.h>

#include "virtq.h"
#include "vsock.h"

#define VSOCK_HDR_LEN	 44
#define VSOCK_LINE_MAX	 32
#define VSOCK_BUCKETS	 256
#define VSOCK_MAX_RST	 2048
#define VSOCK_PORT_FIRST (1u << 30) /* host ports we hand out for CONNECT */
/*
 * A host client has this long to send its CONNECT line, and the guest this
 * long to answer a host-initiated REQUEST (Firecracker's 2 s): then the
 * client is closed, or the stream reset, instead of holding a slot forever.
 */
#define VSOCK_HANDSHAKE_MS 2000

/* struct virtio_vsock_hdr, decoded to host order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t *raw, struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *raw);

enum vsock_conn_state {
	VCONN_CONNECTING, /* host-initiated: REQUEST out, waiting for RESPONSE */
	VCONN_ESTABLISHED,
	VCONN_DRAINING, /* gone for the guest; flushing what it sent to the host */
};

/* What a stream still has to tell the guest (vsock_conn.pending). */
#define VCONN_TX_REQUEST  1u
#define VCONN_TX_RESPONSE 2u
#define VCONN_TX_RW	  4u /* the host socket is readable */
#define VCONN_TX_SHUTDOWN 8u
#define VCONN_TX_CREDIT	  16u

struct vsock_conn {
	struct vsock *v;
	struct vsock_conn *prev, *next; /* every stream */
	struct vsock_conn *hnext;	/* hash bucket (not when draining) */
	struct vsock_conn *wnext;	/* RX work list */
	struct vsock_conn *dnext;	/* dead, waiting to be freed */
	bool queued;
	bool dead;
	struct ev_handler h;
	int fd;
	bool polled; /* fd is on the loop (not after HUP) */
	uint32_t ev_mask;
	enum vsock_conn_state state;
	uint64_t deadline_us; /* VCONN_CONNECTING: reset when the guest is silent past it */
	uint32_t host_port, guest_port;
	unsigned pending;
	uint32_t shut_flags; /* for VCONN_TX_SHUTDOWN */
	bool guest_shut_rcv, guest_shut_send, host_eof, host_hup;
	/* Host -> guest: what we sent against the guest's buffer. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, rx_cnt;
	/* Guest -> host: bytes forwarded to the socket, last value the guest saw. */
	uint32_t fwd_cnt, fwd_sent;
	uint8_t *buf; /* guest bytes the socket did not take yet */
	uint32_t buf_off, buf_len;
};

struct vsock_client {
	struct vsock *v;
	struct vsock_client *prev, *next;
	struct vsock_client *dnext; /* dead, waiting to be freed */
	bool dead;
	struct ev_handler h;
	char line[VSOCK_LINE_MAX];
	unsigned len;
	uint64_t deadline_us; /* closed if the line is not complete by then */
};

struct vsock_rst {
	uint32_t host_port, guest_port;
};

struct vsock {
	struct virtio_mmio t; /* t.lock covers everything below too */
	struct vsock_config cfg;
	const struct guest_mem *gm;
	struct evloop *loop;
	struct ratelimit rl;
	struct vsock_stats st;
	uint8_t config[8];

	int listen_fd;
	struct ev_handler listen_h;
	bool listening;
	bool bound;	    /* we created uds_path: unlink it on destroy */
	bool accept_paused; /* out of fds: listener idle until one frees */
	struct vsock_client *clients;
	struct vsock_conn *conns;
	struct vsock_conn *bucket[VSOCK_BUCKETS];
	struct vsock_conn *work_head, *work_tail;
	unsigned nr_conns; /* streams (draining too) + clients */
	uint32_t next_port;
	struct vsock_rst rst[VSOCK_MAX_RST];
	unsigned rst_head, rst_len;

	/*
	 * Dead streams and clients, freed two loop wakeups later: epoll may
	 * already have handed the loop an event for them in the current batch
	 * (or the vCPU thread killed them on reset mid-batch).
	 */
	struct vsock_conn *dead_conns[2];
	struct vsock_client *dead_clients[2];
	int reap_fd;
	struct ev_handler reap_h;
	bool reap_added;
	/* Handshake deadlines: a one-shot timerfd, armed while any is pending. */
	int timer_fd;
	struct ev_handler timer_h;
	bool timer_added, timer_armed;
	unsigned handshake_ms; /* VSOCK_HANDSHAKE_MS; tests shorten it */

	bool rx_held;	 /* rxc is popped but not used yet */
	uint32_t rx_cap; /* its writable bytes */
	struct virtq_chain rxc, txc;
	uint8_t pkt[VSOCK_HDR_LEN + VSOCK_MAX_PAYLOAD];
};

#define vsock_bug(v, fmt, ...)                                                                     \
	log_ratelimited(&(v)->rl, LOG_WARN, "%s: guest: " fmt, (v)->t.name, ##__VA_ARGS__)

/* vsock.c */
/* Something joined the dead lists: make sure the reaper runs. */
void vsock_reap_arm(struct vsock *v);
/* A handshake started: its deadline, and the timer armed to look at it. */
uint64_t vsock_handshake_deadline(struct vsock *v);
void vsock_rx_process(struct vsock *v);
/* Copies into the held RX chain at @off; false if it does not fit. */
bool vsock_rx_write(struct vsock *v, uint32_t off, const void *src, uint32_t len);
/* iovecs over the held RX chain from @off, at most @max bytes; returns the count. */
unsigned vsock_rx_iov(struct vsock *v, uint32_t off, uint32_t max, struct iovec *iov,
		      unsigned nr_iov);

/* vsock_conn.c */
struct vsock_conn *vsock_conn_find(struct vsock *v, uint32_t host_port, uint32_t guest_port);
int vsock_conn_new(struct vsock *v, int fd, uint32_t host_port, uint32_t guest_port,
		   enum vsock_conn_state state, struct vsock_conn **out);
void vsock_conn_free(struct vsock_conn *c);
void vsock_conn_reset(struct vsock_conn *c);
void vsock_conn_queue(struct vsock_conn *c, unsigned what);
void vsock_rst_enqueue(struct vsock *v, uint32_t host_port, uint32_t guest_port);
void vsock_handle_pkt(struct vsock *v, const struct vsock_hdr *h, const uint8_t *payload);
/* Builds the stream's next packet into v->rxc: bytes used (header included) or 0. */
uint32_t vsock_conn_fill(struct vsock_conn *c);
void vsock_conns_free_all(struct vsock *v);
/* Resets host-initiated streams the guest left unanswered; true if some still wait. */
bool vsock_conns_expire(struct vsock *v, uint64_t now_us);

/* vsock_host.c */
int vsock_host_listen(struct vsock *v);
void vsock_host_close(struct vsock *v);
void vsock_clients_free_all(struct vsock *v);
/* Closes clients whose CONNECT line is late; true if some are still waiting. */
bool vsock_clients_expire(struct vsock *v, uint64_t now_us);
/* A stream or client went away: accept again if we had stopped at EMFILE. */
void vsock_host_resume_accept(struct vsock *v);
/* Connects to "<uds_path>_<port>": a non-blocking fd or -errno. */
int vsock_host_connect(struct vsock *v, uint32_t port);
/* "CONNECT <port>" (the '\n' already stripped): 0 or -EINVAL. */
int vsock_parse_connect(const char *line, size_t len, uint32_t *port);

#endif /* EMBER_VSOCK_CONN_H */
