// SPDX-License-Identifier: Apache-2.0
/*
 * boottime: start a VMM, time it from fork to the guest's init marker on
 * its console, sample its memory at that moment, then kill it.  The same
 * measurement for ember and QEMU, so the two columns are comparable.
 *
 *   boottime MARKER TIMEOUT_S GUEST_MIB -- command [args...]
 *
 * Prints one line:
 *   boot_us=N pss_kb=N guest_kb=N overhead_kb=N vmm_reported_ms=N|-
 * guest_kb is the PSS of the anonymous mapping(s) exactly GUEST_MIB in size
 * (the guest's RAM); overhead_kb is everything else the process holds.
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sum PSS over all mappings, and separately over the guest-RAM-sized ones. */
static int sample_pss(pid_t pid, uint64_t guest_bytes, uint64_t *total_kb, uint64_t *guest_kb)
{
	char path[64], line[512];
	unsigned long long lo, hi, kb;
	bool in_guest = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*total_kb = *guest_kb = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in_guest = hi - lo == guest_bytes;
		else if (sscanf(line, "Pss: %llu kB", &kb) == 1) {
			*total_kb += kb;
			if (in_guest)
				*guest_kb += kb;
		}
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	int out[2];
	char buf[65536];
	size_t used = 0;
	uint64_t t0, boot_us = 0, pss = 0, guest = 0;
	long reported_ms = -1;
	pid_t pid;

	if (argc < 6 || strcmp(argv[4], "--")) {
		fprintf(stderr, "usage: boottime MARKER TIMEOUT_S GUEST_MIB -- command [args...]\n");
		return 2;
	}
	const char *marker = argv[1];
	uint64_t deadline_us = strtoull(argv[2], NULL, 10) * 1000000u;
	uint64_t guest_bytes = strtoull(argv[3], NULL, 10) << 20;

	if (pipe(out))
		return 2;
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		/* Console and log both into the pipe; no input. */
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
		execvp(argv[5], argv + 5);
		_exit(127);
	}
	close(out[1]);
	while (!boot_us && now_us() - t0 < deadline_us) {
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if (used == sizeof(buf) - 1) /* keep the tail: the marker is at the end */
			used = 0;
		n = read(out[0], buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		buf[used] = '\0';
		if (strstr(buf, marker)) {
			boot_us = now_us() - t0;
			sample_pss(pid, guest_bytes, &pss, &guest);
		}
	}
	/* ember logs its own boot timer; let it reach the pipe before the kill. */
	usleep(20000);
	for (;;) {
		ssize_t n;
		struct pollfd p = {.fd = out[0], .events = POLLIN};

		if (poll(&p, 1, 0) <= 0 || used >= sizeof(buf) - 1)
			break;
		n = read(out[0], buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		buf[used] = '\0';
	}
	const char *r = strstr(buf, "guest init after ");

	if (r)
		reported_ms = strtol(r + strlen("guest init after "), NULL, 10);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!boot_us) {
		fprintf(stderr, "boottime: no '%s' within %s s; output tail:\n%s\n", marker, argv[2],
			used > 2000 ? buf + used - 2000 : buf);
		return 1;
	}
	printf("boot_us=%llu pss_kb=%llu guest_kb=%llu overhead_kb=%llu vmm_reported_ms=",
	       (unsigned long long)boot_us, (unsigned long long)pss, (unsigned long long)guest,
	       (unsigned long long)(pss - guest));
	if (reported_ms >= 0)
		printf("%ld\n", reported_ms);
	else
		printf("-\n");
	return 0;
}
