// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock device: three queues (rx, tx, event) and the guest's CID in
 * config space.  It moves packets between the rings and a backend
 * (vsock_backend.h; ember's is the hybrid muxer, vsock_mux.c): what the
 * guest sends is checked here (a header that fits, the guest's own CID)
 * and handed to the backend; what the backend has for the guest is written
 * into RX buffers the device pops and lends it.
 *
 * RX is demand-driven: buffers are taken when there is something to
 * deliver, and one popped when nobody turned out to have anything (a
 * spurious wakeup) is held for the next packet rather than returned empty.
 * Pending resets to the guest go first.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "device.h"
#include "vsock_backend.h"

#define VSOCK_RXQ	0
#define VSOCK_TXQ	1
#define VSOCK_EVQ	2
#define VSOCK_QUEUE_MAX 256
#define VSOCK_BUDGET	256  /* packets per direction per wakeup, then yield */
#define VSOCK_MAX_RST	2048 /* resets owed to the guest, queued */

struct vsock_rst {
	uint32_t host_port, guest_port;
};

struct vsock {
	struct virtio_mmio t; /* t.lock covers everything below, and the backend */
	struct vsock_config cfg;
	const struct guest_mem *gm;
	struct ratelimit rl;
	struct vsock_stats st; /* the backend counts its events here too */
	uint8_t config[8];
	struct vsock_backend *be;

	struct vsock_rst rst[VSOCK_MAX_RST];
	unsigned rst_head, rst_len;
	bool rx_held;	 /* rxc is popped but not used yet */
	uint32_t rx_cap; /* its writable bytes */
	struct virtq_chain rxc, txc;
	uint8_t pkt[VSOCK_HDR_LEN + VSOCK_MAX_PAYLOAD];
};

#define vsock_bug(v, fmt, ...)                                                                     \
	log_ratelimited(&(v)->rl, LOG_WARN, "%s: guest: " fmt, (v)->t.name, ##__VA_ARGS__)

static void vsock_rx_process(struct vsock *v);

/* ---- what the backend may ask of us (vsock_dev_ops) -------------------------------- */

static void dev_lock(void *dev)
{
	virtio_mmio_lock(&((struct vsock *)dev)->t);
}

static void dev_unlock(void *dev)
{
	virtio_mmio_unlock(&((struct vsock *)dev)->t);
}

static void dev_rst(void *dev, uint32_t host_port, uint32_t guest_port)
{
	struct vsock *v = dev;

	if (v->rst_len == VSOCK_MAX_RST) {
		/* The guest's connect or close times out instead. */
		v->st.rst_dropped++;
		return;
	}
	v->rst[(v->rst_head + v->rst_len) % VSOCK_MAX_RST] =
	    (struct vsock_rst){.host_port = host_port, .guest_port = guest_port};
	v->rst_len++;
}

static void dev_rx_ready(void *dev)
{
	vsock_rx_process(dev);
}

static const struct vsock_dev_ops vsock_dev_ops = {
    .lock = dev_lock,
    .unlock = dev_unlock,
    .rst = dev_rst,
    .rx_ready = dev_rx_ready,
};

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

static uint32_t vsock_fill_rst(struct vsock *v, const struct vsock_rxbuf *b)
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
	return vsock_rxbuf_write(b, 0, raw, sizeof(raw)) ? VSOCK_HDR_LEN : 0;
}

/*
 * Not virtio_mmio_process(): the guest's RX buffers are taken when there is
 * something to deliver (an RST, a stream with data or credit), not the
 * other way round, and a buffer taken for nothing is held for the next.
 */
static void vsock_rx_process(struct vsock *v)
{
	unsigned budget = VSOCK_BUDGET;
	bool pushed = false;
	int ret;

	if (!virtio_mmio_queue_ready(&v->t, VSOCK_RXQ))
		return;
	while (v->rst_len || v->be->ops->has_rx(v->be)) {
		struct vsock_rxbuf b;
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
		b = (struct vsock_rxbuf){.chain = &v->rxc, .gm = v->gm, .cap = v->rx_cap};
		len = v->rst_len ? vsock_fill_rst(v, &b) : v->be->ops->recv(v->be, &b);
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
	if (h.src_cid != v->cfg.guest_cid || h.dst_cid != VSOCK_HOST_CID) {
		/* Not a stream of ours; answering could be used to spoof one. */
		v->st.tx_bad_addr++;
		vsock_bug(v, "packet from cid %llu to cid %llu dropped",
			  (unsigned long long)h.src_cid, (unsigned long long)h.dst_cid);
		return;
	}
	v->be->ops->send(v->be, &h, v->pkt + VSOCK_HDR_LEN);
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

static void vsock_reset(void *dev)
{
	struct vsock *v = dev;

	/* The guest's sockets are gone with its driver; the backend drops ours. */
	v->be->ops->reset(v->be);
	v->rst_len = 0;
	v->rx_held = false;
}

static unsigned vsock_held(void *dev, unsigned q)
{
	const struct vsock *v = dev;

	return q == VSOCK_RXQ && v->rx_held ? 1 : 0;
}

static const struct virtio_dev_ops vsock_ops = {
    .device_id = VIRTIO_ID_VSOCK,
    .num_queues = 3,
    .queue_max = VSOCK_QUEUE_MAX,
    .features = vsock_features,
    .config_read = vsock_config_read,
    .config_write = vsock_config_write,
    .config_size = 8,
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
	v->cfg = *cfg;
	v->cfg.vsock_id[sizeof(v->cfg.vsock_id) - 1] = '\0';
	v->gm = gm;
	v->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	cid = htole64(cfg->guest_cid);
	memcpy(v->config, &cid, 8);
	snprintf(name, sizeof(name), "virtio-vsock %s", v->cfg.vsock_id);
	ret = virtio_mmio_init(&v->t, name, &vsock_ops, v, gm, loop);
	if (ret)
		goto err;
	ret = vsock_mux_create(&v->be, &v->cfg, loop, &vsock_dev_ops, v, &v->st);
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
	return v->be->ops->nr_conns(v->be);
}

void vsock_set_handshake_ms(struct vsock *v, unsigned ms)
{
	vsock_mux_set_handshake_ms(v->be, ms);
}

void vsock_destroy(struct vsock *v)
{
	if (!v)
		return;
	if (v->be) {
		virtio_mmio_lock(&v->t);
		v->be->ops->destroy(v->be);
		virtio_mmio_unlock(&v->t);
	}
	virtio_mmio_destroy(&v->t);
	free(v);
}

/* ---- the device type ---------------------------------------------------------- */

static int vsock_type_parse(const char *spec, void *cfg, char *err, size_t errlen)
{
	return vsock_config_parse(spec, cfg, err, errlen);
}

static int vsock_type_probe(const void *cfg)
{
	return vsock_mux_probe(cfg);
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
    .probe = vsock_type_probe,
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
