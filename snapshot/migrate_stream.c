// SPDX-License-Identifier: Apache-2.0
/*
 * The migration stream's framing and the receiver's checks (the format is
 * in migrate_stream.h).  Every bound is checked from the header, before a
 * payload byte is read or allocated; every payload is checked whole (CRC,
 * then content) before anything of it is used.
 */
#include <endian.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "migrate_stream.h"
#include "persist.h"

void mig_greeting_encode(uint8_t out[MIG_GREETING_SIZE], uint64_t nonce)
{
	memcpy(out, MIG_GREETING_MAGIC, 8);
	put_le32(out + 8, MIG_VERSION);
	put_le32(out + 12, SNAP_ARCH_HOST);
	put_le64(out + 16, nonce);
	put_le64(out + 24, snap_crc64(0, out, 24));
}

int mig_greeting_decode(const uint8_t in[MIG_GREETING_SIZE], uint64_t *nonce, char *err,
			size_t errlen)
{
	if (memcmp(in, MIG_GREETING_MAGIC, 8)) {
		snprintf(err, errlen, "the peer is not an ember migration destination");
		return -EINVAL;
	}
	if (get_le64(in + 24) != snap_crc64(0, in, 24)) {
		snprintf(err, errlen, "the destination's greeting is corrupt");
		return -EINVAL;
	}
	if (get_le32(in + 8) != MIG_VERSION || get_le32(in + 12) != SNAP_ARCH_HOST) {
		snprintf(err, errlen,
			 "the destination speaks migration version %u (arch %u), not %u",
			 get_le32(in + 8), get_le32(in + 12), MIG_VERSION);
		return -EINVAL;
	}
	*nonce = get_le64(in + 16);
	return 0;
}

/* CRC over the nonce, the header's first 24 bytes and the payload. */
static uint64_t frame_crc(uint64_t nonce, const uint8_t *hdr, const struct mig_part *parts,
			  unsigned nr)
{
	uint8_t n[8];
	uint64_t crc;

	put_le64(n, nonce);
	crc = snap_crc64(snap_crc64(0, n, 8), hdr, 24);
	for (unsigned i = 0; i < nr; i++)
		crc = snap_crc64(crc, parts[i].p, parts[i].len);
	return crc;
}

void mig_hdr_encode(uint8_t out[MIG_HDR_SIZE], uint64_t nonce, uint32_t type, uint64_t seq,
		    const struct mig_part *parts, unsigned nr)
{
	uint64_t len = 0;

	for (unsigned i = 0; i < nr; i++)
		len += parts[i].len;
	put_le32(out, type);
	put_le32(out + 4, 0);
	put_le64(out + 8, seq);
	put_le64(out + 16, len);
	put_le64(out + 24, frame_crc(nonce, out, parts, nr));
}

uint64_t mig_max_payload(uint32_t type)
{
	switch (type) {
	case MIG_FR_HELLO:
		return 24 + 16 * MIG_MAX_REGIONS;
	case MIG_FR_PAGES:
		return MIG_PAGES_HDR + (uint64_t)MIG_MAX_RUN * (8 + MIG_PAGE);
	case MIG_FR_STATE:
	case MIG_FR_CONFIG:
		return SNAP_DEFAULT_MAX;
	case MIG_FR_END:
		return 8;
	case MIG_FR_OK:
		return 0;
	case MIG_FR_ERR:
		return MIG_MAX_ERR;
	}
	return 0;
}

void mig_rx_init(struct mig_rx *rx, uint64_t nonce)
{
	*rx = (struct mig_rx){.nonce = nonce};
}

void mig_rx_free(struct mig_rx *rx)
{
	snap_image_free(&rx->img);
	snap_image_free(&rx->config);
}

/* Header checks shared by both directions. */
static int hdr_check(const uint8_t *hdr, uint64_t want_seq, uint32_t *type, uint64_t *len,
		     char *err, size_t errlen)
{
	uint64_t seq = get_le64(hdr + 8);

	*type = get_le32(hdr);
	*len = get_le64(hdr + 16);
	if (seq != want_seq) {
		snprintf(err, errlen, "migration frame %llu where %llu was due (replayed or lost)",
			 (unsigned long long)seq, (unsigned long long)want_seq);
		return -EINVAL;
	}
	if (get_le32(hdr + 4)) {
		snprintf(err, errlen, "migration frame %llu: unknown flags 0x%x",
			 (unsigned long long)seq, get_le32(hdr + 4));
		return -EINVAL;
	}
	if (*len > mig_max_payload(*type)) {
		snprintf(err, errlen, "migration frame %llu: %llu bytes, too long for type %u",
			 (unsigned long long)seq, (unsigned long long)*len, *type);
		return -EINVAL;
	}
	return 0;
}

int mig_rx_header(const struct mig_rx *rx, const uint8_t hdr[MIG_HDR_SIZE], uint32_t *type,
		  uint64_t *len, char *err, size_t errlen)
{
	int r = hdr_check(hdr, rx->seq, type, len, err, errlen);

	if (!r && (*type < MIG_FR_HELLO || *type > MIG_FR_CONFIG)) {
		snprintf(err, errlen, "migration frame of unknown type %u", *type);
		r = -EINVAL;
	}
	return r;
}

static int rx_hello(struct mig_rx *rx, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
	uint32_t version, arch;
	uint64_t sum = 0, end = 0;
	const char *why = NULL;
	struct pr r;

	pr_init(&r, p, len);
	version = pr_u32(&r);
	arch = pr_u32(&r);
	rx->nr_regions = pr_u32(&r);
	if (pr_u32(&r))
		pr_fail(&r, "reserved field set");
	rx->mem_bytes = pr_u64(&r);
	if (!r.why && (version != MIG_VERSION || arch != SNAP_ARCH_HOST))
		pr_fail(&r, "another version or architecture");
	if (!r.why && (!rx->nr_regions || rx->nr_regions > MIG_MAX_REGIONS))
		pr_fail(&r, "region count out of range");
	for (uint32_t i = 0; !r.why && i < rx->nr_regions; i++) {
		struct mig_region *g = &rx->region[i];

		g->gpa = pr_u64(&r);
		g->size = pr_u64(&r);
		/* Page-aligned, ascending, not overlapping, below 2^52, summing to the total. */
		if (!r.why && (!g->size || (g->gpa | g->size) % MIG_PAGE || g->gpa < end ||
			       g->size > MIG_MAX_MEM || g->gpa > (1ull << 52) - g->size))
			pr_fail(&r, "a region is misaligned, overlapping or out of range");
		end = g->gpa + g->size;
		sum += g->size;
	}
	if (!r.why && (sum != rx->mem_bytes || sum > MIG_MAX_MEM))
		pr_fail(&r, "regions do not add up to the memory size");
	if (pr_finish(&r, &why)) {
		snprintf(err, errlen, "migration hello: %s", why);
		return -EINVAL;
	}
	return 0;
}

/*
 * PAGES: every offset checked (aligned, inside RAM, ascending, so no page
 * twice) before any page is stored; then runs of adjacent pages are stored
 * with one call each.
 */
static int rx_pages(struct mig_rx *rx, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
	const uint8_t *offs = p + MIG_PAGES_HDR, *data;
	uint32_t n = len >= MIG_PAGES_HDR ? get_le32(p) : 0;
	uint64_t prev = 0;

	if (len < MIG_PAGES_HDR || get_le32(p + 4) || !n || n > MIG_MAX_RUN ||
	    len != MIG_PAGES_HDR + (uint64_t)n * (8 + MIG_PAGE)) {
		snprintf(err, errlen, "migration pages: malformed frame (%u pages in %llu bytes)",
			 n, (unsigned long long)len);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = get_le64(offs + 8 * i);

		if (off % MIG_PAGE || rx->mem_bytes < MIG_PAGE || off > rx->mem_bytes - MIG_PAGE ||
		    (i && off <= prev)) {
			snprintf(err, errlen,
				 "migration pages: page %u at offset 0x%llx is misaligned, outside "
				 "RAM or out of order",
				 i, (unsigned long long)off);
			return -EINVAL;
		}
		prev = off;
	}
	data = offs + 8 * (uint64_t)n;
	for (uint32_t i = 0, run; i < n; i += run) {
		uint64_t off = get_le64(offs + 8 * i);
		int r = 0;

		for (run = 1;
		     i + run < n && get_le64(offs + 8 * (i + run)) == off + run * MIG_PAGE;)
			run++;
		if (rx->pages)
			r = rx->pages(rx->ctx, off, data + (uint64_t)i * MIG_PAGE, run);
		if (r) {
			snprintf(err, errlen, "migration pages: cannot store them: %s",
				 strerror(-r));
			return r;
		}
	}
	rx->pages_rx += n;
	return 0;
}

static int rx_end(struct mig_rx *rx, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
	if (len != 8 || get_le32(p) & ~MIG_END_PAUSED || get_le32(p + 4)) {
		snprintf(err, errlen, "migration end: malformed");
		return -EINVAL;
	}
	rx->end_flags = get_le32(p);
	return 0;
}

int mig_rx_frame(struct mig_rx *rx, const uint8_t hdr[MIG_HDR_SIZE], const uint8_t *payload,
		 char *err, size_t errlen)
{
	static const uint32_t due[] = {[MIG_RX_HELLO] = MIG_FR_HELLO,
				       [MIG_RX_PAGES] = MIG_FR_PAGES,
				       [MIG_RX_END] = MIG_FR_END,
				       [MIG_RX_DONE] = 0};
	uint64_t len;
	uint32_t type;
	int r = mig_rx_header(rx, hdr, &type, &len, err, errlen);

	if (r)
		return r;
	if (get_le64(hdr + 24) != frame_crc(rx->nonce, hdr, &(struct mig_part){payload, len}, 1)) {
		snprintf(err, errlen, "migration frame %llu: bad checksum",
			 (unsigned long long)rx->seq);
		return -EINVAL;
	}
	/*
	 * PAGES may be followed by more PAGES or by STATE; CONFIG comes once,
	 * before any PAGES.
	 */
	if (type != due[rx->state] && !(rx->state == MIG_RX_PAGES && type == MIG_FR_STATE) &&
	    !(rx->state == MIG_RX_PAGES && type == MIG_FR_CONFIG && !rx->pages_rx &&
	      !rx->config.buf)) {
		snprintf(err, errlen, "migration frame %llu: type %u out of order",
			 (unsigned long long)rx->seq, type);
		return -EINVAL;
	}
	switch (type) {
	case MIG_FR_HELLO:
		r = rx_hello(rx, payload, len, err, errlen);
		rx->state = MIG_RX_PAGES;
		break;
	case MIG_FR_PAGES:
		r = rx_pages(rx, payload, len, err, errlen);
		break;
	case MIG_FR_STATE:
		r = snap_parse(payload, len, &rx->img, err, errlen);
		rx->state = MIG_RX_END;
		break;
	case MIG_FR_CONFIG:
		r = snap_parse(payload, len, &rx->config, err, errlen);
		/* Only a valid image counts as received: no second CONFIG either way. */
		if (r)
			snap_image_free(&rx->config);
		break;
	default:
		r = rx_end(rx, payload, len, err, errlen);
		rx->state = MIG_RX_DONE;
	}
	rx->seq++;
	rx->bytes_rx += MIG_HDR_SIZE + len;
	return r;
}

int mig_rx_buffer(struct mig_rx *rx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t off = 0;

	while (rx->state != MIG_RX_DONE) {
		uint64_t plen;
		uint32_t type;
		int r;

		if (len - off < MIG_HDR_SIZE) {
			snprintf(err, errlen, "migration stream cut short");
			return -EINVAL;
		}
		r = mig_rx_header(rx, buf + off, &type, &plen, err, errlen);
		if (r)
			return r;
		if (len - off - MIG_HDR_SIZE < plen) {
			snprintf(err, errlen, "migration stream cut short");
			return -EINVAL;
		}
		r = mig_rx_frame(rx, buf + off, buf + off + MIG_HDR_SIZE, err, errlen);
		if (r)
			return r;
		off += MIG_HDR_SIZE + plen;
	}
	if (off != len) {
		snprintf(err, errlen, "migration stream: bytes after its end");
		return -EINVAL;
	}
	return 0;
}

int mig_answer_check(uint64_t nonce, const uint8_t hdr[MIG_HDR_SIZE], const uint8_t *payload,
		     uint64_t *len, char *err, size_t errlen)
{
	uint32_t type;
	int r = hdr_check(hdr, 0, &type, len, err, errlen);

	if (!r && type != MIG_FR_OK && type != MIG_FR_ERR) {
		snprintf(err, errlen, "the destination answered with frame type %u", type);
		r = -EINVAL;
	}
	if (r || !payload)
		return r;
	if (get_le64(hdr + 24) != frame_crc(nonce, hdr, &(struct mig_part){payload, *len}, 1)) {
		snprintf(err, errlen, "the destination's answer is corrupt");
		return -EINVAL;
	}
	if (type == MIG_FR_OK)
		return 0;
	snprintf(err, errlen, "the destination refused: %.*s", (int)*len, (const char *)payload);
	return -EREMOTEIO;
}

int migrate_url(const char *url, struct sockaddr_storage *ss, socklen_t *len, char *err,
		size_t errlen)
{
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (!strncmp(url, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (!url[5] || strlen(url + 5) >= sizeof(un->sun_path))
			goto bad;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, url + 5, strlen(url + 5) + 1);
		*len = sizeof(*un);
		return 0;
	}
	if (strncmp(url, "tcp:", 4) || !(colon = strrchr(url + 4, ':')) ||
	    (size_t)(colon - url - 4) >= sizeof(host))
		goto bad;
	memcpy(host, url + 4, (size_t)(colon - url - 4));
	host[colon - url - 4] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || !port || port > 65535)
		goto bad;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	/* Numeric addresses only: no name lookups from the VMM (seccomp, and no DNS in a jail). */
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		goto bad;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return 0;
bad:
	snprintf(err, errlen,
		 "bad migration url \"%.200s\": unix:/path, tcp:IPV4:PORT or tcp:[IPV6]:PORT", url);
	return -EINVAL;
}
