// SPDX-License-Identifier: Apache-2.0
/*
 * ember entry point: parse the command line, then either boot the VM it
 * describes (`ember run`) or serve Firecracker's API (`--api-sock`,
 * `--config-file`).  The main thread becomes the VMM thread.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fork_child.h"
#include "launch.h"
#include "seccomp.h"
#include "seccomp_custom.h"
#include "snap_mem.h"
#include "snapfile.h"
#include "spawn.h"

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

/* --describe-snapshot: the state file's format version, as --snapshot-version prints it. */
static int describe_snapshot(const char *path)
{
	uint8_t head[SNAP_HDR_SIZE];
	const char *why = NULL;
	char err[256];
	uint32_t version;
	ssize_t n = -1;
	int fd = file_open_input(path, false, false, &why);

	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		why = n < 0 ? strerror(errno) : NULL;
		close(fd);
	}
	if (n < 0) {
		fprintf(stderr, "ember: --describe-snapshot %s: %s\n", path,
			why ? why : strerror(-fd));
		return EXIT_CONFIG;
	}
	if (snap_describe(head, (size_t)n, &version, err, sizeof(err))) {
		fprintf(stderr, "ember: --describe-snapshot %s: %s\n", path, err);
		return EXIT_CONFIG;
	}
	printf("v%u.0.0\n", version);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t start_us = time_now_us();
	struct vm_config cfg;
	struct seccomp_custom custom;
	enum cli_action action;
	char err[256];

	/*
	 * One malloc arena for all threads: the API and vCPU threads malloc
	 * little and rarely, and an arena each (a 64 MiB reservation with its
	 * own free lists) is memory every snapshot clone would keep.
	 */
	mallopt(M_ARENA_MAX, 1);

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
	struct fork_child_in *fork_in = NULL;
	const char *argv0 = argv[0];

	/* A live fork's child: the parent's request stands for its command line. */
	if (argc == 2 && !strcmp(argv[1], SPAWN_CHILD_ARG)) {
		fork_in = fork_child_read(argv0);
		if (!fork_in)
			return EXIT_VMM;
		start_us = time_now_us(); /* a pooled child was started long before its fork */
		argc = fork_in->argc;
		argv = fork_in->argv;
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
	if (action == CLI_SNAPSHOT_VERSION) {
		/* Firecracker's form, "v" and a semantic version, for scripts that parse it. */
		printf("v%u.0.0\n", SNAP_VERSION);
		return 0;
	}
	if (action == CLI_DESCRIBE_SNAPSHOT)
		return describe_snapshot(cfg.fc.describe_snapshot);
	log_set_level(cfg.log_level);
	log_set_format(cfg.fc.show_level, cfg.fc.show_log_origin);
	log_set_module(cfg.fc.log_module);
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
	if (cfg.fc.seccomp_filter) {
		/* Before any thread: every seccomp_install() from now on loads these. */
		if (seccomp_custom_load(cfg.fc.seccomp_filter, &custom, err, sizeof(err))) {
			log_err("--seccomp-filter: %s", err);
			return EXIT_CONFIG;
		}
		seccomp_custom_use(&custom);
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
	cfg.argv0 = argv0;
	cfg.fork_in = fork_in;
	if (action == CLI_API)
		return api_mode_main(&cfg, start_us);
	return run(&cfg, start_us);
}
