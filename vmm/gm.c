// SPDX-License-Identifier: Apache-2.0
/*
 * Guest memory accessor.  The only way ember turns a guest-physical address
 * into a host pointer: a guest controls every address it hands us, so the
 * check has to be exact and overflow-proof.
 */
#include <string.h>
#include <sys/mman.h>

#include "ember.h"

static const struct gm_region *gm_find(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->region[i];

		if (gpa < r->gpa)
			continue;
		/* gpa >= r->gpa, so these subtractions cannot wrap. */
		uint64_t off = gpa - r->gpa;

		if (off > r->size || len > r->size - off)
			continue;
		return r;
	}
	return NULL;
}

bool gm_range_ok(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	return gm_find(gm, gpa, len) != NULL;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r = gm_find(gm, gpa, len);

	return r ? r->host + (gpa - r->gpa) : NULL;
}

static void gm_region_mark(const struct gm_region *r, uint64_t off, uint64_t len)
{
	uint64_t first = off >> 12, last = (off + len - 1) >> 12;

	/* Only the VMM thread writes guest memory today; atomics keep it cheap to change. */
	for (uint64_t pg = first; pg <= last; pg++)
		__atomic_fetch_or(&r->dirty[pg / 64], 1ull << (pg % 64), __ATOMIC_RELAXED);
}

void gm_mark_dirty(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r;

	if (!len)
		return;
	r = gm_find(gm, gpa, len);
	if (r && r->dirty)
		gm_region_mark(r, gpa - r->gpa, len);
}

void *gm_ptr_w(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r = gm_find(gm, gpa, len);

	if (!r)
		return NULL;
	if (r->dirty && len)
		gm_region_mark(r, gpa - r->gpa, len);
	return r->host + (gpa - r->gpa);
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gm_ptr_w(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

/*
 * Guest RAM is a MAP_PRIVATE mapping: anonymous (a fresh boot) or of a
 * snapshot's memory file (a restore).  MADV_DONTNEED drops our private copy
 * of each page in both: the next touch reads zero, or the snapshot's page
 * from the page cache, which clones share.  Never MADV_REMOVE there: on a
 * restored VM it would cut the pages out of the snapshot file.  A region
 * marked shared (a memfd mapped MAP_SHARED) keeps its pages in the file,
 * where MADV_DONTNEED frees nothing: MADV_REMOVE punches them out.
 * Either way the pages now read differently from what was last saved, so
 * they are marked dirty: a Diff snapshot must store what the guest would see
 * now (KVM's dirty log does not see madvise).
 */
int gm_discard(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct gm_region *r;
	uint8_t *p;

	if (!len || (gpa | len) & (GM_PAGE_SIZE - 1))
		return -EINVAL;
	r = gm_find(gm, gpa, len);
	if (!r)
		return -EFAULT;
	/* hugetlbfs drops whole 2 MiB pages only: keep the ones the range covers. */
	if (r->hugetlb) {
		uint64_t lo = (gpa + GM_HUGE_SIZE - 1) & ~(GM_HUGE_SIZE - 1);
		uint64_t hi = (gpa + len) & ~(GM_HUGE_SIZE - 1);

		if (hi <= lo)
			return 0;
		gpa = lo;
		len = hi - lo;
	}
	p = r->host + (gpa - r->gpa);
	if ((uintptr_t)p & (GM_PAGE_SIZE - 1))
		return -EINVAL;
	if (madvise(p, len, r->shared ? MADV_REMOVE : MADV_DONTNEED))
		return -errno;
	if (r->dirty)
		gm_region_mark(r, gpa - r->gpa, len);
	return 0;
}

uint64_t gm_total(const struct guest_mem *gm)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < gm->nr_regions; i++)
		total += gm->region[i].size;
	return total;
}
