// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk's settings (struct vblk_config): the CLI's --disk SPEC, the
 * rules across a VM's drives, and the drive's encoding in a snapshot.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "blk.h"

static int vblk_opt_id(const char *v, size_t n, struct vblk_config *cfg, char *err, size_t errlen)
{
	if (n == 0 || n >= sizeof(cfg->drive_id)) {
		snprintf(err, errlen, "id must be 1..%zu characters", sizeof(cfg->drive_id) - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)v[i]) && v[i] != '_' && v[i] != '-') {
			snprintf(err, errlen, "id '%.*s': only letters, digits, '_' and '-'",
				 (int)n, v);
			return -EINVAL;
		}
	}
	memcpy(cfg->drive_id, v, n);
	cfg->drive_id[n] = '\0';
	return 0;
}

/* What may follow root=PARTUUID= without changing the command line's meaning. */
static bool partuuid_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VBLK_PARTUUID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-/=", s[i]))
			return false;
	return true;
}

static bool opt_is(const char *opt, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(opt, name, n);
}

int vblk_config_parse(const char *spec, struct vblk_config *cfg, char *err, size_t errlen)
{
	const char *p = strchr(spec, ','), *opt;
	size_t n = p ? (size_t)(p - spec) : strlen(spec);

	memset(cfg, 0, sizeof(*cfg));
	if (n == 0) {
		snprintf(err, errlen, "empty disk path");
		return -EINVAL;
	}
	if (n >= sizeof(cfg->path)) {
		snprintf(err, errlen, "disk path too long");
		return -EINVAL;
	}
	memcpy(cfg->path, spec, n);
	while (p) {
		opt = p + 1;
		p = strchr(opt, ',');
		n = p ? (size_t)(p - opt) : strlen(opt);
		if (opt_is(opt, n, "ro")) {
			cfg->read_only = true;
		} else if (opt_is(opt, n, "root")) {
			cfg->is_root = true;
		} else if (n >= 3 && !memcmp(opt, "id=", 3)) {
			if (vblk_opt_id(opt + 3, n - 3, cfg, err, errlen))
				return -EINVAL;
		} else if (n >= 9 && !memcmp(opt, "partuuid=", 9)) {
			snprintf(cfg->partuuid, sizeof(cfg->partuuid), "%.*s", (int)n - 9, opt + 9);
			if (n - 9 > VBLK_PARTUUID_LEN || !partuuid_ok(cfg->partuuid)) {
				snprintf(err, errlen,
					 "partuuid '%.*s': 1..%d letters, digits, '-', '/' or '='",
					 (int)n - 9, opt + 9, VBLK_PARTUUID_LEN);
				return -EINVAL;
			}
		} else if (opt_is(opt, n, "engine=sync")) {
			cfg->engine = VBLK_ENGINE_SYNC;
		} else if (opt_is(opt, n, "engine=io_uring")) {
			cfg->engine = VBLK_ENGINE_IO_URING;
		} else if (n >= 7 && !memcmp(opt, "engine=", 7)) {
			snprintf(err, errlen, "unknown engine '%.*s' (sync or io_uring)",
				 (int)n - 7, opt + 7);
			return -EINVAL;
		} else {
			snprintf(err, errlen, "unknown disk option '%.*s'", (int)n, opt);
			return -EINVAL;
		}
	}
	return 0;
}

const char *vblk_config_id(const void *cfg)
{
	return ((const struct vblk_config *)cfg)->drive_id;
}

/* A CLI drive without id= is named after its place among the drives. */
void vblk_config_complete(void *cfg, unsigned nth)
{
	struct vblk_config *b = cfg;

	if (!b->drive_id[0])
		snprintf(b->drive_id, sizeof(b->drive_id), "disk%u", nth);
}

int vblk_config_check_set(const void *const cfgs[], unsigned n, char *err, size_t errlen)
{
	unsigned roots = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct vblk_config *b = cfgs[i];

		roots += b->is_root;
		if (b->partuuid[0] && !partuuid_ok(b->partuuid)) {
			snprintf(
			    err, errlen,
			    "drive %s: partuuid must be 1..%d letters, digits, '-', '/' or '='",
			    b->drive_id, VBLK_PARTUUID_LEN);
			return -EINVAL;
		}
	}
	if (roots > 1) {
		snprintf(err, errlen, "only one disk can be root");
		return -EINVAL;
	}
	return 0;
}

/* The root drive is attached first, so the guest probes it first: /dev/vda. */
bool vblk_config_first(const void *cfg)
{
	return ((const struct vblk_config *)cfg)->is_root;
}

/* Firecracker's root argument: the partition when there is a PARTUUID. */
const char *vblk_config_cmdline(const void *cfg, char *buf, size_t len)
{
	const struct vblk_config *b = cfg;

	if (!b->is_root)
		return NULL;
	if (!b->partuuid[0])
		return b->read_only ? " root=/dev/vda ro" : " root=/dev/vda rw";
	snprintf(buf, len, " root=PARTUUID=%s %s", b->partuuid, b->read_only ? "ro" : "rw");
	return buf;
}

struct limiter_cfg *vblk_config_limiter(void *cfg, const char *which)
{
	return *which ? NULL : &((struct vblk_config *)cfg)->limiter;
}

/*
 * State version 3: drive_id, path, serial (strings), read_only, is_root
 * (bools), engine (u8: 0 default, 1 sync, 2 io_uring), the rate limiter
 * (limiter_cfg_save), partuuid (string).  Version 2 had no partuuid,
 * version 1 no limiter either.
 */
void vblk_config_save(const void *cfg, struct pw *w)
{
	const struct vblk_config *b = cfg;

	pw_str(w, b->drive_id);
	pw_str(w, b->path);
	pw_str(w, b->serial);
	pw_bool(w, b->read_only);
	pw_bool(w, b->is_root);
	pw_u8(w, (uint8_t)b->engine);
	limiter_cfg_save(&b->limiter, w);
	pw_str(w, b->partuuid);
}

void vblk_config_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vblk_config *b = cfg;
	uint8_t engine;

	pr_str(r, b->drive_id, sizeof(b->drive_id));
	pr_str(r, b->path, sizeof(b->path));
	pr_str(r, b->serial, sizeof(b->serial));
	b->read_only = pr_bool(r);
	b->is_root = pr_bool(r);
	engine = pr_u8(r);
	if (engine > VBLK_ENGINE_IO_URING)
		pr_fail(r, "an unknown engine");
	b->engine = (enum vblk_engine)engine;
	if (version >= 2)
		limiter_cfg_load(r, &b->limiter);
	if (version >= 3)
		pr_str(r, b->partuuid, sizeof(b->partuuid));
	if (!r->why && b->partuuid[0] && !partuuid_ok(b->partuuid))
		pr_fail(r, "a partuuid that is not letters, digits, '-', '/' or '='");
	if (!r->why && (!b->drive_id[0] || !b->path[0]))
		pr_fail(r, "an empty drive id or path");
}
