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

enum console_kind { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE };

/*
 * Where guest RAM comes from on a snapshot restore: the memory file, mapped
 * MAP_PRIVATE (pages load on demand, writes stay ours), regions back to back
 * from offset 0; or, with @uffd, anonymous memory a page-fault handler fills.
 */
struct vm_mem_source {
	int fd;	   /* the memory file (File backend) */
	bool uffd; /* anonymous; snapshot/ hands it to the handler */
};

#define CONFIG_DEFAULT_VCPUS   1u
#define CONFIG_DEFAULT_MEM_MIB 128u
#define CONFIG_MAX_MEM_MIB     (1u << 20) /* 1 TiB: beyond any host we run on */
#define CONFIG_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1"
#define CONFIG_CONSOLE_LIMIT   (64ull << 20) /* a file console's default cap */

struct vm_config {
	const char *kernel;
	const char *initrd;  /* NULL: none */
	const char *cmdline; /* never NULL after cli_parse */
	unsigned vcpus;
	uint64_t mem_mib;
	enum console_kind console;
	const char *console_path; /* CONSOLE_FILE */
	uint64_t console_limit;	  /* CONSOLE_FILE: bytes written at most (--console-limit) */
	enum log_level log_level;
	bool no_seccomp;		     /* --no-seccomp: debugging only */
	bool allow_kvm_pvm;		     /* --allow-kvm-pvm: the kernel is PVM-enabled */
	bool no_acpi;			     /* --no-acpi: MP table only, no VM generation ID */
	bool no_device_hints;		     /* --no-device-hints: devices in ACPI only */
	bool track_dirty_pages;		     /* KVM dirty log on guest RAM, for Diff snapshots */
	const struct vm_mem_source *mem_src; /* NULL: fresh anonymous RAM (a boot) */
	/* Every virtio device (--disk, --net, --vsock, ...), in the order given. */
	struct vdev_configs devs;

	/* API mode (no `run`): Firecracker's command line. */
	const char *api_sock;
	const char *instance_id;
	const char *config_file;
	const char *log_path;	  /* --log-path: the log goes there, not stderr */
	const char *metrics_path; /* --metrics-path: JSON lines of counters */
	bool no_api;
	uint64_t max_payload; /* 0: the HTTP layer's default */
};

enum cli_action { CLI_RUN, CLI_API, CLI_HELP, CLI_VERSION };

/*
 * Parses argv (argv[0] is the program).  Pure: no files opened, no globals.
 * Returns 0 and sets *action, or -EINVAL with a message in @err.
 */
int cli_parse(int argc, char *const argv[], struct vm_config *cfg, enum cli_action *action,
	      char *err, size_t errlen);
/* The usage text, with every registered device type's option. */
void cli_print_usage(FILE *f);

#endif /* EMBER_CONFIG_H */
