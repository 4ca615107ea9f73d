/* SPDX-License-Identifier: Apache-2.0 */
/*
 * persist.h - explicit little-endian encodings for saved device state.
 *
 * A snapshot must not depend on how this build of ember lays out a struct
 * (padding, bool's size, enum widths, buffer sizes), and a state file is
 * hostile input.  So every device writes its state field by field through
 * a pw (writer) and reads it back through a pr (reader) that bounds every
 * read, refuses bools other than 0 and 1 and strings that do not fit, and
 * remembers the first error: a decoder reads everything, then checks once
 * with pr_finish(), which also refuses trailing bytes.
 *
 * Encodings: integers little-endian at their width; bool one byte 0/1;
 * a string is u16 length + bytes, no NUL.
 */
#ifndef EMBER_PERSIST_H
#define EMBER_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"

struct pw {
	uint8_t *buf;
	size_t len, cap;
	int err; /* -ENOMEM, sticky */
};

void pw_init(struct pw *w);
void pw_free(struct pw *w);
void pw_bytes(struct pw *w, const void *p, size_t n);
void pw_u8(struct pw *w, uint8_t v);
void pw_u16(struct pw *w, uint16_t v);
void pw_u32(struct pw *w, uint32_t v);
void pw_u64(struct pw *w, uint64_t v);
void pw_bool(struct pw *w, bool v);
void pw_str(struct pw *w, const char *s); /* strlen(s) must fit a u16 */

struct pr {
	const uint8_t *p;
	size_t len, off;
	const char *why; /* first problem, NULL while all is well */
};

void pr_init(struct pr *r, const void *p, size_t len);
void pr_bytes(struct pr *r, void *dst, size_t n);
uint8_t pr_u8(struct pr *r);
uint16_t pr_u16(struct pr *r);
uint32_t pr_u32(struct pr *r);
uint64_t pr_u64(struct pr *r);
bool pr_bool(struct pr *r);
/* Into dst[size], NUL-terminated; longer than size - 1 or holding a NUL: an error. */
void pr_str(struct pr *r, char *dst, size_t size);
/* Marks the reader bad with @why (a decoder's own range checks); first one wins. */
void pr_fail(struct pr *r, const char *why);
/* 0 if everything was read and valid, else -EINVAL with *why set. */
int pr_finish(struct pr *r, const char **why);

#endif /* EMBER_PERSIST_H */
