// SPDX-License-Identifier: Apache-2.0
/*
 * Firecracker's memory hotplug resource (PUT/PATCH/GET /hotplug/memory, the
 * "memory-hotplug" section of GET /vm/config and --config-file) and its
 * trip to virtio-mem's settings (virtio/mem.h), whose size rules it shares.
 */
#include <stdio.h>
#include <string.h>

#include "api_json.h"
#include "mem.h"

json_t *api_json_hotplug(const struct api_hotplug *h)
{
	if (!h->set)
		return json_null();
	return json_pack("{s:I, s:I, s:I}", "total_size_mib", (json_int_t)h->total_size_mib,
			 "slot_size_mib", (json_int_t)h->slot_size_mib, "block_size_mib",
			 (json_int_t)h->block_size_mib);
}

int api_config_hotplug(json_t *o, struct api_hotplug *out, char *err, size_t errlen)
{
	struct api_hotplug h;
	struct vmem_config c;
	int rc = api_parse_hotplug(o, &h, err, errlen);

	if (!rc)
		rc = api_hotplug_to_config(&h, &c, err, errlen);
	if (!rc)
		*out = h;
	return rc;
}

int api_hotplug_to_config(const struct api_hotplug *a, struct vmem_config *c, char *err,
			  size_t errlen)
{
	char why[200];

	*c = (struct vmem_config){.total_mib = a->total_size_mib,
				  .slot_mib = a->slot_size_mib,
				  .block_mib = a->block_size_mib};
	snprintf(c->id, sizeof(c->id), "hotplug");
	if (vmem_config_check(c, why, sizeof(why))) {
		snprintf(err, errlen, "memory-hotplug: %s.", why);
		return -EINVAL;
	}
	return 0;
}

void api_hotplug_from_config(const struct vmem_config *c, struct api_hotplug *a)
{
	*a = (struct api_hotplug){.set = true,
				  .total_size_mib = c->total_mib,
				  .slot_size_mib = c->slot_mib,
				  .block_size_mib = c->block_mib};
}
