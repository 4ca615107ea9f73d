// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk device: one queue, a raw disk file, sync or io_uring engine.
 *
 * Requests live in a fixed pool of slots (one per queue entry).  With
 * io_uring a guest can keep the whole pool in flight; when it is empty we
 * stop taking chains and the completion handler resumes the queue, so a
 * guest that recycles heads cannot make us allocate.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "blk.h"
#include "blk_engine.h"
#include "blk_req.h"
#include "device.h"

#define VBLK_QUEUE_MAX	  256
#define VBLK_REQ_OVERHEAD 17 /* the 16-byte header and the status byte */
/* Data moved per wakeup before the queue yields to the other devices. */
#define VBLK_BATCH_BYTES (16u << 20)
#define VBLK_CONFIG_SIZE 16 /* capacity, size_max, seg_max */

struct vblk {
	struct virtio_mmio t; /* t.lock covers everything below too */
	struct vblk_config cfg;
	struct vblk_disk disk;
	const struct guest_mem *gm;
	int fd;
	enum vblk_engine engine;
	struct vblk_uring uring;
	struct ev_handler uring_h;
	struct evloop *loop;
	bool discard; /* reset: completions must not touch the old rings */
	bool queued;  /* vblk_process sent requests to io_uring: submit them */
	bool yielded; /* it stopped at VBLK_BATCH_BYTES: come back */
	uint64_t batch_bytes;
	char serial[VBLK_SERIAL_LEN + 1];
	uint8_t config[VBLK_CONFIG_SIZE];
	struct vblk_stats st;
	struct limiter lim;
	struct ratelimit rl;
	struct vblk_req *slots;
	uint16_t free_slot[VBLK_QUEUE_MAX];
	unsigned nr_free;
	struct virtq_chain chain; /* scratch for virtq_pop */
};

static uint64_t vblk_features(void *dev)
{
	struct vblk *b = dev;
	uint64_t f = (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		     (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ull << VIRTIO_RING_F_EVENT_IDX);

	if (b->disk.read_only)
		f |= 1ull << VIRTIO_BLK_F_RO;
	return f;
}

static void vblk_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct vblk *b = dev;

	memcpy(data, b->config + off, len);
}

static void vblk_config_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vblk *b = dev;

	(void)data;
	log_ratelimited(&b->rl, LOG_WARN, "%s: guest: config write at %llu (%u bytes) dropped",
			b->t.name, (unsigned long long)off, len);
}

static void vblk_slot_put(struct vblk *b, struct vblk_req *r)
{
	b->free_slot[b->nr_free++] = (uint16_t)(r - b->slots);
}

/* Returns the chain and frees the slot; the caller signals. */
static void vblk_count(struct vblk *b, const struct vblk_req *r)
{
	struct vblk_stats *s = &b->st;

	if (r->status_code != VIRTIO_BLK_S_OK)
		s->errors++;
	else if (r->type == VIRTIO_BLK_T_IN) {
		s->reads++;
		s->read_bytes += r->len;
	} else if (r->type == VIRTIO_BLK_T_OUT) {
		s->writes++;
		s->write_bytes += r->len;
	} else if (r->type == VIRTIO_BLK_T_FLUSH)
		s->flushes++;
	else
		s->others++;
}

/* A finished request's slot back to the pool; returns the bytes it wrote. */
static uint32_t vblk_finish(struct vblk *b, struct vblk_req *r)
{
	uint32_t used = vblk_req_finish(r);

	vblk_count(b, r);
	vblk_slot_put(b, r);
	return used;
}

static void vblk_complete(struct vblk *b, struct vblk_req *r)
{
	uint16_t head = r->head;

	virtio_mmio_push(&b->t, 0, head, vblk_finish(b, r));
}

/* Returns true when the request went to io_uring and completes later. */
static bool vblk_start(struct vblk *b, struct vblk_req *r)
{
	int ret = vblk_req_parse(r, &b->chain, b->gm, &b->disk);

	if (ret) {
		log_ratelimited(&b->rl, LOG_WARN,
				"%s: guest: bad request (chain %u, type %u, sector %llu%s): %s",
				b->t.name, r->head, r->type, (unsigned long long)r->sector,
				b->chain.err ? ", malformed chain" : "",
				!r->status				? "no status byte"
				: r->status_code == VIRTIO_BLK_S_UNSUPP ? "unsupported"
									: "I/O error");
		return false;
	}
	if (r->type == VIRTIO_BLK_T_GET_ID) {
		vblk_req_get_id(r, b->serial);
		return false;
	}
	if (b->engine == VBLK_ENGINE_IO_URING && !vblk_uring_queue(&b->uring, b->fd, r))
		return true;
	ret = vblk_sync_run(b->fd, r);
	if (ret)
		log_ratelimited(&b->rl, LOG_WARN, "%s: host I/O error at sector %llu: %s",
				b->t.name, (unsigned long long)r->sector, strerror(-ret));
	r->status_code = ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	return false;
}

static bool vblk_more(void *dev)
{
	struct vblk *b = dev;

	/* No slot: vblk_on_uring resumes us.  Throttled: the limiter's timer does. */
	if (b->batch_bytes >= VBLK_BATCH_BYTES) {
		b->yielded = true;
		return false;
	}
	return b->nr_free > 0 && !limiter_blocked(&b->lim);
}

/* What the rate limiter counts of a request: its data, not header and status. */
static uint64_t vblk_data_bytes(const struct virtq_chain *c)
{
	uint64_t n = 0;

	if (c->err)
		return 0;
	for (unsigned i = 0; i < c->nr; i++)
		n += c->seg[i].len;
	return n > VBLK_REQ_OVERHEAD ? n - VBLK_REQ_OVERHEAD : 0;
}

static int vblk_chain(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vblk *b = dev;
	uint64_t bytes = vblk_data_bytes(c);
	struct vblk_req *r;

	if (!limiter_consume(&b->lim, bytes)) {
		b->st.throttled++;
		return VIRTIO_CHAIN_RETRY;
	}
	b->batch_bytes += bytes;
	r = &b->slots[b->free_slot[--b->nr_free]];
	if (vblk_start(b, r)) {
		b->queued = true;
		return VIRTIO_CHAIN_KEPT; /* vblk_uring_done returns it */
	}
	*used = vblk_finish(b, r);
	return VIRTIO_CHAIN_USED;
}

/*
 * Takes chains until the ring is empty or the slots run out; @pushed says a
 * completion already went to the used ring and wants a signal.
 */
static void vblk_process(struct vblk *b, bool pushed)
{
	const struct virtio_queue_loop l = {
	    .chain = &b->chain, .budget = VBLK_QUEUE_MAX, .more = vblk_more, .handle = vblk_chain};

	b->queued = false;
	b->batch_bytes = 0;
	virtio_mmio_process(&b->t, 0, &l);
	if (b->yielded) {
		/* Other devices get their turn; our own kick brings us back. */
		b->yielded = false;
		virtio_mmio_kick(&b->t, 0);
	}
	if (b->queued && vblk_uring_submit(&b->uring))
		log_ratelimited(&b->rl, LOG_WARN, "%s: io_uring submit failed, will retry",
				b->t.name);
	if (pushed)
		virtio_mmio_signal_used(&b->t, 0);
}

static void vblk_uring_done(void *opaque, struct vblk_req *r, int res)
{
	struct vblk *b = opaque;

	if (res < 0) {
		log_ratelimited(&b->rl, LOG_WARN, "%s: host I/O error at sector %llu: %s",
				b->t.name, (unsigned long long)r->sector, strerror(-res));
		r->status_code = VIRTIO_BLK_S_IOERR;
	} else {
		r->done += (uint64_t)res;
		r->status_code = VIRTIO_BLK_S_OK;
		/* Short transfer: rare enough to finish synchronously. */
		if (r->type != VIRTIO_BLK_T_FLUSH && r->done < r->len &&
		    (res == 0 || vblk_sync_run(b->fd, r)))
			r->status_code = VIRTIO_BLK_S_IOERR;
	}
	if (b->discard)
		vblk_slot_put(b, r);
	else
		vblk_complete(b, r);
}

static void vblk_on_uring(struct ev_handler *h, uint32_t events)
{
	struct vblk *b = h->opaque;
	eventfd_t cnt;

	(void)events;
	if (eventfd_read(h->fd, &cnt) < 0)
		return;
	virtio_mmio_lock(&b->t);
	if (vblk_uring_reap(&b->uring, vblk_uring_done, b))
		vblk_process(b, true);
	virtio_mmio_unlock(&b->t);
}

static void vblk_queue_notify(void *dev, unsigned q)
{
	(void)q;
	vblk_process(dev, false);
}

static void vblk_reset(void *dev)
{
	struct vblk *b = dev;

	/* The guest may reuse the buffers as soon as it sees status 0. */
	b->discard = true;
	vblk_uring_drain(&b->uring, vblk_uring_done, b);
	b->discard = false;
}

static const struct virtio_dev_ops vblk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queue_max = VBLK_QUEUE_MAX,
    .features = vblk_features,
    .config_read = vblk_config_read,
    .config_write = vblk_config_write,
    .config_size = VBLK_CONFIG_SIZE,
    .reset = vblk_reset,
    .queue_notify = vblk_queue_notify,
};

static void vblk_fill_config(struct vblk *b)
{
	uint64_t cap = htole64(b->disk.size / VBLK_SECTOR);
	uint32_t size_max = htole32(VBLK_SIZE_MAX), seg_max = htole32(VBLK_SEG_MAX);

	/* struct virtio_blk_config: capacity, size_max, seg_max. */
	memcpy(b->config, &cap, 8);
	memcpy(b->config + 8, &size_max, 4);
	memcpy(b->config + 12, &seg_max, 4);
}

/* Opens and sizes a raw image: *fd and *size, or -errno with a log line. */
static int vblk_open_file(const char *id, const char *path, bool ro, int *fd, uint64_t *size)
{
	const char *why;
	off_t end;
	int r;

	/* Never blocks (a FIFO is refused, not waited on: PATCH runs on the VMM thread). */
	*fd = file_open_input(path, !ro, true, &why);
	if (*fd < 0) {
		log_err("drive %s: %s: %s", id, path, why);
		return *fd;
	}
	end = lseek(*fd, 0, SEEK_END);
	if (end < 0) {
		r = -errno;
		log_err("drive %s: cannot size %s: %s", id, path, strerror(errno));
		goto fail;
	}
	if (end % VBLK_SECTOR) {
		log_err("drive %s: %s is %lld bytes, not a multiple of 512 (raw images only)", id,
			path, (long long)end);
		r = -EINVAL;
		goto fail;
	}
	*size = (uint64_t)end;
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return r;
}

static int vblk_open(struct vblk *b)
{
	b->disk.read_only = b->cfg.read_only;
	return vblk_open_file(b->cfg.drive_id, b->cfg.path, b->cfg.read_only, &b->fd,
			      &b->disk.size);
}

int vblk_replace_file(struct vblk *b, const char *path)
{
	uint64_t size;
	int fd, old, r;

	if (strlen(path) >= sizeof(b->cfg.path))
		return -ENAMETOOLONG;
	r = vblk_open_file(b->cfg.drive_id, path, b->cfg.read_only, &fd, &size);
	if (r)
		return r;
	virtio_mmio_lock(&b->t);
	/* What is in flight was asked of the old file: finish it there. */
	if (b->engine == VBLK_ENGINE_IO_URING) {
		vblk_uring_drain(&b->uring, vblk_uring_done, b);
		if (virtio_mmio_live(&b->t))
			virtio_mmio_signal_used(&b->t, 0);
	}
	old = b->fd;
	b->fd = fd;
	b->disk.size = size;
	snprintf(b->cfg.path, sizeof(b->cfg.path), "%s", path);
	vblk_fill_config(b);
	/* The guest rereads the capacity on a config-change interrupt. */
	if (virtio_mmio_live(&b->t))
		virtio_mmio_config_changed(&b->t);
	virtio_mmio_unlock(&b->t);
	close(old);
	log_info("disk %s: now %s (%llu sectors)", b->cfg.drive_id, path,
		 (unsigned long long)(size / VBLK_SECTOR));
	return 0;
}

/* The rate limiter's wait is over (VMM thread, no lock held): take requests again. */
static void vblk_wake(void *opaque)
{
	virtio_mmio_kick(&((struct vblk *)opaque)->t, 0);
}

static int vblk_engine_start(struct vblk *b)
{
	int ret;

	b->engine = VBLK_ENGINE_SYNC;
	if (b->cfg.engine == VBLK_ENGINE_SYNC)
		return 0;
	ret = vblk_uring_init(&b->uring, VBLK_QUEUE_MAX);
	if (ret) {
		if (b->cfg.engine == VBLK_ENGINE_IO_URING) {
			log_err("drive %s: engine=io_uring: %s", b->cfg.drive_id, strerror(-ret));
			return ret;
		}
		log_info("disk %s: io_uring unavailable (%s), using the sync engine",
			 b->cfg.drive_id, strerror(-ret));
		return 0;
	}
	b->engine = VBLK_ENGINE_IO_URING;
	return 0;
}

int vblk_create(struct vblk **out, const struct vblk_config *cfg, const struct guest_mem *gm,
		struct evloop *loop)
{
	char name[sizeof(cfg->drive_id) + 16];
	struct vblk *b;
	int ret;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = -1;
	b->uring.efd = -1;
	b->lim.timer_fd = -1;
	b->cfg = *cfg;
	b->cfg.drive_id[sizeof(b->cfg.drive_id) - 1] = '\0';
	b->cfg.path[sizeof(b->cfg.path) - 1] = '\0';
	b->cfg.serial[sizeof(b->cfg.serial) - 1] = '\0';
	b->gm = gm;
	b->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	memcpy(b->serial, b->cfg.serial[0] ? b->cfg.serial : b->cfg.drive_id, VBLK_SERIAL_LEN);
	b->serial[VBLK_SERIAL_LEN] = '\0';

	ret = vblk_open(b);
	if (ret)
		goto err;
	vblk_fill_config(b);
	b->slots = calloc(VBLK_QUEUE_MAX, sizeof(*b->slots));
	if (!b->slots) {
		ret = -ENOMEM;
		goto err;
	}
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++)
		vblk_slot_put(b, &b->slots[VBLK_QUEUE_MAX - 1 - i]);
	ret = vblk_engine_start(b);
	if (ret)
		goto err;
	snprintf(name, sizeof(name), "virtio-blk %s", b->cfg.drive_id);
	ret = virtio_mmio_init(&b->t, name, &vblk_ops, b, gm, loop);
	if (!ret)
		ret = limiter_init(&b->lim, &b->cfg.limiter, loop, vblk_wake, b);
	if (ret)
		goto err;
	if (b->engine == VBLK_ENGINE_IO_URING && loop) {
		b->uring_h =
		    (struct ev_handler){.fd = b->uring.efd, .fn = vblk_on_uring, .opaque = b};
		ret = evloop_add(loop, &b->uring_h, EPOLLIN);
		if (ret)
			goto err;
		b->loop = loop;
	}
	*out = b;
	return 0;
err:
	vblk_destroy(b);
	return ret;
}

void vblk_quiesce(struct vblk *b)
{
	virtio_mmio_lock(&b->t);
	if (b->engine == VBLK_ENGINE_IO_URING) {
		vblk_uring_drain(&b->uring, vblk_uring_done, b);
		if (virtio_mmio_live(&b->t))
			virtio_mmio_signal_used(&b->t, 0);
	}
	virtio_mmio_unlock(&b->t);
}

const struct vblk_stats *vblk_stats(const struct vblk *b)
{
	return &b->st;
}

const struct vblk_config *vblk_get_config(const struct vblk *b)
{
	return &b->cfg;
}

const char *vblk_drive_id(const struct vblk *b)
{
	return b->cfg.drive_id;
}

struct virtio_mmio *vblk_transport(struct vblk *b)
{
	return &b->t;
}

enum vblk_engine vblk_engine_used(const struct vblk *b)
{
	return b->engine;
}

uint64_t vblk_capacity(const struct vblk *b)
{
	return b->disk.size / VBLK_SECTOR;
}

void vblk_destroy(struct vblk *b)
{
	if (!b)
		return;
	if (b->loop)
		evloop_del(b->loop, &b->uring_h);
	if (b->t.ops)
		virtio_mmio_lock(&b->t);
	b->discard = true;
	vblk_uring_drain(&b->uring, vblk_uring_done, b);
	if (b->t.ops)
		virtio_mmio_unlock(&b->t);
	vblk_uring_exit(&b->uring);
	limiter_destroy(&b->lim);
	virtio_mmio_destroy(&b->t);
	if (b->fd >= 0)
		close(b->fd);
	free(b->slots);
	free(b);
}

/* ---- the device type ---------------------------------------------------------- */

static int vblk_type_parse(const char *spec, void *cfg, char *err, size_t errlen)
{
	return vblk_config_parse(spec, cfg, err, errlen);
}

static int vblk_type_probe(const void *cfg)
{
	const struct vblk_config *c = cfg;
	uint64_t size;
	int fd, r = vblk_open_file(c->drive_id, c->path, c->read_only, &fd, &size);

	if (!r)
		close(fd);
	return r;
}

static int vblk_type_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	return vblk_create((struct vblk **)dev, cfg, env->gm, env->loop);
}

static void vblk_type_destroy(void *dev)
{
	vblk_destroy(dev);
}

static struct virtio_mmio *vblk_type_transport(void *dev)
{
	return vblk_transport(dev);
}

static const void *vblk_type_config(const void *dev)
{
	return vblk_get_config(dev);
}

static void vblk_type_quiesce(void *dev)
{
	vblk_quiesce(dev);
}

static unsigned vblk_type_files(void *dev, struct file_id *ids, unsigned max)
{
	struct vblk *b = dev;
	struct stat st;

	if (!max || fstat(b->fd, &st))
		return 0;
	ids[0] = (struct file_id){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
	return 1;
}

/* PATCH /drives/{id}: a new backing file. */
static int vblk_type_update(void *dev, const char *field, const char *value)
{
	if (strcmp(field, "path_on_host"))
		return -EINVAL;
	return vblk_replace_file(dev, value);
}

static json_t *vblk_type_metrics(const void *dev)
{
	const struct vblk_stats *s = vblk_stats(dev);

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "read_count",
			 (json_int_t)s->reads, "write_count", (json_int_t)s->writes, "flush_count",
			 (json_int_t)s->flushes, "other_count", (json_int_t)s->others, "read_bytes",
			 (json_int_t)s->read_bytes, "write_bytes", (json_int_t)s->write_bytes,
			 "errors", (json_int_t)s->errors, "rate_limiter_throttled_count",
			 (json_int_t)s->throttled);
}

/* PATCH /drives/{id} rate_limiter on a running VM: in force at once. */
static int vblk_type_set_limiter(void *dev, const char *which, const struct limiter_cfg *c)
{
	struct vblk *b = dev;

	if (*which)
		return -EINVAL;
	virtio_mmio_lock(&b->t);
	b->cfg.limiter = *c;
	limiter_update(&b->lim, c);
	virtio_mmio_unlock(&b->t);
	return 0;
}

static const struct vdev_type vblk_type = {
    .name = "block",
    .cli_opt = "--disk",
    .cli_help = "  --disk SPEC         PATH[,ro][,root][,id=NAME][,partuuid=UUID]\n"
		"                      [,engine=sync|io_uring]\n"
		"                      virtio-blk on a raw image; repeatable, up to 16;\n"
		"                      'root' boots from it (root=/dev/vda, or with\n"
		"                      partuuid= root=PARTUUID=UUID: a partition on it)\n",
    .max = VDEV_MAX,
    .config_size = sizeof(struct vblk_config),
    .parse = vblk_type_parse,
    .id = vblk_config_id,
    .complete = vblk_config_complete,
    .check_set = vblk_config_check_set,
    .first = vblk_config_first,
    .cmdline = vblk_config_cmdline,
    .limiter = vblk_config_limiter,
    .set_limiter = vblk_type_set_limiter,
    .probe = vblk_type_probe,
    .create = vblk_type_create,
    .destroy = vblk_type_destroy,
    .transport = vblk_type_transport,
    .config = vblk_type_config,
    .quiesce = vblk_type_quiesce,
    .files = vblk_type_files,
    .update = vblk_type_update,
    .metrics = vblk_type_metrics,
    .metrics_key = "block",
    .state_version = 3,
    .save = vblk_config_save,
    .load = vblk_config_load,
};
VDEV_REGISTER(vblk_type);
