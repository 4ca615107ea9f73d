// SPDX-License-Identifier: Apache-2.0
/*
 * API mode's snapshot and migration glue: PUT /snapshot/create and
 * /snapshot/load, and PUT /migration/receive and /migration/send, turned into
 * snapshot/'s requests (snap_load, snap_create, migrate_*).  A load and an
 * incoming migration both rebuild the VM's configuration from what they
 * restored (config_to_api) for GET /vm/config.  Runs on the VMM thread;
 * separate from api_mode.c, which runs the threads and the start.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>

#include "api_mode.h"
#include "sparse.h"
#include "fork_child.h"
#include "fork_pages.h"
#include "virtio_devs.h"

/* The configuration a restore rebuilt, for GET /vm/config and PATCH /drives. */
static void config_to_api(const struct vm_config *c, struct api_vm_config *a)
{
	a->machine.vcpu_count = c->vcpus;
	a->machine.mem_size_mib = c->mem_mib;
	a->machine.huge_pages = c->huge_2m ? API_HUGE_2M : API_HUGE_NONE;
	a->machine.cpu_template = c->cpu_static;
	a->has_cpu_config = c->cpu_tmpl != NULL;
	if (c->cpu_tmpl)
		a->cpu_config = *c->cpu_tmpl;
	api_devices_from_config(&c->devs, a);
}

/*
 * A restore's request from the API's (a load, a migration's overrides or a
 * fork child's), and a fresh config.  @cfg_used: m->cfg may hold a failed
 * start's or load's config; a fork child's m is fresh from calloc, and
 * reading its 68 KiB would only fault in 17 zero pages.
 */
static void restore_setup(struct api_mode *m, const struct api_snapshot_load *l, bool cfg_used,
			  struct snap_net_override *nets, struct snap_load_req *req)
{
	*req = (struct snap_load_req){
	    .state_path = l->snapshot_path,
	    .mem_path = l->mem_path,
	    .uffd = l->backend == API_MEM_UFFD,
	    .track_dirty_pages = l->track_dirty_pages,
	    .clock_realtime = l->clock_realtime,
	    .nets = nets,
	    .nr_nets = l->nr_net_overrides,
	    .vsock_uds = l->has_vsock_override ? l->vsock_uds_path : NULL,
	    .huge = l->huge_pages == 3	 ? SNAP_HUGE_2M
		    : l->huge_pages == 1 ? SNAP_HUGE_NONE
					 : SNAP_HUGE_SNAPSHOT,
	    .mem_fd = -1,
	};
	for (unsigned i = 0; i < l->nr_net_overrides && i < API_MAX_NETS; i++)
		nets[i] = (struct snap_net_override){
		    .iface_id = l->net_overrides[i].iface_id,
		    .host_dev_name = l->net_overrides[i].host_dev_name,
		};
	/* Field by field after a sparse zeroing: a compound literal would
	 * write all 68 KiB, which every clone would then keep. */
	if (cfg_used)
		sparse_zero(&m->cfg, sizeof(m->cfg));
	m->cfg.cmdline = "";
	m->cfg.console = CONSOLE_STDIO;
	m->cfg.log_level = m->cli->log_level;
	m->cfg.no_seccomp = m->cli->no_seccomp;
	m->cfg.allow_kvm_pvm = m->cli->allow_kvm_pvm;
	m->cfg.mmds = m->mmds;
}

/* A fork child's configuration, into its API server's fresh copy @a (api_server_opts). */
void api_snap_fork_config(const struct api_mode *m, struct api_vm_config *a)
{
	config_to_api(&m->cfg, a);
	a->serial = m->acfg.serial;
}

/* PUT /snapshot/load: a VM from a snapshot instead of InstanceStart. */
int api_snap_load(struct api_mode *m, const struct api_vm_config *acfg, struct api_snapshot_load *l,
		  char *err, size_t errlen)
{
	struct snap_net_override nets[API_MAX_NETS];
	struct snap_load_req req;
	char why[API_ERR_MAX];
	int r;

	if (m->vm_live || m->mig.lfd >= 0) {
		snprintf(err, errlen,
			 "Loading a microVM snapshot not allowed after the microVM "
			 "started.");
		return -EBUSY;
	}
	restore_setup(m, l, true, nets, &req);
	/* PUT /serial before the load applies to the restored VM, as in Firecracker. */
	m->acfg.serial = acfg->serial;
	api_mode_serial_to_config(&m->acfg.serial, &m->cfg);
	r = snap_load(&m->vm, &m->cfg, &m->rs, &req, m->start_us, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "Load snapshot error: %s", why);
		log_err("%s", err);
		return r;
	}
	if (l->restored) {
		config_to_api(&m->cfg, l->restored);
		l->restored->serial = acfg->serial;
	}
	if (!l->resume_vm)
		vcpus_start_paused(&m->vm);
	m->vm_live = true;
	/* Restoring parsed the state file into buffers now freed: give their
	 * pages back, as each of many clones would keep them otherwise. */
	malloc_trim(0);
	/*
	 * No transparent huge pages for this process from now on.  A restored
	 * guest's RAM never uses them (the memory file's private mapping,
	 * hugetlbfs, or userfaultfd-served), but with THP "always" khugepaged
	 * turns any 2 MiB-aligned stretch of ember's own anonymous memory with
	 * one page in use into a 2 MiB page: measured in L1, one clone's
	 * thread stack grew from 288 KiB to 2 MiB that way.  The seccomp
	 * filters are not on yet (vm_run installs them).  Best effort.
	 */
	(void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	log_info("restored %s (%s)", l->snapshot_path, l->resume_vm ? "running" : "paused");
	return 0;
}

int api_snap_create(struct api_mode *m, const struct api_snapshot_create *c, char *err,
		    size_t errlen)
{
	struct snap_create_req req = {
	    .diff = c->type == API_SNAPSHOT_DIFF,
	    .state_path = c->snapshot_path,
	    .mem_path = c->mem_file_path,
	};
	char why[API_ERR_MAX];
	int r;

	if (!m->vm_live) {
		snprintf(err, errlen, "Create snapshot error: the microVM is not running.");
		return -EINVAL;
	}
	r = snap_create(&m->vm, &m->rs, &req, why, sizeof(why));
	if (r) {
		snprintf(err, errlen, "Create snapshot error: %s", why);
		log_err("%s", err);
	}
	return r;
}

/* The source arrived (pre-start loop): the VM is built from its stream, or ember ends. */
static void on_migration(struct ev_handler *h, uint32_t events)
{
	struct api_mode *m = h->opaque;
	struct snap_net_override nets[API_MAX_NETS];
	struct snap_load_req req;
	char err[API_ERR_MAX];
	bool paused = false;

	(void)events;
	evloop_del(&m->pre, h);
	restore_setup(m, &m->mig_load, true, nets, &req);
	if (migrate_receive(&m->mig, &m->vm, &m->cfg, &m->rs, &req, m->start_us, &paused, err,
			    sizeof(err))) {
		log_err("migration: %s", err);
	} else {
		config_to_api(&m->cfg, m->mig_load.restored);
		if (paused)
			vcpus_start_paused(&m->vm);
		m->vm_live = true;
		/* After the config: the API thread reads it once it sees this. */
		atomic_store_explicit(&m->migration, paused ? API_MIG_PAUSED : API_MIG_RUNNING,
				      memory_order_release);
	}
	evloop_stop(&m->pre);
}

int api_snap_migrate_listen(struct api_mode *m, const struct api_migrate *mc, char *err,
			    size_t errlen)
{
	int r;

	if (m->vm_live || m->mig.lfd >= 0 || m->pre.epfd < 0) {
		snprintf(err, errlen, "A migration is already expected, or the microVM runs.");
		return -EBUSY;
	}
	r = migrate_listen(&m->mig, mc->url, err, errlen);
	if (r)
		return r;
	m->mig_load = mc->load;
	m->h_mig = (struct ev_handler){.fd = m->mig.lfd, .fn = on_migration, .opaque = m};
	r = evloop_add(&m->pre, &m->h_mig, EPOLLIN);
	if (r) {
		migrate_dest_close(&m->mig);
		snprintf(err, errlen, "cannot wait for the source: %s", strerror(-r));
	}
	return r;
}

/* Between the frames of a pre-copy: the devices' events (migrate.c says why). */
static void migration_step(void *ctx)
{
	struct api_mode *m = ctx;

	(void)evloop_poll(&m->vm.loop);
}

int api_snap_migrate_send(struct api_mode *m, const struct api_migrate *mc, char *err,
			  size_t errlen)
{
	struct migrate_send_req req = {.url = mc->url,
				       .max_downtime_ms = mc->max_downtime_ms,
				       .step = migration_step,
				       .ctx = m};
	char why[API_ERR_MAX];
	int r;

	if (!m->vm_live)
		return -EINVAL;
	/* Our own handler stays quiet while we poll: this command is still running. */
	evloop_mod(&m->vm.loop, &m->h_cmd, 0);
	r = migrate_send(&m->vm, &req, why, sizeof(why));
	evloop_mod(&m->vm.loop, &m->h_cmd, EPOLLIN);
	if (r) {
		snprintf(err, errlen, "Migration failed: %s", why);
		return r;
	}
	/* It runs there now: this ember ends, with 0. */
	vm_request_exit(&m->vm, EXIT_GUEST_OK);
	return 0;
}

/*
 * `ember fork-child` (fork.c has the whole protocol): the VM from the
 * parent's state and frozen RAM, as a restore with the child's overrides,
 * before the API socket exists, so GET / answers Running (or Paused) at once.
 */
int api_snap_fork_child(struct api_mode *m, char *err, size_t errlen)
{
	struct fork_child_in *in = m->cli->fork_in;
	struct snap_net_override nets[API_MAX_NETS];
	struct api_snapshot_load *l = calloc(1, sizeof(*l));
	struct snap_load_req req;
	int r;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->resume_vm = !in->msg.paused;
	for (unsigned i = 0; i < in->msg.nr_nets && i < API_MAX_NETS; i++) {
		snprintf(l->net_overrides[i].iface_id, sizeof(l->net_overrides[i].iface_id), "%s",
			 in->msg.nets[i].iface_id);
		snprintf(l->net_overrides[i].host_dev_name,
			 sizeof(l->net_overrides[i].host_dev_name), "%s",
			 in->msg.nets[i].host_dev_name);
		l->nr_net_overrides++;
	}
	l->has_vsock_override = in->msg.vsock_uds[0] != 0;
	snprintf(l->vsock_uds_path, sizeof(l->vsock_uds_path), "%s", in->msg.vsock_uds);
	restore_setup(m, l, false, nets, &req);
	req.img = &in->img;
	req.mem_fd = in->ram_fd;
	m->cfg.pre = &in->pre;
	snprintf(m->acfg.serial.serial_out_path, sizeof(m->acfg.serial.serial_out_path), "%s",
		 in->msg.serial_out_path);
	api_mode_serial_to_config(&m->acfg.serial, &m->cfg);
	r = snap_load(&m->vm, &m->cfg, &m->rs, &req, m->start_us, err, errlen);
	/* A parent forked before: its own pages over the base, before anything runs. */
	if (!r && in->msg.pages &&
	    (r = fork_pages_recv(in->ctl, &m->vm, in->msg.pages, err, errlen))) {
		vm_destroy(&m->vm);
		snap_restored_release(&m->rs);
	}
	if (!r) {
		/* m->acfg keeps only the console: api_snap_fork_config is the API's. */
		if (in->msg.paused)
			vcpus_start_paused(&m->vm);
		m->vm_live = true;
	}
	free(l);
	return r;
}
