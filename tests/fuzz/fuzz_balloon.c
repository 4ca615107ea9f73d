// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for virtio-balloon: the input is a guest driver's behaviour
 * and the host's API calls, interleaved.  A balloon made through the
 * registry ("balloon", its CLI spec chosen by the input) over fake guest
 * memory (two regions, the second above a hole) is brought up with
 * input-chosen features and queue size, then the input becomes requests:
 * inflate and deflate arrays of PFNs (inside RAM, in the hole, past it,
 * over the rings; odd lengths, wrong direction, too many), statistics
 * buffers (known and unknown tags, oversized, writable), free page hinting
 * chains (command ids and blocks, aligned or not, inside RAM or not),
 * reported blocks, config-space writes of any offset and width, and the
 * API's operations on the live device (target, statistics interval,
 * hinting start/stop/status, statistics).
 *
 * Besides the sanitizers the target checks what a guest and the host rely
 * on: every inflate, deflate, hinting and reporting chain comes back, and
 * at most one statistics buffer is held; the device never asks for a
 * reset; a page nobody named keeps its bytes (MADV_DONTNEED only where a
 * request said so); the target the host set is what the guest reads.
 * Inputs that name the rings' own pages ("hostile") only get the
 * sanitizers: the guest gave away its own rings.
 *
 * Not reached: the statistics timer (its period is seconds; a new interval
 * returns the buffer the same way) and snapshots (test_balloon.c).
 * libFuzzer (clang): see the Makefile; `build/fuzz_balloon --write-seeds
 * DIR` stores the built-in seeds.  `make fuzz` runs them and 2000
 * mutations of each under ASan/UBSan.
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "balloon.h"
#include "device.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"
#include "vrig.h"

static struct {
	size_t up, posted, returned, inflated, stats, hints, reports, api_ok, api_refused;
} depth;

static void __attribute__((noreturn)) fail(const char *why)
{
	fprintf(stderr, "fuzz_balloon: %s\n", why);
	abort();
}

#define PG	  4096u
#define LOW	  (3u << 20) /* region 0: [0, 3 MiB) */
#define HIGH_GPA  (8u << 20) /* region 1: [8 MiB, 9 MiB), ram[LOW..] */
#define HIGH	  (1u << 20)
#define RINGS	  0x10000u /* queue q at RINGS + q * 0x4000 */
#define BUFS	  0x40000u /* request payloads */
#define DATA	  0x100000u /* the pages requests name, to the end of region 0 */
#define NQ	  5
#define FILL	  0xa5u
#define DATA_PGS  ((LOW - DATA) / PG)

static _Alignas(4096) uint8_t ram[LOW + HIGH];

static struct {
	bool up;
	struct guest_mem gm;
	struct evloop loop;
	const struct vdev_type *type;
	int devnull;
} rig;

static void rig_up(void)
{
	log_set_level(LOG_ERROR);
	rig.gm.nr_regions = 2;
	rig.gm.region[0] = (struct gm_region){.gpa = 0, .size = LOW, .host = ram};
	rig.gm.region[1] = (struct gm_region){.gpa = HIGH_GPA, .size = HIGH, .host = ram + LOW};
	rig.type = vdev_type_find("balloon");
	rig.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!rig.type || evloop_init(&rig.loop))
		fail("the rig, not the input");
	rig.up = true;
}

/* ---- one input's device and driver ----------------------------------------------- */

struct drv {
	void *dev;
	struct virtio_mmio *t;
	struct ring q[NQ];
	unsigned nq, q_stats, q_hint, q_report; /* NQ when absent */
	unsigned out[NQ];			/* posted and not yet seen back */
	bool named[DATA_PGS];			/* a request named the page */
	bool hostile;
	uint8_t c; /* the settings byte: what the driver refuses */
	uint32_t target_mib;
};

/* A page-aligned range named by a request: remember the data pages, or that it was hostile. */
static void name_range(struct drv *d, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len < gpa ? UINT64_MAX : gpa + len;

	if (gpa < DATA && end > RINGS)
		d->hostile = true;
	for (uint64_t a = gpa < DATA ? DATA : gpa & ~(uint64_t)(PG - 1); a < end && a < LOW;
	     a += PG)
		d->named[(a - DATA) / PG] = true;
}

/*
 * Reset, then Linux's bring-up with the features @c refuses (bits 4-6:
 * statistics, hinting, reporting; 7: accept one never offered) and queues
 * of @qsize; the optional queues numbered as Linux numbers them.
 */
static bool drv_bringup(struct drv *d, uint8_t c, uint16_t qsize)
{
	uint64_t f, base[NQ];
	unsigned i = 2;

	wr32(d->t, VIRTIO_MMIO_STATUS, 0);
	memset(ram + RINGS, 0, BUFS - RINGS);
	memset(d->out, 0, sizeof(d->out));
	d->hostile = false;
	f = drv_features(d->t, feature_bits(c >> 4, (const unsigned[]){1, 3, 5}, 3),
			 c & 0x80 ? 1ull << 4 : 0);
	if (!(rd32(d->t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
		return false;
	d->q_stats = f & (1ull << VIRTIO_BALLOON_F_STATS_VQ) ? i++ : NQ;
	d->q_hint = f & (1ull << VIRTIO_BALLOON_F_FREE_PAGE_HINT) ? i++ : NQ;
	d->q_report = f & (1ull << VIRTIO_BALLOON_F_REPORTING) ? i++ : NQ;
	for (unsigned k = 0; k < d->nq; k++) {
		base[k] = RINGS + k * 0x4000u;
		d->q[k] = (struct ring){.desc = base[k], .size = qsize};
	}
	drv_queues(d->t, base, d->nq, qsize);
	return rd32(d->t, VIRTIO_MMIO_STATUS) == 0xf;
}

/* The CLI spec (settings byte, amount_mib byte) and the first bring-up. */
static bool drv_up(struct drv *d, struct in *in)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	const struct vdev_env env = {.gm = &rig.gm, .loop = &rig.loop};
	static const uint16_t qsizes[4] = {256, 16, 4, 1};
	uint8_t c = take8(in), q = take8(in), amount = take8(in);
	char spec[160], err[200];

	snprintf(spec, sizeof(spec), "amount_mib=%u%s%s%s%s", amount % 5u,
		 c & 1 ? ",stats_polling_interval_s=3600" : "", c & 2 ? ",free_page_hinting" : "",
		 c & 4 ? ",free_page_reporting" : "", c & 8 ? ",deflate_on_oom" : "");
	if (rig.type->parse(spec, cfg, err, sizeof(err)) ||
	    rig.type->create(&d->dev, cfg, &env))
		fail("a valid spec refused");
	d->t = rig.type->transport(d->dev);
	d->nq = d->t->ops->num_queues;
	d->c = c;
	d->target_mib = amount % 5u;
	return drv_bringup(d, c, qsizes[q & 3]);
}

static void kick(struct drv *d, unsigned q)
{
	uint32_t id, len;

	wr32(d->t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	if (!pump(&rig.loop, 1000))
		fail("the device keeps the loop busy");
	for (unsigned k = 0; k < d->nq; k++)
		while (used_next(ram, &d->q[k], &id, &len)) {
			if (len && !d->hostile)
				fail("the balloon wrote into a buffer");
			d->out[k]--;
			depth.returned++;
		}
}

static void post(struct drv *d, unsigned q, const struct seg *s, unsigned n)
{
	if (q >= d->nq || d->out[q] + n > d->q[q].size)
		return; /* no such queue, or no room: the driver waits */
	post_chain(ram, &d->q[q], s, n, 0);
	d->out[q]++;
	depth.posted++;
	kick(d, q);
}

/* An array of PFNs for inflate (0) or deflate (1); the bytes: see LLVMFuzzerTestOneInput. */
static void pfn_request(struct drv *d, unsigned q, uint8_t op, struct in *in)
{
	unsigned n = take8(in) % 64 + (op & 0x80 ? 1024 : 0);
	struct seg s = {BUFS, 4 * n, op & 0x40};

	for (unsigned i = 0; i < n && i < 2048; i++) {
		uint8_t sel = take8(in);
		uint32_t pfn;

		if (sel < 0xc0)
			pfn = DATA / PG + (sel + take8(in) * 256u) % DATA_PGS;
		else if (sel < 0xe0)
			pfn = HIGH_GPA / PG + sel % (HIGH / PG + 2); /* the high region, and past it */
		else
			pfn = take32(in);
		if (q == 0 && !(op & 0x40) && !(op & 0x20) && n <= 1024)
			name_range(d, (uint64_t)pfn * PG, PG);
		pfn = htole32(pfn);
		memcpy(ram + BUFS + 4 * i, &pfn, 4);
	}
	if (op & 0x20)
		s.len -= 2; /* a PFN cut short: the request is malformed */
	post(d, q, &s, 1);
	depth.inflated += q == 0;
}

static void stats_request(struct drv *d, uint8_t op, struct in *in)
{
	unsigned n = take8(in) % 32;
	struct seg s = {BUFS, 10 * n + (op & 0x80 ? 4096 : 0), op & 0x40};

	for (unsigned i = 0; i < n; i++) {
		uint16_t tag = htole16(take8(in) % 20);
		uint64_t val = htole64(take64(in));

		memcpy(ram + BUFS + 10 * i, &tag, 2);
		memcpy(ram + BUFS + 10 * i + 2, &val, 8);
	}
	if (d->q_stats < NQ) {
		post(d, d->q_stats, &s, 1);
		depth.stats++;
	}
}

/* Blocks for hinting or reporting: command ids (hinting) and ranges. */
static void block_request(struct drv *d, unsigned q, struct in *in)
{
	struct seg s[8];
	unsigned n = take8(in) % 8 + 1;

	for (unsigned i = 0; i < n; i++) {
		uint8_t sel = take8(in);
		uint64_t gpa = DATA + (uint64_t)(take8(in) % DATA_PGS) * PG;
		uint32_t len = (take8(in) % 16 + 1) * PG;

		if (sel % 8 == 0) { /* a command id */
			uint32_t cmd = htole32(take8(in) % 5);

			memcpy(ram + BUFS + 16 * i, &cmd, 4);
			s[i] = (struct seg){BUFS + 16 * i, 4, false};
			continue;
		}
		if (sel % 8 == 1)
			gpa = HIGH_GPA + HIGH - PG; /* half past the high region */
		else if (sel % 8 == 2)
			gpa = take64(in);
		else if (sel % 8 == 3)
			gpa += 1; /* unaligned */
		name_range(d, gpa & ~(uint64_t)(PG - 1), (uint64_t)len + PG);
		s[i] = (struct seg){gpa, len, sel & 8};
	}
	if (q < NQ) {
		post(d, q, s, n);
		depth.hints += q == d->q_hint;
		depth.reports += q == d->q_report;
	}
}

/* The API's operations, as the VMM thread runs them. */
static void api_op(struct drv *d, struct in *in)
{
	uint8_t op = take8(in);
	uint32_t a, b, host, guest;
	struct vballoon_stats st;
	bool has;
	int r = 0, saved = dup(STDERR_FILENO);

	/* A refusal is logged as the API's fault_message; here only the outcome counts. */
	if (saved >= 0 && rig.devnull >= 0)
		dup2(rig.devnull, STDERR_FILENO);
	switch ((op & 7) % 6) {
	case 0:
		a = take8(in) % 8;
		r = vballoon_set_target(d->dev, a);
		if (!r)
			d->target_mib = a;
		break;
	case 1:
		r = vballoon_set_stats_interval(d->dev, take8(in) % 3 * 1800);
		break;
	case 2:
		r = vballoon_get_stats(d->dev, &a, &b, &st);
		break;
	case 3:
		r = vballoon_hint_start(d->dev, op & 0x80);
		break;
	case 4:
		r = vballoon_hint_stop(d->dev);
		break;
	default:
		r = vballoon_hint_status(d->dev, &host, &has, &guest);
	}
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (!pump(&rig.loop, 1000))
		fail("the device keeps the loop busy");
	r ? depth.api_refused++ : depth.api_ok++;
}

/* The guest's config writes, any offset and width. */
static void config_write(struct drv *d, struct in *in)
{
	uint8_t off = take8(in) % 20, w = take8(in) % 3;
	uint32_t v = take32(in);

	virtio_mmio_bus_ops.write(d->t, VIRTIO_MMIO_CONFIG + off, (uint8_t *)&v, 1u << w);
}

static void check(struct drv *d)
{
	json_t *m = rig.type->metrics(d->dev);

	if (!m)
		fail("no metrics");
	json_decref(m);
	if (d->hostile)
		return;
	if (rd32(d->t, VIRTIO_MMIO_STATUS) != 0xf)
		fail("the device asked for a reset");
	for (unsigned q = 0; q < d->nq; q++)
		if (d->out[q] > (q == d->q_stats))
			fail("a chain the device never returned: the guest would hang");
	if (rd32(d->t, VIRTIO_MMIO_CONFIG) != d->target_mib * 256)
		fail("the guest does not read the host's target");
	for (unsigned p = 0; p < DATA_PGS; p++)
		if (!d->named[p] && (ram[DATA + p * PG] != FILL || ram[DATA + p * PG + PG - 1] != FILL))
			fail("a page no request named was given away");
}

/*
 * Input: balloon settings and the features the driver refuses (bits 0-3:
 * statistics, hinting, reporting, deflate_on_oom; 4-6 refuse statistics,
 * hinting, reporting; 7 accept a feature never offered); queue size (bits
 * 0-1: 256 16 4 1); amount_mib (% 5); then up to 64 operations, one byte
 * each (bits 0-2 what, the rest its flags): 0 inflate, 1 deflate (a count,
 * then per PFN a selector: < 0xc0 a data page (+1 byte), < 0xe0 around the
 * high region, else 4 raw bytes; flags 0x20 cut, 0x40 writable, 0x80 1024
 * more), 2 statistics (a count, tag + 8 bytes each; 0x40 writable, 0x80
 * oversized), 3 hinting and 4 reporting blocks, 5 a config write, 6 an
 * API operation, 7 the driver resets and starts over.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	static struct drv d;

	if (!rig.up)
		rig_up();
	memset(&d, 0, sizeof(d));
	memset(ram, 0, DATA);
	memset(ram + DATA, FILL, LOW - DATA);
	if (drv_up(&d, &in)) {
		depth.up++;
		for (unsigned r = 0; r < 64 && in.n; r++) {
			uint8_t op = take8(&in);

			switch (op & 7) {
			case 0:
			case 1:
				pfn_request(&d, op & 1, op, &in);
				break;
			case 2:
				stats_request(&d, op, &in);
				break;
			case 3:
				block_request(&d, d.q_hint, &in);
				break;
			case 4:
				block_request(&d, d.q_report, &in);
				break;
			case 5:
				config_write(&d, &in);
				break;
			case 6:
				api_op(&d, &in);
				break;
			default:
				if (!drv_bringup(&d, d.c, d.q[0].size))
					fail("a driver starting over was refused");
			}
			check(&d);
		}
	}
	rig.type->destroy(d.dev);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds ------------------------------------------------------------ */

static int fuzz_report(void)
{
	printf("fuzz_balloon: %zu devices up, %zu chains posted, %zu returned; %zu inflate "
	       "requests, %zu statistics buffers, %zu hinting and %zu reporting chains; API: "
	       "%zu done, %zu refused\n",
	       depth.up, depth.posted, depth.returned, depth.inflated, depth.stats, depth.hints,
	       depth.reports, depth.api_ok, depth.api_refused);
	return !depth.up || !depth.inflated || !depth.stats || !depth.hints || !depth.reports ||
	       !depth.api_ok || !depth.api_refused;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	struct sw w = {.len = 0};
	unsigned n = 0;

	if (max < 4)
		abort();
	/* Everything on; inflate 3 pages, deflate one, a target, stats, reset. */
	b8(&w, 0x0f);
	b8(&w, 0);
	b8(&w, 2);
	b8(&w, 0x00);
	b8(&w, 3);
	for (unsigned i = 0; i < 3; i++)
		b16(&w, i);
	b8(&w, 0x01);
	b8(&w, 1);
	b16(&w, 0);
	b8(&w, 0x06);
	b8(&w, 0); /* set_target */
	b8(&w, 4);
	b8(&w, 0x02);
	b8(&w, 2);
	b8(&w, VIRTIO_BALLOON_S_MEMFREE);
	bbytes(&w, "\1\2\3\4\5\6\7\0", 8);
	b8(&w, 99);
	bbytes(&w, "\1\0\0\0\0\0\0\0", 8);
	b8(&w, 0x06);
	b8(&w, 2); /* get_stats */
	b8(&w, 0x06);
	b8(&w, 1); /* interval 1800 */
	b8(&w, 1);
	b8(&w, 0x07);
	seed_add(s, &n, "inflate-stats", &w);

	/* Hinting: start, the run's id, blocks, STOP; then status and stop. */
	b8(&w, 0x02);
	b8(&w, 1);
	b8(&w, 0);
	b8(&w, 0x06);
	b8(&w, 0x83); /* hint_start, ack on stop */
	b8(&w, 0x03);
	b8(&w, 2);
	b8(&w, 0); /* a command id */
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 2);
	b8(&w, 8 | 4); /* a block in RAM, writable */
	b8(&w, 10);
	b8(&w, 3);
	b8(&w, 8 | 1); /* half past the high region */
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0x03);
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0); /* STOP */
	b8(&w, 0x06);
	b8(&w, 5); /* status */
	b8(&w, 0x06);
	b8(&w, 4); /* stop */
	seed_add(s, &n, "hinting", &w);

	/* Reporting: aligned, unaligned and wild blocks. */
	b8(&w, 0x04);
	b8(&w, 0);
	b8(&w, 0);
	b8(&w, 0x04);
	b8(&w, 2);
	b8(&w, 8 | 4);
	b8(&w, 20);
	b8(&w, 1);
	b8(&w, 8 | 3);
	b8(&w, 30);
	b8(&w, 0);
	b8(&w, 8 | 2);
	b8(&w, 0);
	b8(&w, 0);
	bbytes(&w, "\0\0\0\0\0\0\0\xff", 8);
	seed_add(s, &n, "reporting", &w);

	/* Bad PFNs and requests: outside RAM, cut, writable, over the limit; config writes. */
	b8(&w, 0x00);
	b8(&w, 1);
	b8(&w, 0);
	b8(&w, 0x00);
	b8(&w, 3);
	b8(&w, 0xd0);
	b8(&w, 0xff);
	bbytes(&w, "\xff\xff\xff\xff", 4);
	b8(&w, 0xc5);
	b8(&w, 0x20);
	b8(&w, 1);
	b16(&w, 5);
	b8(&w, 0x40);
	b8(&w, 1);
	b16(&w, 6);
	b8(&w, 0x05);
	b8(&w, 4);
	b8(&w, 2);
	bbytes(&w, "\0\1\0\0", 4);
	b8(&w, 0x05);
	b8(&w, 0);
	b8(&w, 2);
	bbytes(&w, "\xff\xff\xff\xff", 4);
	b8(&w, 0x06);
	b8(&w, 3); /* hinting not configured: refused */
	seed_add(s, &n, "bad", &w);
	return n;
}
#endif
