// SPDX-License-Identifier: Apache-2.0
/*
 * Token buckets and the rate limiter around them (limiter.h).
 *
 * Refill is exact integer arithmetic: elapsed_ns * size / refill_ns tokens,
 * with the remainder carried to the next refill, so a slow rate (a few
 * tokens a second) accumulates instead of rounding to zero, and a 128-bit
 * product cannot overflow for any configured value.
 */
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "limiter.h"

#define NS_PER_MS 1000000ull
/* A day to refill, or more tokens than anything can move: settings, not limits. */
#define REFILL_MAX_MS (24ull * 3600 * 1000)
#define TOKENS_MAX    (1ull << 50)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bucket_check(const struct tbucket_cfg *b, const char *what, char *err, size_t errlen)
{
	if (b->size && !b->refill_time_ms) {
		snprintf(err, errlen,
			 "%s token bucket: refill_time must be positive when size is set", what);
		return -EINVAL;
	}
	if (b->size > TOKENS_MAX || b->one_time_burst > TOKENS_MAX ||
	    b->refill_time_ms > REFILL_MAX_MS) {
		snprintf(err, errlen,
			 "%s token bucket: size and one_time_burst up to %llu, refill_time up to "
			 "%llu ms",
			 what, (unsigned long long)TOKENS_MAX, (unsigned long long)REFILL_MAX_MS);
		return -EINVAL;
	}
	return 0;
}

int limiter_cfg_check(const struct limiter_cfg *c, char *err, size_t errlen)
{
	int r = bucket_check(&c->bw, "bandwidth", err, errlen);

	return r ? r : bucket_check(&c->ops, "ops", err, errlen);
}

bool limiter_cfg_unlimited(const struct limiter_cfg *c)
{
	return !c->bw.size && !c->ops.size;
}

static void bucket_save(const struct tbucket_cfg *b, struct pw *w)
{
	pw_u64(w, b->size);
	pw_u64(w, b->one_time_burst);
	pw_u64(w, b->refill_time_ms);
}

void limiter_cfg_save(const struct limiter_cfg *c, struct pw *w)
{
	bucket_save(&c->bw, w);
	bucket_save(&c->ops, w);
}

static void bucket_load(struct pr *r, struct tbucket_cfg *b)
{
	b->size = pr_u64(r);
	b->one_time_burst = pr_u64(r);
	b->refill_time_ms = pr_u64(r);
}

void limiter_cfg_load(struct pr *r, struct limiter_cfg *c)
{
	char why[160];

	bucket_load(r, &c->bw);
	bucket_load(r, &c->ops);
	/* The same rules as the API's: a restore cannot bring what a PUT could not. */
	if (!r->why && limiter_cfg_check(c, why, sizeof(why)))
		pr_fail(r, "a rate limiter out of range");
}

void tbucket_init(struct tbucket *b, const struct tbucket_cfg *cfg, uint64_t now)
{
	*b = (struct tbucket){
	    .cfg = *cfg, .budget = cfg->size, .burst = cfg->one_time_burst, .last_ns = now};
}

static void bucket_refill(struct tbucket *b, uint64_t now)
{
	unsigned __int128 add;
	uint64_t refill_ns = b->cfg.refill_time_ms * NS_PER_MS, tokens;

	if (now <= b->last_ns)
		return;
	add = (unsigned __int128)(now - b->last_ns) * b->cfg.size + b->carry_rem;
	b->last_ns = now;
	tokens = (uint64_t)(add / refill_ns);
	b->carry_rem = (uint64_t)(add % refill_ns);
	/* Pay what a large request left owing first. */
	if (b->debt) {
		uint64_t pay = tokens < b->debt ? tokens : b->debt;

		b->debt -= pay;
		tokens -= pay;
	}
	b->budget = tokens >= b->cfg.size - b->budget ? b->cfg.size : b->budget + tokens;
	if (b->budget == b->cfg.size)
		b->carry_rem = 0; /* a full bucket does not save up */
}

/*
 * Nanoseconds until @n tokens (and any debt) have refilled, rounded up;
 * the part of a token already accrued (carry_rem) counts.
 */
static uint64_t bucket_wait(const struct tbucket *b, uint64_t n)
{
	unsigned __int128 need = (unsigned __int128)(n - b->budget) + b->debt;
	unsigned __int128 ns = need * b->cfg.refill_time_ms * NS_PER_MS;

	ns = ns > b->carry_rem ? ns - b->carry_rem : 0;
	ns = (ns + b->cfg.size - 1) / b->cfg.size;
	return ns > UINT64_MAX / 2 ? UINT64_MAX / 2 : (uint64_t)ns;
}

uint64_t tbucket_take(struct tbucket *b, uint64_t n, uint64_t now)
{
	uint64_t rest;

	if (!b->cfg.size || !n)
		return 0;
	if (b->burst >= n) {
		b->burst -= n;
		return 0;
	}
	bucket_refill(b, now);
	/* The burst covers part; the bucket must have the rest. */
	rest = n - b->burst;

	if (rest > b->cfg.size) {
		/* Larger than the bucket can ever hold: it goes once the bucket is full. */
		if (b->budget < b->cfg.size || b->debt)
			return bucket_wait(b, b->cfg.size);
		b->burst = 0;
		b->budget = 0;
		b->debt = rest - b->cfg.size;
		return 0;
	}
	if (b->budget < rest || b->debt)
		return bucket_wait(b, rest);
	b->burst = 0;
	b->budget -= rest;
	return 0;
}

static void limiter_on_timer(struct ev_handler *h, uint32_t events)
{
	struct limiter *l = h->opaque;
	uint64_t ticks;

	(void)events;
	if (read(h->fd, &ticks, sizeof(ticks)) < 0)
		return;
	l->waiting = false;
	l->wake(l->opaque);
}

static void limiter_arm(struct limiter *l, uint64_t ns)
{
	struct itimerspec once = {.it_value = {.tv_sec = (time_t)(ns / 1000000000ull),
					       .tv_nsec = (long)(ns % 1000000000ull)}};

	if (!once.it_value.tv_sec && !once.it_value.tv_nsec)
		once.it_value.tv_nsec = 1; /* zero would disarm it */
	if (l->timer_fd >= 0 && timerfd_settime(l->timer_fd, 0, &once, NULL) == 0)
		l->waiting = true;
}

int limiter_init(struct limiter *l, const struct limiter_cfg *cfg, struct evloop *loop,
		 void (*wake)(void *opaque), void *opaque)
{
	uint64_t now = now_ns();
	int r;

	*l = (struct limiter){.loop = loop, .timer_fd = -1, .wake = wake, .opaque = opaque};
	tbucket_init(&l->bw, &cfg->bw, now);
	tbucket_init(&l->ops, &cfg->ops, now);
	l->limited = !limiter_cfg_unlimited(cfg);
	if (!loop)
		return 0; /* unit tests drive the buckets without a loop */
	/* Made up front, even unlimited: a PATCH may add limits to a running VM. */
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer_fd < 0)
		return -errno;
	l->h = (struct ev_handler){.fd = l->timer_fd, .fn = limiter_on_timer, .opaque = l};
	r = evloop_add(loop, &l->h, EPOLLIN);
	if (r) {
		close(l->timer_fd);
		l->timer_fd = -1;
		return r;
	}
	l->timer_added = true;
	return 0;
}

void limiter_destroy(struct limiter *l)
{
	if (l->timer_added)
		evloop_del(l->loop, &l->h);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	l->timer_fd = -1;
	l->timer_added = false;
}

void limiter_update(struct limiter *l, const struct limiter_cfg *cfg)
{
	uint64_t now = now_ns();
	struct itimerspec off = {0};

	tbucket_init(&l->bw, &cfg->bw, now);
	tbucket_init(&l->ops, &cfg->ops, now);
	l->limited = !limiter_cfg_unlimited(cfg);
	if (l->waiting) {
		if (l->timer_fd >= 0)
			timerfd_settime(l->timer_fd, 0, &off, NULL);
		l->waiting = false;
		l->wake(l->opaque);
	}
}

bool limiter_consume(struct limiter *l, uint64_t bytes)
{
	uint64_t now, wait_ops, wait_bw;
	struct tbucket ops_before;

	if (!l->limited)
		return true;
	if (l->waiting)
		return false;
	now = now_ns();
	ops_before = l->ops;
	wait_ops = tbucket_take(&l->ops, 1, now);
	wait_bw = wait_ops ? 0 : tbucket_take(&l->bw, bytes, now);
	if (!wait_ops && !wait_bw)
		return true;
	if (wait_bw)
		l->ops = ops_before; /* all or nothing */
	l->throttled++;
	limiter_arm(l, wait_ops ? wait_ops : wait_bw);
	return false;
}

void limiter_refund(struct limiter *l, uint64_t bytes)
{
	struct tbucket *b = &l->bw;

	if (!b->cfg.size || !bytes)
		return;
	if (b->debt) {
		uint64_t pay = bytes < b->debt ? bytes : b->debt;

		b->debt -= pay;
		bytes -= pay;
	}
	b->budget = bytes >= b->cfg.size - b->budget ? b->cfg.size : b->budget + bytes;
}

bool limiter_blocked(const struct limiter *l)
{
	return l->waiting;
}
