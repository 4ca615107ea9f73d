/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmdq.h - hands one struct api_cmd at a time from the API thread to the
 * VMM thread and blocks the API thread until it has run.
 *
 *   API thread:  cmdq_submit() (it is the server's `submit` callback; pass
 *                the struct cmdq as its opaque pointer).
 *   VMM thread:  watch cmdq_fd() for EPOLLIN in its epoll loop; when it
 *                fires call cmdq_process(q, exec, ctx), which runs
 *                exec(ctx, cmd, err, errlen) for the pending command and
 *                wakes the submitter with its result.
 *   Replies:     the API thread calls cmdq_replied() once it has written a
 *                reply; the VMM thread may wait for that (cmdq_wait_replied)
 *                before work that must not delay the reply of the command
 *                it ran last.  The API thread serves one request at a time,
 *                so the first reply after a command is that command's.
 *   Shutdown:    cmdq_close() before api_server_stop(): it fails the pending
 *                and every later submit with -ESHUTDOWN, so the API thread
 *                can never wait on a VMM thread that has stopped looping.
 *
 * The command is the submitter's (on its stack); the VMM thread may read it
 * only inside exec.
 */
#ifndef EMBER_CMDQ_H
#define EMBER_CMDQ_H

#include <pthread.h>

#include "api.h"

typedef int (*cmdq_exec_fn)(void *ctx, struct api_cmd *cmd, char *err, size_t errlen);

struct cmdq {
	int efd; /* eventfd, non-blocking: counts commands waiting */
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	pthread_cond_t replied_cv; /* CLOCK_MONOTONIC, for cmdq_wait_replied's timeout */
	struct api_cmd *cmd;	   /* pending, NULL when none */
	char *err;
	size_t errlen;
	int result;
	bool done;
	bool running; /* exec is using cmd right now */
	bool replied; /* a reply written since the last command ran */
	bool closed;
};

int cmdq_init(struct cmdq *q);
void cmdq_destroy(struct cmdq *q);
int cmdq_fd(const struct cmdq *q);
/* Matches the api_server submit callback; @opaque is the struct cmdq. */
int cmdq_submit(void *opaque, struct api_cmd *cmd, char *err, size_t errlen);
/* VMM thread: runs the pending command, if any.  Returns 1 if one ran, else 0. */
int cmdq_process(struct cmdq *q, cmdq_exec_fn exec, void *ctx);
void cmdq_close(struct cmdq *q);
/* API thread: a reply is written (the server's on_request). */
void cmdq_replied(struct cmdq *q);
/* VMM thread: until the last command's reply is written: 0, or -ETIMEDOUT after @timeout_ms. */
int cmdq_wait_replied(struct cmdq *q, unsigned timeout_ms);

#endif /* EMBER_CMDQ_H */
