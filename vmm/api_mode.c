// SPDX-License-Identifier: Apache-2.0
/*
 * Firecracker's way of driving ember: `--api-sock PATH` serves the REST API
 * (api-socket/) on its own thread; `--config-file FILE` starts the VM from
 * the JSON of GET /vm/config, with or without the API (`--no-api`).
 *
 * Threads, as in Firecracker: the API thread parses, validates and keeps the
 * pre-boot configuration; whatever needs the VM becomes a struct api_cmd
 * handed over a cmdq to this (the VMM) thread, whose epoll loop runs it
 * between device events.  Before InstanceStart the loop is a small one of
 * our own; from then on the command queue sits on the VM's loop.  When the
 * guest ends, ember ends, with vm_run()'s exit code.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sys/timerfd.h>

#include "api.h"
#include "cmdq.h"
#include "launch.h"
#include "limiter.h"
#include "metrics.h"
#include "migrate.h"
#include "mmds_store.h"
#include "seccomp.h"
#include "server.h"
#include "snapshot.h"
#include "virtio_devs.h"

#define METRICS_PERIOD_S 60

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
};

/* PUT /serial: the output stream and its rate limit (bytes). */
static void serial_to_config(const struct api_serial *s, struct vm_config *c)
{
	struct api_rate_limiter rl = {.set = true, .bandwidth = s->rate_limiter};
	struct limiter_cfg lc;

	if (s->serial_out_path[0]) {
		c->console = CONSOLE_STREAM;
		c->console_path = s->serial_out_path;
	}
	api_limiter_cfg(&rl, &lc);
	c->console_rate = lc.bw;
}

static int config_from_api(struct api_mode *m, char *err, size_t errlen)
{
	const struct api_vm_config *a = &m->acfg;
	struct vm_config *c = &m->cfg;

	*c = (struct vm_config){
	    .kernel = a->boot.kernel_image_path,
	    .initrd = a->boot.initrd_path[0] ? a->boot.initrd_path : NULL,
	    .cmdline = a->boot.has_boot_args ? a->boot.boot_args : CONFIG_DEFAULT_CMDLINE,
	    .vcpus = a->machine.vcpu_count,
	    .mem_mib = a->machine.mem_size_mib,
	    .track_dirty_pages = a->machine.track_dirty_pages,
	    .huge_2m = a->machine.huge_pages == API_HUGE_2M,
	    .cpu_tmpl = a->has_cpu_config ? &a->cpu_config : NULL,
	    .cpu_static = a->machine.cpu_template,
	    .console = CONSOLE_STDIO,
	    .log_level = m->cli->log_level,
	    .no_seccomp = m->cli->no_seccomp,
	    .allow_kvm_pvm = m->cli->allow_kvm_pvm,
	    .mmds = m->mmds,
	};
	serial_to_config(&a->serial, c);
	return api_devices_to_config(a, &c->devs, err, errlen);
}

static int start_vm(struct api_mode *m, const struct api_vm_config *acfg, char *err, size_t errlen)
{
	struct log_capture why;
	int r;

	if (m->vm_live) {
		snprintf(err, errlen, "The microVM is already running.");
		return -EBUSY;
	}
	m->acfg = *acfg;
	r = config_from_api(m, err, errlen);
	if (r)
		return r;
	log_capture_begin(&why);
	r = launch_prepare(&m->vm, &m->cfg, m->start_us);
	log_capture_end(&why);
	if (r) {
		/* The first error logged on the way names the cause. */
		snprintf(err, errlen, "Failed to start the microVM: %s",
			 why.msg[0]	    ? why.msg
			 : r == EXIT_CONFIG ? "bad kernel, initrd or machine configuration"
					    : "KVM could not set the VM up");
		return -EINVAL;
	}
	m->vm_live = true;
	return 0;
}

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

/* A restore's request from the API's (a load, or a migration's overrides), and a fresh config. */
static void restore_setup(struct api_mode *m, const struct api_snapshot_load *l,
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
	m->cfg = (struct vm_config){
	    .cmdline = "",
	    .console = CONSOLE_STDIO,
	    .log_level = m->cli->log_level,
	    .no_seccomp = m->cli->no_seccomp,
	    .allow_kvm_pvm = m->cli->allow_kvm_pvm,
	    .mmds = m->mmds,
	};
}

/* PUT /snapshot/load: a VM from a snapshot instead of InstanceStart. */
static int load_snapshot(struct api_mode *m, const struct api_vm_config *acfg,
			 struct api_snapshot_load *l, char *err, size_t errlen)
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
	restore_setup(m, l, nets, &req);
	/* PUT /serial before the load applies to the restored VM, as in Firecracker. */
	m->acfg.serial = acfg->serial;
	serial_to_config(&m->acfg.serial, &m->cfg);
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
	log_info("restored %s (%s)", l->snapshot_path, l->resume_vm ? "running" : "paused");
	return 0;
}

static int create_snapshot(struct api_mode *m, const struct api_snapshot_create *c, char *err,
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

/* A JSON line of counters, Firecracker style (one object per flush). */
static int metrics_flush(struct api_mode *m)
{
	struct metrics_api api = {
	    .requests = atomic_load(&m->api_requests),
	    .errors = atomic_load(&m->api_errors),
	    .latency_us_sum = atomic_load(&m->api_latency_us_sum),
	    .latency_us_max = atomic_load(&m->api_latency_us_max),
	    /* Firecracker's emit_id: the instance id, --id or its default. */
	    .id = !m->metrics.emit_id	? NULL
		  : m->cli->instance_id ? m->cli->instance_id
					: API_DEFAULT_ID,
	    .properties = m->metrics.properties[0] ? m->metrics.properties : NULL,
	    .startup_us = m->startup_us,
	    .startup_cpu_us = m->startup_cpu_us,
	};
	char *line;
	ssize_t n;
	size_t len;

	if (m->metrics_fd < 0)
		return 0;
	line = metrics_line(m->vm_live ? &m->vm : NULL, &api);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	n = write(m->metrics_fd, line, len);
	free(line);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Firecracker writes a metrics line every 60 s as well as on FlushMetrics. */
static void on_metrics_timer(struct ev_handler *h, uint32_t events)
{
	struct api_mode *m = h->opaque;
	uint64_t ticks;

	(void)events;
	if (read(h->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		(void)metrics_flush(m);
}

static int metrics_timer_start(struct api_mode *m)
{
	struct itimerspec every = {.it_interval.tv_sec = METRICS_PERIOD_S,
				   .it_value.tv_sec = METRICS_PERIOD_S};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0 || timerfd_settime(fd, 0, &every, NULL)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	m->h_metrics = (struct ev_handler){.fd = fd, .fn = on_metrics_timer, .opaque = m};
	return evloop_add(&m->vm.loop, &m->h_metrics, EPOLLIN);
}

/* A log or metrics destination (file_open_stream: a FIFO needs no reader yet). */
static int open_output(const char *path, char *err, size_t errlen)
{
	const char *why;
	int fd = file_open_stream(path, &why);

	if (fd < 0)
		snprintf(err, errlen, "Cannot open %s: %s", path, why);
	return fd;
}

/* PUT /metrics, --metrics-path and the config file's "metrics": once only. */
static int open_metrics(struct api_mode *m, const struct api_metrics *mc, char *err, size_t errlen)
{
	int fd;

	if (m->metrics_fd >= 0) {
		snprintf(err, errlen, "Reinitialization of metrics not allowed.");
		return -EINVAL;
	}
	fd = open_output(mc->metrics_path, err, errlen);
	if (fd < 0)
		return fd;
	m->metrics_fd = fd;
	m->metrics = *mc;
	return 0;
}

static int set_logger(const struct api_logger *lg, char *err, size_t errlen)
{
	static const enum log_level map[] = {
	    [API_LOG_ERROR] = LOG_ERROR, [API_LOG_WARNING] = LOG_WARN, [API_LOG_INFO] = LOG_INFO,
	    [API_LOG_DEBUG] = LOG_DEBUG, [API_LOG_TRACE] = LOG_DEBUG,  [API_LOG_OFF] = LOG_ERROR,
	};

	if (lg->log_path[0]) {
		int fd = open_output(lg->log_path, err, errlen);

		if (fd < 0)
			return fd;
		/* Every log line goes to fd 2: the log file takes its place. */
		if (dup2(fd, STDERR_FILENO) < 0) {
			snprintf(err, errlen, "Cannot redirect the log: %s", strerror(errno));
			close(fd);
			return -errno;
		}
		close(fd);
	}
	log_set_level(map[lg->level]);
	log_set_format(lg->show_level, lg->show_log_origin);
	return 0;
}

/* PATCH /drives/{id} after start: the disk continues on another file. */
/* A live device's rate limiter @which, if the request sets it. */
static int patch_limiter(struct vm_dev *d, const char *which, const struct api_rate_limiter *rl,
			 char *err, size_t errlen)
{
	struct limiter_cfg c;
	int r;

	if (!rl->set)
		return 0;
	api_limiter_cfg(rl, &c);
	r = d->type->set_limiter ? d->type->set_limiter(d->dev, which, &c) : -ENOTSUP;
	if (r)
		snprintf(err, errlen, "Unable to update the %s rate limiter: %s", d->type->name,
			 strerror(-r));
	return r;
}

/* PATCH /drives/{id} after start: the limiter first, so a bad path changes nothing else. */
static int patch_drive(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d;
	int r;

	if (!m->vm_live)
		return -EINVAL; /* before start the API thread updates the config itself */
	d = vm_find_device(&m->vm, vdev_type_find("block"), cmd->drive.drive_id);
	if (!d) {
		snprintf(err, errlen, "Invalid block device ID: %s", cmd->drive.drive_id);
		return -ENOENT;
	}
	if (cmd->drive.has_path) {
		struct log_capture why;

		log_capture_begin(&why);
		r = d->type->update(d->dev, "path_on_host", cmd->drive.path_on_host);
		log_capture_end(&why);
		if (r) {
			/* The device said what is wrong with the file (not a regular file...). */
			if (why.msg[0])
				snprintf(err, errlen, "Unable to patch the block device: %s",
					 why.msg);
			else
				snprintf(err, errlen, "Unable to patch the block device: %s: %s",
					 cmd->drive.path_on_host, strerror(-r));
			return r;
		}
	}
	return patch_limiter(d, "", &cmd->drive.rate_limiter, err, errlen);
}

/* PATCH /network-interfaces/{id} after start: its rx and tx rate limiters. */
static int patch_net(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d;
	int r;

	if (!m->vm_live)
		return -EINVAL;
	d = vm_find_device(&m->vm, vdev_type_find("net"), cmd->net.iface_id);
	if (!d) {
		snprintf(err, errlen, "Invalid network interface ID: %s", cmd->net.iface_id);
		return -ENOENT;
	}
	r = patch_limiter(d, "rx", &cmd->net.rx, err, errlen);
	return r ? r : patch_limiter(d, "tx", &cmd->net.tx, err, errlen);
}

/* The balloon's API commands run on its live device (api_balloon.c). */
static int balloon_cmd(struct api_mode *m, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d;

	if (!m->vm_live)
		return -EINVAL;
	d = vm_find_device(&m->vm, vdev_type_find("balloon"), "balloon");
	return api_balloon_exec(d ? d->dev : NULL, &cmd->balloon, err, errlen);
}

/* PATCH /pmem/{id} after start: its rate limiter. */
static int patch_pmem(struct api_mode *m, const struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d =
	    m->vm_live ? vm_find_device(&m->vm, vdev_type_find("pmem"), cmd->pmem.id) : NULL;

	if (!d) {
		snprintf(err, errlen, "Invalid pmem device ID: %s", cmd->pmem.id);
		return -ENOENT;
	}
	return patch_limiter(d, "", &cmd->pmem.rate_limiter, err, errlen);
}

/* PATCH and GET /hotplug/memory on the running VM's virtio-mem device. */
static int hotplug_cmd(struct api_mode *m, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct vm_dev *d =
	    m->vm_live ? vm_find_device(&m->vm, vdev_type_find("mem"), "hotplug") : NULL;
	struct log_capture why;
	char v[16];
	json_t *o;
	int r;

	if (!d) {
		snprintf(err, errlen, "Memory hotplug is not configured.");
		return -ENOENT;
	}
	if (cmd->kind == API_CMD_HOTPLUG_GET) {
		o = d->type->status(d->dev);
		r = o && json_dumpb(o, cmd->hotplug.body, sizeof(cmd->hotplug.body) - 1,
				    JSON_COMPACT | JSON_PRESERVE_ORDER) <
				sizeof(cmd->hotplug.body) - 1
			? 0
			: -ENOMEM;
		json_decref(o);
		return r;
	}
	snprintf(v, sizeof(v), "%u", cmd->hotplug.requested_mib);
	log_capture_begin(&why);
	r = d->type->update(d->dev, "requested_size_mib", v);
	log_capture_end(&why);
	if (r)
		snprintf(err, errlen, "%s", why.msg);
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
	restore_setup(m, &m->mig_load, nets, &req);
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

static int migration_listen(struct api_mode *m, const struct api_migrate *mc, char *err,
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

static int migration_send(struct api_mode *m, const struct api_migrate *mc, char *err,
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

/* cmdq exec: runs on the VMM thread, before or after InstanceStart. */
static int exec_cmd(void *ctx, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct api_mode *m = ctx;

	switch (cmd->kind) {
	case API_CMD_START:
		return start_vm(m, cmd->cfg, err, errlen);
	case API_CMD_PAUSE:
		return m->vm_live ? vcpus_pause(&m->vm) : -EINVAL;
	case API_CMD_RESUME:
		if (!m->vm_live)
			return -EINVAL;
		vcpus_resume(&m->vm);
		return 0;
	case API_CMD_FLUSH_METRICS:
		/* As Firecracker: with no metrics configured there is nothing to flush. */
		return m->metrics_fd < 0 ? 0 : metrics_flush(m);
	case API_CMD_PATCH_NET:
		return patch_net(m, cmd, err, errlen);
	case API_CMD_LOGGER:
		return set_logger(&cmd->logger, err, errlen);
	case API_CMD_METRICS:
		return open_metrics(m, &cmd->metrics, err, errlen);
	case API_CMD_CTRL_ALT_DEL:
		if (!m->vm_live)
			return -EINVAL;
		if (vm_ctrl_alt_del(&m->vm)) {
			snprintf(err, errlen, "The guest has not read earlier keyboard input yet");
			return -EBUSY;
		}
		return 0;
	case API_CMD_PATCH_DRIVE:
		return patch_drive(m, cmd, err, errlen);
	case API_CMD_SNAPSHOT_CREATE:
		return create_snapshot(m, &cmd->snapshot_create, err, errlen);
	case API_CMD_SNAPSHOT_LOAD:
		return load_snapshot(m, cmd->cfg, &cmd->snapshot_load, err, errlen);
	case API_CMD_CHECK:
		if (m->vm_live)
			return -EBUSY; /* the router allows these before the start only */
		return api_check_run(cmd, err, errlen);
	case API_CMD_BALLOON:
		return balloon_cmd(m, cmd, err, errlen);
	case API_CMD_PATCH_PMEM:
		return patch_pmem(m, cmd, err, errlen);
	case API_CMD_HOTPLUG_PATCH:
	case API_CMD_HOTPLUG_GET:
		return hotplug_cmd(m, cmd, err, errlen);
	case API_CMD_MIGRATE_RECV:
		return migration_listen(m, &cmd->migrate, err, errlen);
	case API_CMD_MIGRATE_SEND:
		return migration_send(m, &cmd->migrate, err, errlen);
	case API_CMD_NONE:
		break;
	}
	snprintf(err, errlen, "unknown command");
	return -EINVAL;
}

static void on_cmd(struct ev_handler *h, uint32_t events)
{
	struct api_mode *m = h->opaque;

	(void)events;
	cmdq_process(&m->q, exec_cmd, m);
	/* Before the start, our own loop only waits for InstanceStart. */
	if (m->vm_live && m->pre.epfd >= 0)
		evloop_stop(&m->pre);
}

/* The server hands every callback its one opaque pointer: our cmdq. */
static void on_request(void *opaque, const struct http_request *req, int status, uint64_t usecs)
{
	struct api_mode *m = (struct api_mode *)((char *)opaque - offsetof(struct api_mode, q));

	(void)req;
	atomic_fetch_add(&m->api_requests, 1);
	atomic_fetch_add(&m->api_latency_us_sum, usecs);
	/* Only this (the API) thread writes the maximum: no compare-and-swap needed. */
	if (usecs > atomic_load(&m->api_latency_us_max))
		atomic_store(&m->api_latency_us_max, usecs);
	if (status >= 400)
		atomic_fetch_add(&m->api_errors, 1);
}

/*
 * What make bench reads: how long until a client can connect.  With the
 * jailer's --start-time-us (CLOCK_MONOTONIC) and --start-time-cpu-us, also
 * Firecracker's startup metrics, counted from the jailer's start.
 */
static void log_api_ready(struct api_mode *m)
{
	const struct cli_fc *fc = &m->cli->fc;
	struct timespec ts;
	uint64_t now = time_now_us(), cpu_us;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	cpu_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (fc->start_time_us != CLI_TIME_UNSET && now >= fc->start_time_us)
		m->startup_us = now - fc->start_time_us;
	/* The CPU clock carries across exec, so the jailer's share is in it. */
	if (fc->start_time_cpu_us != CLI_TIME_UNSET && cpu_us >= fc->start_time_cpu_us)
		m->startup_cpu_us =
		    cpu_us - fc->start_time_cpu_us +
		    (fc->parent_cpu_time_us != CLI_TIME_UNSET ? fc->parent_cpu_time_us : 0);
	log_info("API socket ready after %llu us (%llu CPU us)",
		 (unsigned long long)(now - m->start_us), (unsigned long long)cpu_us);
}

static int api_thread_filter(void)
{
	return seccomp_install(SECCOMP_API);
}

/* Waits for InstanceStart on a loop of our own (the VM's does not exist yet). */
static int wait_for_start(struct api_mode *m)
{
	int r = evloop_init(&m->pre);

	if (r)
		return r;
	r = evloop_add(&m->pre, &m->h_cmd, EPOLLIN);
	if (!r)
		r = evloop_run(&m->pre);
	evloop_destroy(&m->pre);
	return r;
}

static int start_from_file(struct api_mode *m)
{
	struct api_vm_config *fcfg = malloc(sizeof(*fcfg));
	char err[API_ERR_MAX];
	int r;

	if (!fcfg)
		return -ENOMEM;
	r = api_config_from_file(m->cli->config_file, fcfg, err, sizeof(err));
	if (!r && fcfg->logger.set)
		r = set_logger(&fcfg->logger, err, sizeof(err));
	if (!r && fcfg->metrics.set)
		r = open_metrics(m, &fcfg->metrics, err, sizeof(err));
	if (!r && fcfg->mmds.set)
		mmds_set_config(m->mmds, &fcfg->mmds);
	if (!r)
		r = start_vm(m, fcfg, err, sizeof(err));
	if (r)
		log_err("--config-file %s: %s", m->cli->config_file, err);
	free(fcfg);
	return r;
}

/*
 * Firecracker's --metadata FILE: the MMDS store's first document, as a PUT
 * /mmds would set it, bounded by the store's size limit.
 */
static int load_metadata(struct mmds *mm, const char *path)
{
	size_t limit = mmds_get_limit(mm), len = 0;
	const char *why = NULL;
	json_error_t jerr;
	json_t *doc = NULL;
	char *buf = NULL;
	ssize_t n = 0;
	int r, fd;

	fd = file_open_input(path, false, false, &why);
	if (fd < 0) {
		log_err("--metadata %s: %s", path, why ? why : strerror(-fd));
		return fd;
	}
	r = -ENOMEM;
	buf = malloc(limit + 1);
	if (!buf)
		goto out;
	while (len <= limit && (n = read(fd, buf + len, limit + 1 - len)) > 0)
		len += (size_t)n;
	r = n < 0 ? -errno : len > limit ? -EFBIG : 0;
	if (r) {
		log_err("--metadata %s: %s", path,
			r == -EFBIG ? "larger than the MMDS size limit" : strerror(-r));
		goto out;
	}
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc)) {
		log_err("--metadata %s: not a JSON object%s%s", path, doc ? "" : ": ",
			doc ? "" : jerr.text);
		r = -EINVAL;
		goto out;
	}
	r = mmds_put(mm, doc);
	if (r)
		log_err("--metadata %s: %s", path, strerror(-r));
out:
	json_decref(doc);
	free(buf);
	close(fd);
	return r;
}

int api_mode_main(const struct vm_config *cli, uint64_t start_us)
{
	struct api_mode *m = calloc(1, sizeof(*m));
	char err[API_ERR_MAX];
	int code = EXIT_VMM, r;

	if (!m)
		return EXIT_VMM;
	m->cli = cli;
	m->start_us = start_us;
	m->metrics_fd = -1;
	m->h_metrics.fd = -1;
	m->pre.epfd = -1;
	m->mig.lfd = -1;
	snap_restored_init(&m->rs);
	/* --mmds-size-limit, or as in Firecracker the API's payload limit. */
	if (mmds_create(&m->mmds, cli_fc_mmds_size_limit(cli)))
		goto out;
	if (cli->fc.metadata_path && load_metadata(m->mmds, cli->fc.metadata_path)) {
		code = EXIT_CONFIG; /* what the user gave */
		goto out;
	}
	if (cmdq_init(&m->q))
		goto out;
	m->h_cmd = (struct ev_handler){.fd = cmdq_fd(&m->q), .fn = on_cmd, .opaque = m};
	/* Firecracker's --log-path and --metrics-path: as PUT /logger and /metrics. */
	if (cli->log_path || cli->metrics_path) {
		struct api_logger lg = {.set = true,
					.level = API_LOG_INFO,
					.show_level = cli->fc.show_level,
					.show_log_origin = cli->fc.show_log_origin};

		r = 0;
		if (cli->log_path) {
			snprintf(lg.log_path, sizeof(lg.log_path), "%s", cli->log_path);
			r = set_logger(&lg, err, sizeof(err));
			log_set_level(cli->log_level); /* --level, not the logger's default */
		}
		if (!r && cli->metrics_path) {
			struct api_metrics mc = {.set = true};

			snprintf(mc.metrics_path, sizeof(mc.metrics_path), "%s", cli->metrics_path);
			r = open_metrics(m, &mc, err, sizeof(err));
		}
		if (r) {
			log_err("%s", err);
			code = EXIT_CONFIG;
			goto out_q;
		}
	}

	if (cli->config_file && start_from_file(m)) {
		code = EXIT_CONFIG;
		goto out_q;
	}
	if (!cli->no_api) {
		struct api_server_opts o = {
		    .sock_path = cli->api_sock,
		    .instance_id = cli->instance_id,
		    .max_payload = cli->max_payload,
		    .initial_cfg = m->vm_live ? &m->acfg : NULL,
		    .started = m->vm_live,
		    .mmds = m->mmds,
		    .migration = &m->migration,
		    .submit = cmdq_submit,
		    .opaque = &m->q,
		    .on_request = on_request,
		    .thread_setup = cli->no_seccomp ? NULL : api_thread_filter,
		    .keep_socket = !cli->no_seccomp,
		};
		r = api_server_start(&o, &m->srv, err, sizeof(err));
		if (r) {
			log_err("API socket %s: %s", cli->api_sock, err);
			code = EXIT_CONFIG;
			goto out_vm;
		}
		log_api_ready(m);
	}
	if (!m->vm_live) {
		r = wait_for_start(m);
		if (r || !m->vm_live) {
			/* Without an error the loop ended for a failed migration, logged. */
			if (r)
				log_err("API: waiting for InstanceStart: %s", strerror(-r));
			goto out_srv;
		}
	}
	r = evloop_add(&m->vm.loop, &m->h_cmd, EPOLLIN);
	if (!r)
		r = metrics_timer_start(m);
	if (r) {
		log_err("API: %s", strerror(-r));
		goto out_srv;
	}
	code = vm_run(&m->vm);
	metrics_flush(m);
	if (m->h_metrics.fd >= 0) {
		evloop_del(&m->vm.loop, &m->h_metrics);
		close(m->h_metrics.fd);
	}
out_srv:
	migrate_dest_close(&m->mig);
	cmdq_close(&m->q);
	if (m->srv)
		api_server_stop(m->srv);
out_vm:
	if (m->vm_live)
		vm_destroy(&m->vm);
	snap_restored_release(&m->rs); /* after the RAM it backs is unmapped */
out_q:
	/* Closed at out_srv if the API thread ever ran; nobody else submits. */
	cmdq_destroy(&m->q);
out:
	if (m->metrics_fd >= 0)
		close(m->metrics_fd);
	mmds_destroy(m->mmds); /* after the API thread and the VM, its readers */
	free(m);
	return code;
}
