// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mmio devices on the VM.  Each transport gets a 4 KiB slot in the
 * MMIO gap and its own IOAPIC pin.  QueueNotify writes are turned into
 * eventfd signals by KVM (ioeventfd), so a kick costs the vCPU no exit to
 * userspace and the device work runs on the VMM thread; interrupts go back
 * through irqfd.  Our guests have neither ACPI nor a device tree, so each
 * device is announced with virtio_mmio.device=4K@ADDR:IRQ on the command
 * line, which needs CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES in the guest.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vm.h"

static int cmdline_add(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cmdline_add(struct vm *vm, const char *fmt, ...)
{
	size_t room = sizeof(vm->cmdline_extra) - vm->cmdline_extra_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(vm->cmdline_extra + vm->cmdline_extra_len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		vm->cmdline_extra[vm->cmdline_extra_len] = '\0';
		return -E2BIG;
	}
	vm->cmdline_extra_len += (size_t)n;
	return 0;
}

/* Places @t in the next slot: MMIO bus, irqfd, one ioeventfd per queue. */
static int attach_slot(struct vm *vm, struct virtio_mmio *t)
{
	unsigned slot = vm->nr_virtio;
	uint64_t base = LAYOUT_VIRTIO_BASE + slot * LAYOUT_VIRTIO_SLOT;
	unsigned gsi = IRQ_VIRTIO_FIRST + slot;
	struct kvm_irqfd irqfd = {.fd = (uint32_t)virtio_mmio_irq_fd(t), .gsi = gsi};
	bool bound = true;
	int r;

	if (slot >= MAX_VIRTIO_DEVS)
		return -ENOSPC;
	r = kvm_ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
	if (r < 0) {
		log_err("%s: KVM_IRQFD on GSI %u: %s", t->name, gsi, strerror(-r));
		return r;
	}
	for (unsigned q = 0; q < t->ops->num_queues; q++) {
		struct kvm_ioeventfd io = {
		    .datamatch = q,
		    .addr = base + 0x50, /* QueueNotify */
		    .len = 4,
		    .fd = virtio_mmio_notify_fd(t, q),
		    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		/* Without it the transport signals the eventfd from the MMIO exit. */
		if (kvm_ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			bound = false;
	}
	if (!bound)
		log_warn("%s: no ioeventfd, queue kicks exit to userspace", t->name);
	virtio_mmio_set_ioeventfd(t, bound);
	r = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_mmio_bus_ops, t);
	if (!r)
		r = cmdline_add(vm, " virtio_mmio.device=4K@0x%llx:%u", (unsigned long long)base,
				gsi);
	if (r)
		return r;
	vm->virtio[vm->nr_virtio++] = t;
	log_debug("%s at 0x%llx, GSI %u", t->name, (unsigned long long)base, gsi);
	return 0;
}

static int attach(struct vm *vm, struct virtio_mmio *t)
{
	int r = attach_slot(vm, t);

	if (r)
		snprintf(vm->dev_err, sizeof(vm->dev_err), "%s: cannot attach: %s", t->name,
			 strerror(-r));
	return r;
}

static int add_disk(struct vm *vm, const struct vblk_config *dc)
{
	struct vblk *b;
	int r = vblk_create(&b, dc, &vm->mem, &vm->loop);

	if (r) {
		/* vblk_create logged the details */
		snprintf(vm->dev_err, sizeof(vm->dev_err), "drive %s: %s: %s", dc->drive_id,
			 dc->path, strerror(-r));
		return r;
	}
	vm->blk[vm->nr_blk++] = b;
	r = attach(vm, vblk_transport(b));
	if (r)
		log_err("disk %s: cannot attach: %s", dc->drive_id, strerror(-r));
	return r;
}

/*
 * The root disk goes first so that it is the first virtio-mmio device the
 * guest probes, i.e. /dev/vda, whatever order the user gave.
 */
int vm_add_disks(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int r;

	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < cfg->nr_disks; i++) {
			const struct vblk_config *dc = &cfg->disks[i];

			if (dc->is_root != (pass == 0))
				continue;
			r = add_disk(vm, dc);
			if (r)
				return r;
			if (dc->is_root) {
				r = cmdline_add(vm, " root=/dev/vda %s",
						dc->read_only ? "ro" : "rw");
				if (r)
					return r;
			}
		}
	}
	return 0;
}

int vm_add_net_vsock(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int r;

	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		struct vnet *n;

		r = vnet_create(&n, &cfg->nets[i], &vm->mem, &vm->loop);
		if (r) {
			snprintf(vm->dev_err, sizeof(vm->dev_err),
				 "network interface %s: tap %s: %s", cfg->nets[i].iface_id,
				 cfg->nets[i].host_dev_name, strerror(-r));
			log_err("%s", vm->dev_err);
			return r;
		}
		vm->net[vm->nr_net++] = n;
		r = attach(vm, vnet_transport(n));
		if (r)
			return r;
	}
	if (cfg->has_vsock) {
		r = vsock_create(&vm->vsock, &cfg->vsock, &vm->mem, &vm->loop);
		if (r) {
			snprintf(vm->dev_err, sizeof(vm->dev_err), "vsock %s: %s",
				 cfg->vsock.uds_path, strerror(-r));
			log_err("%s", vm->dev_err);
			return r;
		}
		r = attach(vm, vsock_transport(vm->vsock));
		if (r)
			return r;
	}
	return 0;
}

void vm_remove_virtio(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_blk; i++)
		vblk_destroy(vm->blk[i]);
	vm->nr_blk = 0;
	for (unsigned i = 0; i < vm->nr_net; i++)
		vnet_destroy(vm->net[i]);
	vm->nr_net = 0;
	if (vm->vsock)
		vsock_destroy(vm->vsock);
	vm->vsock = NULL;
	vm->nr_virtio = 0;
}
