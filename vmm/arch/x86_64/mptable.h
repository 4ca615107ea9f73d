/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_MPTABLE_H
#define EMBER_MPTABLE_H

#include "ember.h"

/*
 * Intel MultiProcessor Specification 1.4 tables, so an ACPI-less guest finds
 * every vCPU, the IOAPIC and the ISA interrupt routing.  Built into @buf as it
 * will sit at guest address @gpa (the tables hold absolute pointers).
 * Returns the number of bytes used, or -EINVAL / -ENOSPC.
 */
int mptable_build(uint8_t *buf, size_t len, uint64_t gpa, unsigned nr_cpus);

/* Bytes mptable_build() needs for @nr_cpus. */
size_t mptable_size(unsigned nr_cpus);

#define MPTABLE_NR_IRQS 24 /* IOAPIC pins, all wired 1:1 to ISA IRQs */

#endif /* EMBER_MPTABLE_H */
