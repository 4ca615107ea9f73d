// SPDX-License-Identifier: Apache-2.0
/*
 * snap_dev_config on device payloads a file could carry but ember never
 * writes (snapcfg_rig.h builds the rest of the image): fields out of range
 * (an engine of 3, CIDs 0, 2, 2^32-1 and 2^32, empty ids, paths and taps),
 * flags that are neither 0 nor 1, payloads cut short or with bytes left
 * over, strings too long for their field or holding a NUL, an unknown
 * device type or state version, one type's payload under another's name.
 * Each is refused with a message naming the slot and what is wrong.
 */
#include "snapcfg_rig.h"

/* Spoilers of the configs (before the sections are built)... */
static void empty_path(struct fixture *f)
{
	f->blk[1].path[0] = 0;
}

static void empty_drive_id(struct fixture *f)
{
	f->blk[0].drive_id[0] = 0;
}

static void engine_3(struct fixture *f)
{
	f->blk[0].engine = (enum vblk_engine)3;
}

static void empty_tap(struct fixture *f)
{
	f->net[1].host_dev_name[0] = 0;
}

static void empty_iface(struct fixture *f)
{
	f->net[0].iface_id[0] = 0;
}

static void cid_0(struct fixture *f)
{
	f->vsock.guest_cid = 0;
}

static void cid_2(struct fixture *f)
{
	f->vsock.guest_cid = 2;
}

static void cid_any(struct fixture *f)
{
	f->vsock.guest_cid = 0xffffffffull;
}

static void cid_2_32(struct fixture *f)
{
	f->vsock.guest_cid = 1ull << 32;
}

/* ...and of the sections (after). */
static void read_only_2(struct fixture *f)
{
	own(f, settings(f, 1))[flag_byte(vdev_type_find("block"), &f->blk[1],
					 offsetof(struct vblk_config, read_only))] = 2;
}

static void is_root_2(struct fixture *f)
{
	own(f, settings(f, 0))[flag_byte(vdev_type_find("block"), &f->blk[0],
					 offsetof(struct vblk_config, is_root))] = 2;
}

static void has_mac_2(struct fixture *f)
{
	own(f, settings(f, 2))[flag_byte(vdev_type_find("net"), &f->net[0],
					 offsetof(struct vnet_config, has_mac))] = 2;
}

static void blk_short(struct fixture *f)
{
	settings(f, 0)->len--;
}

static void blk_header_cut(struct fixture *f)
{
	settings(f, 1)->len = 8;
}

static void net_long(struct fixture *f)
{
	struct sec *s = settings(f, 2);

	own(f, s)[s->len++] = 0;
}

static void vsock_as_blk(struct fixture *f)
{
	hand_dev(f, 4, "block", 1, "vsock", &f->vsock);
}

static void unknown_type(struct fixture *f)
{
	hand_dev(f, 1, "floppy", 1, "block", &f->blk[1]);
}

static void version_0(struct fixture *f)
{
	hand_dev(f, 1, "block", 0, "block", &f->blk[1]);
}

static void version_2(struct fixture *f)
{
	hand_dev(f, 3, "net", 4, "net", &f->net[1]);
}

static void id_with_nul(struct fixture *f)
{
	/* "block", version, then drive_id "scratch": its 3rd character. */
	own(f, settings(f, 1))[2 + 5 + 2 + 2 + 2] = 0;
}

static void id_too_long(struct fixture *f)
{
	struct pw *w = newbuf(f);
	char id[65];

	memset(id, 'i', 64);
	id[64] = 0;
	pw_str(w, "block");
	pw_u16(w, 1);
	pw_str(w, id); /* drive_id holds 63 */
	pw_str(w, "/p");
	pw_str(w, "");
	pw_bool(w, false);
	pw_bool(w, false);
	pw_u8(w, 0);
	*settings(f, 1) = (struct sec){SNAP_SEC_DEVICE, 1, w->buf, w->len};
}

static void tap_too_long(struct fixture *f)
{
	struct pw *w = newbuf(f);

	pw_str(w, "net");
	pw_u16(w, 1);
	pw_str(w, "eth1");
	pw_str(w, "tap-name-of-16ch"); /* host_dev_name holds 15 */
	pw_bool(w, false);
	pw_bytes(w, "\0\0\0\0\0\0", 6);
	*settings(f, 3) = (struct sec){SNAP_SEC_DEVICE, 3, w->buf, w->len};
}

static const struct bad_case bad[] = {
    PRE(empty_path, "snapshot device 1: block settings: an empty drive id or path"),
    PRE(empty_drive_id, "snapshot device 0: block settings: an empty drive id or path"),
    PRE(engine_3, "snapshot device 0: block settings: an unknown engine"),
    PRE(empty_tap, "snapshot device 3: net settings: an empty interface id or tap name"),
    PRE(empty_iface, "snapshot device 2: net settings: an empty interface id or tap name"),
    PRE(cid_0, "snapshot device 4: vsock settings: a guest CID out of range"),
    PRE(cid_2, "snapshot device 4: vsock settings: a guest CID out of range"),
    PRE(cid_any, "snapshot device 4: vsock settings: a guest CID out of range"),
    PRE(cid_2_32, "snapshot device 4: vsock settings: a guest CID out of range"),
    POST(read_only_2, "snapshot device 1: block settings: a flag that is neither 0 nor 1"),
    POST(is_root_2, "snapshot device 0: block settings: a flag that is neither 0 nor 1"),
    POST(has_mac_2, "snapshot device 2: net settings: a flag that is neither 0 nor 1"),
    POST(blk_short, "snapshot device 0: block settings: truncated"),
    POST(blk_header_cut, "snapshot device 1: device state: truncated"),
    POST(net_long, "snapshot device 2: net settings: trailing bytes"),
    POST(vsock_as_blk, "snapshot device 4: block settings: "),
    POST(unknown_type, "snapshot device 1: device type 'floppy' unknown to this ember"),
    POST(version_0, "snapshot device 1: block state version 0, this ember reads 1 to 3"),
    POST(version_2, "snapshot device 3: net state version 4, this ember reads 1 to 3"),
    POST(id_with_nul, "snapshot device 1: block settings: a string with a NUL in it"),
    POST(id_too_long, "snapshot device 1: block settings: a string too long"),
    POST(tap_too_long, "snapshot device 3: net settings: a string too long"),
};

static void test_refused_payloads(void **state)
{
	(void)state;
	run_bad(bad, ARRAY_SIZE(bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_payloads),
	};
	return cmocka_run_group_tests_name("snap_dev_payload", tests, NULL, NULL);
}
