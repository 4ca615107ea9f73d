// SPDX-License-Identifier: Apache-2.0
/*
 * Guest RAM into a memory file, and Diff files onto their base.
 *
 * The memory file is the regions back to back from offset 0, as large as
 * guest RAM and sparse: a page that is known to be zero is left a hole.
 * Full writes every page that may hold data; Diff writes only the pages
 * dirtied since the previous snapshot (KVM's dirty log for the guest's
 * writes, ours for what ember wrote through gm_ptr_w()), so every hole in a
 * Diff means "unchanged" and snap_mem_rebase() can layer it on the base.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "snap_mem.h"

#define PAGE	    4096u
#define CHUNK_MAX   (64u << 20) /* bytes per pwrite: bounded, so one call never runs long */
#define PAGES_OF(x) ((x) / PAGE)

static int write_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		size_t n = len > CHUNK_MAX ? CHUNK_MAX : (size_t)len;
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

/* Writes the runs of set bits in @bits (one per page of @r) at @file_off. */
static int write_pages(int fd, const struct gm_region *r, uint64_t file_off, const uint64_t *bits,
		       uint64_t *written)
{
	uint64_t n = PAGES_OF(r->size);

	for (uint64_t pg = 0; pg < n;) {
		uint64_t end;
		int err;

		if (!(bits[pg / 64] >> (pg % 64) & 1)) {
			pg++;
			continue;
		}
		for (end = pg + 1; end < n && (bits[end / 64] >> (end % 64) & 1); end++)
			;
		err = write_all(fd, r->host + pg * PAGE, (end - pg) * PAGE, file_off + pg * PAGE);
		if (err)
			return err;
		*written += (end - pg) * PAGE;
		pg = end;
	}
	return 0;
}

/*
 * Which pages of a booted VM's anonymous RAM may hold data.  With no swap,
 * a page mincore() reports absent was never touched: it reads as zero and
 * stays a hole.  With swap, an absent page may be swapped out, so all are
 * candidates.  Restored RAM (file or uffd backed) is never asked: there an
 * absent page is the snapshot's data, not zero.
 */
static int resident_pages(const struct gm_region *r, uint64_t *bits)
{
	uint64_t n = PAGES_OF(r->size);
	struct sysinfo si;
	unsigned char *vec;

	if (sysinfo(&si) || si.totalswap) {
		memset(bits, 0xff, (n + 63) / 64 * sizeof(uint64_t));
		return 0;
	}
	vec = malloc(n);
	if (!vec)
		return -ENOMEM;
	if (mincore(r->host, r->size, vec)) {
		int e = -errno;

		free(vec);
		return e;
	}
	for (uint64_t pg = 0; pg < n; pg++)
		if (vec[pg] & 1)
			bits[pg / 64] |= 1ull << (pg % 64);
	free(vec);
	return 0;
}

int snap_mem_write(const struct snap_mem_job *job, char *err, size_t errlen)
{
	const struct guest_mem *gm = job->gm;
	uint64_t off = 0, total = 0, written = 0;
	int r = 0;

	for (unsigned i = 0; i < job->nr_regions; i++)
		total += gm->region[i].size;

	if (ftruncate(job->fd, (off_t)total)) {
		r = -errno;
		snprintf(err, errlen, "cannot size the memory file to %llu bytes: %s",
			 (unsigned long long)total, strerror(errno));
		return r;
	}
	for (unsigned i = 0; i < job->nr_regions && !r; i++) {
		const struct gm_region *g = &gm->region[i];
		size_t words = (PAGES_OF(g->size) + 63) / 64;
		uint64_t *bits;

		if (job->diff) {
			bits = job->dirty[i];
		} else {
			bits = calloc(words, sizeof(*bits));
			if (!bits)
				r = -ENOMEM;
			else if (job->fresh_anon)
				r = resident_pages(g, bits);
			else
				memset(bits, 0xff, words * sizeof(*bits));
		}
		if (!r)
			r = write_pages(job->fd, g, off, bits, &written);
		if (!job->diff)
			free(bits);
		off += g->size;
	}
	if (!r && fsync(job->fd))
		r = -errno;
	if (r) {
		snprintf(err, errlen, "cannot write the memory file: %s", strerror(-r));
		return r;
	}
	log_info("snapshot: %s memory file, %llu of %llu MiB written", job->diff ? "diff" : "full",
		 (unsigned long long)(written >> 20), (unsigned long long)(total >> 20));
	return 0;
}

/*
 * [off, off+len) of @from onto the same range of @to: copy_file_range, or
 * read and write where the kernel cannot (files on different filesystems).
 */
static int copy_range(int from, int to, off_t off, off_t len)
{
	off_t in = off, out = off, end = off + len;
	uint8_t *buf;
	int r = 0;

	while (in < end) {
		ssize_t n = copy_file_range(from, &in, to, &out, (size_t)(end - in), 0);

		if (n > 0)
			continue;
		if (n == 0)
			return -EIO;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		break;
	}
	if (in == end)
		return 0;
	buf = malloc(CHUNK_MAX);
	if (!buf)
		return -ENOMEM;
	while (!r && in < end) {
		size_t want = end - in < (off_t)CHUNK_MAX ? (size_t)(end - in) : CHUNK_MAX;
		ssize_t n = pread(from, buf, want, in);

		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			r = write_all(to, buf, (uint64_t)n, (uint64_t)in);
		in += n > 0 ? n : 0;
	}
	free(buf);
	return r;
}

int snap_mem_rebase(const char *base_path, const char *diff_path, char *err, size_t errlen)
{
	const char *why = NULL;
	struct stat sb, sd;
	int base, diff, r = 0;
	off_t pos = 0;

	/* Never blocking: a FIFO named as either is refused, not waited on. */
	base = file_open_input(base_path, true, false, &why);
	diff = base < 0 ? -1 : file_open_input(diff_path, false, false, &why);
	if (base < 0 || diff < 0) {
		r = base < 0 ? base : diff;
		snprintf(err, errlen, "%s: %s", base < 0 ? base_path : diff_path, why);
		goto out;
	}
	if (fstat(base, &sb) || fstat(diff, &sd)) {
		r = -errno;
		snprintf(err, errlen, "stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || !S_ISREG(sd.st_mode) || sb.st_size != sd.st_size) {
		r = -EINVAL;
		snprintf(err, errlen,
			 "the diff (%lld bytes) and base (%lld bytes) must be regular "
			 "files of the same size",
			 (long long)sd.st_size, (long long)sb.st_size);
		goto out;
	}
	/* Every data extent of the diff is a page the guest changed. */
	for (;;) {
		off_t data = lseek(diff, pos, SEEK_DATA), hole;

		if (data < 0) {
			if (errno != ENXIO) /* ENXIO: no data after pos */
				r = -errno;
			break;
		}
		hole = lseek(diff, data, SEEK_HOLE);
		if (hole < 0) {
			r = -errno;
			break;
		}
		r = copy_range(diff, base, data, hole - data);
		if (r)
			break;
		pos = hole;
	}
	if (!r && fsync(base))
		r = -errno;
	if (r)
		snprintf(err, errlen, "rebasing %s onto %s: %s", diff_path, base_path,
			 strerror(-r));
out:
	if (base >= 0)
		close(base);
	if (diff >= 0)
		close(diff);
	return r;
}
