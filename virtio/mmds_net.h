/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds_net.h - the MMDS as a host on a NIC's wire, as Firecracker's
 * MmdsNetworkStack: virtio-net hands it every frame the guest sends (after
 * the virtio header); ARP requests for the MMDS address and IPv4 packets to
 * it are taken (never reach the tap) and answered from the MAC
 * 06:01:23:45:67:01; everything else goes on to the tap.  Its replies are
 * pulled by the device when the guest has an RX buffer.
 *
 * Runs on the VMM thread under the device's lock; reads the store (its own
 * lock) only to answer HTTP.  No system calls but malloc's.
 */
#ifndef EMBER_MMDS_NET_H
#define EMBER_MMDS_NET_H

#include <jansson.h>
#include <sys/uio.h>

#include "ember.h"

/* The largest frame the stack takes: requests are at most 2500 bytes. */
#define MMDS_NET_FRAME_MAX 4096
/* The largest it sends: Ethernet + IPv4 + TCP with MSS option + 1460. */
#define MMDS_NET_OUT_MAX 1518

struct mmds;
struct mmds_net;

struct mmds_net_stats {
	uint64_t frames_in, frames_out, bytes_out;
	uint64_t arp_requests, dropped_non_tcp, dropped_too_long, dropped_malformed;
	uint64_t bad_eth; /* shorter than an Ethernet header (left to the tap) */
};

/* A stack answering at @ipv4 (host order) from @store; 0 or -ENOMEM. */
int mmds_net_create(struct mmds_net **out, struct mmds *store, uint32_t ipv4);
void mmds_net_destroy(struct mmds_net *s);
uint32_t mmds_net_ipv4(const struct mmds_net *s);

/*
 * A guest frame (Ethernet header on, virtio header off) in @n segments:
 * true if it was for the MMDS (consumed, even if dropped as malformed),
 * false if it goes on to the tap.
 */
bool mmds_net_tx(struct mmds_net *s, const struct iovec *iov, unsigned n, uint64_t now_ms);
/* The next frame for the guest into @buf (at least MMDS_NET_OUT_MAX): its length, or 0. */
size_t mmds_net_rx(struct mmds_net *s, uint8_t *buf, size_t size, uint64_t now_ms);

const struct mmds_net_stats *mmds_net_stats(const struct mmds_net *s);
/* The TCP listener's counters and open connections (tests, metrics). */
struct mmds_tcp;
const struct mmds_tcp *mmds_net_tcp(const struct mmds_net *s);

/*
 * Firecracker's "mmds" metrics group (its MmdsMetrics, one per VM): the
 * stacks of the @n NICs that serve the MMDS summed, the token counts from
 * @store (NULL: none).  A new object, or NULL without memory.
 */
json_t *mmds_net_metrics(struct mmds *store, const struct mmds_net *const *nets, unsigned n);

#endif /* EMBER_MMDS_NET_H */
