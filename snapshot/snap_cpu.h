/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snap_cpu.h - the VM's CPU template in a snapshot (SNAP_SEC_CPU_TEMPLATE),
 * so GET /vm/config after a restore shows the machine-config "cpu_template"
 * or "cpu-config" the VM was booted with, as the snapshot's vCPU CPUID and
 * MSRs already carry its effect.  Versioned, little-endian (persist.h):
 *
 *   u32 version (1), u32 static template (enum cput_static), bool custom;
 *   custom: u32 n, n x (u32 cap, bool remove);
 *           u32 n, n x (u32 leaf, subleaf, flags, u32 m, m x (u8 reg, u32 filter, value));
 *           u32 n, n x (u32 addr, u64 filter, value)
 */
#ifndef EMBER_SNAP_CPU_H
#define EMBER_SNAP_CPU_H

#include "config.h"
#include "cpu_template.h"
#include "persist.h"
#include "snapfile.h"

#define SNAP_CPU_VERSION 1u

/* Pure: for tests.  decode: 0 or -EINVAL with *why; @t written only when *custom. */
void snap_cpu_encode(unsigned cpu_static, const struct cpu_template *custom, struct pw *w);
int snap_cpu_decode(const void *p, size_t len, unsigned *cpu_static, bool *custom,
		    struct cpu_template *t, const char **why);

/* Adds the section when @cfg has a template; 0 or -ENOMEM. */
int snap_cpu_save(const struct vm_config *cfg, struct snap_writer *w);
/*
 * Sets cfg->cpu_static / cpu_tmpl from the section, if any; a custom
 * template is malloc'ed into *@owned (the caller frees it after the VM).
 */
int snap_cpu_load(const struct snap_image *img, struct vm_config *cfg, struct cpu_template **owned,
		  char *err, size_t errlen);

#endif /* EMBER_SNAP_CPU_H */
