// SPDX-License-Identifier: Apache-2.0
/*
 * The router's device handlers: PUT and PATCH /drives, /network-interfaces
 * and /pmem, PUT /vsock, /entropy and /serial, /hotplug/memory, and the
 * /balloon wrapper (api_balloon.c does the work).  Before the start they edit
 * a copy of the configuration (api_next, api_check); after it a PATCH becomes
 * a command for the VMM thread.  Separate from api.c, which keeps the route
 * table, the VM-wide handlers and the dispatch, to keep both readable; the
 * route table reaches these through api_route.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_route.h"

static enum api_result api_id_mismatch(struct api_req *r, const char *field, const char *body_id)
{
	api_fault(r->resp, 400,
		  "The id from the path does not match the id from the body! Path \"%s\", "
		  "\"%s\" \"%s\".",
		  r->id, field, body_id);
	return API_DONE;
}

enum api_result api_put_drive(struct api_req *r)
{
	struct api_vm_config *next;
	struct api_drive d;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_parse_drive(r->body, &d, err, sizeof(err)))
		return api_bad(r, err);
	if (strcmp(d.drive_id, r->id))
		return api_id_mismatch(r, "drive_id", d.drive_id);
	next = api_next(r);
	if (next && api_drive_insert(next, &d, err, sizeof(err))) {
		free(next);
		return api_bad(r, err);
	}
	return next ? api_check(r, next, API_CHECK_DRIVE, d.drive_id) : API_DONE;
}

enum api_result api_patch_drive(struct api_req *r)
{
	struct api_drive_patch p;
	char err[API_ERR_MAX];
	int idx;

	if (api_parse_drive_patch(r->body, &p, err, sizeof(err)))
		return api_bad(r, err);
	if (strcmp(p.drive_id, r->id))
		return api_id_mismatch(r, "drive_id", p.drive_id);
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	idx = api_drive_find(&r->st->cfg, p.drive_id);
	if (idx < 0) {
		api_fault(r->resp, 400, "drive: no drive with \"drive_id\" \"%s\".", p.drive_id);
		return API_DONE;
	}
	if (!p.has_path && !p.rate_limiter.set)
		return api_bad(r,
			       "drive: the update changes nothing (path_on_host or rate_limiter).");
	memset(r->cmd, 0, sizeof(*r->cmd));
	r->cmd->drive.index = (unsigned)idx;
	memcpy(r->cmd->drive.drive_id, p.drive_id, sizeof(p.drive_id));
	memcpy(r->cmd->drive.path_on_host, p.path_on_host, sizeof(p.path_on_host));
	r->cmd->drive.has_path = p.has_path;
	r->cmd->drive.rate_limiter = p.rate_limiter;
	return api_exec(r, API_CMD_PATCH_DRIVE);
}

enum api_result api_put_net(struct api_req *r)
{
	struct api_vm_config *next;
	struct api_net n;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_parse_net(r->body, &n, err, sizeof(err)))
		return api_bad(r, err);
	if (strcmp(n.iface_id, r->id))
		return api_id_mismatch(r, "iface_id", n.iface_id);
	next = api_next(r);
	if (next && api_net_insert(next, &n, err, sizeof(err))) {
		free(next);
		return api_bad(r, err);
	}
	return next ? api_check(r, next, API_CHECK_NET, n.iface_id) : API_DONE;
}

/* The rate limiters are what a running VM's interface can change. */
enum api_result api_patch_net(struct api_req *r)
{
	struct api_net_patch p;
	char err[API_ERR_MAX];
	int idx;

	if (api_parse_net_patch(r->body, &p, err, sizeof(err)))
		return api_bad(r, err);
	if (strcmp(p.iface_id, r->id))
		return api_id_mismatch(r, "iface_id", p.iface_id);
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	idx = api_net_find(&r->st->cfg, p.iface_id);
	if (idx < 0) {
		api_fault(r->resp, 400, "network-interface: no interface with \"iface_id\" \"%s\".",
			  p.iface_id);
		return API_DONE;
	}
	if (!p.rx.set && !p.tx.set)
		return api_no_content(r);
	memset(r->cmd, 0, sizeof(*r->cmd));
	r->cmd->net.index = (unsigned)idx;
	memcpy(r->cmd->net.iface_id, p.iface_id, sizeof(p.iface_id));
	r->cmd->net.rx = p.rx;
	r->cmd->net.tx = p.tx;
	return api_exec(r, API_CMD_PATCH_NET);
}

enum api_result api_put_vsock(struct api_req *r)
{
	struct api_vm_config *next;
	struct api_vsock v;
	char err[API_ERR_MAX];

	if (api_parse_vsock(r->body, &v, err, sizeof(err)))
		return api_bad(r, err);
	api_deprecated(r, "vsock_id", "PUT", "/vsock");
	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	next = api_next(r);
	if (!next)
		return API_DONE;
	next->vsock = v;
	return api_check(r, next, API_CHECK_VSOCK, "vsock");
}

/* /balloon/...: api_balloon.c, with what follows "/balloon" in the path. */
enum api_result api_balloon(struct api_req *r)
{
	return api_balloon_handle(r->st, r->req->method, r->req->path + strlen("/balloon"), r->body,
				  r->resp, r->cmd);
}

enum api_result api_put_entropy(struct api_req *r)
{
	struct api_vm_config *next;
	struct api_entropy e;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_parse_entropy(r->body, &e, err, sizeof(err)))
		return api_bad(r, err);
	next = api_next(r);
	if (!next)
		return API_DONE;
	next->entropy = e;
	return api_check(r, next, API_CHECK_DEVICES, "");
}

/* Read at InstanceStart or a snapshot load: not a boot resource (api_serial.c). */
enum api_result api_put_serial(struct api_req *r)
{
	struct api_serial s;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_parse_serial(r->body, &s, err, sizeof(err)))
		return api_bad(r, err);
	r->st->cfg.serial = s;
	return api_no_content(r);
}

enum api_result api_put_pmem(struct api_req *r)
{
	struct api_vm_config *next;
	struct api_pmem p;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_parse_pmem(r->body, &p, err, sizeof(err)))
		return api_bad(r, err);
	if (strcmp(p.id, r->id))
		return api_id_mismatch(r, "id", p.id);
	next = api_next(r);
	if (!next)
		return API_DONE;
	if (api_pmem_insert(next, &p, err, sizeof(err))) {
		free(next);
		return api_bad(r, err);
	}
	/* The file opens now, as a drive's: a FIFO or a directory is a 400 here, not at start. */
	return api_check(r, next, API_CHECK_PMEM, p.id);
}

/* The rate limiter is what a running VM's pmem device can change. */
enum api_result api_patch_pmem(struct api_req *r)
{
	char err[API_ERR_MAX];
	int idx;

	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_parse_pmem_patch(r->body, r->cmd->pmem.id, &r->cmd->pmem.rate_limiter, err,
				 sizeof(err)))
		return api_bad(r, err);
	if (strcmp(r->cmd->pmem.id, r->id))
		return api_id_mismatch(r, "id", r->cmd->pmem.id);
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	idx = api_pmem_find(&r->st->cfg, r->cmd->pmem.id);
	if (idx < 0) {
		api_fault(r->resp, 400, "pmem: no pmem device with \"id\" \"%s\".", r->id);
		return API_DONE;
	}
	if (!r->cmd->pmem.rate_limiter.set)
		return api_no_content(r);
	r->cmd->pmem.index = (unsigned)idx;
	return api_exec(r, API_CMD_PATCH_PMEM);
}

/* Memory hotplug: configured before the start, sized and watched after it. */
enum api_result api_put_hotplug(struct api_req *r)
{
	struct api_hotplug h;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_config_hotplug(r->body, &h, err, sizeof(err)))
		return api_bad(r, err);
	r->st->cfg.hotplug = h;
	r->st->boot_configured = true;
	return api_no_content(r);
}

enum api_result api_patch_hotplug(struct api_req *r)
{
	char err[API_ERR_MAX];

	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_parse_hotplug_patch(r->body, &r->cmd->hotplug.requested_mib, err, sizeof(err)))
		return api_bad(r, err);
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	if (!r->st->cfg.hotplug.set)
		return api_bad(r, "Memory hotplug is not configured.");
	return api_exec(r, API_CMD_HOTPLUG_PATCH);
}

enum api_result api_get_hotplug(struct api_req *r)
{
	if (!r->st->cfg.hotplug.set)
		return api_bad(r, "Memory hotplug is not configured.");
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	memset(r->cmd, 0, sizeof(*r->cmd));
	return api_exec(r, API_CMD_HOTPLUG_GET);
}
