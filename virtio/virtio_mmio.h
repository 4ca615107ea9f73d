/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_VIRTIO_MMIO_H
#define EMBER_VIRTIO_MMIO_H

#include <pthread.h>

#include "ember.h"
#include "evloop.h"
#include "persist.h"
#include "virtq.h"

/*
 * virtio-mmio transport, version 2 (virtio 1.1, 4.2.2), one per device.
 *
 * Threads: register accesses arrive on vCPU threads through
 * virtio_mmio_bus_ops; queue notifications (ioeventfd) and device backends
 * run on the VMM thread's evloop.  t->lock serialises the two and covers the
 * device's state too: every virtio_dev_ops callback is called with it held,
 * and a device's own evloop handlers take it (virtio_mmio_lock) before they
 * touch queues or call virtio_mmio_signal_used.
 */

#define VIRTIO_MMIO_SIZE       0x1000
#define VIRTIO_MMIO_MAX_QUEUES 8
#define VIRTIO_ID_BLOCK	       2
#define VIRTIO_ID_NET	       1
#define VIRTIO_ID_VSOCK	       19

struct virtio_mmio;

struct virtio_dev_ops {
	uint32_t device_id;
	unsigned num_queues; /* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_max;  /* power of two, <= VIRTQ_MAX_SIZE */
	/* Device features; the transport adds VIRTIO_F_VERSION_1. */
	uint64_t (*features)(void *dev);
	/* [off, off+len) lies inside config_size when these are called. */
	void (*config_read)(void *dev, uint64_t off, uint8_t *data, uint32_t len);
	void (*config_write)(void *dev, uint64_t off, const uint8_t *data, uint32_t len);
	uint32_t config_size;
	/* At DRIVER_OK, ready queues validated and started; <0 -> NEEDS_RESET. */
	int (*activate)(void *dev, struct virtio_mmio *t);
	/* Status 0 written: drop everything tied to the old rings. */
	void (*reset)(void *dev);
	/* The guest kicked queue @q (VMM thread, device live, queue ready). */
	void (*queue_notify)(void *dev, unsigned q);
	/*
	 * Optional, for snapshots: how many of the chains most recently popped
	 * from queue @q the device holds without having returned them (a frame
	 * the tap refused, an RX buffer kept for later).  The saved state
	 * gives them back to the ring, so the restored device pops them again.
	 */
	unsigned (*held)(void *dev, unsigned q);
};

/* The guest-visible state: plain data, what a snapshot saves. */
struct virtio_mmio_state {
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;
	uint32_t queue_sel;
	uint32_t interrupt_status;
	uint32_t config_generation;
	bool activated; /* DRIVER_OK accepted and ops->activate succeeded */
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
};

struct virtio_mmio {
	struct virtio_mmio_state st;

	char name[40]; /* for log lines */
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct guest_mem *gm;
	struct evloop *loop;
	pthread_mutex_t lock;
	int irq_fd;
	int notify_fd[VIRTIO_MMIO_MAX_QUEUES];
	struct ev_handler notify_h[VIRTIO_MMIO_MAX_QUEUES];
	bool ioeventfd;	       /* vmm bound notify_fd with KVM_IOEVENTFD */
	bool warned_ioeventfd; /* a kick reached us although it was bound */
	struct ratelimit rl;   /* guest mistakes */
};

int virtio_mmio_init(struct virtio_mmio *t, const char *name, const struct virtio_dev_ops *ops,
		     void *dev, const struct guest_mem *gm, struct evloop *loop);
void virtio_mmio_destroy(struct virtio_mmio *t);

extern const struct bus_dev_ops virtio_mmio_bus_ops;

int virtio_mmio_irq_fd(const struct virtio_mmio *t);
int virtio_mmio_notify_fd(const struct virtio_mmio *t, unsigned q);
/*
 * Queue @q's notifier becomes @fd, an eventfd the VMM bound with
 * KVM_IOEVENTFD before the device existed (a pooled fork child's, made
 * while it waited); the transport's own is closed.  0 with @fd the
 * transport's, or -errno with nothing changed and @fd still the caller's.
 */
int virtio_mmio_replace_notify_fd(struct virtio_mmio *t, unsigned q, int fd);
void virtio_mmio_set_ioeventfd(struct virtio_mmio *t, bool bound);

/* Called with t->lock held (from ops callbacks, or after virtio_mmio_lock). */
void virtio_mmio_signal_used(struct virtio_mmio *t, unsigned q);
/*
 * Queue access for devices, with t->lock held (ops callbacks, or after
 * virtio_mmio_lock).  The transport owns the rings: a device pops, pushes,
 * re-arms and kicks through these, never through t->st.
 */
/* DRIVER_OK, not NEEDS_RESET, and queue @q enabled by the guest. */
bool virtio_mmio_queue_ready(struct virtio_mmio *t, unsigned q);
/* Makes queue @q's handler run again from the event loop (as a guest kick does). */
void virtio_mmio_kick(struct virtio_mmio *t, unsigned q);
/* Next chain: 1, 0 when the ring is empty, -EIO (the device is now NEEDS_RESET). */
int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_chain *c);
/* Before going idle: asks for a kick; true if a buffer is already there. */
bool virtio_mmio_arm(struct virtio_mmio *t, unsigned q);
/* Returns chain @head with @len bytes written (call virtio_mmio_signal_used after). */
void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t len);

/* What a device did with one chain (struct virtio_queue_loop's handle). */
enum {
	VIRTIO_CHAIN_USED,	/* done: return it with *used bytes written */
	VIRTIO_CHAIN_KEPT,	/* the device returns it later (I/O in flight); go on */
	VIRTIO_CHAIN_KEPT_STOP, /* the device returns it later; take no more now */
	VIRTIO_CHAIN_RETRY,	/* not now (rate limited): back to the ring, stop */
};

struct virtio_queue_loop {
	struct virtq_chain *chain; /* the device's scratch */
	unsigned budget;	   /* chains per wakeup before yielding to the loop */
	/* Optional: may another chain be taken now (a free request slot)? */
	bool (*more)(void *dev);
	int (*handle)(void *dev, const struct virtq_chain *c, uint32_t *used);
};

/*
 * The queue loop a device runs when queue @q is kicked: pops each available
 * chain, hands it to l->handle, returns it to the used ring; after
 * l->budget chains it kicks itself and yields to the rest of the event
 * loop; when the ring is empty it re-arms notifications (and goes on if a
 * buffer slipped in meanwhile); when l->more says no it stops without
 * re-arming.  Interrupts the guest once if anything was used.  Returns the
 * number of chains used.
 */
unsigned virtio_mmio_process(struct virtio_mmio *t, unsigned q, const struct virtio_queue_loop *l);

/* The device found the guest's rings unusable: NEEDS_RESET + config IRQ. */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);
/* Device config changed (e.g. a resized disk): bump generation, config IRQ. */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* DRIVER_OK, activated and not NEEDS_RESET: queues may be processed. */
bool virtio_mmio_live(const struct virtio_mmio *t);
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned q);
uint64_t virtio_mmio_driver_features(const struct virtio_mmio *t);
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);

/* Snapshots: a copy of the guest-visible state (devices must be quiesced). */
void virtio_mmio_get_state(struct virtio_mmio *t, struct virtio_mmio_state *st);
/*
 * Restore into a freshly created transport: validates @st (status bits,
 * features, queue sizes and ring placement in guest memory), installs it
 * with the queues' saved indices and starts the device if it was running.
 * 0, or -EINVAL / the device's -errno with a message in @err.
 */
int virtio_mmio_restore(struct virtio_mmio *t, const struct virtio_mmio_state *st, char *err,
			size_t errlen);

/*
 * The state in a snapshot: an explicit, versioned encoding (mmio_persist.c)
 * tagged with the device id it belongs to.  load: 0, or -EINVAL with *why.
 */
void virtio_mmio_state_save(const struct virtio_mmio_state *st, uint32_t device_id, struct pw *w);
int virtio_mmio_state_load(const void *p, size_t len, uint32_t device_id,
			   struct virtio_mmio_state *st, const char **why);

#endif /* EMBER_VIRTIO_MMIO_H */
