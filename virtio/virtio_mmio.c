// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mmio transport, version 2.
 *
 * Everything here is driven by the guest, so every register write is checked
 * against the status state machine and anything out of order is dropped with
 * a rate-limited warning: a confused or hostile driver can break its own
 * device (NEEDS_RESET) but never ember or another device.
 */
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "virtio_mmio.h"

#define VM_MAGIC	0x74726976 /* "virt" */
#define VM_VERSION	2
#define EMBER_VENDOR_ID 0x52424d45 /* "EMBR" */

/* Bits a driver may write; NEEDS_RESET is the device's to set. */
#define STATUS_DRIVER_BITS                                                                         \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |      \
	 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED)

#define vm_bug(t, fmt, ...)                                                                        \
	log_ratelimited(&(t)->rl, LOG_WARN, "%s: guest: " fmt, (t)->name, ##__VA_ARGS__)

static void vm_kick(int fd)
{
	/* Only fails if the counter would overflow: an interrupt is pending anyway. */
	(void)eventfd_write(fd, 1);
}

static void vm_irq(struct virtio_mmio *t, uint32_t why)
{
	t->st.interrupt_status |= why;
	vm_kick(t->irq_fd);
}

static uint64_t vm_device_features(const struct virtio_mmio *t)
{
	return t->ops->features(t->dev) | (1ull << VIRTIO_F_VERSION_1);
}

static struct virtq *vm_sel_queue(struct virtio_mmio *t)
{
	return t->st.queue_sel < t->ops->num_queues ? &t->st.vq[t->st.queue_sel] : NULL;
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
	vm_bug(t, "%s; device needs reset", why);
	t->st.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vm_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->st.config_generation++;
	if (t->st.status & VIRTIO_CONFIG_S_DRIVER_OK)
		vm_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

bool virtio_mmio_live(const struct virtio_mmio *t)
{
	return t->st.activated && (t->st.status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(t->st.status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned q)
{
	return q < t->ops->num_queues ? &t->st.vq[q] : NULL;
}

uint64_t virtio_mmio_driver_features(const struct virtio_mmio *t)
{
	return t->st.driver_features;
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_signal_used(struct virtio_mmio *t, unsigned q)
{
	struct virtq *vq = virtio_mmio_queue(t, q);

	if (vq && virtq_needs_signal(vq, t->gm))
		vm_irq(t, VIRTIO_MMIO_INT_VRING);
}

static void vm_reset(struct virtio_mmio *t)
{
	uint32_t gen = t->st.config_generation;

	if (t->ops->reset)
		t->ops->reset(t->dev);
	memset(&t->st, 0, sizeof(t->st));
	t->st.config_generation = gen;
}

static bool vm_features_ok(struct virtio_mmio *t)
{
	uint64_t drv = t->st.driver_features, dev = vm_device_features(t);

	if (!(drv & (1ull << VIRTIO_F_VERSION_1))) {
		vm_bug(t, "driver did not accept VIRTIO_F_VERSION_1 (legacy drivers unsupported)");
		return false;
	}
	if (drv & ~dev) {
		vm_bug(t, "driver accepted features 0x%llx not offered",
		       (unsigned long long)(drv & ~dev));
		return false;
	}
	return true;
}

/*
 * Once live (DRIVER_OK, or a restore), every ready queue is looked at once,
 * as if kicked: a driver may post buffers before DRIVER_OK (Linux's balloon
 * and net do), a restored device must serve what a source had not reached
 * (a kick still in its eventfd when the state was taken is not in the
 * state), and chains given back by ops->held must be popped again.  A kick
 * with nothing behind it costs one look at the avail index.
 */
static void vm_kick_ready(struct virtio_mmio *t)
{
	for (unsigned q = 0; q < t->ops->num_queues; q++)
		if (t->st.vq[q].ready)
			vm_kick(t->notify_fd[q]);
}

/* DRIVER_OK: every ready queue must be usable before the device sees it. */
static void vm_activate(struct virtio_mmio *t)
{
	uint64_t f = t->st.driver_features;
	const char *why;
	unsigned q;
	int ret;

	for (q = 0; q < t->ops->num_queues; q++) {
		struct virtq *vq = &t->st.vq[q];

		if (vq->ready && virtq_validate(vq, t->gm, t->ops->queue_max, &why)) {
			vm_bug(t, "queue %u: %s (size %u, desc 0x%llx, avail 0x%llx, used 0x%llx)",
			       q, why, vq->size, (unsigned long long)vq->desc,
			       (unsigned long long)vq->avail, (unsigned long long)vq->used);
			virtio_mmio_needs_reset(t, "refusing DRIVER_OK");
			return;
		}
	}
	for (q = 0; q < t->ops->num_queues; q++)
		if (t->st.vq[q].ready)
			virtq_start(&t->st.vq[q], f & (1ull << VIRTIO_RING_F_EVENT_IDX),
				    f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	ret = t->ops->activate ? t->ops->activate(t->dev, t) : 0;
	if (ret < 0) {
		virtio_mmio_needs_reset(t, "device could not start");
		return;
	}
	t->st.activated = true;
	vm_kick_ready(t);
}

static void vm_set_status(struct virtio_mmio *t, uint32_t val)
{
	uint32_t old = t->st.status, nv = old | val;

	if (val == 0) {
		vm_reset(t);
		return;
	}
	/* Linux writes back what it read, so NEEDS_RESET may come back once set. */
	if ((val & ~(STATUS_DRIVER_BITS | VIRTIO_CONFIG_S_NEEDS_RESET)) ||
	    ((val & VIRTIO_CONFIG_S_NEEDS_RESET) && !(old & VIRTIO_CONFIG_S_NEEDS_RESET))) {
		vm_bug(t, "status 0x%x sets reserved bits, ignored", val);
		return;
	}
	if (old & STATUS_DRIVER_BITS & ~val) {
		vm_bug(t, "status 0x%x clears bits of 0x%x, ignored", val, old);
		return;
	}
	if (((nv & VIRTIO_CONFIG_S_DRIVER) && !(nv & VIRTIO_CONFIG_S_ACKNOWLEDGE)) ||
	    ((nv & VIRTIO_CONFIG_S_FEATURES_OK) && !(nv & VIRTIO_CONFIG_S_DRIVER)) ||
	    ((nv & VIRTIO_CONFIG_S_DRIVER_OK) && !(nv & VIRTIO_CONFIG_S_FEATURES_OK))) {
		vm_bug(t, "status 0x%x after 0x%x skips a step, ignored", val, old);
		return;
	}
	/* A driver checks FEATURES_OK stuck; if it did not, it must not go on. */
	if ((nv & ~old & VIRTIO_CONFIG_S_FEATURES_OK) && !vm_features_ok(t))
		nv &= ~(VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	t->st.status = nv;
	if (nv & ~old & VIRTIO_CONFIG_S_DRIVER_OK)
		vm_activate(t);
}

static uint32_t vm_read_reg(struct virtio_mmio *t, uint64_t off)
{
	struct virtq *vq = vm_sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VM_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VM_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return EMBER_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->st.dev_features_sel > 1)
			return 0;
		return (uint32_t)(vm_device_features(t) >> (32 * t->st.dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? t->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		return vq ? vq->size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return vq ? (uint32_t)vq->desc : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq ? (uint32_t)(vq->desc >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return vq ? (uint32_t)vq->avail : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		return vq ? (uint32_t)(vq->avail >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return vq ? (uint32_t)vq->used : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return vq ? (uint32_t)(vq->used >> 32) : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->st.interrupt_status;
	case VIRTIO_MMIO_STATUS:
		return t->st.status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions: length -1 */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->st.config_generation;
	default:
		return 0; /* write-only, legacy or unassigned */
	}
}

static void vm_set_addr(uint64_t *addr, bool high, uint32_t val)
{
	if (high)
		*addr = (*addr & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*addr = (*addr & ~0xffffffffull) | val;
}

static void vm_write_queue(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	struct virtq *vq = vm_sel_queue(t);

	if (!vq) {
		vm_bug(t, "queue register 0x%llx with QueueSel %u (%u queues), ignored",
		       (unsigned long long)off, t->st.queue_sel, t->ops->num_queues);
		return;
	}
	if (t->st.status & VIRTIO_CONFIG_S_DRIVER_OK) {
		vm_bug(t, "queue register 0x%llx written after DRIVER_OK, ignored",
		       (unsigned long long)off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->size = val; /* range-checked at DRIVER_OK */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (val > 1)
			vm_bug(t, "QueueReady %u, ignored", val);
		else
			vq->ready = val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vm_set_addr(&vq->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		vm_set_addr(&vq->avail, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vm_set_addr(&vq->used, off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
		break;
	}
}

static void vm_write_reg(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->st.dev_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->st.drv_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if ((t->st.status & (VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)) !=
		    VIRTIO_CONFIG_S_DRIVER) {
			vm_bug(t, "DriverFeatures written in status 0x%x, ignored", t->st.status);
		} else if (t->st.drv_features_sel <= 1) {
			unsigned shift = 32 * t->st.drv_features_sel;

			t->st.driver_features &= ~(0xffffffffull << shift);
			t->st.driver_features |= (uint64_t)val << shift;
		} else if (val) {
			vm_bug(t, "DriverFeaturesSel %u, ignored", t->st.drv_features_sel);
		}
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->st.queue_sel = val; /* may be out of range: checked on use */
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vm_write_queue(t, off, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val >= t->ops->num_queues) {
			vm_bug(t, "QueueNotify %u (%u queues), ignored", val, t->ops->num_queues);
			break;
		}
		if (t->ioeventfd && !t->warned_ioeventfd) {
			t->warned_ioeventfd = true;
			log_debug("%s: QueueNotify reached userspace despite ioeventfd", t->name);
		}
		/* Same path as an ioeventfd kick; a spurious one costs a ring check. */
		vm_kick(t->notify_fd[val]);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->st.interrupt_status &= ~val;
		break;
	case VIRTIO_MMIO_STATUS:
		vm_set_status(t, val);
		break;
	default:
		vm_bug(t, "write 0x%x to read-only or unknown register 0x%llx, ignored", val,
		       (unsigned long long)off);
		break;
	}
}

/* Config space: any of 1/2/4/8 bytes entirely inside it, else nothing. */
static bool vm_config_ok(struct virtio_mmio *t, uint64_t off, uint32_t len, bool is_write)
{
	uint64_t coff = off - VIRTIO_MMIO_CONFIG;

	if ((len == 1 || len == 2 || len == 4 || len == 8) && coff < t->ops->config_size &&
	    len <= t->ops->config_size - coff)
		return true;
	vm_bug(t, "config %s of %u bytes at 0x%llx outside its %u bytes, %s",
	       is_write ? "write" : "read", len, (unsigned long long)coff, t->ops->config_size,
	       is_write ? "dropped" : "reads zero");
	return false;
}

static void vm_bus_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = dev;
	uint32_t v;

	memset(data, 0, len);
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (vm_config_ok(t, off, len, false) && t->ops->config_read)
			t->ops->config_read(t->dev, off - VIRTIO_MMIO_CONFIG, data, len);
	} else if (len != 4 || off % 4) {
		vm_bug(t, "%u-byte read at 0x%llx, registers are 32-bit aligned", len,
		       (unsigned long long)off);
	} else {
		v = htole32(vm_read_reg(t, off));
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
}

static void vm_bus_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = dev;
	uint32_t v;

	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (vm_config_ok(t, off, len, true) && t->ops->config_write)
			t->ops->config_write(t->dev, off - VIRTIO_MMIO_CONFIG, data, len);
	} else if (len != 4 || off % 4) {
		vm_bug(t, "%u-byte write at 0x%llx, registers are 32-bit aligned", len,
		       (unsigned long long)off);
	} else {
		memcpy(&v, data, 4);
		vm_write_reg(t, off, le32toh(v));
	}
	pthread_mutex_unlock(&t->lock);
}

const struct bus_dev_ops virtio_mmio_bus_ops = {
    .read = vm_bus_read,
    .write = vm_bus_write,
};

/* VMM thread: a queue was kicked, through ioeventfd or QueueNotify. */
static void vm_on_notify(struct ev_handler *h, uint32_t events)
{
	struct virtio_mmio *t = h->opaque;
	unsigned q = (unsigned)(h - t->notify_h);
	eventfd_t cnt;

	(void)events;
	if (eventfd_read(h->fd, &cnt) < 0)
		return; /* EAGAIN: somebody else drained it */
	pthread_mutex_lock(&t->lock);
	if (virtio_mmio_live(t) && t->st.vq[q].ready && t->ops->queue_notify)
		t->ops->queue_notify(t->dev, q);
	pthread_mutex_unlock(&t->lock);
}

int virtio_mmio_init(struct virtio_mmio *t, const char *name, const struct virtio_dev_ops *ops,
		     void *dev, const struct guest_mem *gm, struct evloop *loop)
{
	unsigned q;
	int ret;

	memset(t, 0, sizeof(*t));
	t->irq_fd = -1;
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		t->notify_fd[q] = -1;
	if (!ops->num_queues || ops->num_queues > VIRTIO_MMIO_MAX_QUEUES || !ops->queue_max ||
	    (ops->queue_max & (ops->queue_max - 1)) || ops->queue_max > VIRTQ_MAX_SIZE ||
	    !ops->features)
		return -EINVAL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->ops = ops;
	t->dev = dev;
	t->gm = gm;
	t->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	ret = -pthread_mutex_init(&t->lock, NULL);
	if (ret)
		return ret;
	t->irq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->irq_fd < 0)
		goto err;
	for (q = 0; q < ops->num_queues; q++) {
		t->notify_fd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (t->notify_fd[q] < 0)
			goto err;
		t->notify_h[q] =
		    (struct ev_handler){.fd = t->notify_fd[q], .fn = vm_on_notify, .opaque = t};
	}
	/* Only after every fd exists, so destroy knows what was added. */
	if (loop) {
		for (q = 0; q < ops->num_queues; q++) {
			ret = evloop_add(loop, &t->notify_h[q], EPOLLIN);
			if (ret) {
				while (q--)
					evloop_del(loop, &t->notify_h[q]);
				errno = -ret;
				goto err;
			}
		}
		t->loop = loop;
	}
	return 0;
err:
	ret = -errno;
	virtio_mmio_destroy(t);
	return ret;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	unsigned q;

	if (!t->ops)
		return;
	for (q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		if (t->notify_fd[q] < 0)
			continue;
		if (t->loop)
			evloop_del(t->loop, &t->notify_h[q]);
		close(t->notify_fd[q]);
		t->notify_fd[q] = -1;
	}
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	t->irq_fd = -1;
	t->loop = NULL;
	pthread_mutex_destroy(&t->lock);
	t->ops = NULL;
}

/*
 * A saved state is guest-made data that went through a file: it gets the
 * checks the register path would have applied, and more, because here it
 * arrives all at once.
 */
static int vm_state_check(struct virtio_mmio *t, const struct virtio_mmio_state *st,
			  const char **why)
{
	const uint32_t known = STATUS_DRIVER_BITS | VIRTIO_CONFIG_S_NEEDS_RESET;

	if (st->status & ~known) {
		*why = "status has unknown bits";
		return -EINVAL;
	}
	/*
	 * Only what the register path guarantees: before FEATURES_OK the
	 * driver's feature bits are a draft (FEATURES_OK refuses them later),
	 * and a queue's size is checked at DRIVER_OK, for ready queues (the
	 * others stay unused: queue registers are frozen after DRIVER_OK).  A
	 * guest snapshotted mid-setup must restore; the checks come when it
	 * goes on.
	 */
	if ((st->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    (st->driver_features & ~vm_device_features(t))) {
		*why = "driver features the device does not offer";
		return -EINVAL;
	}
	if (st->activated && (!(st->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
			      !(st->status & VIRTIO_CONFIG_S_FEATURES_OK))) {
		*why = "activated without DRIVER_OK";
		return -EINVAL;
	}
	if ((st->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(st->driver_features & (1ull << VIRTIO_F_VERSION_1))) {
		*why = "FEATURES_OK without VIRTIO_F_VERSION_1";
		return -EINVAL;
	}
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		const struct virtq *vq = &st->vq[q];

		if (q >= t->ops->num_queues) {
			if (vq->ready || vq->size) {
				*why = "state for a queue the device does not have";
				return -EINVAL;
			}
			continue;
		}
		if (st->activated && vq->ready && vq->size > t->ops->queue_max) {
			*why = "queue size above the device's maximum";
			return -EINVAL;
		}
		if (st->activated && vq->ready && virtq_validate(vq, t->gm, t->ops->queue_max, why))
			return -EINVAL;
		/* A started queue uses exactly the ring features the driver took. */
		if (st->activated && vq->ready &&
		    (vq->event_idx != !!(st->driver_features & (1ull << VIRTIO_RING_F_EVENT_IDX)) ||
		     vq->indirect !=
			 !!(st->driver_features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)))) {
			*why = "queue ring features differ from the negotiated ones";
			return -EINVAL;
		}
	}
	return 0;
}

int virtio_mmio_restore(struct virtio_mmio *t, const struct virtio_mmio_state *st, char *err,
			size_t errlen)
{
	const char *why = NULL;
	int r;

	pthread_mutex_lock(&t->lock);
	r = vm_state_check(t, st, &why);
	if (r) {
		snprintf(err, errlen, "%s: saved transport state refused: %s", t->name, why);
		goto out;
	}
	t->st = *st;
	t->st.activated = false;
	if (st->activated && !(st->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		/* The queues keep their saved indices: no virtq_start here. */
		r = t->ops->activate ? t->ops->activate(t->dev, t) : 0;
		if (r < 0) {
			snprintf(err, errlen, "%s: device could not start: %s", t->name,
				 strerror(-r));
			goto out;
		}
		t->st.activated = true;
		vm_kick_ready(t);
	}
	/* An interrupt raised just before the snapshot may not have reached the
	 * IOAPIC state we saved: raise it again; the driver reads the status. */
	if (t->st.interrupt_status)
		vm_kick(t->irq_fd);
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void virtio_mmio_get_state(struct virtio_mmio *t, struct virtio_mmio_state *st)
{
	pthread_mutex_lock(&t->lock);
	*st = t->st;
	for (unsigned q = 0; t->ops->held && q < t->ops->num_queues; q++)
		st->vq[q].last_avail -= (uint16_t)t->ops->held(t->dev, q);
	pthread_mutex_unlock(&t->lock);
}

int virtio_mmio_irq_fd(const struct virtio_mmio *t)
{
	return t->irq_fd;
}

int virtio_mmio_notify_fd(const struct virtio_mmio *t, unsigned q)
{
	return q < t->ops->num_queues ? t->notify_fd[q] : -EINVAL;
}

int virtio_mmio_replace_notify_fd(struct virtio_mmio *t, unsigned q, int fd)
{
	struct ev_handler *h = &t->notify_h[q];
	int r;

	if (q >= t->ops->num_queues || fd < 0)
		return -EINVAL;
	/* The handler is the same struct: off the loop, re-aimed, back on. */
	if (t->loop)
		evloop_del(t->loop, h);
	h->fd = fd;
	r = t->loop ? evloop_add(t->loop, h, EPOLLIN) : 0;
	if (r) {
		h->fd = t->notify_fd[q];
		if (t->loop && evloop_add(t->loop, h, EPOLLIN))
			log_warn("%s: queue %u notifier lost: %s", t->name, q, strerror(-r));
		return r;
	}
	close(t->notify_fd[q]);
	t->notify_fd[q] = fd;
	return 0;
}

void virtio_mmio_set_ioeventfd(struct virtio_mmio *t, bool bound)
{
	pthread_mutex_lock(&t->lock);
	t->ioeventfd = bound;
	pthread_mutex_unlock(&t->lock);
}
