// SPDX-License-Identifier: Apache-2.0
/*
 * machine-config's static CPU templates: the CPUID and MSR bits Firecracker's
 * C3, T2, T2S, T2CL and T2A force, as data (the same bits as the JSON
 * templates Firecracker publishes), and the hosts each one fits.  Like
 * Firecracker, a template is only applied on the CPU vendor and models it
 * was made for: the Intel ones on Skylake, Cascade Lake or Ice Lake, T2A
 * on AMD Milan; anywhere else InstanceStart fails with Firecracker's words.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpu_template.h"

/* The tables are long lines of numbers; keep them as generated. */
/* clang-format off */
/* T2's first four leaves, which T2S, T2CL and T2A share. */
#define T2_BASE_LEAVES \
	{0x1, 0x0, 0, 3, {{CPUT_EAX, 0x0fff3fff, 0x000306f2}, {CPUT_ECX, 0x0004cdfc, 0x00000000}, {CPUT_EDX, 0xe8641080, 0x00001080}}}, \
	{0x7, 0x0, 1, 3, {{CPUT_EBX, 0xffefda14, 0x00000200}, {CPUT_ECX, 0x40415f5e, 0x00000000}, {CPUT_EDX, 0x0000011c, 0x00000000}}}, \
	{0xd, 0x0, 1, 1, {{CPUT_EAX, 0x000002f8, 0x00000000}}}, \
	{0xd, 0x1, 1, 1, {{CPUT_EAX, 0x0000000e, 0x00000000}}}
#define T2_EXT_LEAVES(ecx1, edx1) \
	{0x80000001, 0x0, 0, 2, {{CPUT_ECX, ecx1, 0x00000000}, {CPUT_EDX, edx1, 0x00000000}}}, \
	{0x80000008, 0x0, 0, 1, {{CPUT_EBX, 0x00000200, 0x00000000}}}

static const struct cpu_template tmpl_c3 = {
    .nr_leaves = 5,
    .leaves = {
	{0x1, 0x0, 0, 3, {{CPUT_EAX, 0x0fff3fff, 0x000306e4}, {CPUT_ECX, 0x0040dd3c, 0x00000000}, {CPUT_EDX, 0xa8641080, 0x00001080}}},
	{0x7, 0x0, 1, 3, {{CPUT_EBX, 0xffafdd3c, 0x00000000}, {CPUT_ECX, 0x4041481e, 0x00000000}, {CPUT_EDX, 0x0000000c, 0x00000000}}},
	{0xd, 0x0, 1, 1, {{CPUT_EAX, 0x000002f8, 0x00000000}}},
	{0xd, 0x1, 1, 1, {{CPUT_EAX, 0x0000000e, 0x00000000}}},
	{0x80000001, 0x0, 0, 2, {{CPUT_ECX, 0x00000120, 0x00000000}, {CPUT_EDX, 0x04000000, 0x00000000}}},
    },
};

static const struct cpu_template tmpl_t2 = {
    .nr_leaves = 6,
    .leaves = {T2_BASE_LEAVES, T2_EXT_LEAVES(0x20000100, 0x04000000)},
};

/* T2 plus IA32_ARCH_CAPABILITIES. */
static const struct cpu_template tmpl_t2s = {
    .nr_leaves = 6,
    .nr_msrs = 1,
    .leaves = {T2_BASE_LEAVES, T2_EXT_LEAVES(0x20000100, 0x04000000)},
    .msrs = {{0x10a, 0xffffffffffffffffull, 0x000000000c0a0c4cull}},
};

static const struct cpu_template tmpl_t2cl = {
    .nr_leaves = 6,
    .nr_msrs = 1,
    .leaves = {T2_BASE_LEAVES, T2_EXT_LEAVES(0x200001c0, 0x07c00000)},
    .msrs = {{0x10a, 0xffffffffe2f51e00ull, 0x0000000000000000ull}},
};

static const struct cpu_template tmpl_t2a = {
    .nr_leaves = 6,
    .leaves = {
	T2_BASE_LEAVES,
	{0x80000001, 0x0, 0, 2, {{CPUT_ECX, 0x200001c4, 0x00000000}, {CPUT_EDX, 0x06400000, 0x00000000}}},
	{0x80000008, 0x0, 0, 1, {{CPUT_EBX, 0x001c0205, 0x001c0004}}},
    },
};
/* clang-format on */

/* CPUID leaf 1 EAX of the models a template is for (Firecracker's lists). */
struct fms {
	uint8_t ext_family, ext_model, family, model, stepping;
};
/* clang-format off */
#define FMS_SKYLAKE	 {0x0, 0x5, 0x6, 0x5, 0x4}
#define FMS_CASCADE_LAKE {0x0, 0x5, 0x6, 0x5, 0x7}
#define FMS_ICE_LAKE	 {0x0, 0x6, 0x6, 0xa, 0x6}
#define FMS_MILAN	 {0xa, 0x0, 0xf, 0x1, 0x1}
/* clang-format on */

static const struct static_tmpl {
	const char *name;
	const struct cpu_template *tmpl;
	const char *vendor; /* CPUID leaf 0's vendor string */
	struct fms models[3];
	unsigned nr_models;
} statics[CPUT_NR_STATIC] = {
    [CPUT_NONE] = {"None", NULL, NULL, {{0}}, 0},
    [CPUT_C3] = {"C3", &tmpl_c3, "GenuineIntel", {FMS_SKYLAKE, FMS_CASCADE_LAKE, FMS_ICE_LAKE}, 3},
    [CPUT_T2] = {"T2", &tmpl_t2, "GenuineIntel", {FMS_SKYLAKE, FMS_CASCADE_LAKE, FMS_ICE_LAKE}, 3},
    [CPUT_T2S] = {"T2S", &tmpl_t2s, "GenuineIntel", {FMS_SKYLAKE, FMS_CASCADE_LAKE}, 2},
    [CPUT_T2CL] = {"T2CL", &tmpl_t2cl, "GenuineIntel", {FMS_CASCADE_LAKE, FMS_ICE_LAKE}, 2},
    [CPUT_T2A] = {"T2A", &tmpl_t2a, "AuthenticAMD", {FMS_MILAN}, 1},
};

const char *cput_static_name(enum cput_static s)
{
	return (unsigned)s < CPUT_NR_STATIC ? statics[s].name : "None";
}

const struct cpu_template *cput_static_get(enum cput_static s)
{
	return (unsigned)s < CPUT_NR_STATIC ? statics[s].tmpl : NULL;
}

static bool fms_is(const struct fms *m, uint32_t eax)
{
	return m->ext_family == ((eax >> 20) & 0xff) && m->ext_model == ((eax >> 16) & 0xf) &&
	       m->family == ((eax >> 8) & 0xf) && m->model == ((eax >> 4) & 0xf) &&
	       m->stepping == (eax & 0xf);
}

int cput_static_check(enum cput_static s, const char vendor[12], uint32_t eax1, char *err,
		      size_t errlen)
{
	const struct static_tmpl *t;

	if ((unsigned)s >= CPUT_NR_STATIC || s == CPUT_NONE)
		return 0;
	t = &statics[s];
	if (memcmp(vendor, t->vendor, 12)) {
		snprintf(err, errlen,
			 "Failed to get CPU template: CPU vendor mismatched between actual CPU "
			 "and CPU template.");
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < t->nr_models; i++)
		if (fms_is(&t->models[i], eax1))
			return 0;
	snprintf(err, errlen,
		 "Failed to get CPU template: The current CPU model is not permitted to apply "
		 "the CPU template.");
	return -ENOTSUP;
}
