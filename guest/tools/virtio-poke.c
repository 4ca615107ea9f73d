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
 *   virtio-poke BASE vsock    take a vsock device over (unbind its driver
 *                             first), connect to host port 6000, send
 *                             malformed packets, then expect the stream to
 *                             echo
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

/*
 * Resets the device and drives it with VERSION_1 only, queue i on the page
 * at pa[i]: descriptors at 0, avail ring at 0x100, used ring at 0x200.
 */
static void take_over(const uint64_t *pa, unsigned nq)
{
	uint32_t feat;

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
	for (unsigned q = 0; q < nq; q++) {
		uint64_t a = pa[q];

		w32(QUEUE_SEL, q);
		w32(QUEUE_NUM, LOOP_QSIZE);
		w32(QUEUE_DESC_LO, (uint32_t)a), w32(QUEUE_DESC_HI, (uint32_t)(a >> 32));
		w32(QUEUE_AVAIL_LO, (uint32_t)(a + 0x100)),
		    w32(QUEUE_AVAIL_HI, (uint32_t)(a >> 32));
		w32(QUEUE_USED_LO, (uint32_t)(a + 0x200)), w32(QUEUE_USED_HI, (uint32_t)(a >> 32));
		w32(QUEUE_READY, 1);
		printf("%s: queue %u at 0x%" PRIx64 "\n", prog, q, a);
	}
	w32(STATUS, 0xf);
	printf("%s: status 0x%x\n", prog, r32(STATUS));
}

static int poke_loop(void)
{
	uint8_t *pg;
	uint64_t pa = 0;
	uint16_t *avail, v;
	volatile uint16_t *used_idx;
	uint32_t *used_ring;
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

	take_over(&pa, 1);

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

/* ---- vsock: malformed packets from a driver that is not Linux's -------- */

#define VS_HDR	   44
#define VS_STREAM  1
#define VS_REQUEST 1
#define VS_RESP	   2
#define VS_RST	   3
#define VS_RW	   5
#define VS_PORT	   4321 /* our stream */
#define VS_BAD	   4999 /* where the garbage comes from */
#define VS_HOST	   6000 /* the test's echo listener on uds_path_6000 */
#define RX_BUF	   0x180

/* A queue on one locked page; buffers live from 0x400 on. */
struct ring {
	uint8_t *pg;
	uint64_t pa;
	uint16_t next_avail, used_seen;
};

static int ring_alloc(struct ring *r)
{
	int ret;

	r->pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
		     -1, 0);
	if (r->pg == MAP_FAILED)
		return -errno;
	memset(r->pg, 0, 4096);
	ret = phys_of(r->pg, &r->pa);
	r->next_avail = r->used_seen = 0;
	return ret;
}

static void ring_push(struct ring *r, unsigned q, uint16_t head)
{
	uint16_t *avail = (uint16_t *)(r->pg + 0x100);

	avail[2 + r->next_avail % LOOP_QSIZE] = head;
	r->next_avail++;
	__atomic_store_n(&avail[1], r->next_avail, __ATOMIC_RELEASE);
	w32(QUEUE_NOTIFY, q);
}

static uint16_t ring_used_idx(struct ring *r)
{
	return __atomic_load_n((uint16_t *)(r->pg + 0x202), __ATOMIC_ACQUIRE);
}

static void vs_hdr(uint8_t *p, uint64_t src_cid, uint32_t sport, uint32_t len, uint16_t type,
		   uint16_t op)
{
	uint64_t dst_cid = 2;
	uint32_t dport = VS_HOST, buf_alloc = 65536;

	memset(p, 0, VS_HDR);
	memcpy(p, &src_cid, 8);
	memcpy(p + 8, &dst_cid, 8);
	memcpy(p + 16, &sport, 4);
	memcpy(p + 20, &dport, 4);
	memcpy(p + 24, &len, 4);
	memcpy(p + 28, &type, 2);
	memcpy(p + 30, &op, 2);
	memcpy(p + 36, &buf_alloc, 4);
}

/* Submits the chain at descriptor 0 of the TX queue and waits for it. */
static void vs_tx(struct ring *tx, const char *what)
{
	uint16_t want = (uint16_t)(tx->used_seen + 1), v;

	ring_push(tx, 1, 0);
	v = wait_used((volatile uint16_t *)(tx->pg + 0x202), want);
	tx->used_seen = v;
	printf("%s: tx %s: used idx %u%s\n", prog, what, v, v == want ? "" : " (NOT RETURNED)");
}

static void vs_tx_pkt(struct ring *tx, uint64_t cid, uint32_t sport, uint16_t type, uint16_t op,
		      const char *data, const char *what)
{
	uint32_t len = data ? (uint32_t)strlen(data) : 0;

	vs_hdr(tx->pg + 0x400, cid, sport, len, type, op);
	memcpy(tx->pg + 0x500, data ? data : "", len);
	set_desc(tx->pg, 0, tx->pa + 0x400, VS_HDR, len ? DESC_F_NEXT : 0, 1);
	set_desc(tx->pg, 1, tx->pa + 0x500, len, 0, 0);
	vs_tx(tx, what);
}

/* Reads what the device sent until an RW arrives; reposts each buffer. */
/* rsts[0]: resets of our stream, rsts[1]: of the garbage's port. */
static int vs_rx_until_rw(struct ring *rx, char *data, size_t cap, unsigned *rsts)
{
	for (int tries = 0; tries < 500; tries++) {
		uint32_t *used = (uint32_t *)(rx->pg + 0x204);

		while (rx->used_seen != ring_used_idx(rx)) {
			unsigned slot = rx->used_seen++ % LOOP_QSIZE;
			uint16_t id = (uint16_t)used[2 * slot], op;
			uint32_t sport, dport, len;
			uint8_t *p = rx->pg + 0x400 + (size_t)(id % LOOP_QSIZE) * RX_BUF;

			memcpy(&sport, p + 16, 4);
			memcpy(&dport, p + 20, 4);
			memcpy(&len, p + 24, 4);
			memcpy(&op, p + 30, 2);
			printf("%s: rx op %u %u -> %u len %u\n", prog, op, sport, dport, len);
			if (op == VS_RST)
				rsts[dport == VS_BAD]++;
			if (op == VS_RW) {
				snprintf(data, cap, "%.*s", (int)(len < RX_BUF - VS_HDR ? len : 0),
					 (char *)p + VS_HDR);
				ring_push(rx, 0, id);
				return 0;
			}
			ring_push(rx, 0, id);
		}
		usleep(10000);
	}
	return -1;
}

static int poke_vsock(void)
{
	struct ring q[3];
	uint64_t pa[3], cid = 0;
	char echo[64] = "";
	unsigned rsts[2] = {0, 0};
	uint8_t *pg;
	uint32_t st;

	cid = r32(CONFIG); /* guest_cid, low half: ours is small */
	for (unsigned i = 0; i < 3; i++) {
		int ret = ring_alloc(&q[i]);

		if (ret) {
			fprintf(stderr, "%s: queue page: %s\n", prog, strerror(-ret));
			return 1;
		}
		pa[i] = q[i].pa;
	}
	take_over(pa, 3);
	for (uint16_t i = 0; i < LOOP_QSIZE; i++) {
		set_desc(q[0].pg, i, q[0].pa + 0x400 + (uint64_t)i * RX_BUF, RX_BUF, DESC_F_WRITE,
			 0);
		ring_push(&q[0], 0, i);
	}
	pg = q[1].pg;

	/* A real stream first: the garbage must not take it down. */
	vs_tx_pkt(&q[1], cid, VS_PORT, VS_STREAM, VS_REQUEST, NULL, "REQUEST to port 6000");
	/* Chains the device cannot even read a header from. */
	set_desc(pg, 0, q[1].pa + 0x400, VS_HDR, DESC_F_NEXT, 1);
	set_desc(pg, 1, q[1].pa + 0x500, 16, DESC_F_NEXT, 0);
	vs_tx(&q[1], "looped chain");
	set_desc(pg, 0, 0xfffffffff000ull, VS_HDR, 0, 0);
	vs_tx(&q[1], "header outside guest memory");
	set_desc(pg, 0, q[1].pa + 0x400, 20, 0, 0);
	vs_tx(&q[1], "20-byte header");
	/* Headers that lie or ask for nonsense. */
	vs_hdr(pg + 0x400, cid, VS_BAD, 1000, VS_STREAM, VS_RW);
	set_desc(pg, 0, q[1].pa + 0x400, VS_HDR, DESC_F_NEXT, 1);
	set_desc(pg, 1, q[1].pa + 0x500, 16, 0, 0);
	vs_tx(&q[1], "len 1000 in a 16-byte payload");
	vs_tx_pkt(&q[1], cid, VS_BAD, VS_STREAM, 99, NULL, "unknown op 99");
	vs_tx_pkt(&q[1], cid, VS_BAD, 7, VS_REQUEST, NULL, "unknown type 7");
	vs_tx_pkt(&q[1], 99, VS_PORT, VS_STREAM, VS_RST, NULL,
		  "RST for our stream from src_cid 99");
	vs_tx_pkt(&q[1], cid, VS_BAD, VS_STREAM, VS_RW, "nobody", "RW on no stream");
	/* The stream opened before all that still carries data both ways. */
	vs_tx_pkt(&q[1], cid, VS_PORT, VS_STREAM, VS_RW, "rogue hello", "RW 'rogue hello'");
	if (vs_rx_until_rw(&q[0], echo, sizeof(echo), rsts))
		printf("%s: no echo came back\n", prog);
	vs_tx_pkt(&q[1], cid, VS_PORT, VS_STREAM, VS_RST, NULL, "RST");
	st = r32(STATUS);
	printf("%s: %u RSTs to the garbage, %u to our stream, echo '%s', device status 0x%x\n",
	       prog, rsts[1], rsts[0], echo, st);
	/* Give it back as Linux's driver removal leaves it: reset, acknowledged. */
	w32(STATUS, 0);
	w32(STATUS, 1);
	return strcmp(echo, "rogue hello") || rsts[0] || (st & 0x40) ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long base;
	char *end;
	int fd;

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && strcmp(argv[2], "loop") && strcmp(argv[2], "vsock"))) {
		fprintf(stderr, "usage: %s BASE [loop|vsock]\n", prog);
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
	if (argc == 3 && !strcmp(argv[2], "vsock"))
		return poke_vsock();
	if (argc == 3)
		return poke_loop();
	poke_garbage();
	printf("%s: done\n", prog);
	return 0;
}
