// SPDX-License-Identifier: Apache-2.0
/*
 * vsock streams: the connection table, the per-stream state machine and
 * credit-based flow control (virtio 1.2, 5.10.6).
 *
 * Host -> guest: the Unix socket is read straight into a guest RX buffer,
 * never more than the guest's credit (buf_alloc - (rx_cnt - fwd_cnt)).
 * With no credit, or while the stream already waits for an RX buffer, its
 * socket is not polled for EPOLLIN, so a guest that stops reading cannot
 * make the loop spin.
 * Guest -> host: payload goes to the socket at once; what it does not take
 * is kept (at most VSOCK_CONN_BUF, the buf_alloc we advertise, so a guest
 * within its credit always fits) and flushed on EPOLLOUT.  fwd_cnt counts
 * what the socket took; the guest hears of it in every packet we send and in
 * a CREDIT_UPDATE once half the window has been freed, which is enough for
 * a sender blocked on a full window to always be woken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/virtio_vsock.h>

#include "vsock_mux.h"

static unsigned vsock_bucket(uint32_t host_port, uint32_t guest_port)
{
	return ((host_port * 2654435761u) ^ guest_port) % VSOCK_BUCKETS;
}

struct vsock_conn *vsock_conn_find(struct vsock_mux *m, uint32_t host_port, uint32_t guest_port)
{
	struct vsock_conn *c = m->bucket[vsock_bucket(host_port, guest_port)];

	while (c && (c->host_port != host_port || c->guest_port != guest_port))
		c = c->hnext;
	return c;
}

static void vsock_hash_remove(struct vsock_conn *c)
{
	struct vsock_conn **pp = &c->m->bucket[vsock_bucket(c->host_port, c->guest_port)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	c->hnext = NULL;
}

static void vsock_work_remove(struct vsock_conn *c)
{
	struct vsock_mux *m = c->m;
	struct vsock_conn **pp = &m->work_head, *prev = NULL;

	if (!c->queued)
		return;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->wnext;
	}
	if (*pp)
		*pp = c->wnext;
	if (m->work_tail == c)
		m->work_tail = prev;
	c->wnext = NULL;
	c->queued = false;
}

static uint32_t vsock_conn_credit(const struct vsock_conn *c)
{
	uint32_t used = c->rx_cnt - c->peer_fwd_cnt;

	return used >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - used;
}

static void vsock_conn_update_poll(struct vsock_conn *c)
{
	uint32_t want = 0;

	if (!c->polled)
		return;
	if (c->state == VCONN_ESTABLISHED && !c->host_eof && !c->guest_shut_rcv &&
	    !(c->pending & VCONN_TX_RW) && vsock_conn_credit(c))
		want |= EPOLLIN;
	if (c->buf_len)
		want |= EPOLLOUT;
	if (want == c->ev_mask)
		return;
	if (evloop_mod(c->m->loop, &c->h, want) == 0)
		c->ev_mask = want;
}

static void vsock_conn_on_io(struct ev_handler *h, uint32_t events);

int vsock_conn_new(struct vsock_mux *m, int fd, uint32_t host_port, uint32_t guest_port,
		   enum vsock_conn_state state, struct vsock_conn **out)
{
	struct vsock_conn *c;
	unsigned b;
	int ret;

	if (m->nr_conns >= VSOCK_MAX_CONNS)
		return -EMFILE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	c->fd = fd;
	c->state = state;
	c->host_port = host_port;
	c->guest_port = guest_port;
	c->h = (struct ev_handler){.fd = fd, .fn = vsock_conn_on_io, .opaque = c};
	/* Idle until the state machine knows what it wants; HUP/ERR still arrive. */
	ret = evloop_add(m->loop, &c->h, 0);
	if (ret) {
		free(c);
		return ret;
	}
	c->polled = true;
	c->next = m->conns;
	if (m->conns)
		m->conns->prev = c;
	m->conns = c;
	b = vsock_bucket(host_port, guest_port);
	c->hnext = m->bucket[b];
	m->bucket[b] = c;
	m->nr_conns++;
	m->st->conns_opened++;
	*out = c;
	return 0;
}

void vsock_conn_free(struct vsock_conn *c)
{
	struct vsock_mux *m = c->m;

	vsock_work_remove(c);
	if (c->state != VCONN_DRAINING)
		vsock_hash_remove(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->polled)
		evloop_del(m->loop, &c->h);
	close(c->fd);
	free(c->buf);
	c->buf = NULL;
	c->dead = true;
	c->dnext = m->dead_conns[0];
	m->dead_conns[0] = c;
	vsock_reap_arm(m);
	m->nr_conns--;
	vsock_host_resume_accept(m);
}

void vsock_conn_reset(struct vsock_conn *c)
{
	if (c->state != VCONN_DRAINING)
		vsock_rst_enqueue(c->m, c->host_port, c->guest_port);
	vsock_conn_free(c);
}

void vsock_conn_queue(struct vsock_conn *c, unsigned what)
{
	struct vsock_mux *m = c->m;

	c->pending |= what;
	if (c->queued)
		return;
	c->queued = true;
	c->wnext = NULL;
	if (m->work_tail)
		m->work_tail->wnext = c;
	else
		m->work_head = c;
	m->work_tail = c;
}

static void vsock_conn_credit_check(struct vsock_conn *c)
{
	if (c->state == VCONN_ESTABLISHED && c->fwd_cnt - c->fwd_sent >= VSOCK_CONN_BUF / 2)
		vsock_conn_queue(c, VCONN_TX_CREDIT);
}

static void vsock_conn_shut_wr(struct vsock_conn *c)
{
	if (c->guest_shut_send && !c->buf_len && !c->host_hup)
		(void)shutdown(c->fd, SHUT_WR);
}

/* Sends the backlog to the host; false when @c was freed. */
static bool vsock_conn_flush(struct vsock_conn *c)
{
	while (c->buf_len) {
		ssize_t n =
		    send(c->fd, c->buf + c->buf_off, c->buf_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			vsock_conn_reset(c);
			return false;
		}
		c->buf_off += (uint32_t)n;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!c->buf_len) {
		c->buf_off = 0;
		vsock_conn_shut_wr(c);
		if (c->state == VCONN_DRAINING) {
			vsock_conn_free(c);
			return false;
		}
	}
	vsock_conn_credit_check(c);
	vsock_conn_update_poll(c);
	return true;
}

static void vsock_conn_on_io(struct ev_handler *h, uint32_t events)
{
	struct vsock_conn *c = h->opaque;
	struct vsock_mux *m = c->m;

	vsock_mux_lock(m);
	if (c->dead) {
		/* A stale event from the batch it died in. */
		vsock_mux_unlock(m);
		return;
	}
	if (events & EPOLLERR) {
		vsock_conn_reset(c);
	} else if (events & EPOLLHUP) {
		/* Reported whatever the mask: stop polling, finish from what is queued. */
		evloop_del(m->loop, &c->h);
		c->polled = false;
		c->host_hup = true;
		if (c->state != VCONN_ESTABLISHED) {
			vsock_conn_reset(c);
		} else {
			c->buf_len = 0; /* nobody left to read it */
			if (!c->host_eof && !c->guest_shut_rcv) {
				vsock_conn_queue(c, VCONN_TX_RW); /* the rest, then EOF */
			} else if (!c->host_eof) {
				c->host_eof = true;
				c->shut_flags =
				    VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
				vsock_conn_queue(c, VCONN_TX_SHUTDOWN);
			}
		}
	} else {
		if ((events & EPOLLOUT) && !vsock_conn_flush(c))
			goto out;
		if ((events & EPOLLIN) && c->state == VCONN_ESTABLISHED)
			vsock_conn_queue(c, VCONN_TX_RW);
		vsock_conn_update_poll(c);
	}
out:
	vsock_mux_deliver(m);
	vsock_mux_unlock(m);
}

/* Reads host bytes into the RX buffer: packet op, or 0 for nothing. */
static uint16_t vsock_conn_read(struct vsock_conn *c, const struct vsock_rxbuf *b, uint32_t *len,
				uint32_t *flags)
{
	struct vsock_mux *m = c->m;
	uint32_t max = vsock_conn_credit(c);
	struct iovec iov[64];
	unsigned niov;
	ssize_t n;

	if (c->state != VCONN_ESTABLISHED || c->guest_shut_rcv || c->host_eof)
		return 0;
	if (max > b->cap - VSOCK_HDR_LEN)
		max = b->cap - VSOCK_HDR_LEN;
	if (!max)
		return 0; /* the guest's CREDIT_UPDATE re-arms us */
	niov = vsock_rxbuf_iov(b, VSOCK_HDR_LEN, max, iov, ARRAY_SIZE(iov));
	do
		n = readv(c->fd, iov, (int)niov);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		*len = (uint32_t)n;
		c->rx_cnt += (uint32_t)n;
		m->st->rx_bytes += (uint64_t)n;
		/* After HUP nothing polls the socket: keep draining it ourselves. */
		if (c->host_hup)
			c->pending |= VCONN_TX_RW;
		return VIRTIO_VSOCK_OP_RW;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0)
		return VIRTIO_VSOCK_OP_RST;
	c->host_eof = true;
	*flags = VIRTIO_VSOCK_SHUTDOWN_SEND | (c->host_hup ? VIRTIO_VSOCK_SHUTDOWN_RCV : 0);
	return VIRTIO_VSOCK_OP_SHUTDOWN;
}

uint32_t vsock_conn_fill(struct vsock_conn *c, const struct vsock_rxbuf *b)
{
	struct vsock_mux *m = c->m;
	uint8_t raw[VSOCK_HDR_LEN];
	struct vsock_hdr h = {
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = m->cfg.guest_cid,
	    .src_port = c->host_port,
	    .dst_port = c->guest_port,
	    .type = VIRTIO_VSOCK_TYPE_STREAM,
	    .buf_alloc = VSOCK_CONN_BUF,
	};

	if (c->state == VCONN_DRAINING)
		return 0;
	if (c->pending & VCONN_TX_REQUEST) {
		c->pending &= ~VCONN_TX_REQUEST;
		h.op = VIRTIO_VSOCK_OP_REQUEST;
	} else if (c->pending & VCONN_TX_RESPONSE) {
		c->pending &= ~VCONN_TX_RESPONSE;
		h.op = VIRTIO_VSOCK_OP_RESPONSE;
	} else if (c->pending & VCONN_TX_RW) {
		c->pending &= ~VCONN_TX_RW;
		h.op = vsock_conn_read(c, b, &h.len, &h.flags);
	}
	if (!h.op && (c->pending & VCONN_TX_SHUTDOWN)) {
		c->pending &= ~VCONN_TX_SHUTDOWN;
		h.op = VIRTIO_VSOCK_OP_SHUTDOWN;
		h.flags = c->shut_flags;
	}
	if (!h.op && (c->pending & VCONN_TX_CREDIT))
		h.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	if (h.op == VIRTIO_VSOCK_OP_RST) {
		/* The socket failed mid-read: this buffer carries the reset. */
		h.len = 0;
		vsock_hdr_encode(&h, raw);
		vsock_conn_free(c);
		m->st->rst_sent++;
		return vsock_rxbuf_write(b, 0, raw, sizeof(raw)) ? VSOCK_HDR_LEN : 0;
	}
	if (h.op) {
		/* Every packet carries our credit, so a separate update is moot. */
		c->pending &= ~VCONN_TX_CREDIT;
		h.fwd_cnt = c->fwd_cnt;
		c->fwd_sent = c->fwd_cnt;
		vsock_hdr_encode(&h, raw);
		if (!vsock_rxbuf_write(b, 0, raw, sizeof(raw)))
			h.op = 0;
	}
	if (c->pending)
		vsock_conn_queue(c, 0);
	vsock_conn_update_poll(c);
	return h.op ? VSOCK_HDR_LEN + h.len : 0;
}

static void vsock_conn_rw(struct vsock_conn *c, const uint8_t *p, uint32_t len)
{
	struct vsock_mux *m = c->m;
	ssize_t n = 0;

	if (c->state != VCONN_ESTABLISHED || c->guest_shut_send || c->host_hup) {
		vsock_conn_reset(c);
		return;
	}
	if ((uint64_t)c->buf_len + len > VSOCK_CONN_BUF) {
		m->st->tx_bad_pkt++;
		vsock_bug(m, "port %u sent beyond its credit, reset", c->guest_port);
		vsock_conn_reset(c);
		return;
	}
	m->st->tx_bytes += len;
	if (!c->buf_len && len) {
		do
			n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			vsock_conn_reset(c);
			return;
		}
		if (n < 0)
			n = 0;
		c->fwd_cnt += (uint32_t)n;
	}
	if (len > (uint32_t)n) {
		uint32_t rest = len - (uint32_t)n;

		if (!c->buf && !(c->buf = malloc(VSOCK_CONN_BUF))) {
			vsock_conn_reset(c);
			return;
		}
		if (c->buf_off + c->buf_len + rest > VSOCK_CONN_BUF) {
			memmove(c->buf, c->buf + c->buf_off, c->buf_len);
			c->buf_off = 0;
		}
		memcpy(c->buf + c->buf_off + c->buf_len, p + n, rest);
		c->buf_len += rest;
	}
	vsock_conn_credit_check(c);
	vsock_conn_update_poll(c);
}

static void vsock_conn_shutdown(struct vsock_conn *c, uint32_t flags)
{
	struct vsock_mux *m = c->m;

	if (c->state != VCONN_ESTABLISHED) {
		vsock_conn_reset(c);
		return;
	}
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->guest_shut_rcv = true;
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND) {
		c->guest_shut_send = true;
		vsock_conn_shut_wr(c);
	}
	if (!c->guest_shut_rcv || !c->guest_shut_send) {
		vsock_conn_update_poll(c);
		return;
	}
	/* Both ways closed: the guest waits for our RST to free its socket. */
	vsock_rst_enqueue(m, c->host_port, c->guest_port);
	if (!c->buf_len || c->host_hup) {
		vsock_conn_free(c);
		return;
	}
	vsock_work_remove(c);
	vsock_hash_remove(c);
	c->pending = 0;
	c->state = VCONN_DRAINING;
	vsock_conn_update_poll(c);
}

static void vsock_conn_response(struct vsock_conn *c)
{
	char line[24];
	int n;

	if (c->state != VCONN_CONNECTING) {
		vsock_conn_reset(c);
		return;
	}
	n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);
	/* A fresh socket's buffer takes a few bytes; anything else is a dead client. */
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		vsock_conn_reset(c);
		return;
	}
	c->state = VCONN_ESTABLISHED;
	vsock_conn_update_poll(c);
}

static void vsock_guest_request(struct vsock_mux *m, const struct vsock_hdr *h)
{
	struct vsock_conn *c;
	int fd, ret;

	if (m->nr_conns >= VSOCK_MAX_CONNS) {
		m->st->conns_refused++;
		log_ratelimited(&m->rl, LOG_WARN, "%s: %u streams open, refusing port %u", m->name,
				m->nr_conns, h->dst_port);
		vsock_rst_enqueue(m, h->dst_port, h->src_port);
		return;
	}
	fd = vsock_host_connect(m, h->dst_port);
	if (fd < 0) {
		m->st->conns_refused++;
		vsock_rst_enqueue(m, h->dst_port, h->src_port);
		return;
	}
	ret = vsock_conn_new(m, fd, h->dst_port, h->src_port, VCONN_ESTABLISHED, &c);
	if (ret) {
		close(fd);
		m->st->conns_refused++;
		vsock_rst_enqueue(m, h->dst_port, h->src_port);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	vsock_conn_queue(c, VCONN_TX_RESPONSE);
}

void vsock_handle_pkt(struct vsock_mux *m, const struct vsock_hdr *h, const uint8_t *payload)
{
	struct vsock_conn *c = vsock_conn_find(m, h->dst_port, h->src_port);

	if (h->type != VIRTIO_VSOCK_TYPE_STREAM || h->op == VIRTIO_VSOCK_OP_INVALID ||
	    h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		m->st->tx_bad_pkt++;
		vsock_bug(m, "packet type %u op %u on port %u, reset", h->type, h->op, h->src_port);
		if (c)
			vsock_conn_reset(c);
		else if (h->op != VIRTIO_VSOCK_OP_RST)
			vsock_rst_enqueue(m, h->dst_port, h->src_port);
		return;
	}
	if (!c) {
		if (h->op == VIRTIO_VSOCK_OP_REQUEST)
			vsock_guest_request(m, h);
		else if (h->op != VIRTIO_VSOCK_OP_RST)
			vsock_rst_enqueue(m, h->dst_port, h->src_port);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_RST) {
		vsock_conn_free(c);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		vsock_conn_reset(c); /* the port pair is taken */
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		vsock_conn_response(c);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		vsock_conn_shutdown(c, h->flags);
		return;
	case VIRTIO_VSOCK_OP_RW:
		vsock_conn_rw(c, payload, h->len);
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		vsock_conn_queue(c, VCONN_TX_CREDIT);
		break;
	default: /* CREDIT_UPDATE: the header fields above are the news */
		break;
	}
	if (c->host_hup && !c->host_eof && vsock_conn_credit(c))
		vsock_conn_queue(c, VCONN_TX_RW);
	vsock_conn_update_poll(c);
}

bool vsock_conns_expire(struct vsock_mux *m, uint64_t now_us)
{
	struct vsock_conn *c = m->conns, *next;
	bool more = false;

	for (; c; c = next) {
		next = c->next;
		if (c->state != VCONN_CONNECTING)
			continue;
		if (now_us < c->deadline_us) {
			more = true;
			continue;
		}
		/* RST tells the guest to forget a RESPONSE it may still send. */
		m->st->handshake_timeouts++;
		vsock_conn_reset(c);
	}
	return more;
}

void vsock_conns_free_all(struct vsock_mux *m)
{
	while (m->conns)
		vsock_conn_free(m->conns);
	m->work_head = m->work_tail = NULL;
}
