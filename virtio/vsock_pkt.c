// SPDX-License-Identifier: Apache-2.0
/*
 * What the vsock device and its backend share (vsock_backend.h): the
 * packet header's wire format and the guest RX buffer a packet is written
 * into.  Guest addresses go through gm_ptr_w(), which checks each range and
 * marks the pages dirty for Diff snapshots.
 */
#include <endian.h>
#include <string.h>

#include <linux/virtio_vsock.h>

#include "vsock_backend.h"

void vsock_hdr_decode(const uint8_t *raw, struct vsock_hdr *h)
{
	struct virtio_vsock_hdr w;

	memcpy(&w, raw, sizeof(w));
	*h = (struct vsock_hdr){
	    .src_cid = le64toh(w.src_cid),
	    .dst_cid = le64toh(w.dst_cid),
	    .src_port = le32toh(w.src_port),
	    .dst_port = le32toh(w.dst_port),
	    .len = le32toh(w.len),
	    .type = le16toh(w.type),
	    .op = le16toh(w.op),
	    .flags = le32toh(w.flags),
	    .buf_alloc = le32toh(w.buf_alloc),
	    .fwd_cnt = le32toh(w.fwd_cnt),
	};
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *raw)
{
	struct virtio_vsock_hdr w = {
	    .src_cid = htole64(h->src_cid),
	    .dst_cid = htole64(h->dst_cid),
	    .src_port = htole32(h->src_port),
	    .dst_port = htole32(h->dst_port),
	    .len = htole32(h->len),
	    .type = htole16(h->type),
	    .op = htole16(h->op),
	    .flags = htole32(h->flags),
	    .buf_alloc = htole32(h->buf_alloc),
	    .fwd_cnt = htole32(h->fwd_cnt),
	};

	_Static_assert(sizeof(w) == VSOCK_HDR_LEN, "virtio_vsock_hdr is 44 bytes");
	memcpy(raw, &w, sizeof(w));
}

bool vsock_rxbuf_write(const struct vsock_rxbuf *b, uint32_t off, const void *src, uint32_t len)
{
	const struct virtq_chain *c = b->chain;
	const uint8_t *s = src;

	for (unsigned i = 0; i < c->nr && len; i++) {
		uint32_t seg = c->seg[i].len, k;
		void *p;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < len ? seg - off : len;
		p = gm_ptr_w(b->gm, c->seg[i].addr + off, k);
		if (!p)
			return false;
		memcpy(p, s, k);
		s += k;
		len -= k;
		off = 0;
	}
	return len == 0;
}

unsigned vsock_rxbuf_iov(const struct vsock_rxbuf *b, uint32_t off, uint32_t max, struct iovec *iov,
			 unsigned nr_iov)
{
	const struct virtq_chain *c = b->chain;
	unsigned n = 0;

	for (unsigned i = 0; i < c->nr && max && n < nr_iov; i++) {
		uint32_t seg = c->seg[i].len, k;
		void *p;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		k = seg - off < max ? seg - off : max;
		p = gm_ptr_w(b->gm, c->seg[i].addr + off, k); /* readv() fills it */
		if (!p)
			break;
		iov[n++] = (struct iovec){.iov_base = p, .iov_len = k};
		max -= k;
		off = 0;
	}
	return n;
}
