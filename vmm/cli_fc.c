// SPDX-License-Identifier: Apache-2.0
/*
 * The rest of Firecracker's command line (its src/firecracker/src/main.rs):
 * the flags its jailer always passes (--start-time-us, --start-time-cpu-us,
 * --parent-cpu-time-us), the logger's (--show-level, --show-log-origin,
 * --module), --boot-timer, --mmds-size-limit, --metadata, --seccomp-filter,
 * --snapshot-version and --describe-snapshot.  Kept apart from cli.c so the
 * `ember run` side stays readable.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

static int fc_bad(char *err, size_t errlen, const char *opt, const char *val, const char *what)
{
	snprintf(err, errlen, "%s: '%s' is not %s", opt, val, what);
	return -EINVAL;
}

/* Firecracker parses these as u64 and refuses anything else. */
static int fc_u64(const char *opt, const char *val, uint64_t *out, char *err, size_t errlen)
{
	if (str_to_u64(val, UINT64_MAX - 1, out))
		return fc_bad(err, errlen, opt, val, "a number of microseconds");
	return 0;
}

int cli_fc_apply(struct cli_fc *fc, const char *opt, const char *val, char *err, size_t errlen)
{
	uint64_t n;

	if (!strcmp(opt, "--start-time-us"))
		return fc_u64(opt, val, &fc->start_time_us, err, errlen);
	if (!strcmp(opt, "--start-time-cpu-us"))
		return fc_u64(opt, val, &fc->start_time_cpu_us, err, errlen);
	if (!strcmp(opt, "--parent-cpu-time-us"))
		return fc_u64(opt, val, &fc->parent_cpu_time_us, err, errlen);
	if (!strcmp(opt, "--show-level")) {
		fc->show_level = true;
	} else if (!strcmp(opt, "--show-log-origin")) {
		fc->show_log_origin = true;
	} else if (!strcmp(opt, "--module")) {
		fc->log_module = val;
	} else if (!strcmp(opt, "--boot-timer")) {
		fc->boot_timer = true;
	} else if (!strcmp(opt, "--mmds-size-limit")) {
		if (str_to_u64(val, UINT32_MAX, &n) || n == 0)
			return fc_bad(err, errlen, opt, val,
				      "a size in bytes from 1 to 4294967295");
		fc->mmds_size_limit = n;
	} else if (!strcmp(opt, "--metadata")) {
		fc->metadata_path = val;
	} else if (!strcmp(opt, "--seccomp-filter")) {
		if (!*val)
			return fc_bad(err, errlen, opt, val, "a file");
		fc->seccomp_filter = val;
	} else if (!strcmp(opt, "--describe-snapshot")) {
		if (!*val)
			return fc_bad(err, errlen, opt, val, "a file");
		fc->describe_snapshot = val;
	} else if (!strcmp(opt, "--enable-pci")) {
		snprintf(err, errlen,
			 "--enable-pci: ember has no PCI transport (its devices are virtio-mmio)");
		return -EINVAL;
	} else {
		return 1;
	}
	return 0;
}

void cli_fc_defaults(struct cli_fc *fc)
{
	*fc = (struct cli_fc){
	    .start_time_us = CLI_TIME_UNSET,
	    .start_time_cpu_us = CLI_TIME_UNSET,
	    .parent_cpu_time_us = CLI_TIME_UNSET,
	};
}

uint64_t cli_fc_mmds_size_limit(const struct vm_config *cfg)
{
	/* As Firecracker: without --mmds-size-limit, the API's payload limit. */
	if (cfg->fc.mmds_size_limit)
		return cfg->fc.mmds_size_limit;
	return cfg->max_payload ? cfg->max_payload : CLI_DEFAULT_MAX_PAYLOAD;
}

int cli_fc_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	if (cfg->fc.seccomp_filter && cfg->no_seccomp) {
		snprintf(err, errlen, "--seccomp-filter and --no-seccomp exclude each other");
		return -EINVAL;
	}
	return 0;
}
