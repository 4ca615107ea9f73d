// SPDX-License-Identifier: Apache-2.0
/*
 * API mode's commands on the running VM's devices: PATCH /drives,
 * /network-interfaces and /pmem (file and rate limiters), the balloon's
 * commands and PATCH/GET /hotplug/memory.  Each finds its live device with
 * vm_find_device() and calls the device type's hooks; they run on the VMM
 * thread (api_mode.c's exec_cmd).  Separate from api_mode.c, which runs the
 * threads and the VM's life cycle, to keep both under the size limit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api_mode.h"
#include "limiter.h"
#include "virtio_devs.h"

/* A live device's rate limiter @which, if the request sets it. */
static int patch_limiter(struct vm_dev *d, const char *which, const struct api_rate_limiter *rl,
			 char *err, size_t errlen)
{
	struct limiter_cfg c;
	int r;

	if (!rl->set)
		return 0;
	api_limiter_cfg(rl, &c);
	r = d->type->set_limiter ? d->type->set_limiter(d->dev, which, &c) : -ENOTSUP;
	if (r)
		snprintf(err, errlen, "Unable to update the %s rate limiter: %s", d->type->name,
			 strerror(-r));
	return r;
}

/* PATCH /drives/{id} after start: the limiter first, so a bad path changes nothing else. */
int api_cmds_patch_drive(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d;
	int r;

	if (!m->vm_live)
		return -EINVAL; /* before start the API thread updates the config itself */
	d = vm_find_device(&m->vm, vdev_type_find("block"), cmd->drive.drive_id);
	if (!d) {
		snprintf(err, errlen, "Invalid block device ID: %s", cmd->drive.drive_id);
		return -ENOENT;
	}
	if (cmd->drive.has_path) {
		struct log_capture why;

		log_capture_begin(&why);
		r = d->type->update(d->dev, "path_on_host", cmd->drive.path_on_host);
		log_capture_end(&why);
		if (r) {
			/* The device said what is wrong with the file (not a regular file...). */
			if (why.msg[0])
				snprintf(err, errlen, "Unable to patch the block device: %s",
					 why.msg);
			else
				snprintf(err, errlen, "Unable to patch the block device: %s: %s",
					 cmd->drive.path_on_host, strerror(-r));
			return r;
		}
	}
	return patch_limiter(d, "", &cmd->drive.rate_limiter, err, errlen);
}

/* PATCH /network-interfaces/{id} after start: its rx and tx rate limiters. */
int api_cmds_patch_net(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d;
	int r;

	if (!m->vm_live)
		return -EINVAL;
	d = vm_find_device(&m->vm, vdev_type_find("net"), cmd->net.iface_id);
	if (!d) {
		snprintf(err, errlen, "Invalid network interface ID: %s", cmd->net.iface_id);
		return -ENOENT;
	}
	r = patch_limiter(d, "rx", &cmd->net.rx, err, errlen);
	return r ? r : patch_limiter(d, "tx", &cmd->net.tx, err, errlen);
}

/* The balloon's API commands run on its live device (api_balloon.c). */
int api_cmds_balloon(struct api_mode *m, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d;

	if (!m->vm_live)
		return -EINVAL;
	d = vm_find_device(&m->vm, vdev_type_find("balloon"), "balloon");
	return api_balloon_exec(d ? d->dev : NULL, &cmd->balloon, err, errlen);
}

/* PATCH /pmem/{id} after start: its rate limiter. */
int api_cmds_patch_pmem(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d =
	    m->vm_live ? vm_find_device(&m->vm, vdev_type_find("pmem"), cmd->pmem.id) : NULL;

	if (!d) {
		snprintf(err, errlen, "Invalid pmem device ID: %s", cmd->pmem.id);
		return -ENOENT;
	}
	return patch_limiter(d, "", &cmd->pmem.rate_limiter, err, errlen);
}

/* PATCH and GET /hotplug/memory on the running VM's virtio-mem device. */
int api_cmds_hotplug(struct api_mode *m, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d =
	    m->vm_live ? vm_find_device(&m->vm, vdev_type_find("mem"), "hotplug") : NULL;
	struct log_capture why;
	char v[16];
	json_t *o;
	int r;

	if (!d) {
		snprintf(err, errlen, "Memory hotplug is not configured.");
		return -ENOENT;
	}
	if (cmd->kind == API_CMD_HOTPLUG_GET) {
		o = d->type->status(d->dev);
		r = o && json_dumpb(o, cmd->hotplug.body, sizeof(cmd->hotplug.body) - 1,
				    JSON_COMPACT | JSON_PRESERVE_ORDER) <
				sizeof(cmd->hotplug.body) - 1
			? 0
			: -ENOMEM;
		json_decref(o);
		return r;
	}
	snprintf(v, sizeof(v), "%u", cmd->hotplug.requested_mib);
	log_capture_begin(&why);
	r = d->type->update(d->dev, "requested_size_mib", v);
	log_capture_end(&why);
	if (r)
		snprintf(err, errlen, "%s", why.msg);
	return r;
}
