// SPDX-License-Identifier: Apache-2.0
/*
 * Router requests the VMM thread carries out or vets before the API state
 * may change: the pre-boot PUTs that name host files or take a device slot
 * (Firecracker opens those files at PUT time), PUT /snapshot/create on a
 * paused VM and PUT /snapshot/load in a fresh ember, with Firecracker's
 * state rules and messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_route.h"
#include "sparse.h"

/* A copy of the configuration for a PUT to change (freed by api_complete). */
struct api_vm_config *api_next(struct api_req *r)
{
	struct api_vm_config *next = malloc(sizeof(*next));

	if (next)
		*next = r->st->cfg;
	else
		api_fault(r->resp, 500, "Out of memory.");
	return next;
}

enum api_result api_check(struct api_req *r, struct api_vm_config *next, enum api_check_what what,
			  const char *id)
{
	memset(r->cmd, 0, sizeof(*r->cmd));
	r->cmd->check.what = what;
	snprintf(r->cmd->check.id, sizeof(r->cmd->check.id), "%s", id);
	r->cmd->check.next = next;
	return api_exec(r, API_CMD_CHECK);
}

#define MSG_LOAD_NOT_ALLOWED                                                                       \
	"Loading a microVM snapshot not allowed after configuring boot-specific resources."
/* What Firecracker answers for a snapshot of a VM that is not paused. */
#define MSG_CREATE_RUNNING                                                                         \
	"Create snapshot error: Cannot save the microVM state: Operation not allowed: "            \
	"save/restore unavailable while running"

enum api_result api_put_snapshot_create(struct api_req *r)
{
	char err[API_ERR_MAX];

	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_parse_snapshot_create(r->body, &r->cmd->snapshot_create, err, sizeof(err)))
		return api_bad(r, err);
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	if (r->st->vm_state != API_VM_PAUSED)
		return api_bad(r, MSG_CREATE_RUNNING);
	/* Without the dirty log a Diff would silently hold no pages at all. */
	if (r->cmd->snapshot_create.type == API_SNAPSHOT_DIFF &&
	    !r->st->cfg.machine.track_dirty_pages)
		return api_bad(r, "Diff snapshots are not allowed on uVMs with dirty page "
				  "tracking disabled.");
	return api_exec(r, API_CMD_SNAPSHOT_CREATE);
}

enum api_result api_put_snapshot_load(struct api_req *r)
{
	struct api_snapshot_load *l = &r->cmd->snapshot_load;
	char err[API_ERR_MAX];

	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_parse_snapshot_load(r->body, l, err, sizeof(err)))
		return api_bad(r, err);
	api_deprecated(r, "mem_file_path", "PUT", "/snapshot/load");
	api_deprecated(r, "enable_diff_snapshots", "PUT", "/snapshot/load");
	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	/* The snapshot defines the whole VM; mixing in earlier PUTs is ambiguous. */
	if (r->st->boot_configured)
		return api_bad(r, MSG_LOAD_NOT_ALLOWED);
	/* calloc, not api_config_init()'s memset: only the pages the VMM
	 * thread fills in get written (sparse.h says why). */
	l->restored = calloc(1, sizeof(*l->restored));
	if (!l->restored) {
		api_fault(r->resp, 500, "Out of memory.");
		return API_DONE;
	}
	api_config_defaults(l->restored);
	return api_exec(r, API_CMD_SNAPSHOT_LOAD);
}

/* A successful load: the VM is the snapshot's, with its configuration. */
void api_adopt_restored(struct api_state *st, const struct api_snapshot_load *l)
{
	if (l->restored) {
		sparse_copy(&st->cfg, l->restored, sizeof(st->cfg));
		/* Dirty tracking is the load request's choice, not the snapshot's. */
		st->cfg.machine.track_dirty_pages = l->track_dirty_pages;
	}
	st->boot_configured = true;
	st->vm_state = l->resume_vm ? API_VM_RUNNING : API_VM_PAUSED;
}
