// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon (virtio 1.1 section 5.5), configured as Firecracker
 * configures it (settings in balloon_config.c).  Queues, in this order, the
 * optional ones only when the driver accepted their feature (Linux numbers
 * the queues it sets up consecutively):
 *   inflate, deflate    arrays of little-endian u32 page frame numbers;
 *   stats (F_STATS_VQ)  the guest's one statistics buffer, held until the
 *                       polling timer gives it back, asking for a refresh;
 *   hint (F_FREE_PAGE_HINT)  a command id, then free blocks, during a run
 *                       the host starts through free_page_hint_cmd_id;
 *   report (F_REPORTING)     free blocks the guest reports on its own.
 * Every page the guest gives up goes back to the host with gm_discard()
 * (MADV_DONTNEED); deflating needs nothing from us, since the guest's next
 * touch of a page brings it back.  F_DEFLATE_ON_OOM is the guest's business:
 * its OOM path deflates through the same deflate queue.
 *
 * Nothing the guest sends stops the device: malformed chains, PFNs outside
 * guest RAM and unaligned blocks are counted, logged (rate-limited) and
 * returned; the valid part of a request is still served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/timerfd.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>

#include "balloon.h"
#include "device.h"

#define VB_QUEUE_MAX   256
#define VB_BUDGET      64   /* chains per wakeup, then yield */
#define VB_CHAIN_PFNS  1024 /* PFNs in one request at most (Linux sends 256) */
#define VB_STATS_MAX   256  /* tags in one statistics buffer, as Firecracker */
#define VB_STAT_SIZE   10   /* struct virtio_balloon_stat: le16 tag, le64 val, packed */
#define VB_CONFIG_SIZE 16   /* num_pages, actual, free_page_hint_cmd_id, poison_val */
#define VB_NOQ	       0xffu
#define VB_PAGE	       4096u

struct vballoon {
	struct virtio_mmio t;	   /* t.lock covers the rest while the device runs */
	struct virtio_dev_ops ops; /* per instance: the queue count follows the settings */
	struct vballoon_config cfg;
	const struct guest_mem *gm;
	struct evloop *loop;
	struct ev_handler h_timer;	    /* statistics polling; fd -1 without statistics */
	unsigned q_stats, q_hint, q_report; /* by the negotiated features, or VB_NOQ */
	bool stats_held;		    /* the guest's statistics buffer is ours */
	uint16_t stats_head;
	bool hint_stopped; /* the guest ended a hinting run in the last batch */
	struct vballoon_counters st;
	struct ratelimit rl;
	uint32_t pfns[VB_CHAIN_PFNS];
	uint8_t stat_buf[VB_STATS_MAX * VB_STAT_SIZE];
	struct virtq_chain chain; /* scratch for the queue loop */
};

static void vb_bad_chain(struct vballoon *b, const char *queue, const struct virtq_chain *c)
{
	b->st.bad_chains++;
	log_ratelimited(&b->rl, LOG_WARN, "%s: guest: malformed %s request %u, ignored", b->t.name,
			queue, c->head);
}

/*
 * The parts of [gpa, gpa+len) inside guest RAM back to the host; the rest
 * (outside RAM, or an unaligned block) is counted and ignored.  Region by
 * region, so a huge bogus range costs a few calls, not one per page.
 */
static uint64_t vb_give_back(struct vballoon *b, uint64_t gpa, uint64_t len, uint64_t *fails)
{
	uint64_t done = 0, end = gpa + len;

	if (len > UINT64_MAX - gpa)
		end = UINT64_MAX;
	for (unsigned i = 0; i < b->gm->nr_regions; i++) {
		const struct gm_region *r = &b->gm->region[i];
		uint64_t lo = gpa > r->gpa ? gpa : r->gpa;
		uint64_t hi = end < r->gpa + r->size ? end : r->gpa + r->size;
		int e;

		if (lo >= hi)
			continue;
		e = gm_discard(b->gm, lo, hi - lo);
		if (!e) {
			done += hi - lo;
			continue;
		}
		if (e != -EINVAL && e != -EFAULT) {
			b->st.discard_fails++;
			log_ratelimited(&b->rl, LOG_WARN, "%s: cannot give back 0x%llx+0x%llx: %s",
					b->t.name, (unsigned long long)lo,
					(unsigned long long)(hi - lo), strerror(-e));
		}
	}
	if (done < len && fails)
		(*fails)++;
	if (done < len) {
		b->st.outside_bytes += len - done;
		log_ratelimited(
		    &b->rl, LOG_WARN,
		    "%s: guest: range 0x%llx+0x%llx not page-aligned guest RAM, ignored", b->t.name,
		    (unsigned long long)gpa, (unsigned long long)len);
	}
	return done;
}

/* A request's PFNs into b->pfns, copied once: their count, or -1 if malformed. */
static int vb_pfns(struct vballoon *b, const struct virtq_chain *c)
{
	uint32_t n = 0;

	if (c->err)
		return -1;
	for (unsigned i = 0; i < c->nr; i++) {
		const struct virtq_seg *s = &c->seg[i];

		if (s->write || s->len % 4 || s->len / 4 > VB_CHAIN_PFNS - n)
			return -1;
		if (gm_read(b->gm, s->addr, &b->pfns[n], s->len))
			return -1;
		n += s->len / 4;
	}
	for (uint32_t i = 0; i < n; i++)
		b->pfns[i] = le32toh(b->pfns[i]);
	return (int)n;
}

static int vb_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int vb_inflate(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vballoon *b = dev;
	int n = vb_pfns(b, c);

	*used = 0;
	b->st.inflate_count++;
	if (n < 0) {
		vb_bad_chain(b, "inflate", c);
		return VIRTIO_CHAIN_USED;
	}
	/* Sorted, consecutive frames become one madvise (duplicates are harmless). */
	qsort(b->pfns, (size_t)n, sizeof(b->pfns[0]), vb_cmp_u32);
	for (int i = 0, j; i < n; i = j) {
		uint64_t first = b->pfns[i];

		for (j = i + 1; j < n && b->pfns[j] - b->pfns[j - 1] <= 1; j++)
			;
		b->st.inflated_pages +=
		    vb_give_back(b, first * VB_PAGE,
				 ((uint64_t)b->pfns[j - 1] - first + 1) * VB_PAGE, NULL) /
		    VB_PAGE;
	}
	return VIRTIO_CHAIN_USED;
}

/* The pages come back when the guest touches them: only the count is ours. */
static int vb_deflate(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vballoon *b = dev;
	int n = vb_pfns(b, c);

	*used = 0;
	b->st.deflate_count++;
	if (n < 0)
		vb_bad_chain(b, "deflate", c);
	else
		b->st.deflated_pages += (uint64_t)n;
	return VIRTIO_CHAIN_USED;
}

/* The held statistics buffer back to the guest: it refreshes and re-posts it. */
static void vb_stats_return(struct vballoon *b)
{
	if (!b->stats_held)
		return;
	b->stats_held = false;
	virtio_mmio_push(&b->t, b->q_stats, b->stats_head, 0);
	virtio_mmio_signal_used(&b->t, b->q_stats);
}

static void vb_stats_parse(struct vballoon *b, uint32_t len)
{
	for (uint32_t off = 0; off + VB_STAT_SIZE <= len; off += VB_STAT_SIZE) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, b->stat_buf + off, 2);
		memcpy(&val, b->stat_buf + off + 2, 8);
		tag = le16toh(tag);
		if (tag >= VBALLOON_NR_STATS) {
			b->st.stats_unknown++;
			continue;
		}
		b->cfg.stats.present |= 1u << tag;
		b->cfg.stats.val[tag] = le64toh(val);
	}
	b->st.stats_updates++;
}

/*
 * Every chain is held, even a bad one, so a broken driver cannot make us
 * bounce buffers back and forth: the timer returns it.
 */
static int vb_stats(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vballoon *b = dev;
	uint32_t len = 0;
	bool ok = !c->err;

	*used = 0;
	if (b->stats_held) {
		log_ratelimited(&b->rl, LOG_WARN, "%s: guest: a second statistics buffer",
				b->t.name);
		vb_stats_return(b);
	}
	for (unsigned i = 0; ok && i < c->nr; i++) {
		const struct virtq_seg *s = &c->seg[i];

		ok = !s->write && s->len <= sizeof(b->stat_buf) - len &&
		     !gm_read(b->gm, s->addr, b->stat_buf + len, s->len);
		len += ok ? s->len : 0;
	}
	if (ok)
		vb_stats_parse(b, len);
	else
		vb_bad_chain(b, "statistics", c);
	b->stats_held = true;
	b->stats_head = c->head;
	return VIRTIO_CHAIN_KEPT;
}

/*
 * A run: the guest sends the host's command id (a readable u32), then free
 * blocks; blocks of an older run, or after the host said DONE or STOP, are
 * stale and only returned.  STOP from the guest ends its part of the run.
 */
static int vb_hint(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vballoon *b = dev;
	struct vballoon_config *cfg = &b->cfg;

	*used = 0;
	if (c->err) {
		vb_bad_chain(b, "hinting", c);
		return VIRTIO_CHAIN_USED;
	}
	for (unsigned i = 0; i < c->nr; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint32_t cmd;

		if (!s->write && s->len == 4) {
			if (gm_read(b->gm, s->addr, &cmd, 4)) {
				vb_bad_chain(b, "hinting", c);
				continue;
			}
			cfg->hint_guest_cmd = le32toh(cmd);
			cfg->hint_guest_set = true;
			b->hint_stopped = cfg->hint_guest_cmd == VBALLOON_HINT_STOP ||
					  cfg->hint_guest_cmd == VBALLOON_HINT_DONE;
			continue;
		}
		if (cfg->hint_cmd <= VBALLOON_HINT_DONE || !cfg->hint_guest_set ||
		    cfg->hint_guest_cmd != cfg->hint_cmd)
			continue;
		b->st.hint_count++;
		b->st.hinted_bytes += vb_give_back(b, s->addr, s->len, &b->st.hint_fails);
	}
	return VIRTIO_CHAIN_USED;
}

static int vb_report(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vballoon *b = dev;

	*used = 0;
	if (c->err) {
		vb_bad_chain(b, "reporting", c);
		return VIRTIO_CHAIN_USED;
	}
	for (unsigned i = 0; i < c->nr; i++) {
		b->st.report_count++;
		b->st.reported_bytes +=
		    vb_give_back(b, c->seg[i].addr, c->seg[i].len, &b->st.report_fails);
	}
	return VIRTIO_CHAIN_USED;
}

static void vb_queue_notify(void *dev, unsigned q)
{
	struct vballoon *b = dev;
	struct virtio_queue_loop l = {.chain = &b->chain, .budget = VB_BUDGET};

	l.handle = q == 0	      ? vb_inflate
		   : q == 1	      ? vb_deflate
		   : q == b->q_stats  ? vb_stats
		   : q == b->q_hint   ? vb_hint
		   : q == b->q_report ? vb_report
				      : NULL;
	if (!l.handle)
		return; /* a queue the driver set up without its feature: nothing to do */
	virtio_mmio_process(&b->t, q, &l);
	/* Firecracker's acknowledge_on_stop: the guest's STOP is answered with DONE. */
	if (q == b->q_hint && b->hint_stopped && b->cfg.hint_ack_on_stop &&
	    b->cfg.hint_cmd > VBALLOON_HINT_DONE) {
		b->cfg.hint_cmd = VBALLOON_HINT_DONE;
		virtio_mmio_config_changed(&b->t);
	}
	b->hint_stopped = false;
}

static uint64_t vb_features(void *dev)
{
	const struct vballoon_config *c = &((struct vballoon *)dev)->cfg;

	return (c->stats_interval_s ? 1ull << VIRTIO_BALLOON_F_STATS_VQ : 0) |
	       (c->deflate_on_oom ? 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM : 0) |
	       (c->free_page_hinting ? 1ull << VIRTIO_BALLOON_F_FREE_PAGE_HINT : 0) |
	       (c->free_page_reporting ? 1ull << VIRTIO_BALLOON_F_REPORTING : 0);
}

static void vb_config_bytes(const struct vballoon *b, uint8_t out[VB_CONFIG_SIZE])
{
	const uint32_t v[4] = {htole32(b->cfg.amount_mib * VBALLOON_PAGES_PER_MIB),
			       htole32(b->cfg.actual_pages), htole32(b->cfg.hint_cmd), 0};

	memcpy(out, v, VB_CONFIG_SIZE);
}

static void vb_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	uint8_t c[VB_CONFIG_SIZE];

	vb_config_bytes(dev, c);
	memcpy(data, c + off, len);
}

/* Only "actual" is the driver's; poison_val means nothing without F_PAGE_POISON. */
static void vb_config_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vballoon *b = dev;
	uint8_t c[VB_CONFIG_SIZE];
	uint32_t v;

	if (off < 4 || off + len > 8) {
		if (off < 12)
			log_ratelimited(&b->rl, LOG_WARN,
					"%s: guest: write to read-only config at %llu, ignored",
					b->t.name, (unsigned long long)off);
		return;
	}
	vb_config_bytes(b, c);
	memcpy(c + off, data, len);
	memcpy(&v, c + 4, 4);
	b->cfg.actual_pages = le32toh(v);
}

static int vb_activate(void *dev, struct virtio_mmio *t)
{
	struct vballoon *b = dev;
	uint64_t f = virtio_mmio_driver_features(t);
	unsigned q = 2;

	b->q_stats = f & (1ull << VIRTIO_BALLOON_F_STATS_VQ) ? q++ : VB_NOQ;
	b->q_hint = f & (1ull << VIRTIO_BALLOON_F_FREE_PAGE_HINT) ? q++ : VB_NOQ;
	b->q_report = f & (1ull << VIRTIO_BALLOON_F_REPORTING) ? q++ : VB_NOQ;
	/* Linux posts its first statistics buffer (and kicks) before DRIVER_OK,
	 * and a restore gives the held one back to the ring: the transport's
	 * kick of every ready queue once we are live takes it. */
	/* A run under way here is a restored one (a reset stops runs): as
	 * Firecracker, it ends, so the guest takes its hinted pages back. */
	if (b->cfg.hint_cmd > VBALLOON_HINT_DONE) {
		b->cfg.hint_cmd = VBALLOON_HINT_DONE;
		virtio_mmio_config_changed(t);
	}
	return 0;
}

/* Status 0: the driver starts over; the target stays, the rest is the guest's. */
static void vb_reset(void *dev)
{
	struct vballoon *b = dev;
	struct vballoon_config *c = &b->cfg;

	b->stats_held = b->hint_stopped = false;
	b->q_stats = b->q_hint = b->q_report = VB_NOQ;
	c->actual_pages = c->hint_cmd = c->hint_last_id = c->hint_guest_cmd = 0;
	c->hint_guest_set = c->hint_ack_on_stop = false;
	c->stats = (struct vballoon_stats){0};
}

/* Snapshots: the statistics buffer we hold goes back to the ring. */
static unsigned vb_held(void *dev, unsigned q)
{
	struct vballoon *b = dev;

	return q == b->q_stats && b->stats_held;
}

static const struct virtio_dev_ops vb_ops = {
    .device_id = VIRTIO_ID_BALLOON,
    .queue_max = VB_QUEUE_MAX,
    .features = vb_features,
    .config_read = vb_config_read,
    .config_write = vb_config_write,
    .config_size = VB_CONFIG_SIZE,
    .activate = vb_activate,
    .reset = vb_reset,
    .queue_notify = vb_queue_notify,
    .held = vb_held,
};

/* ---- statistics polling -------------------------------------------------------- */

static int vb_timer_arm(struct vballoon *b)
{
	const struct itimerspec every = {.it_interval.tv_sec = b->cfg.stats_interval_s,
					 .it_value.tv_sec = b->cfg.stats_interval_s};

	return timerfd_settime(b->h_timer.fd, 0, &every, NULL) ? -errno : 0;
}

/* VMM thread, no lock held: the guest gets its buffer back and refreshes it. */
static void vb_on_timer(struct ev_handler *h, uint32_t events)
{
	struct vballoon *b = h->opaque;
	uint64_t ticks;

	(void)events;
	if (read(h->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	virtio_mmio_lock(&b->t);
	if (virtio_mmio_live(&b->t))
		vb_stats_return(b);
	virtio_mmio_unlock(&b->t);
}

/* ---- the API's operations on a live device ---------------------------------------- */

static int vb_not_live(struct vballoon *b)
{
	if (virtio_mmio_live(&b->t))
		return 0;
	virtio_mmio_unlock(&b->t);
	log_err("Device not activated yet.");
	return -EAGAIN;
}

int vballoon_set_target(void *dev, uint32_t amount_mib)
{
	struct vballoon *b = dev;
	uint64_t mem_mib = gm_total(b->gm) >> 20;
	int r;

	if (amount_mib > mem_mib) {
		log_err("Requested memory should be less than %lluMiB",
			(unsigned long long)mem_mib);
		return -EINVAL;
	}
	virtio_mmio_lock(&b->t);
	r = vb_not_live(b);
	if (r)
		return r;
	b->cfg.amount_mib = amount_mib;
	virtio_mmio_config_changed(&b->t);
	virtio_mmio_unlock(&b->t);
	return 0;
}

int vballoon_set_stats_interval(void *dev, uint16_t interval_s)
{
	struct vballoon *b = dev;

	virtio_mmio_lock(&b->t);
	if (interval_s == b->cfg.stats_interval_s) {
		virtio_mmio_unlock(&b->t);
		return 0;
	}
	if (!interval_s || !b->cfg.stats_interval_s) {
		virtio_mmio_unlock(&b->t);
		log_err("Statistics cannot be enabled/disabled after activation.");
		return -EINVAL;
	}
	/* As Firecracker: the first refresh at the new interval is now. */
	if (virtio_mmio_live(&b->t))
		vb_stats_return(b);
	b->cfg.stats_interval_s = interval_s;
	virtio_mmio_unlock(&b->t);
	return vb_timer_arm(b);
}

int vballoon_get_stats(void *dev, uint32_t *target_pages, uint32_t *actual_pages,
		       struct vballoon_stats *st)
{
	struct vballoon *b = dev;

	virtio_mmio_lock(&b->t);
	if (!b->cfg.stats_interval_s) {
		virtio_mmio_unlock(&b->t);
		log_err("Statistics for the balloon device are not enabled.");
		return -ENOTSUP;
	}
	*target_pages = b->cfg.amount_mib * VBALLOON_PAGES_PER_MIB;
	*actual_pages = b->cfg.actual_pages;
	*st = b->cfg.stats;
	virtio_mmio_unlock(&b->t);
	return 0;
}

static int vb_hinting(struct vballoon *b)
{
	virtio_mmio_lock(&b->t);
	if (b->cfg.free_page_hinting)
		return 0;
	virtio_mmio_unlock(&b->t);
	log_err("Free page hinting was not enabled when the balloon device was configured.");
	return -ENOTSUP;
}

static int vb_hint_set(struct vballoon *b, uint32_t cmd)
{
	int r = vb_not_live(b);

	if (r)
		return r;
	b->cfg.hint_cmd = cmd;
	virtio_mmio_config_changed(&b->t);
	virtio_mmio_unlock(&b->t);
	return 0;
}

int vballoon_hint_start(void *dev, bool ack_on_stop)
{
	struct vballoon *b = dev;
	uint32_t id;
	int r = vb_hinting(b);

	if (r)
		return r;
	/* 0 (STOP) and 1 (DONE) are not run ids. */
	id = b->cfg.hint_last_id + 1 > VBALLOON_HINT_DONE ? b->cfg.hint_last_id + 1 : 2;
	if (virtio_mmio_live(&b->t)) {
		b->cfg.hint_last_id = id;
		b->cfg.hint_ack_on_stop = ack_on_stop;
	}
	return vb_hint_set(b, id);
}

int vballoon_hint_stop(void *dev)
{
	struct vballoon *b = dev;
	int r = vb_hinting(b);

	return r ? r : vb_hint_set(b, VBALLOON_HINT_DONE);
}

int vballoon_hint_status(void *dev, uint32_t *host_cmd, bool *has_guest_cmd, uint32_t *guest_cmd)
{
	struct vballoon *b = dev;
	int r = vb_hinting(b);

	if (r)
		return r;
	*host_cmd = b->cfg.hint_cmd;
	*has_guest_cmd = b->cfg.hint_guest_set;
	*guest_cmd = b->cfg.hint_guest_cmd;
	virtio_mmio_unlock(&b->t);
	return 0;
}

/* ---- an instance -------------------------------------------------------------------- */

static void vb_destroy(void *dev)
{
	struct vballoon *b = dev;

	if (!b)
		return;
	if (b->h_timer.fd >= 0) {
		evloop_del(b->loop, &b->h_timer);
		close(b->h_timer.fd);
	}
	virtio_mmio_destroy(&b->t);
	free(b);
}

static int vb_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	struct vballoon *b = calloc(1, sizeof(*b));
	uint64_t mem_mib = gm_total(env->gm) >> 20;
	int r;

	*dev = NULL;
	if (!b)
		return -ENOMEM;
	b->cfg = *(const struct vballoon_config *)cfg;
	b->cfg.id[sizeof(b->cfg.id) - 1] = '\0';
	b->gm = env->gm;
	b->loop = env->loop;
	b->h_timer.fd = -1;
	b->q_stats = b->q_hint = b->q_report = VB_NOQ;
	b->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	b->ops = vb_ops;
	b->ops.num_queues =
	    2u + !!b->cfg.stats_interval_s + b->cfg.free_page_hinting + b->cfg.free_page_reporting;
	if (b->cfg.amount_mib > mem_mib) {
		log_err("balloon: amount_mib %u is more than the guest's %llu MiB",
			b->cfg.amount_mib, (unsigned long long)mem_mib);
		free(b);
		return -EINVAL;
	}
	r = virtio_mmio_init(&b->t, "virtio-balloon", &b->ops, b, env->gm, env->loop);
	if (r) {
		free(b);
		goto fail;
	}
	if (b->cfg.stats_interval_s) {
		b->h_timer = (struct ev_handler){
		    .fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC),
		    .fn = vb_on_timer,
		    .opaque = b};
		r = b->h_timer.fd < 0 ? -errno : vb_timer_arm(b);
		if (!r)
			r = evloop_add(b->loop, &b->h_timer, EPOLLIN);
		if (r) {
			if (b->h_timer.fd >= 0)
				close(b->h_timer.fd);
			b->h_timer.fd = -1;
			vb_destroy(b);
			goto fail;
		}
	}
	*dev = b;
	return 0;
fail:
	log_err("balloon: %s", strerror(-r));
	return r;
}

static struct virtio_mmio *vb_transport(void *dev)
{
	return &((struct vballoon *)dev)->t;
}

static const void *vb_config_of(const void *dev)
{
	return &((const struct vballoon *)dev)->cfg;
}

static json_t *vb_metrics(const void *dev)
{
	const struct vballoon *b = dev;

	return vballoon_config_metrics(&b->cfg, &b->st);
}

static const struct vdev_type vballoon_type = {
    .name = "balloon",
    .cli_opt = "--balloon",
    .cli_help = "  --balloon amount_mib=N[,deflate_on_oom][,stats_polling_interval_s=S]\n"
		"            [,free_page_hinting][,free_page_reporting]\n"
		"                      virtio-balloon holding N MiB of the guest's memory\n",
    .max = 1,
    .config_size = sizeof(struct vballoon_config),
    .parse = vballoon_config_parse,
    .id = vballoon_config_id,
    .create = vb_create,
    .destroy = vb_destroy,
    .transport = vb_transport,
    .config = vb_config_of,
    .metrics = vb_metrics,
    .metrics_key = "balloon",
    .metrics_one = true,
    .state_version = 1,
    .save = vballoon_config_save,
    .load = vballoon_config_load,
};
VDEV_REGISTER(vballoon_type);
