// SPDX-License-Identifier: Apache-2.0
/*
 * vsock host clients: accepted on the listener, they must send
 * "CONNECT <port>\n" before they become a stream (vsock_conn.c) that waits
 * for the guest to accept.
 *
 * The line is read one byte at a time so that nothing after the '\n' is
 * consumed: those bytes already belong to the stream and stay in the socket
 * until the guest accepts.  A client gets VSOCK_LINE_MAX bytes to finish the
 * line; a wrong verb, a bad port or no '\n' in time closes it.  Clients
 * count against VSOCK_MAX_CONNS, so connecting and saying nothing cannot
 * exhaust ember's fds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_mux.h"

#define VSOCK_ACCEPT_BATCH 64

int vsock_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char verb[] = "CONNECT ";
	char num[11];
	uint64_t p;
	size_t n;

	if (len <= sizeof(verb) - 1 || memcmp(line, verb, sizeof(verb) - 1))
		return -EINVAL;
	n = len - (sizeof(verb) - 1);
	if (n >= sizeof(num))
		return -EINVAL;
	memcpy(num, line + sizeof(verb) - 1, n);
	num[n] = '\0';
	if (str_to_u64(num, UINT32_MAX, &p))
		return -EINVAL;
	*port = (uint32_t)p;
	return 0;
}

static void vsock_client_free(struct vsock_client *cl, bool close_fd)
{
	struct vsock_mux *m = cl->m;

	evloop_del(m->loop, &cl->h);
	if (close_fd)
		close(cl->h.fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		m->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	cl->dead = true;
	cl->dnext = m->dead_clients[0];
	m->dead_clients[0] = cl;
	vsock_reap_arm(m);
	m->nr_conns--;
	vsock_host_resume_accept(m);
}

/* A host port nobody uses with @guest_port, from our own range. */
static uint32_t vsock_alloc_port(struct vsock_mux *m, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = m->next_port++;

		if (m->next_port == 0)
			m->next_port = VSOCK_PORT_FIRST;
		if (!vsock_conn_find(m, p, guest_port))
			return p;
	}
}

/* The line is complete: the client becomes a stream waiting for the guest. */
static void vsock_client_connect(struct vsock_client *cl, uint32_t port)
{
	struct vsock_mux *m = cl->m;
	struct vsock_conn *c;
	int fd = cl->h.fd;

	vsock_client_free(cl, false);
	if (vsock_conn_new(m, fd, vsock_alloc_port(m, port), port, VCONN_CONNECTING, &c)) {
		close(fd);
		return;
	}
	c->deadline_us = vsock_handshake_deadline(m);
	vsock_conn_queue(c, VCONN_TX_REQUEST);
	vsock_mux_deliver(m);
}

static void vsock_client_on_io(struct ev_handler *h, uint32_t events)
{
	struct vsock_client *cl = h->opaque;
	struct vsock_mux *m = cl->m;
	uint32_t port;
	ssize_t n;
	char ch;

	(void)events; /* HUP/ERR show up as recv() returning 0 or failing */
	vsock_mux_lock(m);
	if (cl->dead) {
		vsock_mux_unlock(m);
		return;
	}
	for (;;) {
		if (cl->len == VSOCK_LINE_MAX)
			goto bad;
		n = recv(h->fd, &ch, 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			vsock_client_free(cl, true);
			break;
		}
		if (ch != '\n') {
			cl->line[cl->len++] = ch;
			continue;
		}
		if (vsock_parse_connect(cl->line, cl->len, &port))
			goto bad;
		vsock_client_connect(cl, port);
		break;
	}
	vsock_mux_unlock(m);
	return;
bad:
	m->st->host_bad_lines++;
	log_ratelimited(&m->rl, LOG_WARN, "%s: host client sent '%.*s', not CONNECT <port>",
			m->name, (int)cl->len, cl->line);
	vsock_client_free(cl, true);
	vsock_mux_unlock(m);
}

static int vsock_client_new(struct vsock_mux *m, int fd)
{
	struct vsock_client *cl = calloc(1, sizeof(*cl));
	int ret;

	if (!cl)
		return -ENOMEM;
	cl->m = m;
	cl->h = (struct ev_handler){.fd = fd, .fn = vsock_client_on_io, .opaque = cl};
	cl->deadline_us = vsock_handshake_deadline(m);
	ret = evloop_add(m->loop, &cl->h, EPOLLIN);
	if (ret) {
		free(cl);
		return ret;
	}
	cl->next = m->clients;
	if (m->clients)
		m->clients->prev = cl;
	m->clients = cl;
	m->nr_conns++;
	return 0;
}

void vsock_clients_on_accept(struct ev_handler *h, uint32_t events)
{
	struct vsock_mux *m = h->opaque;

	(void)events;
	vsock_mux_lock(m);
	for (unsigned i = 0; i < VSOCK_ACCEPT_BATCH; i++) {
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				/* EMFILE and friends: the connection stays queued, so stop
				 * polling until a stream frees an fd instead of spinning. */
				log_ratelimited(&m->rl, LOG_WARN, "%s: accept: %s", m->name,
						strerror(errno));
				vsock_host_pause_accept(m);
			}
			break;
		}
		if (m->nr_conns >= VSOCK_MAX_CONNS || vsock_client_new(m, fd)) {
			m->st->conns_refused++;
			log_ratelimited(&m->rl, LOG_WARN,
					"%s: %u streams open, host client refused", m->name,
					m->nr_conns);
			close(fd);
		}
	}
	vsock_mux_unlock(m);
}

bool vsock_clients_expire(struct vsock_mux *m, uint64_t now_us)
{
	struct vsock_client *cl = m->clients, *next;
	bool more = false;

	for (; cl; cl = next) {
		next = cl->next;
		if (now_us < cl->deadline_us) {
			more = true;
			continue;
		}
		m->st->handshake_timeouts++;
		vsock_client_free(cl, true);
	}
	return more;
}

void vsock_clients_free_all(struct vsock_mux *m)
{
	while (m->clients)
		vsock_client_free(m->clients, true);
}
