// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk engines: synchronous preadv/pwritev, and io_uring with
 * completions signalled on an eventfd the VMM thread's evloop polls.
 * Callers hold the device lock, which is also what makes the single-issuer
 * io_uring rings safe to use from both the VMM thread and a vCPU (reset).
 */
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "blk_engine.h"

/* iov[] of @r without its first r->done bytes. */
static unsigned vblk_iov_rest(const struct vblk_req *r, struct iovec *iov)
{
	uint64_t skip = r->done;
	unsigned n = 0;

	for (unsigned i = 0; i < r->niov; i++) {
		if (skip >= r->iov[i].iov_len) {
			skip -= r->iov[i].iov_len;
			continue;
		}
		iov[n].iov_base = (uint8_t *)r->iov[i].iov_base + skip;
		iov[n].iov_len = r->iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

int vblk_sync_run(int fd, struct vblk_req *r)
{
	struct iovec iov[VBLK_SEG_MAX];

	if (r->type == VIRTIO_BLK_T_FLUSH)
		return fdatasync(fd) ? -errno : 0;
	while (r->done < r->len) {
		unsigned n = vblk_iov_rest(r, iov);
		off_t off = (off_t)(r->offset + r->done);
		ssize_t k = r->type == VIRTIO_BLK_T_IN ? preadv(fd, iov, (int)n, off)
						       : pwritev(fd, iov, (int)n, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO; /* the file shrank under us */
		r->done += (uint64_t)k;
	}
	return 0;
}

/* What vblk_uring_queue submits: vectored read and write, and fsync. */
static const struct io_uring_restriction allowed_ops[] = {
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV},
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV},
    {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC},
};

int vblk_uring_init(struct vblk_uring *u, unsigned entries)
{
	int ret;

	memset(u, 0, sizeof(*u));
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0)
		return -errno;
	/*
	 * The kernel runs queued SQEs without asking seccomp, so a ring that
	 * took any opcode would let code running in ember open files or
	 * sockets through it.  The ring starts disabled, learns the only
	 * operations virtio-blk submits, and is enabled after that; the
	 * restrictions cannot be changed later.
	 */
	ret = io_uring_queue_init(entries, &u->ring, IORING_SETUP_R_DISABLED);
	if (ret < 0)
		goto err_efd;
	ret = io_uring_register_eventfd(&u->ring, u->efd);
	if (ret < 0)
		goto err_ring;
	ret = io_uring_register_restrictions(&u->ring, (struct io_uring_restriction *)allowed_ops,
					     ARRAY_SIZE(allowed_ops));
	if (ret < 0)
		goto err_ring;
	ret = io_uring_enable_rings(&u->ring);
	if (ret < 0)
		goto err_ring;
	u->up = true;
	return 0;
err_ring:
	io_uring_queue_exit(&u->ring);
err_efd:
	close(u->efd);
	u->efd = -1;
	return ret;
}

void vblk_uring_exit(struct vblk_uring *u)
{
	if (!u->up)
		return;
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	u->efd = -1;
	u->up = false;
}

int vblk_uring_queue(struct vblk_uring *u, int fd, struct vblk_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		io_uring_prep_readv(sqe, fd, r->iov, r->niov, r->offset);
		break;
	case VIRTIO_BLK_T_OUT:
		io_uring_prep_writev(sqe, fd, r->iov, r->niov, r->offset);
		break;
	default: /* FLUSH */
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	u->inflight++;
	return 0;
}

int vblk_uring_submit(struct vblk_uring *u)
{
	int ret;

	do
		ret = io_uring_submit(&u->ring);
	while (ret == -EINTR);
	return ret < 0 ? ret : 0;
}

unsigned vblk_uring_reap(struct vblk_uring *u, vblk_uring_done_fn done, void *opaque)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		done(opaque, io_uring_cqe_get_data(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	u->inflight -= n;
	return n;
}

void vblk_uring_drain(struct vblk_uring *u, vblk_uring_done_fn done, void *opaque)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (!u->up)
		return;
	vblk_uring_submit(u);
	while (u->inflight) {
		ret = io_uring_wait_cqe(&u->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			/* Cannot happen with requests outstanding; do not spin on it. */
			log_err("io_uring: waiting for completions: %s", strerror(-ret));
			return;
		}
		done(opaque, io_uring_cqe_get_data(cqe), cqe->res);
		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
	}
}
