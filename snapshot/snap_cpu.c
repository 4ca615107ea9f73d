// SPDX-License-Identifier: Apache-2.0
/* The CPU template section of a snapshot; the encoding is in snap_cpu.h. */
#include <stdio.h>
#include <stdlib.h>

#include "snap_cpu.h"

void snap_cpu_encode(unsigned cpu_static, const struct cpu_template *t, struct pw *w)
{
	pw_u32(w, SNAP_CPU_VERSION);
	pw_u32(w, cpu_static);
	pw_bool(w, t != NULL);
	if (!t)
		return;
	pw_u32(w, t->nr_caps);
	for (uint32_t i = 0; i < t->nr_caps; i++) {
		pw_u32(w, t->caps[i].cap);
		pw_bool(w, t->caps[i].remove);
	}
	pw_u32(w, t->nr_leaves);
	for (uint32_t i = 0; i < t->nr_leaves; i++) {
		const struct cput_leaf *l = &t->leaves[i];

		pw_u32(w, l->leaf);
		pw_u32(w, l->subleaf);
		pw_u32(w, l->flags);
		pw_u32(w, l->nr_mods);
		for (uint32_t j = 0; j < l->nr_mods; j++) {
			pw_u8(w, l->mods[j].reg);
			pw_u32(w, l->mods[j].filter);
			pw_u32(w, l->mods[j].value);
		}
	}
	pw_u32(w, t->nr_msrs);
	for (uint32_t i = 0; i < t->nr_msrs; i++) {
		pw_u32(w, t->msrs[i].addr);
		pw_u64(w, t->msrs[i].filter);
		pw_u64(w, t->msrs[i].value);
	}
}

/* A count read from the file, refused above @max before anything is indexed by it. */
static uint32_t count(struct pr *r, uint32_t max, const char *why)
{
	uint32_t n = pr_u32(r);

	if (n > max) {
		pr_fail(r, why);
		return 0;
	}
	return n;
}

static void decode_custom(struct pr *r, struct cpu_template *t)
{
	t->nr_caps = count(r, CPUT_MAX_CAPS, "too many KVM capabilities");
	for (uint32_t i = 0; i < t->nr_caps; i++) {
		t->caps[i].cap = pr_u32(r);
		t->caps[i].remove = pr_bool(r);
	}
	t->nr_leaves = count(r, CPUT_MAX_LEAVES, "too many CPUID modifiers");
	for (uint32_t i = 0; i < t->nr_leaves; i++) {
		struct cput_leaf *l = &t->leaves[i];

		l->leaf = pr_u32(r);
		l->subleaf = pr_u32(r);
		l->flags = pr_u32(r);
		l->nr_mods = count(r, CPUT_MAX_REG_MODS, "too many register modifiers");
		for (uint32_t j = 0; j < l->nr_mods; j++) {
			l->mods[j].reg = pr_u8(r);
			if (l->mods[j].reg > CPUT_EDX)
				pr_fail(r, "unknown CPUID register");
			l->mods[j].filter = pr_u32(r);
			l->mods[j].value = pr_u32(r);
		}
	}
	t->nr_msrs = count(r, CPUT_MAX_MSRS, "too many MSR modifiers");
	for (uint32_t i = 0; i < t->nr_msrs; i++) {
		t->msrs[i].addr = pr_u32(r);
		t->msrs[i].filter = pr_u64(r);
		t->msrs[i].value = pr_u64(r);
	}
}

int snap_cpu_decode(const void *p, size_t len, unsigned *cpu_static, bool *custom,
		    struct cpu_template *t, const char **why)
{
	struct pr r;
	uint32_t version;

	pr_init(&r, p, len);
	version = pr_u32(&r);
	if (version != SNAP_CPU_VERSION)
		pr_fail(&r, "unknown version");
	*cpu_static = pr_u32(&r);
	if (*cpu_static >= CPUT_NR_STATIC)
		pr_fail(&r, "unknown static template");
	*custom = pr_bool(&r);
	if (*custom && !r.why)
		decode_custom(&r, t);
	return pr_finish(&r, why);
}

int snap_cpu_save(const struct vm_config *cfg, struct snap_writer *w)
{
	struct pw e;
	int r;

	if (!cfg->cpu_tmpl && cfg->cpu_static == CPUT_NONE)
		return 0;
	pw_init(&e);
	snap_cpu_encode(cfg->cpu_static, cfg->cpu_tmpl, &e);
	r = e.err;
	if (!r)
		r = snap_w_section(w, SNAP_SEC_CPU_TEMPLATE, 0, e.buf, e.len);
	pw_free(&e);
	return r;
}

int snap_cpu_load(const struct snap_image *img, struct vm_config *cfg, struct cpu_template **owned,
		  char *err, size_t errlen)
{
	struct cpu_template *t;
	const char *why;
	const void *p;
	uint64_t len;
	unsigned st;
	bool custom;

	*owned = NULL;
	if (snap_find(img, SNAP_SEC_CPU_TEMPLATE, 0, &p, &len))
		return 0; /* booted without a template, or by an older ember */
	t = malloc(sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (snap_cpu_decode(p, len, &st, &custom, t, &why)) {
		snprintf(err, errlen, "snapshot: CPU template section: %s", why);
		free(t);
		return -EINVAL;
	}
	cfg->cpu_static = st;
	if (custom) {
		cfg->cpu_tmpl = t;
		*owned = t;
	} else {
		free(t);
	}
	return 0;
}
