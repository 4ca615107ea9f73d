// SPDX-License-Identifier: Apache-2.0
/*
 * A virtio device across a snapshot: virtio_mmio_get_state on a running
 * vsock, a fresh vsock built the way a restore builds it, virtio_mmio_restore
 * into it, and the driver carrying on as if nothing happened (the queues
 * keep their indices: the used ring continues where it stood).  Saved states
 * that a file could carry but no device could be in are refused and leave
 * the transport untouched.  Every state restored here first went through
 * the file's encoding (virtio_mmio_state_save/load).  After a restore, the
 * vsock type's restored() hook (vsock_transport_reset) tells the guest its
 * connections are gone.  test_snap_dev_vm.c runs the same device through
 * snap_dev_save/snap_dev_config/snap_dev_restore.  A fake device covers what vsock cannot
 * be made to do on demand: hold chains (ops->held) across get_state.
 *
 * The guest memory outlives the devices, as guest RAM outlives them in a
 * restore (the memory file maps it back): the driver's rings and its
 * counters (avail_idx, used_seen) are simply kept.
 */
#include <endian.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#include "unit.h"
#include "device.h"
#include "vsock_mux.h"

#define RAM    0x400000
#define QSIZE  64
#define RXQ    0
#define TXQ    1
#define EVQ    2
#define RXBUF  0x100000 /* the RX chain with head h lives at RXBUF + 0x1000 * h */
#define TXBUF  0x200000
#define EVBUF  0x300000
#define CID    3
#define S_ALL  0xf
#define S_DOK  VIRTIO_CONFIG_S_DRIVER_OK
#define S_FOK  VIRTIO_CONFIG_S_FEATURES_OK
#define NO_ONE 9000 /* a host port nobody listens on: every packet to it draws an RST */

static const uint64_t qbase[3] = {0x10000, 0x20000, 0x30000};

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	struct vsock_config cfg;
	struct vsock *v;
	struct virtio_mmio *t;
	char dir[32];
	uint16_t avail_idx[3], used_seen[3], next_desc[3];
};

#define VDRIVER_QUEUES
#include "vdriver.h"

/* The VMM thread's part: runs ready handlers until none is (bounded). */
static void pump(struct rig *r)
{
	struct epoll_event ev[8];

	for (int round = 0; round < 100; round++) {
		int n = epoll_wait(r->loop.epfd, ev, 8, 0);

		if (n <= 0)
			return;
		while (n--) {
			struct ev_handler *h = ev[n].data.ptr;

			h->fn(h, ev[n].events);
		}
	}
	fail_msg("the device keeps the event loop busy");
}

static void vsock_new(struct rig *r)
{
	assert_int_equal(vsock_create(&r->v, &r->cfg, &r->gm, &r->loop), 0);
	r->t = vsock_transport(r->v);
}

/* One descriptor chain of one segment, offered and kicked. */
static uint16_t post(struct rig *r, unsigned q, uint64_t addr, uint32_t len, bool w)
{
	struct seg s = {addr, len, w};
	uint16_t head = add_chain(r, q, &s, 1);

	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	pump(r);
	return head;
}

static void post_rx(struct rig *r)
{
	post(r, RXQ, RXBUF + 0x1000 * (uint64_t)r->next_desc[RXQ], 0x1000, true);
}

/* Linux's probe up to DRIVER_OK: every feature offered is taken, three queues ready. */
static void driver_setup(struct rig *r)
{
	uint64_t f = dev_features(r);

	wr(r, VIRTIO_MMIO_STATUS, 0);
	memset(at(r, qbase[0]), 0, qbase[2] + 0x3000 - qbase[0]);
	memset(r->avail_idx, 0, sizeof(r->avail_idx));
	memset(r->used_seen, 0, sizeof(r->used_seen));
	memset(r->next_desc, 0, sizeof(r->next_desc));
	wr(r, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(r, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t sel = 0; sel < 2; sel++) {
		wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
		wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> (32 * sel)));
	}
	wr(r, VIRTIO_MMIO_STATUS, S_ALL & ~S_DOK);
	vd_queues(r, 3, qbase, QSIZE);
}

/* Then DRIVER_OK and 4 RX buffers, the device live. */
static void driver_up(struct rig *r)
{
	driver_setup(r);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
	for (unsigned i = 0; i < 4; i++)
		post_rx(r);
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	log_set_level(LOG_ERROR);
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(r->loop.epfd >= 0);
	snprintf(r->dir, sizeof(r->dir), "/tmp/ember-snapdev-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	r->cfg = (struct vsock_config){.guest_cid = CID, .vsock_id = "vsock0"};
	snprintf(r->cfg.uds_path, sizeof(r->cfg.uds_path), "%s/v.sock", r->dir);
	vsock_new(r);
	driver_up(r);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	vsock_destroy(r->v);
	unlink(r->cfg.uds_path); /* left behind on purpose (vsock_host_close) */
	assert_int_equal(rmdir(r->dir), 0);
	close(r->loop.epfd);
	fake_gm_free(&r->gm);
	free(r);
	return 0;
}

/*
 * A guest packet to a port nobody listens on: the device takes the TX
 * chain and answers with an RST in the next RX buffer, so both queues
 * advance by one.  Checks the used entries exactly where the driver
 * expects them.
 */
static void rw_to_no_one(struct rig *r, uint32_t gport)
{
	struct vsock_hdr h = {.src_cid = CID,
			      .dst_cid = VSOCK_HOST_CID,
			      .src_port = gport,
			      .dst_port = NO_ONE,
			      .type = VIRTIO_VSOCK_TYPE_STREAM,
			      .op = VIRTIO_VSOCK_OP_RW};
	uint64_t a = TXBUF + 0x100 * (uint64_t)(r->avail_idx[TXQ] % QSIZE);
	uint16_t head;
	uint32_t e[2];

	vsock_hdr_encode(&h, at(r, a));
	head = post(r, TXQ, a, VSOCK_HDR_LEN, false);
	assert_int_equal(used_count(r, TXQ), 1);
	assert_int_equal(
	    gm_read(&r->gm, qbase[TXQ] + 0x2004 + 8 * (r->used_seen[TXQ] % QSIZE), e, 8), 0);
	assert_int_equal(le32toh(e[0]), head);
	r->used_seen[TXQ]++;

	assert_int_equal(used_count(r, RXQ), 1);
	assert_int_equal(
	    gm_read(&r->gm, qbase[RXQ] + 0x2004 + 8 * (r->used_seen[RXQ] % QSIZE), e, 8), 0);
	/* RX heads are taken in the order posted: the oldest buffer not yet used. */
	assert_int_equal(le32toh(e[0]), r->used_seen[RXQ] % QSIZE);
	assert_int_equal(le32toh(e[1]), VSOCK_HDR_LEN);
	vsock_hdr_decode(at(r, RXBUF + 0x1000 * (uint64_t)le32toh(e[0])), &h);
	assert_int_equal(h.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(h.dst_port, gport);
	assert_int_equal(h.src_port, NO_ONE);
	r->used_seen[RXQ]++;
	post_rx(r);
}

static uint64_t irq_count(struct rig *r)
{
	eventfd_t v = 0;

	(void)eventfd_read(virtio_mmio_irq_fd(r->t), &v);
	return v;
}

/*
 * The snapshot: state taken and through the file's encoding (as
 * snap_dev_save writes it and snap_dev_restore reads it), the old device
 * gone, a fresh one in its place (not restored).
 */
static void snapshot(struct rig *r, struct virtio_mmio_state *st)
{
	struct virtio_mmio_state raw;
	const char *why = NULL;
	struct pw w;

	virtio_mmio_get_state(r->t, &raw);
	pw_init(&w);
	virtio_mmio_state_save(&raw, VIRTIO_ID_VSOCK, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(virtio_mmio_state_load(w.buf, w.len, VIRTIO_ID_VSOCK, st, &why), 0);
	pw_free(&w);
	/* Every field of the state is in the encoding. */
	assert_true(st->status == raw.status && st->driver_features == raw.driver_features);
	assert_true(st->dev_features_sel == raw.dev_features_sel &&
		    st->drv_features_sel == raw.drv_features_sel);
	assert_true(st->queue_sel == raw.queue_sel && st->interrupt_status == raw.interrupt_status);
	assert_true(st->config_generation == raw.config_generation);
	assert_int_equal(st->activated, raw.activated);
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		const struct virtq *a = &st->vq[q], *b = &raw.vq[q];

		assert_true(a->desc == b->desc && a->avail == b->avail && a->used == b->used);
		assert_true(a->size == b->size && a->ready == b->ready);
		assert_true(a->event_idx == b->event_idx && a->indirect == b->indirect);
		assert_true(a->last_avail == b->last_avail && a->used_idx == b->used_idx);
		assert_true(a->signalled_used == b->signalled_used);
		assert_true(a->signalled_valid == b->signalled_valid);
	}
	vsock_destroy(r->v);
	vsock_new(r);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), 0);
	assert_false(virtio_mmio_live(r->t));
}

static void restore_ok(struct rig *r, const struct virtio_mmio_state *st)
{
	char err[160] = "";

	assert_int_equal(virtio_mmio_restore(r->t, st, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	pump(r); /* what activate queued */
}

/* ---- save and restore a running device ------------------------------------------ */

static void test_restore_continues(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio_state st, again;

	for (uint32_t i = 0; i < 3; i++)
		rw_to_no_one(r, 100 + i);
	snapshot(r, &st);
	assert_true(st.activated);
	assert_int_equal(st.status, S_ALL);
	assert_int_equal(st.vq[TXQ].last_avail, 3);
	assert_int_equal(st.vq[TXQ].used_idx, 3);
	assert_int_equal(st.vq[RXQ].last_avail, 3);
	assert_int_equal(st.vq[RXQ].used_idx, 3);
	assert_true(st.vq[RXQ].event_idx); /* negotiated: must survive, or signals go wrong */

	/* Entries the driver has consumed: a device that replays old chains rewrites them. */
	memset(at(r, qbase[TXQ] + 0x2004), 0xee, 3 * 8);
	memset(at(r, qbase[RXQ] + 0x2004), 0xee, 3 * 8);
	restore_ok(r, &st);
	assert_true(virtio_mmio_live(r->t));
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
	wr(r, VIRTIO_MMIO_QUEUE_SEL, EVQ);
	assert_int_equal(rd32(r, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(rd32(r, VIRTIO_MMIO_QUEUE_NUM), QSIZE);
	assert_int_equal(rd32(r, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)qbase[EVQ]);
	/*
	 * The next request is served from the 4th avail entry and completes in
	 * the 4th used entry.  A device restarted at index 0 would serve the
	 * three old chains again (their packets, their used entries) first.
	 */
	rw_to_no_one(r, 200);
	assert_int_equal(get16(r, qbase[TXQ] + 0x2002), 4);
	assert_int_equal(get16(r, qbase[RXQ] + 0x2002), 4);
	assert_int_equal(vsock_stats(r->v)->tx_pkts, 1);
	assert_int_equal(vsock_stats(r->v)->rx_pkts, 1);
	for (unsigned i = 0; i < 3 * 8; i++) {
		assert_int_equal(*at(r, qbase[TXQ] + 0x2004 + i), 0xee);
		assert_int_equal(*at(r, qbase[RXQ] + 0x2004 + i), 0xee);
	}
	virtio_mmio_get_state(r->t, &again);
	assert_int_equal(again.vq[TXQ].last_avail, 4);
	assert_int_equal(again.vq[RXQ].used_idx, 4);
}

/* An interrupt pending at the snapshot may have been lost on the way: raised again. */
static void test_restore_reraises_interrupt(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio_state st;

	rw_to_no_one(r, 100);
	snapshot(r, &st);
	assert_true(st.interrupt_status & VIRTIO_MMIO_INT_VRING);
	assert_int_equal(irq_count(r), 0);
	restore_ok(r, &st);
	assert_true(irq_count(r) > 0);
	assert_int_equal(rd32(r, VIRTIO_MMIO_INTERRUPT_STATUS), st.interrupt_status);

	wr(r, VIRTIO_MMIO_INTERRUPT_ACK, st.interrupt_status);
	snapshot(r, &st);
	assert_int_equal(st.interrupt_status, 0);
	restore_ok(r, &st);
	assert_int_equal(irq_count(r), 0);
}

/*
 * A driver caught between its queue setup and DRIVER_OK comes back as it
 * was: not started, so not even a posted event buffer may be used.
 */
static void test_restore_not_running(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio_state st;

	driver_setup(r);
	post(r, EVQ, EVBUF, 8, true);
	snapshot(r, &st);
	assert_false(st.activated);
	assert_true(st.vq[EVQ].ready);
	restore_ok(r, &st);
	assert_false(virtio_mmio_live(r->t));
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL & ~S_DOK);
	assert_int_equal(vsock_transport_reset(r->v), -ENOBUFS);
	assert_int_equal(used_count(r, EVQ), 0);
}

/*
 * What a driver may leave in the registers before it is done (feature bits
 * the device does not offer before FEATURES_OK, a queue size above the
 * maximum before DRIVER_OK) does not make its snapshot unrestorable; the
 * checks still come when it goes on: FEATURES_OK does not stick.
 */
static void test_restore_driver_midway(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio_state st;

	wr(r, VIRTIO_MMIO_STATUS, 0);
	wr(r, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(r, VIRTIO_MMIO_QUEUE_SEL, RXQ);
	wr(r, VIRTIO_MMIO_QUEUE_NUM, 512); /* vsock's QueueNumMax is 256 */
	snapshot(r, &st);
	assert_true(st.driver_features & ~dev_features(r));
	assert_int_equal(st.vq[RXQ].size, 512);
	restore_ok(r, &st);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS),
			 VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL & ~S_DOK);
	assert_false(rd32(r, VIRTIO_MMIO_STATUS) & S_FOK);
	assert_false(virtio_mmio_live(r->t));
}

/* ---- refusals -------------------------------------------------------------------- */

struct bad_state {
	const char *why; /* what the message must say */
	void (*spoil)(struct virtio_mmio_state *st, uint64_t offered);
};

static void unknown_status(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->status |= 0x20;
}

static void feature_not_offered(struct virtio_mmio_state *st, uint64_t offered)
{
	st->driver_features |= ~offered & (offered + 1); /* the lowest bit not offered */
}

static void no_driver_ok(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->status &= ~S_DOK;
}

static void no_features_ok(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->status &= ~S_FOK;
}

static void queue_too_big(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->vq[RXQ].size = 512; /* vsock's QueueNumMax is 256 */
}

static void used_ring_outside(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->vq[TXQ].used = RAM - 0x40;
}

static void desc_outside(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->vq[EVQ].desc = 1ull << 40;
}

static void no_version_1(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->driver_features &= ~(1ull << VIRTIO_F_VERSION_1);
}

/* The queue claims a ring feature the driver did not take (or the reverse). */
static void ring_features_differ(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->vq[TXQ].event_idx = !st->vq[TXQ].event_idx;
}

static void fourth_queue_size(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->vq[3].size = 16;
}

static void fourth_queue_ready(struct virtio_mmio_state *st, uint64_t offered)
{
	(void)offered;
	st->vq[VIRTIO_MMIO_MAX_QUEUES - 1].ready = true;
}

/*
 * Each spoiled state is refused with a message saying why, and leaves the
 * fresh transport as it was: reset, not live, no event to send.  After all
 * of them the good state still restores and the device works.
 */
static void test_restore_refusals(void **state)
{
	static const struct bad_state bad[] = {
	    {"unknown bits", unknown_status},
	    {"does not offer", feature_not_offered},
	    {"without DRIVER_OK", no_driver_ok},
	    {"without DRIVER_OK", no_features_ok},
	    {"maximum", queue_too_big},
	    {"used ring outside guest memory", used_ring_outside},
	    {"descriptor table outside guest memory", desc_outside},
	    {"without VIRTIO_F_VERSION_1", no_version_1},
	    {"ring features differ", ring_features_differ},
	    {"does not have", fourth_queue_size},
	    {"does not have", fourth_queue_ready},
	};
	struct rig *r = *state;
	uint64_t offered = dev_features(r);
	struct virtio_mmio_state good, st;
	char err[200];

	rw_to_no_one(r, 100);
	snapshot(r, &good);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		st = good;
		bad[i].spoil(&st, offered);
		err[0] = 0;
		assert_int_equal(virtio_mmio_restore(r->t, &st, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why))
			fail_msg("case %u: \"%s\" does not say \"%s\"", i, err, bad[i].why);
		assert_false(virtio_mmio_live(r->t));
		assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), 0);
		wr(r, VIRTIO_MMIO_QUEUE_SEL, RXQ);
		assert_int_equal(rd32(r, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(irq_count(r), 0);
		assert_int_equal(vsock_transport_reset(r->v), -ENOBUFS);
	}
	wr(r, VIRTIO_MMIO_QUEUE_SEL, 0);
	restore_ok(r, &good);
	rw_to_no_one(r, 101);
	assert_int_equal(get16(r, qbase[TXQ] + 0x2002), 2);
}

/* ---- vsock_transport_reset ------------------------------------------------------ */

/* The event the device wrote into event buffer @head, checked from the used ring. */
static void expect_event(struct rig *r, uint16_t head, uint32_t len)
{
	uint32_t e[2];

	assert_int_equal(used_count(r, EVQ), 1);
	assert_int_equal(
	    gm_read(&r->gm, qbase[EVQ] + 0x2004 + 8 * (r->used_seen[EVQ] % QSIZE), e, 8), 0);
	r->used_seen[EVQ]++;
	assert_int_equal(le32toh(e[0]), head);
	assert_int_equal(le32toh(e[1]), len);
}

/*
 * After a restore the host ends of the guest's connections are gone: one
 * TRANSPORT_RESET event (id 0, 4 bytes) per call, into the buffers the
 * driver posted, including one posted before the snapshot; -ENOBUFS once
 * they are used up, and a read-only buffer goes back empty.
 */
static void test_transport_reset_event(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio_state st;
	uint16_t head;
	uint32_t id;

	memset(at(r, EVBUF), 0xff, 0x100);
	head = post(r, EVQ, EVBUF, 8, true);
	assert_int_equal(used_count(r, EVQ), 0); /* the device keeps it for a rainy day */
	rw_to_no_one(r, 100);
	snapshot(r, &st);
	restore_ok(r, &st);
	wr(r, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	(void)irq_count(r);

	/* What snap_dev_restore calls after a restore: the type's restored() hook. */
	vdev_type_find("vsock")->restored(r->v);
	expect_event(r, head, 4);
	memcpy(&id, at(r, EVBUF), 4);
	assert_int_equal(le32toh(id), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(*at(r, EVBUF + 4), 0xff); /* nothing past the event */
	assert_true(rd32(r, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
	assert_true(irq_count(r) > 0);

	assert_int_equal(vsock_transport_reset(r->v), -ENOBUFS);
	assert_int_equal(used_count(r, EVQ), 0);

	memset(at(r, EVBUF + 0x100), 0xff, 8);
	head = post(r, EVQ, EVBUF + 0x100, 8, false);
	assert_int_equal(vsock_transport_reset(r->v), -EINVAL);
	expect_event(r, head, 0);
	assert_int_equal(*at(r, EVBUF + 0x100), 0xff);

	/* The device goes on as before: the streams' RX path is unaffected. */
	rw_to_no_one(r, 101);
}

/* ---- ops->held, with a fake device -------------------------------------------- */

struct fake {
	unsigned held[2];
	int activates;
};

static uint64_t fake_features(void *dev)
{
	(void)dev;
	return 1ull << VIRTIO_RING_F_EVENT_IDX;
}

static int fake_activate(void *dev, struct virtio_mmio *t)
{
	(void)t;
	((struct fake *)dev)->activates++;
	return 0;
}

static unsigned fake_held(void *dev, unsigned q)
{
	return ((struct fake *)dev)->held[q];
}

static const struct virtio_dev_ops fake_ops = {
    .device_id = 0x42,
    .num_queues = 2,
    .queue_max = 16,
    .features = fake_features,
    .activate = fake_activate,
    .held = fake_held,
};

/*
 * Chains the device popped but still holds (a frame the tap refused) go
 * back to the ring in the saved state, so the restored device pops them
 * again; the running device's own indices are not touched.  Everything
 * else round-trips as it was restored.
 */
static void test_get_state_gives_back_held(void **state)
{
	struct guest_mem gm;
	struct virtio_mmio t;
	struct fake f = {.held = {0, 2}};
	struct virtio_mmio_state st =
				     {
					 .status = S_ALL,
					 .driver_features = (1ull << VIRTIO_F_VERSION_1) |
							    (1ull << VIRTIO_RING_F_EVENT_IDX),
					 .queue_sel = 1,
					 .config_generation = 3,
					 .activated = true,
				     },
				 got;
	char err[160] = "";

	(void)state;
	fake_gm_init(&gm, 0x10000, 0, 0);
	for (unsigned q = 0; q < 2; q++)
		st.vq[q] = (struct virtq){.desc = 0x1000 + 0x3000 * q,
					  .avail = 0x2000 + 0x3000 * q,
					  .used = 0x3000 + 0x3000 * q,
					  .size = 16,
					  .ready = true,
					  .event_idx = true,
					  .last_avail = (uint16_t)(7 + q),
					  .used_idx = 5};
	st.vq[0].last_avail = 1; /* held 0: stays; held 2 on q1: 8 - 2 */
	assert_int_equal(virtio_mmio_init(&t, "fake", &fake_ops, &f, &gm, NULL), 0);
	assert_int_equal(virtio_mmio_restore(&t, &st, err, sizeof(err)), 0);
	assert_int_equal(f.activates, 1);
	virtio_mmio_get_state(&t, &got);
	assert_int_equal(got.vq[0].last_avail, 1);
	assert_int_equal(got.vq[1].last_avail, 6);
	assert_int_equal(virtio_mmio_queue(&t, 1)->last_avail, 8);
	assert_int_equal(got.status, st.status);
	assert_true(got.driver_features == st.driver_features);
	assert_int_equal(got.queue_sel, 1);
	assert_int_equal(got.config_generation, 3);
	assert_true(got.activated);
	for (unsigned q = 0; q < 2; q++) {
		assert_true(got.vq[q].desc == st.vq[q].desc && got.vq[q].used == st.vq[q].used);
		assert_true(got.vq[q].ready && got.vq[q].event_idx);
		assert_int_equal(got.vq[q].size, 16);
		assert_int_equal(got.vq[q].used_idx, 5);
	}

	/* A device that needed a reset comes back needing it, not started. */
	st.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	virtio_mmio_destroy(&t);
	assert_int_equal(virtio_mmio_init(&t, "fake", &fake_ops, &f, &gm, NULL), 0);
	assert_int_equal(virtio_mmio_restore(&t, &st, err, sizeof(err)), 0);
	assert_int_equal(f.activates, 1);
	assert_false(virtio_mmio_live(&t));
	virtio_mmio_destroy(&t);
	fake_gm_free(&gm);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_restore_continues),
	    T(test_restore_reraises_interrupt),
	    T(test_restore_not_running),
	    T(test_restore_driver_midway),
	    T(test_restore_refusals),
	    T(test_transport_reset_event),
	    cmocka_unit_test(test_get_state_gives_back_held),
	};
	return cmocka_run_group_tests_name("snap_dev", tests, NULL, NULL);
}
