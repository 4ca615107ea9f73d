// SPDX-License-Identifier: Apache-2.0
/*
 * The hybrid muxer: ember's vsock backend (vsock_backend.h), Firecracker's
 * protocol on Unix sockets.  This file is its life (listener, reaper,
 * handshake timer) and its side of the backend ops; the streams are
 * vsock_conn.c, the host's sockets vsock_host.c.
 *
 * RX is demand-driven: streams with something to say sit on a work list,
 * and the device lends one guest buffer per packet (recv).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vsock_mux.h"

static void vsock_free_dead(struct vsock_mux *m, unsigned gen)
{
	while (m->dead_conns[gen]) {
		struct vsock_conn *c = m->dead_conns[gen];

		m->dead_conns[gen] = c->dnext;
		free(c);
	}
	while (m->dead_clients[gen]) {
		struct vsock_client *cl = m->dead_clients[gen];

		m->dead_clients[gen] = cl->dnext;
		free(cl);
	}
}

/*
 * Frees what died before the previous reaper run: every epoll batch that
 * could still name those fds has been dispatched by now.  What died since
 * waits for the next run.
 */
static void vsock_reap(struct vsock_mux *m)
{
	vsock_free_dead(m, 1);
	m->dead_conns[1] = m->dead_conns[0];
	m->dead_clients[1] = m->dead_clients[0];
	m->dead_conns[0] = NULL;
	m->dead_clients[0] = NULL;
	if (m->dead_conns[1] || m->dead_clients[1])
		vsock_reap_arm(m);
}

static void vsock_on_reap(struct ev_handler *h, uint32_t events)
{
	struct vsock_mux *m = h->opaque;
	eventfd_t cnt;

	(void)events;
	if (eventfd_read(h->fd, &cnt) < 0)
		return;
	vsock_mux_lock(m);
	vsock_reap(m);
	vsock_mux_unlock(m);
}

/* VMM thread: handshakes past their deadline end; the timer re-arms for the rest. */
static void vsock_on_timer(struct ev_handler *h, uint32_t events)
{
	struct vsock_mux *m = h->opaque;
	uint64_t ticks, now = time_now_us();
	bool more;

	(void)events;
	if (read(h->fd, &ticks, sizeof(ticks)) < 0)
		return;
	vsock_mux_lock(m);
	m->timer_armed = false;
	more = vsock_clients_expire(m, now);
	more |= vsock_conns_expire(m, now);
	if (more)
		(void)vsock_handshake_deadline(m);
	/* The RSTs just queued go out now. */
	vsock_mux_deliver(m);
	vsock_mux_unlock(m);
}

/* ---- the backend ops ------------------------------------------------------------ */

static struct vsock_mux *mux_of(const struct vsock_backend *be)
{
	return (struct vsock_mux *)be; /* be is its first member */
}

static void mux_send(struct vsock_backend *be, const struct vsock_hdr *h, const uint8_t *payload)
{
	vsock_handle_pkt(mux_of(be), h, payload);
}

/* The first stream on the work list writes its next packet; 0 if it had none after all. */
static uint32_t mux_recv(struct vsock_backend *be, const struct vsock_rxbuf *b)
{
	struct vsock_mux *m = mux_of(be);
	struct vsock_conn *c = m->work_head;

	if (!c)
		return 0;
	m->work_head = c->wnext;
	if (!m->work_head)
		m->work_tail = NULL;
	c->wnext = NULL;
	c->queued = false;
	return vsock_conn_fill(c, b);
}

static bool mux_has_rx(const struct vsock_backend *be)
{
	return mux_of(be)->work_head != NULL;
}

/*
 * The guest's sockets are gone with its driver; so are ours.  Host clients
 * still typing CONNECT may stay: the listener is the device's.
 */
static void mux_reset(struct vsock_backend *be)
{
	vsock_conns_free_all(mux_of(be));
}

static unsigned mux_nr_conns(const struct vsock_backend *be)
{
	return mux_of(be)->nr_conns;
}

static void mux_destroy(struct vsock_backend *be)
{
	struct vsock_mux *m = mux_of(be);

	if (!m)
		return;
	vsock_conns_free_all(m);
	vsock_clients_free_all(m);
	vsock_host_close(m);
	if (m->reap_added)
		evloop_del(m->loop, &m->reap_h);
	if (m->reap_fd >= 0)
		close(m->reap_fd);
	if (m->timer_added)
		evloop_del(m->loop, &m->timer_h);
	if (m->timer_fd >= 0)
		close(m->timer_fd);
	/* The loop is not running: nothing can be in flight. */
	vsock_free_dead(m, 0);
	vsock_free_dead(m, 1);
	free(m);
}

static const struct vsock_backend_ops mux_ops = {
    .send = mux_send,
    .recv = mux_recv,
    .has_rx = mux_has_rx,
    .reset = mux_reset,
    .nr_conns = mux_nr_conns,
    .destroy = mux_destroy,
};

void vsock_mux_set_handshake_ms(struct vsock_backend *be, unsigned ms)
{
	mux_of(be)->handshake_ms = ms;
}

int vsock_mux_create(struct vsock_backend **out, const struct vsock_config *cfg,
		     struct evloop *loop, const struct vsock_dev_ops *dev_ops, void *dev,
		     struct vsock_stats *st)
{
	struct vsock_mux *m = calloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->be.ops = &mux_ops;
	m->dev_ops = dev_ops;
	m->dev = dev;
	m->cfg = *cfg;
	m->loop = loop;
	m->st = st;
	m->listen_fd = m->reap_fd = m->timer_fd = -1;
	m->handshake_ms = VSOCK_HANDSHAKE_MS;
	m->next_port = VSOCK_PORT_FIRST;
	m->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	snprintf(m->name, sizeof(m->name), "virtio-vsock %s", cfg->vsock_id);
	m->reap_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->reap_fd < 0) {
		ret = -errno;
		goto err;
	}
	m->reap_h = (struct ev_handler){.fd = m->reap_fd, .fn = vsock_on_reap, .opaque = m};
	ret = evloop_add(loop, &m->reap_h, EPOLLIN);
	if (ret)
		goto err;
	m->reap_added = true;
	m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer_fd < 0) {
		ret = -errno;
		goto err;
	}
	m->timer_h = (struct ev_handler){.fd = m->timer_fd, .fn = vsock_on_timer, .opaque = m};
	ret = evloop_add(loop, &m->timer_h, EPOLLIN);
	if (ret)
		goto err;
	m->timer_added = true;
	ret = vsock_host_listen(m, vsock_clients_on_accept);
	if (ret)
		goto err;
	*out = &m->be;
	return 0;
err:
	mux_destroy(&m->be);
	return ret;
}
