// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for ember-jailer's command line, which whoever starts the
 * jailer (often a control plane passing tenant-chosen ids and cgroup
 * settings) fills in: raw bytes split at NULs into argv[1..] (argv[0] is
 * "ember-jailer", at most FUZZ_MAX_ARGS in all) -> jail_args_parse.  What it
 * accepts is checked as the later steps rely on it: the id passes
 * jail_id_check (it becomes a directory and a cgroup name), every --cgroup
 * key passes jail_cgroup_key_check and is a plain file name, the parent
 * cgroup is relative with no "." or ".." component, every string points
 * into argv, the extra arguments are exactly argv's tail; a refusal must
 * carry an argument-class exit code and a message.  Each argv string also
 * goes to jail_id_check and jail_cgroup_key_check on its own, whose answers
 * are compared with the rules written out here a second way.  A broken
 * invariant aborts.
 *
 * Not reached: the jailing steps (jailer_fs.c, jailer_res.c and jailer.c's
 * main) that use the parsed arguments; they need root, mounts and
 * namespaces, and are tested by make jail-tests.
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_jailer --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jailer.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
/* Mutations that make or break an option: separators, '=', '/', '.', digits. */
#define FUZZ_DICT "\0\0\0=-/.._0129aZ\n"
#include "driver.h"

#define FUZZ_MAX_ARGS 64

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t accepted, help, cgroups, extra, refused;
} depth;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_jailer: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The id rule as jailer.h states it: 1..64 of [A-Za-z0-9-]. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= JAIL_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

/*
 * The cgroup key rule, [a-z0-9_]+\.[a-z0-9_.]+, stated another way: only
 * those characters, and the first '.' neither first nor last.
 */
static bool key_ok(const char *k, size_t len)
{
	const char *dot = memchr(k, '.', len);
	size_t i;

	for (i = 0; i < len; i++)
		if (!k[i] || !strchr("abcdefghijklmnopqrstuvwxyz0123456789_.", k[i]))
			return false;
	return dot && dot != k && dot != k + len - 1;
}

/* [p, p + strlen(p)] lies inside the argument buffer. */
static bool in_buf(const char *p, const char *buf, size_t size)
{
	return p >= buf && p < buf + size && p + strlen(p) < buf + size;
}

static void check_accepted(const struct jail_args *a, char *const argv[], int argc, const char *buf,
			   size_t size)
{
	struct jail_err err;

	CHECK(a->id && in_buf(a->id, buf, size) && id_ok(a->id));
	CHECK(!jail_id_check(a->id, &err));
	CHECK(a->exec_file && *a->exec_file && in_buf(a->exec_file, buf, size));
	CHECK(a->chroot_base && *a->chroot_base);
	CHECK(!strcmp(a->chroot_base, JAIL_DEFAULT_BASE) || in_buf(a->chroot_base, buf, size));
	CHECK(!a->netns || (*a->netns && in_buf(a->netns, buf, size)));
	/* (uid_t)-1 and (gid_t)-1 mean "leave unchanged" to setres[ug]id. */
	CHECK(a->uid != (uid_t)-1 && a->gid != (gid_t)-1);
	CHECK(a->nofile_set && !a->help);
	CHECK(a->nr_cgroups <= JAIL_MAX_CGROUPS);
	CHECK(a->cgroup_version >= 0 && a->cgroup_version <= 2); /* 0: not given */
	for (unsigned i = 0; i < a->nr_cgroups; i++) {
		const struct jail_cgroup_arg *c = &a->cgroup[i];

		CHECK(in_buf(c->key, buf, size) && c->key[c->key_len] == '=');
		CHECK(!jail_cgroup_key_check(c->key, c->key_len) && key_ok(c->key, c->key_len));
		CHECK(!memchr(c->key, '/', c->key_len));
		CHECK(c->value == c->key + c->key_len + 1 && *c->value && !strchr(c->value, '\n'));
	}
	if (a->parent_cgroup) {
		const char *p = a->parent_cgroup;

		CHECK(in_buf(p, buf, size) && *p && *p != '/' && !strchr(p, '\n'));
		CHECK(!strstr(p, "//") && p[strlen(p) - 1] != '/');
		CHECK(strcmp(p, ".") && strcmp(p, "..") && strncmp(p, "./", 2) &&
		      strncmp(p, "../", 3) && !strstr(p, "/./") && !strstr(p, "/../"));
		CHECK(strlen(p) < 2 || (strcmp(p + strlen(p) - 2, "/.") &&
					(strlen(p) < 3 || strcmp(p + strlen(p) - 3, "/.."))));
	}
	/* The jailed binary gets exactly argv's tail, NULL-terminated as execve wants. */
	CHECK(a->nr_extra >= 0 && a->nr_extra < argc);
	CHECK(a->extra + a->nr_extra == argv + argc && !a->extra[a->nr_extra]);
	if (a->nr_extra)
		depth.extra++;
	if (a->nr_cgroups)
		depth.cgroups++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "ember-jailer";
	char *argv[FUZZ_MAX_ARGS + 1];
	char *buf = malloc(size + 1);
	struct jail_args a;
	struct jail_err err;
	int argc = 1, r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = prog;
	/* Every NUL ends an argument; past FUZZ_MAX_ARGS the rest is dropped. */
	for (size_t at = 0; at < size && argc < FUZZ_MAX_ARGS; at += strlen(buf + at) + 1)
		argv[argc++] = buf + at;
	argv[argc] = NULL;

	for (int i = 1; i < argc; i++) {
		struct jail_err e;

		CHECK(!jail_id_check(argv[i], &e) == id_ok(argv[i]));
		CHECK(!jail_cgroup_key_check(argv[i], strlen(argv[i])) ==
		      key_ok(argv[i], strlen(argv[i])));
	}

	memset(&err, 0, sizeof(err));
	r = jail_args_parse(argc, argv, &a, &err);
	if (!r && a.help) {
		depth.help++;
	} else if (!r) {
		check_accepted(&a, argv, argc, buf, size + 1);
		depth.accepted++;
	} else {
		/* A refusal is a bad argument (1-7) or an empty path for a later step. */
		CHECK(r < 0 && memchr(err.msg, '\0', sizeof(err.msg)) && err.msg[0]);
		CHECK((err.code >= JAIL_EXIT_USAGE && err.code <= JAIL_EXIT_RLIMIT_ARG) ||
		      err.code == JAIL_EXIT_NETNS);
		depth.refused++;
	}
	free(buf);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds: Firecracker's documented jailer invocations ---------------- */

static void seed_add(struct fuzz_seed *s, unsigned *n, const char *name, const char *const *args)
{
	size_t len = 0;

	for (unsigned i = 0; args[i]; i++)
		len += strlen(args[i]) + 1;
	s[*n] = (struct fuzz_seed){.name = name, .data = malloc(len), .len = len};
	if (!s[*n].data)
		abort();
	len = 0;
	for (unsigned i = 0; args[i]; i++) {
		memcpy(s[*n].data + len, args[i], strlen(args[i]) + 1);
		len += strlen(args[i]) + 1;
	}
	(*n)++;
}

static int fuzz_report(void)
{
	printf("fuzz_jailer: %zu argument sets accepted (%zu with --cgroup, %zu with extra "
	       "arguments), %zu --help, %zu refused\n",
	       depth.accepted, depth.cgroups, depth.extra, depth.help, depth.refused);
	return !depth.accepted || !depth.cgroups || !depth.extra || !depth.refused;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	/* Firecracker's jailer.md example, less --netns/--daemonize, for ember. */
	static const char *const minimal[] = {"--id",	     "551e7604-e35c-42b3-b825-416853441234",
					      "--exec-file", "/usr/bin/ember",
					      "--uid",	     "123",
					      "--gid",	     "100",
					      NULL};
	/* Everything at once, as jailer.md's long example and a control plane would. */
	static const char *const full[] = {"--id",
					   "vm-0a1b2c3d",
					   "--exec-file",
					   "/usr/bin/ember",
					   "--uid",
					   "10001",
					   "--gid",
					   "10001",
					   "--chroot-base-dir",
					   "/srv/jailer",
					   "--netns",
					   "/var/run/netns/vm0",
					   "--daemonize",
					   "--new-pid-ns",
					   "--cgroup-version",
					   "2",
					   "--cgroup",
					   "cpu.max=50000 100000",
					   "--cgroup",
					   "memory.max=268435456",
					   "--cgroup",
					   "io.max=8:0 rbps=1048576 wbps=1048576",
					   "--parent-cgroup",
					   "ember/tenant-7",
					   "--resource-limit",
					   "fsize=1073741824",
					   "--resource-limit",
					   "no-file=1024",
					   "--",
					   "--api-sock",
					   "/run/ember.socket",
					   NULL};
	/* The --opt=value spelling, and ember's own arguments after "--". */
	static const char *const equals[] = {"--id=fc-1",
					     "--exec-file=/usr/local/bin/ember",
					     "--uid=0",
					     "--gid=4294967294",
					     "--cgroup=cpuset.cpus=0-1",
					     "--cgroup=pids.max=64",
					     "--resource-limit=no-file=4096",
					     "--",
					     "run",
					     "--kernel",
					     "/vmlinux",
					     "--mem",
					     "128",
					     NULL};
	/* cgroup v1 named explicitly (Firecracker's default), a NUMA node's cpuset. */
	static const char *const v1[] = {
	    "--id",  "a", "--exec-file",      "/bin/ember", "--uid",	"1",
	    "--gid", "1", "--cgroup-version", "1",	    "--cgroup", "cpuset.mems=0",
	    NULL};
	/*
	 * Short, with parent components that start with dots: legal names a
	 * byte or two away from "." and "..", which must never get through.
	 */
	static const char *const dots[] = {
	    "--id=x", "--exec-file=/e", "--uid=1", "--gid=1", "--parent-cgroup=.a/..b/.c", NULL};
	static const char *const help[] = {"--help", NULL};
	unsigned n = 0;

	if (max < 6)
		abort();
	seed_add(s, &n, "minimal", minimal);
	seed_add(s, &n, "full", full);
	seed_add(s, &n, "equals", equals);
	seed_add(s, &n, "cgroup-v1", v1);
	seed_add(s, &n, "parent-dots", dots);
	seed_add(s, &n, "help", help);
	return n;
}

#endif
