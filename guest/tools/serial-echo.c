/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serial-echo - answers bytes on the serial console, for the restore bench
 * (bench/restore-peer-in-l1.sh): "guest running" probed the same way in any
 * VMM with a UART, where a vsock probe would differ between them.
 *
 *   serial-echo [TTY]    (default /dev/console)
 *
 * Puts TTY in raw mode (no echo, no line editing: only this program, not
 * the kernel's line discipline, answers), prints "SERIAL_ECHO_READY" once,
 * then for every read of input writes "ECHO <its last byte>\n".  The answer
 * comes from userspace, so a reply means the guest's kernel and userland
 * both run.  Never exits on its own.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/console";
	struct termios t;
	char in[64], out[8];
	int fd = open(path, O_RDWR | O_NOCTTY);

	if (fd < 0 || tcgetattr(fd, &t)) {
		perror(path);
		return 1;
	}
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t)) {
		perror("tcsetattr");
		return 1;
	}
	tcflush(fd, TCIFLUSH); /* what came before raw mode is not an answer's cause */
	if (write(fd, "SERIAL_ECHO_READY\n", 18) != 18)
		return 1;
	for (;;) {
		ssize_t n = read(fd, in, sizeof(in));

		if (n <= 0) {
			usleep(1000); /* a hangup or signal: the console stays ours */
			continue;
		}
		memcpy(out, "ECHO ", 5);
		out[5] = in[n - 1];
		out[6] = '\n';
		if (write(fd, out, 7) != 7)
			continue;
	}
}
