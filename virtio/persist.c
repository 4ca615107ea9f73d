// SPDX-License-Identifier: Apache-2.0
/*
 * Little-endian field encodings for saved state (persist.h says why).
 * Written byte by byte rather than with htole*() + memcpy so the code reads
 * the same on any host and never does an unaligned access.
 */
#include <stdlib.h>
#include <string.h>

#include "persist.h"

void pw_init(struct pw *w)
{
	*w = (struct pw){0};
}

void pw_free(struct pw *w)
{
	free(w->buf);
	pw_init(w);
}

void pw_bytes(struct pw *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *b;

		while (cap - w->len < n)
			cap *= 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void pw_le(struct pw *w, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	pw_bytes(w, b, n);
}

void pw_u8(struct pw *w, uint8_t v)
{
	pw_le(w, v, 1);
}

void pw_u16(struct pw *w, uint16_t v)
{
	pw_le(w, v, 2);
}

void pw_u32(struct pw *w, uint32_t v)
{
	pw_le(w, v, 4);
}

void pw_u64(struct pw *w, uint64_t v)
{
	pw_le(w, v, 8);
}

void pw_bool(struct pw *w, bool v)
{
	pw_le(w, v ? 1 : 0, 1);
}

void pw_str(struct pw *w, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT16_MAX) {
		w->err = w->err ? w->err : -E2BIG;
		return;
	}
	pw_u16(w, (uint16_t)n);
	pw_bytes(w, s, n);
}

void pr_init(struct pr *r, const void *p, size_t len)
{
	*r = (struct pr){.p = p, .len = len};
}

void pr_fail(struct pr *r, const char *why)
{
	if (!r->why)
		r->why = why;
}

void pr_bytes(struct pr *r, void *dst, size_t n)
{
	if (r->why || n > r->len - r->off) {
		pr_fail(r, "truncated");
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
}

static uint64_t pr_le(struct pr *r, unsigned n)
{
	uint8_t b[8];
	uint64_t v = 0;

	pr_bytes(r, b, n);
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t pr_u8(struct pr *r)
{
	return (uint8_t)pr_le(r, 1);
}

uint16_t pr_u16(struct pr *r)
{
	return (uint16_t)pr_le(r, 2);
}

uint32_t pr_u32(struct pr *r)
{
	return (uint32_t)pr_le(r, 4);
}

uint64_t pr_u64(struct pr *r)
{
	return pr_le(r, 8);
}

bool pr_bool(struct pr *r)
{
	uint8_t v = pr_u8(r);

	if (v > 1)
		pr_fail(r, "a flag that is neither 0 nor 1");
	return v == 1;
}

void pr_str(struct pr *r, char *dst, size_t size)
{
	uint16_t n = pr_u16(r);

	if (!size) {
		pr_fail(r, "a string with nowhere to go");
		return;
	}
	dst[0] = '\0';
	if (r->why)
		return;
	if (n >= size) {
		pr_fail(r, "a string too long");
		return;
	}
	pr_bytes(r, dst, n);
	dst[r->why ? 0 : n] = '\0';
	if (!r->why && memchr(dst, '\0', n))
		pr_fail(r, "a string with a NUL in it");
}

int pr_finish(struct pr *r, const char **why)
{
	if (!r->why && r->off != r->len)
		pr_fail(r, "trailing bytes");
	*why = r->why;
	return r->why ? -EINVAL : 0;
}
