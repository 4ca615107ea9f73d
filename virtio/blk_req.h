/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_BLK_REQ_H
#define EMBER_BLK_REQ_H

#include <sys/uio.h>

#include "ember.h"
#include "virtq.h"

/*
 * A virtio-blk request taken apart: what the engines run.  Internal to
 * virtio/ (and the unit tests).
 */

/* Data segments per request; advertised as seg_max. */
#define VBLK_SEG_MAX 128
/* Advertised size_max: bounds one request's memory to SEG_MAX * 1 MiB. */
#define VBLK_SIZE_MAX (1u << 20)
#define VBLK_SECTOR   512u

struct vblk_req {
	uint16_t head; /* chain to return */
	uint32_t type; /* VIRTIO_BLK_T_* */
	uint64_t sector;
	uint64_t offset; /* sector * 512 */
	uint64_t len;	 /* data bytes in iov[] */
	uint64_t done;	 /* data bytes transferred so far */
	unsigned niov;
	struct iovec iov[VBLK_SEG_MAX];
	uint8_t *status;     /* host address of the status byte; NULL: none reachable */
	uint8_t status_code; /* VIRTIO_BLK_S_* to write when done */
	uint32_t used_len;   /* bytes written into the chain, when status_code is OK */
};

/* What a request may touch. */
struct vblk_disk {
	uint64_t size; /* bytes, multiple of 512 */
	bool read_only;
};

/*
 * Validates chain @c against guest memory and the disk and fills *r.
 * Returns 0 for a well-formed IN/OUT/FLUSH/GET_ID request, else -EINVAL with
 * r->status_code IOERR or UNSUPP; r->status is NULL when the chain has no
 * usable status byte (then it can only be returned with len 0).
 */
int vblk_req_parse(struct vblk_req *r, const struct virtq_chain *c, const struct guest_mem *gm,
		   const struct vblk_disk *disk);
/* Writes the status byte; returns the used length for the chain. */
uint32_t vblk_req_finish(struct vblk_req *r);
/* GET_ID: copies the serial (up to 20 bytes, NUL-padded) into the buffer. */
void vblk_req_get_id(struct vblk_req *r, const char *serial);

#endif /* EMBER_BLK_REQ_H */
