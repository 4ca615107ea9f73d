// SPDX-License-Identifier: Apache-2.0
/*
 * Firecracker's device resources (drives, network-interfaces, vsock) to and
 * from the device model's settings: the API schema's end of each device.
 * The API keeps Firecracker's shapes (struct api_vm_config) for its replies;
 * the VM is built from the devices' own settings (struct vdev_configs), in
 * the order ember attaches them: drives, then interfaces, then vsock.
 */
#include <stdio.h>
#include <string.h>

#include "api_json.h"
#include "blk.h"
#include "device.h"
#include "limiter.h"
#include "mem.h"
#include "net.h"
#include "pmem.h"
#include "vsock.h"

static int add(struct vdev_configs *l, const char *type, const void *cfg, char *err, size_t errlen)
{
	char why[200];
	const struct vdev_type *t = vdev_type_find(type);

	if (!t) {
		snprintf(err, errlen, "this ember has no %s device", type);
		return -ENOTSUP;
	}
	if (vdev_configs_add(l, t, cfg, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	return 0;
}

static int add_drive(struct vdev_configs *l, const struct api_drive *d, char *err, size_t errlen)
{
	struct vblk_config b = {
	    .read_only = d->is_read_only,
	    .is_root = d->is_root_device,
	    .engine = d->io_engine == API_IO_ASYNC ? VBLK_ENGINE_IO_URING : VBLK_ENGINE_SYNC,
	};

	/* Both hold 64 bytes; the device checks what it may hold (check_set). */
	snprintf(b.partuuid, sizeof(b.partuuid), "%s", d->partuuid);
	/* A 64-byte API id keeps 63 here, as before the device model. */
	snprintf(b.drive_id, sizeof(b.drive_id), "%.*s", (int)sizeof(b.drive_id) - 1, d->drive_id);
	api_limiter_cfg(&d->rate_limiter, &b.limiter);
	if ((size_t)snprintf(b.path, sizeof(b.path), "%s", d->path_on_host) >= sizeof(b.path)) {
		snprintf(err, errlen, "drive %s: path too long", d->drive_id);
		return -ENAMETOOLONG;
	}
	return add(l, "block", &b, err, errlen);
}

static int add_net(struct vdev_configs *l, const struct api_net *a, char *err, size_t errlen)
{
	struct vnet_config n = {.has_mac = a->has_mac};

	snprintf(n.iface_id, sizeof(n.iface_id), "%.*s", (int)sizeof(n.iface_id) - 1, a->iface_id);
	snprintf(n.host_dev_name, sizeof(n.host_dev_name), "%s", a->host_dev_name);
	memcpy(n.mac, a->guest_mac, sizeof(n.mac));
	n.mtu = (uint16_t)a->mtu;
	api_limiter_cfg(&a->rx_rate_limiter, &n.rx_limiter);
	api_limiter_cfg(&a->tx_rate_limiter, &n.tx_limiter);
	return add(l, "net", &n, err, errlen);
}

static int add_vsock(struct vdev_configs *l, const struct api_vsock *a, char *err, size_t errlen)
{
	struct vsock_config v = {.guest_cid = a->guest_cid};

	snprintf(v.uds_path, sizeof(v.uds_path), "%s", a->uds_path);
	snprintf(v.vsock_id, sizeof(v.vsock_id), "vsock");
	return add(l, "vsock", &v, err, errlen);
}

/* The settings the device's CLI would give it, then the API's rate limiter. */
static int add_limited(struct vdev_configs *l, const char *type, const struct api_rate_limiter *rl,
		       char *err, size_t errlen)
{
	const struct vdev_type *t = vdev_type_find(type);
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	struct limiter_cfg *lc;

	if (!t || !t->limiter) {
		snprintf(err, errlen, "this ember has no %s device", type);
		return -ENOTSUP;
	}
	if (t->parse(NULL, cfg, err, errlen))
		return -EINVAL;
	lc = t->limiter(cfg, "");
	api_limiter_cfg(rl, lc);
	return add(l, type, cfg, err, errlen);
}

int api_devices_to_config(const struct api_vm_config *a, struct vdev_configs *l, char *err,
			  size_t errlen)
{
	int r = 0;

	l->nr = 0;
	for (unsigned i = 0; !r && i < a->nr_drives; i++)
		r = add_drive(l, &a->drives[i], err, errlen);
	for (unsigned i = 0; !r && i < a->nr_nets; i++)
		r = add_net(l, &a->nets[i], err, errlen);
	if (!r && a->vsock.set)
		r = add_vsock(l, &a->vsock, err, errlen);
	if (!r && a->entropy.set)
		r = add_limited(l, "entropy", &a->entropy.rate_limiter, err, errlen);
	if (!r && a->balloon.set)
		r = api_balloon_to_config(&a->balloon, l, err, errlen);
	for (unsigned i = 0; !r && i < a->nr_pmem; i++) {
		struct vpmem_config p;

		r = api_pmem_to_config(&a->pmem[i], &p, err, errlen);
		if (!r)
			r = add(l, "pmem", &p, err, errlen);
	}
	if (!r && a->hotplug.set) {
		struct vmem_config m;

		r = api_hotplug_to_config(&a->hotplug, &m, err, errlen);
		if (!r)
			r = add(l, "mem", &m, err, errlen);
	}
	return r;
}

void api_limiter_to_api(const struct limiter_cfg *c, struct api_rate_limiter *rl)
{
	const struct tbucket_cfg *b[2] = {&c->bw, &c->ops};
	struct api_token_bucket *o[2] = {&rl->bandwidth, &rl->ops};

	rl->set = true;
	for (unsigned i = 0; i < 2; i++)
		*o[i] = (struct api_token_bucket){.set = b[i]->size != 0,
						  .size = b[i]->size,
						  .one_time_burst = b[i]->one_time_burst,
						  .refill_time = b[i]->refill_time_ms};
}

static void drive_to_api(const struct vblk_config *b, struct api_drive *d)
{
	*d = (struct api_drive){
	    .is_root_device = b->is_root,
	    .is_read_only = b->read_only,
	    .io_engine = b->engine == VBLK_ENGINE_SYNC ? API_IO_SYNC : API_IO_ASYNC,
	};
	snprintf(d->drive_id, sizeof(d->drive_id), "%s", b->drive_id);
	snprintf(d->path_on_host, sizeof(d->path_on_host), "%s", b->path);
	snprintf(d->partuuid, sizeof(d->partuuid), "%s", b->partuuid);
	if (!limiter_cfg_unlimited(&b->limiter))
		api_limiter_to_api(&b->limiter, &d->rate_limiter);
}

static void net_to_api(const struct vnet_config *c, struct api_net *n)
{
	*n = (struct api_net){.has_mac = c->has_mac};
	snprintf(n->iface_id, sizeof(n->iface_id), "%s", c->iface_id);
	snprintf(n->host_dev_name, sizeof(n->host_dev_name), "%s", c->host_dev_name);
	memcpy(n->guest_mac, c->mac, sizeof(n->guest_mac));
	n->mtu = c->mtu;
	if (!limiter_cfg_unlimited(&c->rx_limiter))
		api_limiter_to_api(&c->rx_limiter, &n->rx_rate_limiter);
	if (!limiter_cfg_unlimited(&c->tx_limiter))
		api_limiter_to_api(&c->tx_limiter, &n->tx_rate_limiter);
}

void api_devices_from_config(const struct vdev_configs *l, struct api_vm_config *a)
{
	a->nr_drives = a->nr_nets = 0;
	a->vsock.set = false;
	a->entropy.set = false;
	a->balloon.set = false;
	a->nr_pmem = 0;
	a->hotplug.set = false;
	for (unsigned i = 0; i < l->nr; i++) {
		const struct vdev_config *c = &l->dev[i];
		const char *name = c->type->name;

		if (!strcmp(name, "block") && a->nr_drives < API_MAX_DRIVES) {
			drive_to_api((const void *)c->data, &a->drives[a->nr_drives++]);
		} else if (!strcmp(name, "net") && a->nr_nets < API_MAX_NETS) {
			net_to_api((const void *)c->data, &a->nets[a->nr_nets++]);
		} else if (!strcmp(name, "vsock")) {
			const struct vsock_config *v = (const void *)c->data;

			a->vsock.set = true;
			a->vsock.guest_cid = (uint32_t)v->guest_cid;
			snprintf(a->vsock.uds_path, sizeof(a->vsock.uds_path), "%s", v->uds_path);
		} else if (!strcmp(name, "balloon")) {
			api_balloon_from_config(c->data, &a->balloon);
		} else if (!strcmp(name, "mem")) {
			api_hotplug_from_config((const void *)c->data, &a->hotplug);
		} else if (!strcmp(name, "pmem") && a->nr_pmem < API_MAX_PMEM) {
			api_pmem_from_config((const void *)c->data, &a->pmem[a->nr_pmem++]);
		} else if (!strcmp(name, "entropy") && c->type->limiter) {
			a->entropy.set = true;
			api_limiter_to_api(c->type->limiter((void *)c->data, ""),
					   &a->entropy.rate_limiter);
		}
	}
}
