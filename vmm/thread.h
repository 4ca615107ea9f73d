/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thread.h - ember's threads (API, vCPUs) on stacks of their own size.
 *
 * Every clone of a snapshot is its own ember, so what each thread keeps
 * costs once per clone.  glibc gives a thread RLIMIT_STACK (8 MiB) of
 * address space and commit charge; ours get what their deepest path needs
 * (jansson parsing a document nested to its limit, 2048 levels, is the
 * deepest: about 600 KiB) below a guard page, and can give back the pages
 * a deep call touched once (thread_stack_trim).
 */
#ifndef EMBER_THREAD_H
#define EMBER_THREAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The API thread and the vCPU threads (which may serve MMDS documents). */
#define THREAD_STACK (1u << 20)

struct ember_thread {
	pthread_t id;
	void *map; /* guard page + stack; NULL when not running */
	size_t map_len;
	void *(*fn)(void *);
	void *arg;
};

/* Starts fn(arg) on a new thread with a @stack-byte stack; 0 or -errno. */
int thread_start(struct ember_thread *t, size_t stack, void *(*fn)(void *), void *arg);
/* Waits for the thread to end and frees its stack. */
void thread_join(struct ember_thread *t);
/*
 * On a thread_start() thread: drops the stack pages below the caller's
 * frame (all but a few KiB), which only a deeper call than the current one
 * could still need, and it gets fresh zero pages.  Elsewhere: nothing.
 */
void thread_stack_trim(void);

#endif
