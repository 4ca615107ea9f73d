// SPDX-License-Identifier: Apache-2.0
/*
 * The router: (method, path, body) -> an immediate response or a command
 * for the VMM thread.  Status codes and messages follow Firecracker (204 for
 * a successful PUT/PATCH, 200 with a body for GET, 400 with fault_message
 * for every refusal), because control planes match on them.
 *
 * Pre-boot requests only edit st->cfg, which the VMM reads at InstanceStart;
 * everything that needs the running VM is a command, and st changes only in
 * api_complete() once the VMM thread reports success.  A refused request
 * leaves st untouched: each handler validates into a temporary and commits
 * last.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_cpu.h"
#include "api_route.h"
#include "api_mmds.h"
#include "sparse.h"

typedef enum api_result (*api_handler)(struct api_req *r);

struct api_route {
	const char *seg;    /* first path segment */
	const char *sub;    /* fixed second segment, or NULL */
	bool has_id;	    /* second segment is a resource id */
	bool any_sub;	    /* any deeper path: the handler reads req->path (balloon) */
	bool body_optional; /* PUT/PATCH without a body reach the handler */
	api_handler get, put, patch;
};

const char *api_vm_state_name(enum api_vm_state s)
{
	static const char *const names[] = {
	    [API_VM_NOT_STARTED] = "Not started",
	    [API_VM_RUNNING] = "Running",
	    [API_VM_PAUSED] = "Paused",
	    [API_VM_MIGRATING] = "Migrating",
	};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "Unknown";
}

int api_state_init(struct api_state *st, const char *id)
{
	memset(st, 0, sizeof(*st));
	return api_state_init_zeroed(st, id);
}

/*
 * For a state from calloc: the struct is some 160 KiB (16 drives with their
 * paths), and clearing it again would fault in every page of it before the
 * API socket is ready; untouched, its pages come in as requests fill them.
 */
int api_state_init_zeroed(struct api_state *st, const char *id)
{
	size_t len;

	if (!id)
		id = API_DEFAULT_ID;
	len = strlen(id);
	if (len == 0 || len >= API_ID_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!(id[i] == '-' || (id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')))
			return -EINVAL;
	memcpy(st->id, id, len + 1);
	st->vm_state = API_VM_NOT_STARTED;
	api_config_defaults(&st->cfg);
	return 0;
}

void api_response_free(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}

void api_fault(struct api_response *resp, int status, const char *fmt, ...)
{
	char msg[API_ERR_MAX + 64];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages may quote client bytes (jansson's "near" text): keep them
	 * printable ASCII so the body is always valid JSON. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	resp->status = status;
	o = json_pack("{s:s}", "fault_message", msg);
	resp->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
}

static enum api_result api_ok_json(struct api_req *r, json_t *o)
{
	r->resp->status = 200;
	r->resp->body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!r->resp->body)
		api_fault(r->resp, 500, "Out of memory.");
	return API_DONE;
}

enum api_result api_no_content(struct api_req *r)
{
	r->resp->status = 204;
	r->resp->body = NULL;
	return API_DONE;
}

enum api_result api_bad(struct api_req *r, const char *msg)
{
	api_fault(r->resp, 400, "%s", msg);
	return API_DONE;
}

enum api_result api_exec(struct api_req *r, enum api_cmd_kind kind)
{
	r->cmd->kind = kind;
	r->cmd->cfg = &r->st->cfg;
	return API_EXEC;
}

void api_deprecated(struct api_req *r, const char *field, const char *method, const char *path)
{
	json_t *v = json_object_get(r->body, field);

	if (!v || json_is_null(v) || json_is_false(v))
		return;
	r->resp->deprecated = true;
	log_warn("%s %s: %s field is deprecated.", method, path, field);
}

bool api_preboot(struct api_req *r)
{
	return r->st->vm_state == API_VM_NOT_STARTED;
}

/* ---- GET ---------------------------------------------------------------- */

static enum api_result api_get_info(struct api_req *r)
{
	return api_ok_json(r, json_pack("{s:s, s:s, s:s, s:s}", "id", r->st->id, "state",
					api_vm_state_name(r->st->vm_state), "vmm_version",
					EMBER_FC_VERSION, "app_name", API_APP_NAME));
}

static enum api_result api_get_version(struct api_req *r)
{
	return api_ok_json(r, json_pack("{s:s}", "firecracker_version", EMBER_FC_VERSION));
}

static enum api_result api_get_vm_config(struct api_req *r)
{
	char *s = api_mmds_vm_config(r->st->mmds, api_config_to_json(&r->st->cfg));

	if (!s) {
		api_fault(r->resp, 500, "Out of memory.");
		return API_DONE;
	}
	r->resp->status = 200;
	r->resp->body = s;
	return API_DONE;
}

static enum api_result api_get_machine(struct api_req *r)
{
	return api_ok_json(r, api_json_machine_config(&r->st->cfg.machine));
}

/* ---- pre-boot configuration --------------------------------------------- */

static enum api_result api_put_boot_source(struct api_req *r)
{
	struct api_vm_config *next;
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	next = api_next(r);
	if (!next)
		return API_DONE;
	if (api_parse_boot_source(r->body, &next->boot, err, sizeof(err))) {
		free(next);
		return api_bad(r, err);
	}
	return api_check(r, next, API_CHECK_BOOT, "");
}

static enum api_result api_machine(struct api_req *r, bool partial)
{
	struct api_machine_config m = r->st->cfg.machine;
	char err[API_ERR_MAX];

	/* Parsed first, as Firecracker does, so the Deprecation header comes with
	 * a refusal after the start too. */
	if (api_parse_machine_config(r->body, partial, &m, err, sizeof(err)))
		return api_bad(r, err);
	api_deprecated(r, "cpu_template", partial ? "PATCH" : "PUT", "/machine-config");
	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (m.cpu_template_given) /* one template at a time, as in Firecracker */
		r->st->cfg.has_cpu_config = false;
	/* Firecracker: the balloon's target must still fit. */
	if (r->st->cfg.balloon.set && m.mem_size_mib < r->st->cfg.balloon.amount_mib)
		return api_bad(r, "The memory size (MiB) is smaller than the previously set "
				  "balloon device target size.");
	r->st->cfg.machine = m;
	r->st->boot_configured = true;
	return api_no_content(r);
}

/* PUT /cpu-config: a custom template replaces a static one (api_cpu.c). */
static enum api_result api_put_cpu_config(struct api_req *r)
{
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (api_parse_cpu_config(r->body, &r->st->cfg.cpu_config, err, sizeof(err)))
		return api_bad(r, err);
	r->st->cfg.has_cpu_config = true;
	r->st->cfg.machine.cpu_template = CPUT_NONE;
	r->st->boot_configured = true;
	return api_no_content(r);
}

static enum api_result api_put_machine(struct api_req *r)
{
	return api_machine(r, false);
}

static enum api_result api_patch_machine(struct api_req *r)
{
	return api_machine(r, true);
}

/* Logger and metrics open files, which is the VMM thread's business. */
static enum api_result api_put_logger(struct api_req *r)
{
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_parse_logger(r->body, &r->cmd->logger, err, sizeof(err)))
		return api_bad(r, err);
	return api_exec(r, API_CMD_LOGGER);
}

static enum api_result api_put_metrics(struct api_req *r)
{
	char err[API_ERR_MAX];

	if (!api_preboot(r))
		return api_bad(r, MSG_AFTER_START);
	if (r->st->cfg.metrics.set)
		return api_bad(r, "Reinitialization of metrics not allowed.");
	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_parse_metrics(r->body, &r->cmd->metrics, err, sizeof(err)))
		return api_bad(r, err);
	return api_exec(r, API_CMD_METRICS);
}

/* ---- runtime ------------------------------------------------------------ */

static enum api_result api_put_actions(struct api_req *r)
{
	enum api_cmd_kind kind;
	char err[API_ERR_MAX];

	if (api_parse_action(r->body, &kind, err, sizeof(err)))
		return api_bad(r, err);
	memset(r->cmd, 0, sizeof(*r->cmd));
	switch (kind) {
	case API_CMD_START:
		if (!api_preboot(r))
			return api_bad(r, MSG_AFTER_START);
		if (!r->st->cfg.boot.set)
			return api_bad(r, "Cannot start microvm without kernel configuration.");
		break;
	case API_CMD_CTRL_ALT_DEL:
	case API_CMD_FLUSH_METRICS: /* Firecracker flushes a running VM's metrics only */
		if (api_preboot(r))
			return api_bad(r, MSG_BEFORE_START);
		break;
	default:
		break;
	}
	return api_exec(r, kind);
}

static enum api_result api_patch_vm(struct api_req *r)
{
	char err[API_ERR_MAX];
	bool pause;

	if (api_parse_vm_state(r->body, &pause, err, sizeof(err)))
		return api_bad(r, err);
	if (api_preboot(r))
		return api_bad(r, MSG_BEFORE_START);
	if (pause == (r->st->vm_state == API_VM_PAUSED))
		return api_no_content(r); /* already there: idempotent */
	memset(r->cmd, 0, sizeof(*r->cmd));
	return api_exec(r, pause ? API_CMD_PAUSE : API_CMD_RESUME);
}

/* ---- MMDS (api_mmds.c) --------------------------------------------------- */

static enum api_result api_get_mmds(struct api_req *r)
{
	api_mmds_get(r->st, r->resp);
	return API_DONE;
}

static enum api_result api_put_mmds(struct api_req *r)
{
	api_mmds_put(r->st, r->body, r->resp);
	return API_DONE;
}

static enum api_result api_patch_mmds(struct api_req *r)
{
	api_mmds_patch(r->st, r->body, r->resp);
	return API_DONE;
}

static enum api_result api_put_mmds_config(struct api_req *r)
{
	api_mmds_put_config(r->st, r->body, r->resp);
	return API_DONE;
}

/* ---- routing ------------------------------------------------------------ */

static const struct api_route api_routes[] = {
    {.seg = "", .get = api_get_info},
    {.seg = "version", .get = api_get_version},
    {.seg = "vm", .sub = "config", .get = api_get_vm_config},
    {.seg = "vm", .sub = "fork", .put = api_put_vm_fork},
    {.seg = "vm", .patch = api_patch_vm},
    {.seg = "actions", .put = api_put_actions},
    {.seg = "boot-source", .put = api_put_boot_source},
    {.seg = "machine-config",
     .get = api_get_machine,
     .put = api_put_machine,
     .patch = api_patch_machine},
    {.seg = "drives", .has_id = true, .put = api_put_drive, .patch = api_patch_drive},
    {.seg = "network-interfaces", .has_id = true, .put = api_put_net, .patch = api_patch_net},
    {.seg = "vsock", .put = api_put_vsock},
    {.seg = "logger", .put = api_put_logger},
    {.seg = "metrics", .put = api_put_metrics},
    {.seg = "snapshot", .sub = "create", .put = api_put_snapshot_create},
    {.seg = "snapshot", .sub = "load", .put = api_put_snapshot_load},
    {.seg = "migration", .sub = "receive", .put = api_put_migration_receive},
    {.seg = "migration", .sub = "send", .put = api_put_migration_send},
    {.seg = "balloon",
     .any_sub = true,
     .body_optional = true,
     .get = api_balloon,
     .put = api_balloon,
     .patch = api_balloon},
    {.seg = "entropy", .put = api_put_entropy},
    {.seg = "mmds", .get = api_get_mmds, .put = api_put_mmds, .patch = api_patch_mmds},
    {.seg = "mmds", .sub = "config", .put = api_put_mmds_config},
    {.seg = "cpu-config", .put = api_put_cpu_config},
    {.seg = "pmem", .has_id = true, .put = api_put_pmem, .patch = api_patch_pmem},
    {.seg = "serial", .put = api_put_serial},
    {.seg = "hotplug",
     .sub = "memory",
     .get = api_get_hotplug,
     .put = api_put_hotplug,
     .patch = api_patch_hotplug},
};

/*
 * Splits "/a/b" into "a" and "b" (at most two segments; one trailing slash
 * is tolerated as Firecracker does).  Returns false for anything else.
 */
static bool api_split(const char *path, char *seg, char *sub, size_t size, bool *deeper)
{
	const char *p = path + 1, *slash;
	size_t n;

	*deeper = false;
	seg[0] = sub[0] = '\0';
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n >= size || (slash && n == 0))
		return false;
	memcpy(seg, p, n);
	seg[n] = '\0';
	if (!slash || !slash[1])
		return true;
	p = slash + 1;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n >= size || n == 0)
		return false;
	memcpy(sub, p, n);
	sub[n] = '\0';
	*deeper = slash && slash[1];
	return true;
}

static const struct api_route *api_lookup(const char *seg, const char *sub, bool deeper,
					  bool *bad_id)
{
	*bad_id = false;
	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++) {
		const struct api_route *rt = &api_routes[i];

		if (strcmp(rt->seg, seg))
			continue;
		if (rt->any_sub)
			return rt;
		if (deeper)
			continue;
		if (rt->has_id) {
			*bad_id = !sub[0];
			return rt;
		}
		if (rt->sub ? !strcmp(rt->sub, sub) : !sub[0])
			return rt;
	}
	return NULL;
}

enum api_result api_handle(struct api_state *st, const struct http_request *req,
			   struct api_response *resp, struct api_cmd *cmd)
{
	char seg[HTTP_MAX_PATH + 1], sub[HTTP_MAX_PATH + 1], err[API_ERR_MAX];
	const char *mname = http_method_name(req->method);
	const struct api_route *rt = NULL;
	struct api_req r = {.st = st, .req = req, .resp = resp, .cmd = cmd};
	api_handler h = NULL;
	enum api_result res;
	json_error_t jerr;
	bool deeper, bad_id = false;

	resp->status = 500;
	resp->body = NULL;
	resp->deprecated = false;
	cmd->kind = API_CMD_NONE;
	api_migration_sync(st);
	if (api_split(req->path, seg, sub, sizeof(seg), &deeper))
		rt = api_lookup(seg, sub, deeper, &bad_id);
	if (rt)
		h = req->method == HTTP_GET   ? rt->get
		    : req->method == HTTP_PUT ? rt->put
					      : rt->patch;
	if (!h) {
		api_fault(resp, 400, "Invalid request method and/or path: %s %.200s.", mname,
			  req->path + 1);
		return API_DONE;
	}
	if (req->method == HTTP_GET && req->body) {
		api_fault(resp, 400, "GET request cannot have a body.");
		return API_DONE;
	}
	if (req->method != HTTP_GET && !req->body && !rt->body_optional) {
		api_fault(resp, 400, "Empty %s request.", mname);
		return API_DONE;
	}
	if (rt->has_id) {
		if (bad_id)
			snprintf(err, sizeof(err), "%.64s: The ID cannot be empty.", seg);
		if (bad_id || api_check_id(seg, sub, err, sizeof(err))) {
			api_fault(resp, 400, "%s", err);
			return API_DONE;
		}
		r.id = sub;
	}
	if (req->body) {
		r.body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!r.body) {
			api_fault(resp, 400,
				  "An error occurred when deserializing the json body of a "
				  "request: %s at line %d column %d.",
				  jerr.text, jerr.line, jerr.column);
			return API_DONE;
		}
	}
	res = h(&r);
	json_decref(r.body);
	return res;
}

void api_complete(struct api_state *st, const struct api_cmd *cmd, int result, const char *errmsg,
		  struct api_response *resp)
{
	api_response_free(resp);
	if (cmd->kind == API_CMD_SNAPSHOT_LOAD && result == 0)
		api_adopt_restored(st, &cmd->snapshot_load);
	if (cmd->kind == API_CMD_SNAPSHOT_LOAD)
		free(cmd->snapshot_load.restored); /* the command owns it, success or not */
	if (cmd->kind == API_CMD_CHECK && result == 0 && cmd->check.next) {
		sparse_copy(&st->cfg, cmd->check.next, sizeof(st->cfg)); /* sparse.h */
		st->boot_configured = true;
	}
	if (cmd->kind == API_CMD_CHECK)
		free(cmd->check.next);
	if (cmd->kind == API_CMD_MIGRATE_RECV || cmd->kind == API_CMD_MIGRATE_SEND)
		api_migration_complete(st, cmd, result);
	if (cmd->kind == API_CMD_FORK)
		api_fork_complete(cmd);
	if (result) {
		if (errmsg && errmsg[0])
			api_fault(resp, 400, "%s", errmsg);
		else
			api_fault(resp, 400, "The VMM failed to execute the request: %s.",
				  strerror(result < 0 ? -result : result));
		return;
	}
	if (api_balloon_complete(st, cmd, resp))
		return;
	switch (cmd->kind) {
	case API_CMD_START:
	case API_CMD_RESUME:
		st->vm_state = API_VM_RUNNING;
		break;
	case API_CMD_PAUSE:
		st->vm_state = API_VM_PAUSED;
		break;
	case API_CMD_PATCH_DRIVE:
		if (cmd->drive.index < st->cfg.nr_drives &&
		    !strcmp(st->cfg.drives[cmd->drive.index].drive_id, cmd->drive.drive_id)) {
			struct api_drive *d = &st->cfg.drives[cmd->drive.index];

			if (cmd->drive.has_path)
				memcpy(d->path_on_host, cmd->drive.path_on_host, API_PATH_MAX);
			if (cmd->drive.rate_limiter.set)
				d->rate_limiter = cmd->drive.rate_limiter;
		}
		break;
	case API_CMD_PATCH_NET:
		if (cmd->net.index < st->cfg.nr_nets &&
		    !strcmp(st->cfg.nets[cmd->net.index].iface_id, cmd->net.iface_id)) {
			struct api_net *n = &st->cfg.nets[cmd->net.index];

			if (cmd->net.rx.set)
				n->rx_rate_limiter = cmd->net.rx;
			if (cmd->net.tx.set)
				n->tx_rate_limiter = cmd->net.tx;
		}
		break;
	case API_CMD_LOGGER:
		st->cfg.logger = cmd->logger;
		break;
	case API_CMD_METRICS:
		st->cfg.metrics = cmd->metrics;
		break;
	case API_CMD_PATCH_PMEM:
		if (cmd->pmem.index < st->cfg.nr_pmem &&
		    !strcmp(st->cfg.pmem[cmd->pmem.index].id, cmd->pmem.id))
			st->cfg.pmem[cmd->pmem.index].rate_limiter = cmd->pmem.rate_limiter;
		break;
	case API_CMD_HOTPLUG_GET:
		resp->status = 200;
		resp->body = strdup(cmd->hotplug.body);
		if (!resp->body)
			api_fault(resp, 500, "Out of memory.");
		return;
	default:
		break;
	}
	resp->status = 204;
	resp->body = NULL;
}
