// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock device: three queues (rx, tx, event) and the guest's CID in
 * config space.  This file moves packets between the rings and the stream
 * state machine (vsock_conn.c); the Unix socket side is vsock_host.c.
 *
 * RX is demand-driven: streams with something to say sit on a work list
 * and each takes one guest buffer per packet.  A buffer popped when nobody
 * turned out to have anything (a spurious wakeup) is held for the next
 * packet rather than returned empty.  Pending resets to the guest go first.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "device.h"
#include "vsock_conn.h"

#define VSOCK_RXQ	0
#define VSOCK_TXQ	1
#define VSOCK_EVQ	2
#define VSOCK_QUEUE_MAX 256
#define VSOCK_BUDGET	256 /* packets per direction per wakeup, then yield */

static uint64_t vsock_features(void *dev)
{
	(void)dev;
	return (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC);
}

static void vsock_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct vsock *v = dev;

	memcpy(data, v->config + off, len);
}

static void vsock_config_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vsock *v = dev;

	(void)data;
	vsock_bug(v, "config write at %llu (%u bytes) dropped", (unsigned long long)off, len);
}

void vsock_hdr_decode(const uint8_t *raw, struct vsock_hdr *h)
{
	struct virtio_vsock_hdr w;

	memcpy(&w, raw, sizeof(w));
	*h = (struct vsock_hdr){
	    .src_cid = le64toh(w.src_cid),
	    .dst_cid = le64toh(w.dst_cid),
	    .src_port = le32toh(w.src_port),
	    .dst_port = le32toh(w.dst_port),
	    .len = le32toh(w.len),
	    .type = le16toh(w.type),
	    .op = le16toh(w.op),
	    .flags = le32toh(w.flags),
	    .buf_alloc = le32toh(w.buf_alloc),
	    .fwd_cnt = le32toh(w.fwd_cnt),
	};
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *raw)
{
	struct virtio_vsock_hdr w = {
	    .src_cid = htole64(h->src_cid),
	    .dst_cid = htole64(h->dst_cid),
	    .src_port = htole32(h->src_port),
	    .dst_port = htole32(h->dst_port),
	    .len = htole32(h->len),
	    .type = htole16(h->type),
	    .op = htole16(h->op),
	    .flags = htole32(h->flags),
	    .buf_alloc = htole32(h->buf_alloc),
	    .fwd_cnt = htole32(h->fwd_cnt),
	};

	_Static_assert(sizeof(w) == VSOCK_HDR_LEN, "virtio_vsock_hdr is 44 bytes");
	memcpy(raw, &w, sizeof(w));
}

bool vsock_rx_write(struct vsock *v, uint32_t off, const void *src, uint32_t len)
{
	const struct virtq_chain *c = &v->rxc;
	const uint8_t *s = src;

	for (unsigned i = 0; i < c->nr && len; i++) {
		uint32_t seg = c->seg[i].len, k;
		void *p;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < len ? seg - off : len;
		p = gm_ptr_w(v->gm, c->seg[i].addr + off, k);
		if (!p)
			return false;
		memcpy(p, s, k);
		s += k;
		len -= k;
		off = 0;
	}
	return len == 0;
}

unsigned vsock_rx_iov(struct vsock *v, uint32_t off, uint32_t max, struct iovec *iov,
		      unsigned nr_iov)
{
	const struct virtq_chain *c = &v->rxc;
	unsigned n = 0;

	for (unsigned i = 0; i < c->nr && max && n < nr_iov; i++) {
		uint32_t seg = c->seg[i].len, k;
		void *p;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < max ? seg - off : max;
		p = gm_ptr_w(v->gm, c->seg[i].addr + off, k); /* readv() fills it */
		if (!p)
			break;
		iov[n++] = (struct iovec){.iov_base = p, .iov_len = k};
		max -= k;
		off = 0;
	}
	return n;
}

/* An RX buffer must be all device-writable and hold at least a header. */
static bool vsock_rx_chain_ok(struct vsock *v)
{
	uint64_t cap = 0;

	if (v->rxc.err)
		return false;
	for (unsigned i = 0; i < v->rxc.nr; i++) {
		if (!v->rxc.seg[i].write ||
		    !gm_range_ok(v->gm, v->rxc.seg[i].addr, v->rxc.seg[i].len))
			return false;
		cap += v->rxc.seg[i].len;
	}
	if (cap < VSOCK_HDR_LEN)
		return false;
	v->rx_cap = cap > VSOCK_HDR_LEN + VSOCK_MAX_PAYLOAD ? VSOCK_HDR_LEN + VSOCK_MAX_PAYLOAD
							    : (uint32_t)cap;
	return true;
}

/* Takes a guest RX buffer into v->rxc unless one is held: 1, 0 none, -EIO. */
static int vsock_rx_get(struct vsock *v, bool *pushed)
{
	int ret;

	while (!v->rx_held) {
		ret = virtio_mmio_pop(&v->t, VSOCK_RXQ, &v->rxc);
		if (ret < 0)
			return -EIO;
		if (ret == 0) {
			if (virtio_mmio_arm(&v->t, VSOCK_RXQ))
				continue;
			return 0; /* the guest's next RX kick brings us back */
		}
		if (!vsock_rx_chain_ok(v)) {
			vsock_bug(v, "rx chain %u malformed or too small, returned empty",
				  v->rxc.head);
			virtio_mmio_push(&v->t, VSOCK_RXQ, v->rxc.head, 0);
			*pushed = true;
			continue;
		}
		v->rx_held = true;
	}
	return 1;
}

static uint32_t vsock_fill_rst(struct vsock *v)
{
	struct vsock_rst r = v->rst[v->rst_head];
	struct vsock_hdr h = {
	    .src_cid = VSOCK_HOST_CID,
	    .dst_cid = v->cfg.guest_cid,
	    .src_port = r.host_port,
	    .dst_port = r.guest_port,
	    .type = VIRTIO_VSOCK_TYPE_STREAM,
	    .op = VIRTIO_VSOCK_OP_RST,
	};
	uint8_t raw[VSOCK_HDR_LEN];

	v->rst_head = (v->rst_head + 1) % VSOCK_MAX_RST;
	v->rst_len--;
	vsock_hdr_encode(&h, raw);
	v->st.rst_sent++;
	return vsock_rx_write(v, 0, raw, sizeof(raw)) ? VSOCK_HDR_LEN : 0;
}

/*
 * Not virtio_mmio_process(): the guest's RX buffers are taken when there is
 * something to deliver (an RST, a stream with data or credit), not the
 * other way round, and a buffer taken for nothing is held for the next.
 */
void vsock_rx_process(struct vsock *v)
{
	unsigned budget = VSOCK_BUDGET;
	bool pushed = false;
	int ret;

	if (!virtio_mmio_queue_ready(&v->t, VSOCK_RXQ))
		return;
	while (v->rst_len || v->work_head) {
		uint32_t len;

		if (!budget--) {
			virtio_mmio_kick(&v->t, VSOCK_RXQ);
			break;
		}
		ret = vsock_rx_get(v, &pushed);
		if (ret < 0)
			break; /* NEEDS_RESET: the transport said why */
		if (ret == 0)
			break;
		if (v->rst_len) {
			len = vsock_fill_rst(v);
		} else {
			struct vsock_conn *c = v->work_head;

			v->work_head = c->wnext;
			if (!v->work_head)
				v->work_tail = NULL;
			c->wnext = NULL;
			c->queued = false;
			len = vsock_conn_fill(c);
		}
		if (!len)
			continue; /* nothing after all: the buffer stays held */
		virtio_mmio_push(&v->t, VSOCK_RXQ, v->rxc.head, len);
		v->rx_held = false;
		v->st.rx_pkts++;
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal_used(&v->t, VSOCK_RXQ);
}

/* Copies the readable chain into v->pkt: total bytes, or -EINVAL. */
static int vsock_tx_gather(struct vsock *v)
{
	const struct virtq_chain *c = &v->txc;
	uint32_t got = 0;

	if (c->err)
		return -EINVAL;
	for (unsigned i = 0; i < c->nr && got < sizeof(v->pkt); i++) {
		uint32_t k = c->seg[i].len;

		if (c->seg[i].write)
			return -EINVAL;
		if (k > sizeof(v->pkt) - got)
			k = sizeof(v->pkt) - got;
		if (gm_read(v->gm, c->seg[i].addr, v->pkt + got, k))
			return -EINVAL;
		got += k;
	}
	return (int)got;
}

static void vsock_tx_one(struct vsock *v)
{
	struct vsock_hdr h;
	int len = vsock_tx_gather(v);

	if (len < VSOCK_HDR_LEN) {
		v->st.tx_malformed++;
		vsock_bug(v, "tx chain %u malformed or shorter than a header", v->txc.head);
		return;
	}
	vsock_hdr_decode(v->pkt, &h);
	v->st.tx_pkts++;
	if (h.len > VSOCK_MAX_PAYLOAD) {
		v->st.tx_bad_pkt++;
		vsock_bug(v, "packet of %u bytes (max %u)", h.len, VSOCK_MAX_PAYLOAD);
		h.op = VIRTIO_VSOCK_OP_INVALID; /* handled as an unknown op: reset */
		h.len = 0;
	} else if ((uint32_t)len - VSOCK_HDR_LEN < h.len) {
		v->st.tx_malformed++;
		vsock_bug(v, "packet says %u bytes, chain holds %d", h.len, len - VSOCK_HDR_LEN);
		h.op = VIRTIO_VSOCK_OP_INVALID;
		h.len = 0;
	}
	vsock_handle_pkt(v, &h, v->pkt + VSOCK_HDR_LEN);
}

static int vsock_tx_chain(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	(void)c; /* it is v->txc, the loop's scratch */
	(void)used;
	vsock_tx_one(dev);
	return VIRTIO_CHAIN_USED;
}

static void vsock_tx_process(struct vsock *v)
{
	const struct virtio_queue_loop l = {
	    .chain = &v->txc, .budget = VSOCK_BUDGET, .handle = vsock_tx_chain};

	virtio_mmio_process(&v->t, VSOCK_TXQ, &l);
	/* Guest packets queue replies (RESPONSE, RST, credit): send them now. */
	vsock_rx_process(v);
}

static void vsock_queue_notify(void *dev, unsigned q)
{
	struct vsock *v = dev;

	if (q == VSOCK_RXQ)
		vsock_rx_process(v);
	else if (q == VSOCK_TXQ)
		vsock_tx_process(v);
	/* Event queue: buffers for TRANSPORT_RESET, which we only send on restore. */
}

static int vsock_activate(void *dev, struct virtio_mmio *t)
{
	struct vsock *v = dev;

	(void)t;
	/* Live only after we return: let the loop start both directions. */
	virtio_mmio_kick(&v->t, VSOCK_RXQ);
	virtio_mmio_kick(&v->t, VSOCK_TXQ);
	return 0;
}

static void vsock_reset(void *dev)
{
	struct vsock *v = dev;

	/*
	 * The guest's sockets are gone with its driver; so are ours.  Host
	 * clients still typing CONNECT may stay: the listener is the device's.
	 */
	vsock_conns_free_all(v);
	v->rst_len = 0;
	v->rx_held = false;
}

void vsock_reap_arm(struct vsock *v)
{
	if (v->reap_fd >= 0)
		(void)eventfd_write(v->reap_fd, 1);
}

static void vsock_free_dead(struct vsock *v, unsigned gen)
{
	while (v->dead_conns[gen]) {
		struct vsock_conn *c = v->dead_conns[gen];

		v->dead_conns[gen] = c->dnext;
		free(c);
	}
	while (v->dead_clients[gen]) {
		struct vsock_client *cl = v->dead_clients[gen];

		v->dead_clients[gen] = cl->dnext;
		free(cl);
	}
}

/*
 * Frees what died before the previous reaper run: every epoll batch that
 * could still name those fds has been dispatched by now.  What died since
 * waits for the next run.
 */
static void vsock_reap(struct vsock *v)
{
	vsock_free_dead(v, 1);
	v->dead_conns[1] = v->dead_conns[0];
	v->dead_clients[1] = v->dead_clients[0];
	v->dead_conns[0] = NULL;
	v->dead_clients[0] = NULL;
	if (v->dead_conns[1] || v->dead_clients[1])
		vsock_reap_arm(v);
}

static void vsock_on_reap(struct ev_handler *h, uint32_t events)
{
	struct vsock *v = h->opaque;
	eventfd_t cnt;

	(void)events;
	if (eventfd_read(h->fd, &cnt) < 0)
		return;
	virtio_mmio_lock(&v->t);
	vsock_reap(v);
	virtio_mmio_unlock(&v->t);
}

static unsigned vsock_held(void *dev, unsigned q)
{
	const struct vsock *v = dev;

	return q == VSOCK_RXQ && v->rx_held ? 1 : 0;
}

uint64_t vsock_handshake_deadline(struct vsock *v)
{
	uint64_t ms = v->handshake_ms;

	if (!v->timer_armed && v->timer_fd >= 0) {
		struct itimerspec once = {.it_value = {.tv_sec = (time_t)(ms / 1000),
						       .tv_nsec = (long)(ms % 1000) * 1000000}};

		v->timer_armed = timerfd_settime(v->timer_fd, 0, &once, NULL) == 0;
	}
	return time_now_us() + ms * 1000;
}

/* VMM thread: handshakes past their deadline end; the timer re-arms for the rest. */
static void vsock_on_timer(struct ev_handler *h, uint32_t events)
{
	struct vsock *v = h->opaque;
	uint64_t ticks, now = time_now_us();
	bool more;

	(void)events;
	if (read(h->fd, &ticks, sizeof(ticks)) < 0)
		return;
	virtio_mmio_lock(&v->t);
	v->timer_armed = false;
	more = vsock_clients_expire(v, now);
	more |= vsock_conns_expire(v, now);
	if (more)
		(void)vsock_handshake_deadline(v);
	/* The RSTs just queued go out now. */
	if (virtio_mmio_live(&v->t))
		vsock_rx_process(v);
	virtio_mmio_unlock(&v->t);
}

static const struct virtio_dev_ops vsock_ops = {
    .device_id = VIRTIO_ID_VSOCK,
    .num_queues = 3,
    .queue_max = VSOCK_QUEUE_MAX,
    .features = vsock_features,
    .config_read = vsock_config_read,
    .config_write = vsock_config_write,
    .config_size = 8,
    .activate = vsock_activate,
    .held = vsock_held,
    .reset = vsock_reset,
    .queue_notify = vsock_queue_notify,
};

int vsock_create(struct vsock **out, const struct vsock_config *cfg, const struct guest_mem *gm,
		 struct evloop *loop)
{
	char name[sizeof(cfg->vsock_id) + 16];
	uint64_t cid;
	struct vsock *v;
	int ret;

	*out = NULL;
	if (cfg->guest_cid < 3 || cfg->guest_cid > 0xfffffffeull || !cfg->uds_path[0] ||
	    !memchr(cfg->uds_path, 0, sizeof(cfg->uds_path)) || !loop)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->listen_fd = -1;
	v->reap_fd = -1;
	v->timer_fd = -1;
	v->handshake_ms = VSOCK_HANDSHAKE_MS;
	v->cfg = *cfg;
	v->cfg.vsock_id[sizeof(v->cfg.vsock_id) - 1] = '\0';
	v->gm = gm;
	v->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	v->next_port = VSOCK_PORT_FIRST;
	cid = htole64(cfg->guest_cid);
	memcpy(v->config, &cid, 8);
	snprintf(name, sizeof(name), "virtio-vsock %s", v->cfg.vsock_id);
	ret = virtio_mmio_init(&v->t, name, &vsock_ops, v, gm, loop);
	if (ret)
		goto err;
	v->loop = loop;
	v->reap_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->reap_fd < 0) {
		ret = -errno;
		goto err;
	}
	v->reap_h = (struct ev_handler){.fd = v->reap_fd, .fn = vsock_on_reap, .opaque = v};
	ret = evloop_add(loop, &v->reap_h, EPOLLIN);
	if (ret)
		goto err;
	v->reap_added = true;
	v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (v->timer_fd < 0) {
		ret = -errno;
		goto err;
	}
	v->timer_h = (struct ev_handler){.fd = v->timer_fd, .fn = vsock_on_timer, .opaque = v};
	ret = evloop_add(loop, &v->timer_h, EPOLLIN);
	if (ret)
		goto err;
	v->timer_added = true;
	ret = vsock_host_listen(v);
	if (ret)
		goto err;
	*out = v;
	return 0;
err:
	vsock_destroy(v);
	return ret;
}

int vsock_transport_reset(struct vsock *v)
{
	const struct virtq_seg *s;
	uint32_t id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	int r = -ENOBUFS;

	virtio_mmio_lock(&v->t);
	if (!virtio_mmio_queue_ready(&v->t, VSOCK_EVQ))
		goto out; /* no driver: nothing is connected */
	/* txc is free: TX chains are finished within vsock_tx_process(). */
	r = virtio_mmio_pop(&v->t, VSOCK_EVQ, &v->txc);
	if (r <= 0) {
		r = r ? r : -ENOBUFS;
		goto out;
	}
	s = &v->txc.seg[0];
	if (v->txc.err || !v->txc.nr || !s->write || s->len < sizeof(id) ||
	    gm_write(v->gm, s->addr, &id, sizeof(id))) {
		virtio_mmio_push(&v->t, VSOCK_EVQ, v->txc.head, 0);
		r = -EINVAL;
	} else {
		virtio_mmio_push(&v->t, VSOCK_EVQ, v->txc.head, sizeof(id));
		r = 0;
	}
	virtio_mmio_signal_used(&v->t, VSOCK_EVQ);
out:
	virtio_mmio_unlock(&v->t);
	return r;
}

const struct vsock_config *vsock_get_config(const struct vsock *v)
{
	return &v->cfg;
}

struct virtio_mmio *vsock_transport(struct vsock *v)
{
	return &v->t;
}

const struct vsock_stats *vsock_stats(const struct vsock *v)
{
	return &v->st;
}

unsigned vsock_nr_conns(const struct vsock *v)
{
	return v->nr_conns;
}

void vsock_destroy(struct vsock *v)
{
	if (!v)
		return;
	if (v->t.ops)
		virtio_mmio_lock(&v->t);
	vsock_conns_free_all(v);
	vsock_clients_free_all(v);
	vsock_host_close(v);
	if (v->reap_added)
		evloop_del(v->loop, &v->reap_h);
	if (v->reap_fd >= 0)
		close(v->reap_fd);
	v->reap_fd = -1;
	if (v->timer_added)
		evloop_del(v->loop, &v->timer_h);
	if (v->timer_fd >= 0)
		close(v->timer_fd);
	v->timer_fd = -1;
	/* The loop is not running: nothing can be in flight. */
	vsock_free_dead(v, 0);
	vsock_free_dead(v, 1);
	if (v->t.ops)
		virtio_mmio_unlock(&v->t);
	virtio_mmio_destroy(&v->t);
	free(v);
}

/* ---- the device type ---------------------------------------------------------- */

static int vsock_type_parse(const char *spec, void *cfg, char *err, size_t errlen)
{
	return vsock_config_parse(spec, cfg, err, errlen);
}

static int vsock_type_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	return vsock_create((struct vsock **)dev, cfg, env->gm, env->loop);
}

static void vsock_type_destroy(void *dev)
{
	vsock_destroy(dev);
}

static struct virtio_mmio *vsock_type_transport(void *dev)
{
	return vsock_transport(dev);
}

static const void *vsock_type_config(const void *dev)
{
	return vsock_get_config(dev);
}

/* The host ends of the guest's connections did not survive the snapshot. */
static void vsock_type_restored(void *dev)
{
	if (vsock_transport_reset(dev) == -ENOBUFS)
		log_warn("vsock: no event buffer for TRANSPORT_RESET; guest connections linger");
}

static json_t *vsock_type_metrics(const void *dev)
{
	const struct vsock_stats *s = vsock_stats(dev);

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets_count",
			 (json_int_t)s->rx_pkts, "tx_packets_count", (json_int_t)s->tx_pkts,
			 "rx_bytes_count", (json_int_t)s->rx_bytes, "tx_bytes_count",
			 (json_int_t)s->tx_bytes, "tx_malformed",
			 (json_int_t)(s->tx_malformed + s->tx_bad_addr + s->tx_bad_pkt), "rst_sent",
			 (json_int_t)s->rst_sent, "conns_opened", (json_int_t)s->conns_opened,
			 "conns_refused", (json_int_t)s->conns_refused);
}

static const struct vdev_type vsock_type = {
    .name = "vsock",
    .cli_opt = "--vsock",
    .cli_help = "  --vsock SPEC        cid=N,uds=PATH: virtio-vsock, host side on Unix sockets\n"
		"                      (Firecracker's hybrid vsock: CONNECT <port> on PATH,\n"
		"                      guest connections to PATH_<port>)\n",
    .max = 1,
    .config_size = sizeof(struct vsock_config),
    .parse = vsock_type_parse,
    .id = vsock_config_id,
    .create = vsock_type_create,
    .destroy = vsock_type_destroy,
    .transport = vsock_type_transport,
    .config = vsock_type_config,
    .restored = vsock_type_restored,
    .metrics = vsock_type_metrics,
    .metrics_key = "vsock",
    .metrics_one = true,
    .state_version = 1,
    .save = vsock_config_save,
    .load = vsock_config_load,
    .set = vsock_config_set,
};
VDEV_REGISTER(vsock_type);
