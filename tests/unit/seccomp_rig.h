/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp test rig shared by test_seccomp*.c.  A filter cannot be taken
 * off again, so every case runs in a forked child whose stderr is a pipe,
 * with the SIGSYS handler installed; the parent checks the exit status and
 * the SIGSYS line.  The filter goes on a new thread, as vcpu_thread and
 * api_thread do, or on the child's main thread, as the VMM thread does.
 *
 * Children report their own failures as a line on stderr and exit 1; they
 * never call into cmocka.
 */
#ifndef EMBER_TEST_SECCOMP_RIG_H
#define EMBER_TEST_SECCOMP_RIG_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp.h"
#include "unit.h"

/* snprintf + write: dprintf would fstat() the fd, which no list allows. */
static inline void child_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void child_say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(STDERR_FILENO, line,
			   (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
		/* The exit status still fails the test. */
	}
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			child_say("child: %s:%d: %s failed (errno %d)\n", __FILE__, __LINE__,      \
				  #cond, errno);                                                   \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

struct child {
	int status;
	char out[4096];
};

typedef int (*child_fn)(void *arg);

/* Runs @fn in a child with the SIGSYS handler installed; @fn's return is the exit status. */
static inline void run_child(child_fn fn, void *arg, struct child *c)
{
	size_t len = 0;
	ssize_t n;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		if (seccomp_init_handler())
			_exit(90);
		_exit(fn(arg));
	}
	close(p[1]);
	while ((n = read(p[0], c->out + len, sizeof(c->out) - 1 - len)) > 0)
		len += (size_t)n;
	c->out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &c->status, 0), pid);
}

static inline void expect_ok(const struct child *c)
{
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
		print_error("child status 0x%x, stderr:\n%s", c->status, c->out);
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 0);
}

static inline void expect_killed(const struct child *c, const char *role, long nr, const char *name)
{
	char want[160];

	snprintf(want, sizeof(want), "ember: seccomp: thread %s made forbidden syscall %ld (%s)",
		 role, nr, name);
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != EMBER_EXIT_SECCOMP ||
	    !strstr(c->out, want))
		print_error("child status 0x%x, want \"%s\", stderr:\n%s", c->status, want, c->out);
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), EMBER_EXIT_SECCOMP);
	assert_non_null(strstr(c->out, want));
	/* One line, nothing after it: the process ended in the handler. */
	assert_string_equal(strchr(strstr(c->out, want), '\n'), "\n");
}

/* A thread that installs @role, then runs @fn; as vcpu_thread and api_thread do. */
struct in_thread {
	enum seccomp_role role;
	bool block_signals; /* as the API thread: every signal blocked */
	child_fn fn;
	void *arg;
	int ret;
};

static inline void *in_thread_main(void *p)
{
	struct in_thread *t = p;
	int r;

	if (t->block_signals) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, NULL);
	}
	r = seccomp_install(t->role);
	if (r) {
		child_say("child: seccomp_install: %s\n", strerror(-r));
		t->ret = 1;
		return NULL;
	}
	t->ret = t->fn(t->arg);
	return NULL;
}

static inline int run_in_thread(void *arg)
{
	struct in_thread *t = arg;
	pthread_t th;

	CHECK(pthread_create(&th, NULL, in_thread_main, t) == 0);
	CHECK(pthread_join(th, NULL) == 0);
	return t->ret;
}

static inline void child_in_thread(enum seccomp_role role, bool block, child_fn fn, void *arg,
				   struct child *c)
{
	struct in_thread t = {.role = role, .block_signals = block, .fn = fn, .arg = arg};

	run_child(run_in_thread, &t, c);
}

/* The main thread of the child installs @role, then runs @fn. */
struct on_main {
	enum seccomp_role role;
	child_fn fn;
	void *arg;
};

static inline int on_main_run(void *p)
{
	struct on_main *m = p;
	int r = seccomp_install(m->role);

	if (r) {
		child_say("child: seccomp_install: %s\n", strerror(-r));
		return 1;
	}
	return m->fn(m->arg);
}

static inline void child_on_main(enum seccomp_role role, child_fn fn, void *arg, struct child *c)
{
	struct on_main m = {.role = role, .fn = fn, .arg = arg};

	run_child(on_main_run, &m, c);
}

#endif /* EMBER_TEST_SECCOMP_RIG_H */
