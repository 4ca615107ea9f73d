/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jailer.h - what the ember-jailer modules share: the parsed arguments, the
 * exit-code classes (see the table in jailer.c and jail/README.md), the error
 * report every step fills in, and the state each step leaves for cleanup.
 *
 * The jailer is its own static binary and links nothing from vmm/, so it does
 * not use ember's logger: it has exactly one message to print, on failure.
 */
#ifndef JAILER_H
#define JAILER_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes, one per failure class.  Keep in sync with jail/README.md. */
enum jail_exit {
	JAIL_EXIT_OK = 0,
	JAIL_EXIT_USAGE = 1,	   /* unknown option, missing option/value, repeated option */
	JAIL_EXIT_ID = 2,	   /* --id not 1..64 of [A-Za-z0-9-] */
	JAIL_EXIT_EXEC_FILE = 3,   /* --exec-file missing, unreadable, not a regular file */
	JAIL_EXIT_UID_GID = 4,	   /* --uid/--gid not a decimal id */
	JAIL_EXIT_CHROOT_BASE = 5, /* --chroot-base-dir cannot be created or is not a dir */
	JAIL_EXIT_CGROUP_ARG = 6,  /* --cgroup, --cgroup-version, --parent-cgroup invalid */
	JAIL_EXIT_RLIMIT_ARG = 7,  /* --resource-limit invalid */
	JAIL_EXIT_SANITIZE = 10,   /* closing inherited fds / clearing the environment */
	JAIL_EXIT_JAIL_DIR = 11,   /* creating <base>/<exec>/<id>/root (symlinked component...) */
	JAIL_EXIT_COPY = 12,	   /* copying the exec file in (destination exists, I/O) */
	JAIL_EXIT_NETNS = 13,	   /* opening or joining --netns */
	JAIL_EXIT_RLIMIT = 14,	   /* setrlimit */
	JAIL_EXIT_CGROUP = 15,	   /* cgroup v2 creation, settings, moving in */
	JAIL_EXIT_MOUNT = 16,	   /* mount namespace, bind mount, pivot_root */
	JAIL_EXIT_DEV = 17,	   /* folders and device nodes inside the jail */
	JAIL_EXIT_SPAWN = 18,	   /* --new-pid-ns / --daemonize: clone, setsid, pid file */
	JAIL_EXIT_PRIV = 19,	   /* dropping to --uid/--gid, clearing capabilities */
	JAIL_EXIT_EXEC = 20,	   /* execve of the jailed binary */
};

#define JAIL_ID_MAX	    64
#define JAIL_MAX_CGROUPS    32
#define JAIL_DEFAULT_BASE   "/srv/jailer"
#define JAIL_DEFAULT_NOFILE 2048

struct jail_cgroup_arg {
	const char *key;   /* cgroup file name, e.g. "memory.max" (validated) */
	const char *value; /* what is written into it */
	size_t key_len;	   /* key is not NUL-terminated: it points into argv */
};

struct jail_args {
	const char *id;
	const char *exec_file;
	uid_t uid;
	gid_t gid;
	const char *chroot_base;   /* JAIL_DEFAULT_BASE when not given */
	const char *netns;	   /* NULL: stay in the current network namespace */
	const char *parent_cgroup; /* NULL: the exec file's name */
	int cgroup_version;	   /* 1 or 2; 0 when not given (jailer_res.c decides) */
	struct jail_cgroup_arg cgroup[JAIL_MAX_CGROUPS];
	unsigned nr_cgroups;
	bool fsize_set, nofile_set;
	uint64_t fsize, nofile;
	bool daemonize, new_pid_ns, help;
	char *const *extra; /* arguments after "--", passed on to the jailed binary */
	int nr_extra;
};

/* A failure: the exit class and the one line printed after "ember-jailer: ". */
struct jail_err {
	enum jail_exit code;
	char msg[768];
};

/* Fills @err and returns -@errnum (or -EINVAL when @errnum is 0). */
int jail_fail(struct jail_err *err, enum jail_exit code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- jailer_args.c ------------------------------------------------------ */

extern const char jail_usage[];
int jail_args_parse(int argc, char *const argv[], struct jail_args *a, struct jail_err *err);
int jail_id_check(const char *id, struct jail_err *err);
int jail_cgroup_key_check(const char *key, size_t len);

/* ---- jailer_fs.c -------------------------------------------------------- */

/*
 * Everything the filesystem steps made, so a failure can undo it.  Directory
 * fds stay valid across pivot_root, which is what lets cleanup still reach
 * the jail once the host's root is gone.
 */
struct jail_fs {
	int exec_fd;		      /* the --exec-file, opened once and copied from */
	char exec_name[NAME_MAX + 1]; /* last component of its canonical path */
	char root_path[PATH_MAX];     /* <base>/<exec-name>/<id>/root, for messages and mount */
	const char *id;
	int base_fd, exec_dir_fd, id_dir_fd, root_fd;
	int devnull_fd;	 /* opened before the pivot when --daemonize */
	dev_t uffd_rdev; /* host /dev/userfaultfd, 0 when it has none */
	bool made_exec_dir, made_id_dir, made_root, made_binary, made_pidfile;
	bool made_old_root, pivoted;
	unsigned made_inner; /* bitmask over the in-jail folders/devices (jailer_fs.c) */
};

void jail_fs_init(struct jail_fs *fs);
int jail_fs_open_exec(struct jail_fs *fs, const char *path, struct jail_err *err);
int jail_fs_create(struct jail_fs *fs, const struct jail_args *a, struct jail_err *err);
int jail_fs_copy_exec(struct jail_fs *fs, struct jail_err *err);
int jail_fs_pivot(struct jail_fs *fs, struct jail_err *err);
int jail_fs_populate(struct jail_fs *fs, uid_t uid, gid_t gid, struct jail_err *err);
int jail_fs_write_pidfile(struct jail_fs *fs, pid_t pid, struct jail_err *err);
/* Removes what was made; prints one "removed"/"left behind" line per jail. */
void jail_fs_cleanup(struct jail_fs *fs);
void jail_fs_close(struct jail_fs *fs);

/* ---- jailer_res.c ------------------------------------------------------- */

int jail_rlimits_apply(const struct jail_args *a, struct jail_err *err);
int jail_netns_open(const char *path, int *fd, struct jail_err *err);
int jail_netns_join(int fd, const char *path, struct jail_err *err);

/* the cgroup (jailer_res.c) */

#define JAIL_MAX_HIER 16

/* One hierarchy the jail's cgroup is made in: v2's only one, or a v1 mount. */
struct jail_cg_h {
	int root_fd;		       /* the mount */
	int cg_fd;		       /* <mount>/<parent>/<id> */
	char mount[PATH_MAX];	       /* where it is mounted, for messages */
	char ctrl[32];		       /* v1: the controller it was found by */
	char orig[PATH_MAX];	       /* our group before moving in, relative to the mount */
	char shown[PATH_MAX * 2 + 80]; /* <mount>/<parent>/<id>, for messages */
	unsigned made_parents;	       /* trailing components of parent that we created */
	bool made_leaf, moved;
};

struct jail_cg {
	int version;	       /* 1 or 2, once chosen */
	char parent[PATH_MAX]; /* relative to each mount */
	struct jail_cg_h h[JAIL_MAX_HIER];
	unsigned nr;
};

void jail_cg_init(struct jail_cg *cg);
int jail_cg_setup(struct jail_cg *cg, const struct jail_args *a, const char *exec_name,
		  struct jail_err *err);
/* Moves back out and removes what was made, one line per hierarchy. */
void jail_cg_cleanup(struct jail_cg *cg, const char *id);
/* Names the groups cleanup can no longer reach (privileges dropped). */
void jail_cg_left_behind(const struct jail_cg *cg, const char *id);
void jail_cg_close(struct jail_cg *cg);

#endif /* JAILER_H */
