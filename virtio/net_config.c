// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net's settings (struct vnet_config): the CLI's --net SPEC, the rules
 * across a VM's interfaces, the interface's encoding in a snapshot and the
 * restore's override of its tap (network_overrides).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
