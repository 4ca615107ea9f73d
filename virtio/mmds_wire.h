/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds_wire.h - byte order and the Internet checksum for the MMDS stack
 * (virtio/mmds_*.c).  Inline, so the stack's modules share them without
 * calling each other (no call cycles in virtio/).
 */
#ifndef EMBER_MMDS_WIRE_H
#define EMBER_MMDS_WIRE_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	wire_put16(p, (uint16_t)(v >> 16));
	wire_put16(p + 2, (uint16_t)v);
}

/* One's complement sum of @len bytes added to @sum (not folded). */
static inline uint32_t wire_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += wire_get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t wire_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* TCP sequence numbers compare modulo 2^32. */
static inline int wire_seq_cmp(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0 ? -1 : a == b ? 0 : 1;
}

#endif /* EMBER_MMDS_WIRE_H */
