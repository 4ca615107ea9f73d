/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api-curl - the part of curl the integration tests use against ember's API
 * socket, for an L1 that has no curl of its own (the arm64 L1: Debian's
 * curl would bring two dozen shared libraries along).  The x86 L1 uses the
 * real curl; the tests (tests/integration/lib.sh's api()) are the same.
 *
 *   api-curl [-s] [-i] --unix-socket PATH [-X METHOD] [-H HEADER]... [-d DATA]
 *            [-w FORMAT] http://localhost/PATH
 *
 * One HTTP/1.1 request with Connection: close; prints the body (with -i the
 * status line and headers first), then FORMAT with \n and %{http_code}
 * expanded, as curl does.  Exit status 0 when a response came, 7 when the
 * socket could not be reached (curl's "couldn't connect"), 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_HEADERS 16
#define MAX_REPLY   (1u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: api-curl [-s] [-i] --unix-socket PATH [-X METHOD] [-H HEADER]... "
			"[-d DATA] [-w FORMAT] http://localhost/PATH\n");
	return 2;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* FORMAT as curl's -w: \n, \t, \\ and %{http_code}; the rest as is. */
static void print_format(const char *f, int code)
{
	for (; *f; f++) {
		if (*f == '\\' && f[1]) {
			f++;
			putchar(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f);
		} else if (!strncmp(f, "%{http_code}", 12)) {
			printf("%03d", code);
			f += 11;
		} else {
			putchar(*f);
		}
	}
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *method = NULL, *data = NULL, *wfmt = NULL, *url = NULL;
	const char *hdr[MAX_HEADERS];
	unsigned nhdr = 0;
	int include = 0, code = 0, fd;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *reply, *body, *path;
	size_t len = 0;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;

		if (!strcmp(a, "-s"))
			continue;
		else if (!strcmp(a, "-i"))
			include = 1;
		else if (!strcmp(a, "--unix-socket") && more)
			sock = argv[++i];
		else if (!strcmp(a, "-X") && more)
			method = argv[++i];
		else if (!strcmp(a, "-d") && more)
			data = argv[++i];
		else if (!strcmp(a, "-w") && more)
			wfmt = argv[++i];
		else if (!strcmp(a, "-H") && more && nhdr < MAX_HEADERS)
			hdr[nhdr++] = argv[++i];
		else if (a[0] != '-' && !url)
			url = a;
		else
			return usage();
	}
	if (!sock || !url || strncmp(url, "http://", 7) || strlen(sock) >= sizeof(sa.sun_path))
		return usage();
	path = strchr(url + 7, '/');
	if (!method)
		method = data ? "POST" : "GET";
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "api-curl: %s: %s\n", sock, strerror(errno));
		return 7;
	}
	reply = malloc(MAX_REPLY + 1);
	if (!reply)
		return 1;
	/* Like curl: -d without a Content-Type header is form data. */
	n = snprintf(reply, MAX_REPLY, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n",
		     method, path ? path : "/");
	for (unsigned i = 0; i < nhdr; i++)
		n += snprintf(reply + n, MAX_REPLY - (size_t)n, "%s\r\n", hdr[i]);
	if (data)
		n += snprintf(reply + n, MAX_REPLY - (size_t)n, "Content-Length: %zu\r\n%s",
			      strlen(data),
			      nhdr ? "" : "Content-Type: application/x-www-form-urlencoded\r\n");
	n += snprintf(reply + n, MAX_REPLY - (size_t)n, "Connection: close\r\n\r\n");
	if (n >= (ssize_t)MAX_REPLY || write_all(fd, reply, (size_t)n) ||
	    (data && write_all(fd, data, strlen(data)))) {
		fprintf(stderr, "api-curl: sending the request failed\n");
		return 1;
	}
	/* ember answers and keeps the connection open for more: read up to the body's end. */
	for (;;) {
		char *end;
		const char *cl;

		n = read(fd, reply + len, MAX_REPLY - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		reply[len] = '\0';
		end = strstr(reply, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(reply, "\r\nContent-Length:");
		if (!cl || cl > end || len >= (size_t)(end + 4 - reply) + strtoul(cl + 17, NULL, 10))
			break;
	}
	close(fd);
	reply[len] = '\0';
	if (sscanf(reply, "HTTP/1.%*d %d", &code) != 1) {
		fprintf(stderr, "api-curl: no HTTP response\n");
		return 52; /* curl: empty reply from server */
	}
	body = strstr(reply, "\r\n\r\n");
	body = body ? body + 4 : reply + len;
	fwrite(include ? reply : body, 1, (size_t)(reply + len - (include ? reply : body)), stdout);
	if (wfmt)
		print_format(wfmt, code);
	return 0;
}
