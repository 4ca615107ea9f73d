// SPDX-License-Identifier: Apache-2.0
/*
 * The hybrid muxer's plumbing, below its streams (vsock_conn.c) and host
 * clients (vsock_client.c): the listening socket on uds_path, connecting
 * guest-initiated streams to "<uds_path>_<port>", the reaper's doorbell and
 * the handshake timer.  It calls nothing above it.
 */
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock_mux.h"

static void vsock_listen_mask(struct vsock_mux *m, uint32_t events)
{
	(void)evloop_mod(m->loop, &m->listen_h, events);
}

void vsock_host_pause_accept(struct vsock_mux *m)
{
	m->accept_paused = true;
	vsock_listen_mask(m, 0);
}

void vsock_host_resume_accept(struct vsock_mux *m)
{
	if (m->accept_paused && m->listening) {
		m->accept_paused = false;
		vsock_listen_mask(m, EPOLLIN);
	}
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

int vsock_host_listen(struct vsock_mux *m, void (*on_accept)(struct ev_handler *h, uint32_t events))
{
	const char *path = m->cfg.uds_path;
	struct sockaddr_un a;
	int ret;

	ret = vsock_sun(&a, path, "");
	if (ret)
		return ret;
	/* A socket left by an earlier run is ours to replace; a live one or a file is not. */
	ret = sock_path_claim(path);
	if (ret) {
		log_err("vsock %s: %s %s", m->cfg.vsock_id, path,
			ret == -EADDRINUSE ? "is a socket another process listens on"
			: ret == -EEXIST   ? "exists and is not a socket"
					   : strerror(-ret));
		return ret;
	}
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0)
		goto err;
	if (bind(m->listen_fd, (struct sockaddr *)&a, sizeof(a)))
		goto err;
	m->bound = true;
	if (listen(m->listen_fd, 128))
		goto err;
	m->listen_h = (struct ev_handler){.fd = m->listen_fd, .fn = on_accept, .opaque = m};
	ret = evloop_add(m->loop, &m->listen_h, EPOLLIN);
	if (ret) {
		errno = -ret;
		goto err;
	}
	m->listening = true;
	return 0;
err:
	ret = -errno;
	log_err("vsock %s: listen on %s: %s", m->cfg.vsock_id, path, strerror(errno));
	return ret;
}

/* A path that is there and not a socket, or a directory that cannot take one. */
int vsock_mux_probe(const struct vsock_config *cfg)
{
	char dir[sizeof(cfg->uds_path)];
	struct stat st;
	char *slash;

	if (lstat(cfg->uds_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_err("vsock %s: %s exists and is not a socket", cfg->vsock_id, cfg->uds_path);
		return -EEXIST;
	}
	snprintf(dir, sizeof(dir), "%s", cfg->uds_path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0'; /* "/x" keeps "/" */
	errno = ENOTDIR;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		int r = -errno;

		log_err("vsock %s: cannot create %s: %s", cfg->vsock_id, cfg->uds_path,
			strerror(errno));
		return r;
	}
	return 0;
}

void vsock_host_close(struct vsock_mux *m)
{
	if (m->listening)
		evloop_del(m->loop, &m->listen_h);
	m->listening = false;
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	m->listen_fd = -1;
	/*
	 * The socket file stays, as Firecracker leaves it: the next
	 * vsock_create() replaces a stale socket.
	 */
	m->bound = false;
}

int vsock_host_connect(struct vsock_mux *m, uint32_t port)
{
	struct sockaddr_un a;
	char suffix[16];
	int fd, ret;

	snprintf(suffix, sizeof(suffix), "_%u", port);
	ret = vsock_sun(&a, m->cfg.uds_path, suffix);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* AF_UNIX connects at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		close(fd);
		log_ratelimited(&m->rl, LOG_INFO, "%s: guest connect to %s: %s", m->name,
				a.sun_path, strerror(-ret));
		return ret;
	}
	return fd;
}

void vsock_reap_arm(struct vsock_mux *m)
{
	if (m->reap_fd >= 0)
		(void)eventfd_write(m->reap_fd, 1);
}

uint64_t vsock_handshake_deadline(struct vsock_mux *m)
{
	uint64_t ms = m->handshake_ms;

	if (!m->timer_armed && m->timer_fd >= 0) {
		struct itimerspec once = {.it_value = {.tv_sec = (time_t)(ms / 1000),
						       .tv_nsec = (long)(ms % 1000) * 1000000}};

		m->timer_armed = timerfd_settime(m->timer_fd, 0, &once, NULL) == 0;
	}
	return time_now_us() + ms * 1000;
}
