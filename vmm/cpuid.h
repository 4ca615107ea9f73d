/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_CPUID_H
#define EMBER_CPUID_H

#include <linux/kvm.h>

#include "ember.h"

/*
 * Turns KVM_GET_SUPPORTED_CPUID's answer into what vCPU @index of @nr_cpus
 * should see: its own APIC id, a one-socket topology of @nr_cpus single-thread
 * cores, and the hypervisor bit.  Pure: unit-tested on made-up tables.
 */
void cpuid_normalize(struct kvm_cpuid_entry2 *e, unsigned nr, unsigned index, unsigned nr_cpus);

/* Entry for (function, index), or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid_entry2 *e, unsigned nr, uint32_t function,
				    uint32_t index);

#endif /* EMBER_CPUID_H */
