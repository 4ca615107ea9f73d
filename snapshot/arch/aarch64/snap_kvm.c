// SPDX-License-Identifier: Apache-2.0
/*
 * KVM's part of a snapshot on aarch64 (snap_kvm.h): not written yet, so
 * every snapshot and restore is refused with a message saying so rather
 * than producing a file that could not be restored.
 */
#include <stdio.h>

#include "snap_kvm.h"

static int refuse(char *err, size_t errlen)
{
	snprintf(err, errlen, "snapshots are not supported on aarch64 yet");
	return -ENOTSUP;
}

int snap_kvm_save_vm(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	(void)vm;
	(void)w;
	return refuse(err, errlen);
}

int snap_kvm_save_vcpu(struct vcpu *v, struct snap_writer *w, char *err, size_t errlen)
{
	(void)v;
	(void)w;
	return refuse(err, errlen);
}

int snap_kvm_restore_vm(struct vm *vm, const struct snap_image *img, bool clock_realtime, char *err,
			size_t errlen)
{
	(void)vm;
	(void)img;
	(void)clock_realtime;
	return refuse(err, errlen);
}

int snap_kvm_restore_vcpu(struct vcpu *v, const struct snap_image *img, char *err, size_t errlen)
{
	(void)v;
	(void)img;
	return refuse(err, errlen);
}
