// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-pmem's settings (struct vpmem_config): the CLI's --pmem SPEC, the
 * rules across a VM's pmem devices, and their encoding in a snapshot.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pmem.h"

#define VPMEM_ALIGN MiB(2)

static bool opt_eq(const char *opt, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(opt, name, n);
}

static int vpmem_opt(struct vpmem_config *c, const char *opt, size_t n, char *err, size_t errlen)
{
	if (opt_eq(opt, n, "ro")) {
		c->read_only = true;
	} else if (opt_eq(opt, n, "root")) {
		c->root = true;
	} else if (n > 3 && !memcmp(opt, "id=", 3) && n - 3 < sizeof(c->id)) {
		for (size_t i = 3; i < n; i++) {
			if (!isalnum((unsigned char)opt[i]) && opt[i] != '_') {
				snprintf(err, errlen,
					 "pmem id '%.*s': only letters, digits and '_'", (int)n - 3,
					 opt + 3);
				return -EINVAL;
			}
		}
		memcpy(c->id, opt + 3, n - 3);
		c->id[n - 3] = '\0';
	} else {
		snprintf(err, errlen, "unknown pmem option '%.*s' (ro, root, id=NAME of 1..%zu)",
			 (int)n, opt, sizeof(c->id) - 1);
		return -EINVAL;
	}
	return 0;
}

int vpmem_parse_spec(const char *spec, void *cfg, char *err, size_t errlen)
{
	struct vpmem_config *c = cfg;
	const char *p = spec ? strchr(spec, ',') : NULL;
	size_t n = !spec ? 0 : p ? (size_t)(p - spec) : strlen(spec);

	memset(c, 0, sizeof(*c));
	if (n == 0 || n >= sizeof(c->path)) {
		snprintf(err, errlen, "a pmem file path of 1..%zu bytes", sizeof(c->path) - 1);
		return -EINVAL;
	}
	memcpy(c->path, spec, n);
	while (p) {
		const char *opt = p + 1;

		p = strchr(opt, ',');
		if (vpmem_opt(c, opt, p ? (size_t)(p - opt) : strlen(opt), err, errlen))
			return -EINVAL;
	}
	return 0;
}

const char *vpmem_id(const void *cfg)
{
	return ((const struct vpmem_config *)cfg)->id;
}

/* A CLI device without id= is named after its place among the pmem devices. */
void vpmem_complete(void *cfg, unsigned nth)
{
	struct vpmem_config *c = cfg;

	if (!c->id[0])
		snprintf(c->id, sizeof(c->id), "pmem%u", nth);
}

int vpmem_check_set(const void *const cfgs[], unsigned n, char *err, size_t errlen)
{
	unsigned roots = 0;

	for (unsigned i = 0; i < n; i++)
		roots += ((const struct vpmem_config *)cfgs[i])->root;
	if (roots > 1) {
		snprintf(err, errlen, "only one pmem device can be root");
		return -EINVAL;
	}
	return 0;
}

/* The root device is attached first, so the guest's first pmem region is it: /dev/pmem0. */
bool vpmem_first(const void *cfg)
{
	return ((const struct vpmem_config *)cfg)->root;
}

/* Firecracker's line for a pmem root; DAX (rootflags=dax) is the user's choice. */
const char *vpmem_cmdline(const void *cfg, char *buf, size_t len)
{
	const struct vpmem_config *c = cfg;

	(void)buf, (void)len;
	if (!c->root)
		return NULL;
	return c->read_only ? " root=/dev/pmem0 ro" : " root=/dev/pmem0 rw";
}

struct limiter_cfg *vpmem_limiter(void *cfg, const char *which)
{
	return *which ? NULL : &((struct vpmem_config *)cfg)->limiter;
}

/*
 * State version 1: id, path (strings), root, read_only (bools), the rate
 * limiter (limiter_cfg_save), gpa and size (u64: where the guest has the
 * file and how large it saw it; a restore maps it there again).
 */
void vpmem_save(const void *cfg, struct pw *w)
{
	const struct vpmem_config *c = cfg;

	pw_str(w, c->id);
	pw_str(w, c->path);
	pw_bool(w, c->root);
	pw_bool(w, c->read_only);
	limiter_cfg_save(&c->limiter, w);
	pw_u64(w, c->gpa);
	pw_u64(w, c->size);
}

void vpmem_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vpmem_config *c = cfg;

	(void)version;
	pr_str(r, c->id, sizeof(c->id));
	pr_str(r, c->path, sizeof(c->path));
	c->root = pr_bool(r);
	c->read_only = pr_bool(r);
	limiter_cfg_load(r, &c->limiter);
	c->gpa = pr_u64(r);
	c->size = pr_u64(r);
	if (r->why)
		return;
	if (!c->id[0] || !c->path[0])
		pr_fail(r, "an empty pmem id or path");
	/* Both 0: settings of a device never created, placed afresh. */
	else if ((!c->gpa != !c->size) || (c->gpa | c->size) & (VPMEM_ALIGN - 1) ||
		 c->size > UINT64_MAX - c->gpa)
		pr_fail(r, "a pmem range that is not 2 MiB-aligned");
}
