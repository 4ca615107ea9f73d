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

#include "api_mode.h"
#include "fork_child.h"
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
#include "sparse.h"

#define METRICS_PERIOD_S 60

/* PUT /serial: the output stream and its rate limit (bytes). */
void api_mode_serial_to_config(const struct api_serial *s, struct vm_config *c)
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
	api_mode_serial_to_config(&a->serial, c);
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
	/* Only the pages that differ: a struct copy writes all ~164 KiB (sparse.h). */
	sparse_copy(&m->acfg, acfg, sizeof(m->acfg));
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
	log_apply_logger(lg);
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
		return api_cmds_patch_net(m, cmd, err, errlen);
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
		return api_cmds_patch_drive(m, cmd, err, errlen);
	case API_CMD_SNAPSHOT_CREATE:
		return api_snap_create(m, &cmd->snapshot_create, err, errlen);
	case API_CMD_SNAPSHOT_LOAD:
		return api_snap_load(m, cmd->cfg, &cmd->snapshot_load, err, errlen);
	case API_CMD_CHECK:
		if (m->vm_live)
			return -EBUSY; /* the router allows these before the start only */
		return api_check_run(cmd, err, errlen);
	case API_CMD_BALLOON:
		return api_cmds_balloon(m, cmd, err, errlen);
	case API_CMD_PATCH_PMEM:
		return api_cmds_patch_pmem(m, cmd, err, errlen);
	case API_CMD_HOTPLUG_PATCH:
	case API_CMD_HOTPLUG_GET:
		return api_cmds_hotplug(m, cmd, err, errlen);
	case API_CMD_MIGRATE_RECV:
		return api_snap_migrate_listen(m, &cmd->migrate, err, errlen);
	case API_CMD_MIGRATE_SEND:
		return api_snap_migrate_send(m, &cmd->migrate, err, errlen);
	case API_CMD_FORK:
		return fork_run(m, cmd->fork, err, errlen);
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
	fork_finish(m); /* the reply is on its way: the rest of a fork, if one ran */
	/* Before the start, our own loop only waits for InstanceStart. */
	if (m->vm_live && m->pre.epfd >= 0)
		evloop_stop(&m->pre);
}

/* The server hands every callback its one opaque pointer: our cmdq. */
static struct api_mode *mode_of(void *opaque)
{
	return (struct api_mode *)((char *)opaque - offsetof(struct api_mode, q));
}

static void on_request(void *opaque, const struct http_request *req, int status, uint64_t usecs)
{
	struct api_mode *m = mode_of(opaque);

	(void)req;
	atomic_fetch_add(&m->api_requests, 1);
	atomic_fetch_add(&m->api_latency_us_sum, usecs);
	/* Only this (the API) thread writes the maximum: no compare-and-swap needed. */
	if (usecs > atomic_load(&m->api_latency_us_max))
		atomic_store(&m->api_latency_us_max, usecs);
	if (status >= 400)
		atomic_fetch_add(&m->api_errors, 1);
	cmdq_replied(&m->q); /* what fork_finish waits for */
}

/* The server's own copy of the configuration of a VM that runs before it does. */
static void server_cfg(void *opaque, struct api_vm_config *cfg)
{
	struct api_mode *m = mode_of(opaque);

	if (m->cli->fork_in)
		api_snap_fork_config(m, cfg);
	else
		sparse_fill(cfg, &m->acfg, sizeof(*cfg)); /* --config-file's */
}

/*
 * What make bench reads: how long until a client can connect.  With the
 * jailer's --start-time-us (CLOCK_MONOTONIC) and --start-time-cpu-us, also
 * Firecracker's startup metrics, counted from the jailer's start.
 */
static void log_api_ready(struct api_mode *m)
{
	const struct cli_fc *fc = &m->cli->fc;
	uint64_t now = time_now_us(), cpu_us = clock_us(CLOCK_PROCESS_CPUTIME_ID);

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
	char why[API_ERR_MAX], *buf;
	json_error_t jerr;
	json_t *doc;
	size_t len;
	int r;

	/* The MMDS size limit bounds the file too (file_read_all names it). */
	r = file_read_all(path, mmds_get_limit(mm), &buf, &len, why, sizeof(why));
	if (r) {
		log_err("--metadata %s%s", why, r == -EFBIG ? " (the MMDS size limit)" : "");
		return r;
	}
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!doc || !json_is_object(doc)) {
		log_err("--metadata %s: not a JSON object%s%s", path, doc ? "" : ": ",
			doc ? "" : jerr.text);
		json_decref(doc);
		return -EINVAL;
	}
	r = mmds_put(mm, doc);
	if (r)
		log_err("--metadata %s: %s", path, strerror(-r));
	json_decref(doc);
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
	/*
	 * Before any thread or filter exists (spawn.h); without it PUT /vm/fork
	 * is refused.  A fork's child has one too: it can be forked in turn.
	 */
	m->spawner = (struct spawner){.pid = -1};
	if (cli->fork_in && cli->fork_in->spawner.pid >= 0) {
		/* Started while the child waited for its request (fork_child.c). */
		m->spawner = cli->fork_in->spawner;
		cli->fork_in->spawner.pid = -1;
	}
	r = cli->no_api || m->spawner.pid >= 0 ? 0 : spawner_start(&m->spawner, cli->argv0);
	if (r)
		log_warn("live fork unavailable: cannot start the process starter: %s",
			 strerror(-r));
	else if (m->spawner.pid >= 0)
		fork_pool_fill(m); /* --fork-pool: they start while we do */
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

	if (cli->fork_in && (r = api_snap_fork_child(m, err, sizeof(err)))) {
		log_err("fork child: %s", err);
		fork_child_answer(cli->fork_in, r, err);
		goto out_q;
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
		    .started = m->vm_live,
		    .paused = cli->fork_in && cli->fork_in->msg.paused,
		    .mmds = m->mmds,
		    .migration = &m->migration,
		    .submit = cmdq_submit,
		    .opaque = &m->q,
		    .on_request = on_request,
		    .initial_cfg = server_cfg,
		    .thread_setup = cli->no_seccomp ? NULL : api_thread_filter,
		    .keep_socket = !cli->no_seccomp,
		};
		/* A fork child's thread starts after 'G' (below; api_server_open). */
		r = api_server_open(&o, &m->srv, err, sizeof(err));
		if (!r && !cli->fork_in)
			r = api_server_run(m->srv, err, sizeof(err));
		if (r) {
			log_err("API socket %s: %s", cli->api_sock, err);
			if (cli->fork_in)
				fork_child_answer(cli->fork_in, r, err);
			api_server_stop(m->srv); /* opened, not run */
			m->srv = NULL;
			code = EXIT_CONFIG;
			goto out_vm;
		}
		log_api_ready(m);
	}
	/* A fork's child: ready; it runs once every sibling is (fork.c). */
	if (cli->fork_in) {
		r = fork_child_answer(cli->fork_in, 0, "");
		if (!r)
			r = fork_child_go(cli->fork_in);
		if (r) {
			log_err("fork child: the parent did not let this child run (%s)",
				strerror(-r));
			goto out_srv;
		}
		r = m->srv ? api_server_run(m->srv, err, sizeof(err)) : 0;
		if (r) {
			log_err("API socket %s: %s", cli->api_sock, err);
			goto out_srv;
		}
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
	fork_pool_fill(m); /* the VM exists: the pool can make theirs ahead (fork.c) */
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
	fork_pool_drain(m);
	spawner_stop(&m->spawner);
	free(m);
	return code;
}
