// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mem's settings (struct vmem_config): Firecracker's size rules, the
 * CLI's --mem-hotplug SPEC, and the encoding in a snapshot.
 */
#include <stdio.h>
#include <string.h>

#include "mem.h"

int vmem_config_check(const struct vmem_config *c, char *err, size_t errlen)
{
	if (c->block_mib < VMEM_BLOCK_MIB_MIN || (c->block_mib & (c->block_mib - 1))) {
		snprintf(err, errlen,
			 "block_size_mib must be a power of two of at least %u, not %u",
			 VMEM_BLOCK_MIB_MIN, c->block_mib);
		return -EINVAL;
	}
	if (c->slot_mib < VMEM_SLOT_MIB_MIN || c->slot_mib % c->block_mib) {
		snprintf(err, errlen,
			 "slot_size_mib must be a multiple of block_size_mib (%u) of at least %u, "
			 "not %u",
			 c->block_mib, VMEM_SLOT_MIB_MIN, c->slot_mib);
		return -EINVAL;
	}
	if (c->total_mib < c->slot_mib || c->total_mib % c->slot_mib ||
	    c->total_mib > VMEM_TOTAL_MIB_MAX) {
		snprintf(err, errlen,
			 "total_size_mib must be a multiple of slot_size_mib (%u) up to %u, not %u",
			 c->slot_mib, VMEM_TOTAL_MIB_MAX, c->total_mib);
		return -EINVAL;
	}
	return 0;
}

static int vmem_num(const char *s, size_t n, uint32_t *out)
{
	char buf[16];
	uint64_t v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (str_to_u64(buf, UINT32_MAX, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* TOTAL_MIB[,slot=MIB][,block=MIB] */
int vmem_parse_spec(const char *spec, void *cfg, char *err, size_t errlen)
{
	struct vmem_config *c = cfg;
	const char *p = spec ? strchr(spec, ',') : NULL;

	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "hotplug");
	c->slot_mib = VMEM_SLOT_MIB_MIN;
	c->block_mib = VMEM_BLOCK_MIB_MIN;
	if (!spec || vmem_num(spec, p ? (size_t)(p - spec) : strlen(spec), &c->total_mib)) {
		snprintf(err, errlen, "TOTAL_MIB[,slot=MIB][,block=MIB]");
		return -EINVAL;
	}
	while (p) {
		const char *opt = p + 1;
		size_t n;
		uint32_t *dst = !strncmp(opt, "slot=", 5)    ? &c->slot_mib
				: !strncmp(opt, "block=", 6) ? &c->block_mib
							     : NULL;

		p = strchr(opt, ',');
		n = p ? (size_t)(p - opt) : strlen(opt);
		if (!dst ||
		    vmem_num(strchr(opt, '=') + 1, n - (size_t)(strchr(opt, '=') + 1 - opt), dst)) {
			snprintf(err, errlen, "unknown or bad option '%.*s' (slot=MIB, block=MIB)",
				 (int)n, opt);
			return -EINVAL;
		}
	}
	return vmem_config_check(c, err, errlen);
}

const char *vmem_id(const void *cfg)
{
	return ((const struct vmem_config *)cfg)->id;
}

/*
 * State version 1: id (string), total, slot, block (u32 MiB), gpa (u64).
 * Version 2 adds requested, usable (u64 bytes), mem_off (u64: the plugged
 * blocks' place in the memory file), u32 n and n u64 words of the plugged
 * bitmap (one bit per block, n covers the region's blocks exactly).
 */
void vmem_save(const void *cfg, struct pw *w)
{
	const struct vmem_config *c = cfg;
	uint32_t n = (uint32_t)((MiB(c->total_mib) / MiB(c->block_mib) + 63) / 64);

	pw_str(w, c->id);
	pw_u32(w, c->total_mib);
	pw_u32(w, c->slot_mib);
	pw_u32(w, c->block_mib);
	pw_u64(w, c->gpa);
	pw_u64(w, c->requested);
	pw_u64(w, c->usable);
	pw_u64(w, c->mem_off);
	if (n > VMEM_SNAP_WORDS)
		n = 0; /* mem_save refused such a snapshot; nothing plugged to keep */
	pw_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		pw_u64(w, c->plugged[i]);
}

/* Version 2's runtime state: every size and bit inside the region. */
static void vmem_load_state(struct pr *r, struct vmem_config *c)
{
	uint64_t size = MiB(c->total_mib), block = MiB(c->block_mib), nr = size / block, cnt = 0;
	uint32_t n;

	c->requested = pr_u64(r);
	c->usable = pr_u64(r);
	c->mem_off = pr_u64(r);
	n = pr_u32(r);
	if (r->why)
		return;
	if (n && (n != (nr + 63) / 64 || n > VMEM_SNAP_WORDS)) {
		pr_fail(r, "a memory hotplug bitmap of the wrong size");
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		c->plugged[i] = pr_u64(r);
	if (r->why)
		return;
	for (uint64_t b = 0; b < (uint64_t)n * 64; b++) {
		if (!(c->plugged[b / 64] >> (b % 64) & 1))
			continue;
		if (b >= nr || (b + 1) * block > c->usable) {
			pr_fail(r, "a plugged memory hotplug block outside the usable region");
			return;
		}
		cnt++;
	}
	if (c->requested > size || c->requested % block || c->usable > size ||
	    c->usable % MiB(c->slot_mib))
		pr_fail(r, "memory hotplug sizes out of range");
	else if (c->mem_off % 4096 || c->mem_off > UINT64_MAX / 2 - cnt * block)
		pr_fail(r, "a memory hotplug file offset out of range");
}

void vmem_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vmem_config *c = cfg;
	char why[160];

	pr_str(r, c->id, sizeof(c->id));
	c->total_mib = pr_u32(r);
	c->slot_mib = pr_u32(r);
	c->block_mib = pr_u32(r);
	c->gpa = pr_u64(r);
	if (r->why)
		return;
	if (!c->id[0])
		pr_fail(r, "an empty id");
	else if (vmem_config_check(c, why, sizeof(why)))
		pr_fail(r, "memory hotplug sizes out of range");
	else if (c->gpa % MiB(VMEM_SLOT_MIB_MIN))
		pr_fail(r, "a misaligned memory hotplug region");
	else if (version >= 2)
		vmem_load_state(r, c);
}
