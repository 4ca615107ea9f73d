// SPDX-License-Identifier: Apache-2.0
/*
 * serialtime: how long until a guest answers on its serial console, from
 * the VMM's start; one probe for every VMM with a UART on stdio (ember,
 * QEMU's -serial stdio), where restoretime's vsock probe needs
 * Firecracker's hybrid vsock socket.
 *
 *   serialtime [-t SECS] [-w] [-a API_SOCK [-l LOAD_JSON] [-s STATE,MEM]]
 *              [-q QMP_SOCK -m FILE] [-i FILE] -- command [args...]
 *
 * Forks the command with its stdin and stdout on pipes and writes a probe
 * byte to its stdin at once and again whenever the last one has left the
 * pipe (PROBE_US apart at least), so one is always waiting whenever the
 * guest's UART can take it; the guest (guest/tools/serial-echo) answers
 * "ECHO <byte>" from userspace.  The first answer read is "the guest is
 * running".
 *
 *   -w            a cold boot: probe only once the guest said
 *                 "SERIAL_ECHO_READY"
 *   -a API_SOCK   ember's API socket (removed first, so it is a fresh one)
 *   -l JSON       PUT /snapshot/load with JSON as soon as the socket takes
 *                 it, while the probe goes on (the answer may come first)
 *   -s STATE,MEM  after the answer: pause, then a Full snapshot to STATE
 *                 and MEM through API_SOCK
 *   -q SOCK -m F  after the answer: QEMU's QMP on SOCK: stop, then migrate
 *                 "exec:cat > F" (a single pass: the VM is stopped)
 *   -i FILE       FILE open read-only as the command's fd 3 (QEMU's
 *                 -incoming fd:3)
 *   -g SOCK       no probe: "ready" is QMP's greeting on SOCK (QEMU's
 *                 start-up alone, with -incoming defer)
 *
 * Prints "ready_us=N sent_us=N|- answered_us=N|- pid=N", all from the
 * command's start (sent: the load request written; answered: its 204 read),
 * then kills the command.  Exit status 0 iff it all worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define PROBE_US 2000u

struct opts {
	const char *api, *load, *snap, *qmp, *mig, *incoming, *greet;
	int timeout_s;
	bool wait_ready;
	char **cmd;
};

/* A non-blocking connection to the Unix socket @path, or -1 (not there yet). */
static int sock_open(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Retries sock_open until @deadline. */
static int sock_wait(const char *path, uint64_t deadline)
{
	int fd;

	while ((fd = sock_open(path)) < 0 && now_us() < deadline)
		usleep(1000);
	return fd;
}

/*
 * Appends what @fd has to @buf (NUL-terminated, @len bytes so far) until it
 * holds @want and ends a line, or @ms pass in silence.  0 when it does.
 */
static int expect(int fd, const char *want, char *buf, size_t size, size_t *len, int ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (*len && buf[*len - 1] == '\n' && strstr(buf, want))
			return 0;
		if (*len + 1 >= size || poll(&p, 1, ms) <= 0)
			return -1;
		n = read(fd, buf + *len, size - 1 - *len);
		if (n <= 0)
			return -1;
		*len += (size_t)n;
		buf[*len] = '\0';
	}
}

/* Writes @msg on @fd and waits for a line holding @want (30 s at most). */
static int say(int fd, const char *msg, const char *want, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
		return -1;
	return expect(fd, want, buf, size, &len, 30000);
}

static int http(const char *sock, const char *req, const char *body, char *resp, size_t size)
{
	char msg[4096];
	int fd = sock_open(sock), r = -1;

	if (fd < 0)
		return -1;
	snprintf(msg, sizeof(msg),
		 "%s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 req, strlen(body), body);
	if (!say(fd, msg, "\r\n\r\n", resp, size) && strstr(resp, " 204 "))
		r = 0;
	close(fd);
	return r;
}

/* ember: pause, then a Full snapshot to "STATE,MEM". */
static int ember_snapshot(const char *sock, const char *files)
{
	char body[1024], resp[1024];
	const char *comma = strchr(files, ',');

	if (!comma)
		return -1;
	snprintf(body, sizeof(body),
		 "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"%.*s\",\"mem_file_path\":\"%s\"}",
		 (int)(comma - files), files, comma + 1);
	if (http(sock, "PATCH /vm", "{\"state\":\"Paused\"}", resp, sizeof(resp)) ||
	    http(sock, "PUT /snapshot/create", body, resp, sizeof(resp))) {
		fprintf(stderr, "serialtime: snapshot failed: %s\n", resp);
		return -1;
	}
	return 0;
}

/* QEMU's start-up alone: 0 once its QMP socket @sock has greeted. */
static int qmp_greeting(const char *sock, uint64_t deadline)
{
	char buf[1024];
	size_t len = 0;
	int fd = sock_wait(sock, deadline), r;

	if (fd < 0)
		return -1;
	r = expect(fd, "\"QMP\"", buf, sizeof(buf), &len, 30000);
	close(fd);
	return r;
}

/* QEMU: stop, then the migration stream into @file, waited for. */
static int qemu_save(const char *sock, const char *file, uint64_t deadline)
{
	char msg[1024], buf[8192];
	size_t len = 0;
	int fd = sock_wait(sock, deadline), r = -1;

	if (fd < 0)
		return -1;
	snprintf(msg, sizeof(msg),
		 "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"exec:cat > %s\"}}\n", file);
	if (expect(fd, "\"QMP\"", buf, sizeof(buf), &len, 30000) ||
	    say(fd, "{\"execute\":\"qmp_capabilities\"}\n", "\"return\"", buf, sizeof(buf)) ||
	    say(fd, "{\"execute\":\"stop\"}\n", "\"return\"", buf, sizeof(buf)) ||
	    say(fd, msg, "\"return\"", buf, sizeof(buf)))
		goto out;
	while (now_us() < deadline) {
		if (say(fd, "{\"execute\":\"query-migrate\"}\n", "\"return\"", buf, sizeof(buf)))
			break;
		if (strstr(buf, "\"completed\"")) {
			r = 0;
			break;
		}
		if (strstr(buf, "\"failed\"") || strstr(buf, "\"cancelled\""))
			break;
		usleep(20000);
	}
out:
	if (r)
		fprintf(stderr, "serialtime: QEMU's save failed: %s\n", buf);
	close(fd);
	return r;
}

/* The load request's progress, driven from the probe loop. */
struct load {
	const char *sock, *body;
	int fd;
	uint64_t sent, answered; /* 0: not yet */
	char resp[1024];
	size_t len;
};

/* One step: connect and send, or read the answer.  -1 on failure. */
static int load_step(struct load *l, uint64_t t0)
{
	char msg[16384];
	ssize_t n;

	if (l->answered)
		return 0;
	if (l->fd < 0) {
		l->fd = sock_open(l->sock);
		if (l->fd < 0)
			return 0;
		snprintf(msg, sizeof(msg),
			 "PUT /snapshot/load HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
			 "application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(l->body), l->body);
		l->sent = now_us() - t0;
		return write(l->fd, msg, strlen(msg)) == (ssize_t)strlen(msg) ? 0 : -1;
	}
	n = recv(l->fd, l->resp + l->len, sizeof(l->resp) - 1 - l->len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	l->len += (size_t)n;
	l->resp[l->len] = '\0';
	if (!strstr(l->resp, "\r\n\r\n"))
		return l->len + 1 < sizeof(l->resp) ? 0 : -1;
	l->answered = now_us() - t0;
	close(l->fd);
	l->fd = -1;
	return strstr(l->resp, " 204 ") ? 0 : -1;
}

/* The console's last output: markers split between reads, the failure message. */
struct tail {
	char buf[512];
	size_t len;
};

static void tail_add(struct tail *t, const char *p, size_t n)
{
	size_t keep;

	if (n > 256) {
		p += n - 256;
		n = 256;
	}
	keep = t->len + n < sizeof(t->buf) ? t->len : sizeof(t->buf) - 1 - n;
	memmove(t->buf, t->buf + t->len - keep, keep);
	memcpy(t->buf + keep, p, n);
	t->len = keep + n;
	t->buf[t->len] = '\0';
}

/* Nothing of ours still waits in the pipe to the VMM's stdin. */
static bool pipe_empty(int fd)
{
	int queued;

	return ioctl(fd, FIONREAD, &queued) == 0 && queued == 0;
}

/*
 * Feeds probe bytes and watches the console until an answer (and the
 * load's 204).  A byte goes in only when the last one has left the pipe,
 * and PROBE_US apart: one is always waiting for the guest, yet no flood of
 * them (each is an interrupt and a few exits for the guest).  With @armed
 * false, probing waits for the guest's "SERIAL_ECHO_READY" (a cold boot:
 * before it the bytes would only slow the boot down).
 */
static int probe(int in, int out, struct load *l, bool armed, uint64_t t0, uint64_t deadline,
		 uint64_t *ready)
{
	struct tail t = {.len = 0};
	uint64_t next = 0;

	for (;;) {
		uint64_t now = now_us();
		struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
		char buf[4096];
		ssize_t n;

		if (*ready && (!l || l->answered))
			return 0;
		if (now > deadline) {
			fprintf(stderr,
				"serialtime: no answer in time; the console's last output:\n%s\n",
				t.buf);
			return -1;
		}
		if (armed && now >= next && pipe_empty(in)) {
			if (write(in, "p", 1) < 0 && errno != EAGAIN)
				return -1;
			next = now + PROBE_US;
		}
		if (l && load_step(l, t0)) {
			fprintf(stderr, "serialtime: the load failed: %s\n", l->resp);
			return -1;
		}
		if (l && l->fd >= 0 && l->sent)
			p[1].fd = l->fd;
		if (poll(p, 2, 1) <= 0 || !(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(out, buf, sizeof(buf));
		if (n <= 0) {
			fprintf(stderr, "serialtime: the VMM's output ended:\n%s\n", t.buf);
			return -1;
		}
		tail_add(&t, buf, (size_t)n);
		if (!armed && memmem(t.buf, t.len, "SERIAL_ECHO_READY", 17)) {
			armed = true;
			t.len = 0; /* an answer is what comes after */
		} else if (armed && !*ready && memmem(t.buf, t.len, "ECHO ", 5)) {
			*ready = now_us() - t0;
		}
	}
}

static int parse(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){.timeout_s = 60};
	while ((ch = getopt(argc, argv, "t:wa:l:s:q:m:i:g:")) != -1) {
		switch (ch) {
		case 't':
			o->timeout_s = atoi(optarg);
			break;
		case 'w':
			o->wait_ready = true;
			break;
		case 'a':
			o->api = optarg;
			break;
		case 'l':
			o->load = optarg;
			break;
		case 's':
			o->snap = optarg;
			break;
		case 'q':
			o->qmp = optarg;
			break;
		case 'm':
			o->mig = optarg;
			break;
		case 'i':
			o->incoming = optarg;
			break;
		case 'g':
			o->greet = optarg;
			break;
		default:
			return -1;
		}
	}
	o->cmd = argv + optind;
	if (optind >= argc || o->timeout_s <= 0 || ((o->load || o->snap) && !o->api) ||
	    !o->qmp != !o->mig)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int in[2], out[2], rc = 1, mig = -1;
	struct load l = {.fd = -1};
	uint64_t t0, deadline, ready = 0;
	struct opts o;
	pid_t pid;

	if (parse(argc, argv, &o)) {
		fprintf(
		    stderr,
		    "usage: serialtime [-t SECS] [-w] [-g QMP_SOCK] [-a API_SOCK [-l LOAD_JSON] "
		    "[-s STATE,MEM]] [-q QMP_SOCK -m FILE] [-i FILE] -- command...\n");
		return 2;
	}
	if (o.incoming && (mig = open(o.incoming, O_RDONLY)) < 0) {
		perror(o.incoming);
		return 1;
	}
	if (o.api)
		unlink(o.api);
	if (o.greet)
		unlink(o.greet);
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return 1;
	t0 = now_us();
	deadline = t0 + (uint64_t)o.timeout_s * 1000000u;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		/* dup2 clears close-on-exec on the copies. */
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || (mig >= 0 && dup2(mig, 3) < 0))
			_exit(126);
		execvp(o.cmd[0], o.cmd);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	l.sock = o.api;
	l.body = o.load;
	if (o.greet) {
		if (qmp_greeting(o.greet, deadline))
			goto out;
		ready = now_us() - t0;
	} else if (probe(in[1], out[0], o.load ? &l : NULL, !o.wait_ready, t0, deadline, &ready)) {
		goto out;
	}
	printf("ready_us=%llu ", (unsigned long long)ready);
	if (o.load)
		printf("sent_us=%llu answered_us=%llu", (unsigned long long)l.sent,
		       (unsigned long long)l.answered);
	else
		printf("sent_us=- answered_us=-");
	printf(" pid=%d\n", (int)pid);
	fflush(stdout);
	/* Let the guest read what is still queued, so the snapshot holds no
	 * probe bytes in flight. */
	if (o.snap || o.qmp)
		usleep(500000);
	if (o.snap && ember_snapshot(o.api, o.snap))
		goto out;
	if (o.qmp && qemu_save(o.qmp, o.mig, deadline))
		goto out;
	rc = 0;
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return rc;
}
