// SPDX-License-Identifier: Apache-2.0
/*
 * The command line for people: `ember run --kernel K [...]`.  Hand-rolled
 * rather than getopt so it keeps no global state and reports exactly which
 * argument is wrong.  Numbers are strict: digits only, in range.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "layout.h"

static const char usage_head[] =
    "usage: ember run --kernel PATH [options]\n"
    "       ember --api-sock PATH [--id ID] [--config-file FILE] [--log-level L]\n"
    "             [--http-api-max-payload-size BYTES] [--log-path PATH]\n"
    "             [--level Error|Warning|Info|Debug|Trace] [--metrics-path PATH]\n"
    "             [--show-level] [--show-log-origin] [--module PATH] [--boot-timer]\n"
    "             [--start-time-us US] [--start-time-cpu-us US] [--parent-cpu-time-us US]\n"
    "             [--seccomp-filter FILE] [--mmds-size-limit BYTES] [--metadata FILE]\n"
    "       ember --config-file FILE --no-api\n"
    "       ember --describe-snapshot STATE_FILE | --snapshot-version\n"
    "       ember rebase-mem BASE_MEM_FILE DIFF_MEM_FILE\n"
    "       ember --help | --version\n"
    "\n"
    "  --kernel PATH       ELF vmlinux (PVH or 64-bit entry) or bzImage\n"
    "  --initrd PATH       initramfs loaded for the kernel\n"
    "  --cmdline STRING    kernel command line (default: \"" CONFIG_DEFAULT_CMDLINE "\")\n"
    "  --vcpus N           1..32 (default 1)\n"
    "  --mem MIB           guest RAM in MiB (default 128)\n"
    "  --console KIND      stdio (default), none, or file:PATH\n"
    "  --console-limit MIB a file console stops after this much (default 64;\n"
    "                      later output is dropped and counted in metrics)\n";
/* Then each device type's option, from the registry, then this. */
static const char usage_tail[] =
    "  --log-level LEVEL   error, warn, info (default) or debug\n"
    "  --no-seccomp        run without the per-thread seccomp filters (debugging)\n"
    "  --allow-kvm-pvm     run on a kvm-pvm /dev/kvm (the guest kernel must be\n"
    "                      PVM-enabled; ember refuses such a host otherwise)\n"
    "  --no-acpi           no ACPI tables (and no VM generation ID): the MP table\n"
    "                      and the command line's device list only\n"
    "  --no-device-hints   no virtio_mmio.device= on the command line: the guest\n"
    "                      finds its devices in the ACPI tables\n"
    "\n"
    "  --fork-pool N       keep N live-fork children started (processes with an\n"
    "                      empty KVM VM, 0 to 16, default 0): PUT /vm/fork uses\n"
    "                      them first and starts new ones after it\n"
    "\n"
    "  --seccomp-filter FILE  install Firecracker's compiled filters (seccompiler-bin)\n"
    "                      on the vmm, api and vcpu threads instead of ember's own\n"
    "\n"
    "API mode speaks Firecracker's REST API on the Unix socket PATH\n"
    "(default " CLI_DEFAULT_API_SOCK ") with Firecracker's flags and meanings;\n"
    "--config-file takes the JSON of GET /vm/config and starts the VM.\n"
    "rebase-mem copies the pages of a Diff snapshot's memory file onto the\n"
    "memory file of the snapshot before it, which then loads as the newest.\n"
    "\n"
    "exit status: 0 guest reset/powered off, 1 bad arguments or images,\n"
    "             2 VMM/KVM failure (no /dev/kvm, a kvm-pvm host), 3 guest\n"
    "             crashed (e.g. triple fault),\n"
    "             148 a thread made a system call its seccomp filter forbids\n";

void cli_print_usage(FILE *f)
{
	fputs(usage_head, f);
	for (unsigned i = 0; i < vdev_type_count(); i++)
		if (vdev_type_at(i)->cli_opt)
			fputs(vdev_type_at(i)->cli_help, f);
	fputs(usage_tail, f);
}

void cli_print_version(FILE *f)
{
	fputs("Firecracker v" EMBER_FC_VERSION "\n\nember " EMBER_VERSION
	      " (Firecracker's API, v" EMBER_FC_VERSION ")\n",
	      f);
}

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -EINVAL;
}

static int parse_console(const char *v, struct vm_config *cfg)
{
	if (!strcmp(v, "stdio"))
		cfg->console = CONSOLE_STDIO;
	else if (!strcmp(v, "none"))
		cfg->console = CONSOLE_NONE;
	else if (!strncmp(v, "file:", 5) && v[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = v + 5;
	} else
		return -EINVAL;
	return 0;
}

static int parse_log_level(const char *v, enum log_level *lvl)
{
	static const char *const names[] = {
	    [LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i])) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int apply(struct vm_config *cfg, const char *opt, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (!strcmp(opt, "--kernel")) {
		cfg->kernel = val;
	} else if (!strcmp(opt, "--initrd")) {
		cfg->initrd = val;
	} else if (!strcmp(opt, "--cmdline")) {
		cfg->cmdline = val;
	} else if (!strcmp(opt, "--vcpus")) {
		if (str_to_u64(val, MAX_VCPUS, &n) || n == 0)
			return bad(err, errlen, "--vcpus: '%s' is not a number from 1 to 32", val);
		cfg->vcpus = (unsigned)n;
	} else if (!strcmp(opt, "--mem")) {
		if (str_to_u64(val, CONFIG_MAX_MEM_MIB, &n) || n == 0)
			return bad(err, errlen,
				   "--mem: '%s' is not a size in MiB from 1 to 1048576", val);
		cfg->mem_mib = n;
	} else if (!strcmp(opt, "--console")) {
		if (parse_console(val, cfg))
			return bad(err, errlen, "--console: '%s' is not stdio, none or file:PATH",
				   val);
	} else if (!strcmp(opt, "--console-limit")) {
		if (str_to_u64(val, 1u << 20, &n) || n == 0)
			return bad(err, errlen,
				   "--console-limit: '%s' is not a size in MiB from 1 to 1048576",
				   val);
		cfg->console_limit = n << 20;
	} else if (!strcmp(opt, "--api-sock")) {
		if (!*val)
			return bad(err, errlen, "%s: empty path", opt);
		cfg->api_sock = val;
	} else if (!strcmp(opt, "--id")) {
		cfg->instance_id = val; /* checked by the API (Firecracker's id rules) */
	} else if (!strcmp(opt, "--config-file")) {
		cfg->config_file = val;
	} else if (!strcmp(opt, "--no-api")) {
		cfg->no_api = true;
	} else if (!strcmp(opt, "--log-path")) {
		cfg->log_path = val;
	} else if (!strcmp(opt, "--metrics-path")) {
		cfg->metrics_path = val;
	} else if (!strcmp(opt, "--level")) {
		/* Firecracker's logger levels (PUT /logger's "level"). */
		static const char *const fc[] = {"Error", "Warning", "Info", "Debug",
						 "Trace", "Warn",    "Off"};
		/* ember always reports errors: Off keeps those. */
		static const enum log_level ours[] = {LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG,
						      LOG_DEBUG, LOG_WARN, LOG_ERROR};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(fc) && strcasecmp(val, fc[i]); i++)
			;
		if (i == ARRAY_SIZE(fc))
			return bad(err, errlen,
				   "--level: '%s' is not Off, Error, Warning, Info, Debug or Trace",
				   val);
		cfg->log_level = ours[i];
	} else if (!strcmp(opt, "--no-seccomp")) {
		cfg->no_seccomp = true;
	} else if (!strcmp(opt, "--allow-kvm-pvm")) {
		cfg->allow_kvm_pvm = true;
	} else if (!strcmp(opt, "--fork-pool")) {
		if (str_to_u64(val, CONFIG_FORK_POOL_MAX, &n))
			return bad(err, errlen, "--fork-pool: '%s' is not a number from 0 to 16",
				   val);
		cfg->fork_pool = (unsigned)n;
	} else if (!strcmp(opt, "--no-acpi")) {
		cfg->no_acpi = true;
	} else if (!strcmp(opt, "--no-device-hints")) {
		cfg->no_device_hints = true;
	} else if (!strcmp(opt, "--http-api-max-payload-size")) {
		if (str_to_u64(val, MiB(64), &n) || n == 0)
			return bad(
			    err, errlen,
			    "--http-api-max-payload-size: '%s' is not a size from 1 to 67108864",
			    val);
		cfg->max_payload = n;
	} else if (!strcmp(opt, "--log-level")) {
		if (parse_log_level(val, &cfg->log_level))
			return bad(err, errlen,
				   "--log-level: '%s' is not error, warn, info or debug", val);
	} else {
		int r = cli_fc_apply(&cfg->fc, opt, val, err, errlen);

		if (r <= 0)
			return r;
		return bad(err, errlen, "unknown option '%s'", opt);
	}
	return 0;
}

/* Which command an option belongs to, and whether it takes a value. */
enum { OPT_RUN = 1, OPT_API = 2 };
struct opt_info {
	const char *name;
	unsigned modes;
	bool flag; /* no value */
};

static const struct opt_info options[] = {
    {"--kernel", OPT_RUN, false},
    {"--initrd", OPT_RUN, false},
    {"--cmdline", OPT_RUN, false},
    {"--vcpus", OPT_RUN, false},
    {"--mem", OPT_RUN, false},
    {"--console", OPT_RUN, false},
    {"--console-limit", OPT_RUN, false},
    {"--log-level", OPT_RUN | OPT_API, false},
    {"--api-sock", OPT_API, false},
    {"--id", OPT_API, false},
    {"--config-file", OPT_API, false},
    {"--http-api-max-payload-size", OPT_API, false},
    {"--no-api", OPT_API, true},
    {"--log-path", OPT_API, false},
    {"--level", OPT_API, false},
    {"--metrics-path", OPT_API, false},
    {"--no-seccomp", OPT_RUN | OPT_API, true},
    {"--allow-kvm-pvm", OPT_RUN | OPT_API, true},
    {"--start-time-us", OPT_API, false},
    {"--start-time-cpu-us", OPT_API, false},
    {"--parent-cpu-time-us", OPT_API, false},
    {"--show-level", OPT_API, true},
    {"--show-log-origin", OPT_API, true},
    {"--module", OPT_API, false},
    {"--boot-timer", OPT_API, true},
    {"--mmds-size-limit", OPT_API, false},
    {"--metadata", OPT_API, false},
    {"--seccomp-filter", OPT_RUN | OPT_API, false},
    {"--describe-snapshot", OPT_API, false},
    {"--snapshot-version", OPT_API, true},
    {"--version", OPT_API, true},
    {"--enable-pci", OPT_API, true},
    {"--fork-pool", OPT_API, false},
    {"--no-acpi", OPT_RUN, true},
    {"--no-device-hints", OPT_RUN, true},
};

/* Every device type's option (--disk, --net, ...): `ember run`, with a value or not. */
static const struct opt_info device_option = {"", OPT_RUN, false};
static const struct opt_info device_flag = {"", OPT_RUN, true};

static const struct opt_info *find_option(const char *opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (!strcmp(opt, options[i].name))
			return &options[i];
	return NULL;
}

int cli_parse(int argc, char *const argv[], struct vm_config *cfg, enum cli_action *action,
	      char *err, size_t errlen)
{
	/*
	 * Everything cleared but devs.dev[] (~70 KiB, valid up to devs.nr
	 * only): clearing it would fault in that much of main()'s stack at
	 * every start, before the API socket is ready.
	 */
	memset(cfg, 0, offsetof(struct vm_config, devs.dev));
	memset(&cfg->devs.nr, 0, sizeof(*cfg) - offsetof(struct vm_config, devs.nr));
	cfg->cmdline = CONFIG_DEFAULT_CMDLINE;
	cfg->vcpus = CONFIG_DEFAULT_VCPUS;
	cfg->mem_mib = CONFIG_DEFAULT_MEM_MIB;
	cfg->console = CONSOLE_STDIO;
	cfg->console_limit = CONFIG_CONSOLE_LIMIT;
	cfg->log_level = LOG_INFO;
	cli_fc_defaults(&cfg->fc);
	err[0] = '\0';
	if (argc < 2)
		return bad(err, errlen, "%smissing command (try 'ember --help')", "");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*action = CLI_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		*action = CLI_VERSION;
		return 0;
	}
	/* `ember run ...` for people; bare options are Firecracker's API mode. */
	unsigned mode = OPT_RUN;
	int first = 2;

	if (!strncmp(argv[1], "--", 2)) {
		mode = OPT_API;
		first = 1;
	} else if (strcmp(argv[1], "run")) {
		return bad(err, errlen, "unknown command '%s' (try 'ember --help')", argv[1]);
	}
	*action = mode == OPT_RUN ? CLI_RUN : CLI_API;

	for (int i = first; i < argc; i++) {
		char opt[40];
		const char *arg = argv[i], *val, *eq;
		const struct opt_info *oi;
		const struct vdev_type *dev;
		int r;

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			*action = CLI_HELP;
			return 0;
		}
		if (strncmp(arg, "--", 2))
			return bad(err, errlen, "unexpected argument '%s'", arg);
		eq = strchr(arg, '=');
		if ((size_t)(eq ? eq - arg : (ptrdiff_t)strlen(arg)) >= sizeof(opt))
			return bad(err, errlen, "unknown option '%s'", arg);
		if (eq) { /* --opt=value */
			memcpy(opt, arg, (size_t)(eq - arg));
			opt[eq - arg] = '\0';
		} else {
			strcpy(opt, arg);
		}
		oi = find_option(opt);
		dev = oi ? NULL : vdev_type_by_opt(opt);
		if (dev)
			oi = dev->cli_flag ? &device_flag : &device_option;
		if (!oi)
			return bad(err, errlen, "unknown option '%s'", opt);
		if (!(oi->modes & mode))
			return bad(err, errlen,
				   mode == OPT_RUN ? "%s is not an option of 'ember run'"
						   : "%s is an option of 'ember run'",
				   opt);
		if (oi->flag) {
			if (eq)
				return bad(err, errlen, "%s takes no value", opt);
			val = NULL;
		} else if (eq) {
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return bad(err, errlen, "%s needs a value", arg);
			val = argv[++i];
		}
		if (!strcmp(opt, "--version") || !strcmp(opt, "--snapshot-version")) {
			/* Anywhere on the line, as Firecracker: the first wins over the second. */
			if (*action != CLI_VERSION)
				*action = opt[2] == 'v' ? CLI_VERSION : CLI_SNAPSHOT_VERSION;
			continue;
		}
		r = dev ? vdev_configs_parse(&cfg->devs, dev, val, err, errlen)
			: apply(cfg, opt, val, err, errlen);
		if (r)
			return r;
	}
	if (*action == CLI_VERSION || *action == CLI_SNAPSHOT_VERSION)
		return 0;
	if (cfg->fc.describe_snapshot) {
		*action = CLI_DESCRIBE_SNAPSHOT;
		return 0;
	}
	if (mode == OPT_RUN && !cfg->kernel)
		return bad(err, errlen, "%s--kernel is required", "");
	if (cfg->no_acpi && cfg->no_device_hints)
		return bad(err, errlen,
			   "%s--no-acpi with --no-device-hints: the guest would find no devices",
			   "");
	if (mode == OPT_API && cfg->no_api && !cfg->config_file)
		return bad(err, errlen, "%s--no-api needs --config-file", "");
	if (mode == OPT_API && !cfg->no_api && !cfg->api_sock)
		cfg->api_sock = CLI_DEFAULT_API_SOCK; /* as Firecracker */
	return cli_fc_check(cfg, err, errlen);
}
