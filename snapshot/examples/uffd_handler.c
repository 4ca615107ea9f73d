// SPDX-License-Identifier: Apache-2.0
/*
 * ember-uffd-handler SOCKET_PATH MEM_FILE - an example page fault handler
 * for the Uffd memory backend of ember (and Firecracker): it serves every
 * missing guest page from the memory file.  A start for your own.
 *
 * 1. Maps MEM_FILE, listens on SOCKET_PATH (replacing a stale socket) and
 *    prints "ready"; start the restore after that.
 * 2. Accepts one connection: ember sends the JSON array of regions (format
 *    in snapshot/uffd.h) with the userfaultfd attached, and hangs up.
 * 3. Answers each fault with UFFDIO_COPY of its page from the file (4 KiB,
 *    or 2 MiB for a VM on hugetlbfs pages: a region's page_size),
 *    until ember exits: a pidfd of the peer (SO_PEERCRED) tells, as the
 *    userfaultfd cannot (this process holds a reference to it).
 *
 * Exit 0 once ember is gone; 1 with one line on stderr on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define PAGE	    4096ull    /* guest pages, unless the region says 2 MiB */
#define HUGE_PAGE   (2ull << 20) /* machine-config huge_pages "2M"; other sizes are refused */
#define MAX_REGIONS 64	       /* ember sends one or two */
#define MAX_MSG	    (64 << 10) /* ditto, ~100 bytes each */
#define MSG_TIMEOUT 10000      /* ms for ember to send the message once connected */

struct region {
	uint64_t base, size, offset;
	uint64_t ps; /* page size: UFFDIO_COPY moves whole pages of it */
};

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("ember-uffd-handler: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("%s: socket path too long", path);
	memcpy(sa.sun_path, path, strlen(path));
	/* A socket left by an earlier run would make bind fail; anything else is not ours. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1))
		die("%s: %s", path, strerror(errno));
	return fd;
}

/* The whole message (ember closes after it) and the one fd that comes with it. */
static size_t receive(int conn, char *buf, size_t cap, int *fd)
{
	size_t len = 0;

	*fd = -1;
	for (;;) {
		union {
			struct cmsghdr hdr;
			char buf[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = {.iov_base = buf + len, .iov_len = cap - len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		struct pollfd p = {.fd = conn, .events = POLLIN};
		struct cmsghdr *c;
		ssize_t got;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if (poll(&p, 1, MSG_TIMEOUT) == 0)
			die("no message within %d ms", MSG_TIMEOUT);
		got = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			die("recvmsg: %s", strerror(errno));
		if (mh.msg_flags & MSG_CTRUNC)
			die("more than one fd attached to the message");
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
			    c->cmsg_len != CMSG_LEN(sizeof(int)) || *fd >= 0)
				die("unexpected control message");
			memcpy(fd, CMSG_DATA(c), sizeof(int));
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len == cap)
			die("message longer than %zu bytes", cap - 1);
	}
	if (*fd < 0)
		die("no userfaultfd attached to the message");
	buf[len] = '\0';
	return len;
}

/* 1 and *v if present and a non-negative integer (< 2^63: no sum wraps), 0 if absent. */
static int field(json_t *o, unsigned i, const char *key, uint64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!j)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		die("region %u: %s is not a non-negative integer", i, key);
	*v = (uint64_t)json_integer_value(j);
	return 1;
}

static unsigned parse(const char *msg, size_t len, uint64_t file_size, struct region *r)
{
	json_error_t e;
	json_t *arr = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &e);
	unsigned n;

	if (!arr)
		die("message is not JSON: %s (column %d)", e.text, e.column);
	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > MAX_REGIONS)
		die("message is not an array of 1 to %d regions", MAX_REGIONS);
	n = (unsigned)json_array_size(arr);
	for (unsigned i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		uint64_t ps = 0;

		if (!json_is_object(o))
			die("region %u is not an object", i);
		if (!field(o, i, "base_host_virt_addr", &r[i].base) ||
		    !field(o, i, "size", &r[i].size) || !field(o, i, "offset", &r[i].offset))
			die("region %u lacks base_host_virt_addr, size or offset", i);
		/* Both page size fields are in bytes (see snapshot/uffd.h) and agree. */
		r[i].ps = PAGE;
		if (field(o, i, "page_size", &ps))
			r[i].ps = ps;
		if (field(o, i, "page_size_kib", &ps) && ps != r[i].ps)
			die("region %u: page_size and page_size_kib differ", i);
		if (r[i].ps != PAGE && r[i].ps != HUGE_PAGE)
			die("region %u: page size %llu, only %llu and %llu are supported", i,
			    (unsigned long long)r[i].ps, PAGE, HUGE_PAGE);
		if (!r[i].size || (r[i].base | r[i].size | r[i].offset) % r[i].ps)
			die("region %u is empty or not page aligned", i);
		if (r[i].size > file_size || r[i].offset > file_size - r[i].size)
			die("region %u lies beyond the memory file's %llu bytes", i,
			    (unsigned long long)file_size);
		for (unsigned k = 0; k < i; k++)
			if (r[i].base < r[k].base + r[k].size && r[k].base < r[i].base + r[i].size)
				die("regions %u and %u overlap", k, i);
	}
	json_decref(arr);
	return n;
}

/* 0: served (or already present); 1: ember has gone away. */
static int serve(int uffd, const struct region *r, unsigned n, const uint8_t *file, uint64_t addr)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t page = addr & ~(r[i].ps - 1);
		struct uffdio_copy c = {.dst = page, .len = r[i].ps};

		if (page - r[i].base >= r[i].size) /* also when page < base: wraps */
			continue;
		c.src = (uintptr_t)(file + r[i].offset + (page - r[i].base));
		while (ioctl(uffd, UFFDIO_COPY, &c)) {
			if (errno == EEXIST) /* another thread faulted it in first */
				return 0;
			if (errno == ESRCH) /* its address space is gone */
				return 1;
			if (errno != EAGAIN && errno != EINTR) /* EAGAIN: layout changing */
				die("UFFDIO_COPY at 0x%llx: %s", (unsigned long long)page,
				    strerror(errno));
			c.copy = 0;
		}
		return 0;
	}
	die("fault at 0x%llx outside every region", (unsigned long long)addr);
}

/* A pidfd of the connected process, or -1 where it cannot be had (another pid namespace). */
static int peer_pidfd(int conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.pid <= 0)
		return -1;
	return (int)syscall(SYS_pidfd_open, cred.pid, 0);
}

int main(int argc, char **argv)
{
	static char msg[MAX_MSG];
	struct region r[MAX_REGIONS];
	struct pollfd p[2];
	const uint8_t *file;
	struct stat st;
	int mem, lsn, conn, uffd, pidfd;
	unsigned n;
	size_t len;

	if (argc != 3)
		die("usage: ember-uffd-handler SOCKET_PATH MEM_FILE");
	mem = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (mem < 0 || fstat(mem, &st))
		die("%s: %s", argv[2], strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		die("%s: not a regular, non-empty file", argv[2]);
	/* Private and read-only: UFFDIO_COPY copies out of it, nothing writes back. */
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, mem, 0);
	if (file == MAP_FAILED)
		die("mmap %s: %s", argv[2], strerror(errno));
	close(mem);

	lsn = listen_on(argv[1]);
	printf("ready\n");
	fflush(stdout);
	do
		conn = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0)
		die("accept: %s", strerror(errno));
	close(lsn);
	unlink(argv[1]); /* one VM per handler: nobody else is to connect */
	pidfd = peer_pidfd(conn);
	len = receive(conn, msg, sizeof(msg), &uffd);
	close(conn);
	n = parse(msg, len, (uint64_t)st.st_size, r);

	p[0] = (struct pollfd){.fd = uffd, .events = POLLIN};
	p[1] = (struct pollfd){.fd = pidfd, .events = POLLIN}; /* fd -1: ignored by poll */
	for (;;) {
		struct uffd_msg m;
		ssize_t got;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		/* ember exited; POLLHUP/POLLERR: nothing more can be served either */
		if (p[1].revents || (p[0].revents & (POLLHUP | POLLERR)))
			return 0;
		if (!(p[0].revents & POLLIN))
			continue;
		got = read(uffd, &m, sizeof(m));
		if (got == 0)
			return 0;
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue; /* poll wakes on faults another read may have taken */
		if (got != (ssize_t)sizeof(m))
			die("reading the userfaultfd: %s",
			    got < 0 ? strerror(errno) : "short read");
		switch (m.event) {
		case UFFD_EVENT_PAGEFAULT:
			if (serve(uffd, r, n, file, m.arg.pagefault.address))
				return 0;
			break;
		case UFFD_EVENT_REMOVE: /* not asked for by ember; Firecracker's balloon */
		case UFFD_EVENT_UNMAP:
			break;
		default:
			die("unexpected userfaultfd event %u", m.event);
		}
	}
}
