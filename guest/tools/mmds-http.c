/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds-http - a minimal HTTP/1.1 client for the MMDS tests in the guest
 * (busybox wget cannot PUT).
 *
 *   mmds-http [-a ADDR] [-H 'Name: value']... [-s] METHOD PATH
 *
 * Connects to ADDR:80 (169.254.169.254 by default), sends one request with
 * "Connection: close", and prints the status code on the first line and
 * then the body; with -s only the body.  Exit status 0 when a response
 * came (whatever its status), 1 otherwise, 2 on usage errors.  Gives up
 * after 10 s.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_HDRS 8

int main(int argc, char **argv)
{
	const char *addr = "169.254.169.254", *hdrs[MAX_HDRS];
	static char req[8192], resp[1 << 20];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	struct timeval tv = {.tv_sec = 10};
	int nh = 0, only_body = 0, opt, fd, n, len;
	size_t got = 0;
	char *body;

	while ((opt = getopt(argc, argv, "a:H:s")) != -1) {
		if (opt == 'a')
			addr = optarg;
		else if (opt == 'H' && nh < MAX_HDRS)
			hdrs[nh++] = optarg;
		else if (opt == 's')
			only_body = 1;
		else
			return 2;
	}
	if (argc - optind != 2 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: mmds-http [-a ADDR] [-H 'N: v']... [-s] METHOD PATH\n");
		return 2;
	}
	len = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n",
		       argv[optind], argv[optind + 1], addr);
	for (int i = 0; i < nh && len > 0 && (size_t)len < sizeof(req); i++)
		len += snprintf(req + len, sizeof(req) - (size_t)len, "%s\r\n", hdrs[i]);
	if (len <= 0 || (size_t)len + 3 > sizeof(req))
		return 2;
	len += snprintf(req + len, sizeof(req) - (size_t)len, "\r\n");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, req, (size_t)len) != len) {
		perror("mmds-http");
		return 1;
	}
	while (got < sizeof(resp) - 1 &&
	       (n = (int)read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	resp[got] = '\0';
	body = strstr(resp, "\r\n\r\n");
	if (strncmp(resp, "HTTP/1.", 7) || !body || got < 12) {
		fprintf(stderr, "mmds-http: no response (%zu bytes)\n", got);
		return 1;
	}
	if (!only_body)
		printf("%.3s\n", resp + 9);
	fputs(body + 4, stdout);
	putchar('\n');
	return 0;
}
