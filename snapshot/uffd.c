// SPDX-License-Identifier: Apache-2.0
/*
 * The Uffd memory backend, ember's side: create and register the
 * userfaultfd, then hand it with the region list to the page fault handler
 * (protocol in uffd.h).  Order as in Firecracker: every step that can fail
 * on ember's own account (userfaultfd, registering) comes before connecting,
 * so a handler only ever sees a complete message or none.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ember.h"
#include "snapfile.h"
#include "uffd.h"

#ifndef USERFAULTFD_IOC_NEW /* Linux 6.1 headers have it; older ones do not */
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

/* Guest RAM is plain 4 KiB pages, the memory file's granularity too. */
#define UFFD_PAGE ((uint64_t)SNAP_MEM_PAGE)

/* Every failure is "<what>: <strerror>", so the message needs no errno of its own. */
static int uffd_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int uffd_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!err || !errlen)
		return rc;
	va_start(ap, fmt);
	len = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (len >= 0 && (size_t)len < errlen)
		snprintf(err + len, errlen - (size_t)len, ": %s", strerror(-rc));
	return rc;
}

#define UFFD_HUGE_PAGE (2ull << 20)
/* How long the mappings message may wait for room in the handler's socket. */
#define UFFD_SEND_TIMEOUT_S 10

static uint64_t uffd_page_size(const struct snap_uffd_region *r)
{
	return r->page_size ? r->page_size : UFFD_PAGE;
}

static int uffd_check_regions(const struct snap_uffd_region *r, unsigned n, char *err,
			      size_t errlen)
{
	if (!n)
		return uffd_fail(err, errlen, -EINVAL, "uffd: no memory region");
	for (unsigned i = 0; i < n; i++) {
		uint64_t ps = uffd_page_size(&r[i]);

		if (ps != UFFD_PAGE && ps != UFFD_HUGE_PAGE)
			return uffd_fail(err, errlen, -EINVAL, "uffd: region %u: page size %llu", i,
					 (unsigned long long)ps);
		if (!r[i].size || (r[i].host_addr | r[i].size | r[i].offset) % ps)
			return uffd_fail(
			    err, errlen, -EINVAL,
			    "uffd: region %u (0x%llx+0x%llx at offset 0x%llx) is empty or "
			    "not page aligned",
			    i, (unsigned long long)r[i].host_addr, (unsigned long long)r[i].size,
			    (unsigned long long)r[i].offset);
		/* JSON integers are signed 64-bit in jansson and in most handlers' parsers. */
		if (r[i].host_addr > INT64_MAX - r[i].size || r[i].offset > INT64_MAX - r[i].size)
			return uffd_fail(err, errlen, -EINVAL, "uffd: region %u is out of range",
					 i);
	}
	return 0;
}

/*
 * The syscall needs CAP_SYS_PTRACE unless vm.unprivileged_userfaultfd is 1,
 * and ember has dropped every capability; /dev/userfaultfd (Linux 6.1) is
 * governed by its file permissions instead, like /dev/kvm.  Kernel-mode
 * faults must be caught too (KVM touches guest RAM through
 * get_user_pages), so UFFD_USER_MODE_ONLY, which would spare the
 * capability, is no option.
 */
static int uffd_create(char *err, size_t errlen)
{
	int fd, dev, sys_err, dev_err;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	sys_err = errno;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		dev_err = errno;
		close(dev);
		if (fd >= 0)
			return fd;
	} else {
		dev_err = errno;
	}
	/* The device's error says more, unless there is no device. */
	return uffd_fail(err, errlen, dev_err == ENOENT ? -sys_err : -dev_err,
			 "userfaultfd: %s; /dev/userfaultfd", strerror(sys_err));
}

static int uffd_register(int uffd, const struct snap_uffd_region *r, unsigned n, char *err,
			 size_t errlen)
{
	struct uffdio_api api = {.api = UFFD_API, .features = 0};

	if (ioctl(uffd, UFFDIO_API, &api))
		return uffd_fail(err, errlen, -errno, "uffd: UFFDIO_API");
	for (unsigned i = 0; i < n; i++) {
		struct uffdio_register reg = {
		    .range = {.start = r[i].host_addr, .len = r[i].size},
		    .mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			return uffd_fail(err, errlen, -errno,
					 "uffd: UFFDIO_REGISTER of region %u (0x%llx+0x%llx)", i,
					 (unsigned long long)r[i].host_addr,
					 (unsigned long long)r[i].size);
		/* Without UFFDIO_COPY on the range the handler could serve no fault. */
		if (!(reg.ioctls & (1ull << _UFFDIO_COPY)))
			return uffd_fail(err, errlen, -EOPNOTSUPP,
					 "uffd: region %u does not support UFFDIO_COPY", i);
	}
	return 0;
}

/* The mappings as Firecracker serialises its GuestRegionUffdMapping list. */
static char *uffd_message(const struct snap_uffd_region *r, unsigned n)
{
	json_t *arr = json_array();
	char *msg = NULL;

	if (!arr)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "base_host_virt_addr",
				      (json_int_t)r[i].host_addr, "size", (json_int_t)r[i].size,
				      "offset", (json_int_t)r[i].offset, "page_size",
				      (json_int_t)uffd_page_size(&r[i]), "page_size_kib",
				      (json_int_t)uffd_page_size(&r[i]));

		if (!o || json_array_append_new(arr, o))
			goto out;
	}
	msg = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(arr);
	return msg;
}

int snap_uffd_send(int sock, const char *msg, size_t len, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	ssize_t sent;

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (iov.iov_len) {
		sent = sendmsg(sock, &mh, MSG_NOSIGNAL); /* EPIPE, not SIGPIPE, if it hung up */
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		iov.iov_base = (char *)iov.iov_base + sent;
		iov.iov_len -= (size_t)sent;
		mh.msg_control = NULL; /* the fd went with the first bytes */
		mh.msg_controllen = 0;
	}
	return 0;
}

int snap_uffd_handoff(const char *sock_path, const struct snap_uffd_region *r, unsigned n,
		      char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *msg = NULL;
	int uffd, sock = -1, ret;

	ret = uffd_check_regions(r, n, err, errlen);
	if (ret)
		return ret;
	if (!sock_path || !*sock_path)
		return uffd_fail(err, errlen, -EINVAL, "uffd: no handler socket path");
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return uffd_fail(err, errlen, -ENAMETOOLONG, "uffd: handler socket path %.40s...",
				 sock_path);
	memcpy(sa.sun_path, sock_path, strlen(sock_path));

	uffd = uffd_create(err, errlen);
	if (uffd < 0)
		return uffd;
	ret = uffd_register(uffd, r, n, err, errlen);
	if (ret)
		goto fail;
	msg = uffd_message(r, n);
	if (!msg) {
		ret = uffd_fail(err, errlen, -ENOMEM, "uffd: building the mappings message");
		goto fail;
	}

	/*
	 * Non-blocking connect: a handler that listens but never accepts (its
	 * backlog full) is EAGAIN at once; a blocking connect would hold the
	 * VMM thread, and with it the API, for good.  The send then blocks
	 * again, bounded by SO_SNDTIMEO (the message fits a socket buffer).
	 */
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0) {
		ret = uffd_fail(err, errlen, -errno, "uffd: socket");
		goto fail;
	}
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = uffd_fail(
		    err, errlen, -errno, "uffd: connect to handler socket %s%s", sock_path,
		    errno == EAGAIN ? " (it accepts no connections: backlog full)" : "");
		goto fail;
	}
	if (fcntl(sock, F_SETFL, 0) ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO,
		       &(struct timeval){.tv_sec = UFFD_SEND_TIMEOUT_S}, sizeof(struct timeval))) {
		ret = uffd_fail(err, errlen, -errno, "uffd: handler socket %s", sock_path);
		goto fail;
	}
	ret = snap_uffd_send(sock, msg, strlen(msg), uffd);
	if (ret) {
		uffd_fail(err, errlen, ret, "uffd: sending the mappings to %s", sock_path);
		goto fail;
	}
	/* The handler holds its own reference now; the protocol says nothing more. */
	close(sock);
	free(msg);
	return uffd;

fail:
	if (sock >= 0)
		close(sock);
	free(msg);
	close(uffd); /* unregisters the regions with it */
	return ret;
}
