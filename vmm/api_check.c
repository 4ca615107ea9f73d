// SPDX-License-Identifier: Apache-2.0
/*
 * PUT-time checks of the pre-boot configuration (API_CMD_CHECK), run on the
 * VMM thread, which opens every file the VM uses.  Firecracker opens the
 * kernel and initrd on PUT /boot-source, a drive's image on PUT /drives and
 * the tap on PUT /network-interfaces, so a client learns which one is wrong
 * from the PUT that names it; ember does the same and closes them again
 * (InstanceStart reopens them).  Files are opened as InstanceStart opens
 * them: never blocking, so a FIFO or a directory is refused at once.  The
 * device list is built with the device model's own rules (budget, per-type
 * limits, one root), so every device the API accepts is one InstanceStart
 * can attach.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "device.h"
#include "launch.h"

/* A kernel or initrd, opened as the loader will (file_open_input). */
static int check_file(const char *path, const char *what, char *err, size_t errlen)
{
	const char *why;
	int fd = file_open_input(path, false, false, &why);

	if (fd < 0) {
		snprintf(err, errlen, "Boot source error: %s%s: %s", what, path, why);
		return fd;
	}
	close(fd);
	return 0;
}

static int check_boot(const struct api_boot_source *b, char *err, size_t errlen)
{
	int r = check_file(b->kernel_image_path, "The kernel file cannot be opened: ", err, errlen);

	if (!r && b->initrd_path[0])
		r = check_file(b->initrd_path,
			       "The initrd file cannot be opened due to invalid path or invalid "
			       "permissions. ",
			       err, errlen);
	return r;
}

/*
 * The device list of @next, and the named device's host side opened; the
 * messages are Firecracker's, @what and @open its prefixes.
 */
static int check_devices(const struct api_cmd *cmd, const char *what, const char *open, char *err,
			 size_t errlen)
{
	const char *tname = cmd->check.what == API_CHECK_DRIVE	 ? "block"
			    : cmd->check.what == API_CHECK_NET	 ? "net"
			    : cmd->check.what == API_CHECK_VSOCK ? "vsock"
			    : cmd->check.what == API_CHECK_PMEM	 ? "pmem"
								 : NULL;
	const struct vdev_type *t = tname ? vdev_type_find(tname) : NULL;
	struct vdev_configs *l = malloc(sizeof(*l));
	struct log_capture why;
	char msg[API_ERR_MAX], id[64];
	void *c;
	int r;

	if (!l)
		return -ENOMEM;
	r = api_devices_to_config(cmd->check.next, l, msg, sizeof(msg));
	if (r) {
		snprintf(err, errlen, "%s%s", what, msg);
		goto out;
	}
	/* Device ids keep 63 bytes of the API's 64 (api_devs.c). */
	snprintf(id, sizeof(id), "%.63s", cmd->check.id);
	c = t && t->probe ? vdev_configs_find(l, t, id) : NULL;
	if (c) {
		log_capture_begin(&why);
		r = t->probe(c);
		log_capture_end(&why);
		if (r)
			snprintf(err, errlen, "%s%s%s", what, open,
				 why.msg[0] ? why.msg : strerror(-r));
	}
out:
	free(l);
	return r;
}

int api_check_run(const struct api_cmd *cmd, char *err, size_t errlen)
{
	if (!cmd->check.next)
		return -EINVAL;
	switch (cmd->check.what) {
	case API_CHECK_BOOT:
		return check_boot(&cmd->check.next->boot, err, errlen);
	case API_CHECK_DRIVE:
		return check_devices(cmd, "Drive config error: ",
				     "Unable to create the virtio block device: ", err, errlen);
	case API_CHECK_NET:
		return check_devices(cmd, "Network config error: ",
				     "Cannot open/create the tap device: ", err, errlen);
	case API_CHECK_VSOCK:
		return check_devices(cmd, "Vsock config error: ",
				     "Cannot create backend for vsock device: ", err, errlen);
	case API_CHECK_PMEM:
		return check_devices(cmd, "Pmem config error: ",
				     "Unable to open the pmem backing file: ", err, errlen);
	case API_CHECK_DEVICES:
		return check_devices(cmd, "Device config error: ", "", err, errlen);
	}
	return -EINVAL;
}
