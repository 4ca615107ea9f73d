// SPDX-License-Identifier: Apache-2.0
/*
 * What the jailer limits and where it places the process: the network
 * namespace, rlimits, and a cgroup v2 group <cgroup2>/<parent>/<id>.
 *
 * Only cgroup v2 is supported: one hierarchy, found in /proc/self/mountinfo
 * (so /sys/fs/cgroup on a unified host and /sys/fs/cgroup/unified on a hybrid
 * one both work).  The cgroup is only made when --cgroup asks for a setting,
 * as Firecracker does.  All files are reached relative to directory fds, which
 * stay usable after pivot_root, so a late failure can still move the process
 * back out and remove what was made.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jailer.h"

#define MAX_CONTROLLERS 16

void jail_cg_init(struct jail_cg *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->root_fd = cg->cg_fd = -1;
}

void jail_cg_close(struct jail_cg *cg)
{
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	if (cg->cg_fd >= 0)
		close(cg->cg_fd);
	cg->root_fd = cg->cg_fd = -1;
}

int jail_rlimits_apply(const struct jail_args *a, struct jail_err *err)
{
	struct rlimit rl;

	/* Soft and hard alike, so the jailed process cannot raise them back. */
	if (a->fsize_set) {
		rl.rlim_cur = rl.rlim_max = a->fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl))
			return jail_fail(err, JAIL_EXIT_RLIMIT, errno, "setrlimit fsize=%llu: %s",
					 (unsigned long long)a->fsize, strerror(errno));
	}
	if (a->nofile_set) {
		rl.rlim_cur = rl.rlim_max = a->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return jail_fail(
			    err, JAIL_EXIT_RLIMIT, errno, "setrlimit no-file=%llu: %s%s",
			    (unsigned long long)a->nofile, strerror(errno),
			    errno == EPERM ? " (above the hard limit or fs.nr_open?)" : "");
	}
	return 0;
}

/* Opened while validating, so a bad path fails before anything is created. */
int jail_netns_open(const char *path, int *fd, struct jail_err *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return jail_fail(err, JAIL_EXIT_NETNS, errno, "--netns '%s': %s", path,
				 strerror(errno));
	return 0;
}

int jail_netns_join(int fd, const char *path, struct jail_err *err)
{
	if (setns(fd, CLONE_NEWNET))
		return jail_fail(err, JAIL_EXIT_NETNS, errno, "--netns '%s': setns: %s", path,
				 errno == EINVAL ? "not a network namespace" : strerror(errno));
	return 0;
}

/* Reads a small kernel file (cgroup, proc) relative to @dirfd, NUL-terminated. */
static int read_small(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return 0;
}

static int write_small(int dirfd, const char *name, const char *val)
{
	int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), e = 0;
	size_t n = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, n) != (ssize_t)n)
		e = errno ? errno : EIO;
	close(fd);
	return -e;
}

/* Whether the space-separated list @list holds @word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

/* The first cgroup2 mount in /proc/self/mountinfo; octal escapes in the path decoded. */
static int find_cgroup2(char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *mnt, *p;
		size_t o = 0;
		int i;

		if (!sep || strncmp(sep, " - cgroup2 ", 11))
			continue;
		/* Fields: id parent maj:min root mountpoint ... */
		mnt = line;
		for (i = 0; i < 4 && mnt; i++) {
			mnt = strchr(mnt, ' ');
			mnt = mnt ? mnt + 1 : NULL;
		}
		if (!mnt)
			continue;
		for (p = mnt; *p && *p != ' ' && o + 1 < len; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
				out[o++] =
				    (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
				p += 3;
			} else {
				out[o++] = *p;
			}
		}
		out[o] = '\0';
		r = 0;
	}
	fclose(f);
	return r;
}

/* Our cgroup v2 path from /proc/self/cgroup ("0::/a/b"), without the leading '/'. */
static int own_cgroup(char *out, size_t len)
{
	char buf[8192], *p, *nl;
	int r = read_small(AT_FDCWD, "/proc/self/cgroup", buf, sizeof(buf));

	if (r)
		return r;
	p = strncmp(buf, "0::", 3) ? strstr(buf, "\n0::") : buf - 1;
	if (!p)
		return -ENOENT;
	p += 4;
	while (*p == '/')
		p++;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	if (strlen(p) >= len)
		return -ENAMETOOLONG;
	strcpy(out, p);
	return 0;
}

/*
 * A cgroup's files are only there when its parent delegates the controller
 * (cgroup.subtree_control), and that in turn needs it available from above:
 * so each level from the mount down to the parent enables what is missing.
 */
static int enable_controllers(int level_fd, const char *shown, char ctrls[][32], unsigned n,
			      struct jail_err *err)
{
	char have[1024], avail[1024], plus[40];
	unsigned i;
	int r;

	r = read_small(level_fd, "cgroup.subtree_control", have, sizeof(have));
	if (r)
		return jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup %s/cgroup.subtree_control: %s",
				 shown, strerror(-r));
	for (i = 0; i < n; i++) {
		if (has_word(have, ctrls[i]))
			continue;
		r = read_small(level_fd, "cgroup.controllers", avail, sizeof(avail));
		if (r)
			return jail_fail(err, JAIL_EXIT_CGROUP, -r,
					 "cgroup %s/cgroup.controllers: %s", shown, strerror(-r));
		if (!has_word(avail, ctrls[i]))
			return jail_fail(err, JAIL_EXIT_CGROUP, ENOENT,
					 "cgroup %s: controller '%s' is not available there", shown,
					 ctrls[i]);
		snprintf(plus, sizeof(plus), "+%.31s", ctrls[i]);
		r = write_small(level_fd, "cgroup.subtree_control", plus);
		if (r)
			return jail_fail(err, JAIL_EXIT_CGROUP, -r,
					 "cgroup %s: enabling '%s' in cgroup.subtree_control: %s%s",
					 shown, ctrls[i], strerror(-r),
					 r == -EBUSY ? " (it has processes of its own)" : "");
	}
	return 0;
}

/* The distinct controllers named by the keys; "cgroup.*" files are core, not one. */
static unsigned controllers_of(const struct jail_args *a, char ctrls[][32])
{
	unsigned i, j, n = 0;

	for (i = 0; i < a->nr_cgroups; i++) {
		const char *k = a->cgroup[i].key;
		size_t len = (size_t)(strchr(k, '.') - k);

		if (len >= 32 || (len == 6 && !strncmp(k, "cgroup", 6)))
			continue;
		for (j = 0; j < n; j++)
			if (strlen(ctrls[j]) == len && !strncmp(ctrls[j], k, len))
				break;
		if (j == n && n < MAX_CONTROLLERS) {
			memcpy(ctrls[n], k, len);
			ctrls[n++][len] = '\0';
		}
	}
	return n;
}

/* mkdir (if missing) and open one level; cgroupfs has no symlinks but stay strict. */
static int level_open(int dirfd, const char *name, const char *shown, int *fd, bool *made,
		      struct jail_err *err)
{
	*made = false;
	if (!mkdirat(dirfd, name, 0755))
		*made = true;
	else if (errno != EEXIST)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "cgroup %s: mkdir: %s", shown,
				 strerror(errno));
	*fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "cgroup %s: open: %s", shown,
				 strerror(errno));
	return 0;
}

int jail_cg_setup(struct jail_cg *cg, const struct jail_args *a, const char *exec_name,
		  struct jail_err *err)
{
	char ctrls[MAX_CONTROLLERS][32], shown[PATH_MAX * 2 + 80], comp[NAME_MAX + 1], pid[24];
	const char *p;
	unsigned n, i;
	int level, next = -1, r;
	bool made;

	if (!a->nr_cgroups)
		return 0;
	r = find_cgroup2(cg->mount, sizeof(cg->mount));
	if (r)
		return jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup: no cgroup2 mount found (%s)",
				 strerror(-r));
	cg->root_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->root_fd < 0)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "cgroup %s: %s", cg->mount,
				 strerror(errno));
	r = own_cgroup(cg->orig, sizeof(cg->orig));
	if (r)
		return jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup: /proc/self/cgroup: %s",
				 strerror(-r));
	snprintf(cg->parent, sizeof(cg->parent), "%s",
		 a->parent_cgroup ? a->parent_cgroup : exec_name);
	n = controllers_of(a, ctrls);

	level = dup(cg->root_fd);
	if (level < 0)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "dup: %s", strerror(errno));
	snprintf(shown, sizeof(shown), "%s", cg->mount);
	/* Walk <parent> component by component, then the id as the leaf. */
	for (p = cg->parent;; p += strlen(comp) + (p[strlen(comp)] == '/')) {
		bool leaf = !*p;
		size_t len = leaf ? strlen(a->id) : strcspn(p, "/");

		r = enable_controllers(level, shown, ctrls, n, err);
		if (r)
			goto out;
		memcpy(comp, leaf ? a->id : p, len);
		comp[len] = '\0';
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "/%s", comp);
		r = level_open(level, comp, shown, &next, &made, err);
		if (r)
			goto out;
		close(level);
		level = next;
		if (leaf) {
			cg->made_leaf = made;
			break;
		}
		/* Once one level is new, every one below it is too. */
		if (made || cg->made_parents)
			cg->made_parents++;
	}
	cg->cg_fd = level;
	level = -1;

	/* Settings first: they must be in force before the process is in the group. */
	for (i = 0; i < a->nr_cgroups; i++) {
		const struct jail_cgroup_arg *c = &a->cgroup[i];

		memcpy(comp, c->key, c->key_len);
		comp[c->key_len] = '\0';
		r = write_small(cg->cg_fd, comp, c->value);
		if (r) {
			r = jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup %s/%s = '%s': %s%s", shown,
				      comp, c->value, strerror(-r),
				      r == -ENOENT ? " (no such file: unknown setting or "
						     "controller not enabled)"
						   : "");
			goto out;
		}
	}
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = write_small(cg->cg_fd, "cgroup.procs", pid);
	if (r) {
		r = jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup %s/cgroup.procs: %s", shown,
			      strerror(-r));
		goto out;
	}
	cg->moved = true;
	r = 0;
out:
	if (level >= 0)
		close(level);
	return r;
}

void jail_cg_cleanup(struct jail_cg *cg, const char *id)
{
	char path[PATH_MAX * 2 + 2], pid[24];
	int bad = 0;
	unsigned k;

	if (cg->root_fd < 0 || (!cg->made_leaf && !cg->made_parents && !cg->moved))
		return;
	/* A populated cgroup cannot be removed: go back where we came from first. */
	if (cg->moved) {
		snprintf(path, sizeof(path), "%s%scgroup.procs", cg->orig, *cg->orig ? "/" : "");
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		bad = write_small(cg->root_fd, path, pid);
	}
	snprintf(path, sizeof(path), "%s/%s", cg->parent, id);
	if (cg->made_leaf && !bad && unlinkat(cg->root_fd, path, AT_REMOVEDIR))
		bad = -errno;
	for (k = 0; k < cg->made_parents && !bad; k++) {
		*strrchr(path, '/') = '\0';
		if (unlinkat(cg->root_fd, path, AT_REMOVEDIR) && errno != ENOTEMPTY &&
		    errno != EBUSY)
			bad = -errno;
	}
	if (bad)
		fprintf(stderr, "ember-jailer: cleanup: left behind cgroup %s/%s/%s: %s\n",
			cg->mount, cg->parent, id, strerror(-bad));
	else if (cg->made_leaf)
		fprintf(stderr, "ember-jailer: cleanup: removed cgroup %s/%s/%s\n", cg->mount,
			cg->parent, id);
}
