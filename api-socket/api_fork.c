// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /vm/fork (issue 18), the API thread's side: the body, checked whole
 * before anything happens, and when a fork is allowed.  The fork itself is
 * vmm/fork.c's, on the VMM thread; the parent's state does not change (a
 * paused VM stays paused, a running one keeps running), so the completion
 * only frees the command.
 *
 *   {"children": [{"api_sock": "/run/c1.sock",
 *                  "serial_out_path": "/run/c1.console",        optional
 *                  "vsock_override": {"uds_path": "..."},       optional
 *                  "network_overrides": [{"iface_id": "eth0",   optional
 *                                         "host_dev_name": "tap1"}]}, ...]}
 */
#include <stdlib.h>
#include <string.h>

#include "api_route.h"
#include "api_schema.h"

enum { FC_SOCK, FC_SERIAL, FC_VSOCK, FC_NETS };

static const struct api_field api_fork_child_fields[] = {
    [FC_SOCK] = STR(struct api_fork_child, api_sock, .required = true, .nonempty = true),
    [FC_SERIAL] = STR(struct api_fork_child, serial_out_path, .nonempty = true),
    [FC_VSOCK] = {.name = "vsock_override", .type = AF_OBJECT, .off = AF_NO_DST},
    [FC_NETS] = {.name = "network_overrides", .type = AF_ARRAY, .off = AF_NO_DST},
};

static const struct api_field api_fork_fields[] = {
    {.name = "children", .type = AF_ARRAY, .required = true, .off = AF_NO_DST},
};

static int fork_child_parse(json_t *o, unsigned i, struct api_fork_child *c, char *err,
			    size_t errlen)
{
	char what[64];
	uint32_t seen = 0;

	snprintf(what, sizeof(what), "fork: children[%u]", i);
	if (api_json_obj(o, what, api_fork_child_fields, ARRAY_SIZE(api_fork_child_fields), false,
			 c, &seen, err, errlen))
		return -EINVAL;
	if ((seen & (1u << FC_NETS)) &&
	    api_parse_net_overrides(json_object_get(o, "network_overrides"), &c->ov, err, errlen))
		return -EINVAL;
	if (seen & (1u << FC_VSOCK)) {
		snprintf(what, sizeof(what), "fork: children[%u]: vsock_override", i);
		return api_parse_vsock_override(json_object_get(o, "vsock_override"), what, &c->ov,
						err, errlen);
	}
	return 0;
}

/* Two children on one socket, console or vsock path would fight over it. */
static int fork_distinct(const struct api_fork *f, char *err, size_t errlen)
{
	for (unsigned i = 0; i < f->nr; i++)
		for (unsigned j = 0; j < i; j++) {
			const struct api_fork_child *a = &f->child[i], *b = &f->child[j];

			if (!strcmp(a->api_sock, b->api_sock))
				return api_err(err, errlen,
					       "fork: children[%u] and [%u] have the same api_sock",
					       j, i);
			if (a->serial_out_path[0] &&
			    !strcmp(a->serial_out_path, b->serial_out_path))
				return api_err(err, errlen,
					       "fork: children[%u] and [%u] have the same "
					       "serial_out_path",
					       j, i);
			if (a->ov.has_vsock_override && b->ov.has_vsock_override &&
			    !strcmp(a->ov.vsock_uds_path, b->ov.vsock_uds_path))
				return api_err(err, errlen,
					       "fork: children[%u] and [%u] have the same vsock "
					       "uds_path",
					       j, i);
		}
	return 0;
}

static int fork_parse(json_t *body, struct api_fork *f, char *err, size_t errlen)
{
	json_t *arr, *o;
	size_t i;

	if (api_json_obj(body, "fork", api_fork_fields, ARRAY_SIZE(api_fork_fields), false, f, NULL,
			 err, errlen))
		return -EINVAL;
	arr = json_object_get(body, "children");
	if (json_array_size(arr) == 0 || json_array_size(arr) > API_FORK_MAX)
		return api_err(err, errlen, "fork: \"children\" must list 1 to %d children",
			       API_FORK_MAX);
	json_array_foreach(arr, i, o)
	{
		if (fork_child_parse(o, (unsigned)i, &f->child[i], err, errlen))
			return -EINVAL;
		f->nr++;
	}
	return fork_distinct(f, err, errlen);
}

/*
 * The vsock device binds its uds_path at a restore, replacing a socket
 * found there: a child on the parent's path would take it from the parent.
 */
static int fork_vsock_paths(const struct api_fork *f, const struct api_vsock *v, char *err,
			    size_t errlen)
{
	for (unsigned i = 0; v->set && i < f->nr; i++)
		if (!f->child[i].ov.has_vsock_override ||
		    !strcmp(f->child[i].ov.vsock_uds_path, v->uds_path))
			return api_err(err, errlen,
				       "fork: children[%u] needs a vsock_override with a uds_path "
				       "of its own (the microVM's %s stays the parent's)",
				       i, v->uds_path);
	return 0;
}

enum api_result api_put_vm_fork(struct api_req *r)
{
	struct api_fork *f = calloc(1, sizeof(*f));
	char err[API_ERR_MAX];

	memset(r->cmd, 0, sizeof(*r->cmd));
	if (!f) {
		api_fault(r->resp, 500, "Out of memory.");
		return API_DONE;
	}
	if (fork_parse(r->body, f, err, sizeof(err)) ||
	    fork_vsock_paths(f, &r->st->cfg.vsock, err, sizeof(err))) {
		free(f);
		return api_bad(r, err);
	}
	if (r->st->vm_state != API_VM_RUNNING && r->st->vm_state != API_VM_PAUSED) {
		free(f);
		return api_bad(r, "Only a running or paused microVM can be forked.");
	}
	r->cmd->fork = f;
	return api_exec(r, API_CMD_FORK);
}

void api_fork_complete(const struct api_cmd *cmd)
{
	free(cmd->fork);
}
