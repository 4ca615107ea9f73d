/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_route.h - internal to api-socket/: one request on its way through the
 * router (api.c), and the helpers handlers in other files of the router
 * (api_exec.c) answer with.  Handlers return API_DONE with r->resp
 * final, or API_EXEC with r->cmd for the VMM thread (api.h's contract).
 */
#ifndef EMBER_API_ROUTE_H
#define EMBER_API_ROUTE_H

#include "api_json.h"

#define MSG_AFTER_START	 "The requested operation is not supported after starting the microVM."
#define MSG_BEFORE_START "The requested operation is not supported before starting the microVM."

struct api_req {
	struct api_state *st;
	const char *id; /* the {id} path segment, or NULL */
	const struct http_request *req;
	json_t *body; /* parsed object, or NULL for GET */
	struct api_response *resp;
	struct api_cmd *cmd;
};

/* 204, no body. */
enum api_result api_no_content(struct api_req *r);
/* 400 with @msg as the fault_message. */
enum api_result api_bad(struct api_req *r, const char *msg);
/* API_EXEC: r->cmd (filled by the caller but for kind and cfg) goes to the VMM. */
enum api_result api_exec(struct api_req *r, enum api_cmd_kind kind);
/* No InstanceStart or snapshot load yet. */
bool api_preboot(struct api_req *r);
/*
 * Firecracker's deprecated fields (vsock_id, machine-config's cpu_template,
 * snapshot-load's mem_file_path and enable_diff_snapshots): a body that
 * parsed and uses @field gets the Deprecation header whatever the outcome,
 * and a warning in the log, as Firecracker does.  null and false are not a use.
 */
void api_deprecated(struct api_req *r, const char *field, const char *method, const char *path);

/* api_exec.c */
/* A copy of the configuration for a PUT to change, or NULL after a 500. */
struct api_vm_config *api_next(struct api_req *r);
/*
 * API_EXEC: the VMM thread vets @next (enum api_check_what; @id names the
 * drive or interface) before api_complete() makes it the configuration, so
 * a missing kernel, image or tap is a 400 on the PUT that names it, as in
 * Firecracker, not a failed InstanceStart.  Takes @next.
 */
enum api_result api_check(struct api_req *r, struct api_vm_config *next, enum api_check_what what,
			  const char *id);
enum api_result api_put_snapshot_create(struct api_req *r);
enum api_result api_put_snapshot_load(struct api_req *r);
/* api_migrate.c: the routes, their completion, and adopting a finished receive. */
enum api_result api_put_migration_receive(struct api_req *r);
enum api_result api_put_migration_send(struct api_req *r);
void api_migration_complete(struct api_state *st, const struct api_cmd *cmd, int result);
void api_migration_sync(struct api_state *st);
/* api_fork.c: PUT /vm/fork and freeing its command. */
enum api_result api_put_vm_fork(struct api_req *r);
void api_fork_complete(const struct api_cmd *cmd);
/* A successful load: the VM is the snapshot's, with its configuration. */
void api_adopt_restored(struct api_state *st, const struct api_snapshot_load *l);

/* api_devs_route.c: the device routes (api.c's table names them). */
enum api_result api_put_drive(struct api_req *r);
enum api_result api_patch_drive(struct api_req *r);
enum api_result api_put_net(struct api_req *r);
enum api_result api_patch_net(struct api_req *r);
enum api_result api_put_vsock(struct api_req *r);
enum api_result api_balloon(struct api_req *r);
enum api_result api_put_entropy(struct api_req *r);
enum api_result api_put_serial(struct api_req *r);
enum api_result api_put_pmem(struct api_req *r);
enum api_result api_patch_pmem(struct api_req *r);
enum api_result api_put_hotplug(struct api_req *r);
enum api_result api_patch_hotplug(struct api_req *r);
enum api_result api_get_hotplug(struct api_req *r);

#endif /* EMBER_API_ROUTE_H */
