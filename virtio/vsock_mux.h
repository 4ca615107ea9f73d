/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_VSOCK_MUX_H
#define EMBER_VSOCK_MUX_H

/*
 * Inside the hybrid muxer, the vsock device's backend (vsock_backend.h):
 * shared by vsock_mux.c (its life, timers, reaper, the backend ops),
 * vsock_conn.c (streams, credit, the packet state machine) and vsock_host.c
 * (the Unix socket side).  Everything runs under the device's lock.
 */
#include "vsock_backend.h"

#define VSOCK_LINE_MAX	 32
#define VSOCK_BUCKETS	 256
#define VSOCK_PORT_FIRST (1u << 30) /* host ports we hand out for CONNECT */
/*
 * A host client has this long to send its CONNECT line, and the guest this
 * long to answer a host-initiated REQUEST (Firecracker's 2 s): then the
 * client is closed, or the stream reset, instead of holding a slot forever.
 */
#define VSOCK_HANDSHAKE_MS 2000

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
	struct vsock_mux *m;
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
	struct vsock_mux *m;
	struct vsock_client *prev, *next;
	struct vsock_client *dnext; /* dead, waiting to be freed */
	bool dead;
	struct ev_handler h;
	char line[VSOCK_LINE_MAX];
	unsigned len;
	uint64_t deadline_us; /* closed if the line is not complete by then */
};

/* The hybrid muxer: ember's vsock backend (vsock_backend.h). */
struct vsock_mux {
	struct vsock_backend be; /* first: the device holds &be */
	const struct vsock_dev_ops *dev_ops;
	void *dev;
	struct vsock_config cfg;
	char name[80]; /* "virtio-vsock <id>", for log lines */
	struct evloop *loop;
	struct ratelimit rl;
	struct vsock_stats *st; /* the device's: one set of counters for metrics */

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
};

static inline void vsock_mux_lock(struct vsock_mux *m)
{
	m->dev_ops->lock(m->dev);
}

static inline void vsock_mux_unlock(struct vsock_mux *m)
{
	m->dev_ops->unlock(m->dev);
}

/* The guest is owed an RST: the device queues it. */
static inline void vsock_rst_enqueue(struct vsock_mux *m, uint32_t host_port, uint32_t guest_port)
{
	m->dev_ops->rst(m->dev, host_port, guest_port);
}

/* After an event of ours (not a device callback): what is queued goes out now. */
static inline void vsock_mux_deliver(struct vsock_mux *m)
{
	m->dev_ops->rx_ready(m->dev);
}

#define vsock_bug(m, fmt, ...)                                                                     \
	log_ratelimited(&(m)->rl, LOG_WARN, "%s: guest: " fmt, (m)->name, ##__VA_ARGS__)

/*
 * The files call downwards only: vsock_mux.c (life, backend ops) ->
 * vsock_client.c (host clients) -> vsock_conn.c (streams) -> vsock_host.c
 * (sockets, reaper doorbell, timer) -> vsock_pkt.c.
 */

/* vsock_client.c */
/* The listener is readable: accept host clients (its ev_handler function). */
void vsock_clients_on_accept(struct ev_handler *h, uint32_t events);
void vsock_clients_free_all(struct vsock_mux *m);
/* Closes clients whose CONNECT line is late; true if some are still waiting. */
bool vsock_clients_expire(struct vsock_mux *m, uint64_t now_us);
/* "CONNECT <port>" (the '\n' already stripped): 0 or -EINVAL. */
int vsock_parse_connect(const char *line, size_t len, uint32_t *port);

/* vsock_conn.c */
struct vsock_conn *vsock_conn_find(struct vsock_mux *m, uint32_t host_port, uint32_t guest_port);
int vsock_conn_new(struct vsock_mux *m, int fd, uint32_t host_port, uint32_t guest_port,
		   enum vsock_conn_state state, struct vsock_conn **out);
void vsock_conn_free(struct vsock_conn *c);
void vsock_conn_reset(struct vsock_conn *c);
void vsock_conn_queue(struct vsock_conn *c, unsigned what);
void vsock_handle_pkt(struct vsock_mux *m, const struct vsock_hdr *h, const uint8_t *payload);
/* Builds the stream's next packet into @b: bytes used (header included) or 0. */
uint32_t vsock_conn_fill(struct vsock_conn *c, const struct vsock_rxbuf *b);
void vsock_conns_free_all(struct vsock_mux *m);
/* Resets host-initiated streams the guest left unanswered; true if some still wait. */
bool vsock_conns_expire(struct vsock_mux *m, uint64_t now_us);

/* vsock_host.c */
/* The listener on uds_path; @on_accept handles it becoming readable. */
int vsock_host_listen(struct vsock_mux *m,
		      void (*on_accept)(struct ev_handler *h, uint32_t events));
void vsock_host_close(struct vsock_mux *m);
/* Out of fds: stop polling the listener until a stream or client goes away. */
void vsock_host_pause_accept(struct vsock_mux *m);
/* A stream or client went away: accept again if we had stopped at EMFILE. */
void vsock_host_resume_accept(struct vsock_mux *m);
/* Connects to "<uds_path>_<port>": a non-blocking fd or -errno. */
int vsock_host_connect(struct vsock_mux *m, uint32_t port);
/* Something joined the dead lists: make sure the reaper runs. */
void vsock_reap_arm(struct vsock_mux *m);
/* A handshake started: its deadline, and the timer armed to look at it. */
uint64_t vsock_handshake_deadline(struct vsock_mux *m);

#endif /* EMBER_VSOCK_MUX_H */
