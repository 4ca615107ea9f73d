// SPDX-License-Identifier: Apache-2.0
/*
 * The guest console's host end (console.h).  Input flows stdin -> UART RX
 * FIFO; when the FIFO is full we stop polling stdin and keep what did not
 * fit, and the UART's wake eventfd (it drained) brings both back.  EOF on
 * stdin is final.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"

static void stdin_poll(struct console *c, bool on)
{
	if (on == c->stdin_polled || (on && c->stdin_eof))
		return;
	if (on)
		c->stdin_polled = evloop_add(c->loop, &c->h_stdin, EPOLLIN) == 0;
	else if (evloop_del(c->loop, &c->h_stdin) == 0)
		c->stdin_polled = false;
}

/* Pushes what is pending; true if all of it went into the FIFO. */
static bool flush_pending(struct console *c)
{
	size_t n;

	if (!c->serial)
		return c->pending_len == 0;
	n = serial_push(c->serial, c->pending + c->pending_off, c->pending_len);
	c->pending_off += n;
	c->pending_len -= n;
	if (!c->pending_len)
		c->pending_off = 0;
	return c->pending_len == 0;
}

static void on_stdin(struct ev_handler *h, uint32_t events)
{
	struct console *c = h->opaque;
	ssize_t n;

	(void)events;
	if (c->pending_len) {
		stdin_poll(c, false); /* cannot happen while we hold input; be safe */
		return;
	}
	n = read(h->fd, c->pending, sizeof(c->pending));
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		c->stdin_eof = true; /* EOF or error: the guest just gets no more input */
		stdin_poll(c, false);
		return;
	}
	c->pending_off = 0;
	c->pending_len = (size_t)n;
	if (!flush_pending(c))
		stdin_poll(c, false); /* full: resume when the guest drains (on_wake) */
}

static void on_wake(struct ev_handler *h, uint32_t events)
{
	struct console *c = h->opaque;
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0)
		return;
	if (flush_pending(c))
		stdin_poll(c, true);
}

int console_open(struct console *c, enum console_kind kind, const char *path, struct evloop *loop)
{
	*c = (struct console){.loop = loop, .out_fd = -1};
	if (kind == CONSOLE_STREAM) {
		const char *why;

		/* No input, as in Firecracker; a FIFO without a reader is fine. */
		c->out_fd = file_open_stream(path, &why);
		if (c->out_fd < 0) {
			log_err("serial_out_path %s: %s", path, why);
			return c->out_fd;
		}
		c->out_owned = true;
	} else if (kind == CONSOLE_FILE) {
		const char *why;
		struct stat st;

		/*
		 * Never blocking: a plain open of a FIFO nobody reads would hang
		 * here for good.  A FIFO is written as serial_out_path's is (what
		 * does not fit is dropped); a regular file starts empty.
		 */
		c->out_fd = file_open_stream(path, &why);
		if (c->out_fd < 0) {
			log_err("console file %s: %s", path, why);
			return c->out_fd;
		}
		c->out_owned = true;
		if (!fstat(c->out_fd, &st) && S_ISREG(st.st_mode) && ftruncate(c->out_fd, 0)) {
			int r = -errno;

			log_err("console file %s: %s", path, strerror(errno));
			console_close(c);
			return r;
		}
	} else if (kind == CONSOLE_STDIO) {
		c->out_fd = STDOUT_FILENO;
		c->h_stdin = (struct ev_handler){.fd = STDIN_FILENO, .fn = on_stdin, .opaque = c};
		/* epoll refuses regular files and /dev/null: then there is simply no input. */
		stdin_poll(c, true);
		if (c->stdin_polled && isatty(STDIN_FILENO) &&
		    tcgetattr(STDIN_FILENO, &c->saved) == 0) {
			struct termios raw = c->saved;

			/* Keys go to the guest as typed; ISIG stays so Ctrl-C still stops ember. */
			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			raw.c_iflag &= ~(tcflag_t)ICRNL;
			c->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		}
	}
	return 0;
}

int console_connect(struct console *c, struct serial *s, int wake_fd)
{
	int r;

	c->serial = s;
	c->h_wake = (struct ev_handler){.fd = wake_fd, .fn = on_wake, .opaque = c};
	r = evloop_add(c->loop, &c->h_wake, EPOLLIN);
	c->wake_added = r == 0;
	return r;
}

void console_close(struct console *c)
{
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->raw = false;
	stdin_poll(c, false);
	if (c->wake_added)
		evloop_del(c->loop, &c->h_wake);
	c->wake_added = false;
	if (c->out_owned && c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	c->out_owned = false;
}
