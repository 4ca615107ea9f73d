// SPDX-License-Identifier: Apache-2.0
/*
 * AML encoding (ACPI 6.5, chapter 20, "ACPI Machine Language
 * Specification").  Lengths are not known until a construct is complete,
 * so a PkgLength (and a Buffer's size) is inserted in front of the
 * contents when the construct is closed: the contents move up by the 1-4
 * bytes the length takes.  DSDTs are a few KiB, so the moves cost nothing.
 */
#include <string.h>

#include "aml.h"

enum {
	AML_ZERO = 0x00,
	AML_ONE = 0x01,
	AML_NAME = 0x08,
	AML_BYTE = 0x0a,
	AML_WORD = 0x0b,
	AML_DWORD = 0x0c,
	AML_STRING = 0x0d,
	AML_QWORD = 0x0e,
	AML_SCOPE = 0x10,
	AML_BUFFER = 0x11,
	AML_PACKAGE = 0x12,
	AML_METHOD = 0x14,
	AML_DUAL_NAME = 0x2e,
	AML_MULTI_NAME = 0x2f,
	AML_EXT = 0x5b,
	AML_EXT_DEVICE = 0x82,
	AML_ROOT = 0x5c,
	AML_ARG0 = 0x68,
	AML_NOTIFY = 0x86,
	AML_LEQUAL = 0x93,
	AML_IF = 0xa0,
	AML_RETURN = 0xa4,
};

/* Resource descriptors (ACPI 6.5, 6.4.2 small and 6.4.3 large). */
enum {
	RES_IO = 0x47,		/* small item 0x08, 7 bytes of data */
	RES_END = 0x79,		/* small item 0x0f, 1 byte: the checksum */
	RES_MEM32_FIXED = 0x86, /* large item 0x06 */
	RES_EXT_IRQ = 0x89,	/* large item 0x09 */
};

#define PKGLEN_MAX ((1u << 28) - 1)

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){.buf = buf, .cap = cap};
}

static void put(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct aml *a, uint8_t v)
{
	put(a, &v, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(a, b, bytes);
}

/* Inserts @n bytes at @at, moving what follows up. */
static void insert(struct aml *a, size_t at, const uint8_t *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

unsigned aml_pkglen_size(size_t body)
{
	/* One byte holds 6 bits; each further byte adds 8 to the lead's 4. */
	if (body + 1 <= 0x3f)
		return 1;
	for (unsigned n = 2; n <= 4; n++)
		if (body + n < (1ull << (4 + 8 * (n - 1))))
			return n;
	return 0;
}

static void open_pkg(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		a->err = -E2BIG;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
	uint8_t b[4];
	size_t at, body;
	unsigned n;

	if (a->err)
		return;
	if (!a->depth) {
		a->err = -EINVAL;
		return;
	}
	at = a->open[--a->depth];
	body = a->len - at;
	n = aml_pkglen_size(body);
	if (!n || body + n > PKGLEN_MAX) {
		a->err = -E2BIG;
		return;
	}
	body += n; /* PkgLength counts its own bytes */
	if (n == 1) {
		b[0] = (uint8_t)body;
	} else {
		b[0] = (uint8_t)(((n - 1) << 6) | (body & 0xf));
		for (unsigned i = 1; i < n; i++)
			b[i] = (uint8_t)(body >> (4 + 8 * (i - 1)));
	}
	insert(a, at, b, n);
}

void aml_int(struct aml *a, uint64_t v)
{
	static const struct {
		uint64_t max;
		uint8_t prefix;
		unsigned bytes;
	} forms[] = {
	    {UINT8_MAX, AML_BYTE, 1},
	    {UINT16_MAX, AML_WORD, 2},
	    {UINT32_MAX, AML_DWORD, 4},
	    {UINT64_MAX, AML_QWORD, 8},
	};

	if (v <= 1) {
		put8(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		if (v <= forms[i].max) {
			put8(a, forms[i].prefix);
			put_le(a, v, forms[i].bytes);
			return;
		}
}

void aml_string(struct aml *a, const char *s)
{
	put8(a, AML_STRING);
	put(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	/* Three letters of 5 bits each ('A' is 1), then four hex digits. */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			a->err = a->err ? a->err : -EINVAL;
			return;
		}
		v = (v << 5) | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		int h = hexval(id[i]);

		if (h < 0) {
			a->err = a->err ? a->err : -EINVAL;
			return;
		}
		v = (v << 4) | (uint32_t)h;
	}
	/* The compressed ID is stored most significant byte first. */
	put8(a, AML_DWORD);
	put8(a, (uint8_t)(v >> 24));
	put8(a, (uint8_t)(v >> 16));
	put8(a, (uint8_t)(v >> 8));
	put8(a, (uint8_t)v);
}

static bool seg_ok(const char *s, size_t n)
{
	if (n != 4 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < 4; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path;
	unsigned segs = 0;
	size_t n;

	if (*p == '\\')
		p++;
	n = strlen(p);
	/* Segments of 4 characters separated by dots: n = 5 * segs - 1. */
	if ((n + 1) % 5 || !n) {
		a->err = a->err ? a->err : -EINVAL;
		return;
	}
	segs = (unsigned)((n + 1) / 5);
	for (unsigned i = 0; i < segs; i++)
		if (!seg_ok(p + 5 * i, 4) || (i + 1 < segs && p[5 * i + 4] != '.')) {
			a->err = a->err ? a->err : -EINVAL;
			return;
		}
	if (p != path)
		put8(a, AML_ROOT);
	if (segs == 2) {
		put8(a, AML_DUAL_NAME);
	} else if (segs > 2) {
		put8(a, AML_MULTI_NAME);
		put8(a, (uint8_t)segs);
	}
	for (unsigned i = 0; i < segs; i++)
		put(a, p + 5 * i, 4);
}

void aml_name(struct aml *a, const char *name)
{
	put8(a, AML_NAME);
	aml_namestring(a, name);
}

void aml_scope_begin(struct aml *a, const char *path)
{
	put8(a, AML_SCOPE);
	open_pkg(a);
	aml_namestring(a, path);
}

void aml_device_begin(struct aml *a, const char *name)
{
	put8(a, AML_EXT);
	put8(a, AML_EXT_DEVICE);
	open_pkg(a);
	aml_namestring(a, name);
}

void aml_method_begin(struct aml *a, const char *name, unsigned args, bool serialized)
{
	if (args > 7)
		a->err = a->err ? a->err : -EINVAL;
	put8(a, AML_METHOD);
	open_pkg(a);
	aml_namestring(a, name);
	/* MethodFlags: bits 0-2 ArgCount, bit 3 SerializeFlag, SyncLevel 0. */
	put8(a, (uint8_t)((args & 7) | (serialized ? 8 : 0)));
}

void aml_package_begin(struct aml *a, unsigned elements)
{
	if (elements > UINT8_MAX)
		a->err = a->err ? a->err : -EINVAL;
	put8(a, AML_PACKAGE);
	open_pkg(a);
	put8(a, (uint8_t)elements);
}

void aml_if_begin(struct aml *a)
{
	put8(a, AML_IF);
	open_pkg(a);
}

void aml_lequal_arg(struct aml *a, unsigned n, uint64_t v)
{
	if (n > 6)
		a->err = a->err ? a->err : -EINVAL;
	put8(a, AML_LEQUAL);
	put8(a, (uint8_t)(AML_ARG0 + (n & 7)));
	aml_int(a, v);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	put8(a, AML_NOTIFY);
	aml_namestring(a, path);
	aml_int(a, value);
}

void aml_return_begin(struct aml *a)
{
	put8(a, AML_RETURN);
}

/*
 * A ResourceTemplate is a Buffer: BufferOp PkgLength BufferSize bytes.  The
 * size (an integer of 1-3 bytes) goes in front of the descriptors at the end,
 * like the PkgLength: open_pkg's mark is where both are inserted.
 */
void aml_restemplate_begin(struct aml *a)
{
	put8(a, AML_BUFFER);
	open_pkg(a);
}

void aml_restemplate_end(struct aml *a)
{
	uint8_t size[9];
	struct aml s;

	if (a->err)
		return;
	if (!a->depth) {
		a->err = -EINVAL;
		return;
	}
	/* End Tag, checksum 0 ("treated as if the checksum succeeded"), as iasl has it. */
	put8(a, RES_END);
	put8(a, 0);
	aml_init(&s, size, sizeof(size));
	aml_int(&s, a->len - a->open[a->depth - 1]);
	insert(a, a->open[a->depth - 1], size, s.len);
	aml_end(a);
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable)
{
	put8(a, RES_MEM32_FIXED);
	put_le(a, 9, 2);	   /* data bytes */
	put8(a, writable ? 1 : 0); /* bit 0: read/write */
	put_le(a, base, 4);
	put_le(a, len, 4);
}

void aml_res_io(struct aml *a, uint16_t port, uint8_t len)
{
	put8(a, RES_IO);
	put8(a, 1);	    /* decodes 16 address bits */
	put_le(a, port, 2); /* minimum base */
	put_le(a, port, 2); /* maximum base: fixed */
	put8(a, 1);	    /* alignment */
	put8(a, len);
}

void aml_res_irq(struct aml *a, uint32_t gsi)
{
	put8(a, RES_EXT_IRQ);
	put_le(a, 6, 2); /* data bytes: flags, count, one interrupt */
	/* bit 0 consumer, bit 1 edge, bit 2 clear: active-high, bit 3 clear: exclusive */
	put8(a, 0x3);
	put8(a, 1);
	put_le(a, gsi, 4);
}
