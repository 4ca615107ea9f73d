/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot.h - PUT /snapshot/create and /snapshot/load (snapshot/snapshot.c).
 *
 * snapshot/ is the one module that knows both the VM (vmm/) and the devices
 * (virtio/).  Both calls run on the VMM thread.  A snapshot is two files: the
 * state file (snapfile.h: devices, then interrupt controllers and clock,
 * then vCPUs, CRC-64 over all) and the memory file (guest RAM, regions back
 * to back, sparse).  Disks are not copied: clones get their own disk files
 * by the user's hand.
 */
#ifndef EMBER_SNAPSHOT_H
#define EMBER_SNAPSHOT_H

#include <sys/types.h>

#include "config.h"
#include "snapfile.h"

struct vm;

struct snap_create_req {
	bool diff;		/* only pages dirtied since the last snapshot */
	const char *state_path; /* snapshot_path */
	const char *mem_path;	/* mem_file_path */
};

struct snap_net_override {
	const char *iface_id;
	const char *host_dev_name;
};

/* PUT /snapshot/load's huge_pages: the snapshot's page size, or one forced. */
enum snap_huge { SNAP_HUGE_SNAPSHOT, SNAP_HUGE_NONE, SNAP_HUGE_2M };

struct snap_load_req {
	const char *state_path;
	const char *mem_path; /* File: the memory file; Uffd: the handler's socket */
	bool uffd;
	bool track_dirty_pages;
	bool clock_realtime;
	const struct snap_net_override *nets; /* taps that differ between clones */
	unsigned nr_nets;
	const char *vsock_uds; /* NULL: the snapshot's uds_path */
	enum snap_huge huge;
	/* Live migration (migrate.c): the state already read and checked, and the
	 * RAM received into a memfd, instead of state_path and mem_path. */
	const struct snap_image *img;
	int mem_fd; /* >= 0 with img */
};

/* What a restored VM keeps until it is destroyed (after vm_destroy). */
struct snap_restored {
	struct vm_mem_source src;      /* cfg->mem_src points here */
	int uffd;		       /* -1 unless the Uffd backend */
	struct file_id mem;	       /* the File backend's memory file, which a later
					* snapshot must not overwrite */
	struct cpu_template *cpu_tmpl; /* the custom CPU template cfg->cpu_tmpl points to */
};

void snap_restored_init(struct snap_restored *rs);

/*
 * The state file's sections for a paused VM whose devices are quiesced,
 * into @w (begun here; the caller seals and frees it, also on failure).
 * snap_create and live migration (migrate.c) share it.
 */
struct snap_writer;
int snap_state_build(struct vm *vm, struct snap_writer *w, bool diff, char *err, size_t errlen);
/*
 * Only what the VM is (machine, memory layout, CPU template, device
 * settings), no state: a running VM's, for a migration destination to
 * build the VM ahead of the state (snap_load_prepare).
 */
int snap_config_build(struct vm *vm, struct snap_writer *w, char *err, size_t errlen);
/*
 * The pages dirtied since the last call: KVM's log of each RAM slot (read
 * and cleared) OR ember's own (gm_mark_dirty), cleared too; @bits[i]
 * calloc'ed here, one bit per 4 KiB page.  snap_return_dirty gives them
 * back to ember's log when what they were for failed.
 */
int snap_collect_dirty(struct vm *vm, uint64_t *bits[GM_MAX_REGIONS]);
void snap_return_dirty(struct vm *vm, uint64_t *bits[GM_MAX_REGIONS]);
void snap_restored_release(struct snap_restored *rs);

/*
 * With the VM paused: quiesces the devices and writes both files (fsynced).
 * On failure both are removed, the VM stays paused and usable, and @err
 * says why.  @rs: how this VM was restored, or NULL if it was booted.
 */
int snap_create(struct vm *vm, const struct snap_restored *rs, const struct snap_create_req *req,
		char *err, size_t errlen);

/*
 * Builds @vm from a snapshot.  @cfg carries the caller's settings (console,
 * log level, seccomp) and gets the snapshot's machine and devices; it and
 * @rs must outlive the VM.  Everything is validated before it is used; on
 * failure nothing is left built.  The vCPUs are ready for vm_run().
 */
int snap_load(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
	      const struct snap_load_req *req, uint64_t start_us, char *err, size_t errlen);

/*
 * snap_load in two halves, for a migration destination that builds the VM
 * while RAM still arrives: prepare builds it from @req->img, a
 * snap_config_build image (and the RAM memfd being filled: nothing touches
 * guest memory yet); finish restores the final state @img into it.  Every
 * section of the configuration must be in @img unchanged, or finish
 * returns -ESTALE and leaves the VM built (the caller destroys it and
 * loads @img whole); any other failure destroys the VM.
 */
int snap_load_prepare(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
		      const struct snap_load_req *req, uint64_t start_us, char *err, size_t errlen);
int snap_load_finish(struct vm *vm, struct vm_config *cfg, struct snap_restored *rs,
		     const struct snap_load_req *req, const struct snap_image *img, char *err,
		     size_t errlen);

#endif /* EMBER_SNAPSHOT_H */
