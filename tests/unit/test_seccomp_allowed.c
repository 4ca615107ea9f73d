// SPDX-License-Identifier: Apache-2.0
/*
 * What the seccomp lists must let through, without KVM, on the rig of
 * seccomp_rig.h: the calls each thread makes in a boot pass and after it,
 * in the real topology (vCPU threads filtered first, then the VMM thread,
 * which then kicks and joins them; the API thread with every signal
 * blocked).  KVM ioctls on a non-KVM fd reach the kernel and fail with
 * ENOTTY instead of trapping, so a call missing from a list shows up here
 * as a SIGSYS line rather than in a guest boot.  The calls the lists
 * refuse: test_seccomp.c.
 */
#include <fcntl.h>
#include <liburing.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "seccomp_rig.h"

/* glibc's lazy open in a thread arena's first trim fails, does not trap. */
static int arena_trim(void *arg)
{
	enum { N = 8, SZ = 100 * 1024 }; /* below the mmap threshold: arena memory */
	void *p[N];

	(void)arg;
	for (int i = 0; i < N; i++) {
		p[i] = malloc(SZ);
		CHECK(p[i]);
		memset(p[i], i, SZ);
	}
	for (int i = N - 1; i >= 0; i--)
		free(p[i]);
	/* Fails on vCPU and API threads; the VMM thread may open read-only. */
	errno = 0;
	CHECK(open("/proc/self/status", O_RDONLY | O_CLOEXEC) < 0 ? errno == EACCES : arg != NULL);
	return 0;
}

static void test_thread_arena_trim_survives(void **state)
{
	struct child c;

	(void)state;
	/* vCPU and API threads have arenas of their own; the VMM thread is
	 * main() and trims the main arena with brk. */
	child_in_thread(SECCOMP_VCPU, false, arena_trim, NULL, &c);
	expect_ok(&c);
	child_in_thread(SECCOMP_API, true, arena_trim, NULL, &c);
	expect_ok(&c);
	child_on_main(SECCOMP_VMM, arena_trim, "vmm", &c);
	expect_ok(&c);
}

/* A VMM thread and a vCPU thread, set up and filtered in ember's order. */
struct boot {
	int null_fd, efd, file_fd, ep_fd;
	bool ring_up;
	struct io_uring ring;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool parked, pause_req;
	atomic_bool kicked;
	uint8_t buf[4096];
};

static atomic_bool *kick_flag;

static void kick_handler(int sig)
{
	(void)sig;
	atomic_store(kick_flag, true);
}

static int vcpu_body(void *arg)
{
	struct boot *b = arg;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct timespec ts;
	struct iovec iov = {.iov_base = b->buf, .iov_len = sizeof(b->buf)};
	struct epoll_event ev = {.events = EPOLLIN};
	char *big;

	/* The vCPU loop's ioctls reach the kernel, which refuses a non-KVM fd. */
	CHECK(ioctl(b->null_fd, KVM_RUN, 0) < 0 && errno == ENOTTY);
	CHECK(ioctl(b->null_fd, KVM_GET_REGS, &regs) < 0 && errno == ENOTTY);
	CHECK(ioctl(b->null_fd, KVM_GET_SREGS, &sregs) < 0 && errno == ENOTTY);
	/* virtio-net activate/reset on the vCPU. */
	CHECK(ioctl(b->null_fd, TUNSETOFFLOAD, 0u) < 0 && errno == ENOTTY);
	CHECK(epoll_ctl(b->ep_fd, EPOLL_CTL_MOD, b->efd, &ev) == 0);
	/* Logging, serial output, irqfd / exit_fd kicks. */
	CHECK(write(STDERR_FILENO, "", 0) == 0);
	CHECK(eventfd_write(b->efd, 1) == 0);
	/* The boot timer, and time_now_us without the vDSO. */
	CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0);
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
	/* A virtio-blk reset draining io_uring, finishing a short transfer. */
	CHECK(pwritev(b->file_fd, &iov, 1, 0) == sizeof(b->buf));
	CHECK(preadv(b->file_fd, &iov, 1, 0) == sizeof(b->buf));
	if (b->ring_up) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
		struct io_uring_cqe *cqe;

		CHECK(sqe);
		io_uring_prep_readv(sqe, b->file_fd, &iov, 1, 0);
		CHECK(io_uring_submit(&b->ring) == 1);
		CHECK(io_uring_wait_cqe(&b->ring, &cqe) == 0);
		CHECK(cqe->res == sizeof(b->buf));
		io_uring_cqe_seen(&b->ring, cqe);
	}
	/* Rare mallocs: strerror of an unknown errno, a big block. */
	CHECK(strerror(9999) != NULL);
	big = malloc(1 << 20);
	CHECK(big);
	free(big);
	/* Park (vcpu_park): the VMM thread kicks us and then resumes us. */
	pthread_mutex_lock(&b->lock);
	b->parked = true;
	pthread_cond_broadcast(&b->cv);
	while (b->pause_req)
		pthread_cond_wait(&b->cv, &b->lock);
	pthread_mutex_unlock(&b->lock);
	CHECK(atomic_load(&b->kicked)); /* the handler ran and returned */
	return 0;			/* and the thread exits under the filter */
}

static int boot_topology(void *arg)
{
	struct boot *b = arg;
	struct in_thread vcpu = {.role = SECCOMP_VCPU, .fn = vcpu_body, .arg = b};
	struct sigaction sa = {.sa_handler = kick_handler};
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct termios t = {0};
	pthread_t th;
	uint64_t cnt;
	int r;

	/* Everything vm_create and friends do before vm_run. */
	b->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	b->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(b->null_fd >= 0 && b->efd >= 0 && b->ep_fd >= 0);
	CHECK(epoll_ctl(b->ep_fd, EPOLL_CTL_ADD, b->efd, &ev) == 0);
	b->ring_up = io_uring_queue_init(8, &b->ring, 0) == 0;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->pause_req = true;
	atomic_init(&b->kicked, false);
	kick_flag = &b->kicked;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGRTMIN, &sa, NULL) == 0); /* vcpu_signal_init: no SA_RESTART */
	/* vm_run: start the vCPU threads, then filter the VMM thread. */
	CHECK(pthread_create(&th, NULL, in_thread_main, &vcpu) == 0);
	r = seccomp_install(SECCOMP_VMM);
	CHECK(r == 0);
	pthread_mutex_lock(&b->lock);
	while (!b->parked)
		pthread_cond_wait(&b->cv, &b->lock);
	pthread_mutex_unlock(&b->lock);
	/* vcpu_kick, then vm_resume. */
	CHECK(pthread_kill(th, SIGRTMIN) == 0);
	pthread_mutex_lock(&b->lock);
	b->pause_req = false;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->lock);
	/* The event loop sees the vCPU's eventfd write. */
	CHECK(epoll_wait(b->ep_fd, &out, 1, 5000) == 1);
	CHECK(read(b->efd, &cnt, sizeof(cnt)) == sizeof(cnt) && cnt == 1);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(vcpu.ret == 0);
	/* Teardown as vm_destroy: terminal restore, rings, fds. */
	CHECK(tcsetattr(b->null_fd, TCSANOW, &t) < 0 && errno == ENOTTY);
	if (b->ring_up)
		io_uring_queue_exit(&b->ring);
	CHECK(epoll_ctl(b->ep_fd, EPOLL_CTL_DEL, b->efd, NULL) == 0);
	close(b->ep_fd);
	close(b->efd);
	close(b->null_fd);
	exit(0); /* exit_group, after stdio's flush */
}

static void test_boot_vcpu_and_vmm_allowed(void **state)
{
	char path[] = "/tmp/ember-seccomp-XXXXXX";
	struct boot *b = calloc(1, sizeof(*b));
	struct child c;

	(void)state;
	assert_non_null(b);
	b->file_fd = mkstemp(path);
	assert_true(b->file_fd >= 0);
	unlink(path);
	run_child(boot_topology, b, &c);
	expect_ok(&c);
	close(b->file_fd);
	free(b);
}

/* The VMM thread's own work after boot, on its main thread. */
struct vmm_io {
	int file_fd, efd, ep_fd, null_fd, lfd, tfd;
	struct io_uring ring;
	bool ring_up;
	char snap_path[64];
	struct sockaddr_un sa;
};

static int vmm_body(void *arg)
{
	struct vmm_io *v = arg;
	uint8_t buf[8192] = {1};
	struct iovec iov[2] = {{buf, 4096}, {buf + 4096, 4096}};
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct itimerspec once = {.it_value = {.tv_sec = 2}};
	uint64_t cnt;
	void *p;
	char *s;
	int fd;

	/* Event loop: eventfds, epoll_ctl after boot. */
	CHECK(eventfd_write(v->efd, 3) == 0);
	CHECK(epoll_ctl(v->ep_fd, EPOLL_CTL_ADD, v->efd, &ev) == 0);
	CHECK(epoll_wait(v->ep_fd, &out, 1, 0) == 1);
	CHECK(read(v->efd, &cnt, sizeof(cnt)) == sizeof(cnt) && cnt == 3);
	CHECK(epoll_ctl(v->ep_fd, EPOLL_CTL_DEL, v->efd, NULL) == 0);
	/* virtio-blk, sync engine, and net's writev. */
	CHECK(pwritev(v->file_fd, iov, 2, 0) == sizeof(buf));
	CHECK(preadv(v->file_fd, iov, 2, 0) == sizeof(buf));
	CHECK(fdatasync(v->file_fd) == 0);
	/* virtio-pmem's flush; a device slot deleted (ENOTTY: not a KVM fd). */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, v->file_fd, 0);
	CHECK(p != MAP_FAILED && msync(p, 4096, MS_SYNC) == 0 && munmap(p, 4096) == 0);
	CHECK(ioctl(v->null_fd, KVM_SET_USER_MEMORY_REGION, buf) < 0 && errno == ENOTTY);
	CHECK(writev(v->file_fd, iov, 1) == 4096);
	/* virtio-blk, io_uring engine. */
	if (v->ring_up) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&v->ring);
		struct io_uring_cqe *cqe;

		CHECK(sqe);
		io_uring_prep_writev(sqe, v->file_fd, iov, 2, 8192);
		CHECK(io_uring_submit(&v->ring) == 1);
		CHECK(io_uring_wait_cqe(&v->ring, &cqe) == 0);
		CHECK(cqe->res == sizeof(buf));
		io_uring_cqe_seen(&v->ring, cqe);
	} else {
		child_say("io_uring unavailable: skipped\n");
	}
	/* Memory: RW mappings, malloc/realloc/free. */
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p = mremap(p, 1 << 20, 2 << 20, MREMAP_MAYMOVE);
	CHECK(p != MAP_FAILED);
	CHECK(mprotect(p, 4096, PROT_READ) == 0);
	CHECK(madvise(p, 4096, MADV_DONTNEED) == 0);
	CHECK(munmap(p, 2 << 20) == 0);
	/* Shared guest RAM the balloon gives back (gm_discard). */
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(madvise(p, 4096, MADV_REMOVE) == 0);
	CHECK(munmap(p, 8192) == 0);
	s = malloc(100);
	CHECK(s);
	s = realloc(s, 4 << 20);
	CHECK(s);
	free(s);
	/* Snapshot files: write-only create; nothing else opens. */
	fd = open(v->snap_path, SECCOMP_VMM_OPEN_FLAGS, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, buf, 16) == 16);
	close(fd);
	/* Drive images (PATCH /drives): read-write and read-only opens. */
	fd = open(v->snap_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_SETFL, 0) == 0); /* blocking again, once it is no FIFO */
	close(fd);
	fd = open(v->snap_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(fd >= 0);
	close(fd);
	/* vsock: AF_UNIX sockets to the host side. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&v->sa, sizeof(v->sa)) == 0);
	close(fd);
	/* ... and its handshake deadline: the timer made at create is armed. */
	CHECK(timerfd_settime(v->tfd, 0, &once, NULL) == 0);
	/* virtio-rng: the host's pool, without blocking. */
	CHECK(getrandom(buf, 16, GRND_NONBLOCK) == 16);
	/* Terminal restore, getpid for pthread_kill, time. */
	CHECK(ioctl(v->null_fd, TCSETS, buf) < 0 && errno == ENOTTY);
	CHECK(getpid() > 0);
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, buf) == 0);
	if (v->ring_up)
		io_uring_queue_exit(&v->ring);
	close(v->ep_fd);
	return 0;
}

static int vmm_prepare(void *arg)
{
	struct vmm_io *v = arg;
	struct on_main m = {.role = SECCOMP_VMM, .fn = vmm_body, .arg = v};

	/* Rings are set up before the filter, as vblk_create does. */
	v->ring_up = io_uring_queue_init(8, &v->ring, 0) == 0;
	return on_main_run(&m);
}

static void test_vmm_allowed(void **state)
{
	char path[] = "/tmp/ember-seccomp-XXXXXX";
	struct vmm_io *v = calloc(1, sizeof(*v));
	struct child c;

	(void)state;
	assert_non_null(v);
	v->file_fd = mkstemp(path);
	assert_true(v->file_fd >= 0);
	unlink(path);
	snprintf(v->snap_path, sizeof(v->snap_path), "/tmp/ember-seccomp-snap-%d", getpid());
	v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	v->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	v->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	v->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	assert_true(v->efd >= 0 && v->ep_fd >= 0 && v->null_fd >= 0 && v->lfd >= 0 && v->tfd >= 0);
	v->sa.sun_family = AF_UNIX;
	snprintf(v->sa.sun_path, sizeof(v->sa.sun_path), "/tmp/ember-seccomp-vsock-%d", getpid());
	unlink(v->sa.sun_path);
	assert_int_equal(bind(v->lfd, (struct sockaddr *)&v->sa, sizeof(v->sa)), 0);
	assert_int_equal(listen(v->lfd, 4), 0);

	run_child(vmm_prepare, v, &c);
	expect_ok(&c);
	if (strstr(c.out, "io_uring unavailable"))
		print_message("io_uring unavailable here: its part was skipped\n");

	unlink(v->snap_path);
	unlink(v->sa.sun_path);
	close(v->tfd);
	close(v->lfd);
	close(v->null_fd);
	close(v->ep_fd);
	close(v->efd);
	close(v->file_fd);
	free(v);
}

static int vmm_socket_unix(void *arg)
{
	int fd;

	(void)arg;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	close(fd);
	return 0;
}

static void test_vmm_socket_unix_allowed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, vmm_socket_unix, NULL, &c);
	expect_ok(&c);
}

/* The API thread: accept, read a request, answer, hand a command over. */
struct api_io {
	int lfd, ep_fd, efd, client;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool done;
};

static int api_body(void *arg)
{
	static const char reply[] = "HTTP/1.1 204 No Content\r\n\r\n";
	struct api_io *a = arg;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP}, out;
	char req[64], *buf;
	ssize_t n;
	int fd;

	CHECK(epoll_wait(a->ep_fd, &out, 1, 5000) == 1);
	fd = accept4(a->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(epoll_ctl(a->ep_fd, EPOLL_CTL_ADD, fd, &ev) == 0);
	n = read(fd, req, sizeof(req));
	CHECK(n == 4 && !memcmp(req, "PUT ", 4));
	/* Growing the response buffer (realloc) and the command queue hand-off. */
	buf = malloc(16);
	CHECK(buf);
	buf = realloc(buf, 1 << 20);
	CHECK(buf);
	free(buf);
	CHECK(eventfd_write(a->efd, 1) == 0);
	pthread_mutex_lock(&a->lock);
	while (!a->done)
		pthread_cond_wait(&a->cv, &a->lock);
	pthread_mutex_unlock(&a->lock);
	CHECK(send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(reply) - 1);
	CHECK(epoll_ctl(a->ep_fd, EPOLL_CTL_DEL, fd, NULL) == 0);
	close(fd);
	return 0;
}

static int api_topology(void *arg)
{
	struct api_io *a = arg;
	struct in_thread t = {.role = SECCOMP_API, .block_signals = true, .fn = api_body, .arg = a};
	pthread_t th;
	uint64_t cnt;
	char resp[64];

	CHECK(pthread_create(&th, NULL, in_thread_main, &t) == 0);
	/* The VMM thread: runs the command, wakes the submitter. */
	for (;;) {
		if (read(a->efd, &cnt, sizeof(cnt)) == sizeof(cnt))
			break;
		CHECK(errno == EAGAIN);
		usleep(1000);
	}
	pthread_mutex_lock(&a->lock);
	a->done = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->lock);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(t.ret == 0);
	CHECK(read(a->client, resp, sizeof(resp)) > 0 && !memcmp(resp, "HTTP/1.1 204", 12));
	return 0;
}

static void test_api_allowed(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct api_io *a = calloc(1, sizeof(*a));
	struct epoll_event ev = {.events = EPOLLIN};
	struct child c;

	(void)state;
	assert_non_null(a);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/ember-seccomp-api-%d", getpid());
	unlink(sa.sun_path);
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(a->lfd >= 0);
	assert_int_equal(bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(a->lfd, 4), 0);
	a->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(a->ep_fd >= 0 && a->efd >= 0);
	ev.data.fd = a->lfd;
	assert_int_equal(epoll_ctl(a->ep_fd, EPOLL_CTL_ADD, a->lfd, &ev), 0);
	a->client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(a->client >= 0);
	assert_int_equal(connect(a->client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(a->client, "PUT ", 4), 4);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cv, NULL);

	run_child(api_topology, a, &c);
	expect_ok(&c);

	unlink(sa.sun_path);
	close(a->client);
	close(a->efd);
	close(a->ep_fd);
	close(a->lfd);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thread_arena_trim_survives),
	    cmocka_unit_test(test_boot_vcpu_and_vmm_allowed),
	    cmocka_unit_test(test_vmm_allowed),
	    cmocka_unit_test(test_vmm_socket_unix_allowed),
	    cmocka_unit_test(test_api_allowed),
	};

	return cmocka_run_group_tests_name("seccomp_allowed", tests, NULL, NULL);
}
