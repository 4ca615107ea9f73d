// SPDX-License-Identifier: Apache-2.0
/*
 * vsock's settings (struct vsock_config): the CLI's --vsock SPEC, its
 * encoding in a snapshot and the restore's override of its Unix socket
 * (vsock_override).
 */
#include <stdio.h>
#include <string.h>

#include "vsock.h"

int vsock_config_parse(const char *spec, struct vsock_config *cfg, char *err, size_t errlen)
{
	const char *opt = spec, *p;
	bool have_cid = false;
	char num[24];
	size_t n;

	memset(cfg, 0, sizeof(*cfg));
	for (;;) {
		p = strchr(opt, ',');
		n = p ? (size_t)(p - opt) : strlen(opt);
		if (n >= 4 && !memcmp(opt, "cid=", 4)) {
			if (n - 4 >= sizeof(num))
				goto bad_cid;
			memcpy(num, opt + 4, n - 4);
			num[n - 4] = '\0';
			/* 0-2 are reserved, 0xffffffff is VMADDR_CID_ANY. */
			if (str_to_u64(num, 0xfffffffeull, &cfg->guest_cid) || cfg->guest_cid < 3)
				goto bad_cid;
			have_cid = true;
		} else if (n >= 4 && !memcmp(opt, "uds=", 4)) {
			if (n == 4 || n - 4 > VSOCK_UDS_MAX) {
				snprintf(err, errlen, "uds path must be 1..%u characters",
					 VSOCK_UDS_MAX);
				return -EINVAL;
			}
			memset(cfg->uds_path, 0, sizeof(cfg->uds_path));
			memcpy(cfg->uds_path, opt + 4, n - 4);
		} else if (n >= 3 && !memcmp(opt, "id=", 3)) {
			if (n == 3 || n - 3 >= sizeof(cfg->vsock_id)) {
				snprintf(err, errlen, "vsock id must be 1..%zu characters",
					 sizeof(cfg->vsock_id) - 1);
				return -EINVAL;
			}
			memset(cfg->vsock_id, 0, sizeof(cfg->vsock_id));
			memcpy(cfg->vsock_id, opt + 3, n - 3);
		} else {
			snprintf(err, errlen, "unknown vsock option '%.*s'", (int)n, opt);
			return -EINVAL;
		}
		if (!p)
			break;
		opt = p + 1;
	}
	if (!have_cid || !cfg->uds_path[0]) {
		snprintf(err, errlen, "vsock spec needs cid=N and uds=PATH");
		return -EINVAL;
	}
	if (!cfg->vsock_id[0])
		snprintf(cfg->vsock_id, sizeof(cfg->vsock_id), "vsock");
	return 0;
bad_cid:
	snprintf(err, errlen, "cid '%.*s': want 3..4294967294", (int)n - 4, opt + 4);
	return -EINVAL;
}

const char *vsock_config_id(const void *cfg)
{
	return ((const struct vsock_config *)cfg)->vsock_id;
}

/* State version 1: guest_cid (u64), uds_path, vsock_id (strings). */
void vsock_config_save(const void *cfg, struct pw *w)
{
	const struct vsock_config *v = cfg;

	pw_u64(w, v->guest_cid);
	pw_str(w, v->uds_path);
	pw_str(w, v->vsock_id);
}

void vsock_config_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vsock_config *v = cfg;

	(void)version;
	v->guest_cid = pr_u64(r);
	pr_str(r, v->uds_path, sizeof(v->uds_path));
	pr_str(r, v->vsock_id, sizeof(v->vsock_id));
	if (!r->why && (v->guest_cid < 3 || v->guest_cid > 0xfffffffeull))
		pr_fail(r, "a guest CID out of range");
	if (!r->why && (!v->uds_path[0] || !v->vsock_id[0]))
		pr_fail(r, "an empty uds path or vsock id");
	if (!r->why && strlen(v->uds_path) > VSOCK_UDS_MAX)
		pr_fail(r, "a uds path too long for guest connections (PATH_<port>)");
}

int vsock_config_set(void *cfg, const char *field, const char *value, char *err, size_t errlen)
{
	struct vsock_config *v = cfg;

	if (strcmp(field, "uds_path")) {
		snprintf(err, errlen, "no setting '%s' to override", field);
		return -EINVAL;
	}
	if (!value[0] || strlen(value) > VSOCK_UDS_MAX) {
		snprintf(err, errlen, "override uds_path must be 1..%u characters", VSOCK_UDS_MAX);
		return -EINVAL;
	}
	strcpy(v->uds_path, value);
	return 0;
}
