// SPDX-License-Identifier: Apache-2.0
/*
 * Snapshot create and load: the order of the parts, the files, and the
 * rule that a failure leaves things as they were (create: VM paused and
 * usable, no partial files; load: nothing built).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap_cpu.h"
#include "snap_dev.h"
#include "snap_kvm.h"
#include "hugetlb.h"
#include "snap_mem.h"
#include "snapshot.h"
#include "uffd.h"
#include "virtio_devs.h"

/* SNAP_SEC_MACHINE payload: u32 nr_vcpus, u32 nr_regions, u64 mem_mib (persist.h). */
struct snap_machine {
	uint32_t nr_vcpus;
	uint32_t nr_regions;
	uint64_t mem_mib;
};

#define SNAP_MEM_PAGES_V1 1u

/* SNAP_SEC_MEM_REGION payload: u64 gpa, size, file_offset. */
struct snap_region {
	uint64_t gpa, size, file_offset;
};

static void machine_save(const struct snap_machine *m, struct pw *w)
{
	pw_u32(w, m->nr_vcpus);
	pw_u32(w, m->nr_regions);
	pw_u64(w, m->mem_mib);
}

static int machine_load(const void *p, size_t len, struct snap_machine *m)
{
	const char *why;
	struct pr r;

	pr_init(&r, p, len);
	m->nr_vcpus = pr_u32(&r);
	m->nr_regions = pr_u32(&r);
	m->mem_mib = pr_u64(&r);
	return pr_finish(&r, &why);
}

static void region_save(const struct snap_region *g, struct pw *w)
{
	pw_u64(w, g->gpa);
	pw_u64(w, g->size);
	pw_u64(w, g->file_offset);
}

static int region_load(const void *p, size_t len, struct snap_region *g)
{
	const char *why;
	struct pr r;

	pr_init(&r, p, len);
	g->gpa = pr_u64(&r);
	g->size = pr_u64(&r);
	g->file_offset = pr_u64(&r);
	return pr_finish(&r, &why);
}

void snap_restored_init(struct snap_restored *rs)
{
	*rs = (struct snap_restored){.src.fd = -1, .uffd = -1};
}

void snap_restored_release(struct snap_restored *rs)
{
	if (rs->src.fd >= 0)
		close(rs->src.fd);
	if (rs->uffd >= 0)
		close(rs->uffd);
	free(rs->cpu_tmpl);
	snap_restored_init(rs);
}

/* ---- create ---------------------------------------------------------------------- */

/* RAM's regions: device memory (virtio-mem) follows them in guest_mem. */
static unsigned snap_ram_regions(const struct vm *vm)
{
	return vm->mem.nr_regions - vm->devmem.nr_exposed;
}

/*
 * The pages dirtied since the last snapshot: KVM's log (read and cleared)
 * OR ember's own, which is cleared too.  @bits[i] are allocated here.
 */
int snap_collect_dirty(struct vm *vm, uint64_t *bits[GM_MAX_REGIONS])
{
	for (unsigned i = 0; i < snap_ram_regions(vm); i++) {
		struct gm_region *g = &vm->mem.region[i];
		size_t words = (g->size / 4096 + 63) / 64;
		struct kvm_dirty_log log = {.slot = i};
		int r;

		bits[i] = calloc(words, sizeof(uint64_t));
		if (!bits[i])
			return -ENOMEM;
		log.dirty_bitmap = bits[i];
		r = kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log);
		if (r < 0)
			return r;
		for (size_t w = 0; w < words; w++)
			bits[i][w] |= __atomic_exchange_n(&g->dirty[w], 0, __ATOMIC_RELAXED);
	}
	return 0;
}

/* A failed snapshot: its pages are still dirty for the next one. */
void snap_return_dirty(struct vm *vm, uint64_t *bits[GM_MAX_REGIONS])
{
	for (unsigned i = 0; i < snap_ram_regions(vm) && bits[i]; i++) {
		struct gm_region *g = &vm->mem.region[i];

		for (size_t w = 0; w < (g->size / 4096 + 63) / 64; w++)
			__atomic_fetch_or(&g->dirty[w], bits[i][w], __ATOMIC_RELAXED);
	}
}

/*
 * The files a snapshot must not be written over, by device and inode: the
 * memory file this VM (and every clone of its snapshot) maps, and every
 * file a device uses (drives).  Returns how many.
 */
static unsigned vm_files(struct vm *vm, const struct snap_restored *rs, struct file_id *ids,
			 unsigned max)
{
	unsigned n = 0;

	if (rs && rs->src.fd >= 0 && n < max)
		ids[n++] = rs->mem;
	for (unsigned i = 0; i < vm->nr_devs && n < max; i++)
		if (vm->dev[i].type->files)
			n += vm->dev[i].type->files(vm->dev[i].dev, ids + n, max - n);
	return n;
}

static int open_out(const char *path, const struct file_id *keep, unsigned n, char *err,
		    size_t errlen)
{
	const char *why;
	int fd = file_open_output(path, keep, n, &why);

	if (fd < 0)
		snprintf(err, errlen, "cannot create %s: %s", path, why);
	return fd;
}

/* What the VM is: machine, page size and memory regions (no state). */
static int shape_sections(struct vm *vm, struct snap_writer *w)
{
	struct snap_machine m = {.nr_vcpus = vm->nr_vcpus,
				 .nr_regions = snap_ram_regions(vm),
				 .mem_mib = vm->cfg->mem_mib};
	uint64_t off = 0;
	struct pw e;
	int r;

	pw_init(&e);
	machine_save(&m, &e);
	if (!e.err)
		snap_w_section(w, SNAP_SEC_MACHINE, 0, e.buf, e.len);
	/* Only a 2 MiB VM says so: 4 KiB snapshots stay what older embers read. */
	if (!e.err && vm->cfg->huge_2m) {
		e.len = 0;
		pw_u32(&e, SNAP_MEM_PAGES_V1);
		pw_u64(&e, GM_HUGE_SIZE);
		if (!e.err)
			snap_w_section(w, SNAP_SEC_MEM_PAGES, 0, e.buf, e.len);
	}
	for (unsigned i = 0; i < snap_ram_regions(vm) && !e.err; i++) {
		struct snap_region reg = {.gpa = vm->mem.region[i].gpa,
					  .size = vm->mem.region[i].size,
					  .file_offset = off};

		e.len = 0;
		region_save(&reg, &e);
		if (!e.err)
			snap_w_section(w, SNAP_SEC_MEM_REGION, i, e.buf, e.len);
		off += reg.size;
	}
	r = e.err;
	pw_free(&e);
	return r;
}

int snap_state_build(struct vm *vm, struct snap_writer *w, bool diff, char *err, size_t errlen)
{
	int r = snap_w_begin(w, diff ? SNAP_F_DIFF : 0);

	if (r || shape_sections(vm, w))
		goto nomem;
	/* Devices first: an interrupt they raise while we save lands in the irqchip we save next.
	 */
	snap_dev_save(vm, w, false);
	if (snap_cpu_save(vm->cfg, w))
		goto nomem;
	r = snap_kvm_save_vm(vm, w, err, errlen);
	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++)
		r = snap_kvm_save_vcpu(&vm->vcpus[i], w, err, errlen);
	return r;
nomem:
	snprintf(err, errlen, "out of memory building the snapshot");
	return -ENOMEM;
}

int snap_config_build(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	int r = snap_w_begin(w, 0);

	if (!r)
		r = shape_sections(vm, w);
	if (!r)
		r = snap_dev_save(vm, w, true);
	if (!r)
		r = snap_cpu_save(vm->cfg, w);
	if (r)
		snprintf(err, errlen, "out of memory building the migration's configuration");
	return r ? -ENOMEM : 0;
}

static int write_state(struct vm *vm, int fd, bool diff, char *err, size_t errlen)
{
	struct snap_writer w;
	int r = snap_state_build(vm, &w, diff, err, errlen);

	if (!r) {
		r = snap_w_finish(&w, fd);
		if (r)
			snprintf(err, errlen, "cannot write the snapshot file: %s", strerror(-r));
	}
	snap_w_free(&w);
	return r;
}

int snap_create(struct vm *vm, const struct snap_restored *rs, const struct snap_create_req *req,
		char *err, size_t errlen)
{
	struct snap_mem_job job = {.gm = &vm->mem,
				   .nr_regions = snap_ram_regions(vm),
				   .diff = req->diff,
				   .fresh_anon = !vm->cfg->mem_src};
	struct file_id keep[MAX_VIRTIO_DEVS + 1];
	unsigned nkeep = vm_files(vm, rs, keep, ARRAY_SIZE(keep));
	struct stat s1, s2;
	int sfd = -1, r;

	if (!vcpus_paused(vm)) {
		snprintf(err, errlen, "the microVM must be paused to snapshot it");
		return -EINVAL;
	}
	/* Full snapshots keep plugged memory after RAM; Diff has no log of it. */
	if (req->diff && vm->devmem.nr_exposed) {
		snprintf(err, errlen,
			 "Diff snapshots of a microVM with memory hotplug are not supported by "
			 "ember (Full snapshots are)");
		return -ENOTSUP;
	}
	if (req->diff && !vm->cfg->track_dirty_pages) {
		snprintf(err, errlen, "Diff snapshots need track_dirty_pages");
		return -EINVAL;
	}
	/* Refused outputs are left as they were: nothing is unlinked for them. */
	job.fd = open_out(req->mem_path, keep, nkeep, err, errlen);
	if (job.fd < 0)
		return job.fd;
	sfd = open_out(req->state_path, keep, nkeep, err, errlen);
	if (sfd < 0) {
		close(job.fd);
		unlink(req->mem_path);
		return sfd;
	}
	if (!fstat(job.fd, &s1) && !fstat(sfd, &s2) && s1.st_ino == s2.st_ino &&
	    s1.st_dev == s2.st_dev) {
		snprintf(err, errlen, "snapshot_path and mem_file_path are the same file");
		close(sfd);
		close(job.fd);
		unlink(req->state_path);
		return -EINVAL;
	}
	snap_dev_quiesce(vm);
	if (vm->cfg->track_dirty_pages) {
		/* Full too: it is the base the next Diff is relative to. */
		r = snap_collect_dirty(vm, job.dirty);
		if (r) {
			snprintf(err, errlen, "KVM_GET_DIRTY_LOG: %s", strerror(-r));
			goto fail;
		}
	}
	r = snap_mem_write(&job, err, errlen);
	if (!r)
		r = snap_dev_mem_save(vm, job.fd, err, errlen);
	if (!r)
		r = write_state(vm, sfd, req->diff, err, errlen);
	if (r)
		goto fail;
	close(sfd);
	close(job.fd);
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++)
		free(job.dirty[i]);
	log_info("snapshot: %s written (%s memory in %s)", req->state_path,
		 req->diff ? "diff" : "full", req->mem_path);
	return 0;

fail:
	if (vm->cfg->track_dirty_pages)
		snap_return_dirty(vm, job.dirty);
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++)
		free(job.dirty[i]);
	if (sfd >= 0) {
		close(sfd);
		unlink(req->state_path);
	}
	close(job.fd);
	unlink(req->mem_path);
	return r;
}

/* ---- load ------------------------------------------------------------------------ */

/*
 * Guest RAM's page size: the snapshot's unless the request names one.  As
 * Firecracker, 2 MiB hugetlbfs RAM cannot be the memory file mapped (a
 * regular file has no huge pages): that takes the Uffd backend.  A fork's
 * child is the exception: its parent's RAM is a hugetlbfs file.
 */
static int load_pages(const struct snap_image *img, const struct snap_load_req *req,
		      struct vm_config *cfg, char *err, size_t errlen)
{
	const char *why = "truncated";
	uint64_t len, size = GM_PAGE_SIZE;
	const void *p;
	struct pr r;

	if (!snap_find(img, SNAP_SEC_MEM_PAGES, 0, &p, &len)) {
		pr_init(&r, p, len);
		uint32_t v = pr_u32(&r);

		size = pr_u64(&r);
		if (pr_finish(&r, &why) || v != SNAP_MEM_PAGES_V1 ||
		    (size != GM_PAGE_SIZE && size != GM_HUGE_SIZE)) {
			snprintf(err, errlen,
				 "snapshot: mem-pages section of version %u, page size %llu: "
				 "not one ember reads",
				 v, (unsigned long long)size);
			return -EINVAL;
		}
	}
	cfg->huge_2m =
	    req->huge == SNAP_HUGE_2M || (req->huge == SNAP_HUGE_SNAPSHOT && size == GM_HUGE_SIZE);
	if (cfg->huge_2m && !req->uffd && !(req->img && hugetlb_is_file(req->mem_fd))) {
		snprintf(err, errlen,
			 "Load snapshot error: Cannot restore hugetlbfs backed snapshot by "
			 "mapping the memory file. Please use uffd.");
		return -EINVAL;
	}
	if (cfg->huge_2m && (cfg->mem_mib & 1)) {
		snprintf(err, errlen,
			 "The memory size (MiB) is either 0, or not a multiple of the configured "
			 "page size.");
		return -EINVAL;
	}
	return 0;
}

static int load_machine(const struct snap_image *img, const struct snap_load_req *req,
			struct vm_config *cfg, char *err, size_t errlen)
{
	const void *p;
	uint64_t len;
	struct snap_machine m;
	int r;

	if (snap_find(img, SNAP_SEC_MACHINE, 0, &p, &len) || machine_load(p, len, &m)) {
		snprintf(err, errlen, "snapshot: machine section missing or of a bad size");
		return -EINVAL;
	}
	if (!m.nr_vcpus || m.nr_vcpus > MAX_VCPUS || !m.mem_mib || m.mem_mib > CONFIG_MAX_MEM_MIB ||
	    !m.nr_regions || m.nr_regions > GM_MAX_REGIONS) {
		snprintf(err, errlen,
			 "snapshot: machine of %u vCPUs, %llu MiB, %u regions is out "
			 "of range",
			 m.nr_vcpus, (unsigned long long)m.mem_mib, m.nr_regions);
		return -EINVAL;
	}
	cfg->vcpus = m.nr_vcpus;
	cfg->mem_mib = m.mem_mib;
	r = load_pages(img, req, cfg, err, errlen);
	if (r)
		return r;
	/* Per-vCPU and per-region sections must name a vCPU or region that exists. */
	for (uint32_t i = 0; i < img->nr_sections; i++) {
		const struct snap_section *s = &img->sections[i];

		if ((s->type >= SNAP_SEC_VCPU_REGS && s->type < SNAP_SEC_DEV_MMIO &&
		     s->id >= m.nr_vcpus) ||
		    (s->type == SNAP_SEC_MEM_REGION && s->id >= m.nr_regions)) {
			snprintf(err, errlen, "snapshot: section %s names %u, out of range",
				 snap_section_name(s->type), s->id);
			return -EINVAL;
		}
	}
	return 0;
}

/* The regions vm_create() laid out must be the snapshot's, at the offsets it says. */
static int check_regions(const struct vm *vm, const struct snap_image *img, char *err,
			 size_t errlen)
{
	uint64_t off = 0;

	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gm_region *g = &vm->mem.region[i];
		struct snap_region reg;
		const void *p;
		uint64_t len;

		if (snap_find(img, SNAP_SEC_MEM_REGION, i, &p, &len) || region_load(p, len, &reg)) {
			snprintf(err, errlen, "snapshot: memory region %u missing", i);
			return -EINVAL;
		}
		if (reg.gpa != g->gpa || reg.size != g->size || reg.file_offset != off) {
			snprintf(err, errlen,
				 "snapshot: memory region %u does not match the "
				 "machine's layout",
				 i);
			return -EINVAL;
		}
		off += g->size;
	}
	if (snap_find(img, SNAP_SEC_MEM_REGION, vm->mem.nr_regions, &(const void *){0},
		      &(uint64_t){0}) == 0) {
		snprintf(err, errlen, "snapshot: more memory regions than the machine has");
		return -EINVAL;
	}
	return 0;
}

static int open_mem_file(struct snap_restored *rs, const struct snap_load_req *req, uint64_t need,
			 char *err, size_t errlen)
{
	const char *path = req->img ? "(received)" : req->mem_path, *why = "";
	struct stat st;
	int fd = req->img ? fcntl(req->mem_fd, F_DUPFD_CLOEXEC, 0)
			  : file_open_input(path, false, false, &why);

	if (req->img && fd < 0)
		fd = -errno, why = strerror(errno);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the memory file %s: %s", path, why);
		return fd;
	}
	/* From fstat, before mmap: a short file would SIGBUS the guest's first touch. */
	int r = snap_mem_check(fd, need, err, errlen);

	if (r || fstat(fd, &st)) {
		close(fd);
		return r ? r : -EIO;
	}
	rs->src.fd = fd;
	rs->mem = (struct file_id){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};
	return 0;
}

static int uffd_connect(struct vm *vm, struct snap_restored *rs, const char *sock, char *err,
			size_t errlen)
{
	struct snap_uffd_region regs[GM_MAX_REGIONS];
	uint64_t off = 0;
	int fd;

	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		regs[i] = (struct snap_uffd_region){
		    .host_addr = (uintptr_t)vm->mem.region[i].host,
		    .size = vm->mem.region[i].size,
		    .offset = off,
		    .page_size = vm->mem.region[i].hugetlb ? GM_HUGE_SIZE : GM_PAGE_SIZE};
		off += vm->mem.region[i].size;
	}
	fd = snap_uffd_handoff(sock, regs, vm->mem.nr_regions, err, errlen);
	if (fd < 0)
		return fd;
	rs->uffd = fd;
	return 0;
}

/*
 * Every restore is a copy of the VM (a clone, a fork, a migration): a new
 * VM generation ID, and the interrupt that makes the guest read it and
 * reseed its RNG.  After the interrupt controllers are back, or their
 * restore would drop the edge.  A snapshot without the section (older, or
 * of a VM without ACPI) restores as before.
 */
static int restore_vmgenid(struct vm *vm, const struct snap_image *img, char *err, size_t errlen)
{
	struct log_capture why;
	struct vmgenid g;
	const char *bad;
	const void *p;
	uint64_t len;
	int r;

	if (snap_find(img, SNAP_SEC_VMGENID, 0, &p, &len))
		return 0;
	if (vmgenid_load(p, len, &g, &bad)) {
		snprintf(err, errlen, "snapshot: VM generation ID state has %s", bad);
		return -EINVAL;
	}
	log_capture_begin(&why);
	r = vmgenid_restored(vm, &g);
	log_capture_end(&why);
	if (r)
		snprintf(err, errlen, "snapshot: %s", why.msg[0] ? why.msg : strerror(-r));
	return r;
}

/*
 * The VM as @img describes it, built and its devices attached, nothing of
 * the guest's state restored yet: the first half of a load, done ahead by
 * a migration destination (snap_load_prepare).
 */
static int build_vm(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
		    const struct snap_load_req *req, const struct snap_image *img,
		    uint64_t start_us, char *err, size_t errlen)
{
	struct log_capture why;
	unsigned nr_slots;
	int r = load_machine(img, req, cfg, err, errlen);

	if (!r)
		r = snap_cpu_load(img, cfg, &rs->cpu_tmpl, err, errlen);
	if (!r)
		r = snap_dev_config(img, req, cfg, &nr_slots, err, errlen);
	if (!r && !req->uffd)
		r = open_mem_file(rs, req, cfg->mem_mib << 20, err, errlen);
	if (r)
		return r;
	rs->src.uffd = req->uffd;
	cfg->mem_src = &rs->src;
	cfg->track_dirty_pages = req->track_dirty_pages;
	log_capture_begin(&why);
	r = vm_create(vm, cfg, start_us);
	log_capture_end(&why);
	if (r) {
		snprintf(err, errlen, "cannot create the microVM: %s",
			 why.msg[0] ? why.msg : strerror(-r));
		return r;
	}
	r = check_regions(vm, img, err, errlen);
	/* The handler must serve pages before anything below touches guest memory. */
	if (!r && req->uffd)
		r = uffd_connect(vm, rs, req->mem_path, err, errlen);
	if (r)
		goto fail;
	log_capture_begin(&why);
	r = vm_add_devices(vm);
	log_capture_end(&why);
	if (r) {
		snprintf(err, errlen, "cannot recreate the snapshot's devices: %s",
			 why.msg[0] ? why.msg : strerror(-r));
		r = -EINVAL;
	}
	if (!r && vm->nr_devs != nr_slots) {
		snprintf(err, errlen, "snapshot: %u devices restored, %u saved", vm->nr_devs,
			 nr_slots);
		r = -EINVAL;
	}
	if (!r)
		return 0;
fail:
	vm_destroy(vm);
	return r;
}

/* The second half: the guest's state from @img into the VM build_vm made. */
static int restore_state(struct vm *vm, struct snap_restored *rs, const struct snap_image *img,
			 bool clock_realtime, char *err, size_t errlen)
{
	/*
	 * Interrupt controllers and vCPUs first: restoring the devices may
	 * raise interrupts (pending ones again, vsock's TRANSPORT_RESET), and
	 * KVM_SET_IRQCHIP or KVM_SET_LAPIC after that would wipe them out.
	 */
	int r = snap_kvm_restore_vm(vm, img, err, errlen);

	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++)
		r = snap_kvm_restore_vcpu(&vm->vcpus[i], img, err, errlen);
	if (!r)
		r = snap_kvm_restore_vm_late(vm, img, clock_realtime, err, errlen);
	if (!r)
		r = snap_dev_mem_restore(vm, rs->src.fd, err, errlen);
	if (!r)
		r = snap_dev_restore(vm, img, err, errlen);
	if (!r)
		r = restore_vmgenid(vm, img, err, errlen);
	return r;
}

int snap_load_prepare(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
		      const struct snap_load_req *req, uint64_t start_us, char *err, size_t errlen)
{
	int r;

	snap_restored_init(rs);
	r = build_vm(vm, cfg, rs, req, req->img, start_us, err, errlen);
	if (r)
		snap_restored_release(rs);
	return r;
}

int snap_load_finish(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
		     const struct snap_load_req *req, const struct snap_image *img, char *err,
		     size_t errlen)
{
	int r = snap_sections_within(req->img, img);

	if (r) {
		snprintf(err, errlen, "the machine changed after its configuration was sent");
		return -ESTALE;
	}
	/* The state's own checks (section ranges), on what the VM was not built from. */
	r = load_machine(img, req, cfg, err, errlen);
	if (!r)
		r = check_regions(vm, img, err, errlen);
	if (!r)
		r = restore_state(vm, rs, img, req->clock_realtime, err, errlen);
	if (r) {
		vm_destroy(vm);
		snap_restored_release(rs);
	}
	return r;
}

int snap_load(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
	      const struct snap_load_req *req, uint64_t start_us, char *err, size_t errlen)
{
	struct snap_image img = {0};
	const struct snap_image *ip = &img;
	const char *why_open;
	int fd, r = 0;

	snap_restored_init(rs);
	if (req->img) {
		ip = req->img;
	} else {
		fd = file_open_input(req->state_path, false, false, &why_open);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open the snapshot file %s: %s",
				 req->state_path, why_open);
			return fd;
		}
		r = snap_read_fd(fd, SNAP_DEFAULT_MAX, &img, err, errlen);
		close(fd);
	}
	if (!r)
		r = build_vm(vm, cfg, rs, req, ip, start_us, err, errlen);
	if (r)
		goto out;
	r = restore_state(vm, rs, ip, req->clock_realtime, err, errlen);
	if (r)
		vm_destroy(vm);
out:
	if (r)
		snap_restored_release(rs);
	snap_image_free(&img);
	return r;
}
