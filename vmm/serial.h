/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_SERIAL_H
#define EMBER_SERIAL_H

#include <pthread.h>

#include "ember.h"
#include "limiter.h"

#define SERIAL_RX_SIZE 4096

/*
 * 16550A UART, enough for Linux's 8250 driver: divisor latch, IER/IIR with
 * RX-data and THR-empty interrupts, loopback, scratch.  Output goes to out_fd
 * as written; input is queued by the VMM thread (serial_push) and read by the
 * guest on vCPU threads, hence the lock.
 */
struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool thre_pending; /* THR-empty interrupt latched, cleared by reading IIR */
	uint8_t rx[SERIAL_RX_SIZE];
	unsigned rx_head, rx_count;
	bool rx_was_full;	 /* the VMM thread stopped reading input: wake it on drain */
	int out_fd;		 /* -1: output discarded */
	uint64_t out_limit;	 /* bytes to out_fd at most (0: no limit) */
	uint64_t out_written;	 /* under lock; read unlocked for metrics */
	uint64_t out_dropped;	 /* past out_limit */
	struct tbucket out_rate; /* PUT /serial's rate_limiter, when out_rate_on */
	bool out_rate_on;
	uint64_t out_rate_dropped; /* over the rate: metrics' uart.rate_limiter_dropped_bytes */
	int irq_fd;		   /* eventfd bound to the UART's GSI with KVM_IRQFD */
	int wake_fd;		   /* eventfd the VMM thread polls to resume input, or -1 */
};

extern const struct bus_dev_ops serial_ops;

/*
 * What a snapshot keeps of the UART: the registers the guest programmed.
 * Input not yet read by the guest is not kept (it came from the old console).
 */
struct serial_state {
	uint8_t ier, lcr, mcr, scr, dll, dlm, thre_pending, pad;
};
void serial_get_state(struct serial *s, struct serial_state *st);
/* Restores the registers and re-raises a latched interrupt. */
void serial_set_state(struct serial *s, const struct serial_state *st);

int serial_init(struct serial *s, int out_fd, int irq_fd, int wake_fd);
/*
 * Output to a file stops after @bytes (a guest printing forever must not
 * fill the host's disk); what is dropped is counted.  Before the guest runs.
 */
void serial_set_output_limit(struct serial *s, uint64_t bytes);
/*
 * Firecracker's serial rate limiter: a byte over @cfg's bucket is dropped
 * (and counted), never waited for, so a chatty guest cannot stall on its
 * console.  Size 0: no limit.  Before the guest runs.
 */
void serial_set_rate_limit(struct serial *s, const struct tbucket_cfg *cfg);
void serial_destroy(struct serial *s);
/* Queues guest input; returns bytes taken (fewer than @n when full). */
size_t serial_push(struct serial *s, const uint8_t *buf, size_t n);

#endif /* EMBER_SERIAL_H */
