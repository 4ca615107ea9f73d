// SPDX-License-Identifier: Apache-2.0
/*
 * Logging to stderr, one line per message, prefixed "ember: ".  The level is
 * the one piece of process-wide state: it is set once from the CLI before any
 * thread starts, so reading it unlocked from other threads is safe.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "ember.h"

static enum log_level log_threshold = LOG_INFO;
static bool log_show_level, log_show_origin;
/*
 * A copy, not a pointer: PUT /logger's request is gone once it is applied.
 * Written on the VMM thread only; a line logged during the write may be
 * filtered by either prefix, never by a string past the buffer's end.
 */
static char log_module[API_MODULE_MAX];
/*
 * Per thread and scoped by its owner (the stack frame that opened it), so no
 * other thread ever sees it: the one way an error's text reaches the API.
 */
static __thread struct log_capture *capture;

void log_capture_begin(struct log_capture *c)
{
	c->msg[0] = '\0';
	c->prev = capture;
	capture = c;
}

void log_capture_end(struct log_capture *c)
{
	capture = c->prev;
}

void log_set_level(enum log_level lvl)
{
	log_threshold = lvl;
}

void log_set_format(bool show_level, bool show_origin)
{
	log_show_level = show_level;
	log_show_origin = show_origin;
}

void log_set_module(const char *prefix)
{
	snprintf(log_module, sizeof(log_module), "%s", prefix ? prefix : "");
}

void log_apply_logger(const struct api_logger *lg)
{
	static const enum log_level map[] = {
	    [API_LOG_ERROR] = LOG_ERROR, [API_LOG_WARNING] = LOG_WARN, [API_LOG_INFO] = LOG_INFO,
	    [API_LOG_DEBUG] = LOG_DEBUG, [API_LOG_TRACE] = LOG_DEBUG,  [API_LOG_OFF] = LOG_ERROR,
	};

	log_set_level(map[lg->level]);
	log_set_format(lg->show_level, lg->show_log_origin);
	/* As Firecracker: a request without "module" keeps the filter in force. */
	if (lg->module[0])
		log_set_module(lg->module);
}

void log_msg_at(enum log_level lvl, const char *file, int lineno, const char *fmt, ...)
{
	static const char *const prefix[] = {
	    [LOG_ERROR] = "error: ",
	    [LOG_WARN] = "warning: ",
	    [LOG_INFO] = "",
	    [LOG_DEBUG] = "debug: ",
	};
	static const char *const name[] = {
	    [LOG_ERROR] = "ERROR: ",
	    [LOG_WARN] = "WARN: ",
	    [LOG_INFO] = "INFO: ",
	    [LOG_DEBUG] = "DEBUG: ",
	};
	const char *base = strrchr(file, '/');
	char line[1024];
	va_list ap;
	int n;

	if (lvl > log_threshold)
		return;
	n = snprintf(line, 128, "ember: %s", log_show_level ? name[lvl] : prefix[lvl]);
	if (log_show_origin)
		n += snprintf(line + n, 128, "[%s:%d] ", base ? base + 1 : file, lineno);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (lvl == LOG_ERROR && capture && !capture->msg[0])
		snprintf(capture->msg, sizeof(capture->msg), "%s", line + n);
	if (log_module[0] && strncmp(file, log_module, strlen(log_module)))
		return;
	/* One write() per line so lines from different threads never interleave. */
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report it. */
	}
}

uint64_t clock_us(clockid_t clock)
{
	struct timespec ts = {0};

	(void)clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t time_now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	uint64_t now = time_now_us() / 1000u;

	if (now - rl->window_start_ms >= rl->interval_ms) {
		if (rl->missed)
			log_warn("%u similar messages suppressed", rl->missed);
		rl->window_start_ms = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->missed++;
	return false;
}
