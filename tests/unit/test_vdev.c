// SPDX-License-Identifier: Apache-2.0
/*
 * The device model (virtio/device.h): the registry, every registered type's
 * settings through its snapshot encoding and back, the refusals of
 * vdev_state_load, and the list of a VM's devices (vdev_configs_*): the
 * per-VM budget, each type's limit, unique ids, one root disk, the attach
 * order.  The per-type tests loop over the registry, so a new device type
 * is covered as soon as it registers, and this file fails until it has a
 * sample spec in specs[] below.
 */
#include <stdio.h>

#include "unit.h"

#include "blk.h"
#include "device.h"
#include "mem.h"
#include "net.h"
#include "pmem.h"
#include "vdev_enc.h"
#include "vsock.h"

/* A representative CLI spec per type (NULL: a flag, parse gets NULL as from the CLI). */
static const struct {
	const char *type, *spec;
} specs[] = {
    {"block", "/tmp/x.img,ro,id=d1,partuuid=e3be4d01-01"},
    {"net", "tap=tap0,mac=06:00:00:00:00:01,id=eth0"},
    {"vsock", "cid=3,uds=/tmp/v.sock"},
    {"entropy", NULL},
    {"balloon", "amount_mib=64,deflate_on_oom,stats_polling_interval_s=5,free_page_reporting"},
    {"pmem", "/tmp/p.img,ro,root,id=p1"},
    {"mem", "256,slot=128,block=4"},
};

static bool spec_of(const char *type, const char **spec)
{
	for (unsigned i = 0; i < ARRAY_SIZE(specs); i++)
		if (!strcmp(specs[i].type, type)) {
			*spec = specs[i].spec;
			return true;
		}
	return false;
}

struct cfgbuf {
	_Alignas(8) unsigned char b[VDEV_CONFIG_MAX];
};

/* @t's sample, parsed into a zeroed buffer. */
static void sample(const struct vdev_type *t, struct cfgbuf *c)
{
	const char *spec = NULL;
	char err[200] = "";

	if (!spec_of(t->name, &spec))
		fail_msg("device type '%s' has no sample spec in test_vdev.c's specs[]", t->name);
	memset(c, 0, sizeof(*c));
	if (t->parse(spec, c->b, err, sizeof(err)))
		fail_msg("%s: sample '%s' refused: %s", t->name, spec, err);
}

static void save(const struct vdev_type *t, const void *cfg, struct pw *w)
{
	pw_init(w);
	assert_int_equal(vdev_state_save(t, cfg, w), 0);
	assert_int_equal(w->err, 0);
}

/* vdev_state_load must refuse @p with a message containing @want. */
static void refused(const void *p, size_t len, const char *what, const char *want)
{
	struct vdev_config out;
	char err[200] = "";

	if (vdev_state_load(p, len, &out, err, sizeof(err)) != -EINVAL)
		fail_msg("%s: accepted", what);
	if (!strstr(err, want))
		fail_msg("%s: \"%s\" does not say \"%s\"", what, err, want);
}

/* ---- the registry ------------------------------------------------------------- */

static void test_registry(void **state)
{
	static const char *const names[][2] = {
	    {"block", "--disk"}, {"net", "--net"}, {"vsock", "--vsock"}};
	unsigned n = vdev_type_count();

	(void)state;
	assert_true(n >= 3);
	assert_null(vdev_type_at(n));
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		const struct vdev_type *t = vdev_type_find(names[i][0]);

		assert_non_null(t);
		assert_string_equal(t->name, names[i][0]);
		assert_ptr_equal(vdev_type_by_opt(names[i][1]), t);
		assert_string_equal(t->cli_opt, names[i][1]);
	}
	assert_int_equal(vdev_type_find("block")->max, 16);
	assert_int_equal(vdev_type_find("net")->max, 8);
	assert_int_equal(vdev_type_find("vsock")->max, 1);
	assert_null(vdev_type_find("Block"));
	assert_null(vdev_type_find("blk"));
	assert_null(vdev_type_find(""));
	assert_null(vdev_type_by_opt("--drive"));
	assert_null(vdev_type_by_opt("disk"));
	assert_null(vdev_type_by_opt("--kernel"));

	/* What every descriptor must have, so the VM, snapshots and the CLI can use it. */
	for (unsigned i = 0; i < n; i++) {
		const struct vdev_type *t = vdev_type_at(i);

		assert_non_null(t);
		assert_non_null(t->name);
		assert_true(t->name[0] && strlen(t->name) < 32); /* vdev_state_load's limit */
		assert_ptr_equal(vdev_type_find(t->name), t);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(vdev_type_at(j)->name, t->name);
		if (t->cli_opt) {
			assert_ptr_equal(vdev_type_by_opt(t->cli_opt), t);
			assert_non_null(t->cli_help);
		}
		assert_true(t->max >= 1 && t->max <= VDEV_MAX);
		assert_true(t->config_size > 0 && t->config_size <= VDEV_CONFIG_MAX);
		assert_true(t->state_version >= 1);
		assert_true(t->parse && t->id && t->create && t->destroy && t->transport);
		assert_true(t->config && t->save && t->load);
		if (t->metrics)
			assert_non_null(t->metrics_key);
	}
}

/* ---- every type's settings through its encoding --------------------------------- */

/* Field by field, for the types this test knows; the memcmp covers the rest. */
static void check_fields(const struct vdev_type *t, const void *cfg)
{
	if (!strcmp(t->name, "block")) {
		const struct vblk_config *b = cfg;

		assert_string_equal(b->path, "/tmp/x.img");
		assert_string_equal(b->drive_id, "d1");
		assert_true(b->read_only);
		assert_false(b->is_root);
		assert_int_equal(b->engine, VBLK_ENGINE_DEFAULT);
	} else if (!strcmp(t->name, "net")) {
		const struct vnet_config *n = cfg;

		assert_string_equal(n->iface_id, "eth0");
		assert_string_equal(n->host_dev_name, "tap0");
		assert_true(n->has_mac);
		assert_memory_equal(n->mac, "\x06\0\0\0\0\x01", 6);
	} else if (!strcmp(t->name, "vsock")) {
		const struct vsock_config *v = cfg;

		assert_int_equal(v->guest_cid, 3);
		assert_string_equal(v->uds_path, "/tmp/v.sock");
		assert_string_equal(v->vsock_id, "vsock");
	}
}

/* Fields no CLI spec sets (the API's), for the types this test knows. */
static void enrich(const struct vdev_type *t, void *cfg)
{
	if (!strcmp(t->name, "block")) {
		struct vblk_config *b = cfg;

		strcpy(b->serial, "SERIAL-0123456789abc"); /* VBLK_SERIAL_LEN characters */
		b->engine = VBLK_ENGINE_IO_URING;
		b->is_root = true;
	} else if (!strcmp(t->name, "vsock")) {
		struct vsock_config *v = cfg;

		v->guest_cid = 0xfffffffeull;
		strcpy(v->vsock_id, "vs-1");
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 2 * vdev_type_count(); k++) {
		const struct vdev_type *t = vdev_type_at(k / 2);
		struct vdev_config out;
		struct cfgbuf in;
		struct pw w;
		char err[200] = "";
		size_t nl = strlen(t->name);

		sample(t, &in);
		if (k % 2)
			enrich(t, in.b);
		save(t, in.b, &w);
		/* The header: the type's name, its state version. */
		assert_true(w.len >= 2 + nl + 2);
		assert_int_equal(w.buf[0] | w.buf[1] << 8, nl);
		assert_memory_equal(w.buf + 2, t->name, nl);
		assert_int_equal(w.buf[2 + nl] | w.buf[3 + nl] << 8, t->state_version);

		memset(&out, 0xee, sizeof(out));
		if (vdev_state_load(w.buf, w.len, &out, err, sizeof(err)))
			fail_msg("%s: own encoding refused: %s", t->name, err);
		assert_ptr_equal(out.type, t);
		assert_memory_equal(out.data, in.b, t->config_size);
		for (size_t b = t->config_size; b < sizeof(out.data); b++)
			assert_int_equal(out.data[b], 0);
		if (k % 2 == 0)
			check_fields(t, out.data);
		else if (!strcmp(t->name, "block"))
			assert_string_equal(((struct vblk_config *)out.data)->serial,
					    "SERIAL-0123456789abc");
		/* The same bytes again from what came back. */
		{
			struct pw again;

			save(t, out.data, &again);
			assert_int_equal(again.len, w.len);
			assert_memory_equal(again.buf, w.buf, w.len);
			pw_free(&again);
		}
		pw_free(&w);
	}
}

/* Cut anywhere, with a byte more, under another name or version: refused. */
static void test_refused_generic(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vdev_type_count(); i++) {
		const struct vdev_type *t = vdev_type_at(i);
		const uint16_t versions[] = {0, (uint16_t)(t->state_version + 1), UINT16_MAX};
		struct cfgbuf in;
		struct pw w, h;
		char want[120], what[64];
		size_t nl = strlen(t->name);

		sample(t, &in);
		save(t, in.b, &w);
		for (size_t len = 0; len < w.len; len++) {
			snprintf(what, sizeof(what), "%s cut at %zu", t->name, len);
			refused(w.buf, len, what, "truncated");
		}
		pw_u8(&w, 0);
		refused(w.buf, w.len, t->name, "trailing bytes");
		w.len--;

		for (unsigned v = 0; v < ARRAY_SIZE(versions); v++) {
			pw_init(&h);
			pw_str(&h, t->name);
			pw_u16(&h, versions[v]);
			pw_bytes(&h, w.buf + 2 + nl + 2, w.len - 2 - nl - 2);
			snprintf(want, sizeof(want),
				 "%s state version %u, this ember reads 1 to %u", t->name,
				 versions[v], t->state_version);
			refused(h.buf, h.len, t->name, want);
			pw_free(&h);
		}

		pw_init(&h);
		pw_str(&h, "no-such-device");
		pw_bytes(&h, w.buf + 2 + nl, w.len - 2 - nl);
		refused(h.buf, h.len, t->name,
			"device type 'no-such-device' unknown to this ember");
		pw_free(&h);
		pw_init(&h);
		pw_str(&h, "a-device-type-name-of-32-chars-x"); /* longer than any name can be */
		pw_bytes(&h, w.buf + 2 + nl, w.len - 2 - nl);
		refused(h.buf, h.len, t->name, "device state: a string too long");
		pw_free(&h);
		pw_free(&w);
	}
}

/* The type's own checks: flags, ranges, empty names. */
static void test_refused_fields(void **state)
{
	static const struct {
		const char *type;
		size_t off;
	} flags[] = {
	    {"block", offsetof(struct vblk_config, read_only)},
	    {"block", offsetof(struct vblk_config, is_root)},
	    {"net", offsetof(struct vnet_config, has_mac)},
	    {"pmem", offsetof(struct vpmem_config, root)},
	    {"pmem", offsetof(struct vpmem_config, read_only)},
	};
	static const struct {
		const char *type;
		size_t off;
		const char *why;
	} empty[] = {
	    {"block", offsetof(struct vblk_config, drive_id), "block settings: an empty drive id"},
	    {"block", offsetof(struct vblk_config, path), "block settings: an empty drive id"},
	    {"net", offsetof(struct vnet_config, iface_id), "net settings: an empty interface id"},
	    {"net", offsetof(struct vnet_config, host_dev_name),
	     "net settings: an empty interface"},
	    {"entropy", 0, "entropy settings: an empty id"}, /* struct vrng_config: the id */
	    {"balloon", 0, "balloon settings: an empty id"}, /* struct vballoon_config: the id */
	    {"pmem", offsetof(struct vpmem_config, id), "pmem settings: an empty pmem id or path"},
	    {"pmem", offsetof(struct vpmem_config, path),
	     "pmem settings: an empty pmem id or path"},
	    {"vsock", offsetof(struct vsock_config, uds_path),
	     "vsock settings: an empty uds path or vsock id"},
	    {"vsock", offsetof(struct vsock_config, vsock_id),
	     "vsock settings: an empty uds path or vsock id"},
	};
	static const uint64_t bad_cids[] = {0, 1, 2, 0xffffffffull, 1ull << 32, UINT64_MAX};
	const struct vdev_type *t;
	struct vdev_config out;
	struct cfgbuf c;
	struct pw w;
	char err[200];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(flags); i++) {
		t = vdev_type_find(flags[i].type);
		sample(t, &c);
		for (unsigned v = 0; v < 2; v++) {
			size_t at;

			c.b[flags[i].off] = (unsigned char)v;
			at = flag_byte(t, c.b, flags[i].off);
			save(t, c.b, &w);
			assert_int_equal(w.buf[at], v);
			/* Both values come back as they were. */
			assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
			assert_int_equal(out.data[flags[i].off], v);
			w.buf[at] = 2;
			refused(w.buf, w.len, flags[i].type,
				"settings: a flag that is neither 0 nor 1");
			w.buf[at] = 0xff;
			refused(w.buf, w.len, flags[i].type,
				"settings: a flag that is neither 0 nor 1");
			pw_free(&w);
		}
	}
	for (unsigned i = 0; i < ARRAY_SIZE(empty); i++) {
		t = vdev_type_find(empty[i].type);
		if (!t)
			continue; /* not in this build */
		sample(t, &c);
		c.b[empty[i].off] = 0;
		save(t, c.b, &w);
		refused(w.buf, w.len, empty[i].type, empty[i].why);
		pw_free(&w);
	}

	/* block: engines 0-2 only. */
	t = vdev_type_find("block");
	sample(t, &c);
	for (unsigned e = 0; e < 256; e++) {
		((struct vblk_config *)c.b)->engine = (enum vblk_engine)e;
		save(t, c.b, &w);
		if (e <= VBLK_ENGINE_IO_URING) {
			assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
			assert_int_equal(((struct vblk_config *)out.data)->engine, e);
		} else {
			refused(w.buf, w.len, "engine", "block settings: an unknown engine");
		}
		pw_free(&w);
	}

	/* pmem: where the guest had the file, 2 MiB-aligned, both set or neither. */
	t = vdev_type_find("pmem");
	sample(t, &c);
	{
		static const uint64_t bad[][2] = {{MiB(2), 0},
						  {0, MiB(2)},
						  {GiB(4) + 4096, MiB(2)},
						  {GiB(4), MiB(3)},
						  {UINT64_MAX - MiB(2) + 1, MiB(4)}};
		struct vpmem_config *p = (struct vpmem_config *)c.b;

		for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
			p->gpa = bad[i][0];
			p->size = bad[i][1];
			save(t, c.b, &w);
			refused(w.buf, w.len, "pmem range",
				"pmem settings: a pmem range that is not 2 MiB-aligned");
			pw_free(&w);
		}
		p->gpa = GiB(4);
		p->size = MiB(6);
		save(t, c.b, &w);
		assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
		assert_true(((struct vpmem_config *)out.data)->gpa == GiB(4));
		assert_true(((struct vpmem_config *)out.data)->size == MiB(6));
		pw_free(&w);
	}

	/* mem: Firecracker's size rules, and a region on a 128 MiB boundary. */
	t = vdev_type_find("mem");
	sample(t, &c);
	{
		struct vmem_config *m = (struct vmem_config *)c.b, ok = *m;

		m->block_mib = 3;
		save(t, c.b, &w);
		refused(w.buf, w.len, "mem sizes",
			"mem settings: memory hotplug sizes out of range");
		pw_free(&w);
		*m = ok;
		m->total_mib = 100;
		save(t, c.b, &w);
		refused(w.buf, w.len, "mem sizes",
			"mem settings: memory hotplug sizes out of range");
		pw_free(&w);
		*m = ok;
		m->gpa = GiB(4) + MiB(2);
		save(t, c.b, &w);
		refused(w.buf, w.len, "mem gpa",
			"mem settings: a misaligned memory hotplug region");
		pw_free(&w);
		*m = ok;
	}

	/* vsock: CIDs 3..2^32-2; 0-2 are reserved, 2^32-1 is VMADDR_CID_ANY. */
	t = vdev_type_find("vsock");
	sample(t, &c);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_cids); i++) {
		((struct vsock_config *)c.b)->guest_cid = bad_cids[i];
		save(t, c.b, &w);
		refused(w.buf, w.len, "cid", "vsock settings: a guest CID out of range");
		pw_free(&w);
	}
	((struct vsock_config *)c.b)->guest_cid = 0xfffffffeull;
	save(t, c.b, &w);
	assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
	assert_true(((struct vsock_config *)out.data)->guest_cid == 0xfffffffeull);
	pw_free(&w);
	/* A uds path with no room for "_<port>" after it, as --vsock refuses. */
	memset(((struct vsock_config *)c.b)->uds_path, 'u', VSOCK_UDS_MAX + 1);
	((struct vsock_config *)c.b)->uds_path[VSOCK_UDS_MAX + 1] = 0;
	save(t, c.b, &w);
	refused(w.buf, w.len, "long uds",
		"vsock settings: a uds path too long for guest connections (PATH_<port>)");
	pw_free(&w);
	((struct vsock_config *)c.b)->uds_path[VSOCK_UDS_MAX] = 0;
	save(t, c.b, &w);
	assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
	pw_free(&w);

	/* net: a multicast MAC, as --net refuses; a unicast one comes back. */
	t = vdev_type_find("net");
	sample(t, &c);
	((struct vnet_config *)c.b)->mac[0] = 0x07;
	save(t, c.b, &w);
	refused(w.buf, w.len, "multicast", "net settings: a multicast MAC");
	pw_free(&w);
	((struct vnet_config *)c.b)->mac[0] = 0x06;
	save(t, c.b, &w);
	assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
	assert_int_equal(((struct vnet_config *)out.data)->mac[0], 0x06);
	pw_free(&w);
}

/* The overrides a restore may apply (network_overrides, vsock_override). */
static void test_set(void **state)
{
	const struct vdev_type *net = vdev_type_find("net"), *vsock = vdev_type_find("vsock");
	struct cfgbuf c;
	char err[200], uds[sizeof(((struct vsock_config *)0)->uds_path) + 1];

	(void)state;
	assert_null(vdev_type_find("block")->set);
	sample(net, &c);
	assert_int_equal(net->set(c.b, "host_dev_name", "tap-name-of-15c", err, sizeof(err)), 0);
	assert_string_equal(((struct vnet_config *)c.b)->host_dev_name, "tap-name-of-15c");
	assert_string_equal(((struct vnet_config *)c.b)->iface_id, "eth0");
	assert_int_equal(net->set(c.b, "host_dev_name", "tap-name-of-16ch", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "override tap name too long");
	assert_string_equal(((struct vnet_config *)c.b)->host_dev_name, "tap-name-of-15c");
	assert_int_equal(net->set(c.b, "iface_id", "x", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no setting 'iface_id' to override");
	assert_string_equal(((struct vnet_config *)c.b)->iface_id, "eth0");

	sample(vsock, &c);
	assert_int_equal(vsock->set(c.b, "uds_path", "/run/clone/v.sock", err, sizeof(err)), 0);
	assert_string_equal(((struct vsock_config *)c.b)->uds_path, "/run/clone/v.sock");
	memset(uds, 'u', sizeof(uds));
	uds[sizeof(uds) - 1] = 0; /* 108 characters: more than sun_path holds */
	assert_int_equal(vsock->set(c.b, "uds_path", uds, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "override uds_path must be 1..96 characters");
	assert_string_equal(((struct vsock_config *)c.b)->uds_path, "/run/clone/v.sock");
	assert_int_equal(vsock->set(c.b, "guest_cid", "4", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no setting 'guest_cid' to override");
	assert_int_equal(((struct vsock_config *)c.b)->guest_cid, 3);
}

/* ---- a VM's list of devices ------------------------------------------------------ */

static int add_spec(struct vdev_configs *l, const char *type, const char *spec, char *err)
{
	return vdev_configs_parse(l, vdev_type_find(type), spec, err, 200);
}

static void expect_add_refused(struct vdev_configs *l, const char *type, const char *spec, int rc,
			       const char *want)
{
	const struct vdev_type *t = vdev_type_find(type);
	unsigned nr = l->nr;
	struct cfgbuf c;
	char err[200] = "";

	memset(&c, 0, sizeof(c));
	assert_int_equal(t->parse(spec, c.b, err, sizeof(err)), 0);
	assert_int_equal(vdev_configs_add(l, t, c.b, err, sizeof(err)), rc);
	if (strcmp(err, want))
		fail_msg("%s '%s': \"%s\", want \"%s\"", type, spec, err, want);
	assert_int_equal(l->nr, nr); /* nothing added */
}

static void test_configs_limits(void **state)
{
	struct vdev_configs *l = calloc(1, sizeof(*l));
	const struct vdev_type *blk = vdev_type_find("block");
	char err[200], spec[32];

	(void)state;
	assert_non_null(l);
	/* Sixteen drives; the first without id= is named after its place. */
	for (unsigned i = 0; i < VDEV_MAX; i++) {
		snprintf(spec, sizeof(spec), i % 2 ? "/d%u,id=x%u" : "/d%u", i, i);
		assert_int_equal(add_spec(l, "block", spec, err), 0);
	}
	assert_int_equal(vdev_configs_count(l, blk), VDEV_MAX);
	assert_string_equal(((struct vblk_config *)l->dev[0].data)->drive_id, "disk0");
	assert_string_equal(((struct vblk_config *)l->dev[2].data)->drive_id, "disk2");
	assert_string_equal(((struct vblk_config *)l->dev[3].data)->drive_id, "x3");
	assert_ptr_equal(vdev_configs_find(l, blk, "x15"), l->dev[15].data);
	assert_null(vdev_configs_find(l, blk, "x16"));
	assert_null(vdev_configs_find(l, vdev_type_find("net"), "x15"));
	expect_add_refused(l, "block", "/d16", -ENOSPC, "more than 16 block devices");
	expect_add_refused(l, "vsock", "cid=3,uds=/v", -ENOSPC, "more than 16 devices in all");
	assert_int_equal(add_spec(l, "net", "tap=t", err), -EINVAL);
	assert_string_equal(err, "--net 'tap=t': more than 16 devices in all");

	/* Each type's own limit, and the budget shared across types. */
	memset(l, 0, sizeof(*l));
	for (unsigned i = 0; i < 8; i++) {
		snprintf(spec, sizeof(spec), "tap=t%u", i);
		assert_int_equal(add_spec(l, "net", spec, err), 0);
	}
	expect_add_refused(l, "net", "tap=t8", -ENOSPC, "more than 8 net devices");
	assert_int_equal(add_spec(l, "vsock", "cid=3,uds=/v", err), 0);
	expect_add_refused(l, "vsock", "cid=4,uds=/w", -ENOSPC, "only one vsock device");
	for (unsigned i = 0; i < 7; i++) {
		snprintf(spec, sizeof(spec), "/d%u", i);
		assert_int_equal(add_spec(l, "block", spec, err), 0);
	}
	assert_int_equal(l->nr, VDEV_MAX);
	expect_add_refused(l, "block", "/d7", -ENOSPC, "more than 16 devices in all");

	/* Ids are unique within a type, not across types. */
	memset(l, 0, sizeof(*l));
	assert_int_equal(add_spec(l, "block", "/a,id=x", err), 0);
	assert_int_equal(add_spec(l, "net", "tap=t0,id=x", err), 0);
	expect_add_refused(l, "block", "/b,id=x", -EINVAL, "block id 'x' used twice");
	expect_add_refused(l, "net", "tap=t1,id=x", -EINVAL, "net id 'x' used twice");
	expect_add_refused(l, "net", "tap=t0,id=y", -EINVAL,
			   "interface or tap used twice (tap t0)");
	/* The generated name counts the drives before it: a clash is caught too. */
	memset(l, 0, sizeof(*l));
	assert_int_equal(add_spec(l, "block", "/a,id=disk1", err), 0);
	expect_add_refused(l, "block", "/b", -EINVAL, "block id 'disk1' used twice");

	/* One root disk. */
	memset(l, 0, sizeof(*l));
	assert_int_equal(add_spec(l, "block", "/a,root", err), 0);
	assert_int_equal(add_spec(l, "block", "/b", err), 0);
	expect_add_refused(l, "block", "/c,root", -EINVAL, "only one disk can be root");
	assert_int_equal(add_spec(l, "block", "/b2,id=b2", err), 0);
	assert_int_equal(l->nr, 3);
	/* The CLI's message says which option and spec. */
	assert_int_equal(add_spec(l, "block", "/c,root", err), -EINVAL);
	assert_string_equal(err, "--disk '/c,root': only one disk can be root");
	assert_int_equal(add_spec(l, "block", "/c,bogus", err), -EINVAL);
	assert_string_equal(err, "--disk '/c,bogus': unknown disk option 'bogus'");
	assert_int_equal(l->nr, 3);
	/* One root device across types: a pmem root next to a root disk is refused. */
	expect_add_refused(l, "pmem", "/p,root,id=p0", -EINVAL,
			   "pmem p0 cannot be the root device: block disk0 is");
	assert_int_equal(add_spec(l, "pmem", "/p,id=p0", err), 0);
	memset(l, 0, sizeof(*l));
	assert_int_equal(add_spec(l, "pmem", "/p,root", err), 0);
	expect_add_refused(l, "pmem", "/q,root", -EINVAL, "only one pmem device can be root");
	expect_add_refused(l, "block", "/a,root", -EINVAL,
			   "block disk0 cannot be the root device: pmem pmem0 is");
	assert_int_equal(add_spec(l, "pmem", "/q,ro,id=q", err), 0);
	assert_int_equal(l->nr, 2);
	free(l);
}

static void test_configs_order(void **state)
{
	struct vdev_configs *l = calloc(1, sizeof(*l));
	unsigned order[VDEV_MAX];
	char err[200];

	(void)state;
	assert_non_null(l);
	assert_int_equal(vdev_configs_order(l, order), 0);
	assert_int_equal(add_spec(l, "block", "/a", err), 0);
	assert_int_equal(add_spec(l, "net", "tap=t0", err), 0);
	assert_int_equal(add_spec(l, "vsock", "cid=3,uds=/v", err), 0);
	assert_int_equal(add_spec(l, "block", "/b", err), 0);
	/* No root: as given. */
	assert_int_equal(vdev_configs_order(l, order), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(order[i], i);
	/* The root disk first, then the others in the order given. */
	assert_int_equal(add_spec(l, "block", "/r,root", err), 0);
	assert_int_equal(add_spec(l, "net", "tap=t1", err), 0);
	assert_int_equal(vdev_configs_order(l, order), 6);
	assert_int_equal(order[0], 4);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1);
	assert_int_equal(order[3], 2);
	assert_int_equal(order[4], 3);
	assert_int_equal(order[5], 5);
	assert_string_equal(((struct vblk_config *)l->dev[order[0]].data)->path, "/r");
	/* Drives are named by their place among the drives, not among all devices. */
	assert_string_equal(((struct vblk_config *)l->dev[0].data)->drive_id, "disk0");
	assert_string_equal(((struct vblk_config *)l->dev[3].data)->drive_id, "disk1");
	assert_string_equal(((struct vblk_config *)l->dev[4].data)->drive_id, "disk2");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused_generic),
	    cmocka_unit_test(test_refused_fields),
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_configs_limits),
	    cmocka_unit_test(test_configs_order),
	};
	return cmocka_run_group_tests_name("vdev", tests, NULL, NULL);
}
