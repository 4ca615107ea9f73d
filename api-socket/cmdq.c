// SPDX-License-Identifier: Apache-2.0
/*
 * A one-slot rendezvous between the API thread and the VMM thread.  One slot
 * is enough because the API thread handles one request at a time and waits
 * for its outcome, as Firecracker's does; the eventfd lets the VMM thread
 * notice the command from the epoll loop it already runs.
 */
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cmdq.h"

int cmdq_init(struct cmdq *q)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->done_cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->replied_cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void cmdq_destroy(struct cmdq *q)
{
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	pthread_cond_destroy(&q->done_cv);
	pthread_cond_destroy(&q->replied_cv);
	pthread_mutex_destroy(&q->lock);
}

int cmdq_fd(const struct cmdq *q)
{
	return q->efd;
}

int cmdq_submit(void *opaque, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct cmdq *q = opaque;
	uint64_t one = 1;
	int rc;

	pthread_mutex_lock(&q->lock);
	if (q->closed || q->cmd) { /* a second submitter would be a bug: refuse, don't hang */
		pthread_mutex_unlock(&q->lock);
		return -ESHUTDOWN;
	}
	q->cmd = cmd;
	q->err = err;
	q->errlen = errlen;
	q->done = false;
	if (write(q->efd, &one, sizeof(one)) != sizeof(one)) {
		q->cmd = NULL;
		pthread_mutex_unlock(&q->lock);
		return -EIO;
	}
	while (!q->done)
		pthread_cond_wait(&q->done_cv, &q->lock);
	rc = q->result;
	q->cmd = NULL;
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int cmdq_process(struct cmdq *q, cmdq_exec_fn exec, void *ctx)
{
	struct api_cmd *cmd;
	uint64_t cnt;
	char *err;
	size_t errlen;
	int rc;

	/* Drain first: a wakeup for a command already handled is harmless. */
	if (read(q->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&q->lock);
	cmd = q->done ? NULL : q->cmd;
	q->running = cmd != NULL;
	err = q->err;
	errlen = q->errlen;
	pthread_mutex_unlock(&q->lock);
	if (!cmd)
		return 0;
	/* Unlocked while it runs: the submitter is parked on done_cv, so cmd,
	 * err and errlen stay put, and a slow InstanceStart does not hold the lock. */
	if (err && errlen)
		err[0] = '\0';
	rc = exec(ctx, cmd, err, errlen);
	pthread_mutex_lock(&q->lock);
	q->running = false;
	if (!q->done) {
		q->result = rc;
		q->done = true;
		q->replied = false;
		pthread_cond_broadcast(&q->done_cv);
	}
	pthread_mutex_unlock(&q->lock);
	return 1;
}

void cmdq_replied(struct cmdq *q)
{
	pthread_mutex_lock(&q->lock);
	q->replied = true;
	pthread_cond_broadcast(&q->replied_cv);
	pthread_mutex_unlock(&q->lock);
}

int cmdq_wait_replied(struct cmdq *q, unsigned timeout_ms)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	while (!q->replied && !q->closed && !rc)
		rc = pthread_cond_timedwait(&q->replied_cv, &q->lock, &until);
	pthread_mutex_unlock(&q->lock);
	return rc ? -rc : 0;
}

void cmdq_close(struct cmdq *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->replied_cv);
	/* A command being executed finishes normally: its submitter's buffers
	 * must outlive exec, so only a command still waiting is failed here. */
	if (q->cmd && !q->done && !q->running) {
		q->result = -ESHUTDOWN;
		q->done = true;
		pthread_cond_broadcast(&q->done_cv);
	}
	pthread_mutex_unlock(&q->lock);
}
