// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /migration/receive and PUT /migration/send (issue 17), the API
 * thread's side: the bodies, when each is allowed, and the state GET /
 * shows.  The work is snapshot/migrate.c's, on the VMM thread.
 *
 * A receive answers 204 once the destination listens; the VM arrives later,
 * while this thread keeps serving (GET / says "Migrating").  The VMM thread
 * then fills st->mig_restored and stores the outcome in *st->migration
 * with release order; every request first adopts it (api_migration_sync).
 */
#include <stdlib.h>
#include <string.h>

#include "api_route.h"
#include "api_schema.h"
#include "sparse.h"

enum { MF_URL, MF_DOWNTIME, MF_NETS, MF_VSOCK };

static const struct api_field api_migrate_send_fields[] = {
    [MF_URL] = STR(struct api_migrate, url, .required = true, .nonempty = true),
    [MF_DOWNTIME] = {.name = "max_downtime_ms",
		     .type = AF_U32,
		     .off = offsetof(struct api_migrate, max_downtime_ms),
		     .min = 1,
		     .max = 60000},
};

static const struct api_field api_migrate_recv_fields[] = {
    [MF_URL] = STR(struct api_migrate, url, .required = true, .nonempty = true),
    [MF_DOWNTIME] = NOTSUP("max_downtime_ms"),
    [MF_NETS] = {.name = "network_overrides", .type = AF_ARRAY, .off = AF_NO_DST},
    [MF_VSOCK] = {.name = "vsock_override", .type = AF_OBJECT, .off = AF_NO_DST},
};

/* "unix:/path" or "tcp:HOST:PORT"; the VMM thread resolves and checks the rest. */
static int api_migrate_url(const char *url, char *err, size_t errlen)
{
	if (!strncmp(url, "unix:", 5) && url[5] && strlen(url + 5) < API_UDS_PATH_MAX)
		return 0;
	if (!strncmp(url, "tcp:", 4) && strrchr(url + 4, ':'))
		return 0;
	return api_err(err, errlen,
		       "migration: \"url\" must be \"unix:/path\" (shorter than %d bytes) or "
		       "\"tcp:ADDRESS:PORT\".",
		       API_UDS_PATH_MAX);
}

enum api_result api_put_migration_receive(struct api_req *r)
{
	struct api_migrate *m = &r->cmd->migrate;
	char err[API_ERR_MAX];
	uint32_t seen = 0;

	memset(r->cmd, 0, sizeof(*r->cmd));
	if (api_json_obj(r->body, "migration-receive", api_migrate_recv_fields,
			 ARRAY_SIZE(api_migrate_recv_fields), false, m, &seen, err, sizeof(err)) ||
	    api_migrate_url(m->url, err, sizeof(err)) ||
	    ((seen & (1u << MF_NETS)) &&
	     api_parse_net_overrides(json_object_get(r->body, "network_overrides"), &m->load, err,
				     sizeof(err))) ||
	    ((seen & (1u << MF_VSOCK)) &&
	     api_parse_vsock_override(json_object_get(r->body, "vsock_override"),
				      "migration-receive: vsock_override", &m->load, err,
				      sizeof(err))))
		return api_bad(r, err);
	if (!api_preboot(r) || r->st->boot_configured || !r->st->migration)
		return api_bad(r, "A migration can only be received by a fresh ember, with nothing "
				  "configured but the logger and metrics.");
	m->load.restored = malloc(sizeof(*m->load.restored));
	if (!m->load.restored) {
		api_fault(r->resp, 500, "Out of memory.");
		return API_DONE;
	}
	api_config_init(m->load.restored);
	return api_exec(r, API_CMD_MIGRATE_RECV);
}

/*
 * The MMDS data store is the API's, not the VM's: like a snapshot, the
 * stream does not carry it.  Rather than let the guest find its metadata
 * gone at the destination, a VM whose store holds data is not sent.
 */
static bool api_migrate_mmds_held(struct mmds *mm)
{
	char *doc = mm ? mmds_get(mm) : NULL;
	bool held = mm && (!doc || strcmp(doc, "{}"));

	free(doc);
	return held;
}

enum api_result api_put_migration_send(struct api_req *r)
{
	struct api_migrate *m = &r->cmd->migrate;
	char err[API_ERR_MAX];

	memset(r->cmd, 0, sizeof(*r->cmd));
	m->max_downtime_ms = 300;
	if (api_json_obj(r->body, "migration-send", api_migrate_send_fields,
			 ARRAY_SIZE(api_migrate_send_fields), false, m, NULL, err, sizeof(err)) ||
	    api_migrate_url(m->url, err, sizeof(err)))
		return api_bad(r, err);
	if (r->st->vm_state != API_VM_RUNNING && r->st->vm_state != API_VM_PAUSED)
		return api_bad(r, "Only a running or paused microVM can be migrated.");
	if (api_migrate_mmds_held(r->st->mmds))
		return api_bad(r, "The MMDS data store is not migrated yet: put the data into the "
				  "destination's (PUT /mmds before /migration/receive), empty this "
				  "one (PUT /mmds {}), then migrate.");
	return api_exec(r, API_CMD_MIGRATE_SEND);
}

void api_migration_complete(struct api_state *st, const struct api_cmd *cmd, int result)
{
	if (cmd->kind == API_CMD_MIGRATE_SEND)
		return; /* the source ends after a success; a failure changes nothing */
	if (result) {
		free(cmd->migrate.load.restored);
		return;
	}
	/* The VMM thread fills it when the VM arrives; we free it after adopting it. */
	st->mig_restored = cmd->migrate.load.restored;
	st->vm_state = API_VM_MIGRATING;
	st->boot_configured = true;
}

void api_migration_sync(struct api_state *st)
{
	int v;

	if (st->vm_state != API_VM_MIGRATING || !st->migration)
		return;
	v = atomic_load_explicit(st->migration, memory_order_acquire);
	if (v == API_MIG_PENDING)
		return;
	/* Only the pages that change: a struct copy would write all ~164 KiB (sparse.h). */
	sparse_copy(&st->cfg, st->mig_restored, sizeof(st->cfg));
	free(st->mig_restored);
	st->mig_restored = NULL;
	st->vm_state = v == API_MIG_PAUSED ? API_VM_PAUSED : API_VM_RUNNING;
}
