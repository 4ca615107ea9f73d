// SPDX-License-Identifier: Apache-2.0
/*
 * snap_dev_config: the device settings of a snapshot state file back into a
 * struct vm_config, with a clone's overrides (taps by iface_id, the vsock's
 * Unix socket) applied.  snapcfg_rig.h builds the images with the real
 * encoders, writer and parser, so only snap_dev_config's own checks can
 * refuse them.  Here: what goes in comes out, in ember's attach order (the
 * root drive first, the rest as given), and the layouts and overrides that
 * cannot be: a root drive second, two roots, ids or taps used twice, gaps,
 * strays, sections of the old format, more devices than a VM has.
 * test_snap_dev_payload.c spoils the payloads themselves.
 */
#include "snapcfg_rig.h"

/* ---- what goes in comes out -------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fixture f;
	struct vm_config cfg;

	(void)state;
	fixture_init(&f);
	fixture_build(&f);
	assert_int_equal(load_ok(&f, &cfg), NR_SLOTS);
	expect_dev(&cfg, 0, "block", &f.blk[0]);
	expect_dev(&cfg, 1, "block", &f.blk[1]);
	expect_dev(&cfg, 2, "net", &f.net[0]);
	expect_dev(&cfg, 3, "net", &f.net[1]);
	expect_dev(&cfg, 4, "vsock", &f.vsock);
	/* Spot checks, in case both sides were wrong the same way. */
	assert_string_equal(((const struct vblk_config *)dev_data(&cfg, 1))->serial, "SER-1");
	assert_int_equal(((const struct vblk_config *)dev_data(&cfg, 1))->engine,
			 VBLK_ENGINE_IO_URING);
	assert_int_equal(((const struct vnet_config *)dev_data(&cfg, 2))->mac[2], 0xac);
	assert_string_equal(((const struct vsock_config *)dev_data(&cfg, 4))->uds_path,
			    "/run/ember/v.sock");

	/* A VM with drives only: no nets, no vsock. */
	f.nr = 4;
	assert_int_equal(load_ok(&f, &cfg), 2);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("block")), 2);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("net")), 0);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("vsock")), 0);

	/* No devices at all. */
	f.nr = 0;
	assert_int_equal(load_ok(&f, &cfg), 0);
	fixture_free(&f);
}

/*
 * ember attaches the root drive first and the rest in the order given, so
 * a net before a drive (or the vsock before a net) is a VM ember builds;
 * the order comes back as it was.
 */
static void test_order_kept(void **state)
{
	struct fixture f;
	struct vm_config cfg;

	(void)state;
	fixture_init(&f);
	f.blk[0].is_root = false;
	add_dev(&f, "net", 0, &f.net[0]);
	add_dev(&f, "vsock", 1, &f.vsock);
	add_dev(&f, "block", 2, &f.blk[1]);
	add_dev(&f, "net", 3, &f.net[1]);
	add_dev(&f, "block", 4, &f.blk[0]);
	assert_int_equal(load_ok(&f, &cfg), 5);
	expect_dev(&cfg, 0, "net", &f.net[0]);
	expect_dev(&cfg, 1, "vsock", &f.vsock);
	expect_dev(&cfg, 2, "block", &f.blk[1]);
	expect_dev(&cfg, 3, "net", &f.net[1]);
	expect_dev(&cfg, 4, "block", &f.blk[0]);
	fixture_free(&f);

	/* The root drive first, then anything. */
	fixture_init(&f);
	add_dev(&f, "block", 0, &f.blk[0]);
	add_dev(&f, "vsock", 1, &f.vsock);
	add_dev(&f, "net", 2, &f.net[1]);
	add_dev(&f, "block", 3, &f.blk[1]);
	assert_int_equal(load_ok(&f, &cfg), 4);
	expect_dev(&cfg, 0, "block", &f.blk[0]);
	expect_dev(&cfg, 1, "vsock", &f.vsock);
	expect_dev(&cfg, 2, "net", &f.net[1]);
	expect_dev(&cfg, 3, "block", &f.blk[1]);
	fixture_free(&f);
}

/* Sixteen devices is the budget: all drives is fine (the old limit was 8). */
static void test_sixteen_drives(void **state)
{
	struct fixture f;
	struct vm_config cfg;
	struct vblk_config d[VDEV_MAX];

	(void)state;
	fixture_init(&f);
	memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < VDEV_MAX; i++) {
		snprintf(d[i].drive_id, sizeof(d[i].drive_id), "d%u", i);
		snprintf(d[i].path, sizeof(d[i].path), "/srv/d%u.img", i);
		d[i].is_root = i == 0;
		add_dev(&f, "block", i, &d[i]);
	}
	assert_int_equal(load_ok(&f, &cfg), VDEV_MAX);
	for (unsigned i = 0; i < VDEV_MAX; i++)
		expect_dev(&cfg, i, "block", &d[i]);
	fixture_free(&f);
}

/* A clone gets its own taps (matched by iface_id) and its own vsock socket. */
static void test_overrides(void **state)
{
	struct fixture f;
	struct vm_config cfg;
	const struct vnet_config *n0, *n1;
	const struct vsock_config *v;

	(void)state;
	fixture_init(&f);
	fixture_build(&f);
	f.ov[0] = (struct snap_net_override){"eth1", "tap-clone7"};
	f.req.nr_nets = 1;
	f.req.vsock_uds = "/run/clone7/v.sock";
	assert_int_equal(load_ok(&f, &cfg), NR_SLOTS);
	n0 = dev_data(&cfg, 2);
	n1 = dev_data(&cfg, 3);
	v = dev_data(&cfg, 4);
	assert_string_equal(n0->host_dev_name, "tap0");
	assert_string_equal(n1->host_dev_name, "tap-clone7");
	assert_string_equal(n1->iface_id, "eth1");
	assert_string_equal(v->uds_path, "/run/clone7/v.sock");
	assert_int_equal(v->guest_cid, 3);
	assert_string_equal(v->vsock_id, "vsock");
	/* Nothing else moved: the drives and eth0 are as saved. */
	expect_dev(&cfg, 0, "block", &f.blk[0]);
	expect_dev(&cfg, 1, "block", &f.blk[1]);
	expect_dev(&cfg, 2, "net", &f.net[0]);

	/* Both nets overridden, in the other order; a tap name of 15 characters fits. */
	f.ov[0] = (struct snap_net_override){"eth1", "tapB"};
	f.ov[1] = (struct snap_net_override){"eth0", "tap-name-of-15c"};
	f.req.nr_nets = 2;
	f.req.vsock_uds = NULL;
	assert_int_equal(load_ok(&f, &cfg), NR_SLOTS);
	n0 = dev_data(&cfg, 2);
	n1 = dev_data(&cfg, 3);
	assert_string_equal(n0->host_dev_name, "tap-name-of-15c");
	assert_string_equal(n1->host_dev_name, "tapB");
	assert_true(n0->has_mac);
	assert_int_equal(n0->mac[5], 2);
	expect_dev(&cfg, 4, "vsock", &f.vsock); /* no vsock override: as saved */
	fixture_free(&f);
}

/* ---- refusals ------------------------------------------------------------------ */

static void root_second(struct fixture *f)
{
	f->blk[0].is_root = false;
	f->blk[1].is_root = true;
}

static void two_roots(struct fixture *f)
{
	f->blk[1].is_root = true;
}

static void same_drive_id(struct fixture *f)
{
	strcpy(f->blk[1].drive_id, "rootfs");
}

static void same_tap(struct fixture *f)
{
	strcpy(f->net[1].host_dev_name, "tap0");
}

static void same_iface(struct fixture *f)
{
	strcpy(f->net[1].iface_id, "eth0");
}

static void two_in_one_slot(struct fixture *f)
{
	add_dev(f, "net", 0, &f->net[1]);
}

static void second_vsock(struct fixture *f)
{
	add_dev(f, "vsock", NR_SLOTS, &f->vsock);
}

static void stray_mmio(struct fixture *f)
{
	add(f, SNAP_SEC_DEV_MMIO, NR_SLOTS + 2, f->sec[1].p, f->sec[1].len);
}

static void mmio_after_last(struct fixture *f)
{
	add(f, SNAP_SEC_DEV_MMIO, NR_SLOTS, f->sec[1].p, f->sec[1].len);
}

/* Settings (and their transport state) for a slot after a gap: not silently dropped. */
static void settings_after_gap(struct fixture *f)
{
	add_dev(f, "vsock", NR_SLOTS + 1, &f->vsock);
}

static void old_blk_section(struct fixture *f)
{
	add(f, 0x202, 0, &f->blk[0], 64);
}

static void old_config_section(struct fixture *f)
{
	add(f, 0x201, 3, "cfg", 3);
}

static void old_vsock_section(struct fixture *f)
{
	add(f, 0x204, 4, &f->vsock, 8);
}

static void seventeen_drives(struct fixture *f)
{
	static struct vblk_config d[VDEV_MAX + 1];

	f->nr = 4; /* the two drives; then fifteen more */
	for (uint32_t slot = 2; slot <= VDEV_MAX; slot++) {
		d[slot] = f->blk[1];
		snprintf(d[slot].drive_id, sizeof(d[slot].drive_id), "d%u", slot);
		add_dev(f, "block", slot, &d[slot]);
	}
}

static void nine_nets(struct fixture *f)
{
	static struct vnet_config n[9];

	f->nr = 4; /* the two drives; then nine nets */
	for (uint32_t i = 0; i < 9; i++) {
		n[i] = f->net[1];
		snprintf(n[i].iface_id, sizeof(n[i].iface_id), "eth%u", i);
		snprintf(n[i].host_dev_name, sizeof(n[i].host_dev_name), "tap%u", i);
		add_dev(f, "net", 2 + i, &n[i]);
	}
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

static const struct bad_case bad[] = {
    PRE(root_second, "snapshot device 1: a root disk not in the first slot"),
    PRE(two_roots, "snapshot device 1: only one disk can be root"),
    PRE(same_drive_id, "snapshot device 1: block id 'rootfs' used twice"),
    PRE(same_tap, "snapshot device 3: interface or tap used twice (tap tap0)"),
    PRE(same_iface, "snapshot device 3: net id 'eth0' used twice"),
    POST(second_vsock, "snapshot device 5: only one vsock device"),
    POST(stray_mmio, "snapshot device 7: transport state without device settings"),
    POST(mmio_after_last, "snapshot device 5: transport state without device settings"),
    POST(settings_after_gap, "snapshot device 6: device settings after a gap in the slots"),
    POST(old_blk_section, "snapshot device 0: a device section of the old format"),
    POST(old_config_section, "snapshot device 3: a device section of the old format"),
    POST(old_vsock_section, "snapshot device 4: a device section of the old format"),
    POST(seventeen_drives, "snapshot device 16: too many devices"),
    POST(nine_nets, "snapshot device 10: more than 8 net devices"),
    POST(unknown_iface, "network override for eth9: no such interface in the snapshot"),
    POST(override_tap_too_long, "net eth0: override tap name too long"),
    POST(vsock_override_without_vsock, "vsock override: the snapshot has no vsock device"),
    POST(vsock_override_too_long, "vsock vsock: override uds_path must be 1..96 characters"),
};

/* Sections in the wrong place, too many, duplicates; overrides that cannot apply. */
static void test_refused_layout(void **state)
{
	(void)state;
	run_bad(bad, ARRAY_SIZE(bad));
}

/* Two devices in one slot cannot even be written down: the file's parser refuses it. */
static void test_two_in_one_slot(void **state)
{
	struct fixture f;
	struct snap_writer w;
	struct snap_image img;
	const uint8_t *b;
	size_t len;
	char err[200] = "";

	(void)state;
	fixture_init(&f);
	fixture_build(&f);
	two_in_one_slot(&f);
	assert_int_equal(snap_w_begin(&w, 0), 0);
	for (unsigned i = 0; i < f.nr; i++)
		assert_int_equal(
		    snap_w_section(&w, f.sec[i].type, f.sec[i].id, f.sec[i].p, f.sec[i].len), 0);
	b = snap_w_bytes(&w, &len);
	assert_non_null(b);
	assert_int_equal(snap_parse(b, len, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "duplicates section 0 (device 0)"));
	snap_w_free(&w);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	   cmocka_unit_test(test_order_kept),
	    cmocka_unit_test(test_sixteen_drives), cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_refused_layout), cmocka_unit_test(test_two_in_one_slot),
	};
	return cmocka_run_group_tests_name("snap_dev_config", tests, NULL, NULL);
}
