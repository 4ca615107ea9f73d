/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork_child.h - `ember fork-child`, a live fork's child (vmm/fork_child.c):
 * what it reads from its parent on fd 3 before anything else (fork_msg.h),
 * the command line that request stands for, and its answers.
 */
#ifndef EMBER_FORK_CHILD_H
#define EMBER_FORK_CHILD_H

#include "fork_msg.h"
#include "snapfile.h"
#include "spawn.h"
#include "vm.h"

struct fork_child_in {
	int ctl;		/* fd 3, the control socket */
	int ram_fd;		/* the parent's frozen RAM, mapped privately by the restore */
	struct vm_pre pre;	/* the KVM VM made meanwhile (and RAM, vCPUs: 'P') */
	struct spawner spawner; /* our own process starter, also started then */
	struct fork_msg msg;
	struct snap_image img; /* the state, parsed and checked */
	char *argv[12];	       /* the command line the request stands for */
	int argc;
	/* When the request came, and CPU time and page faults by then (the 'K' log line). */
	uint64_t req_us, req_cpu_us, req_thread_us;
	long req_faults;
};

/*
 * First what needs no request: its own process starter (spawn.h; @argv0 as
 * for spawner_start) and a KVM VM (vm_pre_create), with RAM and vCPUs if a
 * pooled child is told the machine first ('P', fork_msg.h); then reads and
 * checks the request, as long as it takes to come (a pooled child waits
 * for its fork).  NULL after telling the parent why, or for a parent that closed
 * without a request (the child then exits).
 */
struct fork_child_in *fork_child_read(const char *argv0);
/* 'K' once the VM is built and its API socket listens (served after 'G'), or 'E' and @why. */
int fork_child_answer(struct fork_child_in *in, int result, const char *why);
/*
 * Waits for the parent's 'G': 0, with the child an ordinary task again
 * (the child is SCHED_BATCH until then, fork_child.c), or -errno (do not run).
 */
int fork_child_go(struct fork_child_in *in);
void fork_child_free(struct fork_child_in *in);

#endif /* EMBER_FORK_CHILD_H */
