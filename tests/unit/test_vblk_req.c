// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk's pure parts on their own: the --disk option parser and the
 * request parser (blk_req.c), per request type and per defect, on fake guest
 * memory with no device, queue or file behind them.
 */
#include <endian.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "blk.h"
#include "blk_req.h"
#include "unit.h"

#define RAM	   0x400000
#define HDR	   0x10000
#define STATUS	   0x18000
#define DATA	   0x100000
#define SECTORS	   2048
#define DISK_BYTES (SECTORS * 512)

struct seg {
	uint64_t addr;
	uint32_t len;
	bool w;
};

static void test_config_parse(void **state)
{
	struct vblk_config c;
	char err[128];

	(void)state;
	assert_int_equal(vblk_config_parse("disk.img", &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, "disk.img");
	assert_false(c.read_only || c.is_root);
	assert_int_equal(c.engine, VBLK_ENGINE_DEFAULT);
	assert_string_equal(c.drive_id, "");
	assert_int_equal(
	    vblk_config_parse("/a/b.img,ro,root,id=rootfs_1,engine=sync", &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, "/a/b.img");
	assert_true(c.read_only && c.is_root);
	assert_string_equal(c.drive_id, "rootfs_1");
	assert_int_equal(c.engine, VBLK_ENGINE_SYNC);
	assert_int_equal(vblk_config_parse("x,engine=io_uring", &c, err, sizeof(err)), 0);
	assert_int_equal(c.engine, VBLK_ENGINE_IO_URING);

	static const char *const bad[] = {
	    "",
	    ",ro",
	    "x,",
	    "x,,ro",
	    "x,rw",
	    "x,ro=1",
	    "x,engine=aio",
	    "x,engine=",
	    "x,id=",
	    "x,id=a/b",
	    "x,id=a b",
	    "x,id=0123456789012345678901234567890123456789012345678901234567890123",
	    "x,roo",
	    "x,ENGINE=sync",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(vblk_config_parse(bad[i], &c, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
}

/* ---- the request parser on its own ------------------------------------- */

static struct virtq_chain pc;
static struct vblk_req preq;
static const struct vblk_disk pdisk = {.size = DISK_BYTES};

static int parse(struct guest_mem *gm, const struct seg *s, unsigned n, uint32_t type,
		 uint64_t sector, const struct vblk_disk *disk)
{
	uint32_t h[4] = {type, 0, (uint32_t)sector, (uint32_t)(sector >> 32)};

	assert_int_equal(gm_write(gm, HDR, h, 16), 0);
	memset(&pc, 0, sizeof(pc));
	pc.head = 7;
	pc.nr = n;
	for (unsigned i = 0; i < n; i++)
		pc.seg[i] = (struct virtq_seg){s[i].addr, s[i].len, s[i].w};
	return vblk_req_parse(&preq, &pc, gm, disk ? disk : &pdisk);
}

static void test_parser(void **state)
{
	struct guest_mem gm;
	struct vblk_disk ro = {.size = DISK_BYTES, .read_only = true};
	const struct vblk_disk big = {.size = 8u << 20}; /* room for any segment size */
	uint8_t *st;

	(void)state;
	fake_gm_init(&gm, RAM, 0, 0);
	st = gm_ptr(&gm, STATUS, 1);

	/* IN: data in iov, offset from sector, used = data + status. */
	assert_int_equal(parse(&gm, (struct seg[]){{HDR, 16, 0}, {DATA, 1024, 1}, {STATUS, 1, 1}},
			       3, VIRTIO_BLK_T_IN, 2, NULL),
			 0);
	assert_int_equal(preq.head, 7);
	assert_int_equal(preq.niov, 1);
	assert_int_equal(preq.len, 1024);
	assert_int_equal(preq.offset, 1024);
	assert_ptr_equal(preq.iov[0].iov_base, gm_ptr(&gm, DATA, 1));
	assert_ptr_equal(preq.status, st);
	preq.done = 1024;
	preq.status_code = VIRTIO_BLK_S_OK;
	assert_int_equal(vblk_req_finish(&preq), 1025);
	assert_int_equal(*st, VIRTIO_BLK_S_OK);
	/* IN with the status byte at the end of the data segment. */
	assert_int_equal(
	    parse(&gm, (struct seg[]){{HDR, 16, 0}, {DATA, 513, 1}}, 2, VIRTIO_BLK_T_IN, 0, NULL),
	    0);
	assert_int_equal(preq.len, 512);
	assert_ptr_equal(preq.status, gm_ptr(&gm, DATA + 512, 1));
	/*
	 * A data segment above the size_max we advertise (1 MiB) is an I/O
	 * error, not served: one request cannot hold the VMM thread for long.
	 * One at the limit is fine.
	 */
	assert_int_equal(
	    parse(&gm, (struct seg[]){{HDR, 16, 0}, {0, VBLK_SIZE_MAX + 512, 1}, {STATUS, 1, 1}}, 3,
		  VIRTIO_BLK_T_IN, 0, &big),
	    -EINVAL);
	assert_int_equal(parse(&gm,
			       (struct seg[]){{HDR, 16, 0}, {0, VBLK_SIZE_MAX, 1}, {STATUS, 1, 1}},
			       3, VIRTIO_BLK_T_IN, 0, &big),
			 0);
	assert_int_equal(preq.len, VBLK_SIZE_MAX);
	/* OUT: header split in two, data sharing the second piece. */
	assert_int_equal(
	    parse(&gm,
		  (struct seg[]){{HDR, 8, 0}, {HDR + 8, 8 + 512, 0}, {DATA, 0, 0}, {STATUS, 1, 1}},
		  4, VIRTIO_BLK_T_OUT, 1, NULL),
	    0);
	assert_int_equal(preq.niov, 1);
	assert_int_equal(preq.len, 512);
	assert_ptr_equal(preq.iov[0].iov_base, gm_ptr(&gm, HDR + 16, 1));
	preq.status_code = VIRTIO_BLK_S_OK;
	assert_int_equal(vblk_req_finish(&preq), 1);
	/* FLUSH and GET_ID. */
	assert_int_equal(parse(&gm, (struct seg[]){{HDR, 16, 0}, {STATUS, 1, 1}}, 2,
			       VIRTIO_BLK_T_FLUSH, 0, NULL),
			 0);
	assert_int_equal(preq.len, 0);
	assert_int_equal(parse(&gm, (struct seg[]){{HDR, 16, 0}, {DATA, 20, 1}, {STATUS, 1, 1}}, 3,
			       VIRTIO_BLK_T_GET_ID, 0, NULL),
			 0);
	vblk_req_get_id(&preq, "01234567890123456789xyz");
	assert_memory_equal(gm_ptr(&gm, DATA, 20), "01234567890123456789", 20);
	assert_int_equal(vblk_req_finish(&preq), 21);

	/* Each defect, with the status it must produce. */
	struct {
		struct seg s[4];
		unsigned n;
		uint32_t type;
		uint64_t sector;
		const struct vblk_disk *disk;
		int code; /* -1: no status byte */
	} bad[] = {
	    {{{HDR, 16, 0}, {DATA, 512, 1}, {STATUS, 1, 1}}, 3, 77, 0, NULL, VIRTIO_BLK_S_UNSUPP},
	    {{{HDR, 16, 0}, {DATA, 512, 0}, {STATUS, 1, 1}}, 3, 1, 0, &ro, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {DATA, 512, 0}, {STATUS, 1, 1}}, 3, 4, 0, NULL, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {DATA, 8, 1}, {STATUS, 1, 1}}, 3, 4, 0, NULL, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {STATUS, 1, 1}}, 2, 8, 0, NULL, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {DATA, 512, 0}, {STATUS, 1, 1}}, 3, 8, 0, NULL, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 15, 0}, {STATUS, 1, 1}}, 2, 0, 0, NULL, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {DATA, 511, 1}, {STATUS, 1, 1}}, 3, 0, 0, NULL, VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {DATA, 512, 1}, {STATUS, 1, 1}},
	     3,
	     0,
	     SECTORS,
	     NULL,
	     VIRTIO_BLK_S_IOERR},
	    {{{HDR, 16, 0}, {DATA, 512, 1}, {RAM, 1, 1}}, 3, 0, 0, NULL, -1},
	    {{{HDR, 16, 0}, {DATA, 512, 1}, {STATUS, 1, 0}}, 3, 0, 0, NULL, -1},
	    {{{HDR, 16, 0}}, 1, 0, 0, NULL, -1},
	    {{{0}}, 0, 0, 0, NULL, -1},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(
		    parse(&gm, bad[i].s, bad[i].n, bad[i].type, bad[i].sector, bad[i].disk),
		    -EINVAL);
		if (bad[i].code < 0) {
			assert_null(preq.status);
			assert_int_equal(vblk_req_finish(&preq), 0);
		} else {
			assert_ptr_equal(preq.status, st);
			assert_int_equal(preq.status_code, bad[i].code);
			assert_int_equal(vblk_req_finish(&preq), 1);
			assert_int_equal(*st, bad[i].code);
		}
	}
	/* A chain virtq could not walk never yields a status byte. */
	parse(&gm, (struct seg[]){{HDR, 16, 0}, {STATUS, 1, 1}}, 2, VIRTIO_BLK_T_FLUSH, 0, NULL);
	pc.err = -EINVAL;
	assert_int_equal(vblk_req_parse(&preq, &pc, &gm, &pdisk), -EINVAL);
	assert_null(preq.status);
	/* More data segments than seg_max. */
	struct seg many[VBLK_SEG_MAX + 2];
	many[0] = (struct seg){HDR, 16, 0};
	for (unsigned i = 1; i <= VBLK_SEG_MAX; i++)
		many[i] = (struct seg){DATA + 512 * i, 512, 1};
	many[VBLK_SEG_MAX + 1] = (struct seg){STATUS, 1, 1};
	assert_int_equal(parse(&gm, many, VBLK_SEG_MAX + 2, VIRTIO_BLK_T_IN, 0, NULL), 0);
	assert_int_equal(preq.niov, VBLK_SEG_MAX);
	many[VBLK_SEG_MAX + 1] = (struct seg){DATA, 512, 1};
	struct seg more[VBLK_SEG_MAX + 3];
	memcpy(more, many, sizeof(many));
	more[VBLK_SEG_MAX + 2] = (struct seg){STATUS, 1, 1};
	assert_int_equal(parse(&gm, more, VBLK_SEG_MAX + 3, VIRTIO_BLK_T_IN, 0, NULL), -EINVAL);
	assert_int_equal(preq.status_code, VIRTIO_BLK_S_IOERR);
	fake_gm_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_parse),
	    cmocka_unit_test(test_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
