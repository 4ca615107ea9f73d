/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devmem.h - guest-physical memory that devices bring (virtio-pmem's file,
 * virtio-mem's blocks): where it goes and its KVM slots.  The VMM's side of
 * struct vdev_mem_ops (virtio/device.h).
 *
 * Layout: device memory starts at the first 1 GiB boundary at or above both
 * 4 GiB and the end of RAM, and each reservation follows the previous one,
 * aligned as its device asks.  It depends only on the RAM size and the
 * order of the devices, which a restore repeats, so a snapshot's devices
 * find their memory where the guest left it.  The guest's e820 and PVH
 * memory maps list RAM only (boot.c e820_build), never these ranges.
 *
 * KVM slots: RAM has slots [0, GM_MAX_REGIONS); device slots are numbered
 * from DEVMEM_SLOT_FIRST up to what KVM offers (KVM_CAP_NR_MEMSLOTS).
 */
#ifndef EMBER_DEVMEM_H
#define EMBER_DEVMEM_H

#include "ember.h"

#define DEVMEM_SLOT_FIRST GM_MAX_REGIONS
#define DEVMEM_MAX_SLOTS  512u /* device slots (virtio-mem: one per plugged slot) */
#define DEVMEM_MAX_RES	  16u  /* reservations: one per device */
#define DEVMEM_BASE_ALIGN GiB(1)

struct devmem {
	uint64_t base, next; /* [base, next): reserved so far */
	uint64_t limit;	     /* first address past the guest's physical address width */
	struct {
		uint64_t gpa, size;
	} res[DEVMEM_MAX_RES];
	unsigned nr_res;
	unsigned nr_slots; /* device slots KVM has room for, <= DEVMEM_MAX_SLOTS */
	uint64_t slot_used[DEVMEM_MAX_SLOTS / 64];
	int vm_fd;
	bool readonly_ok; /* KVM_CAP_READONLY_MEM */
	/* expose(): device ranges appended to the VM's guest_mem after RAM's. */
	struct guest_mem *gm;
	unsigned nr_exposed;
};

/* Where device memory starts for a guest with @mem_size bytes of RAM. */
uint64_t devmem_base(uint64_t mem_size);

/*
 * The placement rules alone (no KVM): reserves [*gpa, +size) as
 * vdev_mem_ops.reserve describes.  0, or -errno with a message logged.
 */
int devmem_reserve(struct devmem *d, uint64_t size, uint64_t align, uint64_t *gpa);

/*
 * At vm_create, once KVM and the guest's CPUID (@phys_bits, its physical
 * address width) are known.
 */
int devmem_init(struct devmem *d, struct guest_mem *gm, int kvm_fd, int vm_fd, uint64_t mem_size,
		unsigned phys_bits);

/* The ops a device gets in its struct vdev_env; their opaque is a struct devmem. */
struct vdev_mem_ops;
extern const struct vdev_mem_ops devmem_ops;

#endif /* EMBER_DEVMEM_H */
