// SPDX-License-Identifier: Apache-2.0
/*
 * The live fork's process starter (spawn.h says why it exists and how it
 * is reached).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ember.h"
#include "spawn.h"

extern char **environ;

/* The binary: /proc/self/exe, else (a chroot without /proc) argv[0] as the jailer ran it. */
static int open_self(const char *argv0)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	char path[4096];

	if (fd < 0 && argv0) {
		snprintf(path, sizeof(path), "%s%s", strchr(argv0, '/') ? "" : "/", argv0);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * The starter's child: fd 3, default SIGCHLD, exec.  Both are moved above
 * it first: the binary may be fd 3 now.
 */
static void __attribute__((noreturn)) exec_child(int exe, int conn)
{
	char *const argv[] = {"ember", SPAWN_CHILD_ARG, NULL};
	int e = fcntl(exe, F_DUPFD_CLOEXEC, 10), c = fcntl(conn, F_DUPFD_CLOEXEC, 10);

	signal(SIGCHLD, SIG_DFL);
	if (e >= 0 && c >= 0 && dup2(c, SPAWN_CHILD_FD) == SPAWN_CHILD_FD)
		syscall(SYS_execveat, e, "", argv, environ, AT_EMPTY_PATH);
	log_err("fork: cannot start a child: %s", strerror(errno));
	_exit(127);
}

static void __attribute__((noreturn)) starter_loop(int lfd, int exe, pid_t parent)
{
	/* Children are reaped by the kernel: nobody here waits for them. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		/* Only ember itself: another process could ask for a VM on our RAM. */
		if (!getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) && cred.pid == parent &&
		    fork() == 0)
			exec_child(exe, conn);
		close(conn); /* a failed fork: the parent reads EOF */
	}
}

/*
 * The starter keeps nothing of ember's but these: not a fork child's
 * control socket, guest RAM or the KVM VM made while it waited
 * (fork_child.c), which would otherwise live as long as the starter.
 */
static void close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		(void)close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		(void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	(void)close_range((unsigned)hi + 1, ~0u, 0);
}

static int listen_abstract(struct spawner *s)
{
	uint64_t rnd = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	(void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
	s->addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	s->addr_len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			(size_t)snprintf(s->addr.sun_path + 1, sizeof(s->addr.sun_path) - 1,
					 "ember-fork-%d-%016llx", (int)getpid(),
					 (unsigned long long)rnd));
	if (bind(fd, (struct sockaddr *)&s->addr, s->addr_len) || listen(fd, 16)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int spawner_start(struct spawner *s, const char *argv0)
{
	pid_t parent = getpid();
	int lfd = -1, exe, r;

	*s = (struct spawner){.pid = -1};
	exe = open_self(argv0);
	if (exe < 0)
		return exe;
	lfd = listen_abstract(s);
	r = lfd < 0 ? lfd : 0;
	if (!r) {
		s->pid = fork();
		if (s->pid == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
				_exit(0);
			(void)prctl(PR_SET_NAME, "ember-starter"); /* for ps; argv is ember's */
			close_others(lfd, exe);
			starter_loop(lfd, exe, parent);
		}
		r = s->pid < 0 ? -errno : 0;
	}
	if (lfd >= 0)
		close(lfd);
	close(exe);
	if (r)
		spawner_stop(s);
	return r;
}

int spawner_connect(const struct spawner *s)
{
	int fd;

	if (s->pid < 0)
		return -ENOSYS;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addr_len)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

void spawner_stop(struct spawner *s)
{
	/* The starter dies with us (PR_SET_PDEATHSIG), never before. */
	*s = (struct spawner){.pid = -1};
}
