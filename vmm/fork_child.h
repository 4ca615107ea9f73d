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

struct fork_child_in {
	int ctl;    /* fd 3, the control socket */
	int ram_fd; /* the parent's frozen RAM, mapped privately by the restore */
	struct fork_msg msg;
	struct snap_image img; /* the state, parsed and checked */
	char *argv[12];	       /* the command line the request stands for */
	int argc;
};

/*
 * Reads and checks the request (the parent's log fd becomes our stderr);
 * NULL after telling the parent why (the child then exits).
 */
struct fork_child_in *fork_child_read(void);
/* 'K' once the VM is built and its API socket listens, or 'E' and @why. */
int fork_child_answer(struct fork_child_in *in, int result, const char *why);
/* Waits for the parent's 'G' and confirms with 'R': 0, or -errno (do not run). */
int fork_child_go(struct fork_child_in *in);
void fork_child_free(struct fork_child_in *in);

#endif /* EMBER_FORK_CHILD_H */
