// SPDX-License-Identifier: Apache-2.0
/*
 * The MMDS's TCP (mmds_tcp.h).  A connection's send side is one byte
 * stream, SYN, then the responses, then FIN; una..nxt is in flight, and a
 * retransmission just moves nxt back to una, so there is no per-segment
 * state.  The receive side keeps the bytes of the request being read; each
 * complete request is answered (mmds_http.c) and dropped from the buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "mmds_http.h"
#include "mmds_tcp.h"
#include "mmds_wire.h"

enum conn_state { CONN_FREE, CONN_SYN_RCVD, CONN_EST };

struct conn {
	enum conn_state state;
	uint32_t rip;
	uint16_t rport;
	uint16_t mss;
	uint32_t iss, una, nxt, rcv_nxt;
	uint32_t wnd_edge; /* the guest's window ends before this */
	uint16_t last_win;
	bool need_ack;
	bool fin_in;  /* the guest's FIN is in rcv_nxt */
	bool fin_out; /* ours follows the responses */
	uint64_t last_seen, rto_at;
	unsigned rto_count;
	uint8_t *out; /* responses from out_seq on, acked bytes dropped */
	size_t out_len, out_cap;
	uint32_t out_seq;
	size_t req_len;
	uint8_t req[MMDS_HTTP_REQ_MAX];
};

struct rst {
	uint32_t rip, seq, ack;
	uint16_t rport, lport;
	uint8_t flags;
};

struct mmds_tcp {
	struct mmds *store;
	struct conn conns[MMDS_TCP_MAX_CONNS];
	unsigned next; /* round robin over connections with something to send */
	struct rst rsts[MMDS_TCP_MAX_RSTS];
	unsigned rst_head, rst_n;
	uint64_t isn_state;
	struct mmds_tcp_stats st;
};

int mmds_tcp_create(struct mmds_tcp **out, struct mmds *store)
{
	struct mmds_tcp *t = calloc(1, sizeof(*t));

	*out = t;
	if (!t)
		return -ENOMEM;
	t->store = store;
	t->isn_state = time_now_us() | 1;
	return 0;
}

void mmds_tcp_destroy(struct mmds_tcp *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < MMDS_TCP_MAX_CONNS; i++)
		free(t->conns[i].out);
	free(t);
}

unsigned mmds_tcp_conns(const struct mmds_tcp *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MMDS_TCP_MAX_CONNS; i++)
		n += t->conns[i].state != CONN_FREE;
	return n;
}

const struct mmds_tcp_stats *mmds_tcp_stats(const struct mmds_tcp *t)
{
	return &t->st;
}

/* Initial sequence numbers: xorshift64, so they differ across connections. */
static uint32_t tcp_isn(struct mmds_tcp *t)
{
	t->isn_state ^= t->isn_state << 13;
	t->isn_state ^= t->isn_state >> 7;
	t->isn_state ^= t->isn_state << 17;
	return (uint32_t)t->isn_state;
}

static void tcp_queue_rst(struct mmds_tcp *t, uint32_t rip, uint16_t rport, uint16_t lport,
			  uint32_t seq, uint32_t ack, uint8_t flags)
{
	if (t->rst_n >= MMDS_TCP_MAX_RSTS) {
		t->st.rsts_dropped++;
		return;
	}
	t->rsts[(t->rst_head + t->rst_n++) % MMDS_TCP_MAX_RSTS] = (struct rst){
	    .rip = rip, .rport = rport, .lport = lport, .seq = seq, .ack = ack, .flags = flags};
}

static void conn_free(struct conn *c)
{
	free(c->out);
	memset(c, 0, sizeof(*c));
}

/* Ends @c with a RST the guest will take (our next sequence number). */
static void conn_reset(struct mmds_tcp *t, struct conn *c)
{
	tcp_queue_rst(t, c->rip, c->rport, MMDS_TCP_PORT, c->nxt, 0, TCP_RST);
	t->st.conns_reset++;
	conn_free(c);
}

static struct conn *tcp_find(struct mmds_tcp *t, uint32_t rip, uint16_t rport)
{
	for (unsigned i = 0; i < MMDS_TCP_MAX_CONNS; i++) {
		struct conn *c = &t->conns[i];

		if (c->state != CONN_FREE && c->rip == rip && c->rport == rport)
			return c;
	}
	return NULL;
}

/* A free slot, or one idle long enough to evict (it gets a RST), or NULL. */
static struct conn *tcp_slot(struct mmds_tcp *t, uint64_t now)
{
	struct conn *idle = NULL;

	for (unsigned i = 0; i < MMDS_TCP_MAX_CONNS; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == CONN_FREE)
			return c;
		if (now - c->last_seen > MMDS_TCP_EVICT_MS &&
		    (!idle || c->last_seen < idle->last_seen))
			idle = c;
	}
	if (idle) {
		t->st.conns_evicted++;
		conn_reset(t, idle);
	}
	return idle;
}

/* The MSS option of a SYN, else TCP's default 536; capped at our own. */
static uint16_t tcp_syn_mss(const uint8_t *opt, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (opt[i] == 0)
			break;
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n || opt[i + 1] < 2 || i + opt[i + 1] > n)
			break;
		if (opt[i] == 2 && opt[i + 1] == 4) {
			uint16_t mss = wire_get16(opt + i + 2);

			if (mss < 64)
				mss = 64; /* a tiny MSS would only mean many tiny segments */
			return mss < MMDS_TCP_MSS ? mss : MMDS_TCP_MSS;
		}
		i += opt[i + 1];
	}
	return 536;
}

static void tcp_open(struct mmds_tcp *t, uint32_t rip, uint16_t rport, uint32_t seq,
		     const uint8_t *seg, size_t doff, uint64_t now)
{
	struct conn *c = tcp_slot(t, now);

	if (!c) {
		t->st.conns_refused++;
		tcp_queue_rst(t, rip, rport, MMDS_TCP_PORT, 0, seq + 1, TCP_RST | TCP_ACK);
		return;
	}
	*c = (struct conn){.state = CONN_SYN_RCVD, .rip = rip, .rport = rport, .last_seen = now};
	c->mss = tcp_syn_mss(seg + 20, doff - 20);
	c->iss = c->una = c->nxt = tcp_isn(t);
	c->out_seq = c->iss + 1;
	c->rcv_nxt = seq + 1;
	t->st.conns_opened++;
}

static int conn_append(struct conn *c, const char *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		uint8_t *b;

		while (cap < c->out_len + n)
			cap *= 2;
		b = realloc(c->out, cap);
		if (!b)
			return -ENOMEM;
		c->out = b;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

/* Answers the complete requests in the buffer; -errno ends the connection. */
static int conn_serve(struct mmds_tcp *t, struct conn *c, uint64_t now)
{
	while (c->req_len && !c->fin_out) {
		char *resp;
		size_t rlen;
		bool close;
		size_t used =
		    mmds_http_serve(t->store, c->req, c->req_len, now, &resp, &rlen, &close);

		if (!used)
			return c->req_len >= MMDS_HTTP_REQ_MAX ? -EMSGSIZE : 0;
		if (!resp || conn_append(c, resp, rlen)) {
			free(resp);
			return -ENOMEM;
		}
		free(resp);
		memmove(c->req, c->req + used, c->req_len - used);
		c->req_len -= used;
		c->fin_out = close;
	}
	return 0;
}

/* An ACK from the guest: what it takes off our stream. */
static void conn_acked(struct mmds_tcp *t, struct conn *c, uint32_t ack, uint16_t win, bool plain,
		       uint64_t now)
{
	if (wire_seq_cmp(ack, c->una) > 0 && wire_seq_cmp(ack, c->nxt) <= 0) {
		uint32_t done = ack - c->out_seq;

		if (wire_seq_cmp(ack, c->out_seq) > 0 && c->out_len) {
			if (done > c->out_len)
				done = (uint32_t)c->out_len; /* the FIN's sequence number */
			memmove(c->out, c->out + done, c->out_len - done);
			c->out_len -= done;
			c->out_seq += done;
		}
		c->una = ack;
		c->rto_count = 0;
		c->rto_at = now + MMDS_TCP_RTO_MS;
		if (c->state == CONN_SYN_RCVD)
			c->state = CONN_EST;
	} else if (plain && ack == c->una && c->nxt != c->una && win == c->last_win) {
		/* dumbo's rule: the first duplicate ACK retransmits. */
		c->nxt = c->una;
		t->st.retransmits++;
	}
	/* An ACK older than una is a reordered one: its window is older too. */
	if (wire_seq_cmp(ack, c->una) >= 0) {
		c->wnd_edge = ack + win;
		c->last_win = win;
	}
}

/* Both FINs exchanged and ours acked: done (no TIME_WAIT, as dumbo). */
static bool conn_done(const struct conn *c)
{
	return c->fin_in && c->fin_out && c->una == c->out_seq + 1 && !c->out_len;
}

/* In-order data and FIN; 0, or -errno to reset the connection. */
static int conn_data(struct mmds_tcp *t, struct conn *c, uint32_t seq, const uint8_t *data,
		     size_t dlen, bool fin, uint64_t now)
{
	const uint32_t fin_seq = seq + (uint32_t)dlen;
	uint32_t skip = c->rcv_nxt - seq;

	if (dlen) {
		c->need_ack = true; /* even a duplicate gets our ACK again */
		/* Out of order, old, or after the guest's FIN: dumbo takes data in order only. */
		if (wire_seq_cmp(seq, c->rcv_nxt) > 0 || skip >= dlen || c->fin_in)
			return 0;
		if (c->req_len + dlen - skip > MMDS_HTTP_REQ_MAX) {
			t->st.oversized++;
			return -EMSGSIZE;
		}
		memcpy(c->req + c->req_len, data + skip, dlen - skip);
		c->req_len += dlen - skip;
		c->rcv_nxt = fin_seq;
		if (conn_serve(t, c, now))
			return -EMSGSIZE;
	}
	if (fin && fin_seq == c->rcv_nxt && !c->fin_in) {
		c->rcv_nxt++;
		c->fin_in = true;
		c->fin_out = true; /* a half-closed guest gets what it asked for, then our FIN */
	}
	c->need_ack |= fin;
	return 0;
}

void mmds_tcp_input(struct mmds_tcp *t, uint32_t rip, const uint8_t *seg, size_t len, uint64_t now)
{
	uint16_t rport, lport, win;
	uint32_t seq, ack;
	size_t doff;
	uint8_t flags;
	struct conn *c;

	t->st.segs_in++;
	doff = len >= 20 ? (size_t)(seg[12] >> 4) * 4 : 0;
	if (doff < 20 || doff > len) {
		t->st.bad_segs++;
		return;
	}
	rport = wire_get16(seg);
	lport = wire_get16(seg + 2);
	seq = wire_get32(seg + 4);
	ack = wire_get32(seg + 8);
	flags = seg[13];
	win = wire_get16(seg + 14);
	len -= doff;
	c = lport == MMDS_TCP_PORT ? tcp_find(t, rip, rport) : NULL;
	if (!c) {
		if (flags & TCP_RST)
			return;
		if (lport == MMDS_TCP_PORT && (flags & (TCP_SYN | TCP_ACK | TCP_FIN)) == TCP_SYN)
			tcp_open(t, rip, rport, seq, seg, doff, now);
		else if (flags & TCP_ACK)
			tcp_queue_rst(t, rip, rport, lport, ack, 0, TCP_RST);
		else
			tcp_queue_rst(t, rip, rport, lport, 0,
				      seq + (uint32_t)len + !!(flags & TCP_SYN) +
					  !!(flags & TCP_FIN),
				      TCP_RST | TCP_ACK);
		return;
	}
	c->last_seen = now;
	if (flags & TCP_RST) {
		/* Only a RST at our next expected byte counts (RFC 5961's rule). */
		if (seq == c->rcv_nxt) {
			t->st.conns_reset++;
			conn_free(c);
		}
		return;
	}
	if (flags & TCP_SYN) {
		if (c->state == CONN_SYN_RCVD && seq + 1 == c->rcv_nxt)
			c->nxt = c->una; /* the SYN again: so is our SYN-ACK */
		else
			conn_reset(t, c);
		return;
	}
	if (!(flags & TCP_ACK))
		return;
	if (wire_seq_cmp(ack, c->nxt) > 0 && c->state == CONN_SYN_RCVD) {
		conn_reset(t, c);
		return;
	}
	conn_acked(t, c, ack, win, len == 0 && !(flags & TCP_FIN), now);
	if (c->state == CONN_SYN_RCVD)
		return;
	if (conn_data(t, c, seq, seg + doff, len, flags & TCP_FIN, now)) {
		conn_reset(t, c);
		return;
	}
	if (conn_done(c) && !c->need_ack) {
		t->st.conns_closed++;
		conn_free(c);
	}
}

static bool rst_output(struct mmds_tcp *t, struct mmds_seg *o)
{
	struct rst *r;

	if (!t->rst_n)
		return false;
	r = &t->rsts[t->rst_head];
	t->rst_head = (t->rst_head + 1) % MMDS_TCP_MAX_RSTS;
	t->rst_n--;
	*o = (struct mmds_seg){.rip = r->rip,
			       .rport = r->rport,
			       .lport = r->lport,
			       .seq = r->seq,
			       .ack = r->ack,
			       .flags = r->flags};
	return true;
}

static void conn_sent(struct conn *c, uint32_t n, uint64_t now)
{
	if (c->nxt == c->una)
		c->rto_at = now + MMDS_TCP_RTO_MS;
	c->nxt += n;
	c->need_ack = false;
}

static bool conn_output(struct mmds_tcp *t, struct conn *c, uint64_t now, struct mmds_seg *o)
{
	uint32_t end = c->out_seq + (uint32_t)c->out_len;

	if (c->una != c->nxt && now >= c->rto_at) {
		if (++c->rto_count > MMDS_TCP_RTO_MAX) {
			conn_reset(t, c);
			return false;
		}
		c->nxt = c->una;
		c->rto_at = now + MMDS_TCP_RTO_MS;
		t->st.retransmits++;
	}
	*o = (struct mmds_seg){.rip = c->rip,
			       .rport = c->rport,
			       .lport = MMDS_TCP_PORT,
			       .seq = c->nxt,
			       .ack = c->rcv_nxt,
			       .flags = TCP_ACK,
			       .win = (uint16_t)(MMDS_HTTP_REQ_MAX - c->req_len)};
	if (c->state == CONN_SYN_RCVD) {
		if (c->nxt != c->iss)
			return false;
		o->flags = TCP_SYN | TCP_ACK;
		o->mss = MMDS_TCP_MSS;
		conn_sent(c, 1, now);
		return true;
	}
	if (wire_seq_cmp(c->nxt, end) < 0 && wire_seq_cmp(c->nxt, c->wnd_edge) < 0) {
		size_t n = end - c->nxt, room = c->wnd_edge - c->nxt;

		n = n < c->mss ? n : c->mss;
		n = n < room ? n : room;
		o->data = c->out + (c->nxt - c->out_seq);
		o->len = n;
		o->flags |= TCP_PSH;
		if (c->fin_out && c->nxt + n == end) {
			o->flags |= TCP_FIN;
			n++;
		}
		conn_sent(c, (uint32_t)n, now);
		return true;
	}
	if (c->fin_out && c->nxt == end) {
		o->flags |= TCP_FIN;
		conn_sent(c, 1, now);
		return true;
	}
	if (c->need_ack) {
		c->need_ack = false;
		if (conn_done(c)) { /* the ACK of the guest's FIN was all it was owed */
			t->st.conns_closed++;
			conn_free(c);
		}
		return true;
	}
	return false;
}

bool mmds_tcp_output(struct mmds_tcp *t, uint64_t now, struct mmds_seg *o)
{
	bool got = rst_output(t, o);

	for (unsigned i = 0; !got && i < MMDS_TCP_MAX_CONNS; i++) {
		struct conn *c = &t->conns[(t->next + i) % MMDS_TCP_MAX_CONNS];

		if (c->state != CONN_FREE && conn_output(t, c, now, o)) {
			t->next = (t->next + i + 1) % MMDS_TCP_MAX_CONNS;
			got = true;
		}
	}
	if (got)
		t->st.segs_out++;
	return got;
}
