// SPDX-License-Identifier: Apache-2.0
/*
 * restoretime: how long until a guest answers, from the VMM's start.
 *
 *   restoretime UDS PORT TIMEOUT_S [API_SOCK LOAD_JSON] -- command [args...]
 *
 * Forks the command (an ember), optionally waits for its API socket and
 * sends PUT /snapshot/load with LOAD_JSON, then keeps trying a one-byte
 * echo with the guest's vsock listener on PORT through Firecracker's hybrid
 * vsock socket UDS ("CONNECT PORT\n", "OK ...\n", a byte there and back).
 * The first echo that comes back is "the guest is running".  Prints
 *   ready_us=N load_us=N|- pid=N sent_us=N|-
 * (all from the command's start; sent_us: the load request written)
 * and leaves the command running (the caller kills it), so its memory can
 * be sampled with the guest up.
 *
 * RESTORETIME_REQUEST="PUT /vm/fork" sends that request instead (to an
 * ember already serving API_SOCK, which is then left in place): a live
 * fork is timed with the same clock, from its request being written to the
 * 204 (load_us) and to the guest's echo (ready_us), as a restore is.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static int unix_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until @want is seen or @ms pass without data; 0 when seen. */
static int read_until(int fd, const char *want, char *buf, size_t size, int ms)
{
	size_t got = 0;

	while (got + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, want))
			return 0;
	}
	return -1;
}

static int echo_once(const char *uds, const char *port)
{
	char buf[256];
	int fd = unix_connect(uds), ok = -1;

	if (fd < 0)
		return -1;
	/*
	 * A guest whose vsock driver is still coming up drops its answer to
	 * our REQUEST (Linux sends nothing until the_virtio_vsock is set), so
	 * a CONNECT that gets no OK soon is retried rather than waited on:
	 * waiting 1 s made cold boots bimodal by a whole second.
	 */
	if (dprintf(fd, "CONNECT %s\n", port) > 0 && !read_until(fd, "\n", buf, sizeof(buf), 100) &&
	    !strncmp(buf, "OK ", 3) && write(fd, "x", 1) == 1 &&
	    !read_until(fd, "x", buf, sizeof(buf), 1000))
		ok = 0;
	close(fd);
	return ok;
}

static int load(const char *sock, const char *request, const char *json, uint64_t deadline,
		uint64_t *sent)
{
	char req[16384], resp[1024];
	int fd = -1;

	while ((fd = unix_connect(sock)) < 0) {
		if (now_us() > deadline)
			return -1;
		usleep(1000);
	}
	snprintf(req, sizeof(req),
		 "%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
		 "application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 request, strlen(json), json);
	*sent = now_us();
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    read_until(fd, "\r\n\r\n", resp, sizeof(resp), 30000) || !strstr(resp, " 204 ")) {
		fprintf(stderr, "restoretime: %s failed: %s\n", request, resp);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *uds, *port, *api = NULL, *json = NULL, *request = getenv("RESTORETIME_REQUEST");
	uint64_t t0, deadline, load_us = 0, sent_us = 0;
	int cmd = 0, timeout;
	pid_t pid;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			cmd = i + 1;
			break;
		}
	if (!cmd || cmd >= argc || (cmd != 5 && cmd != 7)) {
		fprintf(stderr, "usage: restoretime UDS PORT TIMEOUT_S [API_SOCK LOAD_JSON] -- "
				"command...\n");
		return 2;
	}
	uds = argv[1];
	port = argv[2];
	timeout = atoi(argv[3]);
	if (cmd == 7) {
		api = argv[4];
		json = argv[5];
		if (!request)
			unlink(api); /* a fresh ember's socket */
	}
	t0 = now_us();
	deadline = t0 + (uint64_t)timeout * 1000000u;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int null = open("/dev/null", 0);

		dup2(null, 0);
		dup2(null, 1);
		execvp(argv[cmd], &argv[cmd]);
		_exit(127);
	}
	if (api) {
		if (load(api, request ? request : "PUT /snapshot/load", json, deadline, &sent_us)) {
			kill(pid, SIGKILL);
			return 1;
		}
		load_us = now_us() - t0;
		sent_us -= t0;
	}
	while (echo_once(uds, port)) {
		if (now_us() > deadline) {
			fprintf(stderr, "restoretime: no echo within %d s\n", timeout);
			kill(pid, SIGKILL);
			return 1;
		}
		usleep(2000);
	}
	printf("ready_us=%llu load_us=", (unsigned long long)(now_us() - t0));
	if (api)
		printf("%llu", (unsigned long long)load_us);
	else
		printf("-");
	printf(" pid=%d sent_us=", (int)pid);
	if (api)
		printf("%llu\n", (unsigned long long)sent_us);
	else
		printf("-\n");
	return 0;
}
