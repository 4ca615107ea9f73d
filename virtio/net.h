/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_NET_H
#define EMBER_NET_H

#include <jansson.h>

#include "ember.h"
#include "evloop.h"
#include "limiter.h"
#include "persist.h"
#include "virtio_mmio.h"

/*
 * virtio-net on an existing tap device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR).
 * Two queues (rx, tx), no control queue, no MRG_RXBUF: every received frame
 * goes into one guest chain, which Linux makes big enough (65562 bytes) when
 * it accepts GUEST_TSO4/6 ("big packets" mode) and 1518 + header otherwise,
 * the tap's offloads then keep frames within what the guest posted.
 */

#define VNET_HDR_LEN   12    /* struct virtio_net_hdr_v1 (VIRTIO_F_VERSION_1) */
#define VNET_MAX_FRAME 65550 /* Ethernet frame after the header: 64 KiB GSO + L2 */
#define VNET_MAX_LEN   (VNET_HDR_LEN + VNET_MAX_FRAME)

/* Plain data: --net fills it, and later PUT /network-interfaces/{id}. */
struct vnet_config {
	char iface_id[64];	/* Firecracker iface_id; default: the tap's name */
	char host_dev_name[16]; /* IFNAMSIZ */
	bool has_mac;		/* guest_mac given: offered as VIRTIO_NET_F_MAC */
	uint8_t mac[6];
	uint16_t mtu; /* 68..65535 offered as VIRTIO_NET_F_MTU; 0: not offered */
	struct limiter_cfg rx_limiter, tx_limiter; /* rx_rate_limiter, tx_rate_limiter */
	/* MMDS on this NIC (set when the device is made, kept in snapshots). */
	bool mmds;
	uint32_t mmds_ipv4;   /* host order */
	uint8_t mmds_version; /* enum mmds_version */
	bool mmds_imds_compat;
};

/*
 * Parses "tap=NAME[,mac=AA:BB:CC:DD:EE:FF][,id=NAME]" into a zeroed *cfg.
 * Returns 0, or -EINVAL with a message in err.
 */
int vnet_config_parse(const char *spec, struct vnet_config *cfg, char *err, size_t errlen);
/* The device type's settings hooks (device.h), in net_config.c. */
const char *vnet_config_id(const void *cfg);
int vnet_config_check_set(const void *const cfgs[], unsigned n, char *err, size_t errlen);
void vnet_config_save(const void *cfg, struct pw *w);
void vnet_config_load(struct pr *r, uint16_t version, void *cfg);
int vnet_config_set(void *cfg, const char *field, const char *value, char *err, size_t errlen);
struct limiter_cfg *vnet_config_limiter(void *cfg, const char *which);
/* Opens /dev/net/tun on the existing tap cfg->host_dev_name: the fd or -errno, logged. */
int vnet_tap_open(const struct vnet_config *cfg);
/* The device type's probe: the tap opens (and is closed again). */
int vnet_config_probe(const void *cfg);
/* TUN_F_* offloads from the guest's features: what the tap may hand it. */
unsigned vnet_config_offloads(uint64_t features);
struct vnet_stats;
/* The device's counters as Firecracker's net metrics. */
json_t *vnet_config_metrics(const struct vnet_stats *s);
struct mmds;
/*
 * MMDS on this interface?  A restored one that had it tells @store the
 * version and address back; a listed one records them in @cfg (for
 * snapshots).  True with its address in *ipv4.
 */
bool vnet_config_mmds(struct vnet_config *cfg, struct mmds *store, uint32_t *ipv4);

/*
 * Counters for metrics; written on the VMM thread under the transport lock.
 * "short"/"long": shorter than the vnet header / longer than VNET_MAX_LEN.
 */
struct vnet_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_dropped_short, rx_dropped_long;
	uint64_t rx_dropped_small_buf; /* guest chain smaller than the frame */
	uint64_t rx_bad_chain;	       /* unwalkable or read-only rx chain */
	uint64_t rx_tap_errors;
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_dropped_short, tx_dropped_long;
	uint64_t tx_bad_chain;	/* unwalkable chain, writable or unmapped segment */
	uint64_t tx_bad_header; /* GSO/checksum offload the guest did not negotiate */
	uint64_t tx_tap_errors;
	uint64_t rx_throttled, tx_throttled; /* frames that waited for a rate limiter */
	uint64_t tx_mmds, rx_mmds;	     /* frames the MMDS took and sent */
};

struct vnet;

/*
 * Opens /dev/net/tun and attaches to the existing tap cfg->host_dev_name.
 * Returns 0 or -errno (with a log line saying why).
 */
int vnet_create(struct vnet **out, const struct vnet_config *cfg, const struct guest_mem *gm,
		struct evloop *loop);
/*
 * Same on an already open, non-blocking fd that behaves like a tap with a
 * VNET_HDR_LEN header (one frame per read/write), e.g. a SOCK_SEQPACKET
 * socketpair in tests.  The device owns @fd from here on, even on failure.
 * No tap ioctls are issued on it.
 */
int vnet_create_with_fd(struct vnet **out, const struct vnet_config *cfg, int fd,
			const struct guest_mem *gm, struct evloop *loop);
struct virtio_mmio *vnet_transport(struct vnet *n);
const struct vnet_stats *vnet_stats(const struct vnet *n);
/* TUN_F_* offloads derived from the guest's features at DRIVER_OK. */
unsigned vnet_tap_offloads(const struct vnet *n);
void vnet_destroy(struct vnet *n);
/*
 * Serves MMDS on this NIC if @store's configuration lists it, or if the
 * NIC's settings say it did (vnet_config_mmds).  0 or -ENOMEM.
 */
int vnet_mmds_attach(struct vnet *n, struct mmds *store);
const struct vnet_config *vnet_get_config(const struct vnet *n);

#endif /* EMBER_NET_H */
