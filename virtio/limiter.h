/* SPDX-License-Identifier: Apache-2.0 */
/*
 * limiter.h - Firecracker's rate limiters: two token buckets, bytes and
 * operations, each with a size, a one-time burst and a refill time.
 *
 * A bucket holds at most @size tokens and refills at size / refill_time;
 * @one_time_burst tokens are spent first and never come back.  A bucket
 * with size 0 limits nothing (Firecracker's "no bucket").  A device asks
 * before each request (limiter_consume); when a bucket is short, nothing
 * is taken, a one-shot timer is armed for the moment enough has refilled,
 * and the device stops that queue until the limiter calls it back: a
 * throttled device sleeps, it never spins.
 *
 * The buckets are plain arithmetic on a clock the caller passes in (the
 * unit tests drive time by hand); limiter_* wraps them with the timerfd.
 */
#ifndef EMBER_LIMITER_H
#define EMBER_LIMITER_H

#include "ember.h"
#include "evloop.h"
#include "persist.h"

struct tbucket_cfg {
	uint64_t size;		 /* tokens; 0: unlimited */
	uint64_t one_time_burst; /* extra tokens at the start */
	uint64_t refill_time_ms; /* from empty to full; > 0 when size is */
};

struct limiter_cfg {
	struct tbucket_cfg bw;	/* bytes */
	struct tbucket_cfg ops; /* requests */
};

/* 0, or -EINVAL with a message (size without a refill time, absurd values). */
int limiter_cfg_check(const struct limiter_cfg *c, char *err, size_t errlen);
bool limiter_cfg_unlimited(const struct limiter_cfg *c);
/* Snapshots: the settings, little-endian (3 u64 per bucket, bytes first). */
void limiter_cfg_save(const struct limiter_cfg *c, struct pw *w);
void limiter_cfg_load(struct pr *r, struct limiter_cfg *c);

struct tbucket {
	struct tbucket_cfg cfg;
	uint64_t budget;    /* tokens now (without the burst) */
	uint64_t burst;	    /* one-time burst left */
	uint64_t debt;	    /* tokens owed by a request larger than the bucket */
	uint64_t last_ns;   /* when budget was last refilled */
	uint64_t carry_rem; /* sub-token refill remainder, so slow rates add up */
};

void tbucket_init(struct tbucket *b, const struct tbucket_cfg *cfg, uint64_t now_ns);
/*
 * Takes @n tokens if the bucket has them (a request larger than the whole
 * bucket goes when the bucket is full and leaves a debt).  Returns 0 when
 * taken, else the nanoseconds until it could be.
 */
uint64_t tbucket_take(struct tbucket *b, uint64_t n, uint64_t now_ns);

struct limiter {
	struct tbucket bw, ops;
	bool limited; /* a bucket has a size */
	struct evloop *loop;
	struct ev_handler h;
	int timer_fd;
	bool timer_added, waiting;
	void (*wake)(void *opaque); /* the device's queue may go on */
	void *opaque;
	uint64_t throttled; /* times a request had to wait, for metrics */
};

/* A limiter with @cfg; @wake is called (on the loop) when a wait is over. */
int limiter_init(struct limiter *l, const struct limiter_cfg *cfg, struct evloop *loop,
		 void (*wake)(void *opaque), void *opaque);
void limiter_destroy(struct limiter *l);
/* New settings at once (PATCH): the buckets start full; a waiting device is woken. */
void limiter_update(struct limiter *l, const struct limiter_cfg *cfg);
/*
 * May a request of @bytes bytes (one operation) go now?  true: its tokens
 * are taken.  false: nothing is taken and the timer is armed; the device
 * leaves the request where it is and waits for wake().
 */
bool limiter_consume(struct limiter *l, uint64_t bytes);
/* The request after a true limiter_consume turned out smaller: give back the rest. */
void limiter_refund(struct limiter *l, uint64_t bytes);
/* Waiting for the timer: a kick from the guest must not bypass the limit. */
bool limiter_blocked(const struct limiter *l);

#endif /* EMBER_LIMITER_H */
