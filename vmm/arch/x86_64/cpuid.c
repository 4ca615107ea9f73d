// SPDX-License-Identifier: Apache-2.0
/*
 * CPUID normalisation.  KVM reports what the host can virtualise, with the
 * host's topology in it; each vCPU must instead see its own APIC id and a
 * topology that matches the MP table (APIC ids 0..n-1, one package, one
 * thread per core), or Linux mis-counts or mis-numbers CPUs.
 */
#include <string.h>

#include <stdio.h>

#include "cpu_template.h"
#include "cpuid.h"

#define LEAF1_ECX_HYPERVISOR   (1u << 31)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_EDX_HTT	       (1u << 28)
#define EXT1_ECX_CMP_LEGACY    (1u << 1)
#define TOPO_LEVEL_SMT	       1u
#define TOPO_LEVEL_CORE	       2u
#define TOPO_LEVEL_TYPE_SHIFT  8
#define CPUID_SIGNATURE_INTEL  0x756e6547u /* "Genu" in EBX of leaf 0 */

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid_entry2 *e, unsigned nr, uint32_t function,
				    uint32_t index)
{
	for (unsigned i = 0; i < nr; i++)
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	return NULL;
}

/* Bits needed to hold ids 0..n-1. */
static uint32_t id_bits(unsigned n)
{
	uint32_t b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* Leaves 0xb and 0x1f: SMT level (1 thread), core level (n cores), then invalid. */
static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned index, unsigned nr_cpus)
{
	e->edx = index; /* x2APIC id, the same on every subleaf */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = TOPO_LEVEL_SMT << TOPO_LEVEL_TYPE_SHIFT;
		break;
	case 1:
		e->eax = id_bits(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = 1u | TOPO_LEVEL_CORE << TOPO_LEVEL_TYPE_SHIFT;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index & 0xff; /* level type 0: invalid, enumeration ends */
		break;
	}
}

void cpuid_normalize(struct kvm_cpuid_entry2 *e, unsigned nr, unsigned index, unsigned nr_cpus)
{
	const struct kvm_cpuid_entry2 *l0 = cpuid_find(e, nr, 0, 0);
	bool intel = l0 && l0->ebx == CPUID_SIGNATURE_INTEL;

	for (unsigned i = 0; i < nr; i++) {
		struct kvm_cpuid_entry2 *c = &e[i];

		switch (c->function) {
		case 0x1:
			/* EBX: [31:24] initial APIC id, [23:16] logical CPUs per package. */
			c->ebx = (c->ebx & 0xffff) | index << 24 | (nr_cpus & 0xff) << 16;
			c->ecx |= LEAF1_ECX_HYPERVISOR;
			/*
			 * KVM never reports TSC-deadline in the supported CPUID
			 * (it needs the in-kernel LAPIC, which we always create;
			 * vm.c requires KVM_CAP_TSC_DEADLINE_TIMER).  Without it
			 * Linux calibrates the LAPIC timer against PIT ticks, slow
			 * everywhere and, under nested KVM, the PIT load under
			 * which L1 soft-locked.
			 */
			c->ecx |= LEAF1_ECX_TSC_DEADLINE;
			if (nr_cpus > 1)
				c->edx |= LEAF1_EDX_HTT;
			else
				c->edx &= ~LEAF1_EDX_HTT;
			break;
		case 0x4:
			/* Intel only: EAX[31:26] cores per package - 1, [25:14] sharing - 1. */
			if (intel && (c->eax & 0x1f)) {
				c->eax &= 0x3fff;
				c->eax |= (nr_cpus - 1) << 26;
			}
			break;
		case 0xb:
		case 0x1f:
			topology_leaf(c, index, nr_cpus);
			break;
		case 0x80000001:
			if (!intel) {
				if (nr_cpus > 1)
					c->ecx |= EXT1_ECX_CMP_LEGACY;
				else
					c->ecx &= ~EXT1_ECX_CMP_LEGACY;
			}
			break;
		case 0x80000008:
			/* AMD: ECX[15:12] APIC id size, [7:0] cores - 1. */
			if (!intel)
				c->ecx = id_bits(nr_cpus) << 12 | ((nr_cpus - 1) & 0xff);
			break;
		case 0x8000001e:
			/* AMD: extended APIC id, core id, one thread per core, node 0. */
			if (!intel) {
				c->eax = index;
				c->ebx = index & 0xff;
				c->ecx = 0;
			}
			break;
		}
	}
}

int cpuid_apply_template(struct kvm_cpuid_entry2 *e, unsigned nr, const struct cpu_template *t,
			 char *err, size_t errlen)
{
	for (uint32_t i = 0; i < t->nr_leaves; i++) {
		const struct cput_leaf *l = &t->leaves[i];
		struct kvm_cpuid_entry2 *c = cpuid_find(e, nr, l->leaf, l->subleaf);

		if (!c) {
			snprintf(err, errlen,
				 "Template changes a CPUID entry not supported by KVM: Leaf: 0x%x, "
				 "Subleaf: 0x%x",
				 l->leaf, l->subleaf);
			return -ENOENT;
		}
		c->flags = l->flags;
		for (uint32_t j = 0; j < l->nr_mods && j < CPUT_MAX_REG_MODS; j++) {
			const struct cput_reg_mod *m = &l->mods[j];
			uint32_t *reg = m->reg == CPUT_EAX   ? &c->eax
					: m->reg == CPUT_EBX ? &c->ebx
					: m->reg == CPUT_ECX ? &c->ecx
							     : &c->edx;

			*reg = (uint32_t)cput_apply_bits(*reg, m->filter, m->value);
		}
	}
	return 0;
}
