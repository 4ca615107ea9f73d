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
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_mmio.h>

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

/* Where the transport in @slot sits on the MMIO bus. */
static uint64_t slot_base(unsigned slot)
{
	return LAYOUT_VIRTIO_BASE + (uint64_t)slot * LAYOUT_VIRTIO_SLOT;
}

/* Queue @q of the device in @slot: KVM signals @fd on its QueueNotify write (or stops). */
static int bind_notifier(int vm_fd, unsigned slot, unsigned q, int fd, bool unbind)
{
	struct kvm_ioeventfd io = {
	    .datamatch = q,
	    .addr = slot_base(slot) + VIRTIO_MMIO_QUEUE_NOTIFY,
	    .len = 4,
	    .fd = fd,
	    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (unbind ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};

	return kvm_ioctl(vm_fd, KVM_IOEVENTFD, &io);
}

/* Unbinds (with @vm_fd >= 0) and closes the notifiers left in @n. */
static void drop_notifiers(struct vm_notifiers *n, int vm_fd)
{
	for (unsigned slot = 0; slot < MAX_VIRTIO_DEVS; slot++) {
		for (unsigned q = 0; q < n->queues[slot]; q++) {
			if (n->fd[slot][q] < 0)
				continue;
			if (vm_fd >= 0)
				(void)bind_notifier(vm_fd, slot, q, n->fd[slot][q], true);
			close(n->fd[slot][q]);
		}
		n->queues[slot] = 0;
	}
}

void vm_notifiers_close(struct vm_notifiers *n)
{
	drop_notifiers(n, -1);
}

int vm_pre_notifiers(struct vm_pre *p, unsigned nr_slots, const uint8_t *queues)
{
	struct vm_notifiers *n = &p->notify;
	int r = 0;

	if (p->vm_fd < 0 || nr_slots > MAX_VIRTIO_DEVS)
		return -EINVAL;
	for (unsigned slot = 0; !r && slot < nr_slots; slot++) {
		if (queues[slot] > VIRTIO_MMIO_MAX_QUEUES)
			r = -EINVAL;
		for (unsigned q = 0; !r && q < queues[slot]; q++) {
			int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

			if (fd < 0) {
				r = -errno;
				break;
			}
			n->fd[slot][q] = fd;
			n->queues[slot] = (uint8_t)(q + 1);
			r = bind_notifier(p->vm_fd, slot, q, fd, false);
			if (r < 0) {
				close(fd);
				n->fd[slot][q] = -1;
			}
		}
	}
	if (r < 0)
		drop_notifiers(n, p->vm_fd);
	return r < 0 ? r : 0;
}

/*
 * Queue @q of the device in @slot signals the notifier made ahead for it,
 * if there is one: true, the transport's own is closed.
 */
static bool take_notifier(struct vm *vm, struct virtio_mmio *t, unsigned slot, unsigned q)
{
	struct vm_notifiers *n = &vm->pre_notify;
	int fd = q < n->queues[slot] ? n->fd[slot][q] : -1;

	if (fd < 0)
		return false;
	n->fd[slot][q] = -1;
	if (!virtio_mmio_replace_notify_fd(t, q, fd))
		return true;
	(void)bind_notifier(vm->vm_fd, slot, q, fd, true); /* make room for the transport's */
	close(fd);
	return false;
}

/* Places @t in the next slot: MMIO bus, irqfd, one ioeventfd per queue. */
static int attach_slot(struct vm *vm, struct virtio_mmio *t)
{
	unsigned slot = vm->nr_devs;
	uint64_t base = slot_base(slot);
	unsigned gsi = IRQ_VIRTIO_FIRST + slot;
	struct kvm_irqfd irqfd = {.fd = (uint32_t)virtio_mmio_irq_fd(t), .gsi = gsi};
	unsigned ahead = 0;
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
		if (take_notifier(vm, t, slot, q))
			ahead++;
		/* Without it the transport signals the eventfd from the MMIO exit. */
		else if (bind_notifier(vm->vm_fd, slot, q, virtio_mmio_notify_fd(t, q), false) < 0)
			bound = false;
	}
	if (ahead)
		log_debug("%s: %u queue notifiers made ahead", t->name, ahead);
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
	/* Made ahead for a device this VM does not have: no guest write may reach them. */
	drop_notifiers(&vm->pre_notify, vm->vm_fd);
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
