/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spawn.h - the live fork's process starter (vmm/spawn.c).
 *
 * A child of a live fork is a fresh ember process (`ember fork-child`),
 * exec'd from the ember binary opened at start-up, so it works inside a
 * jail's chroot without /proc.  It cannot be started from a VMM or API
 * thread: those run under seccomp filters, which a process inherits
 * across exec and which would stack with the child's own.  So before any
 * filter or thread exists, ember forks this small single-threaded starter;
 * it stays in the jail (chroot, uid, cgroup, no_new_privs, no
 * capabilities), has no filter, and does one thing: for each connection
 * to its abstract Unix socket from ember itself (SO_PEERCRED: anyone else is
 * dropped), fork and exec `ember fork-child` with the connection as fd 3.
 * Guest RAM goes to the child over that connection (SCM_RIGHTS, fork.c),
 * not through here: it is whatever file the VM's RAM is mapped from when
 * it forks (a memfd, a hugetlbfs memfd, a snapshot's memory file).  The argv is fixed: a connection
 * carries nothing else, so the starter is no way around the filters for a compromised VMM thread,
 * and connecting needs only socket(AF_UNIX) and connect, which the VMM thread has anyway.  It dies
 * with ember (PR_SET_PDEATHSIG); the children it started live on.
 */
#ifndef EMBER_SPAWN_H
#define EMBER_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#define SPAWN_CHILD_FD	3	     /* the control socket in the child */
#define SPAWN_CHILD_ARG "fork-child" /* argv[1] of a child */

#include <sys/un.h>

struct spawner {
	pid_t pid;		 /* -1: none (the starter could not be made) */
	struct sockaddr_un addr; /* abstract: sun_path[0] == 0 */
	socklen_t addr_len;
};

/* Before any thread or filter: the socket and the starter.  0 or -errno. */
int spawner_start(struct spawner *s, const char *argv0);
/* Any thread: a new child, talking on the returned socket.  fd or -errno. */
int spawner_connect(const struct spawner *s);
void spawner_stop(struct spawner *s);

#endif /* EMBER_SPAWN_H */
