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
/* The live device of @type with @id, or NULL. */
struct vm_dev *vm_find_device(struct vm *vm, const struct vdev_type *type, const char *id);

#endif /* EMBER_VIRTIO_DEVS_H */
