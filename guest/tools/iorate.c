/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iorate - sequential O_DIRECT block I/O for a fixed time, with progress
 * samples, for make bench's device module (bench/devices-in-l1.sh).
 *
 *   iorate read|write DEV BS SECS MARK
 *
 * Reads (or writes) DEV in BS-byte requests, one at a time, from offset 0,
 * wrapping at its end, for SECS seconds (0: until killed).  O_DIRECT so
 * that every request reaches the device: the guest's page cache would
 * otherwise answer repeated reads itself.  Every 250 ms it prints
 *   IORATE MARK T_MS BYTES OPS
 * (milliseconds since its start, totals so far) and at the end
 *   IORATE_END MARK T_MS BYTES OPS
 * The host works rates out of the samples (slopes over a window), so a
 * limiter's initial full bucket can be left out of the figure.
 *
 * Exit status 0 on success, 1 on an I/O error (with a message), 2 on usage.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_MS 250
#define ALIGN	  4096

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int usage(void)
{
	fprintf(stderr, "usage: iorate read|write DEV BS SECS MARK\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t t0, last, now, bytes = 0, ops = 0, size;
	unsigned long bs, secs;
	off_t off = 0, end;
	char *stop;
	void *buf;
	int fd, wr;

	if (argc != 6)
		return usage();
	wr = !strcmp(argv[1], "write");
	if (!wr && strcmp(argv[1], "read"))
		return usage();
	bs = strtoul(argv[3], &stop, 10);
	if (*stop || bs == 0 || bs % 512 || bs > (64u << 20))
		return usage();
	secs = strtoul(argv[4], &stop, 10);
	if (*stop)
		return usage();
	fd = open(argv[2], (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "iorate: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	end = lseek(fd, 0, SEEK_END);
	size = end > 0 ? (uint64_t)end / bs * bs : 0;
	if (size == 0 || posix_memalign(&buf, ALIGN, bs)) {
		fprintf(stderr, "iorate: %s: smaller than one request, or no memory\n", argv[2]);
		return 1;
	}
	memset(buf, 0x5a, bs);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = last = now_ms();
	for (;;) {
		ssize_t n = wr ? pwrite(fd, buf, bs, off) : pread(fd, buf, bs, off);

		if (n != (ssize_t)bs) {
			fprintf(stderr, "iorate: %s at %lld: %s\n", argv[1], (long long)off,
				n < 0 ? strerror(errno) : "short transfer");
			return 1;
		}
		bytes += bs;
		ops++;
		off = (uint64_t)off + bs >= size ? 0 : off + (off_t)bs;
		now = now_ms();
		if (now - last >= SAMPLE_MS) {
			printf("IORATE %s %llu %llu %llu\n", argv[5],
			       (unsigned long long)(now - t0), (unsigned long long)bytes,
			       (unsigned long long)ops);
			last = now;
		}
		if (secs && now - t0 >= secs * 1000)
			break;
	}
	printf("IORATE_END %s %llu %llu %llu\n", argv[5], (unsigned long long)(now - t0),
	       (unsigned long long)bytes, (unsigned long long)ops);
	return 0;
}
