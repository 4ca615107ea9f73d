// SPDX-License-Identifier: Apache-2.0
/*
 * CRC-64/XZ for the snapshot state file and every frame of the migration
 * stream (see snapfile.h for why a CRC and which one).  Slicing-by-8: eight
 * table lookups per 8 bytes instead of one per byte.  A state file is tens
 * of KiB, but a migration checks every byte of guest RAM at both ends, and
 * in nested KVM (emulated L1) the byte-at-a-time loop was the stream's
 * bottleneck.  The tables are constants generated at build time
 * (snapshot/tools/crc64_gen.c); the unit test checks the result against a
 * bitwise CRC at every length and alignment up to a few words.
 */
#include <endian.h>
#include <string.h>

#include "snapfile.h"

#include "crc64_table.h" /* after stdint.h: it is only the table */

uint64_t snap_crc64(uint64_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* XZ's pre- and post-inversion, folded in so calls chain on the result. */
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, sizeof(w)); /* unaligned buffers: page frames, state sections */
		w = le64toh(w) ^ crc;
		crc = crc64_table[7][w & 0xff] ^ crc64_table[6][(w >> 8) & 0xff] ^
		      crc64_table[5][(w >> 16) & 0xff] ^ crc64_table[4][(w >> 24) & 0xff] ^
		      crc64_table[3][(w >> 32) & 0xff] ^ crc64_table[2][(w >> 40) & 0xff] ^
		      crc64_table[1][(w >> 48) & 0xff] ^ crc64_table[0][w >> 56];
	}
	while (len--)
		crc = crc64_table[0][(uint8_t)(crc ^ *p++)] ^ (crc >> 8);
	return ~crc;
}
