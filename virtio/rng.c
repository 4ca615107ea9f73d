// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng (entropy device, virtio 1.1 section 5.4): one request queue; the
 * guest offers writable buffers and we fill them from the host's getrandom().
 * Linux's virtio_rng driver feeds /dev/hwrng and the kernel's pool with it.
 *
 * The whole device is this file and its registration line at the end: the
 * device model (device.h) does the rest.  A buffer is filled up to
 * VRNG_MAX_REQ bytes, so one huge chain cannot hold the VMM thread; a
 * getrandom() that would block (the host's pool not yet ready) or fails
 * leaves the rest of the buffer unfilled, and the used length says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "device.h"
#include "limiter.h"

#define VRNG_QUEUE_MAX 256
#define VRNG_BUDGET    64	   /* requests per wakeup, then yield */
#define VRNG_MAX_REQ   (64 * 1024) /* bytes filled per request at most */

struct vrng_config {
	char id[64]; /* Firecracker has one entropy device; ours is named for messages */
	struct limiter_cfg limiter; /* PUT /entropy's rate_limiter */
};

struct vrng_stats {
	uint64_t requests, bytes;
	uint64_t bad_chain;   /* unwalkable, or no writable segment in guest memory */
	uint64_t host_errors; /* getrandom() failed or would have blocked */
};

struct vrng {
	struct virtio_mmio t; /* t.lock covers the rest while the device runs */
	struct vrng_config cfg;
	const struct guest_mem *gm;
	struct vrng_stats st;
	struct limiter lim;
	struct ratelimit rl;
	struct virtq_chain chain; /* scratch for the queue loop */
};

/* What the chain asks for: its writable bytes, up to VRNG_MAX_REQ. */
static uint32_t vrng_want(const struct virtq_chain *c)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < c->nr && n < VRNG_MAX_REQ; i++)
		if (c->seg[i].write)
			n += c->seg[i].len;
	return n < VRNG_MAX_REQ ? (uint32_t)n : VRNG_MAX_REQ;
}

/* Fills the chain's writable segments; *used = the bytes written. */
static int vrng_fill(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vrng *r = dev;
	uint32_t done = 0, want = c->err ? 0 : vrng_want(c);

	/* Throttled: the chain goes back to the ring until the limiter's timer. */
	if (!limiter_consume(&r->lim, want))
		return VIRTIO_CHAIN_RETRY;
	r->st.requests++;
	if (c->err) {
		r->st.bad_chain++;
		log_ratelimited(&r->rl, LOG_WARN, "%s: guest: malformed chain %u", r->t.name,
				c->head);
		return VIRTIO_CHAIN_USED;
	}
	for (unsigned i = 0; i < c->nr && done < VRNG_MAX_REQ; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint32_t len = s->len < VRNG_MAX_REQ - done ? s->len : VRNG_MAX_REQ - done;
		uint8_t *p;
		ssize_t n;

		if (!s->write || !len)
			continue; /* the device only writes; a readable segment is ignored */
		p = gm_ptr_w(r->gm, s->addr, len);
		if (!p) {
			r->st.bad_chain++;
			log_ratelimited(&r->rl, LOG_WARN, "%s: guest: buffer outside its memory",
					r->t.name);
			break;
		}
		n = getrandom(p, len, GRND_NONBLOCK);
		if (n <= 0) {
			r->st.host_errors++;
			break;
		}
		done += (uint32_t)n;
		if ((uint32_t)n < len)
			break;
	}
	r->st.bytes += done;
	limiter_refund(&r->lim, want - done);
	*used = done;
	return VIRTIO_CHAIN_USED;
}

static uint64_t vrng_features(void *dev)
{
	(void)dev;
	return 0;
}

static bool vrng_more(void *dev)
{
	/* While the limiter waits, a guest kick changes nothing: its timer wakes us. */
	return !limiter_blocked(&((struct vrng *)dev)->lim);
}

static void vrng_queue_notify(void *dev, unsigned q)
{
	struct vrng *r = dev;
	const struct virtio_queue_loop l = {
	    .chain = &r->chain, .budget = VRNG_BUDGET, .more = vrng_more, .handle = vrng_fill};

	virtio_mmio_process(&r->t, q, &l);
}

/* The limiter's wait is over (VMM thread, no lock held): serve the queue again. */
static void vrng_wake(void *opaque)
{
	virtio_mmio_kick(&((struct vrng *)opaque)->t, 0);
}

static const struct virtio_dev_ops vrng_ops = {
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .queue_max = VRNG_QUEUE_MAX,
    .features = vrng_features,
    .queue_notify = vrng_queue_notify,
};

/* ---- settings: `--entropy` takes no value; the id is fixed ------------------- */

static int vrng_parse(const char *spec, void *cfg, char *err, size_t errlen)
{
	if (spec && *spec) {
		snprintf(err, errlen, "takes no value");
		return -EINVAL;
	}
	snprintf(((struct vrng_config *)cfg)->id, sizeof(((struct vrng_config *)cfg)->id),
		 "entropy");
	return 0;
}

static const char *vrng_id(const void *cfg)
{
	return ((const struct vrng_config *)cfg)->id;
}

static struct limiter_cfg *vrng_limiter(void *cfg, const char *which)
{
	return *which ? NULL : &((struct vrng_config *)cfg)->limiter;
}

/* State version 2: the id (string), the rate limiter (limiter_cfg_save); 1: the id. */
static void vrng_save(const void *cfg, struct pw *w)
{
	const struct vrng_config *c = cfg;

	pw_str(w, c->id);
	limiter_cfg_save(&c->limiter, w);
}

static void vrng_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vrng_config *c = cfg;

	pr_str(r, c->id, sizeof(c->id));
	if (version >= 2)
		limiter_cfg_load(r, &c->limiter);
	if (!r->why && !c->id[0])
		pr_fail(r, "an empty id");
}

/* ---- an instance ------------------------------------------------------------- */

static void vrng_destroy(void *dev)
{
	struct vrng *r = dev;

	if (!r)
		return;
	limiter_destroy(&r->lim);
	virtio_mmio_destroy(&r->t);
	free(r);
}

static int vrng_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	struct vrng *r = calloc(1, sizeof(*r));
	char name[80];
	int ret;

	*dev = NULL;
	if (!r)
		return -ENOMEM;
	r->cfg = *(const struct vrng_config *)cfg;
	r->cfg.id[sizeof(r->cfg.id) - 1] = '\0';
	r->gm = env->gm;
	r->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	snprintf(name, sizeof(name), "virtio-rng %s", r->cfg.id);
	r->lim.timer_fd = -1;
	ret = virtio_mmio_init(&r->t, name, &vrng_ops, r, env->gm, env->loop);
	if (!ret)
		ret = limiter_init(&r->lim, &r->cfg.limiter, env->loop, vrng_wake, r);
	if (ret) {
		log_err("entropy %s: %s", r->cfg.id, strerror(-ret));
		vrng_destroy(r);
		return ret;
	}
	*dev = r;
	return 0;
}

static struct virtio_mmio *vrng_transport(void *dev)
{
	return &((struct vrng *)dev)->t;
}

static const void *vrng_config_of(const void *dev)
{
	return &((const struct vrng *)dev)->cfg;
}

static json_t *vrng_metrics(const void *dev)
{
	const struct vrng_stats *s = &((const struct vrng *)dev)->st;

	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "entropy_requests", (json_int_t)s->requests,
			 "entropy_bytes", (json_int_t)s->bytes, "bad_chains",
			 (json_int_t)s->bad_chain, "host_rng_fails", (json_int_t)s->host_errors,
			 "entropy_rate_limiter_throttled",
			 (json_int_t)((const struct vrng *)dev)->lim.throttled);
}

static const struct vdev_type vrng_type = {
    .name = "entropy",
    .cli_opt = "--entropy",
    .cli_flag = true,
    .cli_help = "  --entropy           virtio-rng fed from the host's getrandom()\n",
    .max = 1,
    .config_size = sizeof(struct vrng_config),
    .parse = vrng_parse,
    .id = vrng_id,
    .create = vrng_create,
    .destroy = vrng_destroy,
    .transport = vrng_transport,
    .config = vrng_config_of,
    .metrics = vrng_metrics,
    .metrics_key = "entropy",
    .metrics_one = true,
    .limiter = vrng_limiter,
    .state_version = 2,
    .save = vrng_save,
    .load = vrng_load,
};
VDEV_REGISTER(vrng_type);
