/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device.h - the virtio device model: a device type is one descriptor, and
 * a device module registers it with one line, VDEV_REGISTER(type).
 *
 * Everything outside virtio/ deals with devices only through this header:
 * the CLI finds a type by its option, the VM creates, attaches, quiesces and
 * destroys instances, snapshots save and restore them, metrics read them, all
 * by looping over the registry and the VM's list of {type, instance}.
 *
 * A device's settings are one plain struct of the device's own (its
 * "config"), at most VDEV_CONFIG_MAX bytes.  It is filled by the CLI
 * (parse), the API and the config file, and on a restore by load().  In a
 * snapshot it travels in the device's own little-endian encoding (save, load,
 * state_version), never as the raw struct.
 */
#ifndef EMBER_DEVICE_H
#define EMBER_DEVICE_H

#include <jansson.h>

#include "ember.h"
#include "evloop.h"
#include "persist.h"
#include "virtio_mmio.h"

/* The per-VM device budget: MMIO slots and interrupt lines (vmm/layout.h). */
#define VDEV_MAX	 16u
#define VDEV_CONFIG_MAX	 4352u
#define VDEV_CMDLINE_MAX 128u /* one device's cmdline() */

/* What a device needs from the VM, and all it gets. */
struct limiter_cfg;
struct mmds;
struct mmds_net;

/*
 * Guest-physical memory a device brings with it (virtio-pmem's file,
 * virtio-mem's blocks) lives above RAM, in KVM memory slots that only the
 * VMM can make: these are the VMM's (vmm/devmem.c), so devices need no KVM.
 * The ranges are never RAM in the guest's e820 or PVH map; the device tells
 * the guest where they are (its config space).
 */
struct vdev_mem_ops {
	/*
	 * Claims @size bytes of guest-physical space aligned to @align (a
	 * power of two) for the device, for the VM's lifetime.  *gpa 0: the
	 * VMM places it, deterministically (the same devices in the same
	 * order get the same addresses, so a restore gets the snapshot's
	 * layout); else exactly there (a restore), if it is free and aligned.
	 * 0, or -errno logged.
	 */
	int (*reserve)(void *vmm, uint64_t size, uint64_t align, uint64_t *gpa);
	/*
	 * Maps the host range [host, host+size) at @gpa (inside a reservation)
	 * as one KVM slot, read-only for the guest if asked.  Returns the slot
	 * (>= 0) for unmap, or -errno logged.
	 */
	int (*map)(void *vmm, uint64_t gpa, void *host, uint64_t size, bool read_only);
	/* The guest no longer sees the slot's memory (the host mapping stays). */
	void (*unmap)(void *vmm, int slot);
	/*
	 * Memory the guest may hand to devices (virtio-mem's blocks become
	 * guest RAM): [gpa, gpa+size) at @host joins the gm_* ranges every
	 * device checks its buffers against, until hide().  Only while the
	 * vCPUs do not run (create, destroy).  0, or -errno logged.
	 */
	int (*expose)(void *vmm, uint64_t gpa, void *host, uint64_t size);
	void (*hide)(void *vmm, uint64_t gpa);
};

struct vdev_env {
	const struct guest_mem *gm;
	struct evloop *loop;
	struct mmds *mmds;		/* the metadata store (api-socket/mmds_store.h), or NULL */
	const struct vdev_mem_ops *mem; /* NULL: the device cannot have memory */
	void *vmm;			/* mem's first argument */
};

struct vdev_type {
	const char *name;     /* "block": messages, snapshot sections, metrics */
	const char *cli_opt;  /* "--disk", or NULL */
	bool cli_flag;	      /* the option takes no value (parse gets NULL) */
	const char *cli_help; /* its usage lines */
	unsigned max;	      /* instances per VM */
	size_t config_size;   /* <= VDEV_CONFIG_MAX */

	/* ---- settings ---- */
	/* The CLI's SPEC into a zeroed config; -EINVAL with a message. */
	int (*parse)(const char *spec, void *cfg, char *err, size_t errlen);
	/* Its id among devices of its type (drive_id, iface_id, ...): unique. */
	const char *(*id)(const void *cfg);
	/* Optional: after the id is known (n-th of its type), e.g. defaults. */
	void (*complete)(void *cfg, unsigned nth);
	/* Optional: rules across all instances of the type (one root disk). */
	int (*check_set)(const void *const cfgs[], unsigned n, char *err, size_t errlen);
	/* Optional: the root device, attached before the others (/dev/vda, /dev/pmem0);
	 * one per VM across all types. */
	bool (*first)(const void *cfg);
	/*
	 * Optional: what it adds to the guest's command line (" root=/dev/vda
	 * rw"), a constant or formatted into @buf (VDEV_CMDLINE_MAX bytes).
	 */
	const char *(*cmdline)(const void *cfg, char *buf, size_t len);
	/*
	 * Optional: the rate limiter @which ("" for a device's only one, "rx"
	 * or "tx") inside its settings, or NULL: how the API sets and shows it.
	 */
	struct limiter_cfg *(*limiter)(void *cfg, const char *which);
	/* Optional: a live device's limiter @which gets new settings (PATCH); 0 or -errno. */
	int (*set_limiter)(void *dev, const char *which, const struct limiter_cfg *c);

	/*
	 * Optional: opens what the settings name on the host (a drive's image,
	 * a tap) as create() would, and closes it again; 0 or -errno, logged.
	 * The API refuses a PUT with it, as Firecracker does, rather than fail
	 * InstanceStart.
	 */
	int (*probe)(const void *cfg);

	/* ---- an instance ---- */
	/* 0 or -errno, with an error logged naming the device and what is wrong. */
	int (*create)(void **dev, const void *cfg, const struct vdev_env *env);
	void (*destroy)(void *dev);
	struct virtio_mmio *(*transport)(void *dev);
	/* The settings in force (a PATCH may have changed them since create). */
	const void *(*config)(const void *dev);
	/* Optional: snapshots: requests in flight finish and are returned. */
	void (*quiesce)(void *dev);
	/* Optional: after a restore put the saved transport state back. */
	void (*restored)(void *dev);
	/*
	 * Optional: device memory a Full snapshot keeps (virtio-mem's plugged
	 * blocks).  mem_save writes it into the memory file @fd at *off (after
	 * RAM), records where in the state save() encodes next and advances
	 * *off; mem_restore maps it back from @fd (-1: no file, UFFD) after
	 * create().  0, or -errno with a message.
	 */
	int (*mem_save)(void *dev, int fd, uint64_t *off);
	int (*mem_restore)(void *dev, int fd);
	/* Optional: the host files it reads and writes (a drive's image), so a
	 * snapshot is never written over one; how many went into @ids. */
	unsigned (*files)(void *dev, struct file_id *ids, unsigned max);
	/* Optional: the MMDS stack it serves (struct mmds_net), or NULL: "mmds" metrics. */
	const struct mmds_net *(*mmds)(const void *dev);
	/* Optional: a field changed on a live device (PATCH); 0 or -errno, logged. */
	int (*update)(void *dev, const char *field, const char *value);
	/* Optional: the live state the API shows (GET /hotplug/memory). */
	json_t *(*status)(void *dev);
	/* Optional: counters; @metrics_one: one object, not one per id (vsock). */
	json_t *(*metrics)(const void *dev);
	const char *metrics_key;
	bool metrics_one;

	/* ---- persistence ---- */
	uint16_t state_version;
	void (*save)(const void *cfg, struct pw *w);
	/* Every field range-checked; problems go to pr_fail(). */
	void (*load)(struct pr *r, uint16_t version, void *cfg);
	/*
	 * Optional: a restore's override of one setting ("host_dev_name",
	 * "uds_path"); -EINVAL with a message if it does not fit.
	 */
	int (*set)(void *cfg, const char *field, const char *value, char *err, size_t errlen);
};

#define VDEV_SECTION ember_vdev
#define VDEV_REGISTER(t)                                                                           \
	static const struct vdev_type *const vdev_reg_##t                                          \
	    __attribute__((used, section("ember_vdev"), aligned(sizeof(void *)))) = &(t)

/* The registry, in link order. */
unsigned vdev_type_count(void);
const struct vdev_type *vdev_type_at(unsigned i);
const struct vdev_type *vdev_type_find(const char *name);
const struct vdev_type *vdev_type_by_opt(const char *cli_opt);

/* A device's settings, typed. */
struct vdev_config {
	const struct vdev_type *type;
	_Alignas(8) unsigned char data[VDEV_CONFIG_MAX];
};

/* The devices a VM is to have, in the order they are attached. */
struct vdev_configs {
	struct vdev_config dev[VDEV_MAX];
	unsigned nr;
};

/*
 * Appends a copy of @cfg: checks the budget, the type's limit, a unique id
 * and the type's own rules.  0, or -EINVAL / -ENOSPC with a message.
 */
int vdev_configs_add(struct vdev_configs *l, const struct vdev_type *type, const void *cfg,
		     char *err, size_t errlen);
/* The CLI: SPEC of @type's option, parsed and added. */
int vdev_configs_parse(struct vdev_configs *l, const struct vdev_type *type, const char *spec,
		       char *err, size_t errlen);
unsigned vdev_configs_count(const struct vdev_configs *l, const struct vdev_type *type);
/* The config of @type with @id, or NULL. */
void *vdev_configs_find(struct vdev_configs *l, const struct vdev_type *type, const char *id);
/*
 * The attach order: indices into l->dev, first() ones first, otherwise as
 * given.  Returns the count.
 */
unsigned vdev_configs_order(const struct vdev_configs *l, unsigned order[VDEV_MAX]);

/*
 * Snapshot payloads.  A device section is its type's name, its
 * state_version and its save() encoding; vdev_state_load refuses unknown
 * types and versions newer than the type's.
 */
int vdev_state_save(const struct vdev_type *type, const void *cfg, struct pw *w);
int vdev_state_load(const void *p, size_t len, struct vdev_config *out, char *err, size_t errlen);

#endif /* EMBER_DEVICE_H */
