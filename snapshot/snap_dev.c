// SPDX-License-Identifier: Apache-2.0
/*
 * Devices in a snapshot: for every virtio-mmio slot its transport state and
 * its backend settings, then the UART and the i8042.  On load the settings
 * come back first, as a vm_config the VM is rebuilt from (the overrides a
 * clone needs applied), and the transport states after the devices exist.
 *
 * Everything read here went through a file the API named, so each payload
 * is checked as if the guest had written it: exact sizes, NUL-terminated
 * strings, bools that are 0 or 1, enums in range, slots without gaps.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "snap_dev.h"

/* SNAP_SEC_DEV_MMIO payload. */
struct snap_dev_mmio {
	uint32_t device_id;
	uint32_t state_size; /* sizeof(struct virtio_mmio_state) when written */
	struct virtio_mmio_state st;
};

static struct virtio_mmio *slot_transport(struct vm *vm, unsigned slot, const void **cfg,
					  uint32_t *sec, size_t *size)
{
	struct virtio_mmio *t = vm->virtio[slot];

	for (unsigned i = 0; i < vm->nr_blk; i++)
		if (vblk_transport(vm->blk[i]) == t) {
			*cfg = vblk_get_config(vm->blk[i]);
			*sec = SNAP_SEC_DEV_BLK;
			*size = sizeof(struct vblk_config);
		}
	for (unsigned i = 0; i < vm->nr_net; i++)
		if (vnet_transport(vm->net[i]) == t) {
			*cfg = vnet_get_config(vm->net[i]);
			*sec = SNAP_SEC_DEV_NET;
			*size = sizeof(struct vnet_config);
		}
	if (vm->vsock && vsock_transport(vm->vsock) == t) {
		*cfg = vsock_get_config(vm->vsock);
		*sec = SNAP_SEC_DEV_VSOCK;
		*size = sizeof(struct vsock_config);
	}
	return t;
}

void snap_dev_quiesce(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_blk; i++)
		vblk_quiesce(vm->blk[i]);
}

int snap_dev_save(struct vm *vm, struct snap_writer *w)
{
	struct serial_state ss;
	struct i8042_state ks;

	for (unsigned slot = 0; slot < vm->nr_virtio; slot++) {
		struct snap_dev_mmio d = {.state_size = sizeof(d.st)};
		const void *cfg = NULL;
		uint32_t sec = 0;
		size_t size = 0;
		struct virtio_mmio *t = slot_transport(vm, slot, &cfg, &sec, &size);

		d.device_id = t->ops->device_id;
		virtio_mmio_get_state(t, &d.st);
		snap_w_section(w, sec, slot, cfg, size);
		snap_w_section(w, SNAP_SEC_DEV_MMIO, slot, &d, sizeof(d));
	}
	serial_get_state(&vm->serial, &ss);
	snap_w_section(w, SNAP_SEC_SERIAL, 0, &ss, sizeof(ss));
	i8042_get_state(&vm->i8042, &ks);
	return snap_w_section(w, SNAP_SEC_I8042, 0, &ks, sizeof(ks));
}

/* ---- load: settings --------------------------------------------------------- */

static bool str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool bool_ok(const void *payload, size_t off)
{
	return ((const uint8_t *)payload)[off] <= 1;
}

static int cfg_fail(char *err, size_t errlen, unsigned slot, const char *what)
{
	snprintf(err, errlen, "snapshot device %u: %s", slot, what);
	return -EINVAL;
}

static int load_blk(struct vm_config *cfg, const void *p, unsigned slot, char *err, size_t errlen)
{
	struct vblk_config *b;

	if (!bool_ok(p, offsetof(struct vblk_config, read_only)) ||
	    !bool_ok(p, offsetof(struct vblk_config, is_root)))
		return cfg_fail(err, errlen, slot, "drive settings have a bad flag");
	if (cfg->nr_disks >= CONFIG_MAX_DISKS)
		return cfg_fail(err, errlen, slot, "too many drives");
	b = &cfg->disks[cfg->nr_disks];
	memcpy(b, p, sizeof(*b));
	if (!str_ok(b->drive_id, sizeof(b->drive_id)) || !str_ok(b->path, sizeof(b->path)) ||
	    !str_ok(b->serial, sizeof(b->serial)) || !b->path[0] ||
	    (unsigned)b->engine > VBLK_ENGINE_IO_URING)
		return cfg_fail(err, errlen, slot, "drive settings are malformed");
	/* The root drive took slot 0 when the VM was built; anything else is not ours. */
	if (b->is_root && slot != 0)
		return cfg_fail(err, errlen, slot, "root drive not in the first slot");
	cfg->nr_disks++;
	return 0;
}

static int load_net(struct vm_config *cfg, const void *p, unsigned slot,
		    const struct snap_load_req *req, char *err, size_t errlen)
{
	struct vnet_config *n;

	if (!bool_ok(p, offsetof(struct vnet_config, has_mac)))
		return cfg_fail(err, errlen, slot, "network settings have a bad flag");
	if (cfg->nr_nets >= CONFIG_MAX_NETS)
		return cfg_fail(err, errlen, slot, "too many network interfaces");
	n = &cfg->nets[cfg->nr_nets];
	memcpy(n, p, sizeof(*n));
	if (!str_ok(n->iface_id, sizeof(n->iface_id)) ||
	    !str_ok(n->host_dev_name, sizeof(n->host_dev_name)) || !n->host_dev_name[0])
		return cfg_fail(err, errlen, slot, "network settings are malformed");
	for (unsigned i = 0; i < req->nr_nets; i++) {
		if (strcmp(req->nets[i].iface_id, n->iface_id))
			continue;
		if (strlen(req->nets[i].host_dev_name) >= sizeof(n->host_dev_name))
			return cfg_fail(err, errlen, slot, "override tap name too long");
		strcpy(n->host_dev_name, req->nets[i].host_dev_name);
	}
	cfg->nr_nets++;
	return 0;
}

static int load_vsock(struct vm_config *cfg, const void *p, unsigned slot,
		      const struct snap_load_req *req, char *err, size_t errlen)
{
	struct vsock_config *v = &cfg->vsock;

	if (cfg->has_vsock)
		return cfg_fail(err, errlen, slot, "a second vsock device");
	memcpy(v, p, sizeof(*v));
	if (!str_ok(v->uds_path, sizeof(v->uds_path)) ||
	    !str_ok(v->vsock_id, sizeof(v->vsock_id)) || v->guest_cid < 3 ||
	    v->guest_cid > 0xfffffffeull)
		return cfg_fail(err, errlen, slot, "vsock settings are malformed");
	if (req->vsock_uds) {
		if (strlen(req->vsock_uds) >= sizeof(v->uds_path))
			return cfg_fail(err, errlen, slot, "override uds_path too long");
		strcpy(v->uds_path, req->vsock_uds);
	}
	cfg->has_vsock = true;
	return 0;
}

int snap_dev_config(const struct snap_image *img, const struct snap_load_req *req,
		    struct vm_config *cfg, unsigned *nr_slots, char *err, size_t errlen)
{
	static const struct {
		uint32_t sec;
		size_t size;
	} kinds[] = {
	    {SNAP_SEC_DEV_BLK, sizeof(struct vblk_config)},
	    {SNAP_SEC_DEV_NET, sizeof(struct vnet_config)},
	    {SNAP_SEC_DEV_VSOCK, sizeof(struct vsock_config)},
	};
	unsigned slot;
	int last_kind = 0;

	for (slot = 0;; slot++) {
		const void *p = NULL;
		uint64_t len;
		int kind = -1, r;

		for (int k = 0; k < (int)ARRAY_SIZE(kinds); k++) {
			if (snap_find(img, kinds[k].sec, slot, &p, &len))
				continue;
			if (kind >= 0 || len != kinds[k].size)
				return cfg_fail(err, errlen, slot,
						"settings of the wrong size or kind");
			kind = k;
		}
		if (kind < 0)
			break;
		if (slot >= MAX_VIRTIO_DEVS)
			return cfg_fail(err, errlen, slot, "too many devices");
		/* ember attaches drives, then nets, then vsock; a snapshot must agree. */
		if (kind < last_kind)
			return cfg_fail(err, errlen, slot, "devices out of order");
		last_kind = kind;
		snap_find(img, kinds[kind].sec, slot, &p, &len);
		r = kind == 0	? load_blk(cfg, p, slot, err, errlen)
		    : kind == 1 ? load_net(cfg, p, slot, req, err, errlen)
				: load_vsock(cfg, p, slot, req, err, errlen);
		if (r)
			return r;
	}
	/* Device sections past the first empty slot: a gap or a stray. */
	for (uint32_t pos = 0;;) {
		const struct snap_section *s = snap_next(img, SNAP_SEC_ANY, &pos);

		if (!s)
			break;
		if (s->type >= SNAP_SEC_DEV_MMIO && s->type <= SNAP_SEC_DEV_VSOCK && s->id >= slot)
			return cfg_fail(err, errlen, s->id,
					s->type == SNAP_SEC_DEV_MMIO
					    ? "transport state without device settings"
					    : "device settings after a gap in the slots");
	}
	for (unsigned i = 0; i < req->nr_nets; i++) {
		bool found = false;

		for (unsigned j = 0; j < cfg->nr_nets; j++)
			found |= !strcmp(cfg->nets[j].iface_id, req->nets[i].iface_id);
		if (!found) {
			snprintf(err, errlen,
				 "network override for %s: no such interface in the "
				 "snapshot",
				 req->nets[i].iface_id);
			return -EINVAL;
		}
	}
	if (req->vsock_uds && !cfg->has_vsock) {
		snprintf(err, errlen, "vsock override: the snapshot has no vsock device");
		return -EINVAL;
	}
	*nr_slots = slot;
	return 0;
}

/* ---- load: state ---------------------------------------------------------------- */

int snap_dev_restore(struct vm *vm, const struct snap_image *img, char *err, size_t errlen)
{
	const void *p;
	uint64_t len;
	int r;

	for (unsigned slot = 0; slot < vm->nr_virtio; slot++) {
		struct virtio_mmio *t = vm->virtio[slot];
		struct snap_dev_mmio d;

		if (snap_find(img, SNAP_SEC_DEV_MMIO, slot, &p, &len) || len != sizeof(d))
			return cfg_fail(err, errlen, slot,
					"transport state missing or of a bad size");
		memcpy(&d, p, sizeof(d));
		if (d.state_size != sizeof(d.st) || d.device_id != t->ops->device_id)
			return cfg_fail(err, errlen, slot, "transport state is for another device");
		/* Bools in the state: check the bytes before the struct is used. */
		if (!bool_ok(p, offsetof(struct snap_dev_mmio, st.activated)))
			return cfg_fail(err, errlen, slot, "transport state has a bad flag");
		for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
			size_t base =
			    offsetof(struct snap_dev_mmio, st.vq) + q * sizeof(struct virtq);

			if (!bool_ok(p, base + offsetof(struct virtq, ready)) ||
			    !bool_ok(p, base + offsetof(struct virtq, event_idx)) ||
			    !bool_ok(p, base + offsetof(struct virtq, indirect)) ||
			    !bool_ok(p, base + offsetof(struct virtq, signalled_valid)))
				return cfg_fail(err, errlen, slot, "queue state has a bad flag");
		}
		r = virtio_mmio_restore(t, &d.st, err, errlen);
		if (r)
			return r;
	}
	if (snap_find(img, SNAP_SEC_SERIAL, 0, &p, &len) || len != sizeof(struct serial_state)) {
		snprintf(err, errlen, "snapshot: serial port state missing or of a bad size");
		return -EINVAL;
	}
	serial_set_state(&vm->serial, p);
	if (snap_find(img, SNAP_SEC_I8042, 0, &p, &len) || len != sizeof(struct i8042_state)) {
		snprintf(err, errlen, "snapshot: i8042 state missing or of a bad size");
		return -EINVAL;
	}
	i8042_set_state(&vm->i8042, p);
	/* The host ends of the guest's vsock connections did not survive. */
	if (vm->vsock && vsock_transport_reset(vm->vsock) == -ENOBUFS)
		log_warn("vsock: no event buffer for TRANSPORT_RESET; guest connections linger");
	return 0;
}
