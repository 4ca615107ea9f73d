// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mem (virtio/mem.c) through the device model with a fake VMM behind
 * vdev_mem_ops: plugging and unplugging blocks maps and unmaps whole slots,
 * the config space follows, PATCH's requested size bounds what the guest may
 * plug; every bad request (blocks not offered, outside the usable region,
 * misaligned, none, in the wrong state, of an unknown type, malformed) gets
 * an error and the device goes on.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_mem.h>

#define RAM   0x400000
#define QSIZE 64
#define REQ   0x100000
#define RESP  0x100100

static const uint64_t qbase[1] = {0x10000};

#include "devrig.h"
#include "mem.h"

#define GPA GiB(4)

struct fake_vmm {
	int maps, unmaps, mapped, exposed;
	int fail_map;
};

static int fake_reserve(void *vmm, uint64_t size, uint64_t align, uint64_t *gpa)
{
	(void)vmm;
	assert_true(align == MiB(128) && size == MiB(256));
	*gpa = GPA;
	return 0;
}

static int fake_map(void *vmm, uint64_t gpa, void *host, uint64_t size, bool ro)
{
	struct fake_vmm *f = vmm;

	assert_true(gpa >= GPA && gpa + size <= GPA + MiB(256) && size == MiB(128) && !ro && host);
	if (f->fail_map)
		return f->fail_map;
	f->maps++;
	f->mapped++;
	return f->maps;
}

static void fake_unmap(void *vmm, int slot)
{
	struct fake_vmm *f = vmm;

	assert_true(slot > 0 && slot <= f->maps);
	f->unmaps++;
	f->mapped--;
}

static int fake_expose(void *vmm, uint64_t gpa, void *host, uint64_t size)
{
	(void)host;
	assert_true(gpa == GPA && size == MiB(256));
	((struct fake_vmm *)vmm)->exposed++;
	return 0;
}

static void fake_hide(void *vmm, uint64_t gpa)
{
	assert_true(gpa == GPA);
	((struct fake_vmm *)vmm)->exposed--;
}

static const struct vdev_mem_ops fake_ops = {.reserve = fake_reserve,
					     .map = fake_map,
					     .unmap = fake_unmap,
					     .expose = fake_expose,
					     .hide = fake_hide};

static uint64_t cfg64(struct rig *r, unsigned off)
{
	return rd32(r, 0x100 + off) | (uint64_t)rd32(r, 0x100 + off + 4) << 32;
}

/* One request; returns the response type (and *state), or -1 if none was written. */
static int request(struct rig *r, uint16_t type, uint64_t addr, uint16_t nb, uint16_t *state)
{
	const struct seg s[2] = {{REQ, 24, false}, {RESP, 10, true}};
	uint8_t req[24] = {0}, resp[10];
	uint16_t before = used_count(r, 0), v;
	uint32_t len;

	type = htole16(type);
	addr = htole64(addr);
	nb = htole16(nb);
	memcpy(req, &type, 2);
	memcpy(req + 8, &addr, 8);
	memcpy(req + 16, &nb, 2);
	put(r, REQ, req, sizeof(req));
	memset(at(r, RESP), 0xee, 10);
	add_chain(r, 0, s, 2);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(r);
	assert_int_equal(used_count(r, 0), (uint16_t)(before + 1));
	assert_int_equal(
	    gm_read(&r->gm, qbase[0] + 0x2000 + 4 + 8 * (uint64_t)(before % QSIZE) + 4, &len, 4),
	    0);
	if (le32toh(len) != 10)
		return -1;
	memcpy(resp, at(r, RESP), 10);
	memcpy(&v, resp + 8, 2);
	if (state)
		*state = le16toh(v);
	memcpy(&v, resp, 2);
	return le16toh(v);
}

static int update(struct rig *r, const char *v)
{
	return r->type->update(r->dev, "requested_size_mib", v);
}

static void test_plug_unplug(void **state)
{
	struct fake_vmm f = {0};
	struct rig r = {.mops = &fake_ops, .vmm = &f};
	uint16_t st;
	json_t *s;

	(void)state;
	rig_up(&r, "mem", "256", NULL);
	assert_int_equal(f.exposed, 1);
	assert_true(cfg64(&r, 0) == MiB(2));	/* block_size */
	assert_true(cfg64(&r, 16) == GPA);	/* addr */
	assert_true(cfg64(&r, 24) == MiB(256)); /* region_size */
	assert_true(cfg64(&r, 32) == 0);	/* usable_region_size */
	/* Nothing requested yet: nothing may be plugged. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(update(&r, "130"), 0);
	assert_true(cfg64(&r, 48) == MiB(130));			 /* requested_size */
	assert_true(cfg64(&r, 32) == MiB(256));			 /* usable: whole slots */
	assert_true(rd32(&r, VIRTIO_MMIO_INTERRUPT_STATUS) & 2); /* config changed */
	/* 64 blocks: the first slot is mapped. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 64, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(f.mapped, 1);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA + MiB(128), 1, NULL),
			 VIRTIO_MEM_RESP_ACK);
	assert_int_equal(f.mapped, 2);
	assert_true(cfg64(&r, 40) == MiB(130)); /* plugged_size */
	/* Beyond the requested size: NACK, nothing changes. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA + MiB(130), 1, NULL),
			 VIRTIO_MEM_RESP_NACK);
	assert_true(cfg64(&r, 40) == MiB(130));
	/* State of plugged, mixed and unplugged ranges. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_STATE, GPA, 64, &st), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(st, VIRTIO_MEM_STATE_PLUGGED);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_STATE, GPA + MiB(126), 4, &st),
			 VIRTIO_MEM_RESP_ACK);
	assert_int_equal(st, VIRTIO_MEM_STATE_MIXED);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_STATE, GPA + MiB(200), 4, &st),
			 VIRTIO_MEM_RESP_ACK);
	assert_int_equal(st, VIRTIO_MEM_STATE_UNPLUGGED);
	/* Unplugging the second slot's only block unmaps it. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_UNPLUG, GPA + MiB(128), 1, NULL),
			 VIRTIO_MEM_RESP_ACK);
	assert_int_equal(f.mapped, 1);
	assert_true(cfg64(&r, 40) == MiB(128));
	s = r.type->status(r.dev);
	assert_int_equal(json_integer_value(json_object_get(s, "plugged_size_mib")), 128);
	assert_int_equal(json_integer_value(json_object_get(s, "requested_size_mib")), 130);
	assert_int_equal(json_integer_value(json_object_get(s, "total_size_mib")), 256);
	json_decref(s);
	/* Unplug all: every slot goes. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(f.mapped, 0);
	assert_true(cfg64(&r, 40) == 0);
	assert_int_equal(rd32(&r, VIRTIO_MMIO_STATUS), S_ALL);
	rig_down(&r);
	assert_int_equal(f.exposed, 0);
}

static void test_bad_requests(void **state)
{
	struct fake_vmm f = {0};
	struct rig r = {.mops = &fake_ops, .vmm = &f};
	const struct seg no_resp = {REQ, 24, false};
	const struct seg short_req[2] = {{REQ, 16, false}, {RESP, 10, true}};
	const struct seg short_resp[2] = {{REQ, 24, false}, {RESP, 8, true}};
	const struct seg outside[2] = {{RAM - 8, 24, false}, {RESP, 10, true}};
	json_t *m;

	(void)state;
	rig_up(&r, "mem", "256,slot=128,block=4", NULL);
	assert_int_equal(update(&r, "128"), 0);
	assert_true(cfg64(&r, 32) == MiB(128)); /* usable: the first slot only */
	/* Blocks not offered (past the usable region), misaligned, none, below, wrapping. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA + MiB(128), 1, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA + MiB(2), 1, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 0, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA - MiB(4), 1, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, UINT64_MAX - MiB(4) + 1, 2, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_STATE, GPA + MiB(124), 2, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 0xffff, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	/* Wrong state: unplugging what is not plugged, plugging what is. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_UNPLUG, GPA, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 2, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA + MiB(4), 2, NULL),
			 VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_UNPLUG, GPA, 3, NULL), VIRTIO_MEM_RESP_ERROR);
	/* Unknown types. */
	assert_int_equal(request(&r, 4, GPA, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_int_equal(request(&r, 0xffff, GPA, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	/* No slot for it at the VMM: an error, and nothing counted as plugged. */
	f.fail_map = -ENOSPC;
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 1, NULL), VIRTIO_MEM_RESP_ERROR);
	assert_true(cfg64(&r, 40) == 0);
	f.fail_map = 0;
	/* Malformed chains come back with nothing written. */
	add_chain(&r, 0, &no_resp, 1);
	add_chain(&r, 0, short_req, 2);
	add_chain(&r, 0, short_resp, 2);
	add_chain(&r, 0, outside, 2);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	/* ... and the device still works. */
	assert_int_equal(request(&r, VIRTIO_MEM_REQ_PLUG, GPA, 1, NULL), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(rd32(&r, VIRTIO_MMIO_STATUS), S_ALL);
	m = r.type->metrics(r.dev);
	assert_int_equal(json_integer_value(json_object_get(m, "bad_chains")), 4);
	json_decref(m);
	/* Sizes the API may not ask for. */
	assert_int_equal(update(&r, "130"), -EINVAL); /* not a multiple of 4 MiB */
	assert_int_equal(update(&r, "260"), -EINVAL); /* more than the region */
	assert_int_equal(update(&r, "-4"), -EINVAL);
	assert_int_equal(update(&r, "x"), -EINVAL);
	assert_int_equal(r.type->update(r.dev, "total_size_mib", "128"), -EINVAL);
	assert_true(cfg64(&r, 48) == MiB(128));
	rig_down(&r);
}

static void test_settings(void **state)
{
	const struct vdev_type *t = vdev_type_find("mem");
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX];
	static const char *const bad[] = {"",
					  "0",
					  "100",
					  "256,slot=64",
					  "256,block=3",
					  "256,block=1",
					  "384,slot=256",
					  "256,x=1",
					  "256,slot=",
					  "abc"};
	char err[200];

	(void)state;
	assert_int_equal(t->parse("1024,slot=256,block=8", cfg, err, sizeof(err)), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		if (!t->parse(bad[i], cfg, err, sizeof(err)))
			fail_msg("'%s' accepted", bad[i]);
}

/* Saves @c (state version 2) and loads it back into @out: 0 or -EINVAL. */
static int state_roundtrip(const struct vmem_config *c, size_t cut, uint16_t version, int n_word,
			   struct vmem_config *out)
{
	const struct vdev_type *t = vdev_type_find("mem");
	const char *why;
	struct pw w;
	struct pr r;
	int ret;

	pw_init(&w);
	t->save(c, &w);
	assert_int_equal(w.err, 0);
	if (n_word >= 0) /* the bitmap's word count, u32 after id, sizes, gpa and 3 u64 */
		w.buf[2 + strlen(c->id) + 12 + 8 + 24] = (uint8_t)n_word;
	memset(out, 0, sizeof(*out));
	pr_init(&r, w.buf, cut ? cut : w.len);
	t->load(&r, version, out);
	ret = pr_finish(&r, &why);
	pw_free(&w);
	return ret;
}

/* The snapshot state: plugged blocks and offsets round-trip; every corruption is refused. */
static void test_state(void **state)
{
	const struct vdev_type *t = vdev_type_find("mem");
	struct vmem_config c, bad, out;
	char err[200];

	(void)state;
	assert_int_equal(t->state_version, 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(t->parse("512", &c, err, sizeof(err)), 0); /* 256 blocks of 2 MiB */
	strcpy(c.id, "hotplug");
	c.gpa = GPA;
	c.requested = MiB(256);
	c.usable = MiB(256);
	c.mem_off = MiB(256);
	c.plugged[0] = ~0ull;
	c.plugged[1] = 1;
	assert_int_equal(state_roundtrip(&c, 0, 2, -1, &out), 0);
	assert_true(out.plugged[0] == ~0ull && out.plugged[1] == 1 && !out.plugged[2]);
	assert_true(out.requested == MiB(256) && out.usable == MiB(256) && out.mem_off == MiB(256));
	/* A version 1 state (no runtime fields) still loads, nothing plugged. */
	assert_int_equal(state_roundtrip(&c, 2 + strlen(c.id) + 12 + 8, 1, -1, &out), 0);
	assert_true(!out.plugged[0] && !out.requested && out.gpa == GPA);

	bad = c; /* a plugged block beyond the usable region */
	bad.plugged[2] = 1;
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	bad = c; /* usable beyond the region, not whole slots */
	bad.usable = MiB(640);
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	bad.usable = MiB(200);
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	bad = c; /* requested beyond the region or not whole blocks */
	bad.requested = MiB(1024);
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	bad.requested = MiB(3);
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	bad = c; /* a file offset mmap cannot take, or one that wraps */
	bad.mem_off = MiB(256) + 1;
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	bad.mem_off = UINT64_MAX - 4095;
	assert_int_equal(state_roundtrip(&bad, 0, 2, -1, &out), -EINVAL);
	/* A bitmap of the wrong length (3 or 5 words for 256 blocks), a truncated one. */
	assert_int_equal(state_roundtrip(&c, 0, 2, 3, &out), -EINVAL);
	assert_int_equal(state_roundtrip(&c, 0, 2, 5, &out), -EINVAL);
	assert_int_equal(state_roundtrip(&c, 2 + strlen(c.id) + 12 + 8 + 28 + 8, 2, -1, &out),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plug_unplug),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_state),
	};
	return cmocka_run_group_tests_name("vmem", tests, NULL, NULL);
}
