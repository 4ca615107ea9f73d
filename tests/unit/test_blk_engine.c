// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring engine's ring is restricted to what virtio-blk submits: the
 * kernel runs SQEs without asking seccomp, so any other opcode must be
 * refused by the ring itself.
 */
#include <fcntl.h>
#include <unistd.h>

#include <liburing.h>

#include "blk_engine.h"
#include "unit.h"

static struct io_uring_cqe *submit_one(struct vblk_uring *u, struct io_uring_sqe *sqe)
{
	struct io_uring_cqe *cqe;

	(void)sqe;
	assert_int_equal(io_uring_submit(&u->ring), 1);
	assert_int_equal(io_uring_wait_cqe(&u->ring, &cqe), 0);
	return cqe;
}

static void test_only_blk_ops(void **state)
{
	char path[] = "/tmp/ember-uring-XXXXXX", buf[16] = "0123456789abcdef";
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct vblk_uring u;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int fd, r;

	(void)state;
	r = vblk_uring_init(&u, 8);
	if (r) {
		print_message("io_uring unavailable here (%s): skipped\n", strerror(-r));
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);

	/* What virtio-blk does works. */
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_writev(sqe, fd, &iov, 1, 0);
	cqe = submit_one(&u, sqe);
	assert_int_equal(cqe->res, (int)sizeof(buf));
	io_uring_cqe_seen(&u.ring, cqe);
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	cqe = submit_one(&u, sqe);
	assert_int_equal(cqe->res, 0);
	io_uring_cqe_seen(&u.ring, cqe);

	/* Opening a file, plain read and write, a socket op: refused. */
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	cqe = submit_one(&u, sqe);
	assert_int_equal(cqe->res, -EACCES);
	io_uring_cqe_seen(&u.ring, cqe);
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	cqe = submit_one(&u, sqe);
	assert_int_equal(cqe->res, -EACCES);
	io_uring_cqe_seen(&u.ring, cqe);
	sqe = io_uring_get_sqe(&u.ring);
	io_uring_prep_socket(sqe, AF_INET, SOCK_STREAM, 0, 0);
	cqe = submit_one(&u, sqe);
	assert_int_equal(cqe->res, -EACCES);
	io_uring_cqe_seen(&u.ring, cqe);
	/* And the restrictions cannot be replaced once the ring runs. */
	assert_true(io_uring_register_restrictions(&u.ring, NULL, 0) < 0);

	vblk_uring_exit(&u);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_blk_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
