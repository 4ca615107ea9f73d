/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_I8042_H
#define EMBER_I8042_H

#include <pthread.h>

#include "ember.h"

/*
 * The PS/2 controller, only as much as Linux needs to probe it quickly (no
 * keyboard or AUX device behind it) and to reset the machine: the guest's
 * reboot writes 0xfe (pulse reset line) to the command port, which calls
 * @reset.  Ports: data at 0x60, status/command at 0x64 (two bus devices
 * sharing this state, hence the lock).
 */
struct i8042 {
	pthread_mutex_t lock;
	uint8_t control;     /* controller configuration byte */
	uint8_t pending_cmd; /* command waiting for its data byte, or 0 */
	uint8_t out[16];     /* output buffer, read through the data port */
	unsigned out_count;
	int irq_fd; /* eventfd bound to IRQ 1 (KVM irqfd), -1: none */
	void (*reset)(void *opaque);
	void *opaque;
};

extern const struct bus_dev_ops i8042_data_ops, i8042_cmd_ops;

int i8042_init(struct i8042 *k, void (*reset)(void *opaque), void *opaque);
void i8042_destroy(struct i8042 *k);
/*
 * Presses and releases Ctrl-Alt-Del on the keyboard (Firecracker's
 * SendCtrlAltDel): the scancodes go to the output buffer, IRQ 1 tells the
 * guest.  Linux's keyboard driver then reboots (or signals init).  Needs
 * the guest's atkbd bound, e.g. i8042.dumbkbd on its command line.
 * -EBUSY when the guest has not drained earlier input.
 */
int i8042_ctrl_alt_del(struct i8042 *k);

/* Snapshot: the controller's configuration (pending output is not kept). */
struct i8042_state {
	uint8_t control, pending_cmd, pad[6];
};
void i8042_get_state(struct i8042 *k, struct i8042_state *st);
void i8042_set_state(struct i8042 *k, const struct i8042_state *st);

#endif /* EMBER_I8042_H */
