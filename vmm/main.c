// SPDX-License-Identifier: Apache-2.0
/*
 * ember entry point: parse the command line, then either boot the VM it
 * describes (`ember run`) or serve Firecracker's API (`--api-sock`,
 * `--config-file`).  The main thread becomes the VMM thread.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "launch.h"
#include "seccomp.h"
#include "snap_mem.h"

static int run(const struct vm_config *cfg, uint64_t start_us)
{
	struct vm vm;
	int code = launch_prepare(&vm, cfg, start_us);

	if (code)
		return code;
	code = vm_run(&vm);
	vm_destroy(&vm);
	return code;
}

int main(int argc, char **argv)
{
	uint64_t start_us = time_now_us();
	struct vm_config cfg;
	enum cli_action action;
	char err[256];

	if (argc >= 2 && !strcmp(argv[1], "rebase-mem")) {
		if (argc != 4) {
			fprintf(stderr, "usage: ember rebase-mem BASE_MEM_FILE DIFF_MEM_FILE\n");
			return EXIT_CONFIG;
		}
		if (snap_mem_rebase(argv[2], argv[3], err, sizeof(err))) {
			fprintf(stderr, "ember: %s\n", err);
			return EXIT_CONFIG;
		}
		return 0;
	}
	if (cli_parse(argc, argv, &cfg, &action, err, sizeof(err))) {
		fprintf(stderr, "ember: %s\n", err);
		return EXIT_CONFIG;
	}
	if (action == CLI_HELP) {
		cli_print_usage(stdout);
		return 0;
	}
	if (action == CLI_VERSION) {
		cli_print_version(stdout);
		return 0;
	}
	log_set_level(cfg.log_level);
	/*
	 * Before any thread exists, so every thread inherits it: no
	 * capabilities (ember needs none: /dev/kvm and its files are opened
	 * by permission), no_new_privs, and the SIGSYS reporter for the
	 * per-thread filters that go on once each thread is set up.
	 */
	if (seccomp_drop_caps()) {
		log_err("cannot drop capabilities / set no_new_privs");
		return EXIT_VMM;
	}
	if (cfg.no_seccomp)
		log_warn("--no-seccomp: running without system call filters");
	else if (seccomp_init_handler()) {
		log_err("cannot install the SIGSYS handler");
		return EXIT_VMM;
	}
	/* A console reader that went away must not kill the VMM mid-write. */
	signal(SIGPIPE, SIG_IGN);
	/* RLIMIT_FSIZE (the jailer's fsize) must fail a snapshot write with EFBIG, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	if (action == CLI_API)
		return api_mode_main(&cfg, start_us);
	return run(&cfg, start_us);
}
