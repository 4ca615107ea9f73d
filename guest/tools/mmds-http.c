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
 *
 *   mmds-http -J IFACE
 *
 * sends malformed frames for the MMDS out of IFACE (AF_PACKET): truncated
 * and lying IPv4 headers, TCP with impossible data offsets, fragments,
 * short ARP, each 50 times; the MMDS must drop them and keep serving.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_HDRS 8

/* Junk for the MMDS address out of @ifname; 0, or 1 if it could not be sent. */
static int junk(const char *ifname)
{
	struct sockaddr_ll sa = {.sll_family = AF_PACKET, .sll_halen = 6};
	unsigned char f[128];
	int fd = socket(AF_PACKET, SOCK_RAW, htons(0x0800)), sent = 0;

	sa.sll_ifindex = (int)if_nametoindex(ifname);
	memset(sa.sll_addr, 0xff, 6);
	if (fd < 0 || !sa.sll_ifindex)
		return 1;
	for (int i = 0; i < 50 * 6; i++) {
		size_t len = sizeof(f);

		memset(f, 0, sizeof(f));
		memset(f, 0xff, 6);
		f[12] = 0x08; /* IPv4 */
		f[14] = 0x45;
		f[16] = 0; /* total length 100 */
		f[17] = 100;
		f[23] = 6; /* TCP */
		memcpy(f + 30, "\xa9\xfe\xa9\xfe", 4);
		switch (i % 6) {
		case 0: /* cut inside the IPv4 header */
			len = 20;
			break;
		case 1: /* a total length past the frame */
			f[16] = 0xff;
			break;
		case 2: /* TCP data offset 60 in a 80-byte packet */
			f[46] = 0xf0;
			break;
		case 3: /* a fragment */
			f[20] = 0x20;
			break;
		case 4: /* ARP, cut short */
			f[13] = 0x06;
			len = 30;
			break;
		default: /* TCP data offset 0 */
			f[46] = 0;
			break;
		}
		sa.sll_protocol = htons(f[13] == 0x06 ? 0x0806 : 0x0800);
		sent += sendto(fd, f, len, 0, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len;
	}
	close(fd);
	printf("mmds-http: %d malformed frames sent\n", sent);
	return sent ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *addr = "169.254.169.254", *hdrs[MAX_HDRS];
	static char req[8192], resp[1 << 20];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	struct timeval tv = {.tv_sec = 10};
	int nh = 0, only_body = 0, opt, fd, n, len;
	size_t got = 0;
	char *body;

	while ((opt = getopt(argc, argv, "a:H:sJ:")) != -1) {
		if (opt == 'J')
			return junk(optarg);
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
