// SPDX-License-Identifier: Apache-2.0
/*
 * The Uffd memory backend: snap_uffd_handoff against the real example
 * handler (build/ember-uffd-handler, or $EMBER_UFFD_HANDLER) run as a child
 * on a 16-page memory file, the exact message on a socket of our own, the
 * handler's refusal of bad messages, and ember's errors with nothing left
 * open.  The fake ember of the refusal cases sends with ember's own
 * snap_uffd_send.  Skips where the kernel gives no userfaultfd (EPERM, ENOSYS) or the
 * handler is not built.  Faults on registered memory wait for the handler
 * for ever if it fails, so the cases that touch such memory run under an
 * alarm.
 */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "uffd.h"

#define PG    4096u
#define PAGES 16u
#define LOW   6u /* pages of the first region; the rest make the second, as ember's low/high RAM */

static char dir[] = "/tmp/ember-uffd-XXXXXX";
static char sock_path[64], mem_path[64], err_path[64];
static char handler[PATH_MAX];
static uint8_t image[PAGES * PG]; /* the memory file's contents */
static int uffd_errno;		  /* why a userfaultfd could not be had, or 0 */

/* Page p: its index, then bytes that differ from page to page and within one. */
static void fill_image(void)
{
	for (unsigned p = 0; p < PAGES; p++) {
		memcpy(image + p * PG, &p, sizeof(p));
		for (unsigned i = sizeof(p); i < PG; i++)
			image[p * PG + i] = (uint8_t)(p * 31 + i * 7 + 1);
	}
}

static uint8_t *anon(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	return m;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = -3; /* ".", ".." and d's own */

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * Whether a userfaultfd can be had, through ember's own code: it creates and
 * registers the userfaultfd before it connects, so ENOENT from a missing
 * socket means all that worked.
 */
static int probe_uffd(void)
{
	struct snap_uffd_region r = {.size = PG};
	char err[256];
	int ret;

	r.host_addr = (uintptr_t)anon(PG);
	ret = snap_uffd_handoff("/nonexistent/ember-uffd.sock", &r, 1, err, sizeof(err));
	munmap((void *)(uintptr_t)r.host_addr, PG);
	return ret == -ENOENT ? 0 : -ret;
}

static int setup(void **state)
{
	const char *env = getenv("EMBER_UFFD_HANDLER");
	char self[PATH_MAX];
	ssize_t len;
	int fd;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/handler.sock", dir);
	snprintf(mem_path, sizeof(mem_path), "%s/mem", dir);
	snprintf(err_path, sizeof(err_path), "%s/handler.err", dir);
	fill_image();
	fd = open(mem_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, image, sizeof(image)) != (ssize_t)sizeof(image))
		return -1;
	close(fd);
	/* build/tests/test_uffd -> build/ember-uffd-handler */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return -1;
	self[len] = '\0';
	snprintf(handler, sizeof(handler), "%s/../ember-uffd-handler", dirname(self));
	if (env && *env)
		snprintf(handler, sizeof(handler), "%s", env);
	uffd_errno = probe_uffd();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	unlink(mem_path);
	unlink(err_path);
	rmdir(dir);
	return 0;
}

static void need_uffd(bool need_handler)
{
	if (uffd_errno == EPERM || uffd_errno == ENOSYS || uffd_errno == EACCES) {
		print_message("no userfaultfd here (%s): skipped\n", strerror(uffd_errno));
		skip();
	}
	assert_int_equal(uffd_errno, 0);
	if (need_handler && access(handler, X_OK)) {
		print_message("%s not built: skipped\n", handler);
		skip();
	}
}

/* Runs the handler, stderr to err_path, and waits for its "ready". */
static pid_t start_handler(void)
{
	struct pollfd p = {.events = POLLIN};
	char line[16] = "";
	int out[2], errfd;
	pid_t pid;

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(errfd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errfd, 2);
		execl(handler, handler, sock_path, mem_path, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(errfd);
	p.fd = out[0];
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(read(out[0], line, sizeof(line) - 1) > 0);
	close(out[0]);
	assert_string_equal(line, "ready\n");
	return pid;
}

/* The wait status, or -1 (and the process killed) if it is still running after @ms. */
static int wait_exit(pid_t pid, int ms)
{
	int status;

	for (int waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void test_round_trip(void **state)
{
	static uint8_t expect[PAGES * PG];
	struct snap_uffd_region r[2];
	uint8_t *low, *high;
	char err[256] = "";
	int uffd, fds, status;
	pid_t pid;

	(void)state;
	need_uffd(true);
	alarm(30);
	low = anon(LOW * PG);
	high = anon((PAGES - LOW) * PG);
	r[0] = (struct snap_uffd_region){(uintptr_t)low, LOW * PG, 0};
	r[1] = (struct snap_uffd_region){(uintptr_t)high, (PAGES - LOW) * PG, LOW * PG};
	pid = start_handler();
	fds = open_fds();
	uffd = snap_uffd_handoff(sock_path, r, 2, err, sizeof(err));
	if (uffd < 0)
		fail_msg("snap_uffd_handoff: %s", err);
	assert_int_equal(open_fds(), fds + 1); /* the uffd, nothing else */

	/* A write fault first: the page arrives whole, then the write lands on it. */
	memcpy(expect, image, sizeof(expect));
	high[PG + 100] ^= 0xff;
	expect[(LOW + 1) * PG + 100] ^= 0xff;
	/* Then every page, last first, so the order is not the file's. */
	for (unsigned p = PAGES; p-- > 0;) {
		const uint8_t *host = p < LOW ? low + p * PG : high + (p - LOW) * PG;

		assert_memory_equal(host, expect + p * PG, PG);
	}

	/* Still serving (ember lives on): it ends only on our signal. */
	close(uffd);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	munmap(low, LOW * PG);
	munmap(high, (PAGES - LOW) * PG);
	alarm(0);
}

/* A child plays ember: once it has exited, the handler must notice and exit 0. */
static void test_handler_exits_with_ember(void **state)
{
	int status;
	pid_t pid, ember;

	(void)state;
	need_uffd(true);
	alarm(30);
	pid = start_handler();
	ember = fork();
	assert_true(ember >= 0);
	if (ember == 0) {
		uint8_t *m = anon(PAGES * PG);
		struct snap_uffd_region r = {(uintptr_t)m, PAGES * PG, 0};
		char err[256];

		if (snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)) < 0)
			_exit(2);
		_exit(memcmp(m, image, sizeof(image)) ? 1 : 0);
	}
	assert_int_equal(waitpid(ember, &status, 0), ember);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	status = wait_exit(pid, 5000);
	assert_true(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	alarm(0);
}

/* The message byte for byte, received on a socket of our own, and its fd. */
static void test_message(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct snap_uffd_region r[2];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char buf[1024] = "", want[1024], link[64] = "", err[256] = "", *path;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	uint8_t *m;
	int lsn, conn, uffd, got_fd = -1;

	(void)state;
	need_uffd(false);
	m = anon(3 * PG);
	r[0] = (struct snap_uffd_region){(uintptr_t)m, PG, 0};
	r[1] = (struct snap_uffd_region){(uintptr_t)m + 2 * PG, PG, 5 * PG};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/own.sock", dir);
	path = sa.sun_path;
	lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lsn, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lsn, 1), 0);

	/* connect completes into the backlog, so no thread is needed to accept. */
	uffd = snap_uffd_handoff(path, r, 2, err, sizeof(err));
	if (uffd < 0)
		fail_msg("snap_uffd_handoff: %s", err);
	conn = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
	assert_true(conn >= 0);
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	assert_true(recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) > 0);
	c = CMSG_FIRSTHDR(&mh);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	memcpy(&got_fd, CMSG_DATA(c), sizeof(int));
	snprintf(want, sizeof(want),
		 "[{\"base_host_virt_addr\":%llu,\"size\":4096,\"offset\":0,\"page_size\":4096,"
		 "\"page_size_kib\":4096},"
		 "{\"base_host_virt_addr\":%llu,\"size\":4096,\"offset\":20480,\"page_size\":4096,"
		 "\"page_size_kib\":4096}]",
		 (unsigned long long)r[0].host_addr, (unsigned long long)r[1].host_addr);
	assert_string_equal(buf, want);
	assert_true(read(conn, buf, sizeof(buf)) == 0); /* one message, then ember hangs up */
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", got_fd);
	assert_true(readlink(buf, link, sizeof(link) - 1) > 0);
	assert_string_equal(link, "anon_inode:[userfaultfd]");

	close(got_fd);
	close(uffd);
	close(conn);
	close(lsn);
	unlink(path);
	munmap(m, 3 * PG);
}

/* Handler gone or never there, memory not mapped: -errno, a message, no fd left. */
static void test_errors(void **state)
{
	struct snap_uffd_region r = {.size = PG};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char err[256] = "";
	int fds, lsn, fill[8], nfill = 0;

	(void)state;
	need_uffd(false);
	r.host_addr = (uintptr_t)anon(PG);
	fds = open_fds();

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/none.sock", dir);
	assert_int_equal(snap_uffd_handoff(sa.sun_path, &r, 1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none.sock"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(open_fds(), fds);

	/* A handler that has closed its socket: the file is there, nobody listens. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/closed.sock", dir);
	lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lsn, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lsn, 1), 0);
	close(lsn);
	assert_int_equal(snap_uffd_handoff(sa.sun_path, &r, 1, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "closed.sock"));
	assert_int_equal(open_fds(), fds);
	unlink(sa.sun_path);

	/*
	 * A handler that listens and never accepts, its backlog full: refused
	 * at once.  A blocking connect would wait for good (on the VMM
	 * thread); alarm() turns that regression into a failure, not a hang.
	 */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/full.sock", dir);
	lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lsn, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lsn, 0), 0);
	while (nfill < 8) {
		fill[nfill] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		assert_true(fill[nfill] >= 0);
		if (connect(fill[nfill], (struct sockaddr *)&sa, sizeof(sa))) {
			assert_int_equal(errno, EAGAIN);
			close(fill[nfill]);
			break;
		}
		nfill++;
	}
	assert_true(nfill < 8);
	fds = open_fds();
	alarm(20);
	assert_int_equal(snap_uffd_handoff(sa.sun_path, &r, 1, err, sizeof(err)), -EAGAIN);
	alarm(0);
	assert_non_null(strstr(err, "backlog full"));
	assert_int_equal(open_fds(), fds);
	while (nfill)
		close(fill[--nfill]);
	close(lsn);
	unlink(sa.sun_path);
	fds = open_fds();

	/* Registering memory that is not mapped fails before any connection. */
	munmap((void *)(uintptr_t)r.host_addr, PG);
	assert_true(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "UFFDIO_REGISTER"));
	assert_int_equal(open_fds(), fds);
}

/* Refused before any userfaultfd exists: needs no kernel support. */
static void test_bad_arguments(void **state)
{
	struct snap_uffd_region r = {.host_addr = 0x10000, .size = PG, .offset = 0};
	char err[256] = "", path[200];

	(void)state;
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no memory region"));
	r.host_addr += 1;
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not page aligned"));
	r.host_addr -= 1;
	r.offset = 512;
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)), -EINVAL);
	r.offset = 0;
	r.size = 0;
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)), -EINVAL);
	r.size = PG;
	r.offset = (uint64_t)INT64_MAX & ~(uint64_t)(PG - 1);
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)), -EINVAL);
	r.offset = 0;
	/* huge_pages "2M": whole 2 MiB pages; and no page size but 4 KiB and 2 MiB. */
	r.page_size = 2u << 20;
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not page aligned"));
	r.page_size = 65536;
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "page size 65536"));
	r.page_size = 0;
	assert_int_equal(snap_uffd_handoff(NULL, &r, 1, err, sizeof(err)), -EINVAL);
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(snap_uffd_handoff(path, &r, 1, err, sizeof(err)), -ENAMETOOLONG);
	/* No room for a message is no reason to crash. */
	assert_int_equal(snap_uffd_handoff(sock_path, &r, 0, NULL, 0), -EINVAL);
}

/* A handler that hangs up before the message: -EPIPE, and no SIGPIPE to end ember. */
static void test_send_to_closed(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(snap_uffd_send(sv[0], "[]", 2, sv[0]), -EPIPE);
	assert_int_equal(snap_uffd_send(sv[0], "[]", 2, -1), -EPIPE);
	close(sv[0]);
}

/* Sends @msg as ember would, with @fd attached unless it is -1, and hangs up. */
static void send_as_ember(const char *msg, int fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(snap_uffd_send(s, msg, strlen(msg), fd), 0);
	close(s);
}

/* Every malformed message ends the handler with status 1 and one line saying why. */
static void test_handler_refuses(void **state)
{
	static const struct {
		const char *msg, *why;
		bool fd;
	} bad[] = {
	    {"garbage", "not JSON", true},
	    {"{}", "not an array", true},
	    {"[]", "not an array", true},
	    {"[1]", "not an object", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":4096}]", "lacks", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":-4096,\"offset\":0}]", "non-negative", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":\"4096\",\"offset\":0}]", "integer", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":4096.0,\"offset\":0}]", "integer", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":100,\"offset\":0}]", "page aligned", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":65536}]", "beyond", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":18446744073709547520}]",
	     "not JSON", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size\":65536}]",
	     "page size", true},
	    /* 2 MiB pages (huge_pages "2M"): whole ones, and both fields agree. */
	    {"[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"page_size\":2097152}]",
	     "page aligned", true},
	    {"[{\"base_host_virt_addr\":2097152,\"size\":2097152,\"offset\":0,\"page_size\":"
	     "2097152,\"page_size_kib\":4096}]",
	     "differ", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0,\"size\":4096}]",
	     "not JSON", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0},"
	     "{\"base_host_virt_addr\":8192,\"size\":4096,\"offset\":0}]",
	     "overlap", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0}] x", "not JSON", true},
	    {"[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0}]", "no userfaultfd",
	     false},
	};
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)state;
	need_uffd(true);
	assert_true(devnull >= 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[512] = "";
		pid_t pid = start_handler();
		int status, fd;

		send_as_ember(bad[i].msg, bad[i].fd ? devnull : -1);
		status = wait_exit(pid, 5000);
		fd = open(err_path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0 && read(fd, out, sizeof(out) - 1) > 0);
		close(fd);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
		    !strstr(out, bad[i].why) || strchr(out, '\n') != out + strlen(out) - 1)
			fail_msg("message %zu (%s): status %d, stderr '%s', want '%s'", i,
				 bad[i].msg, status, out, bad[i].why);
	}
	close(devnull);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_handler_exits_with_ember),
	    cmocka_unit_test(test_message),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_send_to_closed),
	    cmocka_unit_test(test_handler_refuses),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, setup, teardown);
}
