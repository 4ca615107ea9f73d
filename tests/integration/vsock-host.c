/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock-host - the host side of ember's hybrid vsock, for the tests.
 *
 *   vsock-host connect UDS PORT BYTES        CONNECT PORT over the Unix socket
 *                                            UDS, then send BYTES of a pattern
 *                                            and check the guest echoes them
 *   vsock-host many UDS PORT BYTES N PAR     N such connections, PAR at a time
 *   vsock-host listen PATH                   echo server on the Unix socket
 *                                            PATH (= uds_path_PORT), for
 *                                            guest-initiated connections
 *   vsock-host garbage UDS                   clients sending bad CONNECT lines
 *
 * Prints "HOST_OK ..." or "HOST_ERR ..."; exit 0 on success.  The pattern is
 * the guest's vsock-echo's, so either side can check the other.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 31 + (i >> 9) + 7);
}

static int uds_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one line ('\n'-terminated) byte by byte: nothing after it is eaten. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

/* Sends and receives at once, so the echo cannot deadlock on credit. */
static int echo_check(int fd, uint64_t bytes, char *why, size_t whylen)
{
	static uint8_t out[65536], in[65536];
	uint64_t sent = 0, got = 0;

	while (got < bytes) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0)};

		if (poll(&p, 1, 30000) <= 0) {
			snprintf(why, whylen, "timeout at %llu/%llu", (unsigned long long)got,
				 (unsigned long long)bytes);
			return -1;
		}
		if ((p.revents & POLLOUT) && sent < bytes) {
			size_t n = bytes - sent < sizeof(out) ? bytes - sent : sizeof(out);
			ssize_t w;

			for (size_t i = 0; i < n; i++)
				out[i] = pattern(sent + i);
			w = send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN) {
				snprintf(why, whylen, "send: %s", strerror(errno));
				return -1;
			}
			if (w > 0)
				sent += (uint64_t)w;
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				snprintf(why, whylen, "closed at %llu/%llu", (unsigned long long)got,
					 (unsigned long long)bytes);
				return -1;
			}
			for (ssize_t i = 0; i < r; i++)
				if (in[i] != pattern(got + (uint64_t)i)) {
					snprintf(why, whylen, "byte %llu differs",
						 (unsigned long long)(got + (uint64_t)i));
					return -1;
				}
			if (r > 0)
				got += (uint64_t)r;
		}
	}
	return 0;
}

static int one_connect(const char *uds, const char *port, uint64_t bytes, bool quiet)
{
	char line[64], why[128];
	int fd = uds_connect(uds);

	if (fd < 0) {
		printf("HOST_ERR connect %s: %s\n", uds, strerror(errno));
		return 1;
	}
	dprintf(fd, "CONNECT %s\n", port);
	if (read_line(fd, line, sizeof(line)) || strncmp(line, "OK ", 3)) {
		printf("HOST_ERR no OK after CONNECT %s\n", port);
		close(fd);
		return 1;
	}
	if (echo_check(fd, bytes, why, sizeof(why))) {
		printf("HOST_ERR %s\n", why);
		close(fd);
		return 1;
	}
	close(fd);
	if (!quiet)
		printf("HOST_OK n=%llu (%s)\n", (unsigned long long)bytes, line);
	return 0;
}

static int many(const char *uds, const char *port, uint64_t bytes, int n, int par)
{
	int ok = 0, failed = 0, running = 0, started = 0, st;

	while (ok + failed < n) {
		while (running < par && started < n) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(one_connect(uds, port, bytes, true));
			if (pid < 0)
				break;
			running++;
			started++;
		}
		if (wait(&st) < 0)
			break;
		running--;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else
			failed++;
	}
	printf("%s ok=%d failed=%d\n", failed || ok != n ? "HOST_ERR many" : "HOST_OK many", ok,
	       failed);
	return failed || ok != n;
}

static int listen_echo(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (lfd < 0 || strlen(path) >= sizeof(a.sun_path))
		return 1;
	strcpy(a.sun_path, path);
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 64)) {
		printf("HOST_ERR listen %s: %s\n", path, strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	printf("HOST_LISTENING %s\n", path);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char buf[65536];
		ssize_t n;

		if (fd < 0)
			continue;
		if (fork() == 0) {
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				if (write(fd, buf, (size_t)n) != n)
					break;
			_exit(0);
		}
		close(fd);
	}
}

/* Bad CONNECT lines: each client must be closed, the listener must live. */
static int garbage(const char *uds)
{
	static const char *const lines[] = {"HELLO 5\n", "CONNECT\n", "CONNECT -1\n",
					    "CONNECT 99999999999\n", "CONNECT 5 6\n",
					    "0123456789012345678901234567890123456789"};
	char c;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int fd = uds_connect(uds);

		if (fd < 0 || write(fd, lines[i], strlen(lines[i])) < 0) {
			printf("HOST_ERR garbage %zu: %s\n", i, strerror(errno));
			return 1;
		}
		/* Closed by ember: read returns 0 (or an error), not a hang. */
		if (read(fd, &c, 1) > 0) {
			printf("HOST_ERR garbage %zu was answered\n", i);
			return 1;
		}
		close(fd);
	}
	printf("HOST_OK garbage\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "connect"))
		return one_connect(argv[2], argv[3], strtoull(argv[4], NULL, 10), false);
	if (argc == 7 && !strcmp(argv[1], "many"))
		return many(argv[2], argv[3], strtoull(argv[4], NULL, 10), atoi(argv[5]),
			    atoi(argv[6]));
	if (argc == 3 && !strcmp(argv[1], "listen"))
		return listen_echo(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "garbage"))
		return garbage(argv[2]);
	fprintf(stderr, "usage: vsock-host connect UDS PORT BYTES | many UDS PORT BYTES N PAR |"
			" listen PATH | garbage UDS\n");
	return 2;
}
