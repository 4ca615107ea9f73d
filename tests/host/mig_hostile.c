// SPDX-License-Identifier: Apache-2.0
/*
 * mig-hostile CASE SOCKET - a hostile migration source for
 * tests/host/mig_streams.sh: connects to a destination ember's
 * /migration/receive Unix socket, reads its greeting and sends one bad
 * stream, built with the unit tests' rig (tests/unit/mig_rig.h), each
 * frame but the broken one well-formed for this connection's nonce:
 *
 *   garbage    64 KiB of random bytes
 *   truncated  HELLO, then half a PAGES frame, then the connection closed
 *   version    HELLO of another stream version (its CRC right)
 *   oversized  a PAGES header announcing 1 TiB
 *   replay     a whole good stream recorded for another connection (nonce)
 *   bad-end    a whole good stream whose END frame has one byte flipped
 *   misfit     a whole well-formed stream whose state needs 1 MiB of RAM
 *              and HELLO announced 64 KiB: refused when the VM is built
 *   built-garbage   a CONFIG the destination builds a VM from (1 vCPU,
 *              1 MiB: needs KVM), then garbage: that VM is destroyed
 *   built-mismatch  the same CONFIG, then a whole stream whose STATE is of
 *              another machine (2 vCPUs): the VM built ahead is thrown
 *              away, the state loaded whole, and refused (no vCPU state)
 *
 * Prints what the destination answered: "ERR <message>", "OK" or "EOF";
 * exit 0 once the stream was sent (the script judges the answer), 1 if it
 * could not be.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mig_rig.h"

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return n < 0 && errno == EINTR ? 0 : -1;
		p += n, len -= (size_t)n;
	}
	return 0;
}

static size_t recv_some(int fd, uint8_t *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A state file of a machine of @vcpus vCPUs and 1 MiB at MIG_RIG_GPA (no state), as a @type frame.
 */
static void machine_frame(struct mig_buf *b, uint32_t type, uint32_t vcpus)
{
	uint8_t m[16] = {0}, reg[24] = {0};
	struct snap_writer w;
	const uint8_t *img;
	size_t len;

	mig_le(m, vcpus, 4);
	mig_le(m + 4, 1, 4); /* regions */
	mig_le(m + 8, 1, 8); /* MiB */
	mig_le(reg, MIG_RIG_GPA, 8);
	mig_le(reg + 8, 1 << 20, 8); /* 1 MiB, file offset 0 */
	if (snap_w_begin(&w, 0) || snap_w_section(&w, SNAP_SEC_MACHINE, 0, m, sizeof(m)) ||
	    snap_w_section(&w, SNAP_SEC_MEM_REGION, 0, reg, sizeof(reg)) ||
	    !(img = snap_w_bytes(&w, &len)))
		abort();
	mig_buf_add(b, type, img, len);
	snap_w_free(&w);
}

/* The stream for @what, for a destination that chose @nonce. */
static int build(struct mig_buf *b, const char *what, uint64_t nonce)
{
	*b = (struct mig_buf){.nonce = nonce};
	if (!strcmp(what, "garbage")) {
		uint64_t x = 88172645463325252ull;

		b->len = 64 << 10;
		b->p = malloc(b->len);
		for (size_t i = 0; b->p && i < b->len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b->p[i] = (uint8_t)x;
		}
		return b->p ? 0 : -1;
	}
	if (!strcmp(what, "truncated")) {
		mig_buf_hello(b, MIG_VERSION, 16 * MIG_PAGE);
		mig_buf_pages(b, 0, 4, 1);
		b->len -= 2 * MIG_PAGE;
		return 0;
	}
	if (!strcmp(what, "version")) {
		mig_buf_hello(b, MIG_VERSION + 1, 16 * MIG_PAGE);
		return 0;
	}
	if (!strcmp(what, "oversized")) {
		uint8_t hdr[MIG_HDR_SIZE];

		mig_buf_hello(b, MIG_VERSION, 16 * MIG_PAGE);
		mig_hdr_encode(hdr, nonce, MIG_FR_PAGES, b->seq, NULL, 0);
		mig_le(hdr + 16, 1ull << 40, 8);
		b->p = realloc(b->p, b->len + sizeof(hdr));
		memcpy(b->p + b->len, hdr, sizeof(hdr));
		b->len += sizeof(hdr);
		return 0;
	}
	if (!strcmp(what, "replay")) {
		mig_buf_good(b, nonce + 1);
		return 0;
	}
	if (!strcmp(what, "misfit")) {
		mig_buf_good(b, nonce);
		return 0;
	}
	if (!strncmp(what, "built-", 6)) {
		mig_buf_hello(b, MIG_VERSION, 1 << 20);
		machine_frame(b, MIG_FR_CONFIG, 1);
		if (!strcmp(what, "built-garbage")) {
			b->p = realloc(b->p, b->len + 4096);
			memset(b->p + b->len, 0xa5, 4096);
			b->len += 4096;
			return 0;
		}
		mig_buf_pages(b, 0, 1, 1);
		machine_frame(b, MIG_FR_STATE, 2);
		mig_buf_end(b, 0);
		return strcmp(what, "built-mismatch") ? -1 : 0;
	}
	if (!strcmp(what, "bad-end")) {
		mig_buf_good(b, nonce);
		b->p[b->len - 1] ^= 0x20; /* END's payload: its CRC no longer matches */
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	uint8_t gr[MIG_GREETING_SIZE], ans[MIG_HDR_SIZE + MIG_MAX_ERR];
	struct mig_buf b;
	uint64_t nonce;
	char err[256];
	size_t got;
	int fd;

	if (argc != 3 || strlen(argv[2]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: mig-hostile CASE SOCKET\n");
		return 1;
	}
	memcpy(a.sun_path, argv[2], strlen(argv[2]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    recv_some(fd, gr, sizeof(gr)) != sizeof(gr) ||
	    mig_greeting_decode(gr, &nonce, err, sizeof(err))) {
		fprintf(stderr, "mig-hostile: no destination at %s\n", argv[2]);
		return 1;
	}
	if (build(&b, argv[1], nonce)) {
		fprintf(stderr, "mig-hostile: unknown case %s\n", argv[1]);
		return 1;
	}
	/* The destination may refuse before it has read everything: that is fine. */
	(void)send_all(fd, b.p, b.len);
	shutdown(fd, SHUT_WR);
	got = recv_some(fd, ans, sizeof(ans));
	if (got >= MIG_HDR_SIZE && get32(ans) == MIG_FR_ERR)
		printf("ERR %.*s\n", (int)(got - MIG_HDR_SIZE), (const char *)ans + MIG_HDR_SIZE);
	else
		printf("%s\n", got >= MIG_HDR_SIZE && get32(ans) == MIG_FR_OK ? "OK" : "EOF");
	free(b.p);
	close(fd);
	return 0;
}
