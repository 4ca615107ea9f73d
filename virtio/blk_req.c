// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk request parsing (virtio 1.1, 5.2.6).
 *
 * Framing is not assumed (VERSION_1 implies ANY_LAYOUT): the device-readable
 * segments form one byte stream that starts with the 16-byte header, the
 * device-writable ones another that ends with the status byte.  Every byte
 * range is turned into a host pointer by gm_ptr() here, so the engines only
 * ever see checked memory.
 */
#include <endian.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "blk_req.h"

#define VBLK_HDR_SIZE 16u /* struct virtio_blk_outhdr */

static int vblk_req_add(struct vblk_req *r, void *p, uint64_t len)
{
	if (!len)
		return 0;
	/* What we advertised (size_max, seg_max) is what a guest gets. */
	if (r->niov == VBLK_SEG_MAX || len > VBLK_SIZE_MAX)
		return -EINVAL;
	r->iov[r->niov++] = (struct iovec){.iov_base = p, .iov_len = len};
	r->len += len;
	return 0;
}

/* The status byte is the last byte of the chain, if anything is. */
static uint8_t *vblk_req_status(const struct virtq_chain *c, const struct guest_mem *gm)
{
	const struct virtq_seg *last;

	if (c->err || c->nr == 0)
		return NULL;
	last = &c->seg[c->nr - 1];
	if (!last->write || last->len == 0 || last->addr > UINT64_MAX - (last->len - 1))
		return NULL;
	return gm_ptr_w(gm, last->addr + last->len - 1, 1);
}

/* Length of segment @i that belongs to data, i.e. without the status byte. */
static uint64_t seg_data_len(const struct virtq_chain *c, unsigned i)
{
	return c->seg[i].len - (i == c->nr - 1 ? 1 : 0);
}

/*
 * Collects data segments [from, to) into r->iov, skipping @skip bytes at the
 * front (the header part of the readable stream).
 */
static int vblk_req_collect(struct vblk_req *r, const struct virtq_chain *c,
			    const struct guest_mem *gm, unsigned from, unsigned to, uint64_t skip)
{
	for (unsigned i = from; i < to; i++) {
		uint64_t len = seg_data_len(c, i), cut = skip < len ? skip : len;
		uint8_t *p;

		skip -= cut;
		if (len == cut)
			continue;
		/* A read's buffers are written by the engine: dirty for Diff snapshots. */
		p = (c->seg[i].write ? gm_ptr_w : gm_ptr)(gm, c->seg[i].addr + cut, len - cut);
		if (!p || vblk_req_add(r, p, len - cut))
			return -EINVAL;
	}
	return 0;
}

static int vblk_req_check_range(struct vblk_req *r, const struct vblk_disk *disk)
{
	if (r->len % VBLK_SECTOR || r->sector > UINT64_MAX / VBLK_SECTOR)
		return -EINVAL;
	r->offset = r->sector * VBLK_SECTOR;
	if (r->len > disk->size || r->offset > disk->size - r->len)
		return -EINVAL;
	return 0;
}

int vblk_req_parse(struct vblk_req *r, const struct virtq_chain *c, const struct guest_mem *gm,
		   const struct vblk_disk *disk)
{
	uint8_t hdr[VBLK_HDR_SIZE];
	uint64_t got = 0, out_bytes = 0, in_bytes = 0, sector;
	unsigned nr_read = 0, i;
	uint32_t type;

	r->head = c->head;
	r->type = UINT32_MAX;
	r->sector = r->offset = r->len = r->done = 0;
	r->niov = 0;
	r->status_code = VIRTIO_BLK_S_IOERR;
	r->status = vblk_req_status(c, gm);
	if (!r->status)
		return -EINVAL;

	/* Readable first, then writable: anything else is malformed. */
	while (nr_read < c->nr && !c->seg[nr_read].write)
		nr_read++;
	for (i = nr_read; i < c->nr; i++) {
		if (!c->seg[i].write)
			return -EINVAL;
		in_bytes += seg_data_len(c, i);
	}

	/* The header: copied once, then only the copy is looked at. */
	for (i = 0; i < nr_read; i++) {
		uint64_t len = c->seg[i].len, take = VBLK_HDR_SIZE - got;
		const uint8_t *p;

		if (!len)
			continue;
		p = gm_ptr(gm, c->seg[i].addr, len);
		if (!p)
			return -EINVAL;
		if (take > len)
			take = len;
		memcpy(hdr + got, p, take);
		got += take;
		out_bytes += len - take;
	}
	if (got < VBLK_HDR_SIZE)
		return -EINVAL;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	r->type = le32toh(type);
	r->sector = le64toh(sector);

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		if (out_bytes || vblk_req_collect(r, c, gm, nr_read, c->nr, 0))
			return -EINVAL;
		return vblk_req_check_range(r, disk);
	case VIRTIO_BLK_T_OUT:
		if (disk->read_only || in_bytes ||
		    vblk_req_collect(r, c, gm, 0, nr_read, VBLK_HDR_SIZE))
			return -EINVAL;
		return vblk_req_check_range(r, disk);
	case VIRTIO_BLK_T_FLUSH:
		return out_bytes || in_bytes ? -EINVAL : 0;
	case VIRTIO_BLK_T_GET_ID:
		if (out_bytes || !in_bytes || vblk_req_collect(r, c, gm, nr_read, c->nr, 0))
			return -EINVAL;
		return 0;
	default:
		r->status_code = VIRTIO_BLK_S_UNSUPP;
		return -EINVAL;
	}
}

void vblk_req_get_id(struct vblk_req *r, const char *serial)
{
	char id[VIRTIO_BLK_ID_BYTES] = {0};
	uint64_t left;

	/* NUL-padded; no terminator when it is exactly 20 bytes (5.2.6). */
	memcpy(id, serial, strnlen(serial, sizeof(id)));
	left = r->len < sizeof(id) ? r->len : sizeof(id);
	r->done = 0;
	for (unsigned i = 0; i < r->niov && left; i++) {
		uint64_t n = r->iov[i].iov_len < left ? r->iov[i].iov_len : left;

		memcpy(r->iov[i].iov_base, id + r->done, n);
		r->done += n;
		left -= n;
	}
	r->status_code = VIRTIO_BLK_S_OK;
}

uint32_t vblk_req_finish(struct vblk_req *r)
{
	uint64_t used = 1;

	if (!r->status)
		return 0;
	__atomic_store_n(r->status, r->status_code, __ATOMIC_RELAXED);
	if (r->status_code == VIRTIO_BLK_S_OK &&
	    (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_GET_ID))
		used += r->done;
	return used > UINT32_MAX ? UINT32_MAX : (uint32_t)used;
}
