/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_EVLOOP_H
#define EMBER_EVLOOP_H

#include <stdatomic.h>
#include <sys/epoll.h>

#include "ember.h"

/*
 * The VMM thread's epoll loop.  Every device backend, the console input and
 * (later) the API command queue are handlers on it, so device state is only
 * ever touched from this one thread plus the vCPU exits that reach it.
 */
struct ev_handler {
	int fd;
	void (*fn)(struct ev_handler *h, uint32_t events);
	void *opaque;
};

struct evloop {
	int epfd;
	atomic_bool stop;
	bool polled; /* evloop_poll ran inside a handler: the batch may be stale */
};

int evloop_init(struct evloop *l);
void evloop_destroy(struct evloop *l);
int evloop_add(struct evloop *l, struct ev_handler *h, uint32_t events);
int evloop_del(struct evloop *l, struct ev_handler *h);
/* The events @h (already added) waits for from now on; 0 waits for none. */
int evloop_mod(struct evloop *l, struct ev_handler *h, uint32_t events);
/* Dispatches events until evloop_stop(); returns 0 or -errno from epoll. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);
/*
 * From inside a handler that works for long (a migration's pre-copy):
 * dispatches the events ready now, without waiting.  The caller must have
 * turned its own handler's events off (evloop_mod 0).  The outer loop then
 * drops the rest of its batch, whose handlers may be gone, and asks again:
 * every handler is level-triggered, so nothing is lost.
 */
int evloop_poll(struct evloop *l);

#endif /* EMBER_EVLOOP_H */
