/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console.h - where the guest's serial console goes and comes from: stdio
 * (a terminal in raw mode, keys to the guest), a file, or nowhere.  Owns
 * the output fd, the stdin handler on the VMM loop and the terminal's
 * saved settings; the 8250 (serial.c) only sees an output fd and pushes.
 */
#ifndef EMBER_CONSOLE_H
#define EMBER_CONSOLE_H

#include <termios.h>

#include "config.h"
#include "evloop.h"
#include "serial.h"

struct console {
	struct evloop *loop;
	struct serial *serial; /* set by console_connect */
	int out_fd;
	bool out_owned; /* a file we opened: closed with the console */
	struct ev_handler h_stdin, h_wake;
	bool stdin_polled, stdin_eof, wake_added;
	bool raw;
	struct termios saved;
	/* Input the UART's FIFO had no room for: it goes first once there is. */
	uint8_t pending[256];
	size_t pending_off, pending_len;
};

/*
 * Opens the output (stdout, or @path truncated) and, for stdio, puts stdin
 * on @loop (a terminal goes raw).  0, or -errno with a message logged.
 */
int console_open(struct console *c, enum console_kind kind, const char *path, struct evloop *loop);
/* The UART @s takes our input; @wake_fd is signalled when its FIFO drains. */
int console_connect(struct console *c, struct serial *s, int wake_fd);
/* Restores the terminal, leaves the loop, closes what we opened. */
void console_close(struct console *c);

#endif /* EMBER_CONSOLE_H */
