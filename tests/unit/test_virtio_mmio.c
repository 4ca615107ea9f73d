// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mmio transport through its bus ops, as Linux's virtio_mmio driver
 * drives it, with a fake two-queue device: probe, the status state machine,
 * queue registers, config space bounds, odd accesses, DRIVER_OK refusing bad
 * queues with NEEDS_RESET, reset, notifications and interrupts.
 */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "virtio_mmio.h"

#define RAM	   0x100000
#define QSIZE	   16
#define FEAT_OTHER (1ull << 3)
#define DEV_FEATS  (FEAT_OTHER | (1ull << VIRTIO_RING_F_EVENT_IDX))
#define VERSION_1  (1ull << VIRTIO_F_VERSION_1)
#define S_ACK	   VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV	   VIRTIO_CONFIG_S_DRIVER
#define S_FOK	   VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK	   VIRTIO_CONFIG_S_DRIVER_OK
#define S_ALL	   (S_ACK | S_DRV | S_FOK | S_DOK)

struct fake {
	int activates, resets, notifies[2], cfg_writes;
	int activate_ret;
	uint8_t cfg[8];
};

static uint64_t fake_features(void *dev)
{
	(void)dev;
	return DEV_FEATS;
}

static void fake_cfg_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct fake *f = dev;

	assert_true(off + len <= sizeof(f->cfg));
	memcpy(data, f->cfg + off, len);
}

static void fake_cfg_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct fake *f = dev;

	assert_true(off + len <= sizeof(f->cfg));
	memcpy(f->cfg + off, data, len);
	f->cfg_writes++;
}

static int fake_activate(void *dev, struct virtio_mmio *t)
{
	struct fake *f = dev;

	(void)t;
	f->activates++;
	return f->activate_ret;
}

static void fake_reset(void *dev)
{
	((struct fake *)dev)->resets++;
}

static void fake_notify(void *dev, unsigned q)
{
	((struct fake *)dev)->notifies[q]++;
}

static const struct virtio_dev_ops fake_ops = {
    .device_id = 0x42,
    .num_queues = 2,
    .queue_max = QSIZE,
    .features = fake_features,
    .config_read = fake_cfg_read,
    .config_write = fake_cfg_write,
    .config_size = 8,
    .activate = fake_activate,
    .reset = fake_reset,
    .queue_notify = fake_notify,
};

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	struct virtio_mmio t;
	struct fake f;
};

/* Where each queue's rings go unless a test says otherwise. */
struct qlayout {
	uint32_t size;
	uint64_t desc, avail, used;
};

static const struct qlayout good_q[2] = {
    {QSIZE, 0x1000, 0x2000, 0x3000},
    {QSIZE, 0x4000, 0x5000, 0x6000},
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(r->loop.epfd >= 0);
	assert_int_equal(virtio_mmio_init(&r->t, "fake", &fake_ops, &r->f, &r->gm, &r->loop), 0);
	virtio_mmio_set_ioeventfd(&r->t, false);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	virtio_mmio_destroy(&r->t);
	close(r->loop.epfd);
	fake_gm_free(&r->gm);
	free(r);
	return 0;
}

static uint32_t rd_n(struct rig *r, uint64_t off, uint32_t len)
{
	uint8_t b[8];
	uint64_t v = 0;

	memset(b, 0xcc, sizeof(b));
	virtio_mmio_bus_ops.read(&r->t, off, b, len);
	memcpy(&v, b, len);
	return (uint32_t)v;
}

static uint32_t rd(struct rig *r, uint64_t off)
{
	return rd_n(r, off, 4);
}

static void wr_n(struct rig *r, uint64_t off, uint32_t v, uint32_t len)
{
	uint8_t b[8] = {0};

	memcpy(b, &v, len < 4 ? len : 4);
	virtio_mmio_bus_ops.write(&r->t, off, b, len);
}

static void wr(struct rig *r, uint64_t off, uint32_t v)
{
	wr_n(r, off, v, 4);
}

/* Runs whatever the evloop has ready, like the VMM thread would. */
static void poll_loop(struct rig *r)
{
	struct epoll_event ev[8];
	int n = epoll_wait(r->loop.epfd, ev, 8, 0);

	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
	}
}

static uint64_t irqs(struct rig *r)
{
	eventfd_t v = 0;

	if (eventfd_read(virtio_mmio_irq_fd(&r->t), &v) < 0)
		return 0;
	return v;
}

static void setup_queues(struct rig *r, const struct qlayout *q, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		wr(r, VIRTIO_MMIO_QUEUE_SEL, i);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
		wr(r, VIRTIO_MMIO_QUEUE_NUM, q[i].size);
		wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q[i].desc);
		wr(r, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q[i].desc >> 32));
		wr(r, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q[i].avail);
		wr(r, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q[i].avail >> 32));
		wr(r, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q[i].used);
		wr(r, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q[i].used >> 32));
		wr(r, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_READY), 1);
	}
}

/* Linux's order: reset, ACK, DRIVER, features, FEATURES_OK (checked). */
static bool negotiate(struct rig *r, uint64_t accept)
{
	wr(r, VIRTIO_MMIO_STATUS, 0);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)accept);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accept >> 32));
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
	return rd(r, VIRTIO_MMIO_STATUS) & S_FOK;
}

static void driver_up(struct rig *r, const struct qlayout *q)
{
	assert_true(negotiate(r, DEV_FEATS | VERSION_1));
	setup_queues(r, q, 2);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
}

static void expect_live(struct rig *r)
{
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ALL);
	assert_true(virtio_mmio_live(&r->t));
	/* A kick reaches the device. */
	int before = r->f.notifies[1];
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	poll_loop(r);
	assert_int_equal(r->f.notifies[1], before + 1);
}

static void test_probe(void **state)
{
	struct rig *r = *state;

	assert_int_equal(rd(r, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(r, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(r, VIRTIO_MMIO_DEVICE_ID), 0x42);
	assert_int_not_equal(rd(r, VIRTIO_MMIO_VENDOR_ID), 0);
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)DEV_FEATS);
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(r, VIRTIO_MMIO_DEVICE_FEATURES),
			 (uint32_t)((DEV_FEATS | VERSION_1) >> 32));
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(r, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), 0);
}

static void test_bring_up(void **state)
{
	struct rig *r = *state;

	driver_up(r, good_q);
	assert_int_equal(r->f.activates, 1);
	assert_true(r->t.st.vq[0].event_idx);
	assert_false(r->t.st.vq[0].indirect);
	/* Live, each ready queue is looked at once: buffers posted before
	 * DRIVER_OK (Linux's balloon statistics) are served without a kick. */
	assert_int_equal(r->f.notifies[0], 0);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0], 1);
	assert_int_equal(r->f.notifies[1], 1);
	expect_live(r);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0], 2);
	/* What KVM's ioeventfd would do: the same eventfd, no MMIO exit. */
	virtio_mmio_set_ioeventfd(&r->t, true);
	assert_int_equal(eventfd_write(virtio_mmio_notify_fd(&r->t, 0), 1), 0);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0], 3);
	assert_int_equal(virtio_mmio_notify_fd(&r->t, 2), -EINVAL);
}

/* A notifier bound before the device existed (a pooled fork child's) replaces the transport's. */
static void test_replace_notify_fd(void **state)
{
	struct rig *r = *state;
	int old = virtio_mmio_notify_fd(&r->t, 1), fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int before;

	assert_true(fd >= 0);
	assert_int_equal(virtio_mmio_replace_notify_fd(&r->t, 2, fd), -EINVAL);
	assert_int_equal(virtio_mmio_replace_notify_fd(&r->t, 1, -1), -EINVAL);
	assert_int_equal(virtio_mmio_notify_fd(&r->t, 1), old);
	assert_int_equal(virtio_mmio_replace_notify_fd(&r->t, 1, fd), 0);
	assert_int_equal(virtio_mmio_notify_fd(&r->t, 1), fd);
	assert_int_equal(fcntl(old, F_GETFD), -1); /* the transport's own is closed */
	driver_up(r, good_q);
	poll_loop(r);
	before = r->f.notifies[1];
	/* What KVM does on the guest's QueueNotify write: the loop watches the new one. */
	virtio_mmio_set_ioeventfd(&r->t, true);
	assert_int_equal(eventfd_write(fd, 1), 0);
	poll_loop(r);
	assert_int_equal(r->f.notifies[1], before + 1);
	/* An MMIO write still kicks it, as without KVM's ioeventfd. */
	virtio_mmio_set_ioeventfd(&r->t, false);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	poll_loop(r);
	assert_int_equal(r->f.notifies[1], before + 2);
}

static void test_features_need_version_1(void **state)
{
	struct rig *r = *state;

	assert_false(negotiate(r, DEV_FEATS)); /* a legacy driver */
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	setup_queues(r, good_q, 2);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL); /* ignores the refusal */
	assert_int_equal(r->f.activates, 0);
	assert_false(virtio_mmio_live(&r->t));
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0], 0);

	assert_false(negotiate(r, VERSION_1 | (1ull << 20))); /* not offered */
	assert_false(negotiate(r, VERSION_1 | (1ull << 40)));
	driver_up(r, good_q);
	expect_live(r);
}

static void test_driver_features_window(void **state)
{
	struct rig *r = *state;

	/* Before DRIVER: dropped. */
	wr(r, VIRTIO_MMIO_STATUS, S_ACK);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	assert_int_equal(virtio_mmio_driver_features(&r->t), 0);
	/* After FEATURES_OK: dropped. */
	assert_true(negotiate(r, VERSION_1));
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)DEV_FEATS);
	assert_int_equal(virtio_mmio_driver_features(&r->t), VERSION_1);
}

static void test_status_machine(void **state)
{
	struct rig *r = *state;

	wr(r, VIRTIO_MMIO_STATUS, S_DRV); /* DRIVER before ACK */
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), 0);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_FOK); /* FEATURES_OK before DRIVER */
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ACK);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_DOK); /* DRIVER_OK before FEATURES_OK */
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ACK);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK); /* clears DRIVER */
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | 0x10); /* reserved bit */
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | VIRTIO_CONFIG_S_NEEDS_RESET);
	wr(r, VIRTIO_MMIO_STATUS, 0xffffffff);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	/* FAILED is the driver's to set. */
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(r->f.activates, 0);
	driver_up(r, good_q);
	expect_live(r);
	/* Clearing DRIVER_OK on a live device is ignored too. */
	wr(r, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
	expect_live(r);
}

static void test_queue_sel_out_of_range(void **state)
{
	struct rig *r = *state;
	static const uint32_t sels[] = {2, 7, 8, 0xffff, 0xffffffff};

	assert_true(negotiate(r, DEV_FEATS | VERSION_1));
	setup_queues(r, good_q, 2);
	for (unsigned i = 0; i < ARRAY_SIZE(sels); i++) {
		wr(r, VIRTIO_MMIO_QUEUE_SEL, sels[i]);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_READY), 0);
		wr(r, VIRTIO_MMIO_QUEUE_NUM, 0xffffffff);
		wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, 0xdead0000);
		wr(r, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_NUM), 0);
	}
	/* Nothing leaked into the real queues. */
	for (unsigned q = 0; q < 2; q++) {
		assert_int_equal(r->t.st.vq[q].size, QSIZE);
		assert_int_equal(r->t.st.vq[q].desc, good_q[q].desc);
	}
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	poll_loop(r); /* the kicks of going live: one per queue */
	assert_int_equal(r->f.notifies[0] + r->f.notifies[1], 2);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0] + r->f.notifies[1], 2);
	expect_live(r);
}

static void test_queue_regs_frozen_after_driver_ok(void **state)
{
	struct rig *r = *state;

	driver_up(r, good_q);
	wr(r, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(r, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x9000);
	wr(r, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 1);
	wr(r, VIRTIO_MMIO_QUEUE_USED_LOW, 0xfffff000);
	wr(r, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_NUM), QSIZE);
	assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_DESC_LOW), good_q[0].desc);
	assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_AVAIL_HIGH), 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_USED_LOW), good_q[0].used);
	assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_READY), 1);
	expect_live(r);
}

static void test_config_space(void **state)
{
	struct rig *r = *state;

	memcpy(r->f.cfg, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG, 1), 0x01);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG + 1, 2), 0x0302);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG + 4, 4), 0x08070605);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG + 7, 1), 0x08);
	/* Past the end, or straddling it: zeros, not a partial read. */
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG + 8, 4), 0);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG + 6, 4), 0);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG + 7, 2), 0);
	assert_int_equal(rd_n(r, 0xffc, 4), 0);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_CONFIG, 3), 0); /* odd size */
	wr_n(r, VIRTIO_MMIO_CONFIG + 2, 0xaabb, 2);
	assert_int_equal(r->f.cfg_writes, 1);
	assert_int_equal(r->f.cfg[2], 0xbb);
	wr_n(r, VIRTIO_MMIO_CONFIG + 6, 0x11223344, 4);
	wr_n(r, VIRTIO_MMIO_CONFIG + 8, 1, 1);
	wr_n(r, 0xfff, 1, 1);
	wr_n(r, VIRTIO_MMIO_CONFIG, 1, 3);
	assert_int_equal(r->f.cfg_writes, 1);
	assert_memory_equal(r->f.cfg, "\x01\x02\xbb\xaa\x05\x06\x07\x08", 8);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	virtio_mmio_config_changed(&r->t);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG_GENERATION), 1);
}

static void test_odd_register_access(void **state)
{
	struct rig *r = *state;

	assert_int_equal(rd_n(r, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_MAGIC_VALUE, 1), 0);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0);
	assert_int_equal(rd_n(r, VIRTIO_MMIO_MAGIC_VALUE, 8), 0);
	assert_int_equal(rd(r, 0x0f0), 0); /* unassigned */
	wr_n(r, VIRTIO_MMIO_STATUS, S_ACK, 1);
	wr_n(r, VIRTIO_MMIO_STATUS, S_ACK, 2);
	wr_n(r, VIRTIO_MMIO_STATUS + 1, S_ACK, 4);
	wr_n(r, VIRTIO_MMIO_STATUS, S_ACK, 8);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), 0);
	wr(r, VIRTIO_MMIO_MAGIC_VALUE, 0);	/* read-only */
	wr(r, VIRTIO_MMIO_QUEUE_PFN, 0x1234);	/* legacy */
	wr(r, VIRTIO_MMIO_INTERRUPT_STATUS, 3); /* read-only */
	assert_int_equal(rd(r, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	driver_up(r, good_q);
	expect_live(r);
}

static void bad_queue_case(struct rig *r, unsigned q, struct qlayout bad)
{
	struct qlayout lay[2] = {good_q[0], good_q[1]};
	int act = r->f.activates;

	lay[q] = bad;
	irqs(r);
	driver_up(r, lay);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ALL | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_true(irqs(r) >= 1);
	assert_int_equal(r->f.activates, act);
	assert_false(virtio_mmio_live(&r->t));
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 1 - q);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0] + r->f.notifies[1], 0);
	/* A driver writing back what it read keeps NEEDS_RESET. */
	wr(r, VIRTIO_MMIO_STATUS, S_ALL | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ALL | VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void test_bad_queues_need_reset(void **state)
{
	struct rig *r = *state;
	const struct qlayout bad[] = {
	    {0, 0x1000, 0x2000, 0x3000},		    /* size 0 */
	    {12, 0x1000, 0x2000, 0x3000},		    /* not a power of two */
	    {32, 0x1000, 0x2000, 0x3000},		    /* above QueueNumMax */
	    {0x10010, 0x1000, 0x2000, 0x3000},		    /* huge; 16 when truncated */
	    {QSIZE, RAM - 0x80, 0x2000, 0x3000},	    /* desc past the end of RAM */
	    {QSIZE, 0x1000, RAM - 0x10, 0x3000},	    /* avail past the end */
	    {QSIZE, 0x1000, 0x2000, RAM - 0x80},	    /* used straddles the end */
	    {QSIZE, 0x1000, 0x2000, 0x100003000ull},	    /* used above 4 GiB, no RAM */
	    {QSIZE, 0xffffffffffffff00ull, 0x2000, 0x3000}, /* wraps */
	    {QSIZE, 0x1008, 0x2000, 0x3000},		    /* misaligned desc */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		for (unsigned q = 0; q < 2; q++) {
			bad_queue_case(r, q, bad[i]);
			/* Reset, and the same device comes up with good queues. */
			int resets = r->f.resets;
			wr(r, VIRTIO_MMIO_STATUS, 0);
			assert_int_equal(r->f.resets, resets + 1);
			assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), 0);
			assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
			driver_up(r, good_q);
			expect_live(r);
			r->f.notifies[0] = r->f.notifies[1] = 0;
			r->f.activates = 0;
		}
	}
}

static void test_unready_queue_not_checked(void **state)
{
	struct rig *r = *state;

	assert_true(negotiate(r, VERSION_1));
	setup_queues(r, good_q, 1);
	wr(r, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(r, VIRTIO_MMIO_QUEUE_NUM, 3); /* garbage, but never made ready */
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ALL);
	assert_int_equal(r->f.activates, 1);
	/* Kicking the queue that is not ready does nothing. */
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	poll_loop(r);
	assert_int_equal(r->f.notifies[1], 0);
	assert_int_equal(r->f.notifies[0], 1); /* the kick of going live */
}

/*
 * A restored device looks at each ready queue once, as at DRIVER_OK: a
 * guest's kick still in the source's eventfd when its state was taken is in
 * no state, and without this look the request behind it (an hwrng read, a
 * block write) would wait for ever.  A device restored needing a reset
 * is not live and is not looked at.
 */
static void test_restore_kicks_ready_queues(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio_state st;
	char err[160] = "";

	assert_true(negotiate(r, DEV_FEATS | VERSION_1));
	setup_queues(r, good_q, 1);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0); /* taken by the "source" below, never served */
	virtio_mmio_get_state(&r->t, &st);
	for (int pass = 0; pass < 2; pass++) {
		virtio_mmio_destroy(&r->t);
		memset(&r->f, 0, sizeof(r->f));
		assert_int_equal(
		    virtio_mmio_init(&r->t, "fake", &fake_ops, &r->f, &r->gm, &r->loop), 0);
		assert_int_equal(virtio_mmio_restore(&r->t, &st, err, sizeof(err)), 0);
		poll_loop(r);
		if (pass == 0) {
			assert_int_equal(r->f.activates, 1);
			assert_int_equal(r->f.notifies[0], 1);
			assert_int_equal(r->f.notifies[1], 0); /* never made ready */
		} else {
			assert_int_equal(r->f.activates, 0);
			assert_int_equal(r->f.notifies[0], 0);
		}
		st.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	}
}

static void test_activate_fails(void **state)
{
	struct rig *r = *state;

	r->f.activate_ret = -EIO;
	driver_up(r, good_q);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), S_ALL | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	r->f.activate_ret = 0;
	driver_up(r, good_q);
	expect_live(r);
}

static void test_reset_clears(void **state)
{
	struct rig *r = *state;

	driver_up(r, good_q);
	virtio_mmio_signal_used(&r->t, 0);
	wr(r, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(r->f.resets, 2); /* driver_up's own reset, then ours */
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(virtio_mmio_driver_features(&r->t), 0);
	for (unsigned q = 0; q < 2; q++) {
		wr(r, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_NUM), 0);
		assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	}
	/* A kick on a reset device goes nowhere. */
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	poll_loop(r);
	assert_int_equal(r->f.notifies[0], 0);
}

static void test_interrupts(void **state)
{
	struct rig *r = *state;

	driver_up(r, good_q);
	irqs(r);
	virtio_mmio_signal_used(&r->t, 0); /* EVENT_IDX: the first always fires */
	assert_int_equal(irqs(r), 1);
	assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	virtio_mmio_config_changed(&r->t);
	assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	wr(r, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	wr(r, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* Nothing new used since the last signal, used_event 0: no interrupt. */
	virtio_mmio_signal_used(&r->t, 0);
	assert_int_equal(irqs(r), 1);	   /* config_changed's */
	virtio_mmio_signal_used(&r->t, 5); /* no such queue */
	assert_int_equal(irqs(r), 0);
}

static void test_init_rejects_bad_ops(void **state)
{
	struct rig *r = *state;
	struct virtio_mmio t;
	struct virtio_dev_ops ops = fake_ops;

	ops.queue_max = 24;
	assert_int_equal(virtio_mmio_init(&t, "x", &ops, &r->f, &r->gm, NULL), -EINVAL);
	ops = fake_ops, ops.num_queues = VIRTIO_MMIO_MAX_QUEUES + 1;
	assert_int_equal(virtio_mmio_init(&t, "x", &ops, &r->f, &r->gm, NULL), -EINVAL);
	ops = fake_ops, ops.queue_max = 2 * VIRTQ_MAX_SIZE;
	assert_int_equal(virtio_mmio_init(&t, "x", &ops, &r->f, &r->gm, NULL), -EINVAL);
	virtio_mmio_destroy(&t);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_probe),
	    T(test_bring_up),
	    T(test_replace_notify_fd),
	    T(test_features_need_version_1),
	    T(test_driver_features_window),
	    T(test_status_machine),
	    T(test_queue_sel_out_of_range),
	    T(test_queue_regs_frozen_after_driver_ok),
	    T(test_config_space),
	    T(test_odd_register_access),
	    T(test_bad_queues_need_reset),
	    T(test_unready_queue_not_checked),
	    T(test_restore_kicks_ready_queues),
	    T(test_activate_fails),
	    T(test_reset_clears),
	    T(test_interrupts),
	    T(test_init_rejects_bad_ops),
	};
	log_set_level(LOG_ERROR); /* the guest mistakes below are logged as warnings */
	return cmocka_run_group_tests_name("virtio_mmio", tests, NULL, NULL);
}
