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

/*
 * A CPU template's CPUID modifiers on KVM's supported table, before
 * normalisation (as Firecracker: the template cannot undo the topology).
 * A leaf KVM does not report is an error, with Firecracker's message in
 * @err: -ENOENT.  Pure.
 */
struct cpu_template;
int cpuid_apply_template(struct kvm_cpuid_entry2 *e, unsigned nr, const struct cpu_template *t,
			 char *err, size_t errlen);

/* Entry for (function, index), or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid_entry2 *e, unsigned nr, uint32_t function,
				    uint32_t index);

#endif /* EMBER_CPUID_H */
