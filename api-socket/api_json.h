/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_json.h - internal to api-socket/: the JSON schema of every API object,
 * shared by the router (one object per request) and the config-file reader
 * (all of them in one document), so both refuse exactly the same things.
 *
 * Parsers take a jansson value and fill a zeroed or defaulted struct; they
 * return 0 or -EINVAL with "<object>: <what is wrong with which field>" in
 * @err.  They never touch the live configuration.
 */
#ifndef EMBER_API_JSON_H
#define EMBER_API_JSON_H

#include <jansson.h>

#include "api.h"

struct api_drive_patch {
	char drive_id[API_ID_MAX];
	bool has_path;
	char path_on_host[API_PATH_MAX];
	struct api_rate_limiter rate_limiter; /* .set when the body has one */
};

struct api_net_patch {
	char iface_id[API_ID_MAX];
	struct api_rate_limiter rx, tx; /* .set when the body has them */
};

/* Resource ids in paths and bodies: [A-Za-z0-9_], 1..API_ID_MAX-1 bytes. */
int api_check_id(const char *what, const char *id, char *err, size_t errlen);

int api_parse_boot_source(json_t *o, struct api_boot_source *out, char *err, size_t errlen);
/* @partial (PATCH): start from *out and require nothing; else start from defaults. */
int api_parse_machine_config(json_t *o, bool partial, struct api_machine_config *out, char *err,
			     size_t errlen);
int api_parse_drive(json_t *o, struct api_drive *out, char *err, size_t errlen);
int api_parse_drive_patch(json_t *o, struct api_drive_patch *out, char *err, size_t errlen);
int api_parse_net(json_t *o, struct api_net *out, char *err, size_t errlen);
int api_parse_net_patch(json_t *o, struct api_net_patch *out, char *err, size_t errlen);
int api_parse_vsock(json_t *o, struct api_vsock *out, char *err, size_t errlen);
/* A RateLimiter object (null or absent: none; {} : set, no limits). */
int api_parse_rate_limiter(json_t *o, const char *what, struct api_rate_limiter *out, char *err,
			   size_t errlen);
int api_parse_entropy(json_t *o, struct api_entropy *out, char *err, size_t errlen);
/* A TokenBucket object (null or absent: unset). */
int api_parse_bucket(json_t *o, const char *what, struct api_token_bucket *out, char *err,
		     size_t errlen);
/* api_serial.c: PUT /serial's body. */
int api_parse_serial(json_t *o, struct api_serial *out, char *err, size_t errlen);
/* api_pmem.c: PUT /pmem/{id}'s body; the collection's rules (ids, one root device). */
int api_parse_pmem(json_t *o, struct api_pmem *out, char *err, size_t errlen);
/* PATCH /pmem/{id}: Firecracker's PartialPmem (id, rate_limiter). */
int api_parse_pmem_patch(json_t *o, char id[API_ID_MAX], struct api_rate_limiter *rl, char *err,
			 size_t errlen);
int api_pmem_find(const struct api_vm_config *cfg, const char *id);
int api_pmem_insert(struct api_vm_config *cfg, const struct api_pmem *p, char *err, size_t errlen);
json_t *api_json_pmem_list(const struct api_vm_config *cfg);
/* The config file's "pmem" list (null: none); each item as its PUT, no id twice. */
int api_config_pmem(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen);
/* api_hotplug.c: PUT and PATCH /hotplug/memory; GET /vm/config's "memory-hotplug". */
int api_parse_hotplug(json_t *o, struct api_hotplug *out, char *err, size_t errlen);
int api_parse_hotplug_patch(json_t *o, uint32_t *requested_mib, char *err, size_t errlen);
json_t *api_json_hotplug(const struct api_hotplug *h); /* null when unset */
/* PUT's body with virtio-mem's size rules (what PUT and --config-file accept). */
int api_config_hotplug(json_t *o, struct api_hotplug *out, char *err, size_t errlen);
int api_parse_logger(json_t *o, struct api_logger *out, char *err, size_t errlen);
int api_parse_metrics(json_t *o, struct api_metrics *out, char *err, size_t errlen);
/* PUT /actions: API_CMD_START, API_CMD_CTRL_ALT_DEL or API_CMD_FLUSH_METRICS. */
int api_parse_action(json_t *o, enum api_cmd_kind *kind, char *err, size_t errlen);
/* PATCH /vm: *pause true for "Paused", false for "Resumed". */
int api_parse_vm_state(json_t *o, bool *pause, char *err, size_t errlen);

/* PUT /snapshot/create and /snapshot/load (state rules are the router's). */
int api_parse_snapshot_create(json_t *o, struct api_snapshot_create *out, char *err, size_t errlen);
/* Fills everything but out->restored. */
int api_parse_snapshot_load(json_t *o, struct api_snapshot_load *out, char *err, size_t errlen);
/* The load's network_overrides array and vsock_override object (PUT /migration/receive too). */
int api_parse_net_overrides(json_t *arr, struct api_snapshot_load *out, char *err, size_t errlen);
int api_parse_vsock_override(json_t *v, const char *what, struct api_snapshot_load *out, char *err,
			     size_t errlen);

/*
 * api_balloon.c: /balloon and its sub-paths (@sub: what follows "/balloon":
 * "", "/statistics", "/hinting/start", ...), and the Balloon object.
 */
enum api_result api_balloon_handle(struct api_state *st, enum http_method m, const char *sub,
				   json_t *body, struct api_response *resp, struct api_cmd *cmd);
int api_parse_balloon(json_t *o, struct api_balloon *out, char *err, size_t errlen);
json_t *api_json_balloon(const struct api_balloon *b); /* null when unset */
/* api_devs.c's part: the balloon as the device's settings, and back. */
int api_balloon_to_config(const struct api_balloon *b, struct vdev_configs *l, char *err,
			  size_t errlen);
void api_balloon_from_config(const void *cfg, struct api_balloon *b);

/* Collection rules (unique ids, one root, unique tap and MAC, caps). */
int api_drive_insert(struct api_vm_config *cfg, const struct api_drive *d, char *err,
		     size_t errlen);
int api_net_insert(struct api_vm_config *cfg, const struct api_net *n, char *err, size_t errlen);
int api_drive_find(const struct api_vm_config *cfg, const char *id);
int api_net_find(const struct api_vm_config *cfg, const char *id);

/* Serialisers: new references, NULL on allocation failure. */
json_t *api_json_machine_config(const struct api_machine_config *m);
json_t *api_json_boot_source(const struct api_boot_source *b); /* null when unset */
json_t *api_json_drive(const struct api_drive *d);
json_t *api_json_net(const struct api_net *n);
json_t *api_json_vsock(const struct api_vsock *v);
json_t *api_json_rate_limiter(const struct api_rate_limiter *rl); /* null when unset */
json_t *api_json_bucket(const struct api_token_bucket *b);	  /* null when unset */
json_t *api_json_entropy(const struct api_entropy *e);		  /* null when unset */
json_t *api_json_logger(const struct api_logger *l);
json_t *api_json_metrics(const struct api_metrics *m);
json_t *api_json_serial(const struct api_serial *s);

#endif /* EMBER_API_JSON_H */
