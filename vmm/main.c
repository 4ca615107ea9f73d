// SPDX-License-Identifier: Apache-2.0
/*
 * ember entry point: parse the command line, then either boot the VM it
 * describes (`ember run`) or serve Firecracker's API (`--api-sock`,
 * `--config-file`).  The main thread becomes the VMM thread.
 */
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "launch.h"

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

	if (cli_parse(argc, argv, &cfg, &action, err, sizeof(err))) {
		fprintf(stderr, "ember: %s\n", err);
		return EXIT_CONFIG;
	}
	if (action == CLI_HELP) {
		fputs(cli_usage, stdout);
		return 0;
	}
	if (action == CLI_VERSION) {
		printf("ember %s\n", EMBER_VERSION);
		return 0;
	}
	log_set_level(cfg.log_level);
	/* A console reader that went away must not kill the VMM mid-write. */
	signal(SIGPIPE, SIG_IGN);
	if (action == CLI_API)
		return api_mode_main(&cfg, start_us);
	return run(&cfg, start_us);
}
