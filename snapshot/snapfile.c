// SPDX-License-Identifier: Apache-2.0
/*
 * The snapshot state file: writer and validating reader (format in
 * snapfile.h).  The reader treats the file as hostile until proven intact:
 * it refuses oversized files from fstat alone, checks the identifying
 * fields and the length before spending time on the CRC, and parses no
 * section before the CRC matches.  Every bound is checked as "len <= end -
 * off" with off <= end already known, so no addition can wrap.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ember.h"
#include "snapfile.h"

/* Payloads are capped well below SIZE_MAX so padding arithmetic cannot wrap. */
#define SNAP_MAX_PAYLOAD (1ull << 40)

static void snap_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void snap_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t snap_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t snap_get64(const uint8_t *p)
{
	return (uint64_t)snap_get32(p) | (uint64_t)snap_get32(p + 4) << 32;
}

/* Bytes a payload of @len occupies; callers guarantee len <= SNAP_MAX_PAYLOAD. */
static uint64_t snap_padded(uint64_t len)
{
	return (len + SNAP_ALIGN - 1) & ~(uint64_t)(SNAP_ALIGN - 1);
}

const char *snap_section_name(uint32_t type)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = {
	    {SNAP_SEC_MACHINE, "machine"},
	    {SNAP_SEC_MEM_REGION, "mem-region"},
	    {SNAP_SEC_PIC_MASTER, "pic-master"},
	    {SNAP_SEC_CPU_TEMPLATE, "cpu-template"},
	    {SNAP_SEC_MEM_PAGES, "mem-pages"},
	    {SNAP_SEC_PIC_SLAVE, "pic-slave"},
	    {SNAP_SEC_IOAPIC, "ioapic"},
	    {SNAP_SEC_PIT, "pit"},
	    {SNAP_SEC_CLOCK, "clock"},
	    {SNAP_SEC_VCPU_REGS, "vcpu-regs"},
	    {SNAP_SEC_VCPU_SREGS, "vcpu-sregs"},
	    {SNAP_SEC_VCPU_FPU, "vcpu-fpu"},
	    {SNAP_SEC_VCPU_XSAVE, "vcpu-xsave"},
	    {SNAP_SEC_VCPU_XCRS, "vcpu-xcrs"},
	    {SNAP_SEC_VCPU_LAPIC, "vcpu-lapic"},
	    {SNAP_SEC_VCPU_MSRS, "vcpu-msrs"},
	    {SNAP_SEC_VCPU_MP_STATE, "vcpu-mp-state"},
	    {SNAP_SEC_VCPU_EVENTS, "vcpu-events"},
	    {SNAP_SEC_VCPU_DEBUGREGS, "vcpu-debugregs"},
	    {SNAP_SEC_VCPU_CPUID, "vcpu-cpuid"},
	    {SNAP_SEC_VCPU_TSC_KHZ, "vcpu-tsc-khz"},
	    {SNAP_SEC_GIC_DIST, "gic-dist"},
	    {SNAP_SEC_GIC_SPI_LEVEL, "gic-spi-level"},
	    {SNAP_SEC_VCPU_ONE_REGS, "vcpu-one-regs"},
	    {SNAP_SEC_VCPU_ARM_MP, "vcpu-arm-mp"},
	    {SNAP_SEC_GIC_REDIST, "gic-redist"},
	    {SNAP_SEC_GIC_CPU, "gic-cpu"},
	    {SNAP_SEC_GIC_PPI_LEVEL, "gic-ppi-level"},
	    {SNAP_SEC_DEV_MMIO, "virtio-mmio"},
	    {SNAP_SEC_DEVICE, "device"},
	    {SNAP_SEC_SERIAL, "serial"},
	    {SNAP_SEC_I8042, "i8042"},
	    {SNAP_SEC_VMGENID, "vmgenid"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].type == type)
			return names[i].name;
	return "unknown";
}

/* ---- writer --------------------------------------------------------------- */

/* Every failure sticks in w->err, so a caller may check only at the end. */
static int snap_w_fail(struct snap_writer *w, int rc)
{
	if (!w->err)
		w->err = rc;
	return w->err;
}

static int snap_w_reserve(struct snap_writer *w, size_t more)
{
	size_t need, cap;
	uint8_t *nb;

	if (more > SIZE_MAX / 2 - w->len)
		return snap_w_fail(w, -EFBIG);
	need = w->len + more;
	if (need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : 4096;
	while (cap < need)
		cap *= 2; /* need < SIZE_MAX / 2: cannot overflow */
	nb = realloc(w->buf, cap);
	if (!nb)
		return snap_w_fail(w, -ENOMEM);
	w->buf = nb;
	w->cap = cap;
	return 0;
}

int snap_w_begin(struct snap_writer *w, uint32_t flags)
{
	memset(w, 0, sizeof(*w));
	if (flags & ~SNAP_F_KNOWN)
		return snap_w_fail(w, -EINVAL);
	w->flags = flags;
	w->arch = SNAP_ARCH_HOST;
	if (snap_w_reserve(w, SNAP_HDR_SIZE))
		return w->err;
	memset(w->buf, 0, SNAP_HDR_SIZE); /* filled in when sealed */
	w->len = SNAP_HDR_SIZE;
	return 0;
}

int snap_w_section(struct snap_writer *w, uint32_t type, uint32_t id, const void *data,
		   uint64_t len)
{
	uint64_t padded;
	uint8_t *p;

	if (w->err)
		return w->err;
	if (!w->buf || w->sealed || (len && !data))
		return snap_w_fail(w, -EINVAL);
	if (w->nr_sections >= SNAP_MAX_SECTIONS)
		return snap_w_fail(w, -E2BIG);
	if (len > SNAP_MAX_PAYLOAD)
		return snap_w_fail(w, -EFBIG);
	padded = snap_padded(len);
	if (snap_w_reserve(w, SNAP_SEC_HDR_SIZE + padded))
		return w->err;
	p = w->buf + w->len;
	snap_put32(p, type);
	snap_put32(p + 4, id);
	snap_put64(p + 8, len);
	if (len)
		memcpy(p + SNAP_SEC_HDR_SIZE, data, len);
	memset(p + SNAP_SEC_HDR_SIZE + len, 0, padded - len);
	w->len += SNAP_SEC_HDR_SIZE + padded;
	w->nr_sections++;
	return 0;
}

static int snap_w_seal(struct snap_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->buf)
		return snap_w_fail(w, -EINVAL);
	if (w->sealed)
		return 0;
	if (snap_w_reserve(w, SNAP_CRC_SIZE))
		return w->err;
	memcpy(w->buf, SNAP_MAGIC, 8);
	snap_put32(w->buf + 8, SNAP_VERSION);
	snap_put32(w->buf + 12, w->arch);
	snap_put32(w->buf + 16, w->flags);
	snap_put32(w->buf + 20, w->nr_sections);
	snap_put64(w->buf + 24, (uint64_t)w->len + SNAP_CRC_SIZE);
	snap_put64(w->buf + w->len, snap_crc64(0, w->buf, w->len));
	w->len += SNAP_CRC_SIZE;
	w->sealed = 1;
	return 0;
}

const uint8_t *snap_w_bytes(struct snap_writer *w, size_t *len)
{
	if (snap_w_seal(w))
		return NULL;
	*len = w->len;
	return w->buf;
}

int snap_w_finish(struct snap_writer *w, int fd)
{
	size_t off = 0;
	int rc = snap_w_seal(w);

	if (rc)
		return rc;
	while (off < w->len) {
		size_t chunk = w->len - off < (1u << 30) ? w->len - off : (1u << 30);
		ssize_t n = write(fd, w->buf + off, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) /* a regular file only does this when it cannot grow */
			return -EIO;
		off += (size_t)n;
	}
	/* The state file is useless without its memory file and vice versa;
	 * the caller answers 204 only once both are on stable storage. */
	if (fsync(fd))
		return -errno;
	return 0;
}

void snap_w_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* ---- reader --------------------------------------------------------------- */

static int snap_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int snap_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int snap_fail_errno(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (r < 0 && n < errlen)
		snprintf(err + n, errlen - n, ": %s", strerror(-r));
	return r < 0 ? r : -EINVAL;
}

/*
 * The file is shorter than its header says.  Only to make the message
 * useful, walk the (unverified) section headers to say where it was cut;
 * nothing found here is used for anything else.
 */
static int snap_truncated(const uint8_t *b, uint64_t size, uint64_t total, char *err, size_t errlen)
{
	uint32_t count = snap_get32(b + 20);
	uint64_t off = SNAP_HDR_SIZE;

	for (uint32_t i = 0; i < count && i < SNAP_MAX_SECTIONS; i++) {
		uint32_t type, id;
		uint64_t len;

		if (off == size)
			return snap_fail(err, errlen, -EINVAL,
					 "state file truncated after section %u of %u (%llu of "
					 "%llu bytes)",
					 i, count, (unsigned long long)size,
					 (unsigned long long)total);
		if (size - off < SNAP_SEC_HDR_SIZE)
			return snap_fail(err, errlen, -EINVAL,
					 "state file truncated in the header of section %u (%llu "
					 "of %llu bytes)",
					 i, (unsigned long long)size, (unsigned long long)total);
		type = snap_get32(b + off);
		id = snap_get32(b + off + 4);
		len = snap_get64(b + off + 8);
		off += SNAP_SEC_HDR_SIZE;
		if (len > SNAP_MAX_PAYLOAD || snap_padded(len) > size - off)
			return snap_fail(err, errlen, -EINVAL,
					 "state file truncated in section %u (%s %u) (%llu of "
					 "%llu bytes)",
					 i, snap_section_name(type), id, (unsigned long long)size,
					 (unsigned long long)total);
		off += snap_padded(len);
	}
	return snap_fail(err, errlen, -EINVAL,
			 "state file truncated in its CRC (%llu of %llu bytes)",
			 (unsigned long long)size, (unsigned long long)total);
}

/* Everything about the file except the sections; see snapfile.h for the order. */
static int snap_check_outer(const uint8_t *b, uint64_t size, uint32_t want_arch, char *err,
			    size_t errlen)
{
	uint32_t version, arch, flags;
	uint64_t total, stored, crc;

	if (size == 0)
		return snap_fail(err, errlen, -EINVAL, "state file is empty");
	if (memcmp(b, SNAP_MAGIC, size < 8 ? size : 8))
		return snap_fail(err, errlen, -EINVAL,
				 "not an ember state file (bad magic; want \"" SNAP_MAGIC "\")");
	if (size < SNAP_HDR_SIZE)
		return snap_fail(err, errlen, -EINVAL,
				 "state file truncated in its header (%llu of %u bytes)",
				 (unsigned long long)size, SNAP_HDR_SIZE);
	version = snap_get32(b + 8);
	if (version > SNAP_VERSION)
		return snap_fail(err, errlen, -EINVAL,
				 "snapshot format version %u is newer than this ember's %u",
				 version, SNAP_VERSION);
	if (version == 0)
		return snap_fail(err, errlen, -EINVAL, "snapshot format version 0 is invalid");
	/*
	 * Version 1 saved device settings as raw C structs, which no reader
	 * should trust across builds; there is no converter: snapshot again.
	 */
	if (version < SNAP_VERSION)
		return snap_fail(
		    err, errlen, -EINVAL,
		    "snapshot format version %u is from an older ember; this one reads "
		    "version %u only: take the snapshot again",
		    version, SNAP_VERSION);
	arch = snap_get32(b + 12);
	if (arch != want_arch)
		return snap_fail(err, errlen, -EINVAL,
				 "snapshot is for architecture %u (%s), this ember is %s (%u)",
				 arch, snap_arch_name(arch), snap_arch_name(want_arch), want_arch);
	total = snap_get64(b + 24);
	if (total > size)
		return snap_truncated(b, size, total, err, errlen);
	if (total < size)
		return snap_fail(err, errlen, -EINVAL,
				 "state file is %llu bytes but its header says %llu",
				 (unsigned long long)size, (unsigned long long)total);
	if (size < SNAP_HDR_SIZE + SNAP_CRC_SIZE)
		return snap_fail(err, errlen, -EINVAL,
				 "state file too short for its CRC (%llu bytes)",
				 (unsigned long long)size);
	stored = snap_get64(b + size - SNAP_CRC_SIZE);
	crc = snap_crc64(0, b, size - SNAP_CRC_SIZE);
	if (stored != crc)
		return snap_fail(err, errlen, -EINVAL,
				 "state file is corrupt: CRC64 %016llx does not match its "
				 "contents (%016llx)",
				 (unsigned long long)stored, (unsigned long long)crc);
	flags = snap_get32(b + 16);
	if (flags & ~SNAP_F_KNOWN)
		return snap_fail(err, errlen, -EINVAL, "state file has unknown flags 0x%x",
				 flags & ~SNAP_F_KNOWN);
	return 0;
}

/* The section table, trusted only for being intact (the CRC matched). */
static int snap_check_sections(struct snap_image *img, char *err, size_t errlen)
{
	const uint8_t *b = img->buf;
	uint64_t end = img->size - SNAP_CRC_SIZE, off = SNAP_HDR_SIZE;
	uint32_t count = snap_get32(b + 20);

	if (count > SNAP_MAX_SECTIONS)
		return snap_fail(err, errlen, -EINVAL,
				 "state file claims %u sections, more than the %u allowed", count,
				 SNAP_MAX_SECTIONS);
	img->sections = calloc(count ? count : 1, sizeof(*img->sections));
	if (!img->sections)
		return snap_fail(err, errlen, -ENOMEM, "out of memory reading the state file");
	for (uint32_t i = 0; i < count; i++) {
		struct snap_section *s = &img->sections[i];

		if (end - off < SNAP_SEC_HDR_SIZE)
			return snap_fail(err, errlen, -EINVAL,
					 "state file claims %u sections but its data ends after "
					 "%u",
					 count, i);
		s->type = snap_get32(b + off);
		s->id = snap_get32(b + off + 4);
		s->len = snap_get64(b + off + 8);
		off += SNAP_SEC_HDR_SIZE;
		if (s->len > SNAP_MAX_PAYLOAD || snap_padded(s->len) > end - off)
			return snap_fail(err, errlen, -EINVAL,
					 "section %u (%s %u) length %llu runs past the end of the "
					 "state file",
					 i, snap_section_name(s->type), s->id,
					 (unsigned long long)s->len);
		s->data = b + off;
		off += snap_padded(s->len);
		for (uint32_t j = 0; j < i; j++)
			if (img->sections[j].type == s->type && img->sections[j].id == s->id)
				return snap_fail(err, errlen, -EINVAL,
						 "section %u duplicates section %u (%s %u)", i, j,
						 snap_section_name(s->type), s->id);
	}
	if (off != end)
		return snap_fail(err, errlen, -EINVAL,
				 "state file has %llu bytes after its %u sections",
				 (unsigned long long)(end - off), count);
	img->nr_sections = count;
	return 0;
}

/* Takes ownership of @buf (malloc'ed, @size bytes). */
static int snap_adopt(uint8_t *buf, uint64_t size, uint32_t arch, struct snap_image *img, char *err,
		      size_t errlen)
{
	int rc;

	img->buf = buf;
	img->size = size;
	rc = snap_check_outer(buf, size, arch, err, errlen);
	if (!rc)
		rc = snap_check_sections(img, err, errlen);
	if (rc) {
		snap_image_free(img);
		return rc;
	}
	img->version = snap_get32(buf + 8);
	img->arch = snap_get32(buf + 12);
	img->flags = snap_get32(buf + 16);
	return 0;
}

int snap_read_fd(int fd, uint64_t max_size, struct snap_image *img, char *err, size_t errlen)
{
	struct stat st;
	uint64_t size, off = 0;
	uint8_t *buf;

	memset(img, 0, sizeof(*img));
	if (fstat(fd, &st)) {
		int e = errno;

		return snap_fail(err, errlen, -e, "cannot stat the state file: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return snap_fail(err, errlen, -EINVAL, "state file is not a regular file");
	size = (uint64_t)st.st_size;
	if (size > max_size || size > SIZE_MAX / 2)
		return snap_fail(err, errlen, -EFBIG,
				 "state file is %llu bytes, over the limit of %llu",
				 (unsigned long long)size, (unsigned long long)max_size);
	if (size == 0)
		return snap_fail(err, errlen, -EINVAL, "state file is empty");
	buf = malloc(size);
	if (!buf)
		return snap_fail(err, errlen, -ENOMEM, "out of memory reading the state file");
	while (off < size) {
		ssize_t n = pread(fd, buf + off, size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int rc = n < 0 ? -errno : -EINVAL;

			free(buf);
			if (n < 0)
				return snap_fail(err, errlen, rc, "cannot read the state file: %s",
						 strerror(-rc));
			return snap_fail(err, errlen, rc, "state file shrank while being read");
		}
		off += (uint64_t)n;
	}
	return snap_adopt(buf, size, SNAP_ARCH_HOST, img, err, errlen);
}

const char *snap_arch_name(uint32_t arch)
{
	return arch == SNAP_ARCH_X86_64	   ? "x86_64"
	       : arch == SNAP_ARCH_AARCH64 ? "aarch64"
					   : "unknown";
}

int snap_parse(const void *data, size_t len, struct snap_image *img, char *err, size_t errlen)
{
	return snap_parse_arch(data, len, SNAP_ARCH_HOST, img, err, errlen);
}

int snap_parse_arch(const void *data, size_t len, uint32_t arch, struct snap_image *img, char *err,
		    size_t errlen)
{
	uint8_t *buf;

	memset(img, 0, sizeof(*img));
	if (len == 0)
		return snap_fail(err, errlen, -EINVAL, "state file is empty");
	buf = malloc(len);
	if (!buf)
		return snap_fail(err, errlen, -ENOMEM, "out of memory reading the state file");
	memcpy(buf, data, len);
	return snap_adopt(buf, len, arch, img, err, errlen);
}

void snap_image_free(struct snap_image *img)
{
	free(img->buf);
	free(img->sections);
	memset(img, 0, sizeof(*img));
}

int snap_find(const struct snap_image *img, uint32_t type, uint32_t id, const void **data,
	      uint64_t *len)
{
	for (uint32_t i = 0; i < img->nr_sections; i++) {
		const struct snap_section *s = &img->sections[i];

		if (s->type == type && s->id == id) {
			*data = s->data;
			*len = s->len;
			return 0;
		}
	}
	return -ENOENT;
}

const struct snap_section *snap_next(const struct snap_image *img, uint32_t type, uint32_t *pos)
{
	while (*pos < img->nr_sections) {
		const struct snap_section *s = &img->sections[(*pos)++];

		if (type == SNAP_SEC_ANY || s->type == type)
			return s;
	}
	return NULL;
}

int snap_sections_within(const struct snap_image *part, const struct snap_image *whole)
{
	uint32_t devs = 0;

	if (part == whole)
		return 0;
	for (uint32_t i = 0; i < part->nr_sections; i++) {
		const struct snap_section *s = &part->sections[i];
		const void *p;
		uint64_t len;

		if (snap_find(whole, s->type, s->id, &p, &len) || len != s->len ||
		    memcmp(p, s->data, len))
			return -ESTALE;
		devs += s->type == SNAP_SEC_DEVICE;
	}
	for (uint32_t i = 0; i < whole->nr_sections; i++)
		devs -= whole->sections[i].type == SNAP_SEC_DEVICE;
	return devs ? -ESTALE : 0;
}

int snap_mem_check(int fd, uint64_t need, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st)) {
		int e = errno;

		return snap_fail(err, errlen, -e, "cannot stat the memory file: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return snap_fail(err, errlen, -EINVAL, "memory file is not a regular file");
	if ((uint64_t)st.st_size < need)
		return snap_fail(err, errlen, -EINVAL,
				 "memory file is %llu bytes, the snapshot needs %llu",
				 (unsigned long long)st.st_size, (unsigned long long)need);
	return 0;
}

int snap_describe(const void *head, size_t len, uint32_t *version, char *err, size_t errlen)
{
	const uint8_t *b = head;

	if (len < 12 || memcmp(b, SNAP_MAGIC, 8))
		return snap_fail(err, errlen, -EINVAL,
				 "not an ember state file (bad magic; want \"" SNAP_MAGIC "\")");
	*version = snap_get32(b + 8);
	return 0;
}
