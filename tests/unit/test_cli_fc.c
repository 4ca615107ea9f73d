// SPDX-License-Identifier: Apache-2.0
/*
 * Firecracker's command line beyond the basics (vmm/cli_fc.c): what its
 * jailer and clients pass, with its meanings, and every refusal.
 */
#include <stdio.h>

#include "config.h"
#include "snapfile.h"
#include "unit.h"

static int parse_v(struct vm_config *cfg, enum cli_action *act, char *err, va_list ap)
{
	char *argv[32] = {"ember"};
	int argc = 1;

	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	return cli_parse(argc, argv, cfg, act, err, 256);
}

static int parse(struct vm_config *cfg, enum cli_action *act, char *err, ...)
{
	va_list ap;
	int r;

	va_start(ap, err);
	r = parse_v(cfg, act, err, ap);
	va_end(ap);
	return r;
}

#define P(...) parse(&cfg, &act, err, __VA_ARGS__, (char *)NULL)

static void refused(const char *needle, ...)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];
	va_list ap;

	va_start(ap, needle);
	assert_int_equal(parse_v(&cfg, &act, err, ap), -EINVAL);
	va_end(ap);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* What firecracker's jailer execs: the three start times, always. */
static void test_jailer_times(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--id", "vm1", "--start-time-us", "1234567", "--start-time-cpu-us", "89",
			   "--parent-cpu-time-us", "4000", "--api-sock", "/run/a.sock"),
			 0);
	assert_int_equal(act, CLI_API);
	assert_true(cfg.fc.start_time_us == 1234567);
	assert_true(cfg.fc.start_time_cpu_us == 89);
	assert_true(cfg.fc.parent_cpu_time_us == 4000);
	assert_string_equal(cfg.api_sock, "/run/a.sock");
	/* Absent: unset, not 0 (a real start time may be anything). */
	assert_int_equal(P("--api-sock", "/s"), 0);
	assert_true(cfg.fc.start_time_us == CLI_TIME_UNSET);
	assert_true(cfg.fc.start_time_cpu_us == CLI_TIME_UNSET);
	assert_true(cfg.fc.parent_cpu_time_us == CLI_TIME_UNSET);
	assert_int_equal(P("--start-time-us=0"), 0);
	assert_true(cfg.fc.start_time_us == 0);

	refused("--start-time-us: 'soon' is not a number", "--start-time-us", "soon", (char *)NULL);
	refused("--start-time-cpu-us: '-1'", "--start-time-cpu-us", "-1", (char *)NULL);
	refused("--parent-cpu-time-us: '1.5'", "--parent-cpu-time-us", "1.5", (char *)NULL);
	refused("--start-time-us: '18446744073709551616'", "--start-time-us",
		"18446744073709551616", (char *)NULL);
	refused("--start-time-us needs a value", "--start-time-us", (char *)NULL);
	/* The jailer's flags are Firecracker's, not `ember run`'s. */
	refused("not an option of 'ember run'", "run", "--kernel", "k", "--start-time-us", "1",
		(char *)NULL);
}

/* No --api-sock and no --no-api: /run/firecracker.socket, as Firecracker. */
static void test_default_socket(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--level", "Info"), 0);
	assert_string_equal(cfg.api_sock, CLI_DEFAULT_API_SOCK);
	assert_string_equal(cfg.api_sock, "/run/firecracker.socket");
	assert_int_equal(P("--config-file", "c.json", "--no-api"), 0);
	assert_null(cfg.api_sock);
	assert_int_equal(P("--config-file", "c.json"), 0);
	assert_string_equal(cfg.api_sock, "/run/firecracker.socket");
}

static void test_logger_flags(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--show-level", "--show-log-origin", "--module", "virtio/"), 0);
	assert_true(cfg.fc.show_level);
	assert_true(cfg.fc.show_log_origin);
	assert_string_equal(cfg.fc.log_module, "virtio/");
	assert_int_equal(P("--api-sock", "s"), 0);
	assert_false(cfg.fc.show_level);
	assert_false(cfg.fc.show_log_origin);
	assert_null(cfg.fc.log_module);
	refused("--show-level takes no value", "--show-level=yes", (char *)NULL);
	refused("--module needs a value", "--module", (char *)NULL);
	/* Firecracker's level names, any case, "Warn" and "Off" too. */
	assert_int_equal(P("--level", "warn"), 0);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_int_equal(P("--level", "OFF"), 0);
	assert_int_equal(cfg.log_level, LOG_ERROR);
	assert_int_equal(P("--level", "trace"), 0);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	refused("--level: 'Verbose'", "--level", "Verbose", (char *)NULL);
}

static void test_other_flags(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--boot-timer", "--mmds-size-limit", "1048576", "--metadata", "m.json",
			   "--seccomp-filter", "/f.bpf"),
			 0);
	assert_true(cfg.fc.boot_timer);
	assert_true(cfg.fc.mmds_size_limit == 1048576);
	assert_true(cli_fc_mmds_size_limit(&cfg) == 1048576);
	assert_string_equal(cfg.fc.metadata_path, "m.json");
	assert_string_equal(cfg.fc.seccomp_filter, "/f.bpf");
	/* Without --mmds-size-limit, the MMDS store may hold what one request may carry. */
	assert_int_equal(P("--http-api-max-payload-size", "9000"), 0);
	assert_true(cli_fc_mmds_size_limit(&cfg) == 9000);
	assert_int_equal(P("--api-sock", "s"), 0);
	assert_true(cli_fc_mmds_size_limit(&cfg) == 51200);
	assert_false(cfg.fc.boot_timer);
	assert_null(cfg.fc.seccomp_filter);
	/* --seccomp-filter also works for `ember run`. */
	assert_int_equal(P("run", "--kernel", "k", "--seccomp-filter", "/f"), 0);
	assert_string_equal(cfg.fc.seccomp_filter, "/f");

	refused("--mmds-size-limit: '0'", "--mmds-size-limit", "0", (char *)NULL);
	refused("--mmds-size-limit: '1k'", "--mmds-size-limit", "1k", (char *)NULL);
	refused("--seccomp-filter and --no-seccomp exclude each other", "--seccomp-filter", "/f",
		"--no-seccomp", (char *)NULL);
	refused("--seccomp-filter and --no-seccomp", "run", "--kernel", "k", "--no-seccomp",
		"--seccomp-filter", "/f", (char *)NULL);
	refused("--seccomp-filter: '' is not a file", "--seccomp-filter", "", (char *)NULL);
	refused("no PCI transport", "--enable-pci", (char *)NULL);
	refused("--boot-timer takes no value", "--boot-timer=1", (char *)NULL);
}

/* --version, --snapshot-version and --describe-snapshot print and exit. */
static void test_print_and_exit(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--snapshot-version"), 0);
	assert_int_equal(act, CLI_SNAPSHOT_VERSION);
	assert_int_equal(P("--api-sock", "s", "--version"), 0);
	assert_int_equal(act, CLI_VERSION);
	/* Firecracker's order: --version before --snapshot-version before --describe. */
	assert_int_equal(P("--snapshot-version", "--version"), 0);
	assert_int_equal(act, CLI_VERSION);
	assert_int_equal(P("--describe-snapshot", "vm.state", "--snapshot-version"), 0);
	assert_int_equal(act, CLI_SNAPSHOT_VERSION);
	assert_int_equal(P("--describe-snapshot", "vm.state"), 0);
	assert_int_equal(act, CLI_DESCRIBE_SNAPSHOT);
	assert_string_equal(cfg.fc.describe_snapshot, "vm.state");
	/* They need nothing else, not even --config-file for --no-api. */
	assert_int_equal(P("--no-api", "--snapshot-version"), 0);
	assert_int_equal(act, CLI_SNAPSHOT_VERSION);
	refused("--describe-snapshot needs a value", "--describe-snapshot", (char *)NULL);
	refused("takes no value", "--snapshot-version=1", (char *)NULL);
}

/* The header --describe-snapshot reads: any version, only the magic checked. */
static void test_snap_describe(void **state)
{
	uint8_t h[SNAP_HDR_SIZE] = "EMBERSNP";
	uint32_t v = 0;
	char err[128];

	(void)state;
	h[8] = 2;
	assert_int_equal(snap_describe(h, sizeof(h), &v, err, sizeof(err)), 0);
	assert_int_equal(v, 2);
	h[8] = 1; /* older than this ember reads: still described */
	assert_int_equal(snap_describe(h, sizeof(h), &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	h[9] = 1;
	assert_int_equal(snap_describe(h, sizeof(h), &v, err, sizeof(err)), 0);
	assert_int_equal(v, 257);
	assert_int_equal(snap_describe(h, 11, &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an ember state file"));
	h[0] = 'X';
	assert_int_equal(snap_describe(h, sizeof(h), &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(snap_describe("", 0, &v, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jailer_times),   cmocka_unit_test(test_default_socket),
	    cmocka_unit_test(test_logger_flags),   cmocka_unit_test(test_other_flags),
	    cmocka_unit_test(test_print_and_exit), cmocka_unit_test(test_snap_describe),
	};
	return cmocka_run_group_tests_name("cli_fc", tests, NULL, NULL);
}
