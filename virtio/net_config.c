// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net's settings (struct vnet_config): the CLI's --net SPEC, the rules
 * across a VM's interfaces, the interface's encoding in a snapshot and the
 * restore's override of its tap (network_overrides); the tap they name,
 * opened, and its offloads; whether MMDS is served on it; the device's
 * counters as metrics.
 */
#include <ctype.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "mmds_store.h"
#include "net.h"

static bool opt_is(const char *opt, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(opt, name, n);
}

static int vnet_parse_mac(const char *v, size_t n, uint8_t mac[6])
{
	if (n != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = v + 3 * i;
		char hex[3] = {p[0], p[1], 0};

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	/* A multicast source address would make the guest's stack misbehave. */
	return (mac[0] & 1) ? -EINVAL : 0;
}

static bool vnet_name_ok(const char *v, size_t n, size_t max)
{
	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '_' && v[i] != '-' && v[i] != '.')
			return false;
	return true;
}

int vnet_config_parse(const char *spec, struct vnet_config *cfg, char *err, size_t errlen)
{
	const char *opt = spec, *p;
	size_t n;

	memset(cfg, 0, sizeof(*cfg));
	for (;;) {
		p = strchr(opt, ',');
		n = p ? (size_t)(p - opt) : strlen(opt);
		if (n >= 4 && !memcmp(opt, "tap=", 4)) {
			if (!vnet_name_ok(opt + 4, n - 4, sizeof(cfg->host_dev_name))) {
				snprintf(err, errlen,
					 "tap name '%.*s': 1..%zu letters, digits, '_', '-', '.'",
					 (int)n - 4, opt + 4, sizeof(cfg->host_dev_name) - 1);
				return -EINVAL;
			}
			memset(cfg->host_dev_name, 0, sizeof(cfg->host_dev_name));
			memcpy(cfg->host_dev_name, opt + 4, n - 4);
		} else if (n >= 4 && !memcmp(opt, "mac=", 4)) {
			if (vnet_parse_mac(opt + 4, n - 4, cfg->mac)) {
				snprintf(err, errlen,
					 "mac '%.*s': want a unicast AA:BB:CC:DD:EE:FF", (int)n - 4,
					 opt + 4);
				return -EINVAL;
			}
			cfg->has_mac = true;
		} else if (n >= 4 && !memcmp(opt, "mtu=", 4)) {
			char num[8];
			uint64_t v;

			if (n - 4 >= sizeof(num))
				goto bad_mtu;
			memcpy(num, opt + 4, n - 4);
			num[n - 4] = '\0';
			if (str_to_u64(num, 65535, &v) || v < 68)
				goto bad_mtu;
			cfg->mtu = (uint16_t)v;
		} else if (n >= 3 && !memcmp(opt, "id=", 3)) {
			if (!vnet_name_ok(opt + 3, n - 3, sizeof(cfg->iface_id))) {
				snprintf(err, errlen,
					 "id '%.*s': 1..%zu letters, digits, '_', '-', '.'",
					 (int)n - 3, opt + 3, sizeof(cfg->iface_id) - 1);
				return -EINVAL;
			}
			memset(cfg->iface_id, 0, sizeof(cfg->iface_id));
			memcpy(cfg->iface_id, opt + 3, n - 3);
		} else if (opt_is(opt, n, "") && !p && opt != spec) {
			snprintf(err, errlen, "trailing ',' in net spec");
			return -EINVAL;
		} else {
			snprintf(err, errlen, "unknown net option '%.*s'", (int)n, opt);
			return -EINVAL;
		}
		if (!p)
			break;
		opt = p + 1;
	}
	if (!cfg->host_dev_name[0]) {
		snprintf(err, errlen, "net spec needs tap=NAME");
		return -EINVAL;
	}
	if (!cfg->iface_id[0])
		memcpy(cfg->iface_id, cfg->host_dev_name, sizeof(cfg->host_dev_name));
	return 0;
bad_mtu:
	snprintf(err, errlen, "mtu '%.*s': want 68..65535", (int)n - 4, opt + 4);
	return -EINVAL;
}

const char *vnet_config_id(const void *cfg)
{
	return ((const struct vnet_config *)cfg)->iface_id;
}

/* Two interfaces on one tap would steal each other's frames. */
int vnet_config_check_set(const void *const cfgs[], unsigned n, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++) {
			const struct vnet_config *a = cfgs[i], *b = cfgs[j];

			if (!strcmp(a->host_dev_name, b->host_dev_name)) {
				snprintf(err, errlen, "interface or tap used twice (tap %s)",
					 a->host_dev_name);
				return -EINVAL;
			}
		}
	return 0;
}

struct limiter_cfg *vnet_config_limiter(void *cfg, const char *which)
{
	struct vnet_config *n = cfg;

	return !strcmp(which, "rx") ? &n->rx_limiter : !strcmp(which, "tx") ? &n->tx_limiter : NULL;
}

/*
 * State version 3: iface_id, host_dev_name (strings), has_mac (bool), mac
 * (6 bytes), the rx then the tx rate limiter (limiter_cfg_save), mtu (u16,
 * 0 for none), then MMDS: mmds (bool), its ipv4 (u32), version (u8: 1 or
 * 2), imds_compat (bool), as Firecracker keeps the MMDS stack's address and
 * the version (not the data) in a snapshot.  Version 2 had no MMDS;
 * version 1 no limiters and no MTU.
 */
void vnet_config_save(const void *cfg, struct pw *w)
{
	const struct vnet_config *n = cfg;

	pw_str(w, n->iface_id);
	pw_str(w, n->host_dev_name);
	pw_bool(w, n->has_mac);
	pw_bytes(w, n->mac, sizeof(n->mac));
	limiter_cfg_save(&n->rx_limiter, w);
	limiter_cfg_save(&n->tx_limiter, w);
	pw_u16(w, n->mtu);
	pw_bool(w, n->mmds);
	pw_u32(w, n->mmds_ipv4);
	pw_u8(w, n->mmds_version);
	pw_bool(w, n->mmds_imds_compat);
}

void vnet_config_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vnet_config *n = cfg;

	pr_str(r, n->iface_id, sizeof(n->iface_id));
	pr_str(r, n->host_dev_name, sizeof(n->host_dev_name));
	n->has_mac = pr_bool(r);
	pr_bytes(r, n->mac, sizeof(n->mac));
	if (version >= 2) {
		limiter_cfg_load(r, &n->rx_limiter);
		limiter_cfg_load(r, &n->tx_limiter);
		n->mtu = pr_u16(r);
		if (n->mtu && n->mtu < 68)
			pr_fail(r, "an MTU below 68");
	}
	if (version >= 3) {
		n->mmds = pr_bool(r);
		n->mmds_ipv4 = pr_u32(r);
		n->mmds_version = pr_u8(r);
		n->mmds_imds_compat = pr_bool(r);
		/* As PUT /mmds/config: 169.254.1.0-169.254.254.255, V1 or V2. */
		if (n->mmds &&
		    ((n->mmds_ipv4 >> 16) != 0xa9fe || ((n->mmds_ipv4 >> 8) & 0xff) == 0 ||
		     ((n->mmds_ipv4 >> 8) & 0xff) == 255 ||
		     (n->mmds_version != 1 && n->mmds_version != 2)))
			pr_fail(r, "a bad MMDS address or version");
	}
	if (!r->why && (!n->iface_id[0] || !n->host_dev_name[0]))
		pr_fail(r, "an empty interface id or tap name");
	/* As --net: a multicast source address would confuse the guest's stack. */
	if (!r->why && n->has_mac && (n->mac[0] & 1))
		pr_fail(r, "a multicast MAC");
}

int vnet_config_set(void *cfg, const char *field, const char *value, char *err, size_t errlen)
{
	struct vnet_config *n = cfg;

	if (strcmp(field, "host_dev_name")) {
		snprintf(err, errlen, "no setting '%s' to override", field);
		return -EINVAL;
	}
	if (!value[0] || strlen(value) >= sizeof(n->host_dev_name)) {
		snprintf(err, errlen, "override tap name too long");
		return -EINVAL;
	}
	strcpy(n->host_dev_name, value);
	return 0;
}

int vnet_tap_open(const struct vnet_config *cfg)
{
	struct ifreq ifr = {0};
	unsigned feat = 0;
	int fd, hdr = VNET_HDR_LEN, ret;

	/* TUNSETIFF would create a missing tap; we only attach to one set up for us. */
	if (!if_nametoindex(cfg->host_dev_name)) {
		log_err("network interface %s: tap %s: %s", cfg->iface_id, cfg->host_dev_name,
			strerror(ENODEV));
		return -ENODEV;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err("network interface %s: /dev/net/tun: %s", cfg->iface_id, strerror(errno));
		return ret;
	}
	if (ioctl(fd, TUNGETFEATURES, &feat) < 0 || !(feat & IFF_VNET_HDR)) {
		log_err("network interface %s: the tun driver lacks IFF_VNET_HDR", cfg->iface_id);
		ret = -EOPNOTSUPP;
		goto err;
	}
	memcpy(ifr.ifr_name, cfg->host_dev_name, sizeof(cfg->host_dev_name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		log_err("network interface %s: tap %s: %s", cfg->iface_id, cfg->host_dev_name,
			strerror(errno));
		goto err;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0u) < 0) {
		ret = -errno;
		log_err("network interface %s: tap %s setup: %s", cfg->iface_id, cfg->host_dev_name,
			strerror(errno));
		goto err;
	}
	return fd;
err:
	close(fd);
	return ret;
}

/* The tap attaches as it will at create() (persistent taps survive the close). */
int vnet_config_probe(const void *cfg)
{
	int fd = vnet_tap_open(cfg);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* The TUN_F_* offloads for the guest's virtio-net features. */
unsigned vnet_config_offloads(uint64_t f)
{
	unsigned o = 0;

	/* TUN_F_* say what the tap may hand us, i.e. what the guest can receive. */
	if (f & (1ull << VIRTIO_NET_F_GUEST_CSUM)) {
		o |= TUN_F_CSUM;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))
			o |= TUN_F_TSO4;
		if (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))
			o |= TUN_F_TSO6;
		if ((o & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & (1ull << VIRTIO_NET_F_GUEST_ECN)))
			o |= TUN_F_TSO_ECN;
	}
	return o;
}

bool vnet_config_mmds(struct vnet_config *cfg, struct mmds *store, uint32_t *ipv4)
{
	struct mmds_config c;

	if (cfg->mmds)
		mmds_restore_iface(store, cfg->iface_id, cfg->mmds_ipv4,
				   cfg->mmds_version == MMDS_V2 ? MMDS_V2 : MMDS_V1,
				   cfg->mmds_imds_compat);
	if (!mmds_iface_enabled(store, cfg->iface_id, ipv4))
		return false;
	mmds_get_config(store, &c);
	cfg->mmds = true;
	cfg->mmds_ipv4 = *ipv4;
	cfg->mmds_version = (uint8_t)c.version;
	cfg->mmds_imds_compat = c.imds_compat;
	return true;
}

json_t *vnet_config_metrics(const struct vnet_stats *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets_count",
			 (json_int_t)s->rx_frames, "rx_bytes_count", (json_int_t)s->rx_bytes,
			 "rx_dropped",
			 (json_int_t)(s->rx_dropped_short + s->rx_dropped_long +
				      s->rx_dropped_small_buf + s->rx_bad_chain),
			 "tx_packets_count", (json_int_t)s->tx_frames, "tx_bytes_count",
			 (json_int_t)s->tx_bytes, "tx_dropped",
			 (json_int_t)(s->tx_dropped_short + s->tx_dropped_long + s->tx_bad_chain +
				      s->tx_bad_header),
			 "rx_rate_limiter_throttled", (json_int_t)s->rx_throttled,
			 "tx_rate_limiter_throttled", (json_int_t)s->tx_throttled);
}
