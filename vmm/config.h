/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM's configuration as plain data.  The CLI fills it today; the API's
 * PUT /boot-source and /machine-config will fill the same struct.
 */
#ifndef EMBER_CONFIG_H
#define EMBER_CONFIG_H

#include <stdio.h>

#include "device.h"
#include "ember.h"
#include "limiter.h"

/* CONSOLE_STREAM: PUT /serial's serial_out_path, a file appended or a FIFO. */
enum console_kind { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE, CONSOLE_STREAM };

/*
 * Where guest RAM comes from on a snapshot restore: the memory file, mapped
 * MAP_PRIVATE (pages load on demand, writes stay ours), regions back to back
 * from offset 0; or, with @uffd, anonymous memory a page-fault handler fills.
 */
struct vm_mem_source {
	int fd;	   /* the memory file (File backend) */
	bool uffd; /* anonymous; snapshot/ hands it to the handler */
};

struct vm_pre; /* vm.h */

#define CONFIG_DEFAULT_VCPUS	1u
#define CONFIG_DEFAULT_MEM_MIB	128u
#define CONFIG_MAX_MEM_MIB	(1u << 20) /* 1 TiB: beyond any host we run on */
#define CONFIG_FORK_POOL_MAX	16	   /* --fork-pool: children kept started */
#define CONFIG_DEFAULT_CMDLINE	"console=ttyS0 reboot=k panic=1"
#define CONFIG_CONSOLE_LIMIT	(64ull << 20)		  /* a file console's default cap */
#define CLI_DEFAULT_API_SOCK	"/run/firecracker.socket" /* Firecracker's, without --api-sock */
#define CLI_DEFAULT_MAX_PAYLOAD 51200u /* Firecracker's --http-api-max-payload-size */

/*
 * Firecracker's flags beyond the basic ones, with its meanings (its
 * src/firecracker/src/main.rs).  The jailer always passes the three start
 * times; they feed api_server.process_startup_time_us / _cpu_us.
 */
#define CLI_TIME_UNSET UINT64_MAX
struct cli_fc {
	uint64_t start_time_us;	     /* CLOCK_MONOTONIC at the jailer's start, or CLI_TIME_UNSET */
	uint64_t start_time_cpu_us;  /* the process's CPU time then, or CLI_TIME_UNSET */
	uint64_t parent_cpu_time_us; /* the jailer's own CPU time, or CLI_TIME_UNSET */
	bool show_level, show_log_origin;
	const char *log_module;	       /* --module: only log lines from files under this path */
	bool boot_timer;	       /* --boot-timer: ember's boot timer is always there */
	uint64_t mmds_size_limit;      /* --mmds-size-limit, bytes; 0: the API payload limit */
	const char *metadata_path;     /* --metadata: JSON for the MMDS data store */
	const char *seccomp_filter;    /* --seccomp-filter: Firecracker's compiled filter file */
	const char *describe_snapshot; /* --describe-snapshot FILE */
};

struct vm_config {
	const char *kernel;
	const char *initrd;  /* NULL: none */
	const char *cmdline; /* never NULL after cli_parse */
	unsigned vcpus;
	uint64_t mem_mib;
	enum console_kind console;
	const char *console_path;	 /* CONSOLE_FILE */
	uint64_t console_limit;		 /* CONSOLE_FILE: bytes written at most (--console-limit) */
	struct tbucket_cfg console_rate; /* PUT /serial's rate_limiter (bytes); size 0: none */
	enum log_level log_level;
	bool no_seccomp;		     /* --no-seccomp: debugging only */
	bool allow_kvm_pvm;		     /* --allow-kvm-pvm: the kernel is PVM-enabled */
	bool no_acpi;			     /* --no-acpi: MP table only, no VM generation ID */
	bool no_device_hints;		     /* --no-device-hints: devices in ACPI only */
	bool track_dirty_pages;		     /* KVM dirty log on guest RAM, for Diff snapshots */
	bool huge_2m;			     /* guest RAM on 2 MiB hugetlbfs pages (hugetlb.c) */
	const struct vm_mem_source *mem_src; /* NULL: fresh anonymous RAM (a boot) */
	struct vm_pre *pre;		     /* NULL, or a VM made ahead: vm_create uses it */
	/* CPU template (cpu_template.h): a custom one, else static @cpu_static (CPUT_NONE: none).
	 */
	const struct cpu_template *cpu_tmpl;
	unsigned cpu_static;
	/* Every virtio device (--disk, --net, --vsock, ...), in the order given. */
	struct vdev_configs devs;
	struct mmds *mmds; /* the MMDS store the NICs answer from; NULL: none */

	/* API mode (no `run`): Firecracker's command line. */
	const char *api_sock;
	const char *instance_id;
	const char *config_file;
	const char *log_path;	  /* --log-path: the log goes there, not stderr */
	const char *metrics_path; /* --metrics-path: JSON lines of counters */
	bool no_api;
	uint64_t max_payload; /* 0: the HTTP layer's default */
	struct cli_fc fc;     /* the rest of Firecracker's flags (cli_fc.c) */
	const char *argv0;    /* how we were run: a live fork re-execs this binary (spawn.c) */
	unsigned fork_pool;   /* --fork-pool: fork children kept started ahead (fork.c) */
	struct fork_child_in *fork_in; /* `ember fork-child`: the parent's request (fork_child.h) */
};

enum cli_action {
	CLI_RUN,
	CLI_API,
	CLI_HELP,
	CLI_VERSION,
	CLI_SNAPSHOT_VERSION,  /* --snapshot-version: the format ember writes */
	CLI_DESCRIBE_SNAPSHOT, /* --describe-snapshot FILE: that file's format */
};

/*
 * Parses argv (argv[0] is the program).  Pure: no files opened, no globals.
 * Returns 0 and sets *action, or -EINVAL with a message in @err.
 */
int cli_parse(int argc, char *const argv[], struct vm_config *cfg, enum cli_action *action,
	      char *err, size_t errlen);
/* The usage text, with every registered device type's option. */
void cli_print_usage(FILE *f);
/*
 * `ember --version`: Firecracker's first line ("Firecracker vX.Y.Z", which
 * Kata splits into words and the go-sdk matches to the end of the line), a
 * blank line as Firecracker prints, then ember's own version.
 */
void cli_print_version(FILE *f);

/* cli_fc.c: 0, 1 (not one of its options) or -EINVAL with a message. */
int cli_fc_apply(struct cli_fc *fc, const char *opt, const char *val, char *err, size_t errlen);
void cli_fc_defaults(struct cli_fc *fc);
/* Flags that exclude each other: 0 or -EINVAL with a message. */
int cli_fc_check(const struct vm_config *cfg, char *err, size_t errlen);
/* What the MMDS data store may hold, in bytes (Firecracker's default: the payload limit). */
uint64_t cli_fc_mmds_size_limit(const struct vm_config *cfg);

#endif /* EMBER_CONFIG_H */
