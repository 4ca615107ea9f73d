// SPDX-License-Identifier: Apache-2.0
/*
 * The VMM side of API mode, private to vmm/api_mode.c, vmm/api_cmds.c and
 * vmm/api_snap.c: nothing else includes it.  api_mode.c runs the threads and
 * the command queue; the commands that act on the live devices and those that
 * save, load or migrate the VM live in the other two files, so that each stays
 * readable.  All of them run on the VMM thread (api_mode.c's exec_cmd).
 */
#ifndef EMBER_API_MODE_H
#define EMBER_API_MODE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "cmdq.h"
#include "launch.h"
#include "migrate.h"
#include "server.h"
#include "snapshot.h"
#include "spawn.h"

struct api_mode {
	const struct vm_config *cli;
	uint64_t start_us;
	struct api_vm_config acfg; /* the configuration InstanceStart used */
	struct vm_config cfg;	   /* built from acfg; points into it */
	struct vm vm;
	bool vm_live;
	struct snap_restored rs; /* how vm was restored, if it was */
	struct cmdq q;
	struct api_server *srv;
	struct mmds *mmds; /* MMDS: written by the API thread, read by the NICs here */
	struct evloop pre; /* before InstanceStart */
	struct ev_handler h_cmd;
	struct ev_handler h_metrics; /* the periodic flush, fd -1 until the VM runs */
	int metrics_fd;
	struct api_metrics metrics;	     /* emit_id and properties for each line */
	uint64_t startup_us, startup_cpu_us; /* VMM thread, when the API socket is ready */
	/* Counted on the API thread; latency from request parsed to response sent. */
	atomic_ulong api_requests, api_errors, api_latency_us_sum, api_latency_us_max;
	/* PUT /migration/receive: listening on the pre-start loop until the source comes. */
	struct migrate_dest mig;
	struct ev_handler h_mig;
	struct api_snapshot_load mig_load; /* its overrides; .restored goes to the API thread */
	atomic_int migration;		   /* api_state.migration */
	struct spawner spawner;		   /* live fork's process starter (spawn.h), or none */
	/* --fork-pool: children started ahead, each waiting on its control socket (fork.c). */
	int fork_pool[CONFIG_FORK_POOL_MAX];
	unsigned fork_pool_nr;
	unsigned fork_pool_told; /* the first ones, told our machine ('P', fork_msg.h) */
	/* A fork answered but not finished: what fork_finish does after the reply. */
	struct {
		bool pending, resume;
		unsigned nr;
		uint64_t t0, pages;
	} fork_post;
};

/* PUT /serial's stream and rate into @c (api_mode.c; a snapshot load applies it too). */
void api_mode_serial_to_config(const struct api_serial *s, struct vm_config *c);

/* api_cmds.c: PATCH and balloon/hotplug commands on the running VM's devices. */
int api_cmds_patch_drive(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen);
int api_cmds_patch_net(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen);
int api_cmds_balloon(struct api_mode *m, struct api_cmd *cmd, char *err, size_t errlen);
int api_cmds_patch_pmem(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen);
int api_cmds_hotplug(struct api_mode *m, struct api_cmd *cmd, char *err, size_t errlen);

/* api_snap.c: PUT /snapshot/{create,load} and /migration/{receive,send}. */
int api_snap_load(struct api_mode *m, const struct api_vm_config *acfg, struct api_snapshot_load *l,
		  char *err, size_t errlen);
int api_snap_create(struct api_mode *m, const struct api_snapshot_create *c, char *err,
		    size_t errlen);
int api_snap_migrate_listen(struct api_mode *m, const struct api_migrate *mc, char *err,
			    size_t errlen);
int api_snap_migrate_send(struct api_mode *m, const struct api_migrate *mc, char *err,
			  size_t errlen);

/* api_snap.c: a live fork's child builds its VM from the parent's request; its API's config. */
int api_snap_fork_child(struct api_mode *m, char *err, size_t errlen);
void api_snap_fork_config(const struct api_mode *m, struct api_vm_config *a);
/* fork.c: PUT /vm/fork; then, once its reply is on its way, fork_finish. */
int fork_run(struct api_mode *m, const struct api_fork *f, char *err, size_t errlen);
void fork_finish(struct api_mode *m);
/* fork.c: --fork-pool: start children up to the pool's size; release them all. */
void fork_pool_fill(struct api_mode *m);
void fork_pool_drain(struct api_mode *m);

#endif
