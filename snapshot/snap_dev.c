// SPDX-License-Identifier: Apache-2.0
/*
 * Devices in a snapshot: for every virtio-mmio slot the device's settings
 * (SNAP_SEC_DEVICE, in the device's own versioned encoding) and its
 * transport state (SNAP_SEC_DEV_MMIO), then the UART, the i8042 and, if
 * the guest has one, where its VM generation ID is (snapshot.c renews it).  On load
 * the settings come back first, as the vm_config the VM is rebuilt from
 * (with the overrides a clone needs), and the transport states after the
 * devices exist.  Nothing here knows a device type: virtio/device.h.
 *
 * Everything read here went through a file the API named, so each payload
 * is checked as if the guest had written it: the decoders bound every field,
 * and the slots must be contiguous, in the order ember attaches devices.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap_dev.h"

void snap_dev_quiesce(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devs; i++)
		if (vm->dev[i].type->quiesce)
			vm->dev[i].type->quiesce(vm->dev[i].dev);
}

int snap_dev_mem_save(struct vm *vm, int fd, char *err, size_t errlen)
{
	struct log_capture why;
	struct stat st;
	uint64_t off;
	int r = 0;

	if (fstat(fd, &st))
		return -errno;
	off = (uint64_t)st.st_size; /* RAM's end: snap_mem_write sized the file to it */
	log_capture_begin(&why);
	for (unsigned i = 0; i < vm->nr_devs && !r; i++)
		if (vm->dev[i].type->mem_save)
			r = vm->dev[i].type->mem_save(vm->dev[i].dev, fd, &off);
	log_capture_end(&why);
	if (!r && fsync(fd))
		r = -errno;
	if (r)
		snprintf(err, errlen, "cannot write device memory: %s",
			 why.msg[0] ? why.msg : strerror(-r));
	return r;
}

int snap_dev_mem_restore(struct vm *vm, int fd, char *err, size_t errlen)
{
	struct log_capture why;
	int r = 0;

	log_capture_begin(&why);
	for (unsigned i = 0; i < vm->nr_devs && !r; i++)
		if (vm->dev[i].type->mem_restore)
			r = vm->dev[i].type->mem_restore(vm->dev[i].dev, fd);
	log_capture_end(&why);
	if (r)
		snprintf(err, errlen, "cannot restore device memory: %s",
			 why.msg[0] ? why.msg : strerror(-r));
	return r;
}

/*
 * The legacy devices, little-endian, version 1 each (u16 first):
 *   UART:  u8 ier, lcr, mcr, scr, dll, dlm, bool thre_pending
 *   i8042: u8 control, pending_cmd
 */
#define LEGACY_STATE_VERSION 1

static int legacy_save(struct vm *vm, struct snap_writer *w)
{
	struct serial_state ss;
	struct i8042_state ks;
	struct pw e;
	int r;

	serial_get_state(&vm->serial, &ss);
	pw_init(&e);
	pw_u16(&e, LEGACY_STATE_VERSION);
	pw_u8(&e, ss.ier);
	pw_u8(&e, ss.lcr);
	pw_u8(&e, ss.mcr);
	pw_u8(&e, ss.scr);
	pw_u8(&e, ss.dll);
	pw_u8(&e, ss.dlm);
	pw_bool(&e, ss.thre_pending);
	r = e.err ? e.err : snap_w_section(w, SNAP_SEC_SERIAL, 0, e.buf, e.len);
	e.len = 0;
	i8042_get_state(&vm->i8042, &ks);
	pw_u16(&e, LEGACY_STATE_VERSION);
	pw_u8(&e, ks.control);
	pw_u8(&e, ks.pending_cmd);
	if (!r)
		r = e.err ? e.err : snap_w_section(w, SNAP_SEC_I8042, 0, e.buf, e.len);
	e.len = 0;
	if (!r && vm->genid.on) {
		vmgenid_save(&vm->genid, &e);
		r = e.err ? e.err : snap_w_section(w, SNAP_SEC_VMGENID, 0, e.buf, e.len);
	}
	pw_free(&e);
	return r;
}

static int serial_load(const void *p, size_t len, struct serial_state *ss)
{
	const char *why;
	struct pr r;

	*ss = (struct serial_state){0};
	pr_init(&r, p, len);
	if (pr_u16(&r) != LEGACY_STATE_VERSION)
		pr_fail(&r, "an unknown version");
	ss->ier = pr_u8(&r);
	ss->lcr = pr_u8(&r);
	ss->mcr = pr_u8(&r);
	ss->scr = pr_u8(&r);
	ss->dll = pr_u8(&r);
	ss->dlm = pr_u8(&r);
	ss->thre_pending = pr_bool(&r);
	return pr_finish(&r, &why);
}

static int i8042_load(const void *p, size_t len, struct i8042_state *ks)
{
	const char *why;
	struct pr r;

	*ks = (struct i8042_state){0};
	pr_init(&r, p, len);
	if (pr_u16(&r) != LEGACY_STATE_VERSION)
		pr_fail(&r, "an unknown version");
	ks->control = pr_u8(&r);
	ks->pending_cmd = pr_u8(&r);
	return pr_finish(&r, &why);
}

int snap_dev_save(struct vm *vm, struct snap_writer *w, bool settings_only)
{
	int r = 0;

	for (unsigned slot = 0; !r && slot < vm->nr_devs; slot++) {
		const struct vm_dev *d = &vm->dev[slot];
		struct virtio_mmio_state st;
		struct pw dev, mmio;

		pw_init(&dev);
		pw_init(&mmio);
		vdev_state_save(d->type, d->type->config(d->dev), &dev);
		/* The transport's state is the vCPUs' to change: only read it paused. */
		if (!settings_only) {
			virtio_mmio_get_state(d->t, &st);
			virtio_mmio_state_save(&st, d->t->ops->device_id, &mmio);
		}
		r = dev.err ? dev.err : mmio.err;
		if (!r)
			r = snap_w_section(w, SNAP_SEC_DEVICE, slot, dev.buf, dev.len);
		if (!r && !settings_only)
			r = snap_w_section(w, SNAP_SEC_DEV_MMIO, slot, mmio.buf, mmio.len);
		pw_free(&dev);
		pw_free(&mmio);
	}
	return r || settings_only ? r : legacy_save(vm, w);
}

/* ---- load: settings --------------------------------------------------------- */

static int cfg_fail(char *err, size_t errlen, unsigned slot, const char *what)
{
	snprintf(err, errlen, "snapshot device %u: %s", slot, what);
	return -EINVAL;
}

/* One override of @field on the device of @type with @id (NULL: the only one). */
static int apply_override(struct vm_config *cfg, const char *type, const char *id,
			  const char *field, const char *value, char *err, size_t errlen)
{
	const struct vdev_type *t = vdev_type_find(type);
	char why[160];
	void *c = NULL;

	for (unsigned i = 0; t && !c && i < cfg->devs.nr; i++)
		if (cfg->devs.dev[i].type == t &&
		    (!id || !strcmp(t->id(cfg->devs.dev[i].data), id)))
			c = cfg->devs.dev[i].data;
	if (!c)
		return -ENOENT;
	if (!t->set) {
		snprintf(err, errlen, "%s %s: no setting can be overridden", type, t->id(c));
		return -EINVAL;
	}
	if (t->set(c, field, value, why, sizeof(why))) {
		snprintf(err, errlen, "%s %s: %s", type, t->id(c), why);
		return -EINVAL;
	}
	return 0;
}

static int apply_overrides(const struct snap_load_req *req, struct vm_config *cfg, char *err,
			   size_t errlen)
{
	int r;

	for (unsigned i = 0; i < req->nr_nets; i++) {
		r = apply_override(cfg, "net", req->nets[i].iface_id, "host_dev_name",
				   req->nets[i].host_dev_name, err, errlen);
		if (r == -ENOENT)
			snprintf(err, errlen,
				 "network override for %s: no such interface in the snapshot",
				 req->nets[i].iface_id);
		if (r)
			return -EINVAL;
	}
	if (req->vsock_uds) {
		r = apply_override(cfg, "vsock", NULL, "uds_path", req->vsock_uds, err, errlen);
		if (r == -ENOENT)
			snprintf(err, errlen, "vsock override: the snapshot has no vsock device");
		if (r)
			return -EINVAL;
	}
	return 0;
}

int snap_dev_config(const struct snap_image *img, const struct snap_load_req *req,
		    struct vm_config *cfg, unsigned *nr_slots, char *err, size_t errlen)
{
	unsigned slot, order[VDEV_MAX];
	char why[200];

	cfg->devs.nr = 0;
	for (slot = 0;; slot++) {
		struct vdev_config c;
		const void *p;
		uint64_t len;

		if (snap_find(img, SNAP_SEC_DEVICE, slot, &p, &len))
			break;
		if (slot >= MAX_VIRTIO_DEVS)
			return cfg_fail(err, errlen, slot, "too many devices");
		if (vdev_state_load(p, len, &c, why, sizeof(why)) ||
		    vdev_configs_add(&cfg->devs, c.type, c.data, why, sizeof(why)))
			return cfg_fail(err, errlen, slot, why);
	}
	/* ember attaches the root disk first; a snapshot must agree. */
	vdev_configs_order(&cfg->devs, order);
	for (unsigned i = 0; i < cfg->devs.nr; i++)
		if (order[i] != i)
			return cfg_fail(err, errlen, order[0], "a root disk not in the first slot");
	/* Device sections past the first empty slot: a gap or a stray. */
	for (uint32_t pos = 0;;) {
		const struct snap_section *s = snap_next(img, SNAP_SEC_ANY, &pos);

		if (!s)
			break;
		if ((s->type == SNAP_SEC_DEV_MMIO || s->type == SNAP_SEC_DEVICE) && s->id >= slot)
			return cfg_fail(err, errlen, s->id,
					s->type == SNAP_SEC_DEV_MMIO
					    ? "transport state without device settings"
					    : "device settings after a gap in the slots");
		if (s->type > SNAP_SEC_DEV_MMIO && s->type < SNAP_SEC_DEVICE)
			return cfg_fail(err, errlen, s->id, "a device section of the old format");
	}
	*nr_slots = slot;
	return apply_overrides(req, cfg, err, errlen);
}

/* ---- load: state ---------------------------------------------------------------- */

int snap_dev_restore(struct vm *vm, const struct snap_image *img, char *err, size_t errlen)
{
	struct serial_state ss;
	struct i8042_state ks;
	const void *p;
	uint64_t len;
	int r;

	for (unsigned slot = 0; slot < vm->nr_devs; slot++) {
		struct vm_dev *d = &vm->dev[slot];
		struct virtio_mmio_state st;
		const char *why;

		if (snap_find(img, SNAP_SEC_DEV_MMIO, slot, &p, &len))
			return cfg_fail(err, errlen, slot, "transport state missing");
		if (virtio_mmio_state_load(p, len, d->t->ops->device_id, &st, &why))
			return cfg_fail(err, errlen, slot, why);
		r = virtio_mmio_restore(d->t, &st, err, errlen);
		if (r)
			return r;
	}
	if (snap_find(img, SNAP_SEC_SERIAL, 0, &p, &len) || serial_load(p, len, &ss)) {
		snprintf(err, errlen, "snapshot: serial port state missing or of a bad size");
		return -EINVAL;
	}
	if (snap_find(img, SNAP_SEC_I8042, 0, &p, &len) || i8042_load(p, len, &ks)) {
		snprintf(err, errlen, "snapshot: i8042 state missing or of a bad size");
		return -EINVAL;
	}
	serial_set_state(&vm->serial, &ss);
	i8042_set_state(&vm->i8042, &ks);
	for (unsigned slot = 0; slot < vm->nr_devs; slot++)
		if (vm->dev[slot].type->restored)
			vm->dev[slot].type->restored(vm->dev[slot].dev);
	return 0;
}
