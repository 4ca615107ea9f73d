// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for virtio-blk requests: the input is a guest driver's
 * behaviour.  A block device made through the registry ("block", its CLI
 * spec naming a 64 KiB memfd as /proc/self/fd/N) over fake guest memory is
 * brought up through the transport registers with input-chosen features
 * and queue size, then the input becomes request chains on queue 0: the
 * outhdr (IN/OUT/FLUSH/GET_ID/DISCARD/WRITE_ZEROES/any type, any sector),
 * the header split or short, data segments of chosen lengths, directions
 * and placements (inside RAM, across its end, outside it, over the rings),
 * the status byte separate, merged, missing or odd, direct or indirect;
 * batches are kicked and the event loop runs until every chain is back.
 * Three devices live for the whole run (engine=sync, engine=io_uring and a
 * read-only one); each input resets its device first, which also drains
 * what io_uring still had in flight.
 *
 * Besides the sanitizers the target checks what a guest may rely on: every
 * chain comes back (a bounded wait), a returned length never exceeds what
 * the chain offered, a status byte is written exactly when the length says
 * so and holds OK/IOERR/UNSUPP, and the disk never grows.  Batches that
 * aim the device's writes at the rings ("hostile") only get the sanitizers.
 *
 * Not reached: vblk_replace_file (PATCH), the rate limiter (unlimited
 * here), snapshots' quiesce, short transfers (a memfd never gives one) and
 * I/O errors from the host.  Where the kernel refuses io_uring the
 * io_uring device falls back to sync and the report says so.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_blk --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"
#include "device.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"
#include "vrig.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t up, posted, returned;
	size_t ok_in, ok_out, ok_flush, ok_id, ok_multi, ok_uring;
	size_t ioerr, unsupp, untouched;
	bool no_uring;
} depth;

/* An oracle failed: say which, then abort (libFuzzer keeps the input). */
static void __attribute__((noreturn)) fail(const char *why)
{
	fprintf(stderr, "fuzz_blk: %s\n", why);
	abort();
}

#define RAM	     (4u << 20)
#define QMAX	     256u /* the device's QueueNumMax */
#define DESC	     0x1000u
#define AVAIL	     0x2000u
#define USED	     0x3000u
#define TABLES	     0x4000u  /* one 4 KiB indirect table per request of a batch */
#define HDRS	     0x20000u /* 512 bytes of header per request of a batch */
#define STATUS	     0x30000u /* 64 bytes of status per request of a batch */
#define DATA	     0x100000u
#define BATCH_MAX    16u
#define DISK_SECTORS 128u
#define DISK_BYTES   (DISK_SECTORS * 512u)
#define STATUS_FRESH 0xeeu /* what a status byte holds before the device answers */

/* ---- the rig: memory, loop, disk and devices, made once ------------------------ */

enum { DEV_SYNC, DEV_URING, DEV_RO, NR_DEVS };

static struct {
	bool up;
	struct guest_mem gm;
	struct evloop loop;
	int disk;
	const struct vdev_type *type;
	void *dev[NR_DEVS];
	bool tried[NR_DEVS];
} rig;

static _Alignas(4096) uint8_t ram[RAM];
static uint64_t dirty[RAM / 4096 / 64]; /* gm_ptr_w marks pages here, as for Diff snapshots */

static void rig_down(void)
{
	for (unsigned i = 0; i < NR_DEVS; i++)
		if (rig.dev[i])
			rig.type->destroy(rig.dev[i]);
	evloop_destroy(&rig.loop);
	close(rig.disk);
}

static void rig_up(void)
{
	uint8_t sector[512];

	log_set_level(LOG_ERROR);
	rig.gm.nr_regions = 1;
	rig.gm.region[0] = (struct gm_region){.gpa = 0, .size = RAM, .host = ram, .dirty = dirty};
	/* A memfd, not a file under /tmp: nothing to clean up after a crash. */
	rig.disk = memfd_create("fuzz-blk", MFD_CLOEXEC);
	rig.type = vdev_type_find("block");
	if (rig.disk < 0 || !rig.type || evloop_init(&rig.loop))
		fail("the rig, not the input");
	for (unsigned s = 0; s < DISK_SECTORS; s++) {
		memset(sector, (int)s, sizeof(sector));
		if (pwrite(rig.disk, sector, sizeof(sector), (off_t)s * 512) != sizeof(sector))
			abort();
	}
	atexit(rig_down);
	rig.up = true;
}

/* Device @i, made on first use; io_uring falls back to sync where refused. */
static void *rig_dev(unsigned i)
{
	static const char *const opts[NR_DEVS] = {",id=fuzz-sync,engine=sync",
						  ",id=fuzz-uring,engine=io_uring",
						  ",ro,id=fuzz-readonly-disk-serial,engine=sync"};
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	const struct vdev_env env = {.gm = &rig.gm, .loop = &rig.loop};
	char spec[128], err[200];

	if (!rig.tried[i]) {
		rig.tried[i] = true;
		snprintf(spec, sizeof(spec), "/proc/self/fd/%d%s", rig.disk, opts[i]);
		if (rig.type->parse(spec, cfg, err, sizeof(err)))
			abort();
		if (rig.type->create(&rig.dev[i], cfg, &env)) {
			if (i != DEV_URING)
				abort();
			depth.no_uring = true;
		}
	}
	return rig.dev[i] ? rig.dev[i] : rig_dev(DEV_SYNC);
}

/* ---- the guest driver --------------------------------------------------------- */

struct drv {
	struct virtio_mmio *t;
	struct ring q;
	uint8_t drop;
	bool uring;
};

/*
 * Reset, then what Linux's virtio_mmio does, with features the input takes
 * away (@drop: bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 FLUSH, 3 VERSION_1) or
 * adds (bit 4: one the device never offered).  False if the device refused.
 */
static bool drv_up(struct drv *d, uint8_t drop, uint16_t qsize)
{
	static const unsigned bits[4] = {VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
					 VIRTIO_BLK_F_FLUSH, VIRTIO_F_VERSION_1};

	d->drop = drop;
	wr32(d->t, VIRTIO_MMIO_STATUS, 0);
	memset(ram + DESC, 0, STATUS + 64 * BATCH_MAX - DESC);
	d->q = (struct ring){.desc = DESC, .size = qsize};
	drv_features(d->t, feature_bits(drop, bits, 4), drop & 16 ? 1ull << 40 : 0);
	if (!(rd32(d->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
		return false;
	drv_queues(d->t, (const uint64_t[]){DESC}, 1, qsize);
	if (rd32(d->t, VIRTIO_MMIO_STATUS) != 0xf)
		return false;
	/*
	 * Serve the look at the queue that going live asks for now, while it
	 * is empty: the three devices share one ring address, and a look
	 * served later, under another device's requests, would take them.
	 */
	pump(&rig.loop, 10);
	return true;
}

/* What the driver remembers of a posted chain, to judge what comes back. */
struct posted {
	uint16_t head;
	uint32_t type;
	uint64_t wbytes;     /* device-writable bytes offered */
	uint64_t status_gpa; /* 0: no status byte we can watch */
	bool multi;	     /* two or more data segments */
};

struct batch {
	struct posted p[BATCH_MAX];
	unsigned n, descs;
	uint64_t data_at;
	bool hostile; /* the device was asked to write over the rings */
};

static struct posted *find_posted(struct batch *b, uint16_t head)
{
	for (unsigned i = 0; i < b->n; i++)
		if (b->p[i].head == head)
			return &b->p[i];
	return NULL;
}

/* Judges one returned chain (a batch whose rings were left alone). */
static void check_used(struct drv *d, struct posted *p, uint32_t len)
{
	uint8_t st;

	if (!p || len > p->wbytes)
		fail("a head never posted, or more written than offered");
	if (!p->status_gpa)
		return;
	st = ram[p->status_gpa];
	if (!len) {
		if (st != STATUS_FRESH)
			fail("status written, yet the chain came back empty");
		depth.untouched++;
		return;
	}
	if (st == VIRTIO_BLK_S_OK) {
		depth.ok_in += p->type == VIRTIO_BLK_T_IN;
		depth.ok_out += p->type == VIRTIO_BLK_T_OUT;
		depth.ok_flush += p->type == VIRTIO_BLK_T_FLUSH;
		depth.ok_id += p->type == VIRTIO_BLK_T_GET_ID;
		depth.ok_multi += p->multi;
		depth.ok_uring += d->uring;
	} else if (st == VIRTIO_BLK_S_IOERR) {
		depth.ioerr++;
	} else if (st == VIRTIO_BLK_S_UNSUPP) {
		depth.unsupp++;
	} else {
		fail("no such status");
	}
}

/*
 * Kicks and runs the loop until every chain of the batch is back (bounded:
 * io_uring completes on its own time), then checks what came back.
 */
static void flush(struct drv *d, struct batch *b)
{
	uint64_t deadline;
	uint32_t id, len;
	struct stat st;

	if (!b->n)
		return;
	wr32(d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	deadline = time_now_us() + 5000000;
	for (int wait = 0, round = 0;; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(rig.loop.epfd, ev, 16, wait);

		if (round == 10000)
			fail("the device keeps the loop busy");
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = ev[i].data.ptr;

			h->fn(h, ev[i].events);
		}
		if (n > 0)
			continue;
		if ((uint16_t)(get16(ram, USED + 2) - d->q.used_seen) == b->n || b->hostile ||
		    rd32(d->t, VIRTIO_MMIO_STATUS) != 0xf)
			break;
		if (time_now_us() > deadline)
			fail("a chain the device never returned: the guest would hang");
		wait = 1;
	}
	while (!b->hostile && used_next(ram, &d->q, &id, &len)) {
		check_used(d, find_posted(b, (uint16_t)id), len);
		depth.returned++;
	}
	/* No request may write past the end of the disk. */
	if (fstat(rig.disk, &st) || st.st_size != DISK_BYTES)
		fail("the disk grew: a write past its end");
	/* The rings hold disk data now: start over, as a guest driver would have to. */
	if (b->hostile)
		drv_up(d, d->drop, d->q.size);
	b->n = b->descs = 0;
	b->data_at = DATA;
	b->hostile = false;
}

/* Where a data segment of @len goes (@mode: see fuzz_blk's input format). */
static uint64_t seg_addr(struct batch *b, unsigned mode, uint32_t len, uint8_t arg, bool w)
{
	uint64_t a;

	switch (mode) {
	case 0: /* fresh guest memory, wrapping around when the batch uses it all */
		if (b->data_at + len > RAM)
			b->data_at = DATA;
		a = b->data_at;
		b->data_at += ((uint64_t)len + 63) & ~63ull;
		return a;
	case 1: /* across the end of RAM */
		return RAM - len / 2 - 1;
	case 2: /* nowhere, or where address + length wraps */
		return arg & 1 ? 1ull << 40 : UINT64_MAX - arg;
	default: /* over the rings and tables: legal, and the guest's own loss */
		b->hostile |= w;
		return DESC + (uint64_t)arg * 64;
	}
}

/*
 * One request.  Input: type selector (bits 0-2; 6: a raw 32-bit type
 * follows); sector selector (>= 0xf0: 8 raw bytes follow; >= 0xe0:
 * counting back from the end of the disk); flags (bits 0-1 header
 * whole/split/with trailing bytes/short, a byte follows for the last
 * three; 2-3 status separate/merged into the last segment/missing/odd; 4
 * indirect; 5 kick after it; 6 header device-writable; 7
 * VRING_AVAIL_F_NO_INTERRUPT); data segment count (0-7; bit 7: one segment
 * repeated 1..256 times, the count in the next byte); per segment its
 * flags (bit 0 device-writable, 1-2 placement, 3 length in units of 32),
 * a 16-bit length and a placement argument.
 */
static void one_request(struct drv *d, struct batch *b, struct in *in)
{
	static const uint32_t types[8] = {VIRTIO_BLK_T_IN,	     VIRTIO_BLK_T_OUT,
					  VIRTIO_BLK_T_FLUSH,	     VIRTIO_BLK_T_GET_ID,
					  VIRTIO_BLK_T_DISCARD,	     VIRTIO_BLK_T_WRITE_ZEROES,
					  UINT32_MAX /* raw type */, VIRTIO_BLK_T_IN};
	static struct seg s[QMAX + 8];
	uint8_t tsel = take8(in), ssel, flags, nsel;
	uint32_t type = types[tsel & 7];
	uint64_t sector, hdr[2], status;
	unsigned n = 0, nseg, k;
	bool repeat;
	struct posted *p;

	if (type == UINT32_MAX)
		type = (uint32_t)take16(in) | (uint32_t)take16(in) << 16;
	ssel = take8(in);
	sector = ssel >= 0xf0 ? take64(in) : ssel >= 0xe0 ? DISK_SECTORS - (ssel - 0xe0) : ssel;
	flags = take8(in);
	nsel = take8(in);
	repeat = nsel & 0x80;
	nseg = repeat ? take8(in) + 1u : nsel & 7;
	/* Room for it in this batch, or the batch goes first. */
	if (b->n == BATCH_MAX || b->descs + ((flags & 16) ? 1 : nseg + 3) > d->q.size)
		flush(d, b);
	k = b->n;
	p = &b->p[k];
	*p = (struct posted){.type = type};

	hdr[0] = htole64(type);
	hdr[1] = htole64(sector);
	memcpy(ram + HDRS + 512 * k, hdr, 16);
	switch (flags & 3) {
	case 0:
		s[n++] = (struct seg){HDRS + 512 * k, 16, false};
		break;
	case 1: {
		uint32_t cut = 1 + take8(in) % 15;

		s[n++] = (struct seg){HDRS + 512 * k, cut, false};
		s[n++] = (struct seg){HDRS + 512 * k + cut, 16 - cut, false};
		break;
	}
	case 2: /* the header and more bytes in one descriptor: data, for OUT */
		s[n++] = (struct seg){HDRS + 512 * k, 16 + take8(in), false};
		break;
	default:
		s[n++] = (struct seg){HDRS + 512 * k, take8(in) % 16, false};
	}
	for (unsigned i = 0; i < n; i++)
		s[i].w = flags & 64;

	for (unsigned i = 0; i < nseg; i++) {
		uint8_t sf, arg;
		uint32_t len;

		if (!repeat || i == 0) {
			sf = take8(in);
			len = take16(in);
			arg = take8(in);
			if (sf & 8)
				len <<= 5;
			/* A repeated segment is one buffer offered many times. */
			s[n] =
			    (struct seg){seg_addr(b, (sf >> 1) & 3, len, arg, sf & 1), len, sf & 1};
		} else {
			s[n] = s[n - 1];
		}
		n++;
	}
	p->multi = nseg >= 2;

	status = STATUS + 64 * (uint64_t)k;
	switch ((flags >> 2) & 3) {
	case 0:
		s[n++] = (struct seg){status, 1, true};
		p->status_gpa = status;
		break;
	case 1: /* merged into the last data segment, if that is writable */
		if (n > 1 && s[n - 1].w && s[n - 1].len < UINT32_MAX) {
			s[n - 1].len++;
		} else {
			s[n++] = (struct seg){status, 1, true};
			p->status_gpa = status;
		}
		break;
	case 2:
		break;
	default: {
		uint8_t v = take8(in);

		if (v % 3 == 0) {
			s[n++] = (struct seg){status, 1, false};
		} else {
			uint32_t len = v % 3 == 1 ? 0 : 2 + v % 62;

			s[n++] = (struct seg){status, len, true};
			if (len)
				p->status_gpa = status + len - 1;
		}
	}
	}
	for (unsigned i = 0; i < n; i++)
		p->wbytes += s[i].w ? s[i].len : 0;
	if (p->status_gpa)
		ram[p->status_gpa] = STATUS_FRESH;
	put16(ram, AVAIL, flags & 128 ? VRING_AVAIL_F_NO_INTERRUPT : 0);
	p->head = post_chain(ram, &d->q, s, n, flags & 16 ? TABLES + 4096 * (uint64_t)k : 0);
	b->descs += flags & 16 ? 1 : n;
	b->n++;
	depth.posted++;
	if (flags & 32)
		flush(d, b);
}

/*
 * Input: device (bits 0-1: sync, io_uring, read-only, sync), features
 * taken away (bits 2-6, see drv_up); queue size (bits 0-2: 256 128 16 8 4 2
 * 1 256); then requests (one_request) until the input or 64 requests end.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t qsizes[8] = {256, 128, 16, 8, 4, 2, 1, 256};
	struct in in = {data, size};
	struct drv d = {0};
	struct batch b = {.data_at = DATA};
	uint8_t dsel, qsel;
	unsigned which;

	if (!rig.up)
		rig_up();
	dsel = take8(&in);
	qsel = take8(&in);
	which = (dsel & 3) == 3 ? DEV_SYNC : dsel & 3;
	d.t = rig.type->transport(rig_dev(which));
	d.uring = which == DEV_URING && !depth.no_uring;
	if (!drv_up(&d, (uint8_t)(dsel >> 2), qsizes[qsel & 7]))
		return 0;
	depth.up++;
	for (unsigned r = 0; r < 64 && in.n; r++)
		one_request(&d, &b, &in);
	flush(&d, &b);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds ------------------------------------------------------------ */

static int fuzz_report(void)
{
	printf("fuzz_blk: %zu devices up, %zu chains posted, %zu returned and checked; OK: "
	       "%zu in, %zu out, %zu flush, %zu get_id, %zu multi-segment, %zu via io_uring%s; "
	       "%zu IOERR, %zu UNSUPP, %zu without status\n",
	       depth.up, depth.posted, depth.returned, depth.ok_in, depth.ok_out, depth.ok_flush,
	       depth.ok_id, depth.ok_multi, depth.ok_uring,
	       depth.no_uring ? " (io_uring unavailable: sync only)" : "", depth.ioerr,
	       depth.unsupp, depth.untouched);
	return !depth.ok_in || !depth.ok_out || !depth.ok_flush || !depth.ok_id ||
	       !depth.ok_multi || (!depth.no_uring && !depth.ok_uring) || !depth.ioerr ||
	       !depth.unsupp;
}

/* A request with a separate header and status, kicked on its own. */
static void req(struct sw *w, unsigned tsel, unsigned sector, unsigned nseg)
{
	b8(w, tsel);
	b8(w, sector);
	b8(w, 32); /* kick after it */
	b8(w, nseg);
}

/* A data segment in fresh memory. */
static void seg(struct sw *w, bool writable, unsigned len)
{
	b8(w, writable);
	b16(w, len);
	b8(w, 0);
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	struct sw w = {.len = 0};
	unsigned n = 0;

	if (max < 6)
		abort();
	/* Read 4 sectors from sector 3, sync engine, queue of 256. */
	b8(&w, DEV_SYNC);
	b8(&w, 0);
	req(&w, 0, 3, 1);
	seg(&w, true, 2048);
	seed_add(s, &n, "read", &w);

	/* Write 2 sectors at the end of the disk through io_uring, then read them back. */
	b8(&w, DEV_URING);
	b8(&w, 0);
	req(&w, 1, 0xe2, 1);
	seg(&w, false, 1024);
	req(&w, 0, 0xe2, 1);
	seg(&w, true, 1024);
	seed_add(s, &n, "write", &w);

	/* A flush, a DISCARD (not offered: UNSUPP) and a type nobody knows. */
	b8(&w, DEV_URING);
	b8(&w, 2); /* queue of 16 */
	req(&w, 2, 0, 0);
	req(&w, 4, 0, 0);
	b8(&w, 6);
	b16(&w, 0x1234);
	b16(&w, 0);
	b8(&w, 0);
	b8(&w, 32);
	b8(&w, 0);
	seed_add(s, &n, "flush", &w);

	/* GET_ID of the read-only disk (a 24-character id), and a write it refuses. */
	b8(&w, DEV_RO);
	b8(&w, 0);
	req(&w, 3, 0, 1);
	seg(&w, true, 20);
	req(&w, 1, 0, 1);
	seg(&w, false, 512);
	seed_add(s, &n, "get-id", &w);

	/*
	 * Multi-segment: a write of 3 segments with the header split over
	 * two descriptors in an indirect table, batched with a read of
	 * 128 segments (seg_max) of one sector each; io_uring.
	 */
	b8(&w, DEV_URING);
	b8(&w, 0);
	b8(&w, 1);	/* OUT */
	b8(&w, 10);	/* sector */
	b8(&w, 1 | 16); /* header split, indirect, not kicked yet */
	b8(&w, 3);
	b8(&w, 7); /* the split after 7 bytes */
	seg(&w, false, 512);
	seg(&w, false, 1024);
	seg(&w, false, 512);
	b8(&w, 0); /* IN */
	b8(&w, 0);
	b8(&w, 32);
	b8(&w, 0x80); /* one segment, repeated */
	b8(&w, 127);  /* 128 times */
	seg(&w, true, 512);
	seed_add(s, &n, "multi-segment", &w);

	/* Out of range, misplaced and malformed: each answered IOERR or returned empty. */
	b8(&w, DEV_SYNC);
	b8(&w, 0);
	req(&w, 0, 0xe0, 1); /* one sector at the capacity */
	seg(&w, true, 512);
	req(&w, 0, 0, 1); /* across the end of RAM */
	b8(&w, 1 | 2);
	b16(&w, 512);
	b8(&w, 0);
	b8(&w, 0); /* IN with the status byte missing */
	b8(&w, 0);
	b8(&w, 32 | 8);
	b8(&w, 1);
	seg(&w, true, 512);
	seed_add(s, &n, "bad", &w);
	return n;
}
#endif
