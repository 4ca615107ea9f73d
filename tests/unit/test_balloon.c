// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon (virtio/balloon.c) through the device model: created from
 * its registered type and driven by a fake driver (vdriver.h) over the MMIO
 * bus ops, its loop run by hand.  Guest RAM is a real anonymous mapping, so
 * an inflated page must really read back as zero (MADV_DONTNEED happened).
 * One test per kind of bad input: the device answers, counts and lives on.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "balloon.h"

#define RAM	 0x800000ull /* 8 MiB at 0, and 1 MiB at HIGH */
#define HIGH	 0x1000000ull
#define HIGH_LEN 0x100000ull
#define QSIZE	 16
#define BUF	 0x100000ull /* request payloads */
#define PAGES	 0x400000ull /* the pages the guest gives up */
#define PG	 4096ull
#define F(x)	 (1ull << VIRTIO_BALLOON_F_##x)
#define RIG_NQ	 5

static const uint64_t qbase[RIG_NQ] = {0x10000, 0x14000, 0x18000, 0x1c000, 0x20000};

#include "devrig.h"

static void *map(uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/* The balloon from settings @cfg; the driver accepts @accept of what it offers (and VERSION_1). */
static void up_cfg(struct rig *r, const void *cfg, uint64_t accept)
{
	const struct vdev_env env = {.gm = &r->gm, .loop = &r->loop};
	unsigned nq;

	log_set_level(LOG_ERROR);
	memset(r, 0, sizeof(*r));
	r->gm.region[0] = (struct gm_region){.gpa = 0, .size = RAM, .host = map(RAM)};
	r->gm.region[1] = (struct gm_region){.gpa = HIGH, .size = HIGH_LEN, .host = map(HIGH_LEN)};
	r->gm.nr_regions = 2;
	r->loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	r->type = vdev_type_find("balloon");
	assert_non_null(r->type);
	assert_int_equal(r->type->create(&r->dev, cfg, &env), 0);
	r->t = r->type->transport(r->dev);
	nq = r->t->ops->num_queues;
	wr(r, VIRTIO_MMIO_STATUS, 0);
	wr(r, VIRTIO_MMIO_STATUS, 3);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(dev_features(r) & accept));
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(r, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	wr(r, VIRTIO_MMIO_STATUS, 0xb);
	vd_queues(r, nq, qbase, QSIZE);
	wr(r, VIRTIO_MMIO_STATUS, S_ALL);
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
	loop_settle(&r->loop, 50);
}

/* The balloon from the CLI's @spec. */
static void up(struct rig *r, const char *spec, uint64_t accept)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	char err[100];

	assert_int_equal(vdev_type_find("balloon")->parse(spec, cfg, err, sizeof(err)), 0);
	up_cfg(r, cfg, accept);
}

static void down(struct rig *r)
{
	r->type->destroy(r->dev);
	close(r->loop.epfd);
	munmap(r->gm.region[0].host, RAM);
	munmap(r->gm.region[1].host, HIGH_LEN);
	free(r->gm.region[0].dirty);
}

static void kick(struct rig *r, unsigned q)
{
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	loop_settle(&r->loop, 50);
}

/* One readable request of @n PFNs on queue @q. */
static void pfn_request(struct rig *r, unsigned q, const uint32_t *pfn, unsigned n)
{
	const struct seg s = {BUF, 4 * n, false};

	for (unsigned i = 0; i < n; i++) {
		uint32_t v = htole32(pfn[i]);

		put(r, BUF + 4 * i, &v, 4);
	}
	add_chain(r, q, &s, 1);
	kick(r, q);
}

static void fill(struct rig *r, uint64_t gpa, uint64_t len)
{
	memset(gm_ptr(&r->gm, gpa, len), 0xab, len);
}

static bool zero(struct rig *r, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = gm_ptr(&r->gm, gpa, len);

	for (uint64_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static uint64_t metric(struct rig *r, const char *key)
{
	json_t *m = r->type->metrics(r->dev);
	uint64_t v = (uint64_t)json_integer_value(json_object_get(m, key));

	json_decref(m);
	return v;
}

static uint32_t cfg32(struct rig *r, unsigned off)
{
	return rd32(r, VIRTIO_MMIO_CONFIG + off);
}

static bool healthy(struct rig *r)
{
	return !(rd32(r, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* ---- inflate and deflate -------------------------------------------------------- */

static void test_inflate_gives_pages_back(void **state)
{
	struct rig r;
	const uint32_t pfns[] = {PAGES / PG + 2, PAGES / PG, PAGES / PG + 1, PAGES / PG + 7};

	(void)state;
	up(&r, "amount_mib=4", ~0ull);
	fill(&r, PAGES, 8 * PG);
	pfn_request(&r, 0, pfns, 4);
	assert_int_equal(used_count(&r, 0), 1);
	assert_true(zero(&r, PAGES, 3 * PG));
	assert_false(zero(&r, PAGES + 3 * PG, 4 * PG)); /* not asked for: untouched */
	assert_true(zero(&r, PAGES + 7 * PG, PG));
	assert_int_equal(metric(&r, "inflated_pages"), 4);
	/* Deflate only counts: the guest's next touch brings the page back. */
	pfn_request(&r, 1, pfns, 2);
	assert_int_equal(used_count(&r, 1), 1);
	assert_int_equal(metric(&r, "deflated_pages"), 2);
	/* Firecracker's names count requests (chains), not pages. */
	assert_int_equal(metric(&r, "inflate_count"), 1);
	assert_int_equal(metric(&r, "deflate_count"), 1);
	assert_int_equal(metric(&r, "activate_fails") + metric(&r, "event_fails"), 0);
	assert_true(healthy(&r));
	down(&r);
}

static void test_config_space(void **state)
{
	struct rig r;
	uint32_t gen;

	(void)state;
	up(&r, "amount_mib=3", ~0ull);
	assert_int_equal(cfg32(&r, 0), 3 * 256);
	assert_int_equal(cfg32(&r, 4), 0);
	wr(&r, VIRTIO_MMIO_CONFIG + 4, 700); /* the driver's "actual" */
	assert_int_equal(cfg32(&r, 4), 700);
	wr(&r, VIRTIO_MMIO_CONFIG + 0, 1); /* num_pages is the host's: ignored */
	assert_int_equal(cfg32(&r, 0), 3 * 256);
	gen = rd32(&r, VIRTIO_MMIO_CONFIG_GENERATION);
	assert_int_equal(vballoon_set_target(r.dev, 5), 0);
	assert_int_equal(cfg32(&r, 0), 5 * 256);
	assert_int_not_equal(rd32(&r, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_true(rd32(&r, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* More than the guest has (9 MiB here): refused, the target stays. */
	assert_int_equal(vballoon_set_target(r.dev, 10), -EINVAL);
	assert_int_equal(cfg32(&r, 0), 5 * 256);
	assert_int_equal(vballoon_set_target(r.dev, 9), 0);
	/* A reset forgets what the guest said, not the host's target. */
	wr(&r, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(cfg32(&r, 4), 0);
	assert_int_equal(cfg32(&r, 0), 9 * 256);
	/* Not live: Firecracker's "Device not activated yet". */
	assert_int_equal(vballoon_set_target(r.dev, 1), -EAGAIN);
	down(&r);
}

static void test_features_and_queues(void **state)
{
	struct rig r;
	const struct seg s = {BUF, 4 * PG, true};

	(void)state;
	up(&r, "amount_mib=0", ~0ull);
	assert_int_equal(dev_features(&r) & 0xffffffffull, 0);
	assert_int_equal(r.t->ops->num_queues, 2);
	down(&r);
	up(&r,
	   "amount_mib=1,deflate_on_oom,stats_polling_interval_s=60,free_page_hinting,"
	   "free_page_reporting",
	   ~0ull);
	assert_int_equal(dev_features(&r) & 0xffffffffull,
			 F(STATS_VQ) | F(DEFLATE_ON_OOM) | F(FREE_PAGE_HINT) | F(REPORTING));
	assert_int_equal(r.t->ops->num_queues, 5);
	down(&r);
	/* A driver without statistics and hinting numbers reporting 2, as Linux does. */
	up(&r, "stats_polling_interval_s=60,free_page_hinting,free_page_reporting", F(REPORTING));
	fill(&r, PAGES, 4 * PG);
	add_chain(&r, 2, &(struct seg){PAGES, 4 * PG, true}, 1);
	kick(&r, 2);
	assert_int_equal(used_count(&r, 2), 1);
	assert_true(zero(&r, PAGES, 4 * PG));
	/* ... and a queue it set up without a feature is ignored. */
	add_chain(&r, 3, &s, 1);
	kick(&r, 3);
	assert_int_equal(used_count(&r, 3), 0);
	assert_true(healthy(&r));
	down(&r);
}

/* ---- bad input ------------------------------------------------------------------- */

static void test_pfns_outside_ram(void **state)
{
	struct rig r;
	/* RAM's last page, the gap above it, a page of the high region, far away. */
	const uint32_t pfns[] = {RAM / PG - 1, RAM / PG, RAM / PG + 1, HIGH / PG, 0xffffffffu};

	(void)state;
	up(&r, "amount_mib=1", ~0ull);
	fill(&r, RAM - PG, PG);
	fill(&r, HIGH, PG);
	pfn_request(&r, 0, pfns, 5);
	assert_int_equal(used_count(&r, 0), 1);
	assert_true(zero(&r, RAM - PG, PG));
	assert_true(zero(&r, HIGH, PG));
	assert_int_equal(metric(&r, "inflated_pages"), 2);
	assert_int_equal(metric(&r, "outside_bytes"), 3 * PG);
	assert_true(healthy(&r));
	down(&r);
}

static void test_malformed_inflate(void **state)
{
	struct rig r;
	const struct seg writable = {BUF, 8, true};
	const struct seg odd = {BUF, 6, false};
	const struct seg huge = {BUF, 4 * 1025, false};
	const struct seg outside = {RAM - 4, 8, false};
	const uint32_t pfn = htole32(PAGES / PG);

	(void)state;
	up(&r, "amount_mib=1", ~0ull);
	fill(&r, PAGES, PG);
	put(&r, BUF, &pfn, 4);
	put(&r, BUF + 4, &pfn, 4);
	add_chain(&r, 0, &writable, 1);
	add_chain(&r, 0, &odd, 1);
	add_chain(&r, 0, &huge, 1);
	add_chain(&r, 0, &outside, 1);
	kick(&r, 0);
	/* All four returned, none served: the page is still the guest's. */
	assert_int_equal(used_count(&r, 0), 4);
	assert_false(zero(&r, PAGES, PG));
	assert_int_equal(metric(&r, "bad_chains"), 4);
	assert_int_equal(metric(&r, "inflated_pages"), 0);
	assert_true(healthy(&r));
	/* The device still serves a good request after them. */
	pfn_request(&r, 0, (const uint32_t[]){PAGES / PG}, 1);
	assert_true(zero(&r, PAGES, PG));
	down(&r);
}

static void test_inflate_past_memory(void **state)
{
	struct rig r;
	uint32_t pfns[256];

	(void)state;
	up(&r, "amount_mib=9", ~0ull);
	/* More pages than the guest has (the upper 4 MiB, four times over; the
	 * rings are below) and a driver claiming more than exists: no harm. */
	for (unsigned round = 0; round < 2 * (RAM / PG) / 256; round++) {
		for (unsigned i = 0; i < 256; i++)
			pfns[i] = (uint32_t)(PAGES / PG + (round * 256 + i) % ((RAM - PAGES) / PG));
		pfn_request(&r, 0, pfns, 256);
		r.used_seen[0] = get16(&r, qbase[0] + 0x2002);
	}
	wr(&r, VIRTIO_MMIO_CONFIG + 4, 0xffffffffu);
	assert_int_equal(metric(&r, "inflated_pages"), 2 * RAM / PG);
	assert_int_equal(cfg32(&r, 4), 0xffffffffu);
	assert_true(healthy(&r));
	down(&r);
}

/* ---- statistics ------------------------------------------------------------------ */

static void stat_at(struct rig *r, uint64_t gpa, uint16_t tag, uint64_t val)
{
	uint16_t t = htole16(tag);
	uint64_t v = htole64(val);

	put(r, gpa, &t, 2);
	put(r, gpa + 2, &v, 8);
}

static void test_stats(void **state)
{
	struct rig r;
	uint32_t target, actual;
	struct vballoon_stats st;
	const struct seg s = {BUF, 30, false};

	(void)state;
	up(&r, "amount_mib=2,stats_polling_interval_s=1", ~0ull);
	stat_at(&r, BUF, VIRTIO_BALLOON_S_MEMFREE, 5000);
	stat_at(&r, BUF + 10, VIRTIO_BALLOON_S_AVAIL, 7000);
	stat_at(&r, BUF + 20, 99, 1); /* a tag from a newer kernel: skipped */
	add_chain(&r, 2, &s, 1);
	kick(&r, 2);
	/* Held: the guest gets it back when the timer asks for fresh numbers. */
	assert_int_equal(used_count(&r, 2), 0);
	wr(&r, VIRTIO_MMIO_CONFIG + 4, 256);
	assert_int_equal(vballoon_get_stats(r.dev, &target, &actual, &st), 0);
	assert_int_equal(target, 512);
	assert_int_equal(actual, 256);
	assert_int_equal(st.present, 1u << 4 | 1u << 6);
	assert_int_equal(st.val[4], 5000);
	assert_int_equal(st.val[6], 7000);
	assert_int_equal(metric(&r, "stats_unknown_tags"), 1);
	assert_int_equal(metric(&r, "stats_update_fails"), 1); /* Firecracker's name */
	assert_int_equal(metric(&r, "stats_updates_count"), metric(&r, "stats_updates"));
	/* The timer (1 s) returns it, without any kick. */
	assert_true(loop_run_once(&r.loop, 3000) > 0);
	assert_int_equal(used_count(&r, 2), 1);
	down(&r);
}

static void test_stats_interval_rules(void **state)
{
	struct rig r;
	uint32_t a, b;
	struct vballoon_stats st;
	const struct seg s = {BUF, 10, false};

	(void)state;
	up(&r, "amount_mib=2", ~0ull);
	assert_int_equal(vballoon_get_stats(r.dev, &a, &b, &st), -ENOTSUP);
	assert_int_equal(vballoon_set_stats_interval(r.dev, 5), -EINVAL); /* off stays off */
	assert_int_equal(vballoon_set_stats_interval(r.dev, 0), 0);
	down(&r);
	up(&r, "stats_polling_interval_s=60", ~0ull);
	add_chain(&r, 2, &s, 1);
	kick(&r, 2);
	assert_int_equal(used_count(&r, 2), 0);
	assert_int_equal(vballoon_set_stats_interval(r.dev, 0), -EINVAL); /* on stays on */
	assert_int_equal(used_count(&r, 2), 0);
	/* A new interval asks for fresh statistics at once. */
	assert_int_equal(vballoon_set_stats_interval(r.dev, 30), 0);
	assert_int_equal(used_count(&r, 2), 1);
	down(&r);
}

static void test_stats_malformed(void **state)
{
	struct rig r;
	uint32_t a, b;
	struct vballoon_stats st;
	const struct seg writable = {BUF, 10, true};
	const struct seg huge = {BUF, 2561, false};

	(void)state;
	up(&r, "stats_polling_interval_s=60", ~0ull);
	stat_at(&r, BUF, VIRTIO_BALLOON_S_MEMTOT, 1);
	add_chain(&r, 2, &writable, 1);
	kick(&r, 2);
	/* Held all the same (no ping-pong with a broken driver), not read. */
	assert_int_equal(used_count(&r, 2), 0);
	/* A second buffer: the first goes back, the oversized one is held unread. */
	add_chain(&r, 2, &huge, 1);
	kick(&r, 2);
	assert_int_equal(used_count(&r, 2), 1);
	assert_int_equal(vballoon_get_stats(r.dev, &a, &b, &st), 0);
	assert_int_equal(st.present, 0);
	assert_int_equal(metric(&r, "bad_chains"), 2);
	assert_true(healthy(&r));
	down(&r);
}

/* ---- free page reporting and hinting ------------------------------------------- */

static void test_reporting(void **state)
{
	struct rig r;
	const struct seg blocks[4] = {
	    {PAGES, 2 * PG, true},		   /* fine */
	    {HIGH + HIGH_LEN - PG, 2 * PG, true},  /* half outside RAM */
	    {PAGES + 4 * PG + 1, PG, true},	   /* unaligned */
	    {0xfffffffffffff000ull, 0x2000, true}, /* wraps */
	};

	(void)state;
	up(&r, "free_page_reporting", ~0ull);
	fill(&r, PAGES, 8 * PG);
	fill(&r, HIGH + HIGH_LEN - PG, PG);
	add_chain(&r, 2, blocks, 4);
	kick(&r, 2);
	assert_int_equal(used_count(&r, 2), 1);
	assert_true(zero(&r, PAGES, 2 * PG));
	assert_true(zero(&r, HIGH + HIGH_LEN - PG, PG));
	assert_false(zero(&r, PAGES + 4 * PG, PG));
	assert_int_equal(metric(&r, "free_page_report_freed"), 3 * PG);
	/* Per block, as Firecracker: three of the four not wholly given back. */
	assert_int_equal(metric(&r, "free_page_report_count"), 4);
	assert_int_equal(metric(&r, "free_page_report_fails"), 3);
	assert_true(healthy(&r));
	down(&r);
}

static void hint_cmd(struct rig *r, uint32_t cmd)
{
	uint32_t v = htole32(cmd);
	const struct seg s = {BUF + 0x800, 4, false};

	put(r, BUF + 0x800, &v, 4);
	add_chain(r, 2, &s, 1);
	kick(r, 2);
}

static void test_hinting(void **state)
{
	struct rig r;
	uint32_t host, guest;
	bool has;
	const struct seg block = {PAGES, 4 * PG, true};

	(void)state;
	up(&r, "amount_mib=0", ~0ull);
	assert_int_equal(vballoon_hint_start(r.dev, true), -ENOTSUP);
	assert_int_equal(vballoon_hint_status(r.dev, &host, &has, &guest), -ENOTSUP);
	down(&r);
	up(&r, "free_page_hinting", ~0ull);
	assert_int_equal(cfg32(&r, 8), VBALLOON_HINT_STOP);
	assert_int_equal(vballoon_hint_status(r.dev, &host, &has, &guest), 0);
	assert_false(has);
	/* A block before any run: stale, returned untouched. */
	fill(&r, PAGES, 4 * PG);
	add_chain(&r, 2, &block, 1);
	kick(&r, 2);
	assert_false(zero(&r, PAGES, 4 * PG));
	assert_int_equal(vballoon_hint_start(r.dev, true), 0);
	assert_int_equal(cfg32(&r, 8), 2);
	/* The guest answers with the run's id, then a block: given back. */
	hint_cmd(&r, 2);
	add_chain(&r, 2, &block, 1);
	kick(&r, 2);
	assert_true(zero(&r, PAGES, 4 * PG));
	assert_int_equal(metric(&r, "free_page_hint_freed"), 4 * PG);
	/* A block tagged with an old run id is stale. */
	hint_cmd(&r, 7);
	fill(&r, PAGES, 4 * PG);
	add_chain(&r, 2, &block, 1);
	kick(&r, 2);
	assert_false(zero(&r, PAGES, 4 * PG));
	/* Only blocks of the current run count, as in Firecracker. */
	assert_int_equal(metric(&r, "free_page_hint_count"), 1);
	assert_int_equal(metric(&r, "free_page_hint_fails"), 0);
	/* STOP from the guest: acknowledged with DONE. */
	hint_cmd(&r, VBALLOON_HINT_STOP);
	assert_int_equal(cfg32(&r, 8), VBALLOON_HINT_DONE);
	assert_int_equal(vballoon_hint_status(r.dev, &host, &has, &guest), 0);
	assert_int_equal(host, VBALLOON_HINT_DONE);
	assert_true(has);
	assert_int_equal(guest, VBALLOON_HINT_STOP);
	/* Without acknowledge_on_stop the host stops it itself. */
	assert_int_equal(vballoon_hint_start(r.dev, false), 0);
	assert_int_equal(cfg32(&r, 8), 3);
	hint_cmd(&r, VBALLOON_HINT_STOP);
	assert_int_equal(cfg32(&r, 8), 3);
	assert_int_equal(vballoon_hint_stop(r.dev), 0);
	assert_int_equal(cfg32(&r, 8), VBALLOON_HINT_DONE);
	assert_true(healthy(&r));
	down(&r);
}

/* ---- gm_discard -------------------------------------------------------------------- */

static void test_gm_discard(void **state)
{
	struct rig r;

	(void)state;
	up(&r, "amount_mib=0", ~0ull);
	r.gm.region[0].dirty = calloc(RAM / PG / 64, 8);
	fill(&r, PAGES, 2 * PG);
	assert_int_equal(gm_discard(&r.gm, PAGES, 0), -EINVAL);
	assert_int_equal(gm_discard(&r.gm, PAGES + 1, PG), -EINVAL);
	assert_int_equal(gm_discard(&r.gm, PAGES, PG + 1), -EINVAL);
	assert_int_equal(gm_discard(&r.gm, RAM - PG, 2 * PG), -EFAULT);
	assert_int_equal(gm_discard(&r.gm, 0xfffffffffffff000ull, 0x2000), -EFAULT);
	assert_false(zero(&r, PAGES, 2 * PG));
	assert_int_equal(r.gm.region[0].dirty[PAGES / PG / 64], 0);
	assert_int_equal(gm_discard(&r.gm, PAGES, 2 * PG), 0);
	assert_true(zero(&r, PAGES, 2 * PG));
	/* A Diff snapshot must store the page: it no longer reads as it did. */
	assert_int_equal(r.gm.region[0].dirty[PAGES / PG / 64] >> (PAGES / PG % 64) & 3, 3);
	down(&r);
}

/* Shared RAM (a memfd): the pages leave the file too, or the host gets nothing back. */
static void test_gm_discard_shared(void **state)
{
	struct guest_mem gm = {.nr_regions = 1};
	int fd = memfd_create("balloon-test", MFD_CLOEXEC);
	struct stat st;
	uint8_t *p;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * PG), 0);
	p = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	gm.region[0] = (struct gm_region){.gpa = 0, .size = 64 * PG, .host = p, .shared = true};
	memset(p, 0xab, 64 * PG);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= 64 * PG);
	assert_int_equal(gm_discard(&gm, 16 * PG, 32 * PG), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 <= 32 * PG);
	assert_int_equal(p[16 * PG], 0);
	assert_int_equal(p[48 * PG - 1], 0);
	assert_int_equal(p[48 * PG], 0xab);
	munmap(p, 64 * PG);
	close(fd);
}

/* ---- snapshots ---------------------------------------------------------------------- */

static void test_state_kept(void **state)
{
	struct rig r;
	struct vballoon_config c, good;
	struct pw w;
	struct pr rd;
	const char *why;
	const struct seg s = {BUF, 10, false};

	(void)state;
	up(&r, "amount_mib=3,stats_polling_interval_s=60,free_page_hinting", ~0ull);
	stat_at(&r, BUF, VIRTIO_BALLOON_S_MINFLT, 42);
	add_chain(&r, 2, &s, 1);
	kick(&r, 2);
	wr(&r, VIRTIO_MMIO_CONFIG + 4, 512);
	assert_int_equal(vballoon_hint_start(r.dev, true), 0);
	/* The held statistics buffer goes back to the ring in the saved state. */
	assert_int_equal(r.t->ops->held(r.dev, 2), 1);
	assert_int_equal(r.t->ops->held(r.dev, 0), 0);
	pw_init(&w);
	r.type->save(r.type->config(r.dev), &w);
	memset(&c, 0, sizeof(c));
	pr_init(&rd, w.buf, w.len);
	r.type->load(&rd, r.type->state_version, &c);
	assert_int_equal(pr_finish(&rd, &why), 0);
	assert_int_equal(c.amount_mib, 3);
	assert_int_equal(c.actual_pages, 512);
	assert_int_equal(c.hint_cmd, 2);
	assert_true(c.hint_ack_on_stop);
	assert_int_equal(c.stats.present, 1u << VIRTIO_BALLOON_S_MINFLT);
	assert_int_equal(c.stats.val[VIRTIO_BALLOON_S_MINFLT], 42);
	good = c;
	/* Corrupt: a target over 2^32 pages, unknown tags, a run without hinting. */
	{
		size_t amount = 2 + 7, present = w.len - 8 * VBALLOON_NR_STATS - 4;
		uint8_t save_b = w.buf[amount + 3];

		w.buf[amount + 3] = 0xff;
		pr_init(&rd, w.buf, w.len);
		r.type->load(&rd, 1, &c);
		assert_int_equal(pr_finish(&rd, &why), -EINVAL);
		assert_string_equal(why, "a balloon target of more than 2^32 pages");
		w.buf[amount + 3] = save_b;
		w.buf[present + 2] = 1;
		pr_init(&rd, w.buf, w.len);
		r.type->load(&rd, 1, &c);
		assert_int_equal(pr_finish(&rd, &why), -EINVAL);
		assert_string_equal(why, "statistics with unknown tags");
		w.buf[present + 2] = 0;
		w.buf[amount + 4 + 1] = 0; /* free_page_hinting */
		pr_init(&rd, w.buf, w.len);
		r.type->load(&rd, 1, &c);
		assert_int_equal(pr_finish(&rd, &why), -EINVAL);
		assert_string_equal(why, "a hinting run without free page hinting");
	}
	pw_free(&w);
	/* Restored as a snapshot load does it: a device from the loaded
	 * settings, then the saved transport state. */
	{
		const struct vdev_env env = {.gm = &r.gm, .loop = &r.loop};
		struct virtio_mmio_state ms;
		char err[200];
		void *old = r.dev;

		virtio_mmio_get_state(r.t, &ms);
		r.type->destroy(old);
		assert_int_equal(r.type->create(&r.dev, &good, &env), 0);
		r.t = r.type->transport(r.dev);
		if (virtio_mmio_restore(r.t, &ms, err, sizeof(err)))
			fail_msg("%s", err);
		loop_settle(&r.loop, 50);
	}
	assert_true(healthy(&r));
	assert_int_equal(cfg32(&r, 0), 3 * 256);
	assert_int_equal(cfg32(&r, 4), 512);
	/* The run under way at the snapshot ends (DONE), as in Firecracker. */
	assert_int_equal(cfg32(&r, 8), VBALLOON_HINT_DONE);
	/* The statistics buffer the snapshot gave back is taken again and held. */
	assert_int_equal(r.t->ops->held(r.dev, 2), 1);
	assert_int_equal(used_count(&r, 2), 0);
	assert_int_equal(vballoon_set_stats_interval(r.dev, 30), 0);
	assert_int_equal(used_count(&r, 2), 1);
	down(&r);
}

static void test_cli_spec(void **state)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX];
	const struct vballoon_config *c = (const void *)cfg;
	const struct vdev_type *t = vdev_type_by_opt("--balloon");
	char err[100];

	(void)state;
	assert_non_null(t);
	assert_int_equal(t->parse("amount_mib=12,deflate_on_oom,stats_polling_interval_s=7,"
				  "free_page_reporting",
				  cfg, err, sizeof(err)),
			 0);
	assert_int_equal(c->amount_mib, 12);
	assert_true(c->deflate_on_oom);
	assert_int_equal(c->stats_interval_s, 7);
	assert_true(c->free_page_reporting);
	assert_false(c->free_page_hinting);
	assert_int_equal(t->parse("amount_mib=x", cfg, err, sizeof(err)), -EINVAL);
	assert_int_equal(t->parse("amount_mib=16777216", cfg, err, sizeof(err)), -EINVAL);
	assert_int_equal(t->parse("stats_polling_interval_s=65536", cfg, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(t->parse("amount_mib=1,bogus", cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown balloon option 'bogus'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inflate_gives_pages_back),
	    cmocka_unit_test(test_config_space),
	    cmocka_unit_test(test_features_and_queues),
	    cmocka_unit_test(test_pfns_outside_ram),
	    cmocka_unit_test(test_malformed_inflate),
	    cmocka_unit_test(test_inflate_past_memory),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_stats_interval_rules),
	    cmocka_unit_test(test_stats_malformed),
	    cmocka_unit_test(test_reporting),
	    cmocka_unit_test(test_hinting),
	    cmocka_unit_test(test_gm_discard),
	    cmocka_unit_test(test_gm_discard_shared),
	    cmocka_unit_test(test_state_kept),
	    cmocka_unit_test(test_cli_spec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
