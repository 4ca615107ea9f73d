// SPDX-License-Identifier: Apache-2.0
/*
 * The VM Generation ID.  Linux finds it through the DSDT on x86 (_HID
 * VMGENCTR, ADDR) or the device tree on aarch64 ("microsoft,vmgenid", 6.10
 * and later), maps its 16 bytes at boot and, on its interrupt (x86: the
 * Generic Event Device's, whose _EVT does Notify(0x80); aarch64: the
 * node's own SPI), compares them with what it saw last: if they changed
 * it calls add_vmfork_randomness(), which reseeds the RNG at once.
 * So after a restore the new id must be in memory before the interrupt,
 * and the interrupt must come before the vCPUs can draw random numbers:
 * snapshot.c calls vmgenid_restored() after the interrupt controllers are
 * back and before vm_run().  The interrupt is an edge through an irqfd,
 * as the virtio devices' are.
 */
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "layout.h"
#include "vm.h"
#include "vmgenid.h"

int vmgenid_new_id(const struct guest_mem *gm, uint64_t gpa)
{
	uint8_t id[VMGENID_SIZE];
	ssize_t n = getrandom(id, sizeof(id), GRND_NONBLOCK);

	if (n != (ssize_t)sizeof(id))
		return n < 0 ? -errno : -EIO;
	return gm_write(gm, gpa, id, sizeof(id));
}

void vmgenid_save(const struct vmgenid *g, struct pw *w)
{
	pw_u16(w, VMGENID_STATE_VERSION);
	pw_u64(w, g->gpa);
	pw_u32(w, g->gsi);
}

int vmgenid_load(const void *p, size_t len, struct vmgenid *g, const char **why)
{
	struct pr r;

	*g = (struct vmgenid){.irq_fd = -1};
	pr_init(&r, p, len);
	if (pr_u16(&r) != VMGENID_STATE_VERSION)
		pr_fail(&r, "an unknown version");
	g->gpa = pr_u64(&r);
	g->gsi = pr_u32(&r);
	if (g->gsi < IRQ_VIRTIO_FIRST + MAX_VIRTIO_DEVS || g->gsi >= IOAPIC_PINS)
		pr_fail(&r, "an interrupt that is not the event device's");
	if (g->gpa > UINT64_MAX - VMGENID_SIZE)
		pr_fail(&r, "an address out of range");
	g->on = true;
	return pr_finish(&r, why);
}

static int start(struct vm *vm, const struct vmgenid *g)
{
	struct kvm_irqfd irqfd = {.gsi = g->gsi};
	int fd, r;

	if (!gm_range_ok(&vm->mem, g->gpa, VMGENID_SIZE)) {
		log_err("VM generation ID at 0x%llx: not in guest memory",
			(unsigned long long)g->gpa);
		return -EINVAL;
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		log_err("VM generation ID: eventfd: %s", strerror(errno));
		return r;
	}
	irqfd.fd = (uint32_t)fd;
	r = kvm_ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
	if (r < 0) {
		log_err("VM generation ID: KVM_IRQFD on GSI %u: %s", g->gsi, strerror(-r));
		close(fd);
		return r;
	}
	vm->genid = *g;
	vm->genid.irq_fd = fd;
	return 0;
}

int vmgenid_boot(struct vm *vm, uint64_t gpa)
{
	const struct vmgenid g = {.on = true, .gpa = gpa, .gsi = IRQ_GED};
	int r = start(vm, &g);

	if (!r) {
		r = vmgenid_new_id(&vm->mem, g.gpa);
		if (r)
			log_err("VM generation ID: %s", strerror(-r));
	}
	return r;
}

int vmgenid_restored(struct vm *vm, const struct vmgenid *saved)
{
	uint64_t one = 1;
	int r = start(vm, saved);

	if (r)
		return r;
	r = vmgenid_new_id(&vm->mem, saved->gpa);
	if (r) {
		log_err("VM generation ID: %s", strerror(-r));
		return r;
	}
	/* The GED's edge: _EVT notifies the VGEN device, Linux reads the new id. */
	if (write(vm->genid.irq_fd, &one, sizeof(one)) != sizeof(one)) {
		r = -errno;
		log_err("VM generation ID: cannot raise GSI %u: %s", saved->gsi, strerror(errno));
		return r;
	}
	log_debug("VM generation ID replaced, GSI %u raised", saved->gsi);
	return 0;
}

void vmgenid_close(struct vm *vm)
{
	if (vm->genid.irq_fd >= 0)
		close(vm->genid.irq_fd);
	vm->genid = (struct vmgenid){.irq_fd = -1};
}
