// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net device on a tap.
 *
 * RX: one frame at a time is read from the tap into a bounce buffer and
 * copied into one guest chain.  When the guest has no buffer the frame stays
 * pending and EPOLLIN on the tap is dropped, so a full ring neither spins the
 * loop nor loses the frame; the guest's next RX kick (we ask for it through
 * avail_event) delivers it and re-arms EPOLLIN.  Forgetting to resume here is
 * the bug class of Firecracker's CVE-2020-16843, hence the tests.
 *
 * TX: a chain is gathered straight from guest memory (every segment through
 * gm_ptr) and written with one writev; on EAGAIN the chain stays pending and
 * we poll EPOLLOUT until the tap drains.
 *
 * The tap's header is the guest's header (both VNET_HDR_LEN bytes, set with
 * TUNSETVNETHDRSZ), so it is passed through; we only check on TX that the
 * guest does not ask for offloads it did not negotiate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "device.h"
#include "mmds_net.h"
#include "mmds_store.h"
#include "net.h"

#define VNET_RXQ       0
#define VNET_TXQ       1
#define VNET_QUEUE_MAX 256
/* mac[6], status, max_virtqueue_pairs (both unused), mtu (VIRTIO_NET_F_MTU) */
#define VNET_CONFIG_SIZE 12
#define VNET_CONFIG_MTU	 10
#define VNET_BUDGET	 64 /* frames per direction per wakeup, then yield */

#define F(x) (1ull << (x))

struct vnet {
	struct virtio_mmio t; /* t.lock covers everything below too */
	struct vnet_config cfg;
	const struct guest_mem *gm;
	struct evloop *loop;
	int fd;
	bool is_tap; /* a real tap: offload ioctls apply */
	struct ev_handler h;
	bool polled;	  /* fd is on the loop */
	uint32_t ev_mask; /* what it is polled for */
	unsigned offloads;
	struct ratelimit rl;
	struct vnet_stats st;
	struct limiter rx_lim, tx_lim;
	struct mmds_net *mmds; /* NULL: no MMDS on this NIC */
	bool mmds_sent;	       /* the MMDS took a TX frame: it may have a reply */

	bool rx_pending; /* rx_buf holds a frame waiting for a guest buffer */
	size_t rx_len;
	bool tx_pending; /* tx_iov holds a chain the tap refused with EAGAIN */
	uint16_t tx_head;
	unsigned tx_niov;
	/* The header as checked: the tap gets this copy, not the guest's bytes,
	 * which the guest could change between the check and the write. */
	uint8_t tx_hdr[VNET_HDR_LEN];
	struct iovec tx_iov[VNET_QUEUE_MAX + 1]; /* the header, then the chain after it */
	uint8_t config[VNET_CONFIG_SIZE];
	struct virtq_chain chain;	  /* scratch for virtq_pop */
	uint8_t rx_buf[VNET_MAX_LEN + 1]; /* +1: a longer frame shows as such */
};

#define vnet_bug(n, fmt, ...)                                                                      \
	log_ratelimited(&(n)->rl, LOG_WARN, "%s: guest: " fmt, (n)->t.name, ##__VA_ARGS__)

static uint64_t vnet_features(void *dev)
{
	struct vnet *n = dev;
	uint64_t f = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
		     F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
		     F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_HOST_TSO4) |
		     F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN) |
		     F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC);

	if (n->cfg.has_mac)
		f |= F(VIRTIO_NET_F_MAC);
	if (n->cfg.mtu)
		f |= F(VIRTIO_NET_F_MTU);
	return f;
}

static void vnet_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct vnet *n = dev;

	memcpy(data, n->config + off, len);
}

static void vnet_config_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vnet *n = dev;

	/* Writing the MAC is legacy-only (and needs CTRL_MAC_ADDR otherwise). */
	(void)data;
	vnet_bug(n, "config write at %llu (%u bytes) dropped", (unsigned long long)off, len);
}

/* Polls the tap for exactly what we can act on now: nothing spins on a full ring. */
static void vnet_update_poll(struct vnet *n)
{
	uint32_t want = 0;

	if (virtio_mmio_live(&n->t)) {
		/* Throttled, the tap waits too: the limiter's timer brings us back. */
		if (!n->rx_pending && virtio_mmio_queue_ready(&n->t, VNET_RXQ) &&
		    !limiter_blocked(&n->rx_lim))
			want |= EPOLLIN;
		if (n->tx_pending)
			want |= EPOLLOUT;
	}
	if (!n->polled || want == n->ev_mask)
		return;
	if (evloop_mod(n->loop, &n->h, want) == 0)
		n->ev_mask = want;
	else
		log_ratelimited(&n->rl, LOG_WARN, "%s: epoll_ctl: %s", n->t.name, strerror(errno));
}

/* Copies the pending frame into the chain's writable segments; returns bytes or -ENOSPC. */
static int vnet_rx_copy(struct vnet *n, const struct virtq_chain *c)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->nr && done < n->rx_len; i++) {
		size_t len = c->seg[i].len;
		void *p;

		if (!c->seg[i].write)
			return -EINVAL;
		if (len > n->rx_len - done)
			len = n->rx_len - done;
		p = gm_ptr_w(n->gm, c->seg[i].addr, len);
		if (!p)
			return -EFAULT;
		memcpy(p, n->rx_buf + done, len);
		done += len;
	}
	return done == n->rx_len ? (int)done : -ENOSPC;
}

/* Reads the next frame into rx_buf: 1 got one, 0 tap empty, -errno. */
static int vnet_rx_read(struct vnet *n)
{
	for (;;) {
		ssize_t r = read(n->fd, n->rx_buf, sizeof(n->rx_buf));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			n->st.rx_tap_errors++;
			log_ratelimited(&n->rl, LOG_WARN, "%s: tap read: %s", n->t.name,
					strerror(errno));
			return -errno;
		}
		if ((size_t)r < VNET_HDR_LEN) {
			n->st.rx_dropped_short++;
			continue;
		}
		if ((size_t)r > VNET_MAX_LEN) {
			n->st.rx_dropped_long++;
			continue;
		}
		/*
		 * The tap leaves num_buffers (the header's last field) alone; without
		 * MRG_RXBUF the device must set it to 1.
		 */
		n->rx_buf[10] = 1;
		n->rx_buf[11] = 0;
		n->rx_len = (size_t)r;
		return 1;
	}
}

/* The queue loop's question: is there a frame for the guest (read one if not)? */
static bool vnet_rx_more(void *dev)
{
	struct vnet *n = dev;

	if (limiter_blocked(&n->rx_lim))
		return false;
	/* The MMDS's replies first: they are what the guest is waiting on. */
	if (!n->rx_pending && n->mmds) {
		size_t len = mmds_net_rx(n->mmds, n->rx_buf + VNET_HDR_LEN, VNET_MAX_FRAME,
					 time_now_us() / 1000);

		if (len) {
			memset(n->rx_buf, 0, VNET_HDR_LEN);
			n->rx_buf[10] = 1; /* num_buffers */
			n->rx_len = VNET_HDR_LEN + len;
			n->rx_pending = true;
			n->st.rx_mmds++;
		}
	}
	if (!n->rx_pending && vnet_rx_read(n) > 0)
		n->rx_pending = true;
	return n->rx_pending;
}

/* The pending frame into the chain: its length, or 0 for a chain that cannot take it. */
static int vnet_rx_chain(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vnet *n = dev;
	int ret;

	/* Over the rx limit: the frame stays pending, the chain goes back. */
	if (!limiter_consume(&n->rx_lim, n->rx_len > VNET_HDR_LEN ? n->rx_len - VNET_HDR_LEN : 0)) {
		n->st.rx_throttled++;
		return VIRTIO_CHAIN_RETRY;
	}
	ret = c->err ? -EINVAL : vnet_rx_copy(n, c);
	if (ret == -ENOSPC) {
		n->st.rx_dropped_small_buf++;
		n->rx_pending = false;
		vnet_bug(n, "rx chain %u smaller than a %zu-byte frame, frame dropped", c->head,
			 n->rx_len);
	} else if (ret < 0) {
		/* Keep the frame for the next chain; this one is returned empty. */
		n->st.rx_bad_chain++;
		vnet_bug(n, "rx chain %u malformed or read-only", c->head);
	} else {
		n->st.rx_frames++;
		n->st.rx_bytes += (uint64_t)ret - VNET_HDR_LEN;
		n->rx_pending = false;
		*used = (uint32_t)ret;
	}
	return VIRTIO_CHAIN_USED;
}

/*
 * Moves frames from the tap to the guest until either side runs dry: no
 * frame (EPOLLIN wakes us), or no buffer (the frame stays pending and
 * EPOLLIN is off until the guest's kick).
 */
static void vnet_rx_process(struct vnet *n)
{
	const struct virtio_queue_loop l = {.chain = &n->chain,
					    .budget = VNET_BUDGET,
					    .more = vnet_rx_more,
					    .handle = vnet_rx_chain};

	virtio_mmio_process(&n->t, VNET_RXQ, &l);
	vnet_update_poll(n);
}

/*
 * Offloads in a TX header must have been negotiated: the tap would accept
 * them anyway, but a guest that did not ask for TSO has no business sending
 * 64 KiB super-frames.
 */
static bool vnet_tx_header_ok(struct vnet *n, const uint8_t *hdr)
{
	uint64_t f = virtio_mmio_driver_features(&n->t);
	uint8_t flags = hdr[0], gso = hdr[1];

	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(f & F(VIRTIO_NET_F_CSUM)))
		return false;
	if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !(f & F(VIRTIO_NET_F_HOST_ECN)))
		return false;
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(gso & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return f & F(VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return f & F(VIRTIO_NET_F_HOST_TSO6);
	default:
		return false;
	}
}

/* Builds tx_iov from the popped chain; 0, or -errno after counting the drop. */
static int vnet_tx_gather(struct vnet *n)
{
	const struct virtq_chain *c = &n->chain;
	size_t total = 0, got = 0;

	if (c->err || c->nr > VNET_QUEUE_MAX) {
		n->st.tx_bad_chain++;
		return -EINVAL;
	}
	n->tx_niov = 1;
	for (unsigned i = 0; i < c->nr; i++) {
		uint8_t *p = gm_ptr(n->gm, c->seg[i].addr, c->seg[i].len);
		size_t k = 0;

		if (c->seg[i].write || !p) {
			n->st.tx_bad_chain++;
			return -EINVAL;
		}
		if (got < VNET_HDR_LEN) {
			k = VNET_HDR_LEN - got < c->seg[i].len ? VNET_HDR_LEN - got : c->seg[i].len;
			memcpy(n->tx_hdr + got, p, k);
			got += k;
		}
		total += c->seg[i].len;
		if (c->seg[i].len > k)
			n->tx_iov[n->tx_niov++] =
			    (struct iovec){.iov_base = p + k, .iov_len = c->seg[i].len - k};
	}
	n->tx_iov[0] = (struct iovec){.iov_base = n->tx_hdr, .iov_len = VNET_HDR_LEN};
	if (total < VNET_HDR_LEN) {
		n->st.tx_dropped_short++;
		return -EINVAL;
	}
	if (total > VNET_MAX_LEN) {
		n->st.tx_dropped_long++;
		return -EMSGSIZE;
	}
	if (!vnet_tx_header_ok(n, n->tx_hdr)) {
		n->st.tx_bad_header++;
		return -EINVAL;
	}
	return 0;
}

/* Writes the gathered chain: 0 sent or dropped, -EAGAIN the tap is full. */
static int vnet_tx_write(struct vnet *n)
{
	ssize_t r;

	do
		r = writev(n->fd, n->tx_iov, (int)n->tx_niov);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (r < 0) {
		/* EINVAL/EIO/ENOBUFS: the tap rejected or lost the frame; TCP retries. */
		n->st.tx_tap_errors++;
		log_ratelimited(&n->rl, LOG_WARN, "%s: tap write: %s", n->t.name, strerror(errno));
		return 0;
	}
	n->st.tx_frames++;
	n->st.tx_bytes += (uint64_t)r - VNET_HDR_LEN;
	return 0;
}

/* One guest frame to the tap; a tap that is full keeps the chain (EPOLLOUT resumes). */
static int vnet_tx_chain(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vnet *n = dev;
	uint64_t bytes = 0;
	int ret;

	(void)used; /* the device writes nothing into a TX chain */
	for (unsigned i = 0; !c->err && i < c->nr; i++)
		bytes += c->seg[i].len;
	if (!limiter_consume(&n->tx_lim, bytes > VNET_HDR_LEN ? bytes - VNET_HDR_LEN : 0)) {
		n->st.tx_throttled++;
		return VIRTIO_CHAIN_RETRY;
	}
	ret = vnet_tx_gather(n);
	if (ret) {
		vnet_bug(n, "tx chain %u dropped: %s", c->head,
			 ret == -EMSGSIZE ? "frame too long" : "malformed");
	} else if (n->mmds &&
		   mmds_net_tx(n->mmds, n->tx_iov + 1, n->tx_niov - 1, time_now_us() / 1000)) {
		n->st.tx_mmds++; /* for the MMDS, never the tap's */
		n->mmds_sent = true;
	} else if (vnet_tx_write(n) == -EAGAIN) {
		n->tx_pending = true;
		n->tx_head = c->head;
		return VIRTIO_CHAIN_KEPT_STOP;
	}
	return VIRTIO_CHAIN_USED;
}

static bool vnet_tx_more(void *dev)
{
	return !limiter_blocked(&((struct vnet *)dev)->tx_lim);
}

static void vnet_tx_process(struct vnet *n)
{
	const struct virtio_queue_loop l = {.chain = &n->chain,
					    .budget = VNET_BUDGET,
					    .more = vnet_tx_more,
					    .handle = vnet_tx_chain};

	if (n->tx_pending && virtio_mmio_queue_ready(&n->t, VNET_TXQ)) {
		if (vnet_tx_write(n) == -EAGAIN)
			goto out;
		n->tx_pending = false;
		virtio_mmio_push(&n->t, VNET_TXQ, n->tx_head, 0);
		virtio_mmio_signal_used(&n->t, VNET_TXQ);
	}
	if (!n->tx_pending)
		virtio_mmio_process(&n->t, VNET_TXQ, &l);
	if (n->mmds_sent) {
		n->mmds_sent = false;
		vnet_rx_process(n); /* its replies, while the guest has RX buffers */
	}
out:
	vnet_update_poll(n);
}

static void vnet_on_tap(struct ev_handler *h, uint32_t events)
{
	struct vnet *n = h->opaque;

	virtio_mmio_lock(&n->t);
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* Level-triggered and permanent (tap deleted): stop listening to it. */
		log_err("%s: tap %s failed (events 0x%x), network stopped", n->t.name,
			n->cfg.host_dev_name, events);
		evloop_del(n->loop, &n->h);
		n->polled = false;
	} else {
		if (events & EPOLLOUT)
			vnet_tx_process(n);
		if (events & EPOLLIN)
			vnet_rx_process(n);
	}
	virtio_mmio_unlock(&n->t);
}

static void vnet_queue_notify(void *dev, unsigned q)
{
	struct vnet *n = dev;

	if (q == VNET_RXQ)
		vnet_rx_process(n);
	else if (q == VNET_TXQ)
		vnet_tx_process(n);
}

static int vnet_activate(void *dev, struct virtio_mmio *t)
{
	struct vnet *n = dev;

	n->offloads = vnet_config_offloads(virtio_mmio_driver_features(t));
	if (n->is_tap && ioctl(n->fd, TUNSETOFFLOAD, n->offloads) < 0) {
		log_err("%s: TUNSETOFFLOAD 0x%x: %s", n->t.name, n->offloads, strerror(errno));
		return -errno;
	}
	return 0; /* the transport kicks both queues once we are live */
}

static void vnet_reset(void *dev)
{
	struct vnet *n = dev;

	/* tx_iov points at buffers the guest owns again; a pending rx frame is still good. */
	n->tx_pending = false;
	n->offloads = 0;
	if (n->is_tap)
		(void)ioctl(n->fd, TUNSETOFFLOAD, 0u);
	/* Status is not 0 yet when we run; stop polling explicitly. */
	if (n->polled && evloop_mod(n->loop, &n->h, 0) == 0)
		n->ev_mask = 0;
}

static unsigned vnet_held(void *dev, unsigned q)
{
	const struct vnet *n = dev;

	return q == VNET_TXQ && n->tx_pending ? 1 : 0;
}

static const struct virtio_dev_ops vnet_ops = {
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = VNET_QUEUE_MAX,
    .features = vnet_features,
    .config_read = vnet_config_read,
    .config_write = vnet_config_write,
    .config_size = VNET_CONFIG_SIZE,
    .activate = vnet_activate,
    .held = vnet_held,
    .reset = vnet_reset,
    .queue_notify = vnet_queue_notify,
};

/* A rate limiter's wait is over (VMM thread, no lock held): that queue goes on. */
static void vnet_rx_wake(void *opaque)
{
	virtio_mmio_kick(&((struct vnet *)opaque)->t, VNET_RXQ);
}

static void vnet_tx_wake(void *opaque)
{
	virtio_mmio_kick(&((struct vnet *)opaque)->t, VNET_TXQ);
}

static int vnet_init(struct vnet **out, const struct vnet_config *cfg, int fd, bool is_tap,
		     const struct guest_mem *gm, struct evloop *loop)
{
	char name[sizeof(cfg->iface_id) + 16];
	struct vnet *n;
	int ret;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	n->fd = fd;
	n->is_tap = is_tap;
	n->rx_lim.timer_fd = n->tx_lim.timer_fd = -1;
	n->cfg = *cfg;
	n->cfg.iface_id[sizeof(n->cfg.iface_id) - 1] = '\0';
	n->cfg.host_dev_name[sizeof(n->cfg.host_dev_name) - 1] = '\0';
	n->gm = gm;
	n->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	if (cfg->has_mac)
		memcpy(n->config, cfg->mac, 6);
	n->config[VNET_CONFIG_MTU] = (uint8_t)cfg->mtu; /* little-endian u16 */
	n->config[VNET_CONFIG_MTU + 1] = (uint8_t)(cfg->mtu >> 8);
	snprintf(name, sizeof(name), "virtio-net %s", n->cfg.iface_id);
	ret = virtio_mmio_init(&n->t, name, &vnet_ops, n, gm, loop);
	if (!ret)
		ret = limiter_init(&n->rx_lim, &n->cfg.rx_limiter, loop, vnet_rx_wake, n);
	if (!ret)
		ret = limiter_init(&n->tx_lim, &n->cfg.tx_limiter, loop, vnet_tx_wake, n);
	if (ret)
		goto err;
	if (loop) {
		/* Registered idle; vnet_update_poll arms it once the guest is up. */
		n->h = (struct ev_handler){.fd = fd, .fn = vnet_on_tap, .opaque = n};
		ret = evloop_add(loop, &n->h, 0);
		if (ret)
			goto err;
		n->loop = loop;
		n->polled = true;
	}
	*out = n;
	return 0;
err:
	vnet_destroy(n);
	return ret;
}

int vnet_create_with_fd(struct vnet **out, const struct vnet_config *cfg, int fd,
			const struct guest_mem *gm, struct evloop *loop)
{
	return vnet_init(out, cfg, fd, false, gm, loop);
}

int vnet_create(struct vnet **out, const struct vnet_config *cfg, const struct guest_mem *gm,
		struct evloop *loop)
{
	int fd = vnet_tap_open(cfg);

	*out = NULL;
	if (fd < 0)
		return fd;
	return vnet_init(out, cfg, fd, true, gm, loop);
}

const struct vnet_config *vnet_get_config(const struct vnet *n)
{
	return &n->cfg;
}

struct virtio_mmio *vnet_transport(struct vnet *n)
{
	return &n->t;
}

const struct vnet_stats *vnet_stats(const struct vnet *n)
{
	return &n->st;
}

static const struct mmds_net *vnet_mmds(const void *dev)
{
	return ((const struct vnet *)dev)->mmds;
}

unsigned vnet_tap_offloads(const struct vnet *n)
{
	return n->offloads;
}

void vnet_destroy(struct vnet *n)
{
	if (!n)
		return;
	if (n->polled)
		evloop_del(n->loop, &n->h);
	limiter_destroy(&n->rx_lim);
	limiter_destroy(&n->tx_lim);
	mmds_net_destroy(n->mmds);
	virtio_mmio_destroy(&n->t);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

/* ---- the device type ---------------------------------------------------------- */

static int vnet_type_parse(const char *spec, void *cfg, char *err, size_t errlen)
{
	return vnet_config_parse(spec, cfg, err, errlen);
}

int vnet_mmds_attach(struct vnet *n, struct mmds *store)
{
	uint32_t ip;

	return vnet_config_mmds(&n->cfg, store, &ip) ? mmds_net_create(&n->mmds, store, ip) : 0;
}

static int vnet_type_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	int r = vnet_create((struct vnet **)dev, cfg, env->gm, env->loop);

	if (!r && env->mmds && (r = vnet_mmds_attach(*dev, env->mmds))) {
		vnet_destroy(*dev);
		*dev = NULL;
	}
	return r;
}

static void vnet_type_destroy(void *dev)
{
	vnet_destroy(dev);
}

static struct virtio_mmio *vnet_type_transport(void *dev)
{
	return vnet_transport(dev);
}

static const void *vnet_type_config(const void *dev)
{
	return vnet_get_config(dev);
}

static json_t *vnet_type_metrics(const void *dev)
{
	return vnet_config_metrics(vnet_stats(dev));
}

/* PATCH /network-interfaces/{id} rx or tx rate limiter on a running VM. */
static int vnet_type_set_limiter(void *dev, const char *which, const struct limiter_cfg *c)
{
	struct vnet *n = dev;
	struct limiter *l = !strcmp(which, "rx")   ? &n->rx_lim
			    : !strcmp(which, "tx") ? &n->tx_lim
						   : NULL;

	if (!l)
		return -EINVAL;
	virtio_mmio_lock(&n->t);
	*vnet_config_limiter(&n->cfg, which) = *c;
	limiter_update(l, c);
	vnet_update_poll(n); /* rx may poll the tap again */
	virtio_mmio_unlock(&n->t);
	return 0;
}

static const struct vdev_type vnet_type = {
    .name = "net",
    .cli_opt = "--net",
    .cli_help = "  --net SPEC          tap=NAME[,mac=AA:BB:CC:DD:EE:FF][,id=NAME][,mtu=N]:\n"
		"                      virtio-net on an existing tap device; repeatable,\n"
		"                      up to 8; mtu= is offered to the guest (68..65535)\n",
    .max = 8,
    .config_size = sizeof(struct vnet_config),
    .parse = vnet_type_parse,
    .id = vnet_config_id,
    .check_set = vnet_config_check_set,
    .probe = vnet_config_probe,
    .create = vnet_type_create,
    .destroy = vnet_type_destroy,
    .transport = vnet_type_transport,
    .config = vnet_type_config,
    .metrics = vnet_type_metrics,
    .metrics_key = "net",
    .mmds = vnet_mmds,
    .limiter = vnet_config_limiter,
    .set_limiter = vnet_type_set_limiter,
    .state_version = 3,
    .save = vnet_config_save,
    .load = vnet_config_load,
    .set = vnet_config_set,
};
VDEV_REGISTER(vnet_type);
