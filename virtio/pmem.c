// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-pmem (virtio 1.2 section 5.19): a host file mapped into
 * guest-physical memory above RAM, which Linux's virtio_pmem driver turns
 * into an nvdimm region, /dev/pmemN, mountable with DAX: the guest reads and
 * writes the host's page cache directly, so clones of one snapshot booted
 * from the same read-only root share its pages instead of each caching it.
 *
 * Config space: le64 start, le64 size (where the guest finds the range).
 * One queue: the guest's flush requests (le32 type 0, VIRTIO_PMEM_REQ_TYPE_
 * FLUSH) answered with le32 ret after msync(MS_SYNC) of the file, which is
 * how a guest fsync on a DAX file system reaches the host's disk.
 *
 * Memory: the file is mapped MAP_SHARED (read-only: PROT_READ and a
 * read-only KVM slot, so a guest write is an MMIO exit nobody answers).  As
 * in Firecracker, the range the guest sees is the file's size rounded up to
 * 2 MiB (Linux maps pmem in 2 MiB sections); the tail past the file is
 * private anonymous memory.  The VMM places and maps it (vdev_mem_ops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmem.h"

#define VIRTIO_ID_PMEM	  27
#define VPMEM_QUEUE_MAX	  256
#define VPMEM_BUDGET	  64
#define VPMEM_ALIGN	  MiB(2)
#define VPMEM_REQ_FLUSH	  0u
#define VPMEM_CONFIG_SIZE 16u
#define VPMEM_RET_OK	  0u
#define VPMEM_RET_EIO	  1u /* any nonzero ret is an error to Linux (-EIO) */

struct vpmem_stats {
	uint64_t flushes, flush_fails, bad_chains;
};

struct vpmem {
	struct virtio_mmio t; /* t.lock covers the rest while the device runs */
	struct vpmem_config cfg;
	const struct guest_mem *gm;
	const struct vdev_mem_ops *mops;
	void *vmm;
	int fd, slot;
	uint8_t *host;
	uint64_t file_len;
	struct vpmem_stats st;
	struct limiter lim;
	struct ratelimit rl;
	struct virtq_chain chain;
};

/* ---- requests ---------------------------------------------------------------- */

/* The request's type from its first readable segment, the status segment: -1 if malformed.
 * (The config space is read-only: the transport ignores writes without config_write.) */
static int vpmem_parse(struct vpmem *p, const struct virtq_chain *c, uint32_t *type,
		       uint64_t *status)
{
	unsigned in, out;

	if (virtq_chain_req_resp(c, 4, 4, &in, &out) || gm_read(p->gm, c->seg[in].addr, type, 4) ||
	    !gm_range_ok(p->gm, c->seg[out].addr, 4))
		return -1;
	*type = le32toh(*type);
	*status = c->seg[out].addr;
	return 0;
}

static uint32_t vpmem_flush(struct vpmem *p)
{
	p->st.flushes++;
	/* A read-only mapping has nothing of the guest's to write back. */
	if (p->cfg.read_only || !msync(p->host, p->file_len, MS_SYNC))
		return VPMEM_RET_OK;
	p->st.flush_fails++;
	log_ratelimited(&p->rl, LOG_WARN, "%s: msync: %s", p->t.name, strerror(errno));
	return VPMEM_RET_EIO;
}

static int vpmem_handle(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vpmem *p = dev;
	uint32_t type, ret;
	uint64_t status;

	*used = 0;
	if (vpmem_parse(p, c, &type, &status)) {
		p->st.bad_chains++;
		log_ratelimited(&p->rl, LOG_WARN, "%s: guest: malformed request %u", p->t.name,
				c->head);
		return VIRTIO_CHAIN_USED;
	}
	if (type == VPMEM_REQ_FLUSH && !limiter_consume(&p->lim, p->file_len))
		return VIRTIO_CHAIN_RETRY;
	if (type == VPMEM_REQ_FLUSH) {
		ret = vpmem_flush(p);
	} else {
		p->st.bad_chains++;
		log_ratelimited(&p->rl, LOG_WARN, "%s: guest: unknown request type %u", p->t.name,
				type);
		ret = VPMEM_RET_EIO;
	}
	ret = htole32(ret);
	if (!gm_write(p->gm, status, &ret, 4))
		*used = 4;
	return VIRTIO_CHAIN_USED;
}

static bool vpmem_more(void *dev)
{
	return !limiter_blocked(&((struct vpmem *)dev)->lim);
}

static void vpmem_queue_notify(void *dev, unsigned q)
{
	struct vpmem *p = dev;
	const struct virtio_queue_loop l = {
	    .chain = &p->chain, .budget = VPMEM_BUDGET, .more = vpmem_more, .handle = vpmem_handle};

	virtio_mmio_process(&p->t, q, &l);
}

static void vpmem_wake(void *opaque)
{
	virtio_mmio_kick(&((struct vpmem *)opaque)->t, 0);
}

static uint64_t vpmem_features(void *dev)
{
	(void)dev;
	return 0;
}

static void vpmem_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	const struct vpmem *p = dev;
	uint64_t cs[2] = {htole64(p->cfg.gpa), htole64(p->cfg.size)};

	memcpy(data, (const uint8_t *)cs + off, len);
}

static const struct virtio_dev_ops vpmem_ops = {
    .device_id = VIRTIO_ID_PMEM,
    .num_queues = 1,
    .queue_max = VPMEM_QUEUE_MAX,
    .features = vpmem_features,
    .config_read = vpmem_config_read,
    .config_size = VPMEM_CONFIG_SIZE,
    .queue_notify = vpmem_queue_notify,
};

/* ---- memory ------------------------------------------------------------------ */

/* The file, mapped over a 2 MiB-rounded anonymous reservation: p->host. */
static int vpmem_map_file(struct vpmem *p, uint64_t len)
{
	int prot = PROT_READ | (p->cfg.read_only ? 0 : PROT_WRITE);
	void *a = mmap(NULL, p->cfg.size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (a == MAP_FAILED)
		return -errno;
	if (mmap(a, len, prot, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, p->fd, 0) == MAP_FAILED) {
		int r = -errno;

		munmap(a, p->cfg.size);
		return r;
	}
	p->host = a;
	return 0;
}

/* The backing file, opened as the device uses it, and its length: an fd, or -errno logged. */
static int vpmem_open(const struct vpmem_config *c, uint64_t *len)
{
	struct stat st;
	const char *why;
	int fd = file_open_input(c->path, !c->read_only, false, &why), r = 0;

	if (fd < 0) {
		log_err("pmem %s: %s: %s", c->id, c->path, why);
		return fd;
	}
	if (fstat(fd, &st)) {
		log_err("pmem %s: %s: %s", c->id, c->path, strerror(errno));
		r = -EIO;
	} else if (st.st_size <= 0) {
		log_err("pmem %s: %s is empty", c->id, c->path);
		r = -EINVAL;
	}
	if (r) {
		close(fd);
		return r;
	}
	*len = (uint64_t)st.st_size;
	return fd;
}

static int vpmem_setup_memory(struct vpmem *p)
{
	uint64_t size;
	int r;

	p->fd = vpmem_open(&p->cfg, &p->file_len);
	if (p->fd < 0)
		return p->fd;
	size = (p->file_len + VPMEM_ALIGN - 1) & ~(VPMEM_ALIGN - 1);
	if (p->cfg.size && p->cfg.size != size) {
		log_err("pmem %s: %s is now %llu bytes; the snapshot's guest saw %llu", p->cfg.id,
			p->cfg.path, (unsigned long long)p->file_len,
			(unsigned long long)p->cfg.size);
		return -EINVAL;
	}
	p->cfg.size = size;
	r = vpmem_map_file(p, p->file_len);
	if (r) {
		log_err("pmem %s: mapping %s: %s", p->cfg.id, p->cfg.path, strerror(-r));
		return r;
	}
	if (!p->mops) {
		log_err("pmem %s: this VM cannot give devices memory", p->cfg.id);
		return -ENOTSUP;
	}
	r = p->mops->reserve(p->vmm, size, VPMEM_ALIGN, &p->cfg.gpa);
	if (r)
		return r;
	p->slot = p->mops->map(p->vmm, p->cfg.gpa, p->host, size, p->cfg.read_only);
	return p->slot < 0 ? p->slot : 0;
}

/* ---- an instance ------------------------------------------------------------- */

static void vpmem_destroy(void *dev)
{
	struct vpmem *p = dev;

	if (!p)
		return;
	if (p->slot >= 0)
		p->mops->unmap(p->vmm, p->slot);
	if (p->host)
		munmap(p->host, p->cfg.size);
	if (p->fd >= 0)
		close(p->fd);
	limiter_destroy(&p->lim);
	virtio_mmio_destroy(&p->t);
	free(p);
}

static int vpmem_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	struct vpmem *p = calloc(1, sizeof(*p));
	char name[80];
	int r;

	*dev = NULL;
	if (!p)
		return -ENOMEM;
	p->cfg = *(const struct vpmem_config *)cfg;
	p->cfg.id[sizeof(p->cfg.id) - 1] = p->cfg.path[sizeof(p->cfg.path) - 1] = '\0';
	p->gm = env->gm;
	p->mops = env->mem;
	p->vmm = env->vmm;
	p->fd = p->slot = p->lim.timer_fd = -1;
	p->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	snprintf(name, sizeof(name), "virtio-pmem %s", p->cfg.id);
	r = virtio_mmio_init(&p->t, name, &vpmem_ops, p, env->gm, env->loop);
	if (!r)
		r = limiter_init(&p->lim, &p->cfg.limiter, env->loop, vpmem_wake, p);
	if (r)
		log_err("pmem %s: %s", p->cfg.id, strerror(-r));
	else
		r = vpmem_setup_memory(p); /* logs what is wrong */
	if (r) {
		vpmem_destroy(p);
		return r;
	}
	log_debug("%s: %llu MiB at %#llx%s", name, (unsigned long long)(p->cfg.size >> 20),
		  (unsigned long long)p->cfg.gpa, p->cfg.read_only ? ", read-only" : "");
	*dev = p;
	return 0;
}

static struct virtio_mmio *vpmem_transport(void *dev)
{
	return &((struct vpmem *)dev)->t;
}

static const void *vpmem_config_of(const void *dev)
{
	return &((const struct vpmem *)dev)->cfg;
}

static unsigned vpmem_files(void *dev, struct file_id *ids, unsigned max)
{
	struct stat st;

	if (!max || fstat(((struct vpmem *)dev)->fd, &st))
		return 0;
	ids[0] = (struct file_id){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
	return 1;
}

static int vpmem_set_limiter(void *dev, const char *which, const struct limiter_cfg *c)
{
	struct vpmem *p = dev;

	if (*which)
		return -EINVAL;
	virtio_mmio_lock(&p->t);
	p->cfg.limiter = *c;
	limiter_update(&p->lim, c);
	virtio_mmio_unlock(&p->t);
	return 0;
}

static json_t *vpmem_metrics(const void *dev)
{
	const struct vpmem *p = dev;

	return json_pack("{s:I, s:I, s:I, s:I}", "flush_count", (json_int_t)p->st.flushes,
			 "flush_fails", (json_int_t)p->st.flush_fails, "bad_chains",
			 (json_int_t)p->st.bad_chains, "rate_limiter_throttled_events",
			 (json_int_t)p->lim.throttled);
}

/* At PUT time (api_check.c), as a drive's image: the file opens as the device will open it. */
static int vpmem_probe(const void *cfg)
{
	uint64_t len;
	int fd = vpmem_open(cfg, &len);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static const struct vdev_type vpmem_type = {
    .name = "pmem",
    .cli_opt = "--pmem",
    .cli_help = "  --pmem SPEC         PATH[,ro][,root][,id=NAME]\n"
		"                      virtio-pmem on a file (/dev/pmemN, DAX); 'root' boots\n"
		"                      from it (root=/dev/pmem0)\n",
    .max = 8,
    .config_size = sizeof(struct vpmem_config),
    .parse = vpmem_parse_spec,
    .id = vpmem_id,
    .complete = vpmem_complete,
    .check_set = vpmem_check_set,
    .first = vpmem_first,
    .cmdline = vpmem_cmdline,
    .limiter = vpmem_limiter,
    .set_limiter = vpmem_set_limiter,
    .probe = vpmem_probe,
    .create = vpmem_create,
    .destroy = vpmem_destroy,
    .transport = vpmem_transport,
    .config = vpmem_config_of,
    .files = vpmem_files,
    .metrics = vpmem_metrics,
    .metrics_key = "pmem",
    .state_version = 1,
    .save = vpmem_save,
    .load = vpmem_load,
};
VDEV_REGISTER(vpmem_type);
