/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snap_regs.h - a list of registers as (id, size, value), the way aarch64's
 * KVM names them: KVM_GET_REG_LIST's ids for KVM_GET/SET_ONE_REG, and the
 * vGIC's device attributes.  Saving the list KVM reports, whole, rather
 * than a fixed set keeps a snapshot complete on a kernel that adds
 * registers.  Plain C with no KVM header, so the encoding is unit-tested on
 * any host.
 *
 * Encoding (little-endian):
 *   u32 version (SNAP_REGS_VERSION)
 *   u32 count
 *   count x { u64 id; u32 size; size bytes of value }
 *
 * A state file is hostile: the reader bounds the count by the payload's
 * length before allocating, and checks every size.  With SNAP_REGS_SIZE_ID
 * the size must be the one the id itself encodes (bits 52-55, as
 * KVM_REG_SIZE_*), because KVM_SET_ONE_REG reads that many bytes whatever
 * the file says; otherwise every value must be exactly the fixed size.
 */
#ifndef EMBER_SNAP_REGS_H
#define EMBER_SNAP_REGS_H

#include <stdint.h>

#include "persist.h"

#define SNAP_REGS_VERSION 1u
#define SNAP_REGS_MAX	  4096u /* KVM lists ~500 registers per vCPU */
#define SNAP_REG_MAX_SIZE 256u	/* KVM_REG_SIZE_U2048, SVE's widest */
#define SNAP_REGS_SIZE_ID 0u	/* snap_regs_parse's @fixed: the size is in the id */

struct snap_reg {
	uint64_t id;
	uint32_t size;
	const uint8_t *val; /* inside the parsed payload */
};

/* The size KVM_REG_SIZE_* in @id says, in bytes (1 to 2048 in principle). */
uint32_t snap_reg_id_size(uint64_t id);

/* Writer: the header for @count registers, then exactly @count snap_regs_put. */
void snap_regs_begin(struct pw *w, uint32_t count);
void snap_regs_put(struct pw *w, uint64_t id, const void *val, uint32_t size);

/*
 * Checks a whole payload and returns its registers in file order
 * (malloc'ed, *@out, pointing into @p; free() it).  0, or -EINVAL with
 * *@why set (-ENOMEM: *why "out of memory").
 */
int snap_regs_parse(const void *p, uint64_t len, uint32_t fixed, struct snap_reg **out,
		    uint32_t *count, const char **why);

#endif /* EMBER_SNAP_REGS_H */
