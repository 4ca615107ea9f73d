/* SPDX-License-Identifier: Apache-2.0 */
/* mem.h - virtio-mem's settings (mem_config.c), shared with the device (mem.c) and the API. */
#ifndef EMBER_VMEM_H
#define EMBER_VMEM_H

#include "device.h"

/* Firecracker's defaults and lower bounds (MemoryHotplugConfig). */
#define VMEM_BLOCK_MIB_MIN 2u
#define VMEM_SLOT_MIB_MIN  128u
#define VMEM_TOTAL_MIB_MAX (1u << 20) /* 1 TiB: far beyond any host we run on */
/* A snapshot's plugged-block bitmap: 32768 blocks (64 GiB of 2 MiB blocks). */
#define VMEM_SNAP_WORDS 512u

struct vmem_config {
	char id[16]; /* "hotplug": one per VM, named for messages */
	uint32_t total_mib, slot_mib, block_mib;
	/* Where the guest has the region: 0 until created. */
	uint64_t gpa;
	/*
	 * What a snapshot keeps (state version 2), 0 otherwise: the sizes the
	 * guest was asked for, which blocks were plugged, and where in the
	 * memory file their contents are (in block order, one after another).
	 */
	uint64_t requested, usable, mem_off;
	uint64_t plugged[VMEM_SNAP_WORDS];
};

/*
 * Firecracker's rules: block a power of two >= 2 MiB, slot a multiple of the
 * block and >= 128 MiB, total a multiple of the slot.  0, or -EINVAL with a
 * message naming the field.
 */
int vmem_config_check(const struct vmem_config *c, char *err, size_t errlen);

/* The vdev_type hooks: --mem-hotplug TOTAL[,slot=MIB][,block=MIB], snapshot encoding. */
int vmem_parse_spec(const char *spec, void *cfg, char *err, size_t errlen);
const char *vmem_id(const void *cfg);
void vmem_save(const void *cfg, struct pw *w);
void vmem_load(struct pr *r, uint16_t version, void *cfg);

#endif /* EMBER_VMEM_H */
