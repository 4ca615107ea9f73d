// SPDX-License-Identifier: Apache-2.0
/*
 * vsock, host side: the listener on uds_path, clients that still have to
 * send their "CONNECT <port>\n" line, and connecting guest-initiated streams
 * to "<uds_path>_<port>".
 *
 * The line is read one byte at a time so that nothing after the '\n' is
 * consumed: those bytes already belong to the stream and stay in the socket
 * until the guest accepts.  A client gets VSOCK_LINE_MAX bytes to finish the
 * line; a wrong verb, a bad port or no '\n' in time closes it.  Clients
 * count against VSOCK_MAX_CONNS, so connecting and saying nothing cannot
 * exhaust ember's fds.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock_conn.h"

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
	struct vsock *v = cl->v;

	evloop_del(v->loop, &cl->h);
	if (close_fd)
		close(cl->h.fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		v->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	cl->dead = true;
	cl->dnext = v->dead_clients[0];
	v->dead_clients[0] = cl;
	vsock_reap_arm(v);
	v->nr_conns--;
	vsock_host_resume_accept(v);
}

/* A host port nobody uses with @guest_port, from our own range. */
static uint32_t vsock_alloc_port(struct vsock *v, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = v->next_port++;

		if (v->next_port == 0)
			v->next_port = VSOCK_PORT_FIRST;
		if (!vsock_conn_find(v, p, guest_port))
			return p;
	}
}

/* The line is complete: the client becomes a stream waiting for the guest. */
static void vsock_client_connect(struct vsock_client *cl, uint32_t port)
{
	struct vsock *v = cl->v;
	struct vsock_conn *c;
	int fd = cl->h.fd;

	vsock_client_free(cl, false);
	if (vsock_conn_new(v, fd, vsock_alloc_port(v, port), port, VCONN_CONNECTING, &c)) {
		close(fd);
		return;
	}
	c->deadline_us = vsock_handshake_deadline(v);
	vsock_conn_queue(c, VCONN_TX_REQUEST);
	vsock_rx_process(v);
}

static void vsock_client_on_io(struct ev_handler *h, uint32_t events)
{
	struct vsock_client *cl = h->opaque;
	struct vsock *v = cl->v;
	uint32_t port;
	ssize_t n;
	char ch;

	(void)events; /* HUP/ERR show up as recv() returning 0 or failing */
	virtio_mmio_lock(&v->t);
	if (cl->dead) {
		virtio_mmio_unlock(&v->t);
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
	virtio_mmio_unlock(&v->t);
	return;
bad:
	v->st.host_bad_lines++;
	log_ratelimited(&v->rl, LOG_WARN, "%s: host client sent '%.*s', not CONNECT <port>",
			v->t.name, (int)cl->len, cl->line);
	vsock_client_free(cl, true);
	virtio_mmio_unlock(&v->t);
}

static int vsock_client_new(struct vsock *v, int fd)
{
	struct vsock_client *cl = calloc(1, sizeof(*cl));
	int ret;

	if (!cl)
		return -ENOMEM;
	cl->v = v;
	cl->h = (struct ev_handler){.fd = fd, .fn = vsock_client_on_io, .opaque = cl};
	cl->deadline_us = vsock_handshake_deadline(v);
	ret = evloop_add(v->loop, &cl->h, EPOLLIN);
	if (ret) {
		free(cl);
		return ret;
	}
	cl->next = v->clients;
	if (v->clients)
		v->clients->prev = cl;
	v->clients = cl;
	v->nr_conns++;
	return 0;
}

static void vsock_listen_mask(struct vsock *v, uint32_t events)
{
	(void)evloop_mod(v->loop, &v->listen_h, events);
}

void vsock_host_resume_accept(struct vsock *v)
{
	if (v->accept_paused && v->listening) {
		v->accept_paused = false;
		vsock_listen_mask(v, EPOLLIN);
	}
}

static void vsock_on_listen(struct ev_handler *h, uint32_t events)
{
	struct vsock *v = h->opaque;

	(void)events;
	virtio_mmio_lock(&v->t);
	for (unsigned i = 0; i < VSOCK_ACCEPT_BATCH; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				/* EMFILE and friends: the connection stays queued, so stop
				 * polling until a stream frees an fd instead of spinning. */
				log_ratelimited(&v->rl, LOG_WARN, "%s: accept: %s", v->t.name,
						strerror(errno));
				v->accept_paused = true;
				vsock_listen_mask(v, 0);
			}
			break;
		}
		if (v->nr_conns >= VSOCK_MAX_CONNS || vsock_client_new(v, fd)) {
			v->st.conns_refused++;
			log_ratelimited(&v->rl, LOG_WARN,
					"%s: %u streams open, host client refused", v->t.name,
					v->nr_conns);
			close(fd);
		}
	}
	virtio_mmio_unlock(&v->t);
}

static int vsock_sun(struct sockaddr_un *a, const char *path, const char *suffix)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if ((size_t)snprintf(a->sun_path, sizeof(a->sun_path), "%s%s", path, suffix) >=
	    sizeof(a->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int vsock_host_listen(struct vsock *v)
{
	const char *path = v->cfg.uds_path;
	struct sockaddr_un a;
	struct stat st;
	int ret;

	ret = vsock_sun(&a, path, "");
	if (ret)
		return ret;
	if (lstat(path, &st) == 0) {
		/* A socket left by an earlier run is ours to replace; a file is not. */
		if (!S_ISSOCK(st.st_mode)) {
			log_err("vsock %s: %s exists and is not a socket", v->cfg.vsock_id, path);
			return -EEXIST;
		}
		unlink(path);
	}
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->listen_fd < 0)
		goto err;
	if (bind(v->listen_fd, (struct sockaddr *)&a, sizeof(a)))
		goto err;
	v->bound = true;
	if (listen(v->listen_fd, 128))
		goto err;
	v->listen_h = (struct ev_handler){.fd = v->listen_fd, .fn = vsock_on_listen, .opaque = v};
	ret = evloop_add(v->loop, &v->listen_h, EPOLLIN);
	if (ret) {
		errno = -ret;
		goto err;
	}
	v->listening = true;
	return 0;
err:
	ret = -errno;
	log_err("vsock %s: listen on %s: %s", v->cfg.vsock_id, path, strerror(errno));
	return ret;
}

void vsock_host_close(struct vsock *v)
{
	if (v->listening)
		evloop_del(v->loop, &v->listen_h);
	v->listening = false;
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	v->listen_fd = -1;
	/*
	 * The socket file stays, as Firecracker leaves it: the next
	 * vsock_create() replaces a stale socket.
	 */
	v->bound = false;
}

bool vsock_clients_expire(struct vsock *v, uint64_t now_us)
{
	struct vsock_client *cl = v->clients, *next;
	bool more = false;

	for (; cl; cl = next) {
		next = cl->next;
		if (now_us < cl->deadline_us) {
			more = true;
			continue;
		}
		v->st.handshake_timeouts++;
		vsock_client_free(cl, true);
	}
	return more;
}

void vsock_clients_free_all(struct vsock *v)
{
	while (v->clients)
		vsock_client_free(v->clients, true);
}

int vsock_host_connect(struct vsock *v, uint32_t port)
{
	struct sockaddr_un a;
	char suffix[16];
	int fd, ret;

	snprintf(suffix, sizeof(suffix), "_%u", port);
	ret = vsock_sun(&a, v->cfg.uds_path, suffix);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* AF_UNIX connects at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		close(fd);
		log_ratelimited(&v->rl, LOG_INFO, "%s: guest connect to %s: %s", v->t.name,
				a.sun_path, strerror(-ret));
		return ret;
	}
	return fd;
}
