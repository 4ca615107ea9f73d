// SPDX-License-Identifier: Apache-2.0
/*
 * The device half of a snapshot, end to end, on a struct vm with no KVM
 * behind it: a running vsock (vsock_rig.h) in slot 0, snap_dev_save into a
 * state image, snap_dev_config back to the settings (with a clone's vsock
 * override), the device created again from them through its type, and
 * snap_dev_restore putting the transport state, the UART and the i8042
 * back and calling the type's restored() hook (vsock: TRANSPORT_RESET).
 * The guest's driver then carries on where it was.  Then what
 * snap_dev_restore refuses: a transport state missing, cut short, with
 * bytes left over or a bad flag, for another device, or one that no device
 * could be in; the UART's or the i8042's state missing or of a bad size.
 */
#include "vsock_rig.h"

#include "snap_dev.h"

#define EVBUF  0x600000
#define NO_ONE 9000 /* a host port nobody listens on: a packet to it draws an RST */

static struct vm *vm_new(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	assert_non_null(vm);
	assert_int_equal(serial_init(&vm->serial, -1, -1, -1), 0);
	assert_int_equal(i8042_init(&vm->i8042, NULL, NULL), 0);
	return vm;
}

static void vm_free(struct vm *vm)
{
	serial_destroy(&vm->serial);
	i8042_destroy(&vm->i8042);
	free(vm);
}

static void vm_put(struct vm *vm, struct rig *r)
{
	vm->dev[0] = (struct vm_dev){.type = vdev_type_find("vsock"), .dev = r->v, .t = r->t};
	vm->nr_devs = 1;
}

/* The old device gone, a new one created from @cfg through its type (as vm_add_devices does). */
static void recreate(struct rig *r, const struct vdev_config *c)
{
	const struct vdev_env env = {.gm = &r->gm, .loop = &r->loop};
	void *dev;

	vsock_destroy(r->v);
	assert_int_equal(c->type->create(&dev, c->data, &env), 0);
	r->v = dev;
	r->t = c->type->transport(dev);
	assert_false(virtio_mmio_live(r->t));
}

/* A guest packet to nobody: the TX chain comes back, an RST in the next RX buffer. */
static void ping(struct rig *r, uint32_t gport)
{
	struct vsock_hdr h;

	send_pkt(r, OP(RW), gport, NO_ONE, 0, NULL, 0, 0, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(h.dst_port, gport);
}

/* The writer's sections sealed and parsed, as a restore reads them. */
static void image(struct snap_writer *w, struct snap_image *img)
{
	char err[160];
	size_t len;
	const uint8_t *b = snap_w_bytes(w, &len);

	assert_non_null(b);
	if (snap_parse(b, len, img, err, sizeof(err)))
		fail_msg("snap_parse: %s", err);
}

static void save(struct rig *r, struct snap_image *img)
{
	struct snap_writer w;
	struct vm *vm = vm_new();

	vm_put(vm, r);
	vm->serial.lcr = 0x03;
	vm->serial.scr = 0x5a;
	vm->serial.dll = 0x01;
	vm->i8042.control = 0x45;
	snap_dev_quiesce(vm);
	assert_int_equal(snap_w_begin(&w, 0), 0);
	assert_int_equal(snap_dev_save(vm, &w, false), 0);
	image(&w, img);
	snap_w_free(&w);
	vm_free(vm);
}

static void test_save_config_restore(void **state)
{
	struct rig *r = *state;
	struct seg ev = {EVBUF, 8, true};
	struct snap_image img;
	struct virtio_mmio_state live, st;
	struct vm_config cfg = {0};
	struct snap_load_req req = {0};
	struct vdev_config c;
	struct vm *vm;
	const void *p;
	uint64_t len;
	const char *why;
	char err[200] = "", uds[sizeof(r->uds)];
	unsigned nr = 0;
	uint32_t id;

	/* An event buffer for later, and traffic so the indices are not 0. */
	add_chain(r, EVQ, &ev, 1);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, EVQ);
	settle(r);
	for (uint32_t i = 0; i < 3; i++)
		ping(r, 100 + i);
	virtio_mmio_get_state(r->t, &live);
	save(r, &img);

	/* What went into the image: the vsock's settings and its transport state. */
	assert_int_equal(snap_find(&img, SNAP_SEC_DEVICE, 0, &p, &len), 0);
	assert_int_equal(vdev_state_load(p, len, &c, err, sizeof(err)), 0);
	assert_ptr_equal(c.type, vdev_type_find("vsock"));
	assert_memory_equal(c.data, vsock_get_config(r->v), sizeof(struct vsock_config));
	assert_int_equal(snap_find(&img, SNAP_SEC_DEV_MMIO, 0, &p, &len), 0);
	assert_int_equal(virtio_mmio_state_load(p, len, VIRTIO_ID_VSOCK, &st, &why), 0);
	assert_int_equal(st.status, live.status);
	assert_int_equal(st.status, S_ALL);
	assert_true(st.driver_features == live.driver_features);
	assert_int_equal(st.vq[TXQ].last_avail, 3);
	assert_int_equal(st.vq[RXQ].used_idx, 3);
	assert_true(st.vq[EVQ].desc == qbase[EVQ]);
	assert_int_equal(snap_find(&img, SNAP_SEC_DEV_MMIO, 1, &p, &len), -ENOENT);
	assert_int_equal(snap_find(&img, SNAP_SEC_SERIAL, 0, &p, &len), 0);
	assert_int_equal(snap_find(&img, SNAP_SEC_I8042, 0, &p, &len), 0);

	/* Back to settings, the clone on its own socket. */
	snprintf(uds, sizeof(uds), "%s/clone.sock", r->dir);
	req.vsock_uds = uds;
	assert_int_equal(snap_dev_config(&img, &req, &cfg, &nr, err, sizeof(err)), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(cfg.devs.nr, 1);
	assert_ptr_equal(cfg.devs.dev[0].type, vdev_type_find("vsock"));
	assert_string_equal(((struct vsock_config *)cfg.devs.dev[0].data)->uds_path, uds);
	assert_int_equal(((struct vsock_config *)cfg.devs.dev[0].data)->guest_cid, CID);
	assert_string_equal(((struct vsock_config *)cfg.devs.dev[0].data)->vsock_id, "vsock0");

	/* The device again, restored. */
	recreate(r, &cfg.devs.dev[0]);
	assert_string_equal(vsock_get_config(r->v)->uds_path, uds);
	vm = vm_new();
	vm_put(vm, r);
	err[0] = 0;
	assert_int_equal(snap_dev_restore(vm, &img, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	settle(r);
	assert_true(virtio_mmio_live(r->t));
	assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), S_ALL);
	assert_int_equal(vm->serial.lcr, 0x03);
	assert_int_equal(vm->serial.scr, 0x5a);
	assert_int_equal(vm->serial.dll, 0x01);
	assert_int_equal(vm->i8042.control, 0x45);
	/* restored(): the guest hears its connections are gone, in the buffer it posted. */
	assert_int_equal(used_count(r, EVQ), 1);
	memcpy(&id, at(r, EVBUF), 4);
	assert_int_equal(le32toh(id), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	/* And the queues go on from where they stood. */
	ping(r, 200);
	assert_int_equal(get16(r, qbase[TXQ] + 0x2002), 4);
	assert_int_equal(get16(r, qbase[RXQ] + 0x2002), 4);
	vm_free(vm);
	snap_image_free(&img);
}

/* ---- refusals -------------------------------------------------------------------- */

/* @img again with section (@type, 0) replaced by @p/@len (NULL: left out). */
static void replaced(const struct snap_image *img, uint32_t type, const void *p, size_t len,
		     struct snap_image *out)
{
	struct snap_writer w;

	assert_int_equal(snap_w_begin(&w, 0), 0);
	for (uint32_t i = 0; i < img->nr_sections; i++) {
		const struct snap_section *s = &img->sections[i];

		if (s->type == type && s->id == 0) {
			if (p)
				assert_int_equal(snap_w_section(&w, type, 0, p, len), 0);
			continue;
		}
		assert_int_equal(snap_w_section(&w, s->type, s->id, s->data, s->len), 0);
	}
	image(&w, out);
	snap_w_free(&w);
}

/*
 * Refused with @why; a transport state that is refused leaves the device
 * as it was (@untouched), the legacy devices come after the transport.
 */
static void expect_restore_refused(struct rig *r, const struct snap_image *img, const char *why,
				   bool untouched)
{
	struct vm *vm = vm_new();
	char err[200] = "";

	vm_put(vm, r);
	assert_int_equal(snap_dev_restore(vm, img, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("\"%s\" does not say \"%s\"", err, why);
	if (untouched) {
		assert_false(virtio_mmio_live(r->t));
		assert_int_equal(rd32(r, VIRTIO_MMIO_STATUS), 0);
	}
	vm_free(vm);
}

/*
 * Settings only (a migration's CONFIG frame, taken while the vCPUs run):
 * each device's settings section, byte for byte as in a full save, and
 * none of the state the vCPUs change (transport, UART, i8042).
 */
static void test_settings_only(void **state)
{
	struct rig *r = *state;
	struct snap_image full, cfg;
	struct snap_writer w;
	struct vm *vm = vm_new();
	const void *p, *q;
	uint64_t len, qlen;

	save(r, &full);
	vm_put(vm, r);
	assert_int_equal(snap_w_begin(&w, 0), 0);
	assert_int_equal(snap_dev_save(vm, &w, true), 0);
	image(&w, &cfg);
	snap_w_free(&w);
	vm_free(vm);
	assert_int_equal(snap_find(&cfg, SNAP_SEC_DEVICE, 0, &p, &len), 0);
	assert_int_equal(snap_find(&full, SNAP_SEC_DEVICE, 0, &q, &qlen), 0);
	assert_int_equal(len, qlen);
	assert_memory_equal(p, q, len);
	assert_int_equal(snap_find(&cfg, SNAP_SEC_DEV_MMIO, 0, &p, &len), -ENOENT);
	assert_int_equal(snap_find(&cfg, SNAP_SEC_SERIAL, 0, &p, &len), -ENOENT);
	assert_int_equal(snap_find(&cfg, SNAP_SEC_I8042, 0, &p, &len), -ENOENT);
	assert_int_equal(snap_sections_within(&cfg, &full), 0);
	snap_image_free(&cfg);
	snap_image_free(&full);
}

static void test_restore_refusals(void **state)
{
	struct rig *r = *state;
	struct snap_image img, bad;
	struct virtio_mmio_state st;
	struct vdev_config c;
	struct pw w;
	const void *p;
	uint64_t len;
	const char *why;
	uint8_t copy[1024], junk[3] = {0};
	char err[200];

	ping(r, 100);
	save(r, &img);
	assert_int_equal(snap_find(&img, SNAP_SEC_DEVICE, 0, &p, &len), 0);
	assert_int_equal(vdev_state_load(p, len, &c, err, sizeof(err)), 0);
	recreate(r, &c);
	assert_int_equal(snap_find(&img, SNAP_SEC_DEV_MMIO, 0, &p, &len), 0);
	assert_true(len < sizeof(copy));
	memcpy(copy, p, len);
	assert_int_equal(virtio_mmio_state_load(p, len, VIRTIO_ID_VSOCK, &st, &why), 0);

	replaced(&img, SNAP_SEC_DEV_MMIO, NULL, 0, &bad);
	expect_restore_refused(r, &bad, "snapshot device 0: transport state missing", true);
	snap_image_free(&bad);
	replaced(&img, SNAP_SEC_DEV_MMIO, copy, len - 1, &bad);
	expect_restore_refused(r, &bad, "snapshot device 0: truncated", true);
	snap_image_free(&bad);
	copy[len] = 0;
	replaced(&img, SNAP_SEC_DEV_MMIO, copy, len + 1, &bad);
	expect_restore_refused(r, &bad, "snapshot device 0: trailing bytes", true);
	snap_image_free(&bad);
	copy[2 + 4 + 3 * 4 + 8 + 3 * 4] = 2; /* activated: after u16, 4 u32, u64, 3 u32 */
	replaced(&img, SNAP_SEC_DEV_MMIO, copy, len, &bad);
	expect_restore_refused(r, &bad, "snapshot device 0: a flag that is neither 0 nor 1", true);
	snap_image_free(&bad);

	/* A net's transport state in the vsock's slot. */
	pw_init(&w);
	virtio_mmio_state_save(&st, VIRTIO_ID_NET, &w);
	replaced(&img, SNAP_SEC_DEV_MMIO, w.buf, w.len, &bad);
	expect_restore_refused(r, &bad, "snapshot device 0: transport state is for another device",
			       true);
	snap_image_free(&bad);
	pw_free(&w);
	/* Well formed, but no device could be in it. */
	st.status |= 0x20;
	pw_init(&w);
	virtio_mmio_state_save(&st, VIRTIO_ID_VSOCK, &w);
	replaced(&img, SNAP_SEC_DEV_MMIO, w.buf, w.len, &bad);
	expect_restore_refused(r, &bad, "unknown bits", true);
	snap_image_free(&bad);
	pw_free(&w);

	/* The legacy devices: the transport restores first, so a fresh device for each. */
	replaced(&img, SNAP_SEC_SERIAL, NULL, 0, &bad);
	expect_restore_refused(r, &bad, "serial port state missing or of a bad size", false);
	snap_image_free(&bad);
	recreate(r, &c);
	replaced(&img, SNAP_SEC_SERIAL, junk, sizeof(junk), &bad);
	expect_restore_refused(r, &bad, "serial port state missing or of a bad size", false);
	snap_image_free(&bad);
	recreate(r, &c);
	replaced(&img, SNAP_SEC_I8042, junk, sizeof(junk), &bad);
	expect_restore_refused(r, &bad, "i8042 state missing or of a bad size", false);
	snap_image_free(&bad);
	/* Explicit encodings: version 1, six registers, a flag that must be 0 or 1. */
	recreate(r, &c);
	replaced(&img, SNAP_SEC_SERIAL, (const uint8_t[]){1, 0, 0, 0, 0, 0, 0, 0, 2}, 9, &bad);
	expect_restore_refused(r, &bad, "serial port state missing or of a bad size", false);
	snap_image_free(&bad);
	recreate(r, &c);
	replaced(&img, SNAP_SEC_I8042, (const uint8_t[]){2, 0, 0, 0}, 4, &bad);
	expect_restore_refused(r, &bad, "i8042 state missing or of a bad size", false);
	snap_image_free(&bad);

	/* After all that, the good image still restores. */
	recreate(r, &c);
	{
		struct vm *vm = vm_new();

		vm_put(vm, r);
		assert_int_equal(snap_dev_restore(vm, &img, err, sizeof(err)), 0);
		assert_true(virtio_mmio_live(r->t));
		ping(r, 101);
		vm_free(vm);
	}
	snap_image_free(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_save_config_restore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_settings_only, setup, teardown),
	};
	return cmocka_run_group_tests_name("snap_dev_vm", tests, NULL, NULL);
}
