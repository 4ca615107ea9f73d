/* SPDX-License-Identifier: Apache-2.0 */
/* virtio_devs.h - the VM's virtio devices: the registry's types on MMIO slots. */
#ifndef EMBER_VIRTIO_DEVS_H
#define EMBER_VIRTIO_DEVS_H

#include "vm.h"

/*
 * Creates and attaches the configured devices (after vm_create, before
 * vm_load, which puts them on the command line), the root disk first.
 * Failures are mostly the user's (a missing image or tap): logged, -errno.
 */
int vm_add_devices(struct vm *vm);
void vm_remove_devices(struct vm *vm);
/*
 * A pooled fork child's notifiers for its parent's devices, made while it
 * waits (fork_child.c): for the first @queues[slot] queues of each of
 * @nr_slots slots, an eventfd bound to its QueueNotify.  attach_slot
 * gives them to the devices that come to those slots; vm_add_devices
 * unbinds the rest.  0, or -errno with none made.
 */
int vm_pre_notifiers(struct vm_pre *p, unsigned nr_slots, const uint8_t *queues);
/* Closes what is left in @n (the VM is going away: no unbinding). */
void vm_notifiers_close(struct vm_notifiers *n);
/* The live device of @type with @id, or NULL. */
struct vm_dev *vm_find_device(struct vm *vm, const struct vdev_type *type, const char *id);

#endif /* EMBER_VIRTIO_DEVS_H */
