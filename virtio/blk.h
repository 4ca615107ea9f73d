/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_BLK_H
#define EMBER_BLK_H

#include "ember.h"
#include "evloop.h"
#include "limiter.h"
#include "persist.h"
#include "virtio_mmio.h"

/*
 * virtio-blk on a raw file (never a format probe).  One queue; requests are
 * parsed on the VMM thread and run by an engine: io_uring (default) or
 * synchronous preadv/pwritev.
 */

enum vblk_engine { VBLK_ENGINE_DEFAULT, VBLK_ENGINE_SYNC, VBLK_ENGINE_IO_URING };

#define VBLK_SERIAL_LEN	  20 /* VIRTIO_BLK_ID_BYTES */
#define VBLK_PARTUUID_LEN 64 /* Firecracker's partuuid, as the API takes it */

/* Plain data: the CLI (--disk) and later PUT /drives/{id} fill it. */
struct vblk_config {
	char drive_id[64]; /* Firecracker drive_id; default GET_ID serial */
	char path[4096];
	bool read_only, is_root;
	char serial[VBLK_SERIAL_LEN + 1]; /* "" -> drive_id, truncated */
	enum vblk_engine engine;
	struct limiter_cfg limiter; /* the drive's rate_limiter */
	/* The root partition's PARTUUID ("" : none): a root drive boots with
	 * root=PARTUUID=... instead of root=/dev/vda, as in Firecracker.
	 * Letters, digits, '-', '/' and '=' only (it goes on the command line). */
	char partuuid[VBLK_PARTUUID_LEN + 1];
};

/*
 * Parses "PATH[,ro][,root][,id=NAME][,engine=sync|io_uring]" (--disk) into a
 * zeroed *cfg.  Returns 0, or -EINVAL with a message in err.
 */
int vblk_config_parse(const char *spec, struct vblk_config *cfg, char *err, size_t errlen);
/* The device type's settings hooks (device.h), in blk_config.c. */
const char *vblk_config_id(const void *cfg);
void vblk_config_complete(void *cfg, unsigned nth);
int vblk_config_check_set(const void *const cfgs[], unsigned n, char *err, size_t errlen);
bool vblk_config_first(const void *cfg);
const char *vblk_config_cmdline(const void *cfg, char *buf, size_t len);
void vblk_config_save(const void *cfg, struct pw *w);
void vblk_config_load(struct pr *r, uint16_t version, void *cfg);
struct limiter_cfg *vblk_config_limiter(void *cfg, const char *which);

struct vblk;

/*
 * Opens cfg->path (read-only for ro drives); its size must be a multiple of
 * 512.  VBLK_ENGINE_DEFAULT is io_uring, falling back to sync with a log line
 * when the kernel refuses io_uring; an explicit io_uring that cannot start
 * is an error.  Returns 0 or -errno (with a log line saying why).
 */
int vblk_create(struct vblk **out, const struct vblk_config *cfg, const struct guest_mem *gm,
		struct evloop *loop);
struct virtio_mmio *vblk_transport(struct vblk *b);
/*
 * PATCH /drives: the drive continues on another file (same read-only-ness).
 * In-flight requests finish on the old file first; the guest gets a
 * config-change interrupt to reread the capacity.  0 or -errno (logged).
 */
int vblk_replace_file(struct vblk *b, const char *path);
const char *vblk_drive_id(const struct vblk *b);

/* Counters for metrics (VMM thread). */
struct vblk_stats {
	uint64_t reads, writes, flushes, others;
	uint64_t read_bytes, write_bytes;
	uint64_t errors;    /* requests answered IOERR or UNSUPP */
	uint64_t throttled; /* requests that waited for the rate limiter */
};
const struct vblk_stats *vblk_stats(const struct vblk *b);
/* The configuration in force (path updated by vblk_replace_file). */
const struct vblk_config *vblk_get_config(const struct vblk *b);
/*
 * Snapshots, with the vCPUs paused: waits for every request in flight and
 * returns it to the guest, so the used ring is final.
 */
void vblk_quiesce(struct vblk *b);
/* The engine actually running: VBLK_ENGINE_SYNC or VBLK_ENGINE_IO_URING. */
enum vblk_engine vblk_engine_used(const struct vblk *b);
uint64_t vblk_capacity(const struct vblk *b); /* in 512-byte sectors */
void vblk_destroy(struct vblk *b);

#endif /* EMBER_BLK_H */
