/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ember-guest - the guest side of ember's tests, one static binary.
 *
 *   ember-guest boot-done        write one byte to the boot timer (x86: port
 *                                0x440; aarch64: MMIO 0x40003000 via /dev/mem)
 *   ember-guest outb PORT VALUE  write a byte to an I/O port
 *   ember-guest inb PORT         read a byte from an I/O port, print it
 *   ember-guest reset            pulse the i8042 reset line (port 0x64 <- 0xfe)
 *   ember-guest cpus             print the number of online CPUs
 *   ember-guest memkb            print MemTotal from /proc/meminfo, in kB
 *   ember-guest tsc              print the CPU's time stamp counter (x86:
 *                                rdtsc; aarch64: CNTVCT_EL0) and, read right
 *                                after it, CLOCK_MONOTONIC in ns: the first
 *                                is what the VMM restores as a register, the
 *                                second the guest's own clock, for checking
 *                                one against the other across a restore
 *
 * Port access needs ioperm(), i.e. root, which the guest's init is; aarch64
 * has no I/O ports (outb, inb and reset fail there).  Numbers accept C
 * syntax (0x440, 1088).  Exit status 0 on success, 1 on failure,
 * 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#define HAVE_PORTS 1
#else
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#define HAVE_PORTS     0
/* ember's boot timer on aarch64 (vmm/arch/aarch64/layout.h). */
#define BOOT_DONE_MMIO 0x40003000ul
#endif

#define BOOT_DONE_PORT 0x440
#define I8042_CMD_PORT 0x64
#define I8042_RESET    0xfe

static const char *prog = "ember-guest";

static int usage(void)
{
	fprintf(stderr,
		"usage: %s boot-done | outb PORT VALUE | inb PORT | reset | cpus | memkb | tsc\n",
		prog);
	return 2;
}

/* Parses a number in [0, max]; returns -1 (after a message) when it is not one. */
static long parse_num(const char *s, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < 0 || v > max) {
		fprintf(stderr, "%s: bad %s '%s' (0..%ld)\n", prog, what, s, max);
		return -1;
	}
	return v;
}

#if HAVE_PORTS
static int port_write(unsigned port, unsigned char val)
{
	if (ioperm(port, 1, 1)) {
		fprintf(stderr, "%s: ioperm(0x%x): %s\n", prog, port, strerror(errno));
		return 1;
	}
	outb(val, port);
	return 0;
}

static int port_read(unsigned port)
{
	if (ioperm(port, 1, 1)) {
		fprintf(stderr, "%s: ioperm(0x%x): %s\n", prog, port, strerror(errno));
		return 1;
	}
	printf("0x%02x\n", inb(port));
	return 0;
}

static int boot_done(void)
{
	return port_write(BOOT_DONE_PORT, 0);
}
#else
static int no_ports(void)
{
	fprintf(stderr, "%s: this architecture has no I/O ports\n", prog);
	return 1;
}

static int port_write(unsigned port, unsigned char val)
{
	(void)port;
	(void)val;
	return no_ports();
}

static int port_read(unsigned port)
{
	(void)port;
	return no_ports();
}

/* One byte to the boot timer's MMIO page, through /dev/mem. */
static int boot_done(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	volatile uint8_t *p;

	if (fd < 0) {
		fprintf(stderr, "%s: /dev/mem: %s\n", prog, strerror(errno));
		return 1;
	}
	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)(BOOT_DONE_MMIO & ~(unsigned long)(pg - 1)));
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: mmap of the boot timer: %s\n", prog, strerror(errno));
		return 1;
	}
	p[BOOT_DONE_MMIO & (unsigned long)(pg - 1)] = 0;
	munmap((void *)p, (size_t)pg);
	return 0;
}
#endif

static int print_memkb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long kb;

	if (!f) {
		fprintf(stderr, "%s: /proc/meminfo: %s\n", prog, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %lu kB", &kb) == 1) {
			fclose(f);
			printf("%lu\n", kb);
			return 0;
		}
	}
	fclose(f);
	fprintf(stderr, "%s: no MemTotal in /proc/meminfo\n", prog);
	return 1;
}

static int print_tsc(void)
{
	struct timespec ts;
	unsigned long long tsc;

#if defined(__x86_64__) || defined(__i386__)
	unsigned lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	tsc = (unsigned long long)hi << 32 | lo;
#else
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(tsc));
#endif
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		perror("clock_gettime");
		return 1;
	}
	printf("%llu %llu\n", tsc,
	       (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];

	if (!strcmp(cmd, "boot-done") && argc == 2)
		return boot_done();

	if (!strcmp(cmd, "outb") && argc == 4) {
		long port = parse_num(argv[2], 0xffff, "port");
		long val = parse_num(argv[3], 0xff, "value");

		if (port < 0 || val < 0)
			return 2;
		return port_write((unsigned)port, (unsigned char)val);
	}

	if (!strcmp(cmd, "inb") && argc == 3) {
		long port = parse_num(argv[2], 0xffff, "port");

		if (port < 0)
			return 2;
		return port_read((unsigned)port);
	}

	if (!strcmp(cmd, "reset") && argc == 2) {
		if (port_write(I8042_CMD_PORT, I8042_RESET))
			return 1;
		/* The reset is asynchronous in a VMM: give it a moment to land. */
		sleep(5);
		fprintf(stderr, "%s: i8042 reset had no effect\n", prog);
		return 1;
	}

	if (!strcmp(cmd, "cpus") && argc == 2) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		if (n < 1) {
			fprintf(stderr, "%s: cannot count online CPUs\n", prog);
			return 1;
		}
		printf("%ld\n", n);
		return 0;
	}

	if (!strcmp(cmd, "memkb") && argc == 2)
		return print_memkb();

	if (!strcmp(cmd, "tsc") && argc == 2)
		return print_tsc();

	return usage();
}
