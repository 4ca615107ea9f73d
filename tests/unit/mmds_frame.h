/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A guest's TCP frame to the MMDS (Ethernet, IPv4, TCP without options),
 * for test_mmds_net.c and fuzz_mmds.c.  Checksums are left 0: the MMDS
 * does not check them, as Firecracker's does not.
 */
#ifndef EMBER_MMDS_FRAME_H
#define EMBER_MMDS_FRAME_H

#include <string.h>

#include "mmds_store.h"
#include "mmds_wire.h"

#define MMDS_FRAME_GUEST_IP 0xac1e0002u /* 172.30.0.2 */

static const uint8_t mmds_frame_guest_mac[6] = {0x06, 0x00, 0xac, 0x1e, 0x00, 0x02};

/* The frame into @f (room for 54 + @dlen bytes); its length. */
static inline size_t mmds_frame_tcp(uint8_t *f, uint16_t port, uint32_t seq, uint32_t ack,
				    uint8_t flags, const void *data, size_t dlen)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	size_t tot = 20 + 20 + dlen;

	memset(f, 0, 14 + 40);
	memcpy(f + 6, mmds_frame_guest_mac, 6);
	wire_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	wire_put16(ip + 2, (uint16_t)tot);
	ip[8] = 64;
	ip[9] = 6;
	wire_put32(ip + 12, MMDS_FRAME_GUEST_IP);
	wire_put32(ip + 16, MMDS_DEFAULT_IPV4);
	wire_put16(tcp, port);
	wire_put16(tcp + 2, 80);
	wire_put32(tcp + 4, seq);
	wire_put32(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	wire_put16(tcp + 14, 65535);
	if (dlen)
		memcpy(tcp + 20, data, dlen);
	return 14 + tot;
}

#endif /* EMBER_MMDS_FRAME_H */
