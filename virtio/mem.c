// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mem (virtio 1.2 section 5.15): memory hotplug.  A region above RAM
 * (aligned to 128 MiB, x86's memory block size, so Linux can add it block by
 * block) of which the host asks the guest to use requested_size; the
 * guest's driver plugs and unplugs device blocks with requests on one queue
 * and onlines them as RAM (MemTotal grows and shrinks).
 *
 * Host memory: one anonymous MAP_NORESERVE mapping of the whole region, so
 * only pages the guest touches cost anything.  The region is cut into slots
 * (slot_size); a slot with at least one plugged block is a KVM memory slot,
 * a slot with none is not mapped at all, and unplugged blocks are discarded
 * (MADV_DONTNEED), so unplugged memory costs the host nothing and the guest
 * cannot use it (an access is an MMIO exit nobody answers).
 *
 * A reset leaves the blocks as they are: the device's reset runs on a vCPU
 * thread, which may not change KVM's memory slots, and Linux's driver asks
 * for UNPLUG_ALL when it finds memory plugged at probe.
 *
 * Guest input is checked before anything changes: a request for blocks
 * outside the usable region, misaligned, of zero blocks, in the wrong state
 * or beyond requested_size gets an error (or NACK) response; a malformed
 * chain comes back empty.  None of it stops the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_mem.h>

#include "mem.h"

#define VIRTIO_ID_MEM	  24
#define VMEM_QUEUE_MAX	  256
#define VMEM_BUDGET	  64
#define VMEM_REGION_ALIGN MiB(128) /* x86_64's memory block size */
#define VMEM_REQ_LEN	  24u	   /* struct virtio_mem_req */
#define VMEM_RESP_LEN	  10u	   /* struct virtio_mem_resp */

struct vmem_stats {
	uint64_t plugs, unplugs, unplug_alls, states, fails, bad_chains, plugged_bytes;
};

struct vmem {
	struct virtio_mmio t; /* t.lock covers the rest while the device runs */
	struct vmem_config cfg;
	const struct guest_mem *gm;
	const struct vdev_mem_ops *mops;
	void *vmm;
	uint8_t *host;
	uint64_t size, block, slot;		/* bytes */
	uint64_t usable, plugged, requested;	/* bytes: the config space's */
	uint64_t *bits;				/* one per block: plugged */
	unsigned nr_blocks, per_slot, nr_slots; /* per_slot: blocks in a slot */
	int *slot_h;				/* the VMM's slot handle, or -1 */
	bool exposed;
	struct vmem_stats st;
	struct ratelimit rl;
	struct virtq_chain chain;
};

static bool bit(const struct vmem *m, unsigned i)
{
	return m->bits[i / 64] >> (i % 64) & 1;
}

static unsigned plugged_in(const struct vmem *m, unsigned first, unsigned n)
{
	unsigned c = 0;

	for (unsigned i = first; i < first + n; i++)
		c += bit(m, i);
	return c;
}

static int vmem_write_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* Maps slots that have plugged blocks and unmaps those that have none. */
static int vmem_sync_slots(struct vmem *m, unsigned first_blk, unsigned n)
{
	unsigned s0 = first_blk / m->per_slot, s1 = (first_blk + n - 1) / m->per_slot;

	for (unsigned s = s0; s <= s1; s++) {
		bool want = plugged_in(m, s * m->per_slot, m->per_slot) != 0;

		if (want && m->slot_h[s] < 0) {
			int h = m->mops->map(m->vmm, m->cfg.gpa + s * m->slot,
					     m->host + s * m->slot, m->slot, false);

			if (h < 0)
				return h;
			m->slot_h[s] = h;
		} else if (!want && m->slot_h[s] >= 0) {
			m->mops->unmap(m->vmm, m->slot_h[s]);
			m->slot_h[s] = -1;
		}
	}
	return 0;
}

/* Sets blocks [first, first+n) to @plug, the slots and the counters with them. */
static int vmem_set(struct vmem *m, unsigned first, unsigned n, bool plug)
{
	unsigned before = plugged_in(m, first, n);
	int r;

	for (unsigned i = first; i < first + n; i++)
		m->bits[i / 64] = plug ? m->bits[i / 64] | 1ull << (i % 64)
				       : m->bits[i / 64] & ~(1ull << (i % 64));
	r = vmem_sync_slots(m, first, n);
	if (r) {
		/* No slot for it: back as it was (what was mapped stays mapped). */
		for (unsigned i = first; i < first + n; i++)
			if (plug)
				m->bits[i / 64] &= ~(1ull << (i % 64));
		return r;
	}
	m->plugged = m->plugged - before * m->block + (plug ? n : 0) * m->block;
	/* The guest gave it back: its pages go back to the host now. */
	if (!plug &&
	    madvise(m->host + (uint64_t)first * m->block, (uint64_t)n * m->block, MADV_DONTNEED))
		log_ratelimited(&m->rl, LOG_WARN, "%s: discarding unplugged memory: %s", m->t.name,
				strerror(errno));
	return 0;
}

/* A request's block range inside the usable region: its first block, or -1. */
static long vmem_range(const struct vmem *m, uint64_t addr, uint16_t nb)
{
	uint64_t off = addr - m->cfg.gpa;

	if (!nb || addr < m->cfg.gpa || off % m->block || off >= m->usable ||
	    (uint64_t)nb * m->block > m->usable - off)
		return -1;
	return (long)(off / m->block);
}

static uint16_t vmem_request(struct vmem *m, uint16_t type, uint64_t addr, uint16_t nb,
			     uint16_t *state)
{
	long first = type == VIRTIO_MEM_REQ_UNPLUG_ALL ? 0 : vmem_range(m, addr, nb);
	unsigned n;

	if (first < 0 || type > VIRTIO_MEM_REQ_STATE)
		return VIRTIO_MEM_RESP_ERROR;
	n = plugged_in(m, (unsigned)first, type == VIRTIO_MEM_REQ_UNPLUG_ALL ? 0 : nb);
	switch (type) {
	case VIRTIO_MEM_REQ_PLUG:
		m->st.plugs++;
		if (m->plugged + (uint64_t)nb * m->block > m->requested)
			return VIRTIO_MEM_RESP_NACK;
		if (n || vmem_set(m, (unsigned)first, nb, true))
			return VIRTIO_MEM_RESP_ERROR;
		m->st.plugged_bytes += (uint64_t)nb * m->block;
		return VIRTIO_MEM_RESP_ACK;
	case VIRTIO_MEM_REQ_UNPLUG:
		m->st.unplugs++;
		if (n != nb || vmem_set(m, (unsigned)first, nb, false))
			return VIRTIO_MEM_RESP_ERROR;
		return VIRTIO_MEM_RESP_ACK;
	case VIRTIO_MEM_REQ_UNPLUG_ALL:
		m->st.unplug_alls++;
		vmem_set(m, 0, m->nr_blocks, false);
		return VIRTIO_MEM_RESP_ACK;
	default:
		m->st.states++;
		*state = n == nb ? VIRTIO_MEM_STATE_PLUGGED
			 : n	 ? VIRTIO_MEM_STATE_MIXED
				 : VIRTIO_MEM_STATE_UNPLUGGED;
		return VIRTIO_MEM_RESP_ACK;
	}
}

static int vmem_handle(void *dev, const struct virtq_chain *c, uint32_t *used)
{
	struct vmem *m = dev;
	uint8_t req[VMEM_REQ_LEN], resp[VMEM_RESP_LEN] = {0};
	uint16_t type, nb, state = 0, rtype;
	uint64_t addr;
	unsigned in, out;

	*used = 0;
	if (virtq_chain_req_resp(c, VMEM_REQ_LEN, VMEM_RESP_LEN, &in, &out) ||
	    gm_read(m->gm, c->seg[in].addr, req, sizeof(req)) ||
	    !gm_range_ok(m->gm, c->seg[out].addr, VMEM_RESP_LEN)) {
		m->st.bad_chains++;
		log_ratelimited(&m->rl, LOG_WARN, "%s: guest: malformed request %u", m->t.name,
				c->head);
		return VIRTIO_CHAIN_USED;
	}
	memcpy(&type, req, 2);
	memcpy(&addr, req + 8, 8);
	memcpy(&nb, req + 16, 2);
	rtype = vmem_request(m, le16toh(type), le64toh(addr), le16toh(nb), &state);
	if (rtype != VIRTIO_MEM_RESP_ACK) {
		m->st.fails++;
		log_ratelimited(&m->rl, LOG_WARN,
				"%s: guest: request %u for %u blocks at %#llx refused (%u)",
				m->t.name, le16toh(type), le16toh(nb),
				(unsigned long long)le64toh(addr), rtype);
	}
	rtype = htole16(rtype);
	state = htole16(state);
	memcpy(resp, &rtype, 2);
	memcpy(resp + 8, &state, 2);
	if (!gm_write(m->gm, c->seg[out].addr, resp, sizeof(resp)))
		*used = sizeof(resp);
	return VIRTIO_CHAIN_USED;
}

static void vmem_queue_notify(void *dev, unsigned q)
{
	struct vmem *m = dev;
	const struct virtio_queue_loop l = {
	    .chain = &m->chain, .budget = VMEM_BUDGET, .handle = vmem_handle};

	virtio_mmio_process(&m->t, q, &l);
}

static uint64_t vmem_features(void *dev)
{
	(void)dev;
	return 1ull << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;
}

static void vmem_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	const struct vmem *m = dev;
	uint64_t cs[7] = {htole64(m->block),	0,
			  htole64(m->cfg.gpa),	htole64(m->size),
			  htole64(m->usable),	htole64(m->plugged),
			  htole64(m->requested)};

	memcpy(data, (const uint8_t *)cs + off, len);
}

static const struct virtio_dev_ops vmem_ops = {
    .device_id = VIRTIO_ID_MEM,
    .num_queues = 1,
    .queue_max = VMEM_QUEUE_MAX,
    .features = vmem_features,
    .config_read = vmem_config_read,
    .config_size = 56,
    .queue_notify = vmem_queue_notify,
};

/* ---- an instance ------------------------------------------------------------- */

static void vmem_destroy(void *dev)
{
	struct vmem *m = dev;

	if (!m)
		return;
	for (unsigned s = 0; m->slot_h && s < m->nr_slots; s++)
		if (m->slot_h[s] >= 0)
			m->mops->unmap(m->vmm, m->slot_h[s]);
	if (m->exposed)
		m->mops->hide(m->vmm, m->cfg.gpa);
	if (m->host)
		munmap(m->host, m->size);
	virtio_mmio_destroy(&m->t);
	free(m->slot_h);
	free(m->bits);
	free(m);
}

/* The region: host memory, its guest-physical place, and devices may DMA into it. */
static int vmem_setup(struct vmem *m)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t host_mib = pages > 0 && page > 0 ? ((uint64_t)pages * (uint64_t)page) >> 20 : 0;
	uint64_t ram_mib = gm_total(m->gm) >> 20;
	void *p;
	int r;

	if (host_mib && m->cfg.total_mib + ram_mib > host_mib) {
		log_err("memory hotplug: %u MiB on top of %llu MiB of RAM is more than this host "
			"has (%llu MiB)",
			m->cfg.total_mib, (unsigned long long)ram_mib,
			(unsigned long long)host_mib);
		return -ENOMEM;
	}
	if (!m->mops) {
		log_err("memory hotplug: this VM cannot give devices memory");
		return -ENOTSUP;
	}
	p = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED) {
		log_err("memory hotplug: %u MiB of address space: %s", m->cfg.total_mib,
			strerror(errno));
		return -ENOMEM;
	}
	m->host = p;
	r = m->mops->reserve(m->vmm, m->size, VMEM_REGION_ALIGN, &m->cfg.gpa);
	if (!r)
		r = m->mops->expose(m->vmm, m->cfg.gpa, m->host, m->size);
	m->exposed = !r;
	return r;
}

static int vmem_create(void **dev, const void *cfg, const struct vdev_env *env)
{
	struct vmem *m = calloc(1, sizeof(*m));
	char err[160];
	int r = -ENOMEM;

	*dev = NULL;
	if (!m)
		return -ENOMEM;
	m->cfg = *(const struct vmem_config *)cfg;
	m->cfg.id[sizeof(m->cfg.id) - 1] = '\0';
	m->gm = env->gm;
	m->mops = env->mem;
	m->vmm = env->vmm;
	m->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	if (vmem_config_check(&m->cfg, err, sizeof(err))) {
		log_err("memory hotplug: %s", err);
		free(m);
		return -EINVAL;
	}
	m->size = MiB(m->cfg.total_mib);
	m->block = MiB(m->cfg.block_mib);
	m->slot = MiB(m->cfg.slot_mib);
	m->nr_blocks = (unsigned)(m->size / m->block);
	m->per_slot = (unsigned)(m->slot / m->block);
	m->nr_slots = (unsigned)(m->size / m->slot);
	m->bits = calloc((m->nr_blocks + 63) / 64, sizeof(*m->bits));
	m->slot_h = malloc(m->nr_slots * sizeof(*m->slot_h));
	if (m->bits && m->slot_h) {
		for (unsigned s = 0; s < m->nr_slots; s++)
			m->slot_h[s] = -1;
		/* A restore's plugged blocks; mem_restore maps their memory. */
		for (unsigned w = 0; w < (m->nr_blocks + 63) / 64 && w < VMEM_SNAP_WORDS; w++)
			m->bits[w] = m->cfg.plugged[w];
		m->requested = m->cfg.requested;
		m->usable = m->cfg.usable;
		m->plugged = plugged_in(m, 0, m->nr_blocks) * m->block;
		r = virtio_mmio_init(&m->t, "virtio-mem", &vmem_ops, m, env->gm, env->loop);
		if (r)
			log_err("memory hotplug: %s", strerror(-r));
		else
			r = vmem_setup(m); /* logs what is wrong */
	}
	if (r) {
		vmem_destroy(m);
		return r;
	}
	log_debug("virtio-mem: %u MiB at %#llx", m->cfg.total_mib, (unsigned long long)m->cfg.gpa);
	*dev = m;
	return 0;
}

/* PATCH /hotplug/memory: the guest is asked for a new size (config interrupt). */
static int vmem_update(void *dev, const char *field, const char *value)
{
	struct vmem *m = dev;
	uint64_t mib;
	int r = 0;

	if (strcmp(field, "requested_size_mib") || str_to_u64(value, m->cfg.total_mib, &mib)) {
		log_err("memory hotplug: requested_size_mib must be at most total_size_mib (%u)",
			m->cfg.total_mib);
		return -EINVAL;
	}
	if (MiB(mib) % m->block) {
		log_err("memory hotplug: requested_size_mib must be a multiple of block_size_mib "
			"(%u), not %llu",
			m->cfg.block_mib, (unsigned long long)mib);
		return -EINVAL;
	}
	virtio_mmio_lock(&m->t);
	if (!virtio_mmio_live(&m->t)) {
		log_err("memory hotplug: the guest's virtio-mem driver is not running");
		r = -EAGAIN;
	} else {
		m->requested = MiB(mib);
		/* Room to plug it: whole slots, never shrunk here (only UNPLUG_ALL may). */
		if (m->usable < m->requested)
			m->usable = (m->requested + m->slot - 1) / m->slot * m->slot;
		virtio_mmio_config_changed(&m->t);
	}
	virtio_mmio_unlock(&m->t);
	return r;
}

/* Full snapshots: the plugged blocks' contents after RAM, in block order. */
static int vmem_mem_save(void *dev, int fd, uint64_t *off)
{
	struct vmem *m = dev;
	uint64_t at = *off;
	int r = 0;

	virtio_mmio_lock(&m->t);
	if (m->plugged && m->nr_blocks > VMEM_SNAP_WORDS * 64) {
		log_err("memory hotplug: a snapshot keeps at most %u blocks, this device has %u",
			VMEM_SNAP_WORDS * 64, m->nr_blocks);
		r = -ENOTSUP;
		goto out;
	}
	memset(m->cfg.plugged, 0, sizeof(m->cfg.plugged));
	for (unsigned i = 0; i < m->nr_blocks && !r; i++) {
		if (!bit(m, i))
			continue;
		m->cfg.plugged[i / 64] |= 1ull << (i % 64);
		r = vmem_write_all(fd, m->host + (uint64_t)i * m->block, m->block, at);
		at += m->block;
	}
	if (r) {
		log_err("memory hotplug: writing plugged memory: %s", strerror(-r));
		goto out;
	}
	m->cfg.requested = m->requested;
	m->cfg.usable = m->usable;
	m->cfg.mem_off = *off;
	*off = at;
out:
	virtio_mmio_unlock(&m->t);
	return r;
}

/* A restore: plugged blocks map the memory file privately, as RAM does. */
static int vmem_mem_restore(void *dev, int fd)
{
	struct vmem *m = dev;
	uint64_t at = m->cfg.mem_off;
	struct stat st;

	if (!m->plugged)
		return 0;
	if (fd < 0) {
		log_err("memory hotplug: plugged memory cannot be restored through UFFD");
		return -ENOTSUP;
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size < at || (uint64_t)st.st_size - at < m->plugged) {
		log_err("memory hotplug: the memory file is too short for %llu MiB of plugged "
			"memory at %#llx",
			(unsigned long long)(m->plugged >> 20), (unsigned long long)at);
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->nr_blocks; i++) {
		if (!bit(m, i))
			continue;
		if (mmap(m->host + (uint64_t)i * m->block, m->block, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)at) == MAP_FAILED) {
			log_err("memory hotplug: mapping plugged memory: %s", strerror(errno));
			return -errno;
		}
		at += m->block;
	}
	return vmem_sync_slots(m, 0, m->nr_blocks);
}

static json_t *vmem_status(void *dev)
{
	struct vmem *m = dev;
	json_t *o;

	virtio_mmio_lock(&m->t);
	o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "total_size_mib", (json_int_t)m->cfg.total_mib,
		      "slot_size_mib", (json_int_t)m->cfg.slot_mib, "block_size_mib",
		      (json_int_t)m->cfg.block_mib, "plugged_size_mib",
		      (json_int_t)(m->plugged >> 20), "requested_size_mib",
		      (json_int_t)(m->requested >> 20));
	virtio_mmio_unlock(&m->t);
	return o;
}

static json_t *vmem_metrics(const void *dev)
{
	const struct vmem_stats *s = &((const struct vmem *)dev)->st;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "plug_count", (json_int_t)s->plugs,
			 "unplug_count", (json_int_t)s->unplugs, "unplug_all_count",
			 (json_int_t)s->unplug_alls, "state_count", (json_int_t)s->states,
			 "request_fails", (json_int_t)s->fails, "bad_chains",
			 (json_int_t)s->bad_chains, "plug_bytes", (json_int_t)s->plugged_bytes);
}

static struct virtio_mmio *vmem_transport(void *dev)
{
	return &((struct vmem *)dev)->t;
}

static const void *vmem_config_of(const void *dev)
{
	return &((const struct vmem *)dev)->cfg;
}

static const struct vdev_type vmem_type = {
    .name = "mem",
    .cli_opt = "--mem-hotplug",
    .cli_help = "  --mem-hotplug SPEC  TOTAL_MIB[,slot=MIB][,block=MIB]: virtio-mem above RAM\n"
		"                      (sized with PATCH /hotplug/memory)\n",
    .max = 1,
    .config_size = sizeof(struct vmem_config),
    .parse = vmem_parse_spec,
    .id = vmem_id,
    .create = vmem_create,
    .destroy = vmem_destroy,
    .transport = vmem_transport,
    .config = vmem_config_of,
    .update = vmem_update,
    .status = vmem_status,
    .metrics = vmem_metrics,
    .metrics_key = "memory_hotplug",
    .metrics_one = true,
    .mem_save = vmem_mem_save,
    .mem_restore = vmem_mem_restore,
    .state_version = 2,
    .save = vmem_save,
    .load = vmem_load,
};
VDEV_REGISTER(vmem_type);
