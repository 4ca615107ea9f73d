// SPDX-License-Identifier: Apache-2.0
/*
 * The API thread's event loop.  Each connection has a fixed input buffer and
 * at most one response in flight: input is parsed only while nothing is
 * waiting to be written, so a client that pipelines without reading stops
 * being read from instead of making us queue responses without bound.
 * Level-triggered epoll, interest recomputed after every change.
 */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ember.h"
#include "server.h"
#include "thread.h"

#define API_IN_BUF     8192
#define API_TAG_LISTEN 0u
#define API_TAG_STOP   1u

struct api_conn {
	int fd;
	uint32_t events; /* current epoll interest */
	bool rd_eof;
	bool close_after;	/* close once the queued response is written */
	uint64_t deadline_us;	/* a request begun must complete by then; UINT64_MAX idle */
	uint64_t idle_since_us; /* between requests since then; 0 busy */
	size_t in_len;
	char in[API_IN_BUF];
	char *out;
	size_t out_len, out_off;
	struct http_parser parser;
};

struct api_server {
	struct api_server_opts opts;
	char *path;
	int lfd, epfd, stopfd;
	struct ember_thread thread;
	struct api_state *st;
	struct api_conn **conns;
	unsigned nr_conns;
};

static const char api_full_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nServer: Firecracker API\r\nConnection: close\r\n"
    "Content-Type: application/json\r\nContent-Length: 49\r\n\r\n"
    "{\"fault_message\":\"Too many open API connections\"}";

int api_socket_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "API socket path is longer than %zu bytes: %s",
			 sizeof(sa.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	/* Only a socket nobody listens on any more is ours to replace. */
	rc = sock_path_claim(path);
	if (rc) {
		snprintf(err, errlen, "%s %s", path,
			 rc == -EEXIST	     ? "exists and is not a socket"
			 : rc == -EADDRINUSE ? "is in use by another process"
					     : strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(-rc));
		goto fail_close;
	}
	/* Nobody can connect before listen(), so tightening the mode here
	 * leaves no window with the umask's permissions. */
	if (chmod(path, 0600) || listen(fd, 64)) {
		rc = -errno;
		snprintf(err, errlen, "cannot set up %s: %s", sa.sun_path, strerror(-rc));
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	unlink(path);
fail_close:
	close(fd);
	return rc;
}

static void api_conn_close(struct api_server *srv, unsigned idx)
{
	struct api_conn *c = srv->conns[idx];

	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	http_parser_free(&c->parser);
	free(c->out);
	free(c);
	srv->conns[idx] = srv->conns[--srv->nr_conns];
	srv->conns[srv->nr_conns] = NULL;
}

/* Between requests: nothing buffered, nothing half-parsed, nothing to send. */
static bool api_conn_idle(const struct api_conn *c)
{
	return !c->out && !c->in_len && c->parser.state == HTTP_ST_LINE && !c->parser.line_len;
}

/*
 * Keep-alive connections may sit idle as long as they like (a pooled Go
 * client reuses them, and races a server that closes them); only a
 * request that has begun has a deadline, so a slow client cannot hold a
 * slot.  Called after every event on @c.
 */
static void api_conn_clock(const struct api_server *srv, struct api_conn *c, uint64_t now)
{
	if (api_conn_idle(c)) {
		c->deadline_us = UINT64_MAX;
		if (!c->idle_since_us)
			c->idle_since_us = now;
	} else {
		if (c->idle_since_us || c->deadline_us == UINT64_MAX)
			c->deadline_us = now + (uint64_t)srv->opts.timeout_ms * 1000u;
		c->idle_since_us = 0;
	}
}

/* At the cap: the connection idle the longest makes room.  False if none is idle. */
static bool api_evict_idle(struct api_server *srv)
{
	unsigned best = srv->nr_conns;

	for (unsigned i = 0; i < srv->nr_conns; i++)
		if (srv->conns[i]->idle_since_us &&
		    (best == srv->nr_conns ||
		     srv->conns[i]->idle_since_us < srv->conns[best]->idle_since_us))
			best = i;
	if (best == srv->nr_conns)
		return false;
	log_debug("api: %u connections: closing the one idle longest", srv->nr_conns);
	api_conn_close(srv, best);
	return true;
}

static void api_accept(struct api_server *srv)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct api_conn *c;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("api: accept: %s", strerror(errno));
			return;
		}
		if (srv->nr_conns >= srv->opts.max_conns && !api_evict_idle(srv)) {
			/* Best effort: the reply fits any socket buffer. */
			if (send(fd, api_full_response, sizeof(api_full_response) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("api: 503 not delivered: %s", strerror(errno));
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = ev.events;
		/* Idle until it sends something (and evictable meanwhile). */
		c->deadline_us = UINT64_MAX;
		c->idle_since_us = time_now_us();
		http_parser_init(&c->parser, srv->opts.max_payload);
		ev.data.ptr = c;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		srv->conns[srv->nr_conns++] = c;
	}
}

/* Writes what it can; false when the peer is gone. */
static bool api_flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return true;
}

static int api_queue(struct api_conn *c, const char *buf, size_t len)
{
	char *n = realloc(c->out, c->out_len + len);

	if (!n)
		return -ENOMEM;
	memcpy(n + c->out_len, buf, len);
	c->out = n;
	c->out_len += len;
	return 0;
}

static int api_respond(struct api_conn *c, const struct api_response *resp, bool keep_alive)
{
	char *buf;
	size_t len;
	int rc;

	rc = http_response_build(resp->status, resp->body, resp->body ? strlen(resp->body) : 0,
				 keep_alive, resp->deprecated, &buf, &len);
	if (rc)
		return rc;
	rc = api_queue(c, buf, len);
	free(buf);
	if (!keep_alive)
		c->close_after = true;
	return rc;
}

/* One complete request: route it, run its command if any, queue the answer. */
static int api_serve(struct api_server *srv, struct api_conn *c)
{
	const struct http_request *req = &c->parser.req;
	struct api_response resp;
	struct api_cmd cmd;
	uint64_t t0 = time_now_us();
	int rc;

	if (api_handle(srv->st, req, &resp, &cmd) == API_EXEC) {
		char err[API_ERR_MAX] = "";

		rc = srv->opts.submit ? srv->opts.submit(srv->opts.opaque, &cmd, err, sizeof(err))
				      : -ENOSYS;
		api_complete(srv->st, &cmd, rc, err, &resp);
	}
	log_debug("api: %s %s -> %d", http_method_name(req->method), req->path, resp.status);
	rc = api_respond(c, &resp, req->keep_alive);
	if (srv->opts.on_request)
		srv->opts.on_request(srv->opts.opaque, req, resp.status, time_now_us() - t0);
	api_response_free(&resp);
	return rc;
}

/* Parses buffered input while no response is waiting.  False: close now. */
static bool api_progress(struct api_server *srv, struct api_conn *c)
{
	while (!c->out && !c->close_after && c->in_len) {
		enum http_parse_result r;
		size_t used;

		r = http_parser_feed(&c->parser, c->in, c->in_len, &used);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (c->parser.continue_pending) {
			c->parser.continue_pending = false;
			if (api_queue(c, http_continue_response, strlen(http_continue_response)))
				return false;
		}
		if (r == HTTP_PARSE_READY) {
			if (api_serve(srv, c))
				return false;
			http_parser_next(&c->parser);
			c->deadline_us = time_now_us() + (uint64_t)srv->opts.timeout_ms * 1000u;
		} else if (r == HTTP_PARSE_ERROR) {
			struct api_response resp = {0};

			api_fault(&resp, c->parser.err_status, "%s", c->parser.err_msg);
			log_debug("api: bad request: %s", c->parser.err_msg);
			if (api_respond(c, &resp, false))
				c->close_after = true;
			if (srv->opts.on_request)
				srv->opts.on_request(srv->opts.opaque, NULL, resp.status, 0);
			api_response_free(&resp);
		}
		if (!api_flush(c))
			return false;
	}
	if (c->out)
		return true;
	if (c->close_after)
		return false;
	/* Peer done sending: nothing more can complete. */
	return !c->rd_eof;
}

static void api_conn_event(struct api_server *srv, unsigned idx, uint32_t events)
{
	struct api_conn *c = srv->conns[idx];
	struct epoll_event ev;
	bool keep = true;

	if (events & EPOLLOUT)
		keep = api_flush(c);
	if (keep && (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) && !c->rd_eof) {
		while (c->in_len < API_IN_BUF) {
			ssize_t n = read(c->fd, c->in + c->in_len, API_IN_BUF - c->in_len);

			if (n > 0) {
				c->in_len += (size_t)n;
				continue;
			}
			if (n == 0)
				c->rd_eof = true;
			else if (errno == EINTR)
				continue;
			else if (errno != EAGAIN)
				keep = false;
			break;
		}
	}
	if (keep)
		keep = api_progress(srv, c);
	if (!keep) {
		api_conn_close(srv, idx);
		return;
	}
	api_conn_clock(srv, c, time_now_us());
	ev.events = (c->out ? EPOLLOUT : 0) |
		    (!c->rd_eof && c->in_len < API_IN_BUF ? EPOLLIN | EPOLLRDHUP : 0);
	if (ev.events != c->events) {
		ev.data.ptr = c;
		c->events = ev.events;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev))
			api_conn_close(srv, idx);
	}
}

static int api_next_timeout(const struct api_server *srv, uint64_t now)
{
	uint64_t first = UINT64_MAX;

	for (unsigned i = 0; i < srv->nr_conns; i++)
		if (srv->conns[i]->deadline_us < first)
			first = srv->conns[i]->deadline_us;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)((first - now + 999) / 1000);
}

static void *api_thread(void *arg)
{
	struct api_server *srv = arg;
	struct epoll_event evs[32];

	/* E.g. the seccomp filter: before the first byte from a client. */
	if (srv->opts.thread_setup && srv->opts.thread_setup()) {
		log_err("api: thread set-up failed, not serving");
		return NULL;
	}
	for (;;) {
		uint64_t now = time_now_us();
		int n = epoll_wait(srv->epfd, evs, ARRAY_SIZE(evs), api_next_timeout(srv, now));

		if (n < 0 && errno != EINTR) {
			log_err("api: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &srv->stopfd)
				return NULL;
			if (p == &srv->lfd) {
				api_accept(srv);
				continue;
			}
			/* Closing swaps the last connection into the hole, so look
			 * the pointer up instead of trusting an index. */
			for (unsigned j = 0; j < srv->nr_conns; j++) {
				if (srv->conns[j] == p) {
					api_conn_event(srv, j, evs[i].events);
					break;
				}
			}
		}
		now = time_now_us();
		for (unsigned j = 0; j < srv->nr_conns;) {
			if (srv->conns[j]->deadline_us <= now) {
				log_debug("api: closing a connection idle for %u ms",
					  srv->opts.timeout_ms);
				api_conn_close(srv, j);
			} else {
				j++;
			}
		}
		/* No client left: what serving them touched of the stack (a
		 * deeply nested document parses deep) need not stay resident. */
		if (!srv->nr_conns)
			thread_stack_trim();
	}
	return NULL;
}

static int api_epoll_add(int epfd, int fd, void *tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void api_server_free(struct api_server *srv)
{
	while (srv->nr_conns)
		api_conn_close(srv, srv->nr_conns - 1);
	if (srv->lfd >= 0) {
		close(srv->lfd);
		if (!srv->opts.keep_socket)
			unlink(srv->path);
	}
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->stopfd >= 0)
		close(srv->stopfd);
	free(srv->conns);
	free(srv->st);
	free(srv->path);
	free(srv);
}

int api_server_open(const struct api_server_opts *opts, struct api_server **out, char *err,
		    size_t errlen)
{
	struct api_server *srv;
	int rc;

	/*
	 * jansson seeds its hash function from /dev/urandom the first time a
	 * JSON object is made.  Do it here, on the caller's thread: the API
	 * thread may not open files once its seccomp filter is on.
	 */
	json_object_seed(0);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->lfd = srv->epfd = srv->stopfd = -1;
	srv->opts = *opts;
	if (!srv->opts.max_conns)
		srv->opts.max_conns = API_SERVER_MAX_CONNS;
	if (!srv->opts.timeout_ms)
		srv->opts.timeout_ms = API_SERVER_TIMEOUT_MS;
	srv->path = strdup(opts->sock_path);
	srv->st = calloc(1, sizeof(*srv->st));
	srv->conns = calloc(srv->opts.max_conns, sizeof(*srv->conns));
	rc = -ENOMEM;
	if (!srv->path || !srv->st || !srv->conns)
		goto fail;
	rc = api_state_init_zeroed(srv->st, opts->instance_id);
	if (rc) {
		snprintf(err, errlen, "invalid instance id (letters, digits and '-', 1..%d)",
			 API_ID_MAX - 1);
		goto fail;
	}
	if (opts->started && opts->initial_cfg)
		opts->initial_cfg(opts->opaque, &srv->st->cfg);
	srv->st->mmds = opts->mmds;
	srv->st->migration = opts->migration;
	if (opts->started)
		srv->st->vm_state = opts->paused ? API_VM_PAUSED : API_VM_RUNNING;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->epfd < 0 || srv->stopfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = api_socket_listen(srv->path, err, errlen);
	if (rc < 0)
		goto fail;
	srv->lfd = rc;
	rc = api_epoll_add(srv->epfd, srv->lfd, &srv->lfd);
	if (!rc)
		rc = api_epoll_add(srv->epfd, srv->stopfd, &srv->stopfd);
	if (rc)
		goto fail;
	*out = srv;
	return 0;
fail:
	api_server_free(srv);
	return rc;
}

int api_server_run(struct api_server *srv, char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	/* Signals belong to the VMM thread; the API thread must never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = thread_start(&srv->thread, THREAD_STACK, api_thread, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		snprintf(err, errlen, "cannot start the API thread: %s", strerror(-rc));
	return rc;
}

void api_server_stop(struct api_server *srv)
{
	uint64_t one = 1;

	if (!srv)
		return;
	if (write(srv->stopfd, &one, sizeof(one)) != sizeof(one))
		log_warn("api: cannot signal the API thread: %s", strerror(errno));
	thread_join(&srv->thread);
	api_server_free(srv);
}
