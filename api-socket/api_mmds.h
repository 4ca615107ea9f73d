/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_mmds.h - internal to api-socket/: Firecracker's /mmds and /mmds/config
 * requests on the store (mmds_store.h), and the "mmds-config" key of
 * GET /vm/config.  Each fills @resp completely (204, 200 or the fault).
 */
#ifndef EMBER_API_MMDS_H
#define EMBER_API_MMDS_H

#include <jansson.h>

#include "api.h"
#include "mmds_store.h"

void api_mmds_get(struct api_state *st, struct api_response *resp);
void api_mmds_put(struct api_state *st, json_t *body, struct api_response *resp);
void api_mmds_patch(struct api_state *st, json_t *body, struct api_response *resp);
/* Pre-boot only; every listed interface must exist already. */
void api_mmds_put_config(struct api_state *st, json_t *body, struct api_response *resp);
/* PUT /mmds/config's body into @c, checked against @cfg's interfaces; 0 or -EINVAL. */
int api_mmds_parse_config(json_t *o, const struct api_vm_config *cfg, struct mmds_config *c,
			  char *err, size_t errlen);
/* The MmdsConfig object, or null when MMDS is not configured (new reference). */
json_t *api_json_mmds_config(struct mmds *m);
/* GET /vm/config's document @doc (taken, may be NULL) with "mmds-config" set. */
char *api_mmds_vm_config(struct mmds *m, char *doc);

#endif /* EMBER_API_MMDS_H */
