// SPDX-License-Identifier: Apache-2.0
/*
 * What the jailer limits and where it places the process: the network
 * namespace, rlimits, and the jail's cgroup, <hierarchy>/<parent>/<id>, for
 * cgroup v1 and v2 as Firecracker's jailer makes it (src/jailer/src/cgroup.rs
 * upstream).
 *
 * The cgroup is only made when --cgroup asks for a setting (with
 * --cgroup-version 2 and none, the process joins an existing <parent>, as in
 * Firecracker).  The version is --cgroup-version; without it Firecracker uses 1, and so do we
 * wherever /proc/mounts lists a v1 hierarchy (hybrid hosts), but on a v2-only host, where
 * Firecracker would fail, we use 2.  Hierarchies come from /proc/mounts as in Firecracker: v2 is
 * the first cgroup2 mount; in v1 each controller (the key's part before the first '.') is found on
 * the first "cgroup" mount whose options name it, and controllers sharing a mount ("cpu,cpuacct")
 * share the group.  v1 needs two things v2 does not: a new cpuset group
 * starts with empty cpuset.cpus/mems, which both a child's settings and any
 * task need, so every level inherits them from its parent (Firecracker does
 * this for the files named); and the process joins through "tasks".  In v2
 * each level enables the controllers in cgroup.subtree_control instead.
 *
 * Every setting is written in every hierarchy before the process joins any
 * (cpuset must be complete first).  Files are reached through directory fds,
 * which stay usable after pivot_root, so a late failure can still move the
 * process back and remove what was made.
 */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jailer.h"

#define CG_MOUNTS "/proc/mounts"

void jail_cg_init(struct jail_cg *cg)
{
	unsigned i;

	memset(cg, 0, sizeof(*cg));
	for (i = 0; i < JAIL_MAX_HIER; i++)
		cg->h[i].root_fd = cg->h[i].cg_fd = -1;
}

void jail_cg_close(struct jail_cg *cg)
{
	unsigned i;

	for (i = 0; i < JAIL_MAX_HIER; i++) {
		struct jail_cg_h *h = &cg->h[i];

		if (h->root_fd >= 0)
			close(h->root_fd);
		if (h->cg_fd >= 0)
			close(h->cg_fd);
		h->root_fd = h->cg_fd = -1;
	}
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

/*
 * Opened and checked while validating, so a bad path fails before anything
 * is created: O_NONBLOCK, so a FIFO is refused instead of hanging the
 * jailer in open(), and the kernel says whether it is a network namespace.
 */
int jail_netns_open(const char *path, int *fd, struct jail_err *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return jail_fail(err, JAIL_EXIT_NETNS, errno, "--netns '%s': %s", path,
				 strerror(errno));
	if (ioctl(*fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(*fd);
		*fd = -1;
		return jail_fail(err, JAIL_EXIT_NETNS, EINVAL,
				 "--netns '%s': not a network namespace", path);
	}
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

/* Whether the list @list, words separated by any of @seps, holds @word. */
static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || strchr(seps, p[-1])) && (!p[n] || strchr(seps, p[n])))
			return true;
		p += n;
	}
	return false;
}

/* /proc/mounts escapes ' ', '\t', '\n' and '\\' in paths as octal "\ooo". */
static void unescape(const char *in, size_t n, char *out, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < len; i++) {
		if (in[i] == '\\' && i + 3 < n && in[i + 1] >= '0' && in[i + 1] <= '3' &&
		    in[i + 2] >= '0' && in[i + 2] <= '7' && in[i + 3] >= '0' && in[i + 3] <= '7') {
			out[o++] = (char)((in[i + 1] - '0') << 6 | (in[i + 2] - '0') << 3 |
					  (in[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

/*
 * The mount of a hierarchy, from "dev dir fstype options 0 0" lines: for
 * @version 2 the first cgroup2 mount; for 1 the first cgroup mount whose
 * options name @ctrl, or any cgroup mount when @ctrl is NULL.
 */
static int find_mount(int version, const char *ctrl, char *out, size_t len)
{
	FILE *f = fopen(CG_MOUNTS, "re");
	char *line = NULL, *fld[4];
	size_t cap = 0;
	int r = -ENOENT, i;

	if (!f)
		return -errno;
	while (r && getline(&line, &cap, f) > 0) {
		char *p = line;

		for (i = 0; i < 4; i++) {
			fld[i] = p;
			p = strchr(p, ' ');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (i < 4)
			continue;
		if (strcmp(fld[2], version == 2 ? "cgroup2" : "cgroup") ||
		    (version == 1 && ctrl && !has_word(fld[3], ctrl, ",")))
			continue;
		unescape(fld[1], strlen(fld[1]), out, len);
		r = 0;
	}
	free(line);
	fclose(f);
	return r;
}

/*
 * Our cgroup in a hierarchy, from /proc/self/cgroup ("id:controllers:/path";
 * v2 is "0::/path"), without the leading '/'.
 */
static int own_cgroup(int version, const char *ctrl, char *out, size_t len)
{
	char buf[8192], *line, *save = NULL;
	int r = read_small(AT_FDCWD, "/proc/self/cgroup", buf, sizeof(buf));

	if (r)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c = strchr(line, ':'), *path = c ? strchr(c + 1, ':') : NULL;

		if (!path)
			continue;
		*path++ = '\0';
		if (version == 2 ? strcmp(line, "0:") : !has_word(c + 1, ctrl, ","))
			continue;
		while (*path == '/')
			path++;
		if (strlen(path) >= len)
			return -ENAMETOOLONG;
		strcpy(out, path);
		return 0;
	}
	return -ENOENT;
}

/*
 * v2: a cgroup's files are only there when its parent delegates the
 * controller (cgroup.subtree_control), which needs it available from above:
 * so each level from the mount down to the parent enables what is missing.
 */
static int enable_controllers(int level_fd, const char *shown, const char (*ctrls)[32], unsigned n,
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
		if (has_word(have, ctrls[i], " \n"))
			continue;
		r = read_small(level_fd, "cgroup.controllers", avail, sizeof(avail));
		if (r)
			return jail_fail(err, JAIL_EXIT_CGROUP, -r,
					 "cgroup %s/cgroup.controllers: %s", shown, strerror(-r));
		if (!has_word(avail, ctrls[i], " \n"))
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

/*
 * v1 cpuset: a new group's cpuset.cpus and cpuset.mems are empty, and an
 * empty one refuses both a child's settings and tasks (ENOSPC).  Copies the
 * parent's where the group's is empty; levels are walked top-down, so the
 * parent's is already filled in.
 */
static int inherit_cpuset(int parent_fd, int fd, const char *shown, struct jail_err *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char val[4096];
	unsigned i;
	int r;

	if (faccessat(fd, "cpuset.mems", F_OK, 0))
		return 0; /* not a cpuset hierarchy */
	for (i = 0; i < 2; i++) {
		r = read_small(fd, files[i], val, sizeof(val));
		if (!r && val[0] && val[0] != '\n')
			continue;
		if (!r)
			r = read_small(parent_fd, files[i], val, sizeof(val));
		if (!r && (!val[0] || val[0] == '\n'))
			return jail_fail(err, JAIL_EXIT_CGROUP, ENOSPC,
					 "cgroup %s/%s: empty, and so is its parent's: nothing to "
					 "inherit",
					 shown, files[i]);
		if (!r)
			r = write_small(fd, files[i], val);
		if (r)
			return jail_fail(err, JAIL_EXIT_CGROUP, -r,
					 "cgroup %s/%s: inheriting the parent's value: %s", shown,
					 files[i], strerror(-r));
	}
	return 0;
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

/* Opens hierarchy @h at @mount and notes where we are in it now. */
static int hier_open(struct jail_cg *cg, struct jail_cg_h *h, const char *mount, const char *ctrl,
		     struct jail_err *err)
{
	int r;

	snprintf(h->mount, sizeof(h->mount), "%s", mount);
	snprintf(h->ctrl, sizeof(h->ctrl), "%s", ctrl);
	h->root_fd = open(h->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->root_fd < 0)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "cgroup %s: %s", h->mount,
				 strerror(errno));
	r = own_cgroup(cg->version, ctrl, h->orig, sizeof(h->orig));
	if (r)
		return jail_fail(err, JAIL_EXIT_CGROUP, -r,
				 "cgroup: our own %s%s%s group in /proc/self/cgroup: %s",
				 cg->version == 2 ? "v2" : "v1 '", cg->version == 2 ? "" : ctrl,
				 cg->version == 2 ? "" : "'", strerror(-r));
	return 0;
}

/*
 * Makes <mount>/<parent>/<id> in @h, level by level: v2 enables @ctrls at
 * each level first, v1 fills each new level's cpuset from its parent.
 */
static int hier_make(struct jail_cg *cg, struct jail_cg_h *h, const char *id,
		     const char (*ctrls)[32], unsigned n, struct jail_err *err)
{
	char comp[NAME_MAX + 1];
	const char *p;
	int level, next = -1, r;
	bool made;

	level = dup(h->root_fd);
	if (level < 0)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "dup: %s", strerror(errno));
	snprintf(h->shown, sizeof(h->shown), "%s", h->mount);
	for (p = cg->parent;; p += strlen(comp) + (p[strlen(comp)] == '/')) {
		bool leaf = !*p;
		size_t len = leaf ? strlen(id) : strcspn(p, "/");

		r = cg->version == 2 ? enable_controllers(level, h->shown, ctrls, n, err) : 0;
		if (r)
			goto out;
		memcpy(comp, leaf ? id : p, len);
		comp[len] = '\0';
		snprintf(h->shown + strlen(h->shown), sizeof(h->shown) - strlen(h->shown), "/%s",
			 comp);
		r = level_open(level, comp, h->shown, &next, &made, err);
		if (!r && cg->version == 1)
			r = inherit_cpuset(level, next, h->shown, err);
		close(level);
		level = next;
		next = -1;
		if (leaf)
			h->made_leaf = made;
		else if (made || h->made_parents)
			h->made_parents++; /* once one level is new, every one below it is too */
		if (r || leaf)
			break;
	}
	if (!r) {
		h->cg_fd = level;
		level = -1;
	}
out:
	if (level >= 0)
		close(level);
	return r;
}

/* Which hierarchy a key's controller lives in (v1), opening it on first use. */
static int hier_of(struct jail_cg *cg, const char *ctrl, unsigned *idx, struct jail_err *err)
{
	char mount[PATH_MAX];
	unsigned i;
	int r;

	if (cg->version == 2) {
		*idx = 0;
		return 0;
	}
	r = find_mount(1, ctrl, mount, sizeof(mount));
	if (r)
		return jail_fail(
		    err, JAIL_EXIT_CGROUP, -r,
		    "cgroup v1: no hierarchy with the '%s' controller in " CG_MOUNTS "%s%s", ctrl,
		    r != -ENOENT ? ": " : "",
		    r != -ENOENT	      ? strerror(-r)
		    : !strcmp(ctrl, "cgroup") ? " (cgroup.* files are v2's: --cgroup-version 2)"
					      : "");
	for (i = 0; i < cg->nr; i++)
		if (!strcmp(cg->h[i].mount, mount))
			break;
	*idx = i;
	if (i < cg->nr)
		return 0;
	if (i == JAIL_MAX_HIER)
		return jail_fail(err, JAIL_EXIT_CGROUP, E2BIG,
				 "cgroup v1: more than %d hierarchies named", JAIL_MAX_HIER);
	cg->nr++;
	return hier_open(cg, &cg->h[i], mount, ctrl, err);
}

/* The controller of a key ("cpuset" for "cpuset.cpus"); "cgroup.*" is v2's core. */
static void key_ctrl(const struct jail_cgroup_arg *c, char out[32])
{
	size_t len = (size_t)(strchr(c->key, '.') - c->key);

	if (len > 31)
		len = 31;
	memcpy(out, c->key, len);
	out[len] = '\0';
}

static int cg_write_settings(struct jail_cg *cg, const struct jail_args *a, const unsigned *hier,
			     struct jail_err *err)
{
	char comp[NAME_MAX + 1];
	unsigned i;
	int r;

	/* Settings first: they must be in force before the process is in the group. */
	for (i = 0; i < a->nr_cgroups; i++) {
		const struct jail_cgroup_arg *c = &a->cgroup[i];
		struct jail_cg_h *h = &cg->h[hier[i]];

		memcpy(comp, c->key, c->key_len);
		comp[c->key_len] = '\0';
		r = write_small(h->cg_fd, comp, c->value);
		if (r)
			return jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup %s/%s = '%s': %s%s",
					 h->shown, comp, c->value, strerror(-r),
					 r == -ENOENT ? " (no such file: unknown setting or "
							"controller not enabled)"
						      : "");
	}
	return 0;
}

/*
 * --cgroup-version 2 without any --cgroup: Firecracker moves the process into
 * <cgroup2>/<parent> if that exists (a group the caller prepared), and makes
 * nothing.  A parent with domain controllers enabled below it refuses a
 * process of its own (EBUSY): that is the caller's to fix.
 */
static int cg_join_parent(struct jail_cg *cg, const char *mount, struct jail_err *err)
{
	struct jail_cg_h *h = &cg->h[0];
	char pid[24];
	int r;

	cg->nr = 1;
	r = hier_open(cg, h, mount, "", err);
	if (r)
		return r;
	snprintf(h->shown, sizeof(h->shown), "%s/%s", h->mount, cg->parent);
	h->cg_fd = openat(h->root_fd, cg->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->cg_fd < 0 && errno == ENOENT)
		return 0; /* nothing prepared: stay where we are, as Firecracker */
	if (h->cg_fd < 0)
		return jail_fail(err, JAIL_EXIT_CGROUP, errno, "cgroup %s: %s", h->shown,
				 strerror(errno));
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = write_small(h->cg_fd, "cgroup.procs", pid);
	if (r)
		return jail_fail(err, JAIL_EXIT_CGROUP, -r,
				 "cgroup %s/cgroup.procs: moving in: %s (to make a group for the "
				 "VM below it instead, pass a --cgroup setting)",
				 h->shown, strerror(-r));
	h->moved = true;
	return 0;
}

int jail_cg_setup(struct jail_cg *cg, const struct jail_args *a, const char *exec_name,
		  struct jail_err *err)
{
	char ctrls[JAIL_MAX_CGROUPS][32], mount[PATH_MAX], pid[24];
	const char *procs;
	unsigned hier[JAIL_MAX_CGROUPS], i, n = 0;
	int r;

	if (!a->nr_cgroups && a->cgroup_version != 2)
		return 0;
	cg->version = a->cgroup_version;
	if (!cg->version)
		cg->version = find_mount(1, NULL, mount, sizeof(mount)) ? 2 : 1;
	r = find_mount(cg->version, NULL, mount, sizeof(mount));
	if (r)
		return jail_fail(err, JAIL_EXIT_CGROUP, -r,
				 "cgroup: no cgroup v%d hierarchy in " CG_MOUNTS "%s%s",
				 cg->version, r == -ENOENT ? "" : ": ",
				 r == -ENOENT
				     ? (cg->version == 1 ? " (use --cgroup-version 2)" : "")
				     : strerror(-r));
	snprintf(cg->parent, sizeof(cg->parent), "%s",
		 a->parent_cgroup ? a->parent_cgroup : exec_name);
	if (!a->nr_cgroups)
		return cg_join_parent(cg, mount, err);
	if (cg->version == 2) {
		cg->nr = 1;
		r = hier_open(cg, &cg->h[0], mount, "", err);
		if (r)
			return r;
	}
	/* Each key's hierarchy (v1), and the distinct controllers v2 enables. */
	for (i = 0; i < a->nr_cgroups; i++) {
		char c[32];
		unsigned j;

		key_ctrl(&a->cgroup[i], c);
		r = hier_of(cg, c, &hier[i], err);
		if (r)
			return r;
		if (!strcmp(c, "cgroup"))
			continue; /* v2's core files need no controller */
		for (j = 0; j < n && strcmp(ctrls[j], c); j++)
			;
		if (j == n)
			memcpy(ctrls[n++], c, sizeof(c));
	}
	for (i = 0; i < cg->nr; i++) {
		r = hier_make(cg, &cg->h[i], a->id, (const char(*)[32])ctrls, n, err);
		if (r)
			return r;
	}
	r = cg_write_settings(cg, a, hier, err);
	if (r)
		return r;
	/* Then join every group: v1 through "tasks", as Firecracker does. */
	procs = cg->version == 2 ? "cgroup.procs" : "tasks";
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (i = 0; i < cg->nr; i++) {
		struct jail_cg_h *h = &cg->h[i];

		r = write_small(h->cg_fd, procs, pid);
		if (r)
			return jail_fail(err, JAIL_EXIT_CGROUP, -r, "cgroup %s/%s: %s%s", h->shown,
					 procs, strerror(-r),
					 r == -ENOSPC ? " (empty cpuset.cpus or cpuset.mems)" : "");
		h->moved = true;
	}
	return 0;
}

void jail_cg_cleanup(struct jail_cg *cg, const char *id)
{
	char path[PATH_MAX * 2 + 2], pid[24];
	unsigned i, k;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (i = cg->nr; i-- > 0;) {
		struct jail_cg_h *h = &cg->h[i];
		int bad = 0;

		if (h->root_fd < 0 || (!h->made_leaf && !h->made_parents && !h->moved))
			continue;
		/* A populated cgroup cannot be removed: go back where we came from first. */
		if (h->moved) {
			snprintf(path, sizeof(path), "%s%s%s", h->orig, *h->orig ? "/" : "",
				 cg->version == 2 ? "cgroup.procs" : "tasks");
			bad = write_small(h->root_fd, path, pid);
		}
		snprintf(path, sizeof(path), "%s/%s", cg->parent, id);
		if (h->made_leaf && !bad && unlinkat(h->root_fd, path, AT_REMOVEDIR))
			bad = -errno;
		for (k = 0; k < h->made_parents && !bad; k++) {
			*strrchr(path, '/') = '\0';
			if (unlinkat(h->root_fd, path, AT_REMOVEDIR) && errno != ENOTEMPTY &&
			    errno != EBUSY)
				bad = -errno;
		}
		if (bad)
			fprintf(stderr, "ember-jailer: cleanup: left behind cgroup %s/%s/%s: %s\n",
				h->mount, cg->parent, id, strerror(-bad));
		else if (h->made_leaf)
			fprintf(stderr, "ember-jailer: cleanup: removed cgroup %s/%s/%s\n",
				h->mount, cg->parent, id);
	}
}

void jail_cg_left_behind(const struct jail_cg *cg, const char *id)
{
	unsigned i;

	for (i = 0; i < cg->nr; i++)
		if (cg->h[i].made_leaf)
			fprintf(stderr, "ember-jailer: cleanup: left behind cgroup %s/%s/%s\n",
				cg->h[i].mount, cg->parent, id);
}
