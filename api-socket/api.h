/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - Firecracker's REST API as plain data: the VM configuration the
 * requests build, the router that validates them, and the commands that
 * must run on the VMM thread.
 *
 * Contract (one API thread owns a struct api_state; nothing here locks):
 *
 *   struct api_response resp; struct api_cmd cmd;
 *   if (api_handle(st, req, &resp, &cmd) == API_EXEC) {
 *           char err[API_ERR_MAX] = "";
 *           int rc = submit(opaque, &cmd, err, sizeof(err)); // VMM thread runs it
 *           api_complete(st, &cmd, rc, err, &resp);
 *   }
 *   ... send resp.status / resp.body ...; api_response_free(&resp);
 *
 * API_DONE: @resp is final (GETs, pre-boot config PUTs, every refusal).
 * API_EXEC: @cmd must be executed by the VMM thread; the api_state is not
 * changed until api_complete() learns the outcome (rc 0: committed, e.g.
 * state Running after API_CMD_START; rc < 0: 400 with @err as the
 * fault_message, or a generic one when @err is empty; nothing committed).
 * A refused request never changes the state.  After API_EXEC, api_complete()
 * must be called whatever happens: it also frees what @cmd owns (the
 * restored configuration of API_CMD_SNAPSHOT_LOAD).
 */
#ifndef EMBER_API_H
#define EMBER_API_H

#include <stdatomic.h>

#include "cpu_template.h"
#include "ember.h"
#include "http.h"
#include "mmds_store.h"

#define API_ID_MAX	 65   /* resource ids: [A-Za-z0-9_], 1..64 bytes */
#define API_PATH_MAX	 4096 /* host paths, NUL included */
#define API_CMDLINE_MAX	 2048 /* COMMAND_LINE_SIZE on x86, NUL included: what boots */
#define API_IFNAME_MAX	 16   /* IFNAMSIZ */
#define API_UDS_PATH_MAX 108  /* sizeof(sun_path) */
#define API_PARTUUID_MAX 65
#define API_MODULE_MAX	 128
#define API_MAX_DRIVES	 16
#define API_MAX_NETS	 8
#define API_MAX_PMEM	 8
#define API_MAX_VCPUS	 32
#define API_ERR_MAX	 256
#define API_DEFAULT_ID	 "anonymous-instance"
#define API_APP_NAME	 "ember"

enum api_cache_type { API_CACHE_UNSAFE, API_CACHE_WRITEBACK };
enum api_io_engine { API_IO_SYNC, API_IO_ASYNC };
/* Firecracker's logger levels, in order; API_LOG_OFF silences everything. */
enum api_log_level {
	API_LOG_ERROR,
	API_LOG_WARNING,
	API_LOG_INFO,
	API_LOG_DEBUG,
	API_LOG_TRACE,
	API_LOG_OFF
};

struct api_boot_source {
	bool set;
	char kernel_image_path[API_PATH_MAX];
	char initrd_path[API_PATH_MAX]; /* "" : none */
	bool has_boot_args;		/* false: the VMM's default command line */
	char boot_args[API_CMDLINE_MAX];
};

/* machine-config's huge_pages, the order of its choices ("Transparent" is refused). */
enum api_huge_pages { API_HUGE_NONE, API_HUGE_THP, API_HUGE_2M };

struct api_machine_config {
	uint32_t vcpu_count;   /* 1..API_MAX_VCPUS; 1 or even when smt */
	uint64_t mem_size_mib; /* 1..CONFIG_MAX_MEM_MIB */
	bool smt;
	bool track_dirty_pages;
	unsigned cpu_template;	 /* enum cput_static; a PUT without one keeps it (Firecracker) */
	bool cpu_template_given; /* this request named one: it replaces a custom template */
	unsigned huge_pages;	 /* enum api_huge_pages: guest RAM on 4 KiB or 2 MiB pages */
};

/* Firecracker's TokenBucket and RateLimiter; absent buckets are unset. */
struct api_token_bucket {
	bool set;
	uint64_t size, one_time_burst, refill_time;
};

struct api_rate_limiter {
	bool set; /* present, even as {} */
	struct api_token_bucket bandwidth, ops;
};

struct api_drive {
	char drive_id[API_ID_MAX];
	char path_on_host[API_PATH_MAX];
	bool is_root_device;
	bool is_read_only;
	char partuuid[API_PARTUUID_MAX]; /* "" : none; only meaningful for the root device */
	enum api_cache_type cache_type;
	enum api_io_engine io_engine;
	struct api_rate_limiter rate_limiter;
};

struct api_net {
	char iface_id[API_ID_MAX];
	char host_dev_name[API_IFNAME_MAX];
	bool has_mac;
	uint8_t guest_mac[6];
	uint32_t mtu; /* 0: not given */
	struct api_rate_limiter rx_rate_limiter, tx_rate_limiter;
};

struct api_vsock {
	bool set;
	uint32_t guest_cid; /* >= 3 */
	char uds_path[API_UDS_PATH_MAX];
};

struct api_logger {
	bool set;
	char log_path[API_PATH_MAX]; /* "" : keep logging to stderr */
	enum api_log_level level;
	bool show_level;
	bool show_log_origin;
	char module[API_MODULE_MAX]; /* "" : no filter */
};

#define API_METRICS_PROPS_MAX 4096 /* "properties" as compact JSON, NUL included */

struct api_metrics {
	bool set;
	char metrics_path[API_PATH_MAX];
	bool emit_id; /* each line gets "id": the instance id */
	/* Each line gets "properties": a JSON object of strings, keys sorted,
	 * as Firecracker writes its map; "" : none. */
	char properties[API_METRICS_PROPS_MAX];
};

/* Everything GET /vm/config shows and --config-file takes. */
struct api_entropy {
	bool set;
	struct api_rate_limiter rate_limiter;
};

/* PUT /serial (Firecracker's SerialConfig): pre-boot, not a boot resource. */
struct api_serial {
	bool set;
	char serial_out_path[API_PATH_MAX];   /* "" : the console stays on stdout */
	struct api_token_bucket rate_limiter; /* bytes of guest output */
};

/* PUT /balloon (Firecracker's Balloon). */
struct api_balloon {
	bool set;
	uint32_t amount_mib; /* at most machine-config's mem_size_mib */
	bool deflate_on_oom;
	uint16_t stats_polling_interval_s; /* 0: no statistics */
	bool free_page_hinting, free_page_reporting;
};

/* PUT /pmem/{id}: virtio-pmem on a host file. */
struct api_pmem {
	char id[API_ID_MAX];
	char path_on_host[API_PATH_MAX];
	bool root_device, read_only;
	struct api_rate_limiter rate_limiter;
};

/* PUT /hotplug/memory: virtio-mem (Firecracker's MemoryHotplugConfig). */
struct api_hotplug {
	bool set;
	uint32_t total_size_mib, slot_size_mib, block_size_mib;
};

struct api_vm_config {
	struct api_boot_source boot;
	struct api_machine_config machine;
	struct api_drive drives[API_MAX_DRIVES];
	unsigned nr_drives;
	struct api_net nets[API_MAX_NETS];
	unsigned nr_nets;
	struct api_vsock vsock;
	struct api_entropy entropy;
	struct api_balloon balloon;
	struct api_pmem pmem[API_MAX_PMEM];
	unsigned nr_pmem;
	struct api_hotplug hotplug;
	struct api_logger logger;
	struct api_metrics metrics;
	/* PUT /cpu-config (api_cpu.c); cleared by machine-config's "cpu_template". */
	bool has_cpu_config;
	struct cpu_template cpu_config;
	struct api_serial serial;
	/* --config-file's "mmds-config" (.set), for the store at start; the API's
	 * PUT /mmds/config goes to the store directly. */
	struct mmds_config mmds;
};

enum api_vm_state { API_VM_NOT_STARTED, API_VM_RUNNING, API_VM_PAUSED, API_VM_MIGRATING };

/* The VMM thread's word on an incoming migration (api_migrate.c). */
enum api_migration_outcome { API_MIG_PENDING, API_MIG_RUNNING, API_MIG_PAUSED };

struct api_state {
	char id[API_ID_MAX]; /* --id; shown by GET / */
	enum api_vm_state vm_state;
	/* A boot-specific resource (boot source, machine, drive, net, vsock) was
	 * configured: PUT /snapshot/load is no longer allowed, as in Firecracker. */
	bool boot_configured;
	struct api_vm_config cfg;
	struct mmds *mmds; /* the MMDS store (shared with the VMM thread), NULL: none */
	/* PUT /migration/receive: the VMM thread stores an api_migration_outcome
	 * here (release) once it has filled mig_restored; the API thread adopts it. */
	atomic_int *migration;
	struct api_vm_config *mig_restored;
};

/* ---- snapshots ---- */

enum api_snapshot_type { API_SNAPSHOT_FULL, API_SNAPSHOT_DIFF };
enum api_mem_backend { API_MEM_FILE, API_MEM_UFFD };

/* PUT /snapshot/create, only while Paused. */
struct api_snapshot_create {
	enum api_snapshot_type type; /* Diff only with machine-config track_dirty_pages */
	char snapshot_path[API_PATH_MAX];
	char mem_file_path[API_PATH_MAX];
};

struct api_net_override {
	char iface_id[API_ID_MAX];
	char host_dev_name[API_IFNAME_MAX];
};

/* PUT /snapshot/load, only in a fresh ember (before any boot-specific PUT). */
struct api_snapshot_load {
	char snapshot_path[API_PATH_MAX];
	enum api_mem_backend backend;
	/* File: the memory file (mem_backend.backend_path or the deprecated
	 * mem_file_path).  Uffd: the page-fault handler's Unix socket. */
	char mem_path[API_PATH_MAX];
	bool track_dirty_pages; /* track_dirty_pages || enable_diff_snapshots */
	bool resume_vm;
	bool clock_realtime; /* advance kvmclock by the wall time since the snapshot */
	struct api_net_override net_overrides[API_MAX_NETS]; /* distinct iface_ids */
	unsigned nr_net_overrides;
	bool has_vsock_override;
	char vsock_uds_path[API_UDS_PATH_MAX];
	/* Firecracker's huge_pages, an index into "Snapshot", "None", "Transparent",
	 * "2M".  The parser refuses "Transparent", and "2M" with the File backend. */
	unsigned huge_pages;
	/*
	 * malloc'ed by the router with api_config_init() defaults; the VMM thread
	 * fills it with the configuration it restored (machine, drives, nets and
	 * vsock after the overrides) so GET /vm/config and PATCH /drives work on
	 * the restored VM.  api_complete() adopts it on success and frees it.
	 */
	struct api_vm_config *restored;
};

/* PUT /vm/fork (api_fork.c): each child's API socket, console and overrides. */
#define API_FORK_MAX 16
struct api_fork_child {
	char api_sock[API_UDS_PATH_MAX];
	char serial_out_path[API_PATH_MAX]; /* "": the parent's ember's stdout */
	struct api_snapshot_load ov;	    /* its net_overrides and vsock_override only */
};
struct api_fork {
	unsigned nr;
	struct api_fork_child child[API_FORK_MAX];
};

/* PUT /migration/receive and /migration/send (api_migrate.c). */
struct api_migrate {
	char url[API_PATH_MAX];	       /* "unix:/path" or "tcp:ADDRESS:PORT" */
	uint32_t max_downtime_ms;      /* send */
	struct api_snapshot_load load; /* receive: overrides; .restored as for a load */
};

struct api_response {
	int status;	 /* 200, 204, 400, ... */
	char *body;	 /* malloc'ed JSON, NULL for 204 */
	bool deprecated; /* the body used a deprecated field: a Deprecation header */
};

enum api_cmd_kind {
	API_CMD_NONE,
	API_CMD_START,		 /* build and boot the VM from *cmd->cfg */
	API_CMD_PAUSE,		 /* stop all vCPUs */
	API_CMD_RESUME,		 /* let them run again */
	API_CMD_CTRL_ALT_DEL,	 /* i8042 Ctrl-Alt-Del to the guest */
	API_CMD_FLUSH_METRICS,	 /* write a metrics line now */
	API_CMD_PATCH_DRIVE,	 /* new backing file and/or rate limiter: cmd->drive */
	API_CMD_PATCH_NET,	 /* new rate limiters: cmd->net */
	API_CMD_LOGGER,		 /* (re)open the log: cmd->logger */
	API_CMD_METRICS,	 /* open the metrics file: cmd->metrics */
	API_CMD_SNAPSHOT_CREATE, /* write state + memory files: cmd->snapshot_create */
	API_CMD_SNAPSHOT_LOAD,	 /* restore a VM: cmd->snapshot_load; Running or Paused after */
	API_CMD_CHECK,		 /* a pre-boot PUT the VMM must vet first: cmd->check */
	API_CMD_BALLOON,	 /* the live balloon: cmd->balloon (api_balloon.c) */
	API_CMD_PATCH_PMEM,	 /* a new rate limiter: cmd->pmem */
	API_CMD_HOTPLUG_PATCH,	 /* virtio-mem's requested size: cmd->hotplug.requested_mib */
	API_CMD_HOTPLUG_GET,	 /* virtio-mem's status into cmd->hotplug.body (200) */
	API_CMD_MIGRATE_RECV,	 /* listen for a migration: cmd->migrate (204 once listening) */
	API_CMD_MIGRATE_SEND,	 /* migrate the VM away: cmd->migrate (204 once it runs there) */
	API_CMD_FORK,		 /* live fork: *cmd->fork (malloc'ed; 204 once every child runs) */
};

/* What API_CMD_BALLOON does; the VMM thread fills the outputs. */
enum api_balloon_op {
	API_BALLOON_TARGET,	    /* PATCH /balloon */
	API_BALLOON_STATS_INTERVAL, /* PATCH /balloon/statistics */
	API_BALLOON_STATS,	    /* GET /balloon/statistics */
	API_BALLOON_HINT_START,	    /* PATCH /balloon/hinting/start */
	API_BALLOON_HINT_STATUS,    /* GET /balloon/hinting/status */
	API_BALLOON_HINT_STOP,	    /* PATCH /balloon/hinting/stop */
};

#define API_BALLOON_NR_STATS 16

struct api_balloon_cmd {
	enum api_balloon_op op;
	uint32_t amount_mib;
	uint16_t interval_s;
	bool ack_on_stop;
	/* out, API_BALLOON_STATS: tag i valid when bit i of stats_present is set */
	uint32_t target_pages, actual_pages, stats_present;
	uint64_t stats[API_BALLOON_NR_STATS];
	/* out, API_BALLOON_HINT_STATUS */
	uint32_t host_cmd, guest_cmd;
	bool has_guest_cmd;
};

/*
 * What an API_CMD_CHECK vets in cmd->check.next, as Firecracker does at PUT
 * time: the boot source's kernel and initrd open; the device list builds
 * (budget, per-type limits, one root) and the named drive's image or
 * interface's tap opens.
 */
enum api_check_what {
	API_CHECK_BOOT,
	API_CHECK_DEVICES,
	API_CHECK_DRIVE,
	API_CHECK_NET,
	API_CHECK_VSOCK, /* its uds_path can be bound */
	API_CHECK_PMEM,	 /* the named pmem device's file opens, not empty */
};

struct api_cmd {
	enum api_cmd_kind kind;
	/* API_CMD_START: the whole configuration.  It stays valid and unchanged
	 * while the command runs, because the API thread is blocked until then. */
	const struct api_vm_config *cfg;
	union {
		struct {
			unsigned index; /* in cfg->drives */
			char drive_id[API_ID_MAX];
			char path_on_host[API_PATH_MAX];
			bool has_path;
			struct api_rate_limiter rate_limiter; /* .set: replace it */
		} drive;
		struct {
			unsigned index; /* in cfg->nets */
			char iface_id[API_ID_MAX];
			struct api_rate_limiter rx, tx; /* .set: replace it */
		} net;
		struct api_logger logger;
		struct api_metrics metrics;
		struct api_snapshot_create snapshot_create;
		struct api_snapshot_load snapshot_load;
		struct api_migrate migrate;
		struct api_fork *fork;
		struct {
			enum api_check_what what;
			char id[API_ID_MAX]; /* the drive_id or iface_id */
			/* malloc'ed: the configuration the PUT makes; api_complete()
			 * adopts it on success and frees it either way. */
			struct api_vm_config *next;
		} check;
		struct api_balloon_cmd balloon;
		struct {
			unsigned index; /* in cfg->pmem */
			char id[API_ID_MAX];
			struct api_rate_limiter rate_limiter;
		} pmem;
		struct {
			uint32_t requested_mib;
			char body[256]; /* API_CMD_HOTPLUG_GET: the VMM thread's JSON */
		} hotplug;
	};
};

enum api_result { API_DONE = 0, API_EXEC = 1 };

/* Defaults: no boot source, 1 vCPU, 128 MiB, no devices. */
void api_config_init(struct api_vm_config *cfg);
void api_config_defaults(struct api_vm_config *cfg); /* cfg already zeroed */
/* @id NULL means API_DEFAULT_ID; ids are [A-Za-z0-9-], 1..64 bytes (-EINVAL). */
int api_state_init(struct api_state *st, const char *id);
int api_state_init_zeroed(struct api_state *st, const char *id); /* st from calloc */

/* Routes one parsed request; see the contract at the top. */
enum api_result api_handle(struct api_state *st, const struct http_request *req,
			   struct api_response *resp, struct api_cmd *cmd);
/* Turns the VMM thread's verdict on @cmd into the final response. */
void api_complete(struct api_state *st, const struct api_cmd *cmd, int result, const char *errmsg,
		  struct api_response *resp);
void api_response_free(struct api_response *resp);
/* A {"fault_message": ...} response; the server uses it for HTTP-level errors. */
void api_fault(struct api_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The GET /vm/config document ("boot-source", "machine-config", "drives",
 * "network-interfaces", "vsock", "logger", "metrics").  malloc'ed, NULL on
 * allocation failure.
 */
char *api_config_to_json(const struct api_vm_config *cfg);

/*
 * api_devs.c: the drives, interfaces and vsock of @a as the device model's
 * settings (0, or -errno with a message: limits, duplicates, unsupported
 * fields), and back, for GET /vm/config after a restore.
 */
struct vdev_configs;
int api_devices_to_config(const struct api_vm_config *a, struct vdev_configs *l, char *err,
			  size_t errlen);
void api_devices_from_config(const struct vdev_configs *l, struct api_vm_config *a);
/* api_json.c: a RateLimiter as the devices' settings (virtio/limiter.h); api_devs.c: back. */
struct limiter_cfg;
void api_limiter_cfg(const struct api_rate_limiter *rl, struct limiter_cfg *c);
void api_limiter_to_api(const struct limiter_cfg *c, struct api_rate_limiter *rl);
/* api_pmem.c: a pmem resource as the device's settings (virtio/pmem.h), and back. */
struct vpmem_config;
int api_pmem_to_config(const struct api_pmem *a, struct vpmem_config *c, char *err, size_t errlen);
void api_pmem_from_config(const struct vpmem_config *c, struct api_pmem *a);
/* api_hotplug.c: memory hotplug as virtio-mem's settings (virtio/mem.h), and back. */
struct vmem_config;
int api_hotplug_to_config(const struct api_hotplug *a, struct vmem_config *c, char *err,
			  size_t errlen);
void api_hotplug_from_config(const struct vmem_config *c, struct api_hotplug *a);
/*
 * The same document back into a config (what --config-file reads): every
 * section validated exactly as its PUT would be.  0, or -EINVAL / -errno with
 * a message naming the section and field in @err.  @cfg is written only on
 * success.
 */
int api_config_from_json(const char *buf, size_t len, struct api_vm_config *cfg, char *err,
			 size_t errlen);
int api_config_from_file(const char *path, struct api_vm_config *cfg, char *err, size_t errlen);

const char *api_vm_state_name(enum api_vm_state s);

/*
 * api_balloon.c: the balloon's end of the API.  The live device's part of
 * API_CMD_BALLOON, run by the VMM thread on the device @dev (NULL: the VM
 * has no balloon); 0 or -errno with the fault_message in @err.
 */
int api_balloon_exec(void *dev, struct api_balloon_cmd *c, char *err, size_t errlen);
/* api_complete's part for API_CMD_BALLOON after success; true if it answered. */
bool api_balloon_complete(struct api_state *st, const struct api_cmd *cmd,
			  struct api_response *resp);
/* Firecracker's rule between them: amount_mib <= mem_size_mib.  0 or -EINVAL. */
int api_balloon_fits(const struct api_vm_config *cfg, char *err, size_t errlen);

#endif /* EMBER_API_H */
