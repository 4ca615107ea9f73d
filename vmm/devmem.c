// SPDX-License-Identifier: Apache-2.0
/*
 * Device memory above RAM (devmem.h): reservations and KVM slots made on a
 * device's behalf, so virtio/ never needs KVM.  Reservations last as long as
 * the VM: devices are created once per VM (boot or restore) and go with it.
 */
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "device.h"
#include "devmem.h"
#include "vm.h"

uint64_t devmem_base(uint64_t mem_size)
{
	uint64_t top = arch_ram_end(mem_size);

	return (top + DEVMEM_BASE_ALIGN - 1) & ~(DEVMEM_BASE_ALIGN - 1);
}

static bool overlaps(const struct devmem *d, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < d->nr_res; i++)
		if (gpa < d->res[i].gpa + d->res[i].size && d->res[i].gpa < gpa + size)
			return true;
	return false;
}

int devmem_reserve(struct devmem *d, uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t at;

	if (!size || !align || (align & (align - 1)) || (size & 4095)) {
		log_err("device memory: bad size %#llx or alignment %#llx",
			(unsigned long long)size, (unsigned long long)align);
		return -EINVAL;
	}
	if (d->nr_res >= DEVMEM_MAX_RES) {
		log_err("device memory: more than %u devices with memory", DEVMEM_MAX_RES);
		return -ENOSPC;
	}
	at = *gpa ? *gpa : (d->next + align - 1) & ~(align - 1);
	/* Every sum below is checked against the limit first, so none wraps. */
	if (at < d->base || (at & (align - 1)) || at > d->limit || size > d->limit - at) {
		log_err("device memory: %llu MiB at %#llx does not fit the guest's physical "
			"address space above RAM [%#llx, %#llx)",
			(unsigned long long)(size >> 20), (unsigned long long)at,
			(unsigned long long)d->base, (unsigned long long)d->limit);
		return -ENOSPC;
	}
	if (overlaps(d, at, size)) {
		log_err("device memory: %#llx+%#llx overlaps another device's",
			(unsigned long long)at, (unsigned long long)size);
		return -EEXIST;
	}
	d->res[d->nr_res].gpa = at;
	d->res[d->nr_res++].size = size;
	if (at + size > d->next)
		d->next = at + size;
	*gpa = at;
	return 0;
}

static bool inside_reservation(const struct devmem *d, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < d->nr_res; i++)
		if (gpa >= d->res[i].gpa && size <= d->res[i].size &&
		    gpa - d->res[i].gpa <= d->res[i].size - size)
			return true;
	return false;
}

static int devmem_op_reserve(void *vmm, uint64_t size, uint64_t align, uint64_t *gpa)
{
	return devmem_reserve(vmm, size, align, gpa);
}

static int devmem_op_map(void *vmm, uint64_t gpa, void *host, uint64_t size, bool read_only)
{
	struct devmem *d = vmm;
	struct kvm_userspace_memory_region kr = {
	    .flags = read_only ? KVM_MEM_READONLY : 0,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uintptr_t)host,
	};
	unsigned i;
	int r;

	if (!size || !inside_reservation(d, gpa, size) || ((uintptr_t)host & 4095)) {
		log_err("device memory: %#llx+%#llx is not the device's to map",
			(unsigned long long)gpa, (unsigned long long)size);
		return -EINVAL;
	}
	if (read_only && !d->readonly_ok) {
		log_err("device memory: this KVM has no read-only slots (KVM_CAP_READONLY_MEM)");
		return -ENOTSUP;
	}
	for (i = 0; i < d->nr_slots && (d->slot_used[i / 64] >> (i % 64) & 1); i++)
		;
	if (i == d->nr_slots) {
		log_err("device memory: all %u KVM slots for devices are in use", d->nr_slots);
		return -ENOSPC;
	}
	kr.slot = DEVMEM_SLOT_FIRST + i;
	r = kvm_ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr);
	if (r < 0) {
		log_err("device memory: KVM slot %u at %#llx: %s", kr.slot, (unsigned long long)gpa,
			strerror(-r));
		return r;
	}
	d->slot_used[i / 64] |= 1ull << (i % 64);
	return (int)i;
}

static void devmem_op_unmap(void *vmm, int slot)
{
	struct devmem *d = vmm;
	struct kvm_userspace_memory_region kr = {.slot = DEVMEM_SLOT_FIRST + (unsigned)slot};
	int r;

	if (slot < 0 || (unsigned)slot >= d->nr_slots ||
	    !(d->slot_used[slot / 64] >> (slot % 64) & 1))
		return;
	/* A slot of size 0 is KVM's way of deleting it. */
	r = kvm_ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr);
	if (r < 0)
		log_err("device memory: deleting KVM slot %u: %s", kr.slot, strerror(-r));
	d->slot_used[slot / 64] &= ~(1ull << (slot % 64));
}

/*
 * A snapshot saves guest_mem's regions as RAM; it refuses a VM with exposed
 * device memory (snapshot.c), so these never end up in a memory file.
 */
static int devmem_op_expose(void *vmm, uint64_t gpa, void *host, uint64_t size)
{
	struct devmem *d = vmm;
	struct guest_mem *gm = d->gm;

	if (!inside_reservation(d, gpa, size) || gm->nr_regions >= GM_MAX_REGIONS) {
		log_err("device memory: cannot let devices use %#llx+%#llx (%u memory regions)",
			(unsigned long long)gpa, (unsigned long long)size, gm->nr_regions);
		return -ENOSPC;
	}
	gm->region[gm->nr_regions++] = (struct gm_region){.gpa = gpa, .size = size, .host = host};
	d->nr_exposed++;
	return 0;
}

static void devmem_op_hide(void *vmm, uint64_t gpa)
{
	struct devmem *d = vmm;
	struct guest_mem *gm = d->gm;

	for (unsigned i = gm->nr_regions; i-- > gm->nr_regions - d->nr_exposed;) {
		if (gm->region[i].gpa != gpa)
			continue;
		memmove(&gm->region[i], &gm->region[i + 1],
			(gm->nr_regions - i - 1) * sizeof(gm->region[0]));
		gm->nr_regions--;
		d->nr_exposed--;
		return;
	}
}

const struct vdev_mem_ops devmem_ops = {
    .reserve = devmem_op_reserve,
    .map = devmem_op_map,
    .unmap = devmem_op_unmap,
    .expose = devmem_op_expose,
    .hide = devmem_op_hide,
};

int devmem_init(struct devmem *d, struct guest_mem *gm, int kvm_fd, int vm_fd, uint64_t mem_size,
		unsigned phys_bits)
{
	int n = kvm_ioctl(vm_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_NR_MEMSLOTS);

	memset(d, 0, sizeof(*d));
	d->gm = gm;
	d->vm_fd = vm_fd;
	d->base = d->next = devmem_base(mem_size);
	d->limit = phys_bits >= 36 && phys_bits < 64 ? 1ull << phys_bits : 1ull << 36;
	d->readonly_ok =
	    kvm_ioctl(kvm_fd, KVM_CHECK_EXTENSION, (void *)(long)KVM_CAP_READONLY_MEM) > 0;
	/* KVM's count includes RAM's slots; 32 when it does not say (the old minimum). */
	if (n <= 0)
		n = 32;
	n -= DEVMEM_SLOT_FIRST;
	d->nr_slots = n <= 0 ? 0 : (unsigned)n < DEVMEM_MAX_SLOTS ? (unsigned)n : DEVMEM_MAX_SLOTS;
	return 0;
}
