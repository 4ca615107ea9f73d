// SPDX-License-Identifier: Apache-2.0
/*
 * The seccomp allow-lists, without KVM.  Every case runs in a forked child
 * (a filter cannot be taken off again) whose stderr is a pipe; the parent
 * checks the exit status and the SIGSYS line.
 *
 *  - forbidden: a thread under a filter makes a call its list refuses and
 *    the process exits EMBER_EXIT_SECCOMP with "ember: seccomp: thread
 *    <role> made forbidden syscall <nr> (<name>)" on stderr;
 *  - allowed: the calls each thread makes in a boot pass (KVM ioctls on a
 *    non-KVM fd reach the kernel and fail with ENOTTY instead of trapping),
 *    in the real topology: vCPU threads filtered first, then the VMM thread,
 *    which then kicks and joins them.
 *
 * Children report their own failures as a line on stderr and exit 1; they
 * never call into cmocka.
 */
#include <fcntl.h>
#include <liburing.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "seccomp.h"
#include "unit.h"

/* Firecracker's x86_64 lists, the counts to beat (issue 7). */
#define FC_VMM_RULES  76
#define FC_VCPU_RULES 49
#define FC_API_RULES  36

/* ---- child plumbing ------------------------------------------------------ */

/* snprintf + write: dprintf would fstat() the fd, which no list allows. */
static void child_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void child_say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(STDERR_FILENO, line,
			   (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
		/* The exit status still fails the test. */
	}
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			child_say("child: %s:%d: %s failed (errno %d)\n", __FILE__, __LINE__,      \
				  #cond, errno);                                                   \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

struct child {
	int status;
	char out[4096];
};

typedef int (*child_fn)(void *arg);

/* Runs @fn in a child with the SIGSYS handler installed; @fn's return is the exit status. */
static void run_child(child_fn fn, void *arg, struct child *c)
{
	size_t len = 0;
	ssize_t n;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		if (seccomp_init_handler())
			_exit(90);
		_exit(fn(arg));
	}
	close(p[1]);
	while ((n = read(p[0], c->out + len, sizeof(c->out) - 1 - len)) > 0)
		len += (size_t)n;
	c->out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &c->status, 0), pid);
}

static void expect_ok(const struct child *c)
{
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
		print_error("child status 0x%x, stderr:\n%s", c->status, c->out);
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 0);
}

static void expect_killed(const struct child *c, const char *role, long nr, const char *name)
{
	char want[160];

	snprintf(want, sizeof(want), "ember: seccomp: thread %s made forbidden syscall %ld (%s)",
		 role, nr, name);
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != EMBER_EXIT_SECCOMP ||
	    !strstr(c->out, want))
		print_error("child status 0x%x, want \"%s\", stderr:\n%s", c->status, want, c->out);
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), EMBER_EXIT_SECCOMP);
	assert_non_null(strstr(c->out, want));
	/* One line, nothing after it: the process ended in the handler. */
	assert_string_equal(strchr(strstr(c->out, want), '\n'), "\n");
}

/* A thread that installs @role, then runs @fn; as vcpu_thread and api_thread do. */
struct in_thread {
	enum seccomp_role role;
	bool block_signals; /* as the API thread: every signal blocked */
	child_fn fn;
	void *arg;
	int ret;
};

static void *in_thread_main(void *p)
{
	struct in_thread *t = p;
	int r;

	if (t->block_signals) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, NULL);
	}
	r = seccomp_install(t->role);
	if (r) {
		child_say("child: seccomp_install: %s\n", strerror(-r));
		t->ret = 1;
		return NULL;
	}
	t->ret = t->fn(t->arg);
	return NULL;
}

static int run_in_thread(void *arg)
{
	struct in_thread *t = arg;
	pthread_t th;

	CHECK(pthread_create(&th, NULL, in_thread_main, t) == 0);
	CHECK(pthread_join(th, NULL) == 0);
	return t->ret;
}

static void child_in_thread(enum seccomp_role role, bool block, child_fn fn, void *arg,
			    struct child *c)
{
	struct in_thread t = {.role = role, .block_signals = block, .fn = fn, .arg = arg};

	run_child(run_in_thread, &t, c);
}

/* The main thread of the child installs @role, then runs @fn. */
struct on_main {
	enum seccomp_role role;
	child_fn fn;
	void *arg;
};

static int on_main_run(void *p)
{
	struct on_main *m = p;
	int r = seccomp_install(m->role);

	if (r) {
		child_say("child: seccomp_install: %s\n", strerror(-r));
		return 1;
	}
	return m->fn(m->arg);
}

static void child_on_main(enum seccomp_role role, child_fn fn, void *arg, struct child *c)
{
	struct on_main m = {.role = role, .fn = fn, .arg = arg};

	run_child(on_main_run, &m, c);
}

/* ---- the lists themselves ---------------------------------------------- */

static void test_rule_counts(void **state)
{
	const struct {
		enum seccomp_role role;
		int firecracker;
	} r[] = {
	    {SECCOMP_VMM, FC_VMM_RULES},
	    {SECCOMP_VCPU, FC_VCPU_RULES},
	    {SECCOMP_API, FC_API_RULES},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		int n = seccomp_rule_count(r[i].role);

		print_message("%-4s: %d rules (Firecracker %d)\n", seccomp_role_name(r[i].role), n,
			      r[i].firecracker);
		assert_true(n > 0);
		assert_true(n < r[i].firecracker);
	}
	assert_int_equal(seccomp_rule_count((enum seccomp_role)7), -EINVAL);
	assert_int_equal(seccomp_install((enum seccomp_role)7), -EINVAL);
	assert_string_equal(seccomp_role_name((enum seccomp_role)7), "unknown");
	assert_int_equal(seccomp_faults(), 0);
}

static int call_getppid(void *arg)
{
	(void)arg;
	syscall(SYS_getppid); /* on no list */
	return 0;
}

/* Each filter compiles, loads, and is in force with the role's name. */
static void test_each_filter_loads(void **state)
{
	const enum seccomp_role roles[] = {SECCOMP_VMM, SECCOMP_VCPU, SECCOMP_API};
	struct child c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		child_on_main(roles[i], call_getppid, NULL, &c);
		expect_killed(&c, seccomp_role_name(roles[i]), SYS_getppid, "getppid");
		child_in_thread(roles[i], false, call_getppid, NULL, &c);
		expect_killed(&c, seccomp_role_name(roles[i]), SYS_getppid, "getppid");
	}
}

/* ---- forbidden on a vCPU thread ------------------------------------------ */

static int vcpu_openat(void *arg)
{
	(void)arg;
	syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
	return 0;
}

static void test_vcpu_openat_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, vcpu_openat, NULL, &c);
	expect_killed(&c, "vcpu", SYS_openat, "openat");
}

static int vcpu_execve(void *arg)
{
	char *const argv[] = {"true", NULL}, *const envp[] = {NULL};

	(void)arg;
	execve("/bin/true", argv, envp);
	return 0;
}

static void test_vcpu_execve_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, vcpu_execve, NULL, &c);
	expect_killed(&c, "vcpu", SYS_execve, "execve");
}

static int vcpu_ioctl_memslot(void *arg)
{
	struct kvm_userspace_memory_region r = {0};

	(void)arg;
	/* The filter looks at the request, not at the fd. */
	ioctl(STDERR_FILENO, KVM_SET_USER_MEMORY_REGION, &r);
	return 0;
}

static int vcpu_ioctl_tcgets(void *arg)
{
	struct termios t;

	(void)arg;
	ioctl(STDERR_FILENO, TCGETS, &t);
	return 0;
}

static void test_vcpu_ioctl_killed(void **state)
{
	struct child c;
	char args[64];

	(void)state;
	/* The guest's memory map is the VMM's business, never a vCPU's. */
	child_in_thread(SECCOMP_VCPU, false, vcpu_ioctl_memslot, NULL, &c);
	expect_killed(&c, "vcpu", SYS_ioctl, "ioctl");
	snprintf(args, sizeof(args), " 0x%lx ", (unsigned long)KVM_SET_USER_MEMORY_REGION);
	assert_non_null(strstr(c.out, args)); /* the request is in the message */
	child_in_thread(SECCOMP_VCPU, false, vcpu_ioctl_tcgets, NULL, &c);
	expect_killed(&c, "vcpu", SYS_ioctl, "ioctl");
}

static int any_socket_inet(void *arg)
{
	(void)arg;
	socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return 0;
}

static void test_vcpu_socket_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, any_socket_inet, NULL, &c);
	expect_killed(&c, "vcpu", SYS_socket, "socket");
}

static int vcpu_futex_requeue(void *arg)
{
	static uint32_t a, b;

	(void)arg;
	syscall(SYS_futex, &a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &b, 0);
	return 0;
}

static void test_vcpu_futex_requeue_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, vcpu_futex_requeue, NULL, &c);
	expect_killed(&c, "vcpu", SYS_futex, "futex");
}

/* ---- forbidden on the VMM thread ----------------------------------------- */

static int vmm_mmap_exec(void *arg)
{
	(void)arg;
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 0;
}

static int vmm_mprotect_exec(void *arg)
{
	void *p = arg;

	mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	return 0;
}

static void test_vmm_exec_memory_killed(void **state)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct child c;

	(void)state;
	assert_true(p != MAP_FAILED);
	child_on_main(SECCOMP_VMM, vmm_mmap_exec, NULL, &c);
	expect_killed(&c, "vmm", SYS_mmap, "mmap");
	child_on_main(SECCOMP_VMM, vmm_mprotect_exec, p, &c);
	expect_killed(&c, "vmm", SYS_mprotect, "mprotect");
	munmap(p, 4096);
}

static void test_vmm_socket_inet_killed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, any_socket_inet, NULL, &c);
	expect_killed(&c, "vmm", SYS_socket, "socket");
}

static int vmm_fork(void *arg)
{
	(void)arg;
	if (fork() == 0)
		_exit(0);
	return 0;
}

static void test_vmm_fork_killed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, vmm_fork, NULL, &c);
	expect_killed(&c, "vmm", SYS_clone, "clone"); /* glibc's fork is clone */
}

static int vmm_tgkill_other(void *arg)
{
	pid_t tid = *(pid_t *)arg;

	/* The kick signal is allowed; SIGTERM (or another process) is not. */
	syscall(SYS_tgkill, getpid(), tid, SIGTERM);
	return 0;
}

static int vmm_tgkill_prepare(void *arg)
{
	struct on_main m = {.role = SECCOMP_VMM, .fn = vmm_tgkill_other};
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)arg;
	m.arg = &tid;
	return on_main_run(&m);
}

static void test_vmm_tgkill_other_signal_killed(void **state)
{
	struct child c;

	(void)state;
	run_child(vmm_tgkill_prepare, NULL, &c);
	expect_killed(&c, "vmm", SYS_tgkill, "tgkill");
}

/* The VMM thread opens images read-write (PATCH /drives), never creates them. */
static int vmm_open_read_write(void *arg)
{
	(void)arg;
	open("/dev/null", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return 0;
}

static void test_vmm_open_rdwr_killed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, vmm_open_read_write, NULL, &c);
	expect_killed(&c, "vmm", SYS_openat, "openat");
}

/* ---- forbidden on the API thread ----------------------------------------- */

static void test_api_socket_killed_signals_blocked(void **state)
{
	struct child c;

	(void)state;
	/* The API thread blocks every signal; the trap must still report. */
	child_in_thread(SECCOMP_API, true, any_socket_inet, NULL, &c);
	expect_killed(&c, "api", SYS_socket, "socket");
}

static int api_accept_blocking(void *arg)
{
	int lfd = *(int *)arg;

	accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* server.c always adds SOCK_NONBLOCK */
	return 0;
}

static int api_accept_prepare(void *arg)
{
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct in_thread t = {.role = SECCOMP_API, .fn = api_accept_blocking, .arg = &lfd};

	(void)arg;
	CHECK(lfd >= 0);
	return run_in_thread(&t);
}

static void test_api_accept_flags_killed(void **state)
{
	struct child c;

	(void)state;
	run_child(api_accept_prepare, NULL, &c);
	expect_killed(&c, "api", SYS_accept4, "accept4");
}

/* ---- what the threads really do: allowed ---------------------------------- */

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
	CHECK(open("/proc/self/status", O_RDONLY | O_CLOEXEC) < 0 ? errno == EACCES
								  : arg != NULL);
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
	int file_fd, efd, ep_fd, null_fd, lfd;
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
	fd = open(v->snap_path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	close(fd);
	fd = open(v->snap_path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	close(fd);
	/* vsock: AF_UNIX sockets to the host side. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&v->sa, sizeof(v->sa)) == 0);
	close(fd);
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
	assert_true(v->efd >= 0 && v->ep_fd >= 0 && v->null_fd >= 0 && v->lfd >= 0);
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

/* ---- capabilities -------------------------------------------------------- */

static int status_hex(const char *status, const char *key, uint64_t *v)
{
	const char *p = strstr(status, key);

	if (!p)
		return -1;
	*v = strtoull(p + strlen(key), NULL, 16);
	return 0;
}

static int drop_caps_child(void *arg)
{
	bool had_setpcap = *(bool *)arg;
	char st[4096];
	uint64_t v;
	ssize_t n;
	int fd;

	CHECK(seccomp_drop_caps() == 0);
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	n = read(fd, st, sizeof(st) - 1);
	CHECK(n > 0);
	st[n] = '\0';
	close(fd);
	CHECK(status_hex(st, "CapInh:\t", &v) == 0 && v == 0);
	CHECK(status_hex(st, "CapPrm:\t", &v) == 0 && v == 0);
	CHECK(status_hex(st, "CapEff:\t", &v) == 0 && v == 0);
	CHECK(status_hex(st, "CapAmb:\t", &v) == 0 && v == 0);
	if (had_setpcap)
		CHECK(status_hex(st, "CapBnd:\t", &v) == 0 && v == 0);
	CHECK(strstr(st, "NoNewPrivs:\t1"));
	return 0;
}

static void test_drop_caps(void **state)
{
	char st[4096];
	uint64_t eff = 0;
	bool had_setpcap;
	ssize_t n;
	int fd;
	struct child c;

	(void)state;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, st, sizeof(st) - 1);
	close(fd);
	assert_true(n > 0);
	st[n] = '\0';
	assert_int_equal(status_hex(st, "CapEff:\t", &eff), 0);
	had_setpcap = eff & (1ull << 8); /* CAP_SETPCAP */
	if (!had_setpcap)
		print_message("no CAP_SETPCAP: the bounding set is not checked\n");
	run_child(drop_caps_child, &had_setpcap, &c);
	expect_ok(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_counts),
	    cmocka_unit_test(test_each_filter_loads),
	    cmocka_unit_test(test_vcpu_openat_killed),
	    cmocka_unit_test(test_vcpu_execve_killed),
	    cmocka_unit_test(test_vcpu_ioctl_killed),
	    cmocka_unit_test(test_vcpu_socket_killed),
	    cmocka_unit_test(test_vcpu_futex_requeue_killed),
	    cmocka_unit_test(test_vmm_exec_memory_killed),
	    cmocka_unit_test(test_vmm_socket_inet_killed),
	    cmocka_unit_test(test_vmm_fork_killed),
	    cmocka_unit_test(test_vmm_tgkill_other_signal_killed),
	    cmocka_unit_test(test_vmm_open_rdwr_killed),
	    cmocka_unit_test(test_api_socket_killed_signals_blocked),
	    cmocka_unit_test(test_api_accept_flags_killed),
	    cmocka_unit_test(test_thread_arena_trim_survives),
	    cmocka_unit_test(test_boot_vcpu_and_vmm_allowed),
	    cmocka_unit_test(test_vmm_allowed),
	    cmocka_unit_test(test_vmm_socket_unix_allowed),
	    cmocka_unit_test(test_api_allowed),
	    cmocka_unit_test(test_drop_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
