/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-poke - throw garbage at a virtio-mmio device from inside the guest.
 *
 *   virtio-poke BASE          bad register values: QueueSel 0xffff with a huge
 *                             QueueNum, queue changes after DRIVER_OK, status
 *                             garbage, config writes/reads past its end, odd
 *                             sizes, a bad QueueNotify
 *   virtio-poke BASE loop     take the device over (reset, our own queue),
 *                             submit a looped descriptor chain, then a good
 *                             GET_ID request, and report both completions
 *
 * BASE is the device's physical address (e.g. 0xd0000000), mapped through
 * /dev/mem.  The device is expected to survive and to ignore the garbage; the
 * kernel's driver for it may not, so point this at a scratch device.  Prints
 * what it did and what it read back; exits 0 unless it could not run at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAGIC	       0x000
#define VERSION	       0x004
#define DEVICE_ID      0x008
#define DEV_FEAT       0x010
#define DEV_FEAT_SEL   0x014
#define DRV_FEAT       0x020
#define DRV_FEAT_SEL   0x024
#define QUEUE_SEL      0x030
#define QUEUE_NUM_MAX  0x034
#define QUEUE_NUM      0x038
#define QUEUE_READY    0x044
#define QUEUE_NOTIFY   0x050
#define STATUS	       0x070
#define QUEUE_DESC_LO  0x080
#define QUEUE_DESC_HI  0x084
#define QUEUE_AVAIL_LO 0x090
#define QUEUE_AVAIL_HI 0x094
#define QUEUE_USED_LO  0x0a0
#define QUEUE_USED_HI  0x0a4
#define CONFIG	       0x100
#define S_DRIVER_OK    4
#define VIRTIO_MAGIC   0x74726976
#define DESC_F_NEXT    1
#define DESC_F_WRITE   2
#define LOOP_QSIZE     8

static const char *prog = "virtio-poke";
static volatile uint8_t *mmio;

static uint32_t r32(unsigned off)
{
	return *(volatile uint32_t *)(mmio + off);
}

static void w32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(mmio + off) = v;
}

static void w32_show(unsigned off, uint32_t v, const char *what)
{
	w32(off, v);
	printf("%s: wrote 0x%08x to 0x%03x (%s)\n", prog, v, off, what);
}

static void poke_garbage(void)
{
	uint32_t st, num, desc, avail, used, ready;
	static const uint32_t bad_status[] = {0x10, 0x20, 0x40, 0x1ff, 0x01, 0x80, 0xffffffff};

	w32_show(QUEUE_SEL, 0xffff, "QueueSel 0xffff");
	printf("%s: QueueSel 0xffff: QueueNumMax=%u QueueReady=%u\n", prog, r32(QUEUE_NUM_MAX),
	       r32(QUEUE_READY));
	w32_show(QUEUE_NUM, 0xffffffff, "huge QueueNum");
	w32_show(QUEUE_DESC_LO, 0xdeadbeef, "QueueDesc on the bad queue");
	w32_show(QUEUE_READY, 1, "QueueReady on the bad queue");
	printf("%s: QueueSel 0xffff: QueueNum reads %u\n", prog, r32(QUEUE_NUM));

	w32(QUEUE_SEL, 0);
	st = r32(STATUS);
	num = r32(QUEUE_NUM), desc = r32(QUEUE_DESC_LO), avail = r32(QUEUE_AVAIL_LO);
	used = r32(QUEUE_USED_LO), ready = r32(QUEUE_READY);
	printf("%s: status 0x%x, queue 0: num %u desc 0x%x avail 0x%x used 0x%x ready %u\n", prog,
	       st, num, desc, avail, used, ready);
	w32_show(QUEUE_NUM, 0x7fff, "QueueNum after DRIVER_OK");
	w32_show(QUEUE_DESC_LO, 0xfffff000, "QueueDesc after DRIVER_OK");
	w32_show(QUEUE_DESC_HI, 0xffffffff, "QueueDescHigh after DRIVER_OK");
	w32_show(QUEUE_AVAIL_LO, 0x10, "QueueAvail after DRIVER_OK");
	w32_show(QUEUE_USED_LO, 0x3, "QueueUsed after DRIVER_OK");
	w32_show(QUEUE_READY, 0, "QueueReady 0 after DRIVER_OK");
	printf("%s: queue 0 after: num %u desc 0x%x avail 0x%x used 0x%x ready %u -> %s\n", prog,
	       r32(QUEUE_NUM), r32(QUEUE_DESC_LO), r32(QUEUE_AVAIL_LO), r32(QUEUE_USED_LO),
	       r32(QUEUE_READY),
	       r32(QUEUE_NUM) == num && r32(QUEUE_DESC_LO) == desc &&
		       r32(QUEUE_AVAIL_LO) == avail && r32(QUEUE_USED_LO) == used &&
		       r32(QUEUE_READY) == ready
		   ? "unchanged"
		   : "CHANGED");

	for (unsigned i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		w32_show(STATUS, bad_status[i], "status garbage");
		printf("%s: status reads 0x%x\n", prog, r32(STATUS));
	}

	w32_show(CONFIG + 0x100, 0xffffffff, "config write past its end");
	w32_show(0xffc, 0xffffffff, "config write at the end of the window");
	mmio[0xfff] = 0xff;
	printf("%s: wrote 1 byte to 0xfff\n", prog);
	printf("%s: config reads past its end: 0x%x 0x%x 0x%x\n", prog, r32(CONFIG + 0x100),
	       r32(CONFIG + 0x3c), r32(0xffc));
	printf("%s: odd-size reads: byte at 0x001 = 0x%x, half at 0x002 = 0x%x\n", prog, mmio[1],
	       *(volatile uint16_t *)(mmio + 2));
	mmio[STATUS] = 0;
	printf("%s: wrote 1 byte 0 to the status register\n", prog);
	w32_show(QUEUE_NOTIFY, 0xffff, "QueueNotify of a queue that does not exist");
	printf("%s: status now 0x%x, magic 0x%x\n", prog, r32(STATUS), r32(MAGIC));
}

/* Guest-physical address of a locked page, through /proc/self/pagemap. */
static int phys_of(void *p, uint64_t *pa)
{
	uint64_t ent;
	long page = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -errno;
	if (pread(fd, &ent, 8, (off_t)((uintptr_t)p / (uintptr_t)page) * 8) != 8) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (!(ent & (1ull << 63)) || !(ent & ((1ull << 55) - 1)))
		return -EPERM;
	*pa = (ent & ((1ull << 55) - 1)) * (uint64_t)page + ((uintptr_t)p % (uintptr_t)page);
	return 0;
}

static void set_desc(uint8_t *ring, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *d = ring + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Waits for used->idx to reach @want; returns the index seen. */
static uint16_t wait_used(volatile uint16_t *used_idx, uint16_t want)
{
	for (int i = 0; i < 200 && *used_idx != want; i++)
		usleep(10000);
	return *used_idx;
}

static int poke_loop(void)
{
	uint8_t *pg;
	uint64_t pa = 0;
	uint16_t *avail, v;
	volatile uint16_t *used_idx;
	uint32_t *used_ring, feat;
	int ret;

	/* One page: desc at 0, avail at 0x100, used at 0x200, buffers from 0x800. */
	pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1,
		  0);
	if (pg == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", prog, strerror(errno));
		return 1;
	}
	memset(pg, 0, 4096);
	ret = phys_of(pg, &pa);
	if (ret) {
		fprintf(stderr, "%s: physical address: %s\n", prog, strerror(-ret));
		return 1;
	}
	avail = (uint16_t *)(pg + 0x100);
	used_idx = (volatile uint16_t *)(pg + 0x202);
	used_ring = (uint32_t *)(pg + 0x204);

	w32(STATUS, 0);
	w32(STATUS, 1);
	w32(STATUS, 3);
	w32(DEV_FEAT_SEL, 1);
	feat = r32(DEV_FEAT);
	w32(DRV_FEAT_SEL, 0);
	w32(DRV_FEAT, 0);
	w32(DRV_FEAT_SEL, 1);
	w32(DRV_FEAT, feat & 1); /* VERSION_1 only */
	w32(STATUS, 0xb);
	printf("%s: took the device over: status 0x%x\n", prog, r32(STATUS));
	w32(QUEUE_SEL, 0);
	w32(QUEUE_NUM, LOOP_QSIZE);
	w32(QUEUE_DESC_LO, (uint32_t)pa), w32(QUEUE_DESC_HI, (uint32_t)(pa >> 32));
	w32(QUEUE_AVAIL_LO, (uint32_t)(pa + 0x100)), w32(QUEUE_AVAIL_HI, (uint32_t)(pa >> 32));
	w32(QUEUE_USED_LO, (uint32_t)(pa + 0x200)), w32(QUEUE_USED_HI, (uint32_t)(pa >> 32));
	w32(QUEUE_READY, 1);
	w32(STATUS, 0xf);
	printf("%s: queue 0 at 0x%" PRIx64 ", status 0x%x\n", prog, pa, r32(STATUS));

	/* 0 -> 1 -> 0 ...: a chain that never ends. */
	set_desc(pg, 0, pa + 0x800, 16, DESC_F_NEXT, 1);
	set_desc(pg, 1, pa + 0x900, 1, DESC_F_NEXT | DESC_F_WRITE, 0);
	avail[2] = 0;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
	w32(QUEUE_NOTIFY, 0);
	v = wait_used(used_idx, 1);
	printf("%s: looped chain: used idx %u, id %u len %u\n", prog, v, used_ring[0],
	       used_ring[1]);

	/* A good GET_ID: header (type 8), 20-byte buffer, status. */
	memset(pg + 0x800, 0, 16);
	pg[0x800] = 8;
	pg[0xa00] = 0xff;
	set_desc(pg, 2, pa + 0x800, 16, DESC_F_NEXT, 3);
	set_desc(pg, 3, pa + 0x980, 20, DESC_F_NEXT | DESC_F_WRITE, 4);
	set_desc(pg, 4, pa + 0xa00, 1, DESC_F_WRITE, 0);
	avail[3] = 2;
	__atomic_store_n(&avail[1], 2, __ATOMIC_RELEASE);
	w32(QUEUE_NOTIFY, 0);
	v = wait_used(used_idx, 2);
	printf("%s: GET_ID: used idx %u, len %u, status %u, serial '%.20s'\n", prog, v,
	       used_ring[3], pg[0xa00], (char *)pg + 0x980);
	printf("%s: device status 0x%x\n", prog, r32(STATUS));
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long base;
	char *end;
	int fd;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "loop"))) {
		fprintf(stderr, "usage: %s BASE [loop]\n", prog);
		return 2;
	}
	errno = 0;
	base = strtoull(argv[1], &end, 0);
	if (errno || *end || base % 4096) {
		fprintf(stderr, "%s: bad BASE '%s' (page-aligned address)\n", prog, argv[1]);
		return 2;
	}
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		fprintf(stderr, "%s: /dev/mem: %s\n", prog, strerror(errno));
		return 1;
	}
	mmio = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
	close(fd);
	if (mmio == MAP_FAILED) {
		fprintf(stderr, "%s: mmap 0x%llx: %s\n", prog, base, strerror(errno));
		return 1;
	}
	if (r32(MAGIC) != VIRTIO_MAGIC || r32(VERSION) != 2) {
		fprintf(stderr, "%s: no virtio-mmio v2 device at 0x%llx (magic 0x%x)\n", prog, base,
			r32(MAGIC));
		return 1;
	}
	printf("%s: device id %u at 0x%llx, status 0x%x\n", prog, r32(DEVICE_ID), base,
	       r32(STATUS));
	if (argc == 3)
		return poke_loop();
	poke_garbage();
	printf("%s: done\n", prog);
	return 0;
}
