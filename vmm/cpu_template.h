/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firecracker's CPU templates as plain data: PUT /cpu-config's custom
 * template (CPUID and MSR modifiers, KVM capabilities) and the static
 * templates of machine-config's "cpu_template" (C3, T2, T2S, T2CL, T2A),
 * which are the same data built in (cpu_static.c).
 *
 * A modifier is Firecracker's tri-state bitmap: bits in @filter are forced
 * to the matching bits of @value, the others keep what KVM reports:
 * new = (old & ~filter) | value.  No KVM header here: api-socket/ parses
 * and prints templates (api_cpu.c), vmm/ applies them (cpuid.c, vcpu.c).
 */
#ifndef EMBER_CPU_TEMPLATE_H
#define EMBER_CPU_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Limits (Firecracker has none; KVM does): KVM's CPUID table holds at
 * most 256 entries and its MSR list a few hundred, so more modifiers than
 * that can only be a mistake or an attack.
 */
#define CPUT_MAX_LEAVES	  256
#define CPUT_MAX_REG_MODS 8 /* per leaf: eax..edx, repeats allowed as in Firecracker */
#define CPUT_MAX_MSRS	  256
#define CPUT_MAX_CAPS	  64

enum cput_reg { CPUT_EAX, CPUT_EBX, CPUT_ECX, CPUT_EDX };

struct cput_reg_mod {
	uint8_t reg; /* enum cput_reg */
	uint32_t filter, value;
};

struct cput_leaf {
	uint32_t leaf, subleaf;
	uint32_t flags; /* KVM_CPUID_FLAG_*: replaces the entry's flags */
	uint32_t nr_mods;
	struct cput_reg_mod mods[CPUT_MAX_REG_MODS];
};

struct cput_msr {
	uint32_t addr;
	uint64_t filter, value;
};

struct cpu_template {
	uint32_t nr_leaves, nr_msrs, nr_caps;
	struct cput_leaf leaves[CPUT_MAX_LEAVES];
	struct cput_msr msrs[CPUT_MAX_MSRS];
	/* KVM capabilities: "N" must be present at start, "!N" is not checked. */
	struct {
		uint32_t cap;
		bool remove;
	} caps[CPUT_MAX_CAPS];
};

/* machine-config's "cpu_template", in the swagger's order. */
enum cput_static { CPUT_NONE, CPUT_C3, CPUT_T2, CPUT_T2S, CPUT_T2CL, CPUT_T2A, CPUT_NR_STATIC };

/* "C3", ..., "None"; the JSON names. */
const char *cput_static_name(enum cput_static s);
/*
 * The built-in template @s (not CPUT_NONE), and whether it fits this host:
 * Firecracker's vendor and CPU model rules.  0, or -ENOTSUP with
 * Firecracker's message in @err.  @vendor is CPUID leaf 0's 12-byte
 * vendor string, @eax1 leaf 1's EAX (family, model, stepping).
 */
const struct cpu_template *cput_static_get(enum cput_static s);
int cput_static_check(enum cput_static s, const char vendor[12], uint32_t eax1, char *err,
		      size_t errlen);

/* new = (old & ~filter) | value, for either width. */
static inline uint64_t cput_apply_bits(uint64_t old, uint64_t filter, uint64_t value)
{
	return (old & ~filter) | (value & filter);
}

#endif /* EMBER_CPU_TEMPLATE_H */
