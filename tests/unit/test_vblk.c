// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk end to end on a temp file: a test "driver" brings the device up
 * through the MMIO bus ops as Linux does, builds descriptor chains in fake
 * guest memory, kicks, runs the evloop and checks the used ring, the status
 * bytes and the file.  Every I/O test runs with both engines (io_uring is
 * skipped, with a message, where the kernel refuses it).  Every malformed
 * request is followed by a good one.  The option and request parsers on
 * their own: test_vblk_req.c.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "blk.h"
#include "blk_req.h"
#include "unit.h"

#define RAM	    0x400000
#define QSIZE	    16
#define DESC	    0x1000
#define AVAIL	    0x2000
#define USED	    0x3000
#define HDR	    0x10000
#define STATUS	    0x18000
#define TABLE	    0x20000
#define DATA	    0x100000
#define DATA2	    0x200000
#define SECTORS	    2048
#define DISK_BYTES  (SECTORS * 512)
#define S_ALL	    0xf
#define NEEDS_RESET VIRTIO_CONFIG_S_NEEDS_RESET

struct params {
	enum vblk_engine engine;
	bool ro;
};

struct rig {
	struct guest_mem gm;
	struct evloop loop;
	struct vblk *b;
	struct virtio_mmio *t;
	char path[64];
	int fd; /* the host's view of the disk */
	uint16_t avail_idx, used_seen, next_desc;
	bool skip;
	struct params p;
};

#include "vdriver.h"

struct seg {
	uint64_t addr;
	uint32_t len;
	bool w;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

static uint32_t rd(struct rig *r, uint64_t off, uint32_t len)
{
	uint32_t v = 0;

	virtio_mmio_bus_ops.read(r->t, off, (uint8_t *)&v, len);
	return v;
}

static void driver_up(struct rig *r)
{
	uint64_t f;

	wr(r, VIRTIO_MMIO_STATUS, 0);
	memset(at(r, DESC), 0, USED + 0x1000 - DESC);
	r->avail_idx = r->used_seen = r->next_desc = 0;
	wr(r, VIRTIO_MMIO_STATUS, 1);
	wr(r, VIRTIO_MMIO_STATUS, 3);
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(r, VIRTIO_MMIO_DEVICE_FEATURES, 4) << 32;
	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f |= rd(r, VIRTIO_MMIO_DEVICE_FEATURES, 4);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(r, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS, 4), 0xb);
	wr(r, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 256);
	wr(r, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
	wr(r, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL);
	wr(r, VIRTIO_MMIO_QUEUE_USED_LOW, USED);
	wr(r, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS, 4), S_ALL);
}

static int setup(void **state)
{
	const struct params *p = *state;
	struct vblk_config cfg = {.drive_id = "scratch0"};
	struct rig *r = calloc(1, sizeof(*r));
	uint8_t *buf = malloc(DISK_BYTES);
	int ret;

	assert_non_null(r);
	assert_non_null(buf);
	log_set_level(LOG_ERROR);
	r->p = *p;
	fake_gm_init(&r->gm, RAM, 0, 0);
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	snprintf(r->path, sizeof(r->path), "/tmp/ember-vblk-XXXXXX");
	r->fd = mkstemp(r->path);
	assert_true(r->fd >= 0);
	for (unsigned i = 0; i < DISK_BYTES; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(r->fd, buf, DISK_BYTES, 0), DISK_BYTES);
	free(buf);
	snprintf(cfg.path, sizeof(cfg.path), "%s", r->path);
	cfg.read_only = p->ro;
	cfg.engine = p->engine;
	ret = vblk_create(&r->b, &cfg, &r->gm, &r->loop);
	if (ret && p->engine == VBLK_ENGINE_IO_URING) {
		print_message("io_uring unavailable here (%s): skipping\n", strerror(-ret));
		r->skip = true;
	} else {
		assert_int_equal(ret, 0);
		assert_int_equal(vblk_engine_used(r->b), p->engine);
		r->t = vblk_transport(r->b);
		driver_up(r);
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	vblk_destroy(r->b);
	close(r->fd);
	unlink(r->path);
	close(r->loop.epfd);
	fake_gm_free(&r->gm);
	free(r);
	return 0;
}

static struct rig *rig(void **state)
{
	struct rig *r = *state;

	if (r->skip)
		skip();
	return r;
}

/* Writes the chain at the next free descriptors and offers it. */
static uint16_t add_chain(struct rig *r, const struct seg *s, unsigned n, uint64_t table)
{
	uint16_t head = r->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = table ? i : (uint16_t)((head + i) % QSIZE);
		uint16_t next = table ? i + 1 : (uint16_t)((head + i + 1) % QSIZE);
		uint64_t d[2] = {htole64(s[i].addr),
				 htole32(s[i].len) |
				     (uint64_t)htole16((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
						       (s[i].w ? VRING_DESC_F_WRITE : 0))
					 << 32 |
				     (uint64_t)next << 48};

		put(r, (table ? table : DESC) + 16 * (uint64_t)idx, d, 16);
	}
	if (table) {
		uint64_t d[2] = {table, (16ull * n) | (uint64_t)VRING_DESC_F_INDIRECT << 32};

		put(r, DESC + 16 * (uint64_t)head, d, 16);
		n = 1;
	}
	r->next_desc = (uint16_t)((head + n) % QSIZE);
	put16(r, AVAIL + 4 + 2 * (r->avail_idx % QSIZE), head);
	r->avail_idx++;
	put16(r, AVAIL + 2, r->avail_idx);
	return head;
}

static void pump(struct rig *r, unsigned want)
{
	uint64_t deadline = time_now_us() + 5000000;
	bool first = true;

	/* At least one round, so a kick that completes nothing is still run. */
	while (first || (uint16_t)(get16(r, USED + 2) - r->used_seen) < want) {
		struct epoll_event ev[8];
		int n = epoll_wait(r->loop.epfd, ev, 8, first ? 0 : 20);

		first = false;

		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			h->fn(h, ev[i].events);
		}
		assert_true(time_now_us() < deadline);
	}
	assert_int_equal((uint16_t)(get16(r, USED + 2) - r->used_seen), want);
}

static void kick(struct rig *r, unsigned want)
{
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump(r, want);
}

/* The next used element: checks its id, returns its len. */
static uint32_t used_next(struct rig *r, uint16_t head)
{
	uint32_t e[2];

	assert_int_equal(gm_read(&r->gm, USED + 4 + 8 * (r->used_seen % QSIZE), e, 8), 0);
	r->used_seen++;
	assert_int_equal(le32toh(e[0]), head);
	return le32toh(e[1]);
}

static void put_hdr(struct rig *r, uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint32_t h[4] = {htole32(type), 0, (uint32_t)htole64(sector),
			 (uint32_t)(htole64(sector) >> 32)};

	put(r, gpa, h, 16);
}

/* One request: header, one data segment (if len), status.  Returns the status. */
static uint8_t req(struct rig *r, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		   uint32_t *used)
{
	struct seg s[3];
	unsigned n = 0;
	uint16_t head;

	put_hdr(r, HDR, type, sector);
	*at(r, STATUS) = 0xaa;
	s[n++] = (struct seg){HDR, 16, false};
	if (len)
		s[n++] = (struct seg){data, len, type != VIRTIO_BLK_T_OUT};
	s[n++] = (struct seg){STATUS, 1, true};
	head = add_chain(r, s, n, 0);
	kick(r, 1);
	*used = used_next(r, head);
	return *at(r, STATUS);
}

/* A bad request is followed by this: the device must still work. */
static void good_read(struct rig *r)
{
	uint32_t used;

	memset(at(r, DATA2), 0, 1024);
	assert_int_equal(req(r, VIRTIO_BLK_T_IN, 3, DATA2, 1024, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1025);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(at(r, DATA2)[i], pattern(3 * 512 + i));
	assert_false(rd(r, VIRTIO_MMIO_STATUS, 4) & NEEDS_RESET);
}

static void expect_file_pattern(struct rig *r, uint64_t off, size_t len)
{
	uint8_t buf[4096];

	assert_true(len <= sizeof(buf));
	assert_int_equal(pread(r->fd, buf, len, (off_t)off), (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], pattern(off + i));
}

static void test_read_write(void **state)
{
	struct rig *r = rig(state);
	uint8_t back[8192];
	uint32_t used;

	for (unsigned i = 0; i < 8192; i++)
		at(r, DATA)[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, 10, DATA, 8192, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(r->fd, back, 8192, 10 * 512), 8192);
	assert_memory_equal(back, at(r, DATA), 8192);
	assert_int_equal(req(r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);

	memset(at(r, DATA2), 0, 8192);
	assert_int_equal(req(r, VIRTIO_BLK_T_IN, 10, DATA2, 8192, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 8193);
	assert_memory_equal(at(r, DATA2), at(r, DATA), 8192);

	/* Scattered: three data segments, the last sector of the disk. */
	struct seg s[] = {{HDR, 16, false},
			  {DATA2, 100, true},
			  {DATA2 + 0x1000, 312, true},
			  {DATA2 + 0x2000, 1124, true},
			  {STATUS, 1, true}};
	put_hdr(r, HDR, VIRTIO_BLK_T_IN, SECTORS - 3);
	uint16_t head = add_chain(r, s, ARRAY_SIZE(s), 0);
	kick(r, 1);
	assert_int_equal(used_next(r, head), 1537);
	assert_int_equal(*at(r, STATUS), VIRTIO_BLK_S_OK);
	assert_int_equal(at(r, DATA2 + 0x2000)[1123], pattern(DISK_BYTES - 1));
	assert_int_equal(at(r, DATA2 + 0x1000)[0], pattern((SECTORS - 3) * 512 + 100));
	good_read(r);
}

static void test_get_id(void **state)
{
	struct rig *r = rig(state);
	uint32_t used;

	memset(at(r, DATA), 0xff, 32);
	assert_int_equal(req(r, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(at(r, DATA), "scratch0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(at(r, DATA)[20], 0xff);
	memset(at(r, DATA), 0xff, 32);
	assert_int_equal(req(r, VIRTIO_BLK_T_GET_ID, 0, DATA, 4, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 5);
	assert_memory_equal(at(r, DATA), "scra\xff", 5);
	good_read(r);
}

static void test_unsupported(void **state)
{
	struct rig *r = rig(state);
	static const uint32_t types[] = {2,
					 3,
					 VIRTIO_BLK_T_DISCARD,
					 VIRTIO_BLK_T_WRITE_ZEROES,
					 VIRTIO_BLK_T_SECURE_ERASE,
					 99,
					 0x80000000,
					 0xffffffff};
	uint32_t used;

	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		assert_int_equal(req(r, types[i], 0, DATA, 512, &used), VIRTIO_BLK_S_UNSUPP);
		assert_int_equal(used, 1);
		good_read(r);
	}
}

static void test_out_of_range(void **state)
{
	struct rig *r = rig(state);
	uint32_t used;

	memset(at(r, DATA), 0x77, 4096);
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, SECTORS - 1, DATA, 1024, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	expect_file_pattern(r, DISK_BYTES - 512, 512);
	assert_int_equal(req(r, VIRTIO_BLK_T_IN, SECTORS, DATA, 512, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(r, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, DATA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, UINT64_MAX / 512, DATA, 1024, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, UINT64_MAX, DATA, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(r, VIRTIO_BLK_T_IN, 0, DATA, 100, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, 0, DATA, 513, &used), VIRTIO_BLK_S_IOERR);
	expect_file_pattern(r, 0, 1024);
	/* The very last sector is in range. */
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, SECTORS - 1, DATA, 512, &used), VIRTIO_BLK_S_OK);
	good_read(r);
}

static void test_read_only(void **state)
{
	struct rig *r = rig(state);
	uint32_t used;

	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(rd(r, VIRTIO_MMIO_DEVICE_FEATURES, 4) & (1u << VIRTIO_BLK_F_RO));
	memset(at(r, DATA), 0x77, 4096);
	assert_int_equal(req(r, VIRTIO_BLK_T_OUT, 0, DATA, 4096, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used, 1);
	expect_file_pattern(r, 0, 4096);
	assert_int_equal(req(r, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &used), VIRTIO_BLK_S_OK);
	good_read(r);
}

static void test_writable_has_no_ro_feature(void **state)
{
	struct rig *r = rig(state);

	wr(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t f = rd(r, VIRTIO_MMIO_DEVICE_FEATURES, 4);
	assert_false(f & (1u << VIRTIO_BLK_F_RO));
	assert_true(f & (1u << VIRTIO_BLK_F_FLUSH));
	assert_true(f & (1u << VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & (1u << VIRTIO_RING_F_EVENT_IDX));
	assert_true(f & (1u << VIRTIO_RING_F_INDIRECT_DESC));
	/* Config: capacity, size_max, seg_max; nothing after. */
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG, 4), SECTORS);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG + 4, 4), 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG + 8, 4), VBLK_SIZE_MAX);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG + 12, 4), VBLK_SEG_MAX);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG + 16, 4), 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG + 14, 4), 0);
	wr(r, VIRTIO_MMIO_CONFIG, 1234);
	assert_int_equal(rd(r, VIRTIO_MMIO_CONFIG, 4), SECTORS);
	assert_int_equal(vblk_capacity(r->b), SECTORS);
	good_read(r);
}

/* A chain with a usable status byte but a bad layout: IOERR, status len 1. */
static void bad_layout(struct rig *r, uint32_t type, const struct seg *s, unsigned n, uint8_t want,
		       uint32_t want_used)
{
	uint16_t head;

	put_hdr(r, HDR, type, 0);
	*at(r, STATUS) = 0xaa;
	head = add_chain(r, s, n, 0);
	kick(r, 1);
	assert_int_equal(used_next(r, head), want_used);
	assert_int_equal(*at(r, STATUS), want);
	expect_file_pattern(r, 0, 1024);
	good_read(r);
}

static void test_bad_layouts(void **state)
{
	struct rig *r = rig(state);
	const uint8_t E = VIRTIO_BLK_S_IOERR;

	memset(at(r, DATA), 0x77, 4096);
	/* Header device-writable. */
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, true}, {DATA, 512, true}, {STATUS, 1, true}}, 3, E, 1);
	/* OUT data device-writable. */
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, false}, {DATA, 512, true}, {STATUS, 1, true}}, 3, E, 1);
	/* A readable segment after a writable one. */
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){
		       {HDR, 16, false}, {DATA, 1, true}, {DATA, 512, false}, {STATUS, 1, true}},
		   4, E, 1);
	bad_layout(r, VIRTIO_BLK_T_IN,
		   (struct seg[]){
		       {HDR, 16, false}, {DATA, 512, true}, {DATA2, 512, false}, {STATUS, 1, true}},
		   4, E, 1);
	/* Short header. */
	bad_layout(r, VIRTIO_BLK_T_OUT, (struct seg[]){{HDR, 8, false}, {STATUS, 1, true}}, 2, E,
		   1);
	bad_layout(r, VIRTIO_BLK_T_OUT, (struct seg[]){{STATUS, 1, true}}, 1, E, 1);
	/* Data outside guest memory, or wrapping. */
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, false}, {RAM - 256, 512, false}, {STATUS, 1, true}}, 3,
		   E, 1);
	bad_layout(
	    r, VIRTIO_BLK_T_OUT,
	    (struct seg[]){{HDR, 16, false}, {UINT64_MAX - 255, 512, false}, {STATUS, 1, true}}, 3,
	    E, 1);
	/* Header outside guest memory. */
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{RAM + 0x1000, 16, false}, {STATUS, 1, true}}, 2, E, 1);
	/* No reachable status byte: consumed with len 0, nothing written. */
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, false}, {DATA, 512, false}, {STATUS, 1, false}}, 3,
		   0xaa, 0);
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, false}, {DATA, 512, false}, {STATUS, 0, true}}, 3, 0xaa,
		   0);
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, false}, {DATA, 512, false}, {RAM + 0x1000, 1, true}}, 3,
		   0xaa, 0);
	bad_layout(r, VIRTIO_BLK_T_OUT,
		   (struct seg[]){{HDR, 16, false}, {DATA, 512, false}, {UINT64_MAX, 2, true}}, 3,
		   0xaa, 0);
	/* IN data device-readable. */
	bad_layout(r, VIRTIO_BLK_T_IN,
		   (struct seg[]){{HDR, 16, false}, {DATA, 512, false}, {STATUS, 1, true}}, 3, E,
		   1);
}

/* A chain that cannot be walked: returned with len 0, no status written. */
static void bad_chain(struct rig *r, uint16_t head)
{
	*at(r, STATUS) = 0xaa;
	put16(r, AVAIL + 4 + 2 * (r->avail_idx % QSIZE), head);
	r->avail_idx++;
	put16(r, AVAIL + 2, r->avail_idx);
	kick(r, 1);
	assert_int_equal(used_next(r, head), 0);
	assert_int_equal(*at(r, STATUS), 0xaa);
	good_read(r);
}

static void put_desc(struct rig *r, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint64_t d[2] = {addr, len | (uint64_t)flags << 32 | (uint64_t)next << 48};

	put(r, table + 16 * (uint64_t)i, d, 16);
}

static void test_malformed_chains(void **state)
{
	struct rig *r = rig(state);

	put_hdr(r, HDR, VIRTIO_BLK_T_IN, 0);
	/* hdr -> data -> status -> hdr ... */
	put_desc(r, DESC, 13, HDR, 16, VRING_DESC_F_NEXT, 14);
	put_desc(r, DESC, 14, DATA, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 15);
	put_desc(r, DESC, 15, STATUS, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 13);
	bad_chain(r, 13);
	put_desc(r, DESC, 15, STATUS, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, QSIZE);
	bad_chain(r, 13);
	bad_chain(r, QSIZE + 3); /* head out of range */
	/* Indirect tables: bad sizes, nested, outside RAM. */
	put_desc(r, TABLE, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	put_desc(r, TABLE, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	put_desc(r, DESC, 13, TABLE, 0, VRING_DESC_F_INDIRECT, 0);
	bad_chain(r, 13);
	put_desc(r, DESC, 13, TABLE, 40, VRING_DESC_F_INDIRECT, 0);
	bad_chain(r, 13);
	put_desc(r, DESC, 13, TABLE, 16 * (QSIZE + 1), VRING_DESC_F_INDIRECT, 0);
	bad_chain(r, 13);
	put_desc(r, DESC, 13, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	bad_chain(r, 13);
	put_desc(r, TABLE + 0x100, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(r, DESC, 13, TABLE + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
	bad_chain(r, 13);
	/* The same table, well formed, works. */
	put_hdr(r, HDR, VIRTIO_BLK_T_FLUSH, 0);
	put_desc(r, DESC, 13, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put16(r, AVAIL + 4 + 2 * (r->avail_idx % QSIZE), 13);
	put16(r, AVAIL + 2, ++r->avail_idx);
	kick(r, 1);
	assert_int_equal(used_next(r, 13), 1);
	assert_int_equal(*at(r, STATUS), VIRTIO_BLK_S_OK);
}

static void test_indirect_request(void **state)
{
	struct rig *r = rig(state);
	struct seg s[] = {
	    {HDR, 16, false}, {DATA2, 512, true}, {DATA2 + 4096, 512, true}, {STATUS, 1, true}};
	uint16_t head;

	put_hdr(r, HDR, VIRTIO_BLK_T_IN, 4);
	head = add_chain(r, s, ARRAY_SIZE(s), TABLE);
	kick(r, 1);
	assert_int_equal(used_next(r, head), 1025);
	assert_int_equal(*at(r, STATUS), VIRTIO_BLK_S_OK);
	assert_int_equal(at(r, DATA2)[0], pattern(4 * 512));
	assert_int_equal(at(r, DATA2 + 4096)[511], pattern(6 * 512 - 1));
	good_read(r);
}

static void test_avail_runs_ahead(void **state)
{
	struct rig *r = rig(state);
	eventfd_t n = 0;

	eventfd_read(virtio_mmio_irq_fd(r->t), &n);
	put16(r, AVAIL + 2, (uint16_t)(r->avail_idx + QSIZE + 1));
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump(r, 0);
	assert_int_equal(rd(r, VIRTIO_MMIO_STATUS, 4), S_ALL | NEEDS_RESET);
	assert_true(rd(r, VIRTIO_MMIO_INTERRUPT_STATUS, 4) & VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(eventfd_read(virtio_mmio_irq_fd(r->t), &n), 0);
	/* Broken until reset, then as good as new. */
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump(r, 0);
	assert_int_equal(get16(r, USED + 2), 0);
	driver_up(r);
	good_read(r);
}

static void test_batch_and_event_idx(void **state)
{
	struct rig *r = rig(state);
	uint16_t heads[5];
	eventfd_t n = 0;

	/* 5 reads of 2 sectors each, in one kick; 15 of 16 descriptors. */
	for (unsigned i = 0; i < 5; i++) {
		struct seg s[] = {{HDR + 0x20 * i, 16, false},
				  {DATA2 + 0x1000 * i, 1024, true},
				  {STATUS + 0x10 * i, 1, true}};

		put_hdr(r, HDR + 0x20 * i, VIRTIO_BLK_T_IN, 100 + 2 * i);
		*at(r, STATUS + 0x10 * i) = 0xaa;
		heads[i] = add_chain(r, s, 3, 0);
	}
	eventfd_read(virtio_mmio_irq_fd(r->t), &n);
	kick(r, 5);
	for (unsigned i = 0; i < 5; i++) {
		bool found = false;

		assert_int_equal(*at(r, STATUS + 0x10 * i), VIRTIO_BLK_S_OK);
		assert_int_equal(at(r, DATA2 + 0x1000 * i)[0], pattern((100 + 2 * i) * 512));
		for (unsigned j = 0; j < 5; j++) {
			uint32_t e[2];

			gm_read(&r->gm, USED + 4 + 8 * j, e, 8);
			found |= e[0] == heads[i] && e[1] == 1025;
		}
		assert_true(found);
	}
	r->used_seen += 5;
	assert_int_equal(eventfd_read(virtio_mmio_irq_fd(r->t), &n), 0);
	/* avail_event tells the driver where to kick next. */
	assert_int_equal(get16(r, USED + 4 + 8 * QSIZE), 5);
	/* used_event far ahead: the next completion raises no interrupt. */
	put16(r, AVAIL + 4 + 2 * QSIZE, 100);
	good_read(r);
	assert_int_equal(eventfd_read(virtio_mmio_irq_fd(r->t), &n), -1);
	/* used_event at the next one: it does. */
	put16(r, AVAIL + 4 + 2 * QSIZE, r->used_seen);
	good_read(r);
	assert_int_equal(eventfd_read(virtio_mmio_irq_fd(r->t), &n), 0);
}

static void test_reset_with_requests_in_flight(void **state)
{
	struct rig *r = rig(state);
	struct seg s[] = {{HDR, 16, false}, {DATA, 4096, false}, {STATUS, 1, true}};
	struct ev_handler *h = &r->t->notify_h[0];

	put_hdr(r, HDR, VIRTIO_BLK_T_OUT, 100);
	memset(at(r, DATA), 0x33, 4096);
	add_chain(r, s, 3, 0);
	/* Only the kick handler runs: io_uring completions stay unreaped. */
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	h->fn(h, EPOLLIN);
	wr(r, VIRTIO_MMIO_STATUS, 0);
	if (r->p.engine == VBLK_ENGINE_IO_URING)
		assert_int_equal(get16(r, USED + 2), 0); /* the old ring is not touched */
	pump(r, r->p.engine == VBLK_ENGINE_IO_URING ? 0 : 1);
	driver_up(r);
	good_read(r);
}

static void test_create_errors(void **state)
{
	struct rig *r = rig(state);
	struct vblk_config cfg = {.drive_id = "x"};
	struct vblk *b;

	assert_int_equal(ftruncate(r->fd, DISK_BYTES - 100), 0);
	snprintf(cfg.path, sizeof(cfg.path), "%s", r->path);
	assert_int_equal(vblk_create(&b, &cfg, &r->gm, &r->loop), -EINVAL);
	assert_null(b);
	snprintf(cfg.path, sizeof(cfg.path), "/nonexistent/disk.img");
	assert_int_equal(vblk_create(&b, &cfg, &r->gm, &r->loop), -ENOENT);
	snprintf(cfg.path, sizeof(cfg.path), "/tmp");
	cfg.read_only = true;
	assert_int_equal(vblk_create(&b, &cfg, &r->gm, &r->loop), -EINVAL);
	/* The default engine always comes up, whatever the kernel allows. */
	assert_int_equal(ftruncate(r->fd, 4096), 0);
	snprintf(cfg.path, sizeof(cfg.path), "%s", r->path);
	cfg.engine = VBLK_ENGINE_DEFAULT;
	assert_int_equal(vblk_create(&b, &cfg, &r->gm, &r->loop), 0);
	assert_int_equal(vblk_capacity(b), 8);
	assert_true(vblk_engine_used(b) == VBLK_ENGINE_IO_URING ||
		    vblk_engine_used(b) == VBLK_ENGINE_SYNC);
	vblk_destroy(b);
}

int main(void)
{
	static struct params sync_rw = {VBLK_ENGINE_SYNC, false};
	static struct params uring_rw = {VBLK_ENGINE_IO_URING, false};
	static struct params sync_ro = {VBLK_ENGINE_SYNC, true};
	static struct params uring_ro = {VBLK_ENGINE_IO_URING, true};
#define BOTH(fn)                                                                                   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &sync_rw),                   \
	    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &uring_rw)
	const struct CMUnitTest tests[] = {
	    BOTH(test_read_write),
	    BOTH(test_get_id),
	    BOTH(test_unsupported),
	    BOTH(test_out_of_range),
	    cmocka_unit_test_prestate_setup_teardown(test_read_only, setup, teardown, &sync_ro),
	    cmocka_unit_test_prestate_setup_teardown(test_read_only, setup, teardown, &uring_ro),
	    BOTH(test_writable_has_no_ro_feature),
	    BOTH(test_bad_layouts),
	    BOTH(test_malformed_chains),
	    BOTH(test_indirect_request),
	    BOTH(test_avail_runs_ahead),
	    BOTH(test_batch_and_event_idx),
	    BOTH(test_reset_with_requests_in_flight),
	    cmocka_unit_test_prestate_setup_teardown(test_create_errors, setup, teardown, &sync_rw),
	};
	return cmocka_run_group_tests_name("vblk", tests, NULL, NULL);
}
