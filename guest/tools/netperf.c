/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netperf - bulk TCP and vsock throughput for make bench (bench/net-in-l1.sh).
 * Both ends are this one file: guest/mkinitramfs.sh builds it into the guest
 * (the server), the Makefile builds it as build/netperf for L1 (the client),
 * so the protocol is written once and the initramfs hash sees every change.
 *
 *   netperf serve PORT                        serve on TCP and vsock PORT, forever
 *   netperf tcp HOST PORT to|from MIB SECS    one transfer over TCP to HOST (IPv4)
 *   netperf hvsock UDS PORT to|from MIB SECS  ... over Firecracker's hybrid vsock
 *                                             (ember: "CONNECT PORT" on UDS)
 *   netperf vsock CID PORT to|from MIB SECS   ... over AF_VSOCK (QEMU: vhost-vsock)
 *
 * Protocol: the client sends one line, "SINK N\n" or "SOURCE N\n".
 *   SINK    the client sends N bytes; the server reads them all, then answers
 *           "DONE N\n".  So the client's clock stops when the data reached
 *           the guest's application, not when it left the client's socket
 *           buffer.
 *   SOURCE  the server sends N bytes, then shuts its side down.
 * The client times from its request to the DONE line (to) or the last byte
 * (from) and prints
 *   bytes=N us=N mbit_s=X
 * The payload is not checked: integrity is the integration tests' job, and
 * a check would load the very CPUs being measured.
 *
 * Exit status 0 on success; otherwise 1 with a message on stderr, after SECS
 * seconds at the latest (alarm): the bench never waits on a stuck transfer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#define CHUNK	      (256u << 10) /* bytes per send/recv: large, like a bulk copy */
#define SERVE_TIMEOUT 600	   /* a server child gives up on a stuck client */

static uint8_t buf[CHUNK];
static volatile sig_atomic_t timed_out;
static uint64_t moved, want; /* progress, for the timeout message */

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	/* Again in a second: one that came between the loops' check of
	 * timed_out and their next blocking call must not be lost. */
	alarm(1);
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("netperf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* An I/O error's message; an alarm shows as EINTR, and says how far it got. */
static int io_fail(const char *what)
{
	if (errno == EINTR && timed_out)
		return fail("timed out in %s after %llu of %llu bytes", what,
			    (unsigned long long)moved, (unsigned long long)want);
	return fail("%s: %s", what, errno ? strerror(errno) : "connection closed");
}

/*
 * Arms a SECS-second alarm without SA_RESTART, so a blocked connect, send
 * or recv returns when it rings: EINTR, or a short count that the loops
 * below catch by checking timed_out before every call.
 */
static void arm_timeout(unsigned secs)
{
	struct sigaction sa = {.sa_handler = on_alarm};

	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

static int send_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t n = timed_out ? (errno = EINTR, -1) : send(fd, b, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR && !timed_out)
			continue;
		if (n <= 0)
			return io_fail("send");
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends @bytes of the filler in buf. */
static int send_bytes(int fd, uint64_t bytes)
{
	for (moved = 0; moved < bytes;) {
		size_t k = bytes - moved < CHUNK ? (size_t)(bytes - moved) : CHUNK;

		if (send_all(fd, buf, k))
			return -1;
		moved += k;
	}
	return 0;
}

/*
 * recv() that retries a signal other than the alarm; > 0 bytes, or -1 after
 * the message (end of stream included: a peer never closes early here).
 */
static ssize_t recv_some(int fd, void *p, size_t len, const char *what)
{
	ssize_t n;

	do
		n = timed_out ? (errno = EINTR, -1) : recv(fd, p, len, 0);
	while (n < 0 && errno == EINTR && !timed_out);
	if (n > 0)
		return n;
	if (n == 0)
		errno = 0;
	return io_fail(what);
}

/* Receives and drops exactly @bytes. */
static int recv_bytes(int fd, uint64_t bytes)
{
	for (moved = 0; moved < bytes;) {
		size_t k = bytes - moved < CHUNK ? (size_t)(bytes - moved) : CHUNK;
		ssize_t n = recv_some(fd, buf, k, "recv");

		if (n < 0)
			return -1;
		moved += (uint64_t)n;
	}
	return 0;
}

/* Reads one '\n'-terminated line byte by byte, so no payload is eaten. */
static int recv_line(int fd, char *line, size_t size)
{
	for (size_t n = 0; n + 1 < size; n++) {
		if (recv_some(fd, line + n, 1, "reading a line") < 0)
			return -1;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
	}
	return fail("line too long");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------ server */

/* One connection: its request, then the transfer. */
static int serve_one(int fd)
{
	char line[64], done[64];
	uint64_t n;

	if (recv_line(fd, line, sizeof(line)))
		return 1;
	if (!strncmp(line, "SINK ", 5) && !parse_u64(line + 5, UINT64_MAX, &n)) {
		want = n;
		if (recv_bytes(fd, n))
			return 1;
		snprintf(done, sizeof(done), "DONE %llu\n", (unsigned long long)n);
		return send_all(fd, done, strlen(done)) ? 1 : 0;
	}
	if (!strncmp(line, "SOURCE ", 7) && !parse_u64(line + 7, UINT64_MAX, &n)) {
		want = n;
		if (send_bytes(fd, n))
			return 1;
		/* FIN after the data, then wait for the client to close: an
		 * early close() could reset a connection still draining. */
		shutdown(fd, SHUT_WR);
		while (recv(fd, buf, CHUNK, 0) > 0)
			;
		return 0;
	}
	fail("bad request '%s'", line);
	return 1;
}

static int listener(int family, const struct sockaddr *a, socklen_t alen)
{
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, a, alen) || listen(fd, 16)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(uint32_t port)
{
	struct sockaddr_in in = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	struct sockaddr_vm vm = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	struct pollfd p[2];

	p[0].fd = listener(AF_INET, (struct sockaddr *)&in, sizeof(in));
	if (p[0].fd < 0) {
		fail("TCP port %u: %s", port, strerror(errno));
		return 1;
	}
	/* No vsock device (QEMU without vhost-vsock) only loses that half. */
	p[1].fd = listener(AF_VSOCK, (struct sockaddr *)&vm, sizeof(vm));
	if (p[1].fd < 0)
		fail("vsock port %u: %s (TCP only)", port, strerror(errno));
	p[0].events = p[1].events = POLLIN;
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	if (p[1].fd < 0)
		printf("NETPERF_READY tcp=%u vsock=-\n", port);
	else
		printf("NETPERF_READY tcp=%u vsock=%u\n", port, port);
	fflush(stdout);
	for (;;) {
		if (poll(p, p[1].fd < 0 ? 1 : 2, -1) < 0)
			continue;
		for (int i = 0; i < 2; i++) {
			int fd;

			if (p[i].fd < 0 || !(p[i].revents & POLLIN))
				continue;
			fd = accept(p[i].fd, NULL, NULL);
			if (fd < 0)
				continue;
			/* One process per transfer: a stuck one cannot block
			 * the next, and its alarm ends it. */
			if (fork() == 0) {
				close(p[0].fd);
				if (p[1].fd >= 0)
					close(p[1].fd);
				arm_timeout(SERVE_TIMEOUT);
				_exit(serve_one(fd));
			}
			close(fd);
		}
	}
}

/* ------------------------------------------------------------ client */

static int connect_to(int family, const struct sockaddr *a, socklen_t alen)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return io_fail("socket");
	if (connect(fd, a, alen)) {
		io_fail("connect");
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(const char *host, const char *port_s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	uint64_t port;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || parse_u64(port_s, 65535, &port))
		return fail("bad address %s:%s", host, port_s);
	a.sin_port = htons((uint16_t)port);
	return connect_to(AF_INET, (struct sockaddr *)&a, sizeof(a));
}

static int connect_vsock(const char *cid_s, const char *port_s)
{
	struct sockaddr_vm a = {.svm_family = AF_VSOCK};
	uint64_t cid, port;

	if (parse_u64(cid_s, UINT32_MAX, &cid) || parse_u64(port_s, UINT32_MAX, &port))
		return fail("bad vsock address %s:%s", cid_s, port_s);
	a.svm_cid = (uint32_t)cid;
	a.svm_port = (uint32_t)port;
	return connect_to(AF_VSOCK, (struct sockaddr *)&a, sizeof(a));
}

/* Firecracker's hybrid vsock: connect to UDS, "CONNECT PORT\n", "OK ...\n". */
static int connect_hybrid(const char *uds, const char *port_s)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char line[64];
	int fd;

	if (strlen(uds) >= sizeof(a.sun_path))
		return fail("socket path too long: %s", uds);
	strcpy(a.sun_path, uds);
	fd = connect_to(AF_UNIX, (struct sockaddr *)&a, sizeof(a));
	if (fd < 0)
		return -1;
	snprintf(line, sizeof(line), "CONNECT %s\n", port_s);
	if (send_all(fd, line, strlen(line)) || recv_line(fd, line, sizeof(line)))
		goto err;
	if (strncmp(line, "OK ", 3)) {
		fail("CONNECT %s answered '%s'", port_s, line);
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/* One timed transfer on a connected @fd; 0 after printing the result. */
static int transfer(int fd, int to_guest, uint64_t bytes)
{
	char line[64], expect[64];
	uint64_t t0, us;

	want = bytes;
	snprintf(line, sizeof(line), "%s %llu\n", to_guest ? "SINK" : "SOURCE",
		 (unsigned long long)bytes);
	t0 = now_us();
	if (send_all(fd, line, strlen(line)))
		return -1;
	if (to_guest) {
		snprintf(expect, sizeof(expect), "DONE %llu", (unsigned long long)bytes);
		if (send_bytes(fd, bytes) || recv_line(fd, line, sizeof(line)))
			return -1;
		if (strcmp(line, expect))
			return fail("expected '%s', got '%s'", expect, line);
	} else if (recv_bytes(fd, bytes)) {
		return -1;
	}
	us = now_us() - t0;
	if (!us)
		us = 1;
	printf("bytes=%llu us=%llu mbit_s=%.1f\n", (unsigned long long)bytes,
	       (unsigned long long)us, (double)bytes * 8 / (double)us);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: netperf serve PORT\n"
			"       netperf tcp HOST PORT to|from MIB SECS\n"
			"       netperf hvsock UDS PORT to|from MIB SECS\n"
			"       netperf vsock CID PORT to|from MIB SECS\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t port, mib, secs;
	int fd, to_guest;

	/* The filler: not zeros, so no layer can take a shortcut on them. */
	for (size_t i = 0; i < CHUNK; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	if (argc == 3 && !strcmp(argv[1], "serve")) {
		if (parse_u64(argv[2], 65535, &port))
			return usage();
		return serve((uint32_t)port);
	}
	if (argc != 7 || (strcmp(argv[4], "to") && strcmp(argv[4], "from")) ||
	    parse_u64(argv[5], 1u << 20, &mib) || !mib || parse_u64(argv[6], 86400, &secs) || !secs)
		return usage();
	to_guest = !strcmp(argv[4], "to");
	arm_timeout((unsigned)secs);
	if (!strcmp(argv[1], "tcp"))
		fd = connect_tcp(argv[2], argv[3]);
	else if (!strcmp(argv[1], "hvsock"))
		fd = connect_hybrid(argv[2], argv[3]);
	else if (!strcmp(argv[1], "vsock"))
		fd = connect_vsock(argv[2], argv[3]);
	else
		return usage();
	if (fd < 0 || transfer(fd, to_guest, mib << 20))
		return 1;
	close(fd);
	return 0;
}
