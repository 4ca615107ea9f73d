// SPDX-License-Identifier: Apache-2.0
/*
 * snap_dev_config: the device settings of a snapshot state file back into a
 * struct vm_config, with a clone's overrides (taps by iface_id, the vsock's
 * Unix socket) applied.  The images are built with the real writer and
 * parser (snapfile.h), so the CRC is right and only snap_dev_config's own
 * checks can refuse them.  A state file is data from outside: every
 * malformed payload (strings without NUL, bools that are not 0 or 1, an
 * engine out of range, devices out of order or in a wrong-sized payload,
 * a transport state with no settings) is refused with a message, never
 * half-applied.
 */
#include <stdio.h>

#include "unit.h"

#include "snap_dev.h"

#define NR_SLOTS 5 /* two drives, two nets, the vsock */

struct sec {
	uint32_t type, id;
	const void *p;
	size_t len;
};

/* A snapshot of a VM with every kind of device; cases spoil a copy of it. */
struct fixture {
	struct vblk_config blk[2];
	struct vnet_config net[2];
	struct vsock_config vsock;
	struct sec sec[24];
	unsigned nr;
	struct snap_net_override ov[2];
	struct snap_load_req req;
};

static const uint8_t mmio_state[16]; /* snap_dev_config looks only at the section's id */

static void add(struct fixture *f, uint32_t type, uint32_t id, const void *p, size_t len)
{
	assert_true(f->nr < ARRAY_SIZE(f->sec));
	f->sec[f->nr++] = (struct sec){type, id, p, len};
}

/* Settings and transport state for @slot, as snap_dev_save writes them. */
static void add_dev(struct fixture *f, uint32_t type, uint32_t slot, const void *p, size_t len)
{
	add(f, type, slot, p, len);
	add(f, SNAP_SEC_DEV_MMIO, slot, mmio_state, sizeof(mmio_state));
}

static void fixture_init(struct fixture *f)
{
	static const uint8_t mac[6] = {0x06, 0, 0xac, 0x10, 0, 2};

	memset(f, 0, sizeof(*f)); /* padding too: the payloads are compared byte for byte */
	strcpy(f->blk[0].drive_id, "rootfs");
	strcpy(f->blk[0].path, "/srv/rootfs.ext4");
	f->blk[0].is_root = true;
	f->blk[0].engine = VBLK_ENGINE_SYNC;
	strcpy(f->blk[1].drive_id, "scratch");
	strcpy(f->blk[1].path, "/srv/scratch.img");
	strcpy(f->blk[1].serial, "SER-1");
	f->blk[1].read_only = true;
	f->blk[1].engine = VBLK_ENGINE_IO_URING;
	strcpy(f->net[0].iface_id, "eth0");
	strcpy(f->net[0].host_dev_name, "tap0");
	f->net[0].has_mac = true;
	memcpy(f->net[0].mac, mac, sizeof(mac));
	strcpy(f->net[1].iface_id, "eth1");
	strcpy(f->net[1].host_dev_name, "tap1");
	f->vsock.guest_cid = 3;
	strcpy(f->vsock.uds_path, "/run/ember/v.sock");
	strcpy(f->vsock.vsock_id, "vsock");
	add_dev(f, SNAP_SEC_DEV_BLK, 0, &f->blk[0], sizeof(f->blk[0]));
	add_dev(f, SNAP_SEC_DEV_BLK, 1, &f->blk[1], sizeof(f->blk[1]));
	add_dev(f, SNAP_SEC_DEV_NET, 2, &f->net[0], sizeof(f->net[0]));
	add_dev(f, SNAP_SEC_DEV_NET, 3, &f->net[1], sizeof(f->net[1]));
	add_dev(f, SNAP_SEC_DEV_VSOCK, 4, &f->vsock, sizeof(f->vsock));
	f->req.nets = f->ov;
}

/* The image through the real writer and parser, then snap_dev_config. */
static int load(const struct fixture *f, struct vm_config *cfg, unsigned *nr_slots, char *err,
		size_t errlen)
{
	struct snap_writer w;
	struct snap_image img;
	const uint8_t *b;
	size_t len;
	char perr[160];
	int r;

	assert_int_equal(snap_w_begin(&w, 0), 0);
	/* Other sections around the devices, as in a real file. */
	assert_int_equal(snap_w_section(&w, SNAP_SEC_MACHINE, 0, "m", 1), 0);
	for (unsigned i = 0; i < f->nr; i++)
		assert_int_equal(
		    snap_w_section(&w, f->sec[i].type, f->sec[i].id, f->sec[i].p, f->sec[i].len),
		    0);
	assert_int_equal(snap_w_section(&w, SNAP_SEC_SERIAL, 0, "s", 1), 0);
	b = snap_w_bytes(&w, &len);
	assert_non_null(b);
	assert_int_equal(snap_parse(b, len, &img, perr, sizeof(perr)), 0);
	snap_w_free(&w);
	memset(cfg, 0, sizeof(*cfg));
	*nr_slots = 0;
	err[0] = 0;
	r = snap_dev_config(&img, &f->req, cfg, nr_slots, err, errlen);
	snap_image_free(&img);
	return r;
}

/* @f must be accepted, without a message; returns how many slots it has. */
static unsigned load_ok(const struct fixture *f, struct vm_config *cfg)
{
	unsigned nr;
	char err[200];

	assert_int_equal(load(f, cfg, &nr, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	return nr;
}

/* ---- what goes in comes out -------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fixture f;
	struct vm_config cfg;

	(void)state;
	fixture_init(&f);
	assert_int_equal(load_ok(&f, &cfg), NR_SLOTS);
	assert_int_equal(cfg.nr_disks, 2);
	assert_memory_equal(&cfg.disks[0], &f.blk[0], sizeof(f.blk[0]));
	assert_memory_equal(&cfg.disks[1], &f.blk[1], sizeof(f.blk[1]));
	assert_int_equal(cfg.nr_nets, 2);
	assert_memory_equal(&cfg.nets[0], &f.net[0], sizeof(f.net[0]));
	assert_memory_equal(&cfg.nets[1], &f.net[1], sizeof(f.net[1]));
	assert_true(cfg.has_vsock);
	assert_memory_equal(&cfg.vsock, &f.vsock, sizeof(f.vsock));

	/* A VM with drives only: no nets, no vsock. */
	f.nr = 4;
	assert_int_equal(load_ok(&f, &cfg), 2);
	assert_int_equal(cfg.nr_disks, 2);
	assert_int_equal(cfg.nr_nets, 0);
	assert_false(cfg.has_vsock);

	/* No devices at all. */
	f.nr = 0;
	assert_int_equal(load_ok(&f, &cfg), 0);
	assert_int_equal(cfg.nr_disks, 0);
}

/* A clone gets its own taps (matched by iface_id) and its own vsock socket. */
static void test_overrides(void **state)
{
	struct fixture f;
	struct vm_config cfg;

	(void)state;
	fixture_init(&f);
	f.ov[0] = (struct snap_net_override){"eth1", "tap-clone7"};
	f.req.nr_nets = 1;
	f.req.vsock_uds = "/run/clone7/v.sock";
	assert_int_equal(load_ok(&f, &cfg), NR_SLOTS);
	assert_string_equal(cfg.nets[0].host_dev_name, "tap0");
	assert_string_equal(cfg.nets[1].host_dev_name, "tap-clone7");
	assert_string_equal(cfg.nets[1].iface_id, "eth1");
	assert_string_equal(cfg.vsock.uds_path, "/run/clone7/v.sock");
	assert_int_equal(cfg.vsock.guest_cid, 3);
	assert_string_equal(cfg.vsock.vsock_id, "vsock");

	/* Both nets overridden, in the other order. */
	f.ov[0] = (struct snap_net_override){"eth1", "tapB"};
	f.ov[1] = (struct snap_net_override){"eth0", "tapA"};
	f.req.nr_nets = 2;
	assert_int_equal(load_ok(&f, &cfg), NR_SLOTS);
	assert_string_equal(cfg.nets[0].host_dev_name, "tapA");
	assert_string_equal(cfg.nets[1].host_dev_name, "tapB");
	assert_true(cfg.nets[0].has_mac);
}

/* ---- refusals ------------------------------------------------------------------ */

/* The first section of @type (a device's settings). */
static struct sec *find(struct fixture *f, uint32_t type)
{
	for (unsigned i = 0; i < f->nr; i++)
		if (f->sec[i].type == type)
			return &f->sec[i];
	fail_msg("no section 0x%x", type);
	return NULL;
}

static void net_before_blk(struct fixture *f)
{
	/* Slots 1 and 2 trade places: a net, then a drive. */
	f->sec[2].p = &f->net[0];
	f->sec[2].type = SNAP_SEC_DEV_NET;
	f->sec[2].len = sizeof(f->net[0]);
	f->sec[4].p = &f->blk[1];
	f->sec[4].type = SNAP_SEC_DEV_BLK;
	f->sec[4].len = sizeof(f->blk[1]);
}

static void vsock_before_net(struct fixture *f)
{
	find(f, SNAP_SEC_DEV_VSOCK)->id = 2;
	find(f, SNAP_SEC_DEV_NET)->id = 4;
}

static void blk_short(struct fixture *f)
{
	find(f, SNAP_SEC_DEV_BLK)->len--;
}

static void net_long(struct fixture *f)
{
	static uint8_t big[sizeof(struct vnet_config) + 8];
	struct sec *s = find(f, SNAP_SEC_DEV_NET);

	memcpy(big, s->p, s->len);
	s->p = big;
	s->len = sizeof(big);
}

static void vsock_as_blk(struct fixture *f)
{
	/* A vsock's payload under the drive type: the size tells. */
	find(f, SNAP_SEC_DEV_VSOCK)->type = SNAP_SEC_DEV_BLK;
}

static void two_kinds_one_slot(struct fixture *f)
{
	add(f, SNAP_SEC_DEV_NET, 0, &f->net[1], sizeof(f->net[1]));
}

static void second_vsock(struct fixture *f)
{
	add_dev(f, SNAP_SEC_DEV_VSOCK, NR_SLOTS, &f->vsock, sizeof(f->vsock));
}

static void stray_mmio(struct fixture *f)
{
	add(f, SNAP_SEC_DEV_MMIO, NR_SLOTS + 2, mmio_state, sizeof(mmio_state));
}

static void mmio_after_last(struct fixture *f)
{
	add(f, SNAP_SEC_DEV_MMIO, NR_SLOTS, mmio_state, sizeof(mmio_state));
}

/* Settings (no transport state) for a slot after a gap: not silently dropped. */
static void settings_after_gap(struct fixture *f)
{
	add(f, SNAP_SEC_DEV_VSOCK, NR_SLOTS + 1, &f->vsock, sizeof(f->vsock));
}

static void nine_drives(struct fixture *f)
{
	f->nr = 4; /* the two drives; then seven more, all the second one */
	for (uint32_t slot = 2; slot < 9; slot++)
		add_dev(f, SNAP_SEC_DEV_BLK, slot, &f->blk[1], sizeof(f->blk[1]));
}

static void unknown_iface(struct fixture *f)
{
	f->ov[0] = (struct snap_net_override){"eth0", "tapA"};
	f->ov[1] = (struct snap_net_override){"eth9", "tapB"};
	f->req.nr_nets = 2;
}

static void override_tap_too_long(struct fixture *f)
{
	f->ov[0] = (struct snap_net_override){"eth0", "tap-name-of-16ch"};
	f->req.nr_nets = 1;
}

static void vsock_override_without_vsock(struct fixture *f)
{
	f->nr = 8; /* drives and nets only */
	f->req.vsock_uds = "/run/clone/v.sock";
}

static void vsock_override_too_long(struct fixture *f)
{
	static char uds[sizeof(f->vsock.uds_path) + 1];

	memset(uds, 'u', sizeof(uds) - 1);
	f->req.vsock_uds = uds;
}

/*
 * Damage inside one device's payload: @len bytes of @byte over a field of
 * the settings in slot @slot (0-1 drives, 2-3 nets, 4 the vsock).
 */
struct poke {
	const char *name;
	unsigned slot;
	size_t off, len;
	uint8_t byte;
	const char *why; /* in the message */
};

#define FIELD(type, m) offsetof(struct type, m), sizeof(((struct type *)0)->m)

static const struct poke pokes[] = {
    {"drive_id without NUL", 1, FIELD(vblk_config, drive_id), 'd', "drive settings are malformed"},
    {"path without NUL", 0, FIELD(vblk_config, path), 'p', "drive settings are malformed"},
    {"serial without NUL", 1, FIELD(vblk_config, serial), 's', "drive settings are malformed"},
    {"empty path", 1, offsetof(struct vblk_config, path), 1, 0, "drive settings are malformed"},
    {"engine 3", 0, offsetof(struct vblk_config, engine), 1, 3, "drive settings are malformed"},
    /* Bools as the file has them: one byte, and 2 is neither true nor false. */
    {"read_only 2", 1, FIELD(vblk_config, read_only), 2,
     "device 1: drive settings have a bad flag"},
    {"is_root 2", 0, FIELD(vblk_config, is_root), 2, "device 0: drive settings have a bad flag"},
    {"root in slot 1", 1, FIELD(vblk_config, is_root), 1, "root drive not in the first slot"},
    {"iface_id without NUL", 2, FIELD(vnet_config, iface_id), 'i',
     "network settings are malformed"},
    {"tap without NUL", 3, FIELD(vnet_config, host_dev_name), 't',
     "network settings are malformed"},
    {"empty tap", 3, offsetof(struct vnet_config, host_dev_name), 1, 0,
     "network settings are malformed"},
    {"has_mac 2", 2, FIELD(vnet_config, has_mac), 2, "device 2: network settings have a bad flag"},
    {"uds_path without NUL", 4, FIELD(vsock_config, uds_path), 'u', "vsock settings are malformed"},
    {"vsock_id without NUL", 4, FIELD(vsock_config, vsock_id), 'v', "vsock settings are malformed"},
    {"cid 2 (the host)", 4, offsetof(struct vsock_config, guest_cid), 1, 2,
     "vsock settings are malformed"},
    {"cid 2^32-1", 4, offsetof(struct vsock_config, guest_cid), 4, 0xff,
     "vsock settings are malformed"},
};

static void expect_refused(const struct fixture *f, const char *name, const char *why)
{
	struct vm_config cfg;
	unsigned nr;
	char err[200];

	if (load(f, &cfg, &nr, err, sizeof(err)) != -EINVAL)
		fail_msg("%s: accepted", name);
	if (!strstr(err, why))
		fail_msg("%s: \"%s\" does not say \"%s\"", name, err, why);
}

static void test_refused_payloads(void **state)
{
	struct fixture f;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(pokes); i++) {
		const struct poke *k = &pokes[i];

		fixture_init(&f);
		memset((uint8_t *)f.sec[2 * k->slot].p + k->off, k->byte, k->len);
		expect_refused(&f, k->name, k->why);
	}
}

struct bad_case {
	const char *name;
	void (*spoil)(struct fixture *f);
	const char *why; /* in the message */
};

#define BAD(fn, why)                                                                               \
	{                                                                                          \
#fn, fn, why                                                                       \
	}

static const struct bad_case bad[] = {
    BAD(net_before_blk, "device 2: devices out of order"),
    BAD(vsock_before_net, "device 3: devices out of order"),
    BAD(blk_short, "device 0: settings of the wrong size or kind"),
    BAD(net_long, "device 2: settings of the wrong size or kind"),
    BAD(vsock_as_blk, "device 4: settings of the wrong size or kind"),
    BAD(two_kinds_one_slot, "device 0: settings of the wrong size or kind"),
    BAD(second_vsock, "a second vsock device"),
    BAD(stray_mmio, "device 7: transport state without device settings"),
    BAD(mmio_after_last, "device 5: transport state without device settings"),
    BAD(settings_after_gap, "device 6: device settings after a gap in the slots"),
    BAD(nine_drives, "device 8: too many drives"),
    BAD(unknown_iface, "network override for eth9: no such interface"),
    BAD(override_tap_too_long, "override tap name too long"),
    BAD(vsock_override_without_vsock, "the snapshot has no vsock device"),
    BAD(vsock_override_too_long, "override uds_path too long"),
};

/* Sections in the wrong place, of the wrong size, too many; overrides that cannot apply. */
static void test_refused_layout(void **state)
{
	struct fixture f;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		fixture_init(&f);
		bad[i].spoil(&f);
		expect_refused(&f, bad[i].name, bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_refused_payloads),
	    cmocka_unit_test(test_refused_layout),
	};
	return cmocka_run_group_tests_name("snap_dev_config", tests, NULL, NULL);
}
