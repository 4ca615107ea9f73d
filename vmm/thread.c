// SPDX-License-Identifier: Apache-2.0
/*
 * thread.c - threads on stacks ember maps itself (thread.h says why).
 *
 * The stack is one anonymous MAP_NORESERVE mapping whose lowest page is
 * PROT_NONE: an overflow faults there instead of running into another
 * mapping.  Owning the mapping tells the thread its own bounds without
 * pthread_getattr_np, which reads /proc/self/maps for the main thread and
 * asks for the CPU affinity: syscalls the seccomp filters do not allow.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "thread.h"

#define THREAD_GUARD 4096u
/* Kept below the caller's frame by thread_stack_trim: the next few calls
 * (a log line, a device's handler) do not fault the pages right back. */
#define THREAD_TRIM_KEEP (16u << 10)

/* The running thread's lowest usable stack byte; 0 on threads not ours. */
static __thread uintptr_t thread_stack_lo;

static void *thread_entry(void *arg)
{
	struct ember_thread *t = arg;

	thread_stack_lo = (uintptr_t)t->map + THREAD_GUARD;
	return t->fn(t->arg);
}

int thread_start(struct ember_thread *t, size_t stack, void *(*fn)(void *), void *arg)
{
	size_t len = THREAD_GUARD + ((stack + 4095) & ~(size_t)4095);
	pthread_attr_t attr;
	void *p;
	int r;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mprotect(p, THREAD_GUARD, PROT_NONE)) {
		r = -errno;
		goto fail_map;
	}
	*t = (struct ember_thread){.map = p, .map_len = len, .fn = fn, .arg = arg};
	r = -pthread_attr_init(&attr);
	if (r)
		goto fail_map;
	r = -pthread_attr_setstack(&attr, (char *)p + THREAD_GUARD, len - THREAD_GUARD);
	if (!r)
		r = -pthread_create(&t->id, &attr, thread_entry, t);
	pthread_attr_destroy(&attr);
	if (r)
		goto fail_map;
	return 0;
fail_map:
	munmap(p, len);
	t->map = NULL;
	return r;
}

void thread_join(struct ember_thread *t)
{
	if (!t->map)
		return;
	pthread_join(t->id, NULL);
	munmap(t->map, t->map_len);
	t->map = NULL;
}

void thread_stack_trim(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t end = (sp - THREAD_TRIM_KEEP) & ~(uintptr_t)4095;

	if (!thread_stack_lo || sp < thread_stack_lo + THREAD_TRIM_KEEP || end <= thread_stack_lo)
		return;
	/* Best effort: a failure only leaves the pages where they are. */
	(void)madvise((void *)thread_stack_lo, end - thread_stack_lo, MADV_DONTNEED);
}
