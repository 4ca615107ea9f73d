// SPDX-License-Identifier: Apache-2.0
/*
 * ember-jailer: builds a one-use jail for ember and execs it there, in
 * Firecracker's jailer's order (docs: jail/README.md):
 *
 *   1. close inherited fds, clear the environment       6. cgroup <parent>/<id> (v1/v2)
 *   2. validate the arguments, open exec file and netns  7. mount ns, pivot_root
 *   3. <base>/<exec-name>/<id>/root, binary copied in    8. /dev/kvm, /dev/net/tun, ...
 *   4. join the network namespace                        9. --new-pid-ns / --daemonize
 *   5. rlimits (no-file 2048 by default)                10. drop to uid/gid, exec
 *
 * Exit status (one class per failure; the message is one line on stderr,
 * "ember-jailer: <what>: <why>"):
 *
 *    0  exec'd (with --daemonize/--new-pid-ns: the parent, once the child has exec'd)
 *    1  usage: unknown option, missing option or value, option repeated
 *    2  --id invalid (1..64 of A-Z a-z 0-9 '-')
 *    3  --exec-file missing, unreadable, not a regular file, not a static 64-bit ELF
 *    4  --uid / --gid not a decimal id
 *    5  --chroot-base-dir cannot be created or opened
 *    6  --cgroup / --cgroup-version (1 or 2) / --parent-cgroup invalid
 *    7  --resource-limit invalid
 *   10  closing inherited fds
 *   11  jail directory: mkdir/open failed, symlinked/non-dir component, noexec/nodev
 *   12  copying the exec file: destination exists (symlink, hard link, file), I/O error
 *   13  --netns cannot be opened or joined
 *   14  setrlimit failed
 *   15  cgroup: no hierarchy/controller mounted, setting rejected, inherit or move failed
 *   16  unshare(CLONE_NEWNS), bind mount or pivot_root failed
 *   17  folders or device nodes inside the jail
 *   18  --new-pid-ns / --daemonize: unshare, fork, /dev/null, setsid, pid file
 *   19  dropping to uid/gid or clearing capabilities
 *   20  execve of the jailed binary
 *
 * From step 3 on, a failure removes what this run created (binary, folders,
 * devices, the cgroup) and says so on stderr, or names what it had to leave.
 */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jailer.h"

/* Everything main() owns, so the failure paths can undo it from one place. */
struct jail {
	struct jail_args args;
	struct jail_fs fs;
	struct jail_cg cg;
	int netns_fd;
	int status_fd; /* child side of the spawn pipe, -1 when not spawned */
	bool dropped;  /* no longer root: cleanup is out of reach */
};

/*
 * Nothing the caller left open may reach the jail (step 1).  fds 0-2 are
 * kept, or pointed at /dev/null if missing, so a file we open cannot become
 * "stderr" by accident.
 */
static int jail_sanitize(struct jail_err *err)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return jail_fail(err, JAIL_EXIT_SANITIZE, errno, "reopen fd %d: %s", fd,
					 strerror(errno));
	if (close_range(3, ~0u, 0)) {
		struct rlimit rl;

		/* Kernels before 5.9: close them one by one. */
		if (errno != ENOSYS || getrlimit(RLIMIT_NOFILE, &rl))
			return jail_fail(err, JAIL_EXIT_SANITIZE, errno, "close inherited fds: %s",
					 strerror(errno));
		for (fd = 3; (rlim_t)fd < rl.rlim_cur; fd++)
			close(fd);
	}
	clearenv();
	umask(022);
	return 0;
}

/* Step 10: groups, then gid, then uid (after setresuid we could no longer change gid). */
static int jail_drop_privileges(struct jail *j, struct jail_err *err)
{
	uid_t uid = j->args.uid;
	gid_t gid = j->args.gid;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	cap_t none;
	int r = 0;

	if (setgroups(0, NULL))
		return jail_fail(err, JAIL_EXIT_PRIV, errno, "setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid))
		return jail_fail(err, JAIL_EXIT_PRIV, errno, "setresgid %u: %s", gid,
				 strerror(errno));
	if (setresuid(uid, uid, uid))
		return jail_fail(err, JAIL_EXIT_PRIV, errno, "setresuid %u: %s", uid,
				 strerror(errno));
	j->dropped = uid != 0;
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || ru != uid || eu != uid ||
	    su != uid || rg != gid || eg != gid || sg != gid)
		return jail_fail(err, JAIL_EXIT_PRIV, EPERM, "uid/gid did not change to %u/%u", uid,
				 gid);
	if (uid == 0)
		return 0; /* root asked for root: exec gives it full capabilities anyway */
	/*
	 * setresuid() away from 0 already empties the permitted and effective
	 * sets, unless a parent set SECBIT_KEEP_CAPS or NO_SETUID_FIXUP; it never
	 * touches the inheritable set.  Clear all three, and the ambient set, so
	 * nothing can come back at exec.
	 */
	none = cap_init();
	if (!none)
		return jail_fail(err, JAIL_EXIT_PRIV, errno, "cap_init: %s", strerror(errno));
	if (cap_set_proc(none) || cap_reset_ambient())
		r = jail_fail(err, JAIL_EXIT_PRIV, errno, "clearing capabilities: %s",
			      strerror(errno));
	cap_free(none);
	return r;
}

/* Step 10: /<exec-name> --id ID [args after --], with an empty environment. */
static int jail_exec(const struct jail *j, struct jail_err *err)
{
	char path[NAME_MAX + 2], **argv;
	char *const envp[] = {NULL};
	int i, n = 0;

	argv = calloc((size_t)j->args.nr_extra + 4, sizeof(*argv));
	if (!argv)
		return jail_fail(err, JAIL_EXIT_EXEC, ENOMEM, "exec: %s", strerror(ENOMEM));
	snprintf(path, sizeof(path), "/%s", j->fs.exec_name);
	argv[n++] = path;
	argv[n++] = (char *)"--id";
	argv[n++] = (char *)j->args.id;
	for (i = 0; i < j->args.nr_extra; i++)
		argv[n++] = j->args.extra[i];
	argv[n] = NULL;
	execve(path, argv, envp);
	free(argv);
	return jail_fail(err, JAIL_EXIT_EXEC, errno, "exec %s (in the jail %s): %s", path,
			 j->fs.root_path, strerror(errno));
}

/* Undo what this run made; the message itself is printed by the caller. */
static void jail_cleanup(struct jail *j)
{
	/*
	 * Only execve() itself can fail this late, and the checks on the exec
	 * file and the mount (jailer_fs.c) make that rare; say what remains.
	 */
	if (j->dropped) {
		fprintf(stderr,
			"ember-jailer: cleanup: privileges already dropped; left behind %s\n",
			j->fs.root_path);
		jail_cg_left_behind(&j->cg, j->args.id);
		return;
	}
	jail_cg_cleanup(&j->cg, j->args.id);
	jail_fs_cleanup(&j->fs);
}

/*
 * Step 9.  With --new-pid-ns the child is pid 1 of a new PID namespace; with
 * --daemonize it is a plain child, so the caller gets control back at once.
 * Either way the parent records the child's pid in /<exec-name>.pid and waits
 * on a close-on-exec pipe: EOF means the exec happened (exit 0), a struct
 * jail_err means the child failed, and the parent reports it (the child's
 * stderr may already be /dev/null) and cleans up.  Returns 0 in the child.
 */
static int jail_spawn(struct jail *j, struct jail_err *err)
{
	struct jail_err child_err;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (j->args.new_pid_ns && unshare(CLONE_NEWPID))
		return jail_fail(err, JAIL_EXIT_SPAWN, errno, "unshare(CLONE_NEWPID): %s",
				 strerror(errno));
	if (pipe2(pfd, O_CLOEXEC))
		return jail_fail(err, JAIL_EXIT_SPAWN, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return jail_fail(err, JAIL_EXIT_SPAWN, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(pfd[0]);
		j->status_fd = pfd[1];
		return 0;
	}
	close(pfd[1]);
	if (jail_fs_write_pidfile(&j->fs, pid, err)) {
		/* The child would run unrecorded: stop it before it execs. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pfd[0]);
		return -EIO;
	}
	do
		n = read(pfd[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == 0)
		exit(JAIL_EXIT_OK);
	waitpid(pid, &status, 0);
	if (n == (ssize_t)sizeof(child_err)) {
		*err = child_err;
		return -EIO;
	}
	return jail_fail(err, JAIL_EXIT_SPAWN, EIO, "child %d: lost before exec", (int)pid);
}

static int jail_daemonize(struct jail *j, struct jail_err *err)
{
	/* We are the spawned child, no process-group leader, so setsid() cannot fail with EPERM. */
	if (setsid() < 0)
		return jail_fail(err, JAIL_EXIT_SPAWN, errno, "setsid: %s", strerror(errno));
	if (dup2(j->fs.devnull_fd, 0) < 0 || dup2(j->fs.devnull_fd, 1) < 0 ||
	    dup2(j->fs.devnull_fd, 2) < 0)
		return jail_fail(err, JAIL_EXIT_SPAWN, errno, "stdio to /dev/null: %s",
				 strerror(errno));
	return 0;
}

/* Steps 2-10 after the arguments parsed; returns only on failure. */
static int jail_run(struct jail *j, struct jail_err *err)
{
	const struct jail_args *a = &j->args;
	int r;

	r = jail_fs_open_exec(&j->fs, a->exec_file, err);
	if (!r && a->netns)
		r = jail_netns_open(a->netns, &j->netns_fd, err);
	if (!r && a->daemonize) {
		/* Opened now: there is no /dev/null in the jail. */
		j->fs.devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (j->fs.devnull_fd < 0)
			r = jail_fail(err, JAIL_EXIT_SPAWN, errno, "open /dev/null: %s",
				      strerror(errno));
	}
	if (!r)
		r = jail_fs_create(&j->fs, a, err);
	if (!r)
		r = jail_fs_copy_exec(&j->fs, err);
	if (!r && a->netns)
		r = jail_netns_join(j->netns_fd, a->netns, err);
	if (!r)
		r = jail_rlimits_apply(a, err);
	/* Before the pivot: the cgroup2 mount is not reachable from inside the jail. */
	if (!r)
		r = jail_cg_setup(&j->cg, a, j->fs.exec_name, err);
	if (!r)
		r = jail_fs_pivot(&j->fs, err);
	if (!r)
		r = jail_fs_populate(&j->fs, a->uid, a->gid, err);
	if (!r && (a->new_pid_ns || a->daemonize))
		r = jail_spawn(j, err);
	if (!r)
		r = jail_drop_privileges(j, err);
	if (!r && a->daemonize)
		r = jail_daemonize(j, err);
	if (!r)
		r = jail_exec(j, err);
	return r;
}

int main(int argc, char *argv[])
{
	struct jail_err err = {0};
	struct jail j;
	int r;

	memset(&j, 0, sizeof(j));
	jail_fs_init(&j.fs);
	jail_cg_init(&j.cg);
	j.netns_fd = j.status_fd = -1;

	r = jail_sanitize(&err);
	if (!r)
		r = jail_args_parse(argc, argv, &j.args, &err);
	if (!r && j.args.help) {
		fputs(jail_usage, stdout);
		return 0;
	}
	if (!r)
		r = jail_run(&j, &err);

	/* Only failures get here. */
	if (j.status_fd >= 0) {
		/* The spawned child: the parent reports and cleans up. */
		if (write(j.status_fd, &err, sizeof(err)) != (ssize_t)sizeof(err))
			fprintf(stderr, "ember-jailer: %s\n", err.msg);
		_exit(err.code);
	}
	fprintf(stderr, "ember-jailer: %s\n", err.msg);
	jail_cleanup(&j);
	jail_fs_close(&j.fs);
	jail_cg_close(&j.cg);
	return err.code ? (int)err.code : JAIL_EXIT_EXEC;
}
