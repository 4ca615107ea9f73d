/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snap_mem.h - guest RAM in and out of snapshot memory files
 * (snapshot/snap_mem.c).  No KVM here: the caller gathers the dirty pages.
 */
#ifndef EMBER_SNAP_MEM_H
#define EMBER_SNAP_MEM_H

#include "ember.h"

struct snap_mem_job {
	const struct guest_mem *gm;
	unsigned nr_regions; /* gm's first ones: RAM's (device memory is saved by its device) */
	int fd;		     /* the memory file, open for writing, empty */
	bool diff;	     /* write only the pages set in dirty[] */
	bool fresh_anon;     /* RAM is a booted VM's anonymous memory (lets Full skip holes) */
	/* Diff: one bit per 4 KiB page of each region, the union of KVM's and ember's logs. */
	uint64_t *dirty[GM_MAX_REGIONS];
};

/*
 * Sizes the file to guest RAM (sparse), writes the pages the job selects at
 * their offsets (region i after regions 0..i-1) and fsyncs.  0 or -errno
 * (-ENOSPC, -EFBIG with RLIMIT_FSIZE...) with a message; the caller removes
 * the partial file.
 */
int snap_mem_write(const struct snap_mem_job *job, char *err, size_t errlen);

/*
 * `ember rebase-mem BASE DIFF`: copies every data extent of the Diff memory
 * file over the same range of its base, which then holds the newer memory.
 */
int snap_mem_rebase(const char *base_path, const char *diff_path, char *err, size_t errlen);

#endif /* EMBER_SNAP_MEM_H */
