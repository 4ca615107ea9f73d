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
	uint8_t out[4];	     /* output buffer, read through the data port */
	unsigned out_count;
	void (*reset)(void *opaque);
	void *opaque;
};

extern const struct bus_dev_ops i8042_data_ops, i8042_cmd_ops;

int i8042_init(struct i8042 *k, void (*reset)(void *opaque), void *opaque);
void i8042_destroy(struct i8042 *k);

#endif /* EMBER_I8042_H */
