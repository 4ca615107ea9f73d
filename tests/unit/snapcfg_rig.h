/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot rig shared by test_snap_dev_config.c and
 * test_snap_dev_payload.c: a VM's device sections (two drives, two nets, a
 * vsock) encoded with the real encoders (vdev_state_save,
 * virtio_mmio_state_save), written and parsed with the real snapfile code,
 * then handed to snap_dev_config; and the means to spoil them.
 */
#ifndef EMBER_TEST_SNAPCFG_RIG_H
#define EMBER_TEST_SNAPCFG_RIG_H

#include <stdio.h>

#include "unit.h"

#include "blk.h"
#include "net.h"
#include "snap_dev.h"
#include "vdev_enc.h"
#include "vsock.h"

#define NR_SLOTS 5 /* 0 the root drive, 1 a second drive, 2-3 two nets, 4 the vsock */
#define MAX_SEC	 48

struct sec {
	uint32_t type, id;
	const void *p;
	size_t len;
};

/* A snapshot of a VM with every kind of device; cases spoil it. */
struct fixture {
	struct vblk_config blk[2];
	struct vnet_config net[2];
	struct vsock_config vsock;
	struct pw buf[MAX_SEC]; /* the payloads, owned */
	unsigned nbuf;
	struct sec sec[MAX_SEC];
	unsigned nr;
	struct snap_net_override ov[2];
	struct snap_load_req req;
};

static inline struct pw *newbuf(struct fixture *f)
{
	assert_true(f->nbuf < MAX_SEC);
	pw_init(&f->buf[f->nbuf]);
	return &f->buf[f->nbuf++];
}

static inline struct sec *add(struct fixture *f, uint32_t type, uint32_t id, const void *p,
			      size_t len)
{
	assert_true(f->nr < MAX_SEC);
	f->sec[f->nr] = (struct sec){type, id, p, len};
	return &f->sec[f->nr++];
}

static inline struct sec *add_pw(struct fixture *f, uint32_t type, uint32_t id, struct pw *w)
{
	assert_int_equal(w->err, 0);
	return add(f, type, id, w->buf, w->len);
}

static inline uint32_t device_id(const char *type)
{
	return !strcmp(type, "block") ? VIRTIO_ID_BLOCK
	       : !strcmp(type, "net") ? VIRTIO_ID_NET
				      : VIRTIO_ID_VSOCK;
}

/* Settings and transport state for @slot, as snap_dev_save writes them. */
static inline struct sec *add_dev(struct fixture *f, const char *type, uint32_t slot,
				  const void *cfg)
{
	const struct virtio_mmio_state st = {0};
	struct pw *w = newbuf(f), *m = newbuf(f);
	struct sec *s;

	assert_non_null(vdev_type_find(type));
	assert_int_equal(vdev_state_save(vdev_type_find(type), cfg, w), 0);
	s = add_pw(f, SNAP_SEC_DEVICE, slot, w);
	virtio_mmio_state_save(&st, device_id(type), m);
	add_pw(f, SNAP_SEC_DEV_MMIO, slot, m);
	return s;
}

static inline void fixture_init(struct fixture *f)
{
	static const uint8_t mac[6] = {0x06, 0, 0xac, 0x10, 0, 2};

	memset(f, 0, sizeof(*f)); /* padding too: the configs are compared byte for byte */
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
	f->req.nets = f->ov;
}

/* The sections of the five devices, from the configs as they are now. */
static inline void fixture_build(struct fixture *f)
{
	add_dev(f, "block", 0, &f->blk[0]);
	add_dev(f, "block", 1, &f->blk[1]);
	add_dev(f, "net", 2, &f->net[0]);
	add_dev(f, "net", 3, &f->net[1]);
	add_dev(f, "vsock", 4, &f->vsock);
}

static inline void fixture_free(struct fixture *f)
{
	for (unsigned i = 0; i < f->nbuf; i++)
		pw_free(&f->buf[i]);
	f->nbuf = f->nr = 0;
}

/* The image through the real writer and parser, then snap_dev_config. */
static inline int load(const struct fixture *f, struct vm_config *cfg, unsigned *nr_slots,
		       char *err, size_t errlen)
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
	if (snap_parse(b, len, &img, perr, sizeof(perr)))
		fail_msg("snap_parse: %s", perr);
	snap_w_free(&w);
	memset(cfg, 0, sizeof(*cfg));
	*nr_slots = 12345;
	err[0] = 0;
	r = snap_dev_config(&img, &f->req, cfg, nr_slots, err, errlen);
	snap_image_free(&img);
	return r;
}

/* @f must be accepted, without a message; returns how many slots it has. */
static inline unsigned load_ok(const struct fixture *f, struct vm_config *cfg)
{
	unsigned nr;
	char err[200];

	if (load(f, cfg, &nr, err, sizeof(err)))
		fail_msg("refused: %s", err);
	assert_string_equal(err, "");
	assert_int_equal(nr, cfg->devs.nr);
	return nr;
}

/* Device @i of @cfg must be of @type with settings equal to @want, byte for byte. */
static inline void expect_dev(const struct vm_config *cfg, unsigned i, const char *type,
			      const void *want)
{
	const struct vdev_type *t = vdev_type_find(type);

	assert_true(i < cfg->devs.nr);
	assert_ptr_equal(cfg->devs.dev[i].type, t);
	assert_memory_equal(cfg->devs.dev[i].data, want, t->config_size);
}

static inline const void *dev_data(const struct vm_config *cfg, unsigned i)
{
	assert_true(i < cfg->devs.nr);
	return cfg->devs.dev[i].data;
}

static inline void expect_refused(const struct fixture *f, const char *name, const char *why)
{
	struct vm_config cfg;
	unsigned nr;
	char err[200];

	if (load(f, &cfg, &nr, err, sizeof(err)) != -EINVAL)
		fail_msg("%s: accepted", name);
	if (!strstr(err, why))
		fail_msg("%s: \"%s\" does not say \"%s\"", name, err, why);
}

/* The section of slot @slot's settings. */
static inline struct sec *settings(struct fixture *f, uint32_t slot)
{
	for (unsigned i = 0; i < f->nr; i++)
		if (f->sec[i].type == SNAP_SEC_DEVICE && f->sec[i].id == slot)
			return &f->sec[i];
	fail_msg("no settings for slot %u", slot);
	return NULL;
}

/* A writable copy of @s's payload, which @s then points to. */
static inline uint8_t *own(struct fixture *f, struct sec *s)
{
	struct pw *w = newbuf(f);

	pw_bytes(w, s->p, s->len);
	pw_u8(w, 0); /* room for a trailing byte */
	assert_int_equal(w->err, 0);
	s->p = w->buf;
	return w->buf;
}

/* A device section by hand: @name, @version, then @type's encoding of @cfg. */
static inline void hand_dev(struct fixture *f, uint32_t slot, const char *name, uint16_t version,
			    const char *type, const void *cfg)
{
	struct pw *w = newbuf(f);

	pw_str(w, name);
	pw_u16(w, version);
	vdev_type_find(type)->save(cfg, w);
	*settings(f, slot) = (struct sec){SNAP_SEC_DEVICE, slot, w->buf, w->len};
}

struct bad_case {
	const char *name;
	void (*pre)(struct fixture *f);	 /* on the configs, before the sections are built */
	void (*post)(struct fixture *f); /* on the sections */
	const char *why;		 /* in the message */
};

#define PRE(fn, why)                                                                               \
	{                                                                                          \
#fn, fn, NULL, why                                                                 \
	}
#define POST(fn, why)                                                                              \
	{                                                                                          \
#fn, NULL, fn, why                                                                 \
	}

/* Each case on a fresh fixture: refused, with @why in the message. */
static inline void run_bad(const struct bad_case *bad, unsigned n)
{
	struct fixture f;

	for (unsigned i = 0; i < n; i++) {
		fixture_init(&f);
		if (bad[i].pre)
			bad[i].pre(&f);
		fixture_build(&f);
		if (bad[i].post)
			bad[i].post(&f);
		expect_refused(&f, bad[i].name, bad[i].why);
		fixture_free(&f);
	}
}

#endif /* EMBER_TEST_SNAPCFG_RIG_H */
