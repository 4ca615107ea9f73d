// SPDX-License-Identifier: Apache-2.0
/* `ember run` argument parsing: defaults, both option forms, every refusal. */
#include "config.h"
#include "unit.h"

static int parse(struct vm_config *cfg, enum cli_action *act, char *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return cli_parse(argc, argv, cfg, act, err, 256);
}

#define P(...) parse(&cfg, &act, err, "ember", __VA_ARGS__, (char *)NULL)

static void test_defaults(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("run", "--kernel", "vmlinux"), 0);
	assert_int_equal(act, CLI_RUN);
	assert_string_equal(cfg.kernel, "vmlinux");
	assert_null(cfg.initrd);
	assert_string_equal(cfg.cmdline, CONFIG_DEFAULT_CMDLINE);
	assert_int_equal(cfg.vcpus, 1);
	assert_int_equal(cfg.mem_mib, 128);
	assert_int_equal(cfg.console, CONSOLE_STDIO);
	assert_int_equal(cfg.log_level, LOG_INFO);
}

static void test_all_options(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("run", "--kernel", "k", "--initrd", "i", "--cmdline", "a b=c", "--vcpus",
			   "32", "--mem=4096", "--console", "file:/tmp/x", "--log-level=debug"),
			 0);
	assert_string_equal(cfg.initrd, "i");
	assert_string_equal(cfg.cmdline, "a b=c");
	assert_int_equal(cfg.vcpus, 32);
	assert_int_equal(cfg.mem_mib, 4096);
	assert_int_equal(cfg.console, CONSOLE_FILE);
	assert_string_equal(cfg.console_path, "/tmp/x");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(P("run", "--kernel=k", "--console=none"), 0);
	assert_int_equal(cfg.console, CONSOLE_NONE);
	assert_string_equal(cfg.kernel, "k");
	assert_int_equal(P("run", "--kernel", "k", "--cmdline="), 0); /* empty is allowed */
	assert_string_equal(cfg.cmdline, "");
}

static void test_help_version(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--help"), 0);
	assert_int_equal(act, CLI_HELP);
	assert_int_equal(P("run", "--help"), 0);
	assert_int_equal(act, CLI_HELP);
	assert_int_equal(P("--version"), 0);
	assert_int_equal(act, CLI_VERSION);
}

static void expect_error(const char *needle, ...)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256], *argv[32] = {"ember"};
	int argc = 1;
	va_list ap;

	va_start(ap, needle);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_int_equal(cli_parse(argc, argv, &cfg, &act, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_error("missing command", (char *)NULL);
	expect_error("unknown command", "boot", (char *)NULL);
	expect_error("--kernel is required", "run", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "0", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "33", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "-1", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "2x", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", " 2", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "99999999999999999999999",
		     (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "0", (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "100000000", (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "18446744073709551616",
		     (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "1G", (char *)NULL);
	expect_error("--console", "run", "--kernel", "k", "--console", "tty", (char *)NULL);
	expect_error("--console", "run", "--kernel", "k", "--console", "file:", (char *)NULL);
	expect_error("--log-level", "run", "--kernel", "k", "--log-level", "loud", (char *)NULL);
	expect_error("needs a value", "run", "--kernel", (char *)NULL);
	expect_error("unknown option", "run", "--kernel", "k", "--frobnicate", "1", (char *)NULL);
	/* Last on the line: unknown, not "needs a value". */
	expect_error("unknown option", "run", "--kernel", "k", "--frobnicate", (char *)NULL);
	expect_error("unknown option", "run", "--kernel", "k",
		     "--an-option-name-far-longer-than-any-we-have=1", (char *)NULL);
	expect_error("unexpected argument", "run", "vmlinux", (char *)NULL);
}

/* --net and --vsock build the same config structs the API fills. */
static void test_net_vsock(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("run", "--kernel", "k", "--net", "tap=tap0,mac=06:00:ac:10:00:02",
			   "--net", "tap=tap1,id=eth1", "--vsock", "cid=3,uds=/tmp/v.sock"),
			 0);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].host_dev_name, "tap0");
	assert_true(cfg.nets[0].has_mac);
	assert_int_equal(cfg.nets[0].mac[5], 2);
	assert_string_equal(cfg.nets[1].iface_id, "eth1");
	assert_true(cfg.has_vsock);
	assert_int_equal(cfg.vsock.guest_cid, 3);
	assert_string_equal(cfg.vsock.uds_path, "/tmp/v.sock");

	expect_error("used twice", "run", "--kernel", "k", "--net", "tap=tap0", "--net",
		     "tap=tap0,id=x", (char *)NULL);
	expect_error("--net", "run", "--kernel", "k", "--net", "mac=06:00:00:00:00:01",
		     (char *)NULL);
	expect_error("--vsock", "run", "--kernel", "k", "--vsock", "cid=2,uds=/tmp/v",
		     (char *)NULL);
	expect_error("only one vsock", "run", "--kernel", "k", "--vsock", "cid=3,uds=/a", "--vsock",
		     "cid=4,uds=/b", (char *)NULL);
	expect_error("more than 4", "run", "--kernel", "k", "--net", "tap=a", "--net", "tap=b",
		     "--net", "tap=c", "--net", "tap=d", "--net", "tap=e", (char *)NULL);
	expect_error("not an option of 'ember run'", "run", "--kernel", "k", "--no-api",
		     (char *)NULL);
	assert_int_equal(P("run", "--kernel", "k", "--no-seccomp"), 0);
	assert_true(cfg.no_seccomp);
	assert_false(cfg.allow_kvm_pvm);
	/* kvm-pvm is refused unless the user says the kernel is PVM-enabled. */
	assert_int_equal(P("run", "--kernel", "k", "--allow-kvm-pvm"), 0);
	assert_true(cfg.allow_kvm_pvm);
	assert_int_equal(P("--api-sock", "/s", "--allow-kvm-pvm"), 0);
	assert_true(cfg.allow_kvm_pvm);
	expect_error("takes no value", "run", "--kernel", "k", "--allow-kvm-pvm=1", (char *)NULL);
}

/* Firecracker's command line: bare options, no `run`. */
static void test_api_mode(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--api-sock", "/run/e.sock", "--id", "vm-1",
			   "--http-api-max-payload-size=4096", "--log-level", "debug"),
			 0);
	assert_int_equal(act, CLI_API);
	assert_string_equal(cfg.api_sock, "/run/e.sock");
	assert_string_equal(cfg.instance_id, "vm-1");
	assert_int_equal(cfg.max_payload, 4096);
	assert_false(cfg.no_api);
	assert_int_equal(P("--config-file", "vm.json", "--no-api"), 0);
	assert_int_equal(act, CLI_API);
	assert_true(cfg.no_api);
	assert_string_equal(cfg.config_file, "vm.json");
	assert_null(cfg.api_sock);

	expect_error("--no-api needs --config-file", "--no-api", (char *)NULL);
	expect_error("--api-sock is required", "--id", "x", (char *)NULL);
	expect_error("takes no value", "--config-file", "f", "--no-api=1", (char *)NULL);
	expect_error("is an option of 'ember run'", "--api-sock", "s", "--kernel", "k",
		     (char *)NULL);
	expect_error("not an option of 'ember run'", "run", "--kernel", "k", "--api-sock", "s",
		     (char *)NULL);
	expect_error("max-payload-size", "--api-sock", "s", "--http-api-max-payload-size", "0",
		     (char *)NULL);
	expect_error("empty path", "--api-sock", "", (char *)NULL);
	assert_int_equal(P("--api-sock", "s", "--log-path", "/tmp/l", "--level", "Debug",
			   "--metrics-path", "/tmp/m"),
			 0);
	assert_string_equal(cfg.log_path, "/tmp/l");
	assert_string_equal(cfg.metrics_path, "/tmp/m");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	expect_error("--level", "--api-sock", "s", "--level", "Loud", (char *)NULL);
}

/* The one strict number parser behind the CLI, HTTP and the jailer. */
static void test_str_to_u64(void **state)
{
	uint64_t v = 1234;

	(void)state;
	assert_int_equal(str_to_u64("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_to_u64("32", 32, &v), 0);
	assert_int_equal(v, 32);
	assert_int_equal(str_to_u64("33", 32, &v), -ERANGE);
	/* A digit above a small max must not wrap the bound. */
	assert_int_equal(str_to_u64("7", 5, &v), -ERANGE);
	assert_int_equal(str_to_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(str_to_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
	v = 42;
	assert_int_equal(str_to_u64("", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("-1", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("+1", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64(" 1", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("1 ", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("0x10", 100, &v), -EINVAL);
	assert_int_equal(v, 42); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	 cmocka_unit_test(test_all_options),
	    cmocka_unit_test(test_help_version), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_str_to_u64),	 cmocka_unit_test(test_api_mode),
	    cmocka_unit_test(test_net_vsock),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
