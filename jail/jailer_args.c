// SPDX-License-Identifier: Apache-2.0
/*
 * ember-jailer's command line.  Hand-rolled, like ember's own, so it keeps no
 * global state and can say exactly which argument is wrong.  Only the syntax
 * of each value is checked here; whether the exec file exists and the base
 * directory can be used is decided when they are opened (jailer_fs.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"
#include "jailer.h"

const char jail_usage[] =
    "usage: ember-jailer --id ID --exec-file PATH --uid N --gid N [options] [-- ARGS...]\n"
    "\n"
    "  --id ID                  1..64 letters, digits or '-'; names the jail and the cgroup\n"
    "  --exec-file PATH         static binary copied into the jail and exec'd there\n"
    "  --uid N, --gid N         ids the binary runs as\n"
    "  --chroot-base-dir DIR    jails live in DIR/<exec-name>/<id>/root (default " JAIL_DEFAULT_BASE
    ")\n"
    "  --netns PATH             network namespace to join (e.g. /var/run/netns/NAME)\n"
    "  --cgroup-version 1|2     cgroup hierarchy to use (default 1 where /proc/mounts has\n"
    "                           a cgroup v1 hierarchy, as Firecracker, else 2)\n"
    "  --cgroup FILE=VALUE      written into <hierarchy>/<parent>/<id>/FILE (repeatable)\n"
    "  --parent-cgroup PATH     relative parent of the jail's cgroup (default <exec-name>)\n"
    "  --resource-limit fsize=N | no-file=N   setrlimit (repeatable; no-file defaults to "
    "2048)\n"
    "  --daemonize              detach: new session, stdio to /dev/null, return at once\n"
    "  --new-pid-ns             run the binary as pid 1 of a new PID namespace\n"
    "\n"
    "The binary is started as /<exec-name> --id ID ARGS...\n"
    "Exit status: see jail/README.md (1-7 bad arguments, 10-20 a jailing step failed).\n";

int jail_fail(struct jail_err *err, enum jail_exit code, int errnum, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return errnum > 0 ? -errnum : -EINVAL;
}

/* The id becomes a directory and a cgroup name, so it must be one safe component. */
int jail_id_check(const char *id, struct jail_err *err)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > JAIL_ID_MAX)
		return jail_fail(err, JAIL_EXIT_ID, EINVAL,
				 "--id '%.80s': must be 1 to %d characters, not %zu", id,
				 JAIL_ID_MAX, n);
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return jail_fail(err, JAIL_EXIT_ID, EINVAL,
					 "--id '%s': only letters, digits and '-' are allowed", id);
	}
	return 0;
}

static bool cg_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * A cgroup key is opened relative to the jail's cgroup directory, so it must
 * name a controller file there and nothing else: [a-z0-9_]+\.[a-z0-9_.]+ with
 * no '/', which also rules out "." and "..".
 */
int jail_cgroup_key_check(const char *key, size_t len)
{
	size_t i = 0;

	while (i < len && cg_char(key[i]))
		i++;
	if (i == 0 || i >= len || key[i] != '.')
		return -EINVAL;
	if (++i == len)
		return -EINVAL;
	for (; i < len; i++)
		if (!cg_char(key[i]) && key[i] != '.')
			return -EINVAL;
	return 0;
}

static int parse_cgroup(struct jail_args *a, const char *v, struct jail_err *err)
{
	const char *eq = strchr(v, '=');
	struct jail_cgroup_arg *c;

	if (a->nr_cgroups == JAIL_MAX_CGROUPS)
		return jail_fail(err, JAIL_EXIT_CGROUP_ARG, E2BIG, "--cgroup: more than %d given",
				 JAIL_MAX_CGROUPS);
	if (!eq)
		return jail_fail(err, JAIL_EXIT_CGROUP_ARG, EINVAL,
				 "--cgroup '%s': expected FILE=VALUE", v);
	if (jail_cgroup_key_check(v, (size_t)(eq - v)))
		return jail_fail(err, JAIL_EXIT_CGROUP_ARG, EINVAL,
				 "--cgroup '%s': '%.*s' is not a cgroup file name "
				 "(controller.setting, [a-z0-9_.])",
				 v, (int)(eq - v), v);
	/* A value may contain '=' (io.max does); a newline would write two settings. */
	if (!eq[1] || strchr(eq + 1, '\n'))
		return jail_fail(err, JAIL_EXIT_CGROUP_ARG, EINVAL,
				 "--cgroup '%s': the value must be non-empty and one line", v);
	c = &a->cgroup[a->nr_cgroups++];
	c->key = v;
	c->key_len = (size_t)(eq - v);
	c->value = eq + 1;
	return 0;
}

/* Relative, no "." or ".." or empty components: it must stay under the cgroup2 mount. */
static int parse_parent_cgroup(const char *v, struct jail_err *err)
{
	const char *p = v;

	if (!*v || *v == '/' || strlen(v) > PATH_MAX / 2)
		goto bad;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
		    n > NAME_MAX || memchr(p, '\n', n))
			goto bad;
		p += n;
		if (*p == '/' && !*++p)
			goto bad; /* trailing slash */
	}
	return 0;
bad:
	return jail_fail(err, JAIL_EXIT_CGROUP_ARG, EINVAL,
			 "--parent-cgroup '%s': must be a relative path without '.', '..' or empty "
			 "components",
			 v);
}

static int parse_rlimit(struct jail_args *a, const char *v, struct jail_err *err)
{
	const char *eq = strchr(v, '=');
	uint64_t n;
	int r;

	if (!eq)
		return jail_fail(err, JAIL_EXIT_RLIMIT_ARG, EINVAL,
				 "--resource-limit '%s': expected fsize=N or no-file=N", v);
	r = str_to_u64(eq + 1, UINT64_MAX, &n);
	if (r)
		return jail_fail(err, JAIL_EXIT_RLIMIT_ARG, -r,
				 "--resource-limit '%s': '%s' is not a decimal number", v, eq + 1);
	if ((size_t)(eq - v) == 5 && !strncmp(v, "fsize", 5)) {
		if (a->fsize_set)
			goto twice;
		a->fsize_set = true;
		a->fsize = n;
	} else if ((size_t)(eq - v) == 7 && !strncmp(v, "no-file", 7)) {
		if (a->nofile_set)
			goto twice;
		a->nofile_set = true;
		a->nofile = n;
	} else {
		return jail_fail(err, JAIL_EXIT_RLIMIT_ARG, EINVAL,
				 "--resource-limit '%s': unknown resource '%.*s' (fsize, no-file)",
				 v, (int)(eq - v), v);
	}
	return 0;
twice:
	return jail_fail(err, JAIL_EXIT_RLIMIT_ARG, EINVAL,
			 "--resource-limit '%s': that resource is already limited", v);
}

static int parse_id_num(const char *opt, const char *v, uint32_t *out, struct jail_err *err)
{
	uint64_t n;

	/* (uid_t)-1 means "unchanged" to setresuid(), so it cannot be a target id. */
	if (str_to_u64(v, UINT32_MAX - 1, &n))
		return jail_fail(err, JAIL_EXIT_UID_GID, EINVAL,
				 "%s '%s': not a decimal id from 0 to %u", opt, v, UINT32_MAX - 1);
	*out = (uint32_t)n;
	return 0;
}

/* Options that take a value, in usage order; index = switch case below. */
static const char *const valued[] = {
    "--id",    "--exec-file",	   "--uid",    "--gid",		  "--chroot-base-dir",
    "--netns", "--cgroup-version", "--cgroup", "--parent-cgroup", "--resource-limit"};
#define ARRAY_LEN_VALUED (sizeof(valued) / sizeof(valued[0]))

/* Single-valued options may appear once: a second one is more likely a mistake. */
static int set_once(const char **slot, const char *opt, const char *v, struct jail_err *err)
{
	if (*slot)
		return jail_fail(err, JAIL_EXIT_USAGE, EINVAL, "%s: given more than once", opt);
	*slot = v;
	return 0;
}

static int parse_valued(struct jail_args *a, unsigned which, const char *v, const char **seen,
			struct jail_err *err)
{
	const char *opt = valued[which];
	uint32_t n = 0;
	int r;

	switch (which) {
	case 0:
		return set_once(&a->id, opt, v, err);
	case 1:
		return set_once(&a->exec_file, opt, v, err);
	case 2:
	case 3:
		r = set_once(&seen[which], opt, v, err);
		if (r)
			return r;
		r = parse_id_num(opt, v, &n, err);
		if (!r && which == 2)
			a->uid = n;
		else if (!r)
			a->gid = n;
		return r;
	case 4:
		return set_once(&a->chroot_base, opt, v, err);
	case 5:
		return set_once(&a->netns, opt, v, err);
	case 6:
		r = set_once(&seen[which], opt, v, err);
		if (r)
			return r;
		if (strcmp(v, "1") && strcmp(v, "2"))
			return jail_fail(err, JAIL_EXIT_CGROUP_ARG, EINVAL,
					 "--cgroup-version '%s': must be 1 or 2", v);
		a->cgroup_version = v[0] - '0';
		return 0;
	case 7:
		return parse_cgroup(a, v, err);
	case 8:
		r = set_once(&a->parent_cgroup, opt, v, err);
		return r ? r : parse_parent_cgroup(v, err);
	default:
		return parse_rlimit(a, v, err);
	}
}

int jail_args_parse(int argc, char *const argv[], struct jail_args *a, struct jail_err *err)
{
	const char *seen[ARRAY_LEN_VALUED] = {0};
	int i, r;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		size_t name_len;
		unsigned k;

		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			a->help = true;
			return 0;
		}
		if (!strcmp(arg, "--daemonize") || !strcmp(arg, "--new-pid-ns")) {
			bool *flag = arg[2] == 'd' ? &a->daemonize : &a->new_pid_ns;

			if (*flag)
				return jail_fail(err, JAIL_EXIT_USAGE, EINVAL,
						 "%s: given more than once", arg);
			*flag = true;
			continue;
		}
		/* Both "--opt value" and "--opt=value". */
		eq = strchr(arg, '=');
		name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < ARRAY_LEN_VALUED; k++)
			if (strlen(valued[k]) == name_len && !strncmp(arg, valued[k], name_len))
				break;
		if (k == ARRAY_LEN_VALUED)
			return jail_fail(err, JAIL_EXIT_USAGE, EINVAL,
					 "'%s': unknown option (try --help; arguments for the "
					 "jailed binary go after --)",
					 arg);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return jail_fail(err, JAIL_EXIT_USAGE, EINVAL, "%s: needs a value",
					 valued[k]);
		r = parse_valued(a, k, val, seen, err);
		if (r)
			return r;
	}
	a->extra = argv + i;
	a->nr_extra = i < argc ? argc - i : 0;

	if (!a->id)
		return jail_fail(err, JAIL_EXIT_USAGE, EINVAL, "--id: missing (try --help)");
	if (!a->exec_file)
		return jail_fail(err, JAIL_EXIT_USAGE, EINVAL, "--exec-file: missing (try --help)");
	if (!seen[2])
		return jail_fail(err, JAIL_EXIT_USAGE, EINVAL, "--uid: missing (try --help)");
	if (!seen[3])
		return jail_fail(err, JAIL_EXIT_USAGE, EINVAL, "--gid: missing (try --help)");
	r = jail_id_check(a->id, err);
	if (r)
		return r;
	if (!*a->exec_file)
		return jail_fail(err, JAIL_EXIT_EXEC_FILE, ENOENT, "--exec-file: empty path");
	if (!a->chroot_base)
		a->chroot_base = JAIL_DEFAULT_BASE;
	if (!*a->chroot_base)
		return jail_fail(err, JAIL_EXIT_CHROOT_BASE, ENOENT,
				 "--chroot-base-dir: empty path");
	if (a->netns && !*a->netns)
		return jail_fail(err, JAIL_EXIT_NETNS, ENOENT, "--netns: empty path");
	if (!a->nofile_set) {
		a->nofile_set = true;
		a->nofile = JAIL_DEFAULT_NOFILE;
	}
	return 0;
}
