// SPDX-License-Identifier: Apache-2.0
/*
 * Firecracker's pmem resource (PUT /pmem/{id}, the "pmem" list of GET
 * /vm/config and --config-file) and its trip to the device's settings
 * (virtio/pmem.h).  Rules as Firecracker's: a PUT with a known id replaces
 * it; one root device in all, so a pmem root next to a root drive is a 400.
 */
#include <stdio.h>
#include <string.h>

#include "api_json.h"
#include "pmem.h"

int api_pmem_find(const struct api_vm_config *cfg, const char *id)
{
	for (unsigned i = 0; i < cfg->nr_pmem; i++)
		if (!strcmp(cfg->pmem[i].id, id))
			return (int)i;
	return -1;
}

int api_pmem_insert(struct api_vm_config *cfg, const struct api_pmem *p, char *err, size_t errlen)
{
	int idx = api_pmem_find(cfg, p->id);

	for (unsigned i = 0; p->root_device && i < cfg->nr_drives; i++) {
		if (cfg->drives[i].is_root_device) {
			snprintf(
			    err, errlen,
			    "pmem: \"root_device\": the drive \"%s\" is the root device already.",
			    cfg->drives[i].drive_id);
			return -EINVAL;
		}
	}
	for (unsigned i = 0; p->root_device && i < cfg->nr_pmem; i++) {
		if ((int)i != idx && cfg->pmem[i].root_device) {
			snprintf(
			    err, errlen,
			    "pmem: \"root_device\": a root pmem device already exists (\"%s\").",
			    cfg->pmem[i].id);
			return -EINVAL;
		}
	}
	if (idx < 0) {
		if (cfg->nr_pmem == API_MAX_PMEM) {
			snprintf(err, errlen, "pmem: at most %d pmem devices are supported.",
				 API_MAX_PMEM);
			return -ENOSPC;
		}
		idx = (int)cfg->nr_pmem++;
	}
	cfg->pmem[idx] = *p;
	return 0;
}

json_t *api_json_pmem_list(const struct api_vm_config *cfg)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < cfg->nr_pmem; i++) {
		const struct api_pmem *p = &cfg->pmem[i];
		json_t *o =
		    json_pack("{s:s, s:s, s:b, s:b}", "id", p->id, "path_on_host", p->path_on_host,
			      "root_device", p->root_device, "read_only", p->read_only);

		if (o && p->rate_limiter.set &&
		    json_object_set_new(o, "rate_limiter",
					api_json_rate_limiter(&p->rate_limiter))) {
			json_decref(o);
			o = NULL;
		}
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int api_config_pmem(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen)
{
	struct api_pmem p;
	json_t *item;
	size_t i;
	int rc;

	if (json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		snprintf(err, errlen, "config: \"pmem\" must be an array.");
		return -EINVAL;
	}
	json_array_foreach(v, i, item)
	{
		rc = api_parse_pmem(item, &p, err, errlen);
		if (!rc && api_pmem_find(cfg, p.id) >= 0) {
			snprintf(err, errlen, "config: \"pmem\" has \"%s\" twice.", p.id);
			rc = -EINVAL;
		}
		if (!rc)
			rc = api_pmem_insert(cfg, &p, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- to and from the device's settings (api_devs.c) ------------------------------ */

int api_pmem_to_config(const struct api_pmem *a, struct vpmem_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%.*s", (int)sizeof(c->id) - 1, a->id);
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s", a->path_on_host) >= sizeof(c->path)) {
		snprintf(err, errlen, "pmem %s: path too long", a->id);
		return -ENAMETOOLONG;
	}
	c->root = a->root_device;
	c->read_only = a->read_only;
	api_limiter_cfg(&a->rate_limiter, &c->limiter);
	return 0;
}

void api_pmem_from_config(const struct vpmem_config *c, struct api_pmem *a)
{
	*a = (struct api_pmem){.root_device = c->root, .read_only = c->read_only};
	snprintf(a->id, sizeof(a->id), "%s", c->id);
	snprintf(a->path_on_host, sizeof(a->path_on_host), "%s", c->path);
	if (!limiter_cfg_unlimited(&c->limiter))
		api_limiter_to_api(&c->limiter, &a->rate_limiter);
}
