/* SPDX-License-Identifier: Apache-2.0 */
/* snap_dev.h - devices in and out of a snapshot (snapshot/snap_dev.c). */
#ifndef EMBER_SNAP_DEV_H
#define EMBER_SNAP_DEV_H

#include "snapfile.h"
#include "snapshot.h"
#include "vm.h"

/*
 * Requests in flight finish now: their data belongs in the memory file and
 * their completions in the used rings.  Before either is written.
 */
void snap_dev_quiesce(struct vm *vm);
/*
 * Each slot's settings and transport state, then the UART and the i8042;
 * with @settings_only the settings alone (safe while the vCPUs run: the
 * API, the only one that changes them, waits while a migration runs).
 */
int snap_dev_save(struct vm *vm, struct snap_writer *w, bool settings_only);
/*
 * Full snapshots: device memory (virtio-mem's plugged blocks) into the
 * memory file after RAM, and back after the devices are recreated (fd -1:
 * UFFD, refused if there is any).  0, or -errno with a message.
 */
int snap_dev_mem_save(struct vm *vm, int fd, char *err, size_t errlen);
int snap_dev_mem_restore(struct vm *vm, int fd, char *err, size_t errlen);
/*
 * The devices' settings into @cfg (drives, nets, vsock, in slot order),
 * with @req's overrides applied; *@nr_slots = how many virtio devices.
 */
int snap_dev_config(const struct snap_image *img, const struct snap_load_req *req,
		    struct vm_config *cfg, unsigned *nr_slots, char *err, size_t errlen);
/* After the devices are rebuilt from that config: their saved state. */
int snap_dev_restore(struct vm *vm, const struct snap_image *img, char *err, size_t errlen);

#endif /* EMBER_SNAP_DEV_H */
