/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock-echo - AF_VSOCK echo server and checking client for the tests.
 *
 *   vsock-echo listen PORT             echo every connection back (one child
 *                                      per connection), forever
 *   vsock-echo connect CID PORT BYTES  send BYTES of a fixed pattern, read
 *                                      them back and compare; prints
 *                                      "VSOCK_OK n=BYTES" or "VSOCK_ERR ..."
 *   vsock-echo flood CID PORT N        open N connections at once and keep
 *                                      them; prints "VSOCK_FLOOD ok=A failed=B"
 *
 * The client writes and reads at the same time (poll), so an echo of any
 * size cannot deadlock on full socket buffers.  CID 2 is the host: with
 * ember that reaches the Unix socket "<uds_path>_<PORT>".
 * Exit status: 0 on success, 1 on any error.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 31 + (i >> 9) + 7);
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int vsock_socket(void)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		printf("VSOCK_ERR socket: %s\n", strerror(errno));
	return fd;
}

static int vsock_connect(uint32_t cid, uint32_t port)
{
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	int fd = vsock_socket();

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void echo(int fd)
{
	static char buf[65536];
	ssize_t n, w;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n; off += w) {
			w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				return;
		}
	}
}

static int do_listen(uint32_t port)
{
	struct sockaddr_vm a = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	int l = vsock_socket(), fd;

	if (l < 0)
		return 1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 64)) {
		printf("VSOCK_ERR listen on port %u: %s\n", port, strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	printf("VSOCK_LISTENING port=%u\n", port);
	fflush(stdout);
	for (;;) {
		fd = accept(l, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			printf("VSOCK_ERR accept: %s\n", strerror(errno));
			return 1;
		}
		switch (fork()) {
		case 0:
			close(l);
			echo(fd);
			_exit(0);
		case -1:
			echo(fd); /* no process to spare: serve this one inline */
			break;
		default:
			break;
		}
		close(fd);
	}
}

static int do_connect(uint32_t cid, uint32_t port, uint64_t bytes)
{
	static uint8_t out[65536], in[65536];
	uint64_t sent = 0, got = 0;
	int fd = vsock_connect(cid, port);

	if (fd < 0) {
		printf("VSOCK_ERR connect %u:%u: %s\n", cid, port, strerror(errno));
		return 1;
	}
	while (got < bytes) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0)};
		ssize_t n;

		if (poll(&p, 1, 30000) <= 0) {
			printf("VSOCK_ERR stalled: sent %llu, got %llu of %llu\n",
			       (unsigned long long)sent, (unsigned long long)got,
			       (unsigned long long)bytes);
			return 1;
		}
		if ((p.revents & POLLOUT) && sent < bytes) {
			size_t k =
			    bytes - sent < sizeof(out) ? (size_t)(bytes - sent) : sizeof(out);

			for (size_t i = 0; i < k; i++)
				out[i] = pattern(sent + i);
			n = send(fd, out, k, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				printf("VSOCK_ERR send: %s\n", strerror(errno));
				return 1;
			}
			if (n > 0)
				sent += (uint64_t)n;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				printf("VSOCK_ERR %s after %llu of %llu bytes\n",
				       n ? strerror(errno) : "EOF", (unsigned long long)got,
				       (unsigned long long)bytes);
				return 1;
			}
			for (ssize_t i = 0; i < n; i++) {
				if (in[i] != pattern(got + (uint64_t)i)) {
					printf("VSOCK_ERR mismatch at byte %llu\n",
					       (unsigned long long)(got + (uint64_t)i));
					return 1;
				}
			}
			if (n > 0)
				got += (uint64_t)n;
		}
	}
	close(fd);
	printf("VSOCK_OK n=%llu\n", (unsigned long long)bytes);
	return 0;
}

static int do_flood(uint32_t cid, uint32_t port, uint32_t n)
{
	struct rlimit rl = {.rlim_cur = (rlim_t)n + 64, .rlim_max = (rlim_t)n + 64};
	uint32_t ok = 0, failed = 0;
	int *fds = calloc(n ? n : 1, sizeof(*fds));

	if (!fds) {
		printf("VSOCK_ERR out of memory\n");
		return 1;
	}
	(void)setrlimit(RLIMIT_NOFILE, &rl); /* best effort: failures are counted */
	for (uint32_t i = 0; i < n; i++) {
		fds[i] = vsock_connect(cid, port);
		if (fds[i] < 0)
			failed++;
		else
			ok++;
	}
	printf("VSOCK_FLOOD ok=%u failed=%u\n", ok, failed);
	for (uint32_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vsock-echo listen PORT\n"
			"       vsock-echo connect CID PORT BYTES\n"
			"       vsock-echo flood CID PORT N\n");
	return 1;
}

int main(int argc, char **argv)
{
	uint32_t cid, port, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "listen") && !parse_u32(argv[2], &port))
		return do_listen(port);
	if (argc != 5 || parse_u32(argv[2], &cid) || parse_u32(argv[3], &port) ||
	    parse_u32(argv[4], &n))
		return usage();
	if (!strcmp(argv[1], "connect"))
		return do_connect(cid, port, n);
	if (!strcmp(argv[1], "flood"))
		return do_flood(cid, port, n);
	return usage();
}
