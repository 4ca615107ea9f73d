/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aml.h - a small encoder for the ACPI Machine Language ember's DSDT needs
 * (ACPI 6.5, chapter 20): names, integers, strings, packages, devices,
 * methods with one If/Notify, and resource templates of fixed memory, I/O
 * ports and extended interrupts.  Nothing is evaluated; bytes are emitted.
 *
 * Writes go into a caller's fixed buffer; running out of room or opening
 * too many nested scopes is a sticky error (aml.err), checked once at the
 * end.  A construct with a PkgLength is opened with aml_*_begin and closed
 * with aml_end, which fills the length in once the contents are known.
 */
#ifndef EMBER_AML_H
#define EMBER_AML_H

#include "ember.h"

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err; /* 0, -ENOSPC (buffer), -E2BIG (nesting) or -EINVAL (a bad name) */
	size_t open[AML_MAX_DEPTH]; /* where each open PkgLength goes */
	unsigned depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* Closes the innermost construct opened by an aml_*_begin. */
void aml_end(struct aml *a);

/* Bytes the PkgLength of @body bytes of contents takes (it counts itself): 1-4, 0 if too big. */
unsigned aml_pkglen_size(size_t body);

/* ---- data ---------------------------------------------------------------- */
void aml_int(struct aml *a, uint64_t v); /* Zero, One or the shortest prefixed form */
void aml_string(struct aml *a, const char *s);
/* EISAID("PNP0501"): the 7-character PNP ID compressed into a DWord. */
void aml_eisaid(struct aml *a, const char *id);
/* A NameString: "_SB_", "\\_SB_.VGEN"; every segment 4 characters. */
void aml_namestring(struct aml *a, const char *path);

/* ---- named objects and statements -------------------------------------- */
void aml_name(struct aml *a, const char *name); /* NameOp NameString; the value follows */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *name);
void aml_method_begin(struct aml *a, const char *name, unsigned args, bool serialized);
void aml_package_begin(struct aml *a, unsigned elements);
void aml_if_begin(struct aml *a);
/* LEqual(Arg@n, @v): the predicate of an If. */
void aml_lequal_arg(struct aml *a, unsigned n, uint64_t v);
void aml_notify(struct aml *a, const char *path, uint64_t value);
void aml_return_begin(struct aml *a); /* ReturnOp; the value follows (no PkgLength) */

/* ---- resource templates (a Buffer of descriptors, ACPI 6.5 section 6.4) --- */
void aml_restemplate_begin(struct aml *a);
/* Closes the template: the End Tag, then the Buffer's size and length in front. */
void aml_restemplate_end(struct aml *a);
void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable);
void aml_res_io(struct aml *a, uint16_t port, uint8_t len);
/* Extended Interrupt, consumer, edge-triggered, active-high, exclusive. */
void aml_res_irq(struct aml *a, uint32_t gsi);

#endif /* EMBER_AML_H */
