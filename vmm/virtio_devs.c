// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mmio devices on the VM.  Each transport gets a 4 KiB slot in the
 * MMIO gap and its own IOAPIC pin.  QueueNotify writes are turned into
 * eventfd signals by KVM (ioeventfd), so a kick costs the vCPU no exit to
 * userspace and the device work runs on the VMM thread; interrupts go back
 * through irqfd.  The DSDT (vmm/acpi.c) describes each device; for kernels
 * without ACPI each is also announced with virtio_mmio.device=4K@ADDR:IRQ
 * on the command line (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES), unless
 * --no-device-hints.  A kernel with both probes each device twice: the
 * ACPI one first (its platform devices exist before the hints are parsed),
 * and the hint's probe then fails on the busy MMIO region, harmlessly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "virtio_devs.h"

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
	unsigned slot = vm->nr_devs;
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
	/* The DSDT lists the device too (vm_load); a kernel with ACPI needs no hint. */
	if (!r && ARCH_CMDLINE_DEVICE_HINTS && !vm->cfg->no_device_hints)
		r = cmdline_add(vm, " virtio_mmio.device=4K@0x%llx:%u", (unsigned long long)base,
				gsi);
	if (r)
		return r;
	vm->dev[slot].base = base;
	vm->dev[slot].gsi = gsi;
	log_debug("%s at 0x%llx, GSI %u", t->name, (unsigned long long)base, gsi);
	return 0;
}

static int add_device(struct vm *vm, const struct vdev_config *c)
{
	const struct vdev_type *type = c->type;
	const struct vdev_env env = {.gm = &vm->mem,
				     .loop = &vm->loop,
				     .mmds = vm->cfg->mmds,
				     .mem = &devmem_ops,
				     .vmm = &vm->devmem};
	struct vm_dev *d = &vm->dev[vm->nr_devs];
	char buf[VDEV_CMDLINE_MAX];
	const char *extra;
	void *dev;
	int r;

	if (vm->nr_devs >= MAX_VIRTIO_DEVS) {
		log_err("more than %u virtio devices", MAX_VIRTIO_DEVS);
		return -ENOSPC;
	}
	r = type->create(&dev, c->data, &env);
	if (r) {
		/* The device logged what is wrong with it; this names which one. */
		log_err("%s %s: cannot be created: %s", type->name, type->id(c->data),
			strerror(-r));
		return r;
	}
	*d = (struct vm_dev){.type = type, .dev = dev, .t = type->transport(dev)};
	r = attach_slot(vm, d->t); /* sets d->base, d->gsi */
	if (r) {
		log_err("%s %s: cannot attach: %s", type->name, type->id(c->data), strerror(-r));
		type->destroy(dev);
		return r;
	}
	vm->nr_devs++;
	extra = type->cmdline ? type->cmdline(c->data, buf, sizeof(buf)) : NULL;
	return extra ? cmdline_add(vm, "%s", extra) : 0;
}

int vm_add_devices(struct vm *vm)
{
	const struct vdev_configs *l = &vm->cfg->devs;
	unsigned order[VDEV_MAX], n = vdev_configs_order(l, order);

	for (unsigned i = 0; i < n; i++) {
		int r = add_device(vm, &l->dev[order[i]]);

		if (r)
			return r;
	}
	return 0;
}

struct vm_dev *vm_find_device(struct vm *vm, const struct vdev_type *type, const char *id)
{
	for (unsigned i = 0; i < vm->nr_devs; i++) {
		struct vm_dev *d = &vm->dev[i];

		if (d->type == type && !strcmp(type->id(type->config(d->dev)), id))
			return d;
	}
	return NULL;
}

void vm_remove_devices(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devs; i++)
		vm->dev[i].type->destroy(vm->dev[i].dev);
	vm->nr_devs = 0;
}
