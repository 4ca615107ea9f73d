// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the virtio-mmio transport (virtio/virtio_mmio.c) as a
 * guest driver sees it: a virtio-rng made through the device registry, as
 * the VM makes one, over guest memory that is the input (repeated), then
 * the input read as a sequence of 8-byte operations: 1..8-byte register
 * reads and writes through virtio_mmio_bus_ops (the vCPU's MMIO exit),
 * guest memory pokes and whole chains posted on the queue (the driver
 * filling its rings), queue kicks from outside (ioeventfd, the limiter),
 * one round of the event loop (the device serving its queue), ioeventfd
 * bound or not, and a snapshot: get_state, the state encoded and decoded,
 * restored into a second fresh device which then carries on in its place.
 * Checked on the way, besides the sanitizers: identity registers read
 * right, bad-width register reads read zero, status never has unknown
 * bits, a live device's ready rings are valid, and a state survives its
 * encoding and a restore unchanged.
 *
 * Not reached: the other devices' queue handlers (block, net and vsock need
 * files, taps or sockets), ring features (virtio-rng offers neither
 * EVENT_IDX nor INDIRECT_DESC: fuzz_virtq covers them), config space
 * (virtio-rng has none), a rate limiter that throttles, and the vCPU
 * threads racing the event loop.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_mmio --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <sys/epoll.h>

#include "device.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"
#include "vrig.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t ops, live, handlers, used, snapshots, restored, used_after_restore;
} depth;

#define FUZZ_RAM (64u << 10)
#define OP_SIZE	 8
/* Ops per input: a bring-up is ~40; more only slows the search down. */
#define MAX_OPS 512

enum {
	OP_WRITE,    /* register write: offset, value, width */
	OP_READ,     /* register read: offset, width */
	OP_POKE,     /* guest memory: value's low width bytes at gpa offset */
	OP_KICK,     /* virtio_mmio_kick(value): an ioeventfd or limiter wakeup */
	OP_LOOP,     /* one round of the event loop */
	OP_SNAPSHOT, /* get_state, encode/decode, restore into a new device */
	OP_IOEVENTFD,
	OP_POST, /* a descriptor at slot value % size, offered in the avail ring */
	OP_KINDS
};

/* An operation: {u8 kind, le16 offset, le32 value, u8 width}. */
struct op {
	uint8_t kind;
	uint16_t off;
	uint32_t val;
	uint8_t width;
};

/* Access sizes: mostly what a driver uses, some a broken guest could. */
static const uint32_t widths[8] = {4, 1, 2, 8, 4, 3, 4, 6};

struct rig {
	const struct vdev_type *type;
	struct guest_mem gm;
	struct evloop loop;
	void *dev;
	bool restored; /* the current device came from a restore */
};

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A bug in ember, not a refusal: stop so the input is kept. */
static void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_mmio: %s\n", what);
	abort();
}

static struct virtio_mmio *tr(struct rig *r)
{
	return r->type->transport(r->dev);
}

static void *dev_new(struct rig *r)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	struct vdev_env env = {.gm = &r->gm, .loop = &r->loop};
	char err[200];
	void *dev;

	if (r->type->parse(NULL, cfg, err, sizeof(err)) || r->type->create(&dev, cfg, &env))
		abort(); /* the rig, not the input: nothing to learn from going on */
	return dev;
}

static bool vq_equal(const struct virtq *a, const struct virtq *b)
{
	return a->desc == b->desc && a->avail == b->avail && a->used == b->used &&
	       a->size == b->size && a->ready == b->ready && a->event_idx == b->event_idx &&
	       a->indirect == b->indirect && a->last_avail == b->last_avail &&
	       a->used_idx == b->used_idx && a->signalled_used == b->signalled_used &&
	       a->signalled_valid == b->signalled_valid;
}

static bool state_equal(const struct virtio_mmio_state *a, const struct virtio_mmio_state *b)
{
	if (a->status != b->status || a->dev_features_sel != b->dev_features_sel ||
	    a->drv_features_sel != b->drv_features_sel ||
	    a->driver_features != b->driver_features || a->queue_sel != b->queue_sel ||
	    a->interrupt_status != b->interrupt_status ||
	    a->config_generation != b->config_generation || a->activated != b->activated)
		return false;
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		if (!vq_equal(&a->vq[q], &b->vq[q]))
			return false;
	return true;
}

/* What must hold after every operation, whatever the guest did. */
static void check_invariants(struct rig *r)
{
	struct virtio_mmio *t = tr(r);
	const uint32_t known = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |
			       VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET;
	const char *why;

	if (t->st.status & ~known)
		fuzz_fail("status has unknown bits");
	/* QueueSel may be anything: registers of queues the device lacks go nowhere. */
	for (unsigned q = t->ops->num_queues; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		if (!vq_equal(&t->st.vq[q], &(struct virtq){0}))
			fuzz_fail("a queue the device does not have was written");
	if (!virtio_mmio_live(t))
		return;
	/* The device pops from these: DRIVER_OK must have refused bad ones. */
	for (unsigned q = 0; q < t->ops->num_queues; q++)
		if (t->st.vq[q].ready &&
		    virtq_validate(&t->st.vq[q], &r->gm, t->ops->queue_max, &why))
			fuzz_fail("a live device has a ready queue that does not validate");
}

static void op_read(struct rig *r, const struct op *o)
{
	uint8_t buf[8];
	uint32_t len = widths[o->width % 8], v;
	uint64_t off = o->off % VIRTIO_MMIO_SIZE;

	memset(buf, 0xa5, sizeof(buf));
	virtio_mmio_bus_ops.read(tr(r), off, buf, len);
	for (uint32_t i = len; i < sizeof(buf); i++)
		if (buf[i] != 0xa5)
			fuzz_fail("a register read wrote past its length");
	if (off >= VIRTIO_MMIO_CONFIG)
		return;
	memcpy(&v, buf, 4);
	v = le32toh(v);
	if (len != 4 || off % 4) {
		for (uint32_t i = 0; i < len; i++)
			if (buf[i])
				fuzz_fail("a misaligned register read did not read zero");
	} else if ((off == VIRTIO_MMIO_MAGIC_VALUE && v != 0x74726976) ||
		   (off == VIRTIO_MMIO_VERSION && v != 2) ||
		   (off == VIRTIO_MMIO_DEVICE_ID && v != tr(r)->ops->device_id)) {
		fuzz_fail("an identity register read wrong");
	}
}

static void op_write(struct rig *r, const struct op *o)
{
	uint8_t buf[8] = {0};
	uint32_t v = htole32(o->val);

	memcpy(buf, &v, 4);
	memcpy(buf + 4, &v, 4);
	virtio_mmio_bus_ops.write(tr(r), o->off % VIRTIO_MMIO_SIZE, buf, widths[o->width % 8]);
}

static void op_poke(struct rig *r, const struct op *o)
{
	uint32_t v = htole32(o->val);

	(void)gm_write(&r->gm, o->off, &v, widths[o->width % 8] > 4 ? 4 : widths[o->width % 8]);
}

/*
 * The driver adding one descriptor (flags = width: NEXT, WRITE, INDIRECT;
 * next = the following slot) to queue 0 wherever the transport says its
 * rings are, as virtqueue_add does; gm_write refuses what is outside.
 */
static void op_post(struct rig *r, const struct op *o)
{
	const struct virtq *vq = &tr(r)->st.vq[0];
	uint16_t slot, aidx, v16;
	uint8_t d[16];
	uint64_t a;
	uint32_t len;

	if (!vq->size || vq->size > VIRTQ_MAX_SIZE || gm_read(&r->gm, vq->avail + 2, &aidx, 2))
		return;
	aidx = le16toh(aidx);
	slot = (uint16_t)((o->val & 0xffff) % vq->size);
	a = htole64(o->off);
	len = htole32(o->val >> 16);
	memcpy(d, &a, 8);
	memcpy(d + 8, &len, 4);
	v16 = htole16(o->width & 7);
	memcpy(d + 12, &v16, 2);
	v16 = htole16((uint16_t)((slot + 1) % vq->size));
	memcpy(d + 14, &v16, 2);
	if (gm_write(&r->gm, vq->desc + 16 * (uint64_t)slot, d, 16))
		return;
	v16 = htole16(slot);
	if (gm_write(&r->gm, vq->avail + 4 + 2 * (uint64_t)(aidx % vq->size), &v16, 2))
		return;
	v16 = htole16((uint16_t)(aidx + 1));
	(void)gm_write(&r->gm, vq->avail + 2, &v16, 2);
}

/* One epoll_wait(0) and its handlers, as the VMM thread's loop runs them. */
static void op_loop(struct rig *r)
{
	struct virtio_mmio *t = tr(r);
	uint16_t before = t->st.vq[0].used_idx, done;
	struct epoll_event ev[8];
	int n = epoll_wait(r->loop.epfd, ev, 8, 0);

	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
		depth.handlers++;
	}
	done = (uint16_t)(t->st.vq[0].used_idx - before);
	depth.used += done;
	if (r->restored)
		depth.used_after_restore += done;
}

/*
 * What a snapshot and a restore do with the transport: the state out, through
 * its file encoding, into a new device, which replaces the old one if it
 * takes it.  Whatever state the register path let the guest reach must
 * restore: a refusal would make that guest's snapshot useless.
 */
static void op_snapshot(struct rig *r)
{
	struct virtio_mmio_state st, back, now;
	const uint32_t id = tr(r)->ops->device_id;
	const char *why;
	char err[200];
	struct pw w;
	void *dev;

	depth.snapshots++;
	if (r->type->quiesce)
		r->type->quiesce(r->dev);
	virtio_mmio_get_state(tr(r), &st);
	pw_init(&w);
	virtio_mmio_state_save(&st, id, &w);
	if (w.err)
		abort();
	if (virtio_mmio_state_load(w.buf, w.len, id, &back, &why) || !state_equal(&st, &back))
		fuzz_fail("a transport state did not survive its encoding");
	pw_free(&w);
	dev = dev_new(r);
	if (virtio_mmio_restore(r->type->transport(dev), &back, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		fuzz_fail("a state the registers allowed was refused by restore");
	}
	virtio_mmio_get_state(r->type->transport(dev), &now);
	/* A device that needs a reset is restored, not started again. */
	if (st.status & VIRTIO_CONFIG_S_NEEDS_RESET)
		st.activated = false;
	if (!state_equal(&st, &now))
		fuzz_fail("a restored transport differs from the one saved");
	if (r->type->restored)
		r->type->restored(dev);
	r->type->destroy(r->dev);
	r->dev = dev;
	if (virtio_mmio_live(tr(r))) {
		depth.restored++;
		r->restored = true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[FUZZ_RAM];
	struct rig r = {.type = vdev_type_find("entropy"), .loop = {.epfd = -1}};
	bool was_live = false;

	log_set_level(LOG_ERROR);
	if (!size)
		return 0;
	for (size_t off = 0; off < FUZZ_RAM; off += size)
		memcpy(ram + off, data, size < FUZZ_RAM - off ? size : FUZZ_RAM - off);
	r.gm.nr_regions = 1;
	r.gm.region[0] = (struct gm_region){.gpa = 0, .size = FUZZ_RAM, .host = ram};
	if (!r.type || evloop_init(&r.loop))
		abort();
	r.dev = dev_new(&r);
	for (size_t i = 0; i + OP_SIZE <= size && i < MAX_OPS * OP_SIZE; i += OP_SIZE) {
		const struct op o = {.kind = data[i],
				     .off = (uint16_t)(data[i + 1] | data[i + 2] << 8),
				     .val = le32_at(data + i + 3),
				     .width = data[i + 7]};

		depth.ops++;
		switch (o.kind % OP_KINDS) {
		case OP_WRITE:
			op_write(&r, &o);
			break;
		case OP_READ:
			op_read(&r, &o);
			break;
		case OP_POKE:
			op_poke(&r, &o);
			break;
		case OP_KICK:
			virtio_mmio_kick(tr(&r), o.val);
			break;
		case OP_LOOP:
			op_loop(&r);
			break;
		case OP_SNAPSHOT:
			op_snapshot(&r);
			break;
		case OP_IOEVENTFD:
			virtio_mmio_set_ioeventfd(tr(&r), o.val & 1);
			break;
		case OP_POST:
			op_post(&r, &o);
			break;
		}
		check_invariants(&r);
		was_live |= virtio_mmio_live(tr(&r));
	}
	depth.live += was_live;
	r.type->destroy(r.dev);
	evloop_destroy(&r.loop);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds: what Linux's virtio_mmio and virtio_rng drivers do -------- */

/* Where the seeds put queue 0's rings and buffers (inside FUZZ_RAM). */
#define SEED_DESC  0x1000u
#define SEED_AVAIL 0x2000u
#define SEED_USED  0x3000u
#define SEED_BUF   0x4000u
#define SEED_QSIZE 16u

/* The seed writer (vrig.h) holds as many ops as an input may have, no more. */
_Static_assert(sizeof(((struct sw *)0)->buf) == MAX_OPS * OP_SIZE, "seed size");

static void emit(struct sw *s, uint8_t kind, uint16_t off, uint32_t val, uint8_t width)
{
	uint8_t *p = s->buf + s->len;

	if (s->len + OP_SIZE > sizeof(s->buf))
		abort();
	p[0] = kind;
	p[1] = (uint8_t)off, p[2] = (uint8_t)(off >> 8);
	for (int i = 0; i < 4; i++)
		p[3 + i] = (uint8_t)(val >> (8 * i));
	p[7] = width;
	s->len += OP_SIZE;
}

static void wr(struct sw *s, uint16_t off, uint32_t v)
{
	emit(s, OP_WRITE, off, v, 0);
}

static void rd(struct sw *s, uint16_t off)
{
	emit(s, OP_READ, off, 0, 0);
}

/* Probe, reset, negotiate VIRTIO_F_VERSION_1 only, queue 0, DRIVER_OK. */
static void seed_bringup(struct sw *s)
{
	const uint32_t ack = VIRTIO_CONFIG_S_ACKNOWLEDGE, drv = ack | VIRTIO_CONFIG_S_DRIVER,
		       fok = drv | VIRTIO_CONFIG_S_FEATURES_OK;

	rd(s, VIRTIO_MMIO_MAGIC_VALUE);
	rd(s, VIRTIO_MMIO_VERSION);
	rd(s, VIRTIO_MMIO_DEVICE_ID);
	rd(s, VIRTIO_MMIO_VENDOR_ID);
	wr(s, VIRTIO_MMIO_STATUS, 0);
	wr(s, VIRTIO_MMIO_STATUS, ack);
	wr(s, VIRTIO_MMIO_STATUS, drv);
	wr(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	rd(s, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(s, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	rd(s, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(s, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* bit 32: VIRTIO_F_VERSION_1 */
	wr(s, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(s, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	wr(s, VIRTIO_MMIO_STATUS, fok);
	rd(s, VIRTIO_MMIO_STATUS);
	wr(s, VIRTIO_MMIO_QUEUE_SEL, 0);
	rd(s, VIRTIO_MMIO_QUEUE_READY);
	rd(s, VIRTIO_MMIO_QUEUE_NUM_MAX);
	wr(s, VIRTIO_MMIO_QUEUE_NUM, SEED_QSIZE);
	wr(s, VIRTIO_MMIO_QUEUE_DESC_LOW, SEED_DESC);
	wr(s, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(s, VIRTIO_MMIO_QUEUE_AVAIL_LOW, SEED_AVAIL);
	wr(s, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(s, VIRTIO_MMIO_QUEUE_USED_LOW, SEED_USED);
	wr(s, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(s, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(s, VIRTIO_MMIO_STATUS, fok | VIRTIO_CONFIG_S_DRIVER_OK);
	rd(s, VIRTIO_MMIO_STATUS);
}

/*
 * The rings' memory is the input repeated, so the driver's part is written
 * out: a 64-byte writable buffer in descriptor 0, avail flags 0, ring[0] = 0,
 * idx 1 (rng's request), then the notify, and the interrupt handler's
 * status read and ack after the loop served it.
 */
static void seed_first_request(struct sw *s)
{
	emit(s, OP_POKE, SEED_DESC, SEED_BUF, 0);
	emit(s, OP_POKE, SEED_DESC + 4, 0, 0);
	emit(s, OP_POKE, SEED_DESC + 8, 64, 0);
	emit(s, OP_POKE, SEED_DESC + 12, VRING_DESC_F_WRITE, 0);
	emit(s, OP_POKE, SEED_AVAIL + 4, 0, 2);
	emit(s, OP_POKE, SEED_AVAIL, 1u << 16, 0); /* flags 0, idx 1 */
	wr(s, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	emit(s, OP_LOOP, 0, 0, 0);
	rd(s, VIRTIO_MMIO_INTERRUPT_STATUS);
	wr(s, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
}

static int fuzz_report(void)
{
	printf("fuzz_mmio: %zu ops, %zu inputs reached a live device, %zu handler runs, "
	       "%zu chains used, %zu snapshots (%zu restored live), "
	       "%zu chains used after a restore\n",
	       depth.ops, depth.live, depth.handlers, depth.used, depth.snapshots, depth.restored,
	       depth.used_after_restore);
	return !depth.live || !depth.used || !depth.restored || !depth.used_after_restore;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	static struct sw b;
	unsigned n = 0;

	if (max < 3)
		abort();
	/* The Linux bring-up and one request. */
	seed_bringup(&b);
	seed_first_request(&b);
	seed_add(s, &n, "bringup-request", &b);

	/* The same, then more requests, a snapshot, the clone serving, a reset. */
	seed_bringup(&b);
	seed_first_request(&b);
	emit(&b, OP_POST, SEED_BUF + 0x100, 1 | 128u << 16, VRING_DESC_F_WRITE);
	emit(&b, OP_KICK, 0, 0, 0);
	emit(&b, OP_LOOP, 0, 0, 0);
	emit(&b, OP_SNAPSHOT, 0, 0, 0);
	emit(&b, OP_POST, SEED_BUF + 0x200, 2 | 512u << 16, VRING_DESC_F_WRITE);
	wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	emit(&b, OP_LOOP, 0, 0, 0);
	emit(&b, OP_IOEVENTFD, 0, 1, 0);
	emit(&b, OP_POST, SEED_BUF + 0x400, 3 | 16u << 16, VRING_DESC_F_WRITE);
	wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	emit(&b, OP_LOOP, 0, 0, 0);
	wr(&b, VIRTIO_MMIO_STATUS, 0);
	rd(&b, VIRTIO_MMIO_STATUS);
	seed_add(s, &n, "bringup-snapshot-reset", &b);

	/* A driver that gets things wrong: odd widths, queue 1, writes after DRIVER_OK. */
	seed_bringup(&b);
	emit(&b, OP_READ, VIRTIO_MMIO_STATUS, 0, 1);
	emit(&b, OP_WRITE, VIRTIO_MMIO_QUEUE_NUM + 1, 8, 2);
	wr(&b, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(&b, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(&b, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	emit(&b, OP_READ, VIRTIO_MMIO_CONFIG, 0, 3);
	emit(&b, OP_POST, SEED_BUF, 0 | 32u << 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
	emit(&b, OP_KICK, 0, 0, 0);
	emit(&b, OP_LOOP, 0, 0, 0);
	emit(&b, OP_SNAPSHOT, 0, 0, 0);
	wr(&b, VIRTIO_MMIO_STATUS, 0x8f);
	seed_add(s, &n, "bringup-mistakes", &b);
	return n;
}

#endif
