// SPDX-License-Identifier: Apache-2.0
/*
 * The log line format: "ember: " and the message by default (the
 * integration tests grep for that), the level and/or the origin when the
 * logger asks for them (PUT /logger show_level, show_log_origin).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "unit.h"

/* Runs one log_info/log_warn with stderr captured; returns the line, or "". */
static void capture(enum log_level lvl, char *out, size_t size)
{
	char path[] = "/tmp/ember-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	if (lvl == LOG_WARN)
		log_warn("disk %s is slow", "vda");
	else
		log_info("disk %s is slow", "vda");
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, size - 1, 0);
	assert_true(n >= 0); /* empty: the line was filtered out */
	out[n] = '\0';
	close(fd);
	unlink(path);
}

static void test_default(void **state)
{
	char line[256];

	(void)state;
	log_set_format(false, false);
	capture(LOG_INFO, line, sizeof(line));
	assert_string_equal(line, "ember: disk vda is slow\n");
	capture(LOG_WARN, line, sizeof(line));
	assert_string_equal(line, "ember: warning: disk vda is slow\n");
}

static void test_level(void **state)
{
	char line[256];

	(void)state;
	log_set_format(true, false);
	capture(LOG_INFO, line, sizeof(line));
	assert_string_equal(line, "ember: INFO: disk vda is slow\n");
	capture(LOG_WARN, line, sizeof(line));
	assert_string_equal(line, "ember: WARN: disk vda is slow\n");
	log_set_format(false, false);
}

static void test_origin(void **state)
{
	char line[256];

	(void)state;
	log_set_format(true, true);
	capture(LOG_INFO, line, sizeof(line));
	/* The file name without its directory, and the line of the log_info call. */
	assert_non_null(strstr(line, "ember: INFO: [test_log.c:"));
	assert_non_null(strstr(line, "] disk vda is slow\n"));
	log_set_format(false, false);
}

static void *capture_other_thread(void *arg)
{
	(void)arg;
	log_err("another thread's error");
	return NULL;
}

/*
 * The error channel: the first error on this thread while a capture is open
 * is kept, without the prefix, even with the origin shown in the log;
 * warnings, other threads and errors after the capture ends are not.
 */
static void test_capture(void **state)
{
	struct log_capture outer, inner;
	char line[256];
	pthread_t t;

	(void)state;
	log_set_level(LOG_ERROR); /* errors only: the warning above must not count */
	log_capture_begin(&outer);
	log_warn("a warning");
	assert_string_equal(outer.msg, "");
	assert_int_equal(pthread_create(&t, NULL, capture_other_thread, NULL), 0);
	pthread_join(t, NULL);
	assert_string_equal(outer.msg, "");
	log_set_format(true, true);
	log_err("drive %s: gone", "rootfs");
	log_set_format(false, false);
	log_err("a later error");
	assert_string_equal(outer.msg, "drive rootfs: gone");

	log_capture_begin(&inner);
	log_err("inner error");
	log_capture_end(&inner);
	assert_string_equal(inner.msg, "inner error");
	assert_string_equal(outer.msg, "drive rootfs: gone");
	log_capture_end(&outer);

	log_capture_begin(&outer);
	log_capture_end(&outer);
	log_err("after the end");
	assert_string_equal(outer.msg, "");
	log_set_level(LOG_INFO);
	capture(LOG_INFO, line, sizeof(line)); /* logging itself still works */
	assert_string_equal(line, "ember: disk vda is slow\n");
}

/*
 * PUT /logger's "module" is applied like --module: lines from files outside
 * the prefix are dropped; the prefix is copied (the request's buffer is
 * reused); a later request without "module" keeps it, as in Firecracker.
 */
static void test_logger_module(void **state)
{
	struct api_logger lg = {.set = true, .level = API_LOG_INFO};
	char line[256];

	(void)state;
	snprintf(lg.module, sizeof(lg.module), "virtio/");
	log_apply_logger(&lg);
	memset(lg.module, 0, sizeof(lg.module));
	line[0] = '\0';
	capture(LOG_INFO, line, sizeof(line));
	assert_string_equal(line, ""); /* this file is not under virtio/ */
	log_apply_logger(&lg);
	capture(LOG_INFO, line, sizeof(line));
	assert_string_equal(line, "");
	snprintf(lg.module, sizeof(lg.module), "tests/unit/");
	log_apply_logger(&lg);
	capture(LOG_INFO, line, sizeof(line));
	assert_string_equal(line, "ember: disk vda is slow\n");
	log_set_module(NULL);
	capture(LOG_INFO, line, sizeof(line));
	assert_string_equal(line, "ember: disk vda is slow\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default),	  cmocka_unit_test(test_level),
	    cmocka_unit_test(test_origin),	  cmocka_unit_test(test_capture),
	    cmocka_unit_test(test_logger_module),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
