/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_BLK_ENGINE_H
#define EMBER_BLK_ENGINE_H

#include <liburing.h>

#include "blk_req.h"

/*
 * The two ways a parsed request reaches the disk file.  Both continue from
 * r->done, so a short transfer is simply run again for the rest.
 */

/* Runs IN/OUT/FLUSH to the end on the calling thread; 0 or -errno. */
int vblk_sync_run(int fd, struct vblk_req *r);

struct vblk_uring {
	struct io_uring ring;
	int efd;	   /* signalled on completions; polled by the evloop */
	unsigned inflight; /* submitted or queued, not yet reaped */
	bool up;
};

typedef void (*vblk_uring_done_fn)(void *opaque, struct vblk_req *r, int res);

int vblk_uring_init(struct vblk_uring *u, unsigned entries);
void vblk_uring_exit(struct vblk_uring *u);
/* Queues r (not yet submitted); 0 or -EBUSY when the ring is full. */
int vblk_uring_queue(struct vblk_uring *u, int fd, struct vblk_req *r);
int vblk_uring_submit(struct vblk_uring *u);
/* Hands every finished request to @done (res: bytes or -errno); returns how many. */
unsigned vblk_uring_reap(struct vblk_uring *u, vblk_uring_done_fn done, void *opaque);
/* Waits until nothing is in flight, handing each completion to @done. */
void vblk_uring_drain(struct vblk_uring *u, vblk_uring_done_fn done, void *opaque);

#endif /* EMBER_BLK_ENGINE_H */
