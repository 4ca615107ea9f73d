// SPDX-License-Identifier: Apache-2.0
#include <sys/epoll.h>
#include <unistd.h>

#include "evloop.h"

#define EVLOOP_BATCH 32

int evloop_init(struct evloop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	atomic_init(&l->stop, false);
	return l->epfd < 0 ? -errno : 0;
}

void evloop_destroy(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int evloop_add(struct evloop *l, struct ev_handler *h, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &ev) ? -errno : 0;
}

int evloop_del(struct evloop *l, struct ev_handler *h)
{
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL) ? -errno : 0;
}

int evloop_mod(struct evloop *l, struct ev_handler *h, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev) ? -errno : 0;
}

void evloop_stop(struct evloop *l)
{
	atomic_store(&l->stop, true);
}

int evloop_run(struct evloop *l)
{
	struct epoll_event ev[EVLOOP_BATCH];

	while (!atomic_load(&l->stop)) {
		int n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load(&l->stop); i++) {
			struct ev_handler *h = ev[i].data.ptr;

			h->fn(h, ev[i].events);
			if (l->polled) {
				l->polled = false;
				break;
			}
		}
	}
	return 0;
}

int evloop_poll(struct evloop *l)
{
	struct epoll_event ev[EVLOOP_BATCH];
	int n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, 0);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->polled = true;
	for (int i = 0; i < n && !atomic_load(&l->stop); i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
	}
	return 0;
}
