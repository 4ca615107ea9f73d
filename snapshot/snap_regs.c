// SPDX-License-Identifier: Apache-2.0
/*
 * Register lists in a snapshot (snap_regs.h): the encoding only; which
 * registers, and the ioctls, are snapshot/arch/aarch64/snap_kvm.c's.
 */
#include <errno.h>
#include <stdlib.h>

#include "snap_regs.h"

/* The smallest entry: id, size, one byte of value. */
#define MIN_ENTRY (8u + 4u + 1u)

uint32_t snap_reg_id_size(uint64_t id)
{
	return 1u << ((id >> 52) & 0xf);
}

void snap_regs_begin(struct pw *w, uint32_t count)
{
	pw_u32(w, SNAP_REGS_VERSION);
	pw_u32(w, count);
}

void snap_regs_put(struct pw *w, uint64_t id, const void *val, uint32_t size)
{
	pw_u64(w, id);
	pw_u32(w, size);
	pw_bytes(w, val, size);
}

int snap_regs_parse(const void *p, uint64_t len, uint32_t fixed, struct snap_reg **out,
		    uint32_t *count, const char **why)
{
	struct snap_reg *regs = NULL;
	struct pr r;
	uint32_t version, n;
	int rc;

	*out = NULL;
	*count = 0;
	pr_init(&r, p, (size_t)len);
	version = pr_u32(&r);
	n = pr_u32(&r);
	if (r.why)
		return pr_finish(&r, why);
	if (version != SNAP_REGS_VERSION) {
		*why = "register list of an unknown version";
		return -EINVAL;
	}
	/* Bounded by what the payload can hold before anything is allocated. */
	if (n > SNAP_REGS_MAX || n > (len - 8) / MIN_ENTRY) {
		*why = "register count larger than the list";
		return -EINVAL;
	}
	regs = calloc(n ? n : 1, sizeof(*regs));
	if (!regs) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n && !r.why; i++) {
		regs[i].id = pr_u64(&r);
		regs[i].size = pr_u32(&r);
		if (r.why)
			break;
		if (regs[i].size == 0 || regs[i].size > SNAP_REG_MAX_SIZE)
			pr_fail(&r, "register of a bad size");
		else if (fixed ? regs[i].size != fixed
			       : regs[i].size != snap_reg_id_size(regs[i].id))
			pr_fail(&r, "register size does not match its id");
		else if (regs[i].size > r.len - r.off)
			pr_fail(&r, "register value past the end of the list");
		else {
			regs[i].val = r.p + r.off;
			r.off += regs[i].size;
		}
	}
	rc = pr_finish(&r, why);
	if (rc) {
		free(regs);
		return rc;
	}
	*out = regs;
	*count = n;
	return 0;
}
