/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmgenid.h - the VM Generation ID (Microsoft's "Virtual Machine Generation
 * ID" as Linux's drivers/virt/vmgenid.c reads it): 16 random bytes in guest
 * memory, described in the DSDT (x86's acpi.c) or the device tree (aarch64's
 * fdt.c; Linux 6.10 and later read it there), replaced whenever a snapshot
 * is restored (a clone, a fork, a migration) and announced with the Generic
 * Event Device's interrupt.  The guest mixes the new id into its RNG and
 * reseeds, so clones of one snapshot stop drawing the same random numbers.
 */
#ifndef EMBER_VMGENID_H
#define EMBER_VMGENID_H

#include "ember.h"
#include "persist.h"

#define VMGENID_SIZE 16u

struct vm;

struct vmgenid {
	bool on;      /* the guest was given one (ACPI tables, device tree) */
	uint64_t gpa; /* where its bytes are */
	uint32_t gsi; /* the GED's interrupt */
	int irq_fd;   /* eventfd bound to @gsi with KVM_IRQFD; -1 */
};

/* A fresh id (getrandom) at @gpa. */
int vmgenid_new_id(const struct guest_mem *gm, uint64_t gpa);

/*
 * Snapshot encoding (SNAP_SEC_VMGENID), little-endian:
 *   u16 version (1), u64 gpa, u32 gsi
 * The id itself is in the memory file; a restore replaces it anyway.
 */
#define VMGENID_STATE_VERSION 1
void vmgenid_save(const struct vmgenid *g, struct pw *w);
/* Decodes and range-checks (the GSI must be the GED's kind: above virtio's). */
int vmgenid_load(const void *p, size_t len, struct vmgenid *g, const char **why);

/*
 * On the VM (KVM): boot gives the guest an id at @gpa (where the arch's
 * ACPI tables or device tree say it is); a restore replaces it and tells
 * the guest.
 */
int vmgenid_boot(struct vm *vm, uint64_t gpa);
int vmgenid_restored(struct vm *vm, const struct vmgenid *saved);
void vmgenid_close(struct vm *vm);

#endif /* EMBER_VMGENID_H */
