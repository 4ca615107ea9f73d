// SPDX-License-Identifier: Apache-2.0
/*
 * The log line format: "ember: " and the message by default (the
 * integration tests grep for that), the level and/or the origin when the
 * logger asks for them (PUT /logger show_level, show_log_origin).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

/* Runs one log_info/log_warn with stderr captured; returns the line. */
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
	assert_true(n > 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default),
	    cmocka_unit_test(test_level),
	    cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
