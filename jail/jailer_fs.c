// SPDX-License-Identifier: Apache-2.0
/*
 * The jail's filesystem: <base>/<exec-name>/<id>/root, the copy of the exec
 * file in it, the pivot into it, and the folders and device nodes ember needs
 * there.
 *
 * Below the base directory nothing is reached by path: every component is
 * made with mkdirat() and opened with openat(O_NOFOLLOW | O_DIRECTORY)
 * relative to its parent's fd, and the binary is created with
 * O_CREAT | O_EXCL | O_NOFOLLOW.  A symlink planted anywhere in the jail path,
 * or a symlink or hard link planted where the binary goes, is refused rather
 * than followed, so the root-run copy can never write through it to a file
 * elsewhere (the class of Firecracker's CVE-2026-1386).
 */
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "jailer.h"

#define OLD_ROOT "old_root"

/* What jail_fs_populate() made inside the jail, so cleanup removes only that. */
enum {
	INNER_DEV = 1u << 0,
	INNER_DEV_NET = 1u << 1,
	INNER_RUN = 1u << 2,
	INNER_KVM = 1u << 3,
	INNER_TUN = 1u << 4,
	INNER_UFFD = 1u << 5,
};

/* Folders ember needs (devices, its API socket), owned by the jailed user. */
static const struct {
	const char *path; /* relative to the jail root */
	unsigned bit;
} inner_dirs[] = {{"dev", INNER_DEV}, {"dev/net", INNER_DEV_NET}, {"run", INNER_RUN}};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void jail_fs_init(struct jail_fs *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->exec_fd = fs->base_fd = fs->exec_dir_fd = fs->id_dir_fd = fs->root_fd = -1;
	fs->devnull_fd = -1;
}

void jail_fs_close(struct jail_fs *fs)
{
	close_fd(&fs->exec_fd);
	close_fd(&fs->base_fd);
	close_fd(&fs->exec_dir_fd);
	close_fd(&fs->id_dir_fd);
	close_fd(&fs->root_fd);
	close_fd(&fs->devnull_fd);
}

/*
 * The jail holds this one file and nothing else, so a dynamically linked
 * binary or a script would fail only at exec, after privileges are dropped
 * and nothing can be cleaned up any more.  Refuse them here instead.
 */
static int exec_check_static(int fd, const char *path, struct jail_err *err)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned i;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(ph))
		return jail_fail(err, JAIL_EXIT_EXEC_FILE, ENOEXEC,
				 "--exec-file '%s': not a 64-bit ELF executable", path);
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return jail_fail(err, JAIL_EXIT_EXEC_FILE, ENOEXEC,
					 "--exec-file '%s': truncated ELF program headers", path);
		if (ph.p_type == PT_INTERP)
			return jail_fail(err, JAIL_EXIT_EXEC_FILE, ENOEXEC,
					 "--exec-file '%s': dynamically linked; the jail has no "
					 "loader or libraries, use a static build",
					 path);
	}
	return 0;
}

int jail_fs_open_exec(struct jail_fs *fs, const char *path, struct jail_err *err)
{
	char *real = NULL;
	const char *name;
	struct stat st;
	int r;

	/*
	 * Opened once: what is validated is what gets copied, whatever the
	 * path does later.  O_NONBLOCK: a FIFO is refused below, not waited on
	 * (regular files read the same either way).
	 */
	fs->exec_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fs->exec_fd < 0)
		return jail_fail(err, JAIL_EXIT_EXEC_FILE, errno, "--exec-file '%s': %s", path,
				 strerror(errno));
	if (fstat(fs->exec_fd, &st))
		return jail_fail(err, JAIL_EXIT_EXEC_FILE, errno, "--exec-file '%s': %s", path,
				 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return jail_fail(err, JAIL_EXIT_EXEC_FILE, EINVAL,
				 "--exec-file '%s': not a regular file%s", path,
				 S_ISDIR(st.st_mode) ? " (a directory)" : "");
	r = exec_check_static(fs->exec_fd, path, err);
	if (r)
		return r;
	/* Like Firecracker, the jail is named after the canonical file, not a symlink to it. */
	real = realpath(path, NULL);
	if (!real)
		return jail_fail(err, JAIL_EXIT_EXEC_FILE, errno, "--exec-file '%s': %s", path,
				 strerror(errno));
	name = strrchr(real, '/');
	name = name ? name + 1 : real;
	/* Room for "<name>.pid" too. */
	if (!*name || strlen(name) + 4 > NAME_MAX) {
		r = jail_fail(err, JAIL_EXIT_EXEC_FILE, ENAMETOOLONG,
			      "--exec-file '%s': file name too long", path);
		goto out;
	}
	strcpy(fs->exec_name, name);
	r = 0;
out:
	free(real);
	return r;
}

/* mkdir -p for the base directory: its path is the operator's and may hold symlinks. */
static int mkdir_p(const char *path, struct jail_err *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path), i;

	if (n >= sizeof(buf))
		return jail_fail(err, JAIL_EXIT_CHROOT_BASE, ENAMETOOLONG,
				 "--chroot-base-dir '%.80s...': path too long", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return jail_fail(err, JAIL_EXIT_CHROOT_BASE, errno,
					 "--chroot-base-dir: mkdir %s: %s", buf, strerror(errno));
		buf[i] = path[i];
	}
	return 0;
}

/*
 * Makes (if missing) and opens the directory @name under @dirfd without
 * following a symlink there.  An existing directory is accepted: the exec
 * name level is shared by all jails, and Firecracker also lets the id levels
 * exist (what makes a jail single use is the binary, see jail_fs_copy_exec).
 */
static int subdir_open(int dirfd, const char *name, mode_t mode, const char *shown, int *fd,
		       bool *made, struct jail_err *err)
{
	if (!mkdirat(dirfd, name, mode))
		*made = true;
	else if (errno != EEXIST)
		return jail_fail(err, JAIL_EXIT_JAIL_DIR, errno, "jail directory %s: mkdir: %s",
				 shown, strerror(errno));
	*fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (errno == ELOOP || errno == ENOTDIR) {
		struct stat st;
		bool link = !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode);

		return jail_fail(err, JAIL_EXIT_JAIL_DIR, errno,
				 "jail directory %s: %s; refusing to follow it", shown,
				 link ? "is a symlink" : "exists and is not a directory");
	}
	return jail_fail(err, JAIL_EXIT_JAIL_DIR, errno, "jail directory %s: open: %s", shown,
			 strerror(errno));
}

int jail_fs_create(struct jail_fs *fs, const struct jail_args *a, struct jail_err *err)
{
	char base[PATH_MAX], shown[PATH_MAX + NAME_MAX + JAIL_ID_MAX + 8];
	struct statvfs vfs;
	int r;

	fs->id = a->id;
	r = mkdir_p(a->chroot_base, err);
	if (r)
		return r;
	if (!realpath(a->chroot_base, base))
		return jail_fail(err, JAIL_EXIT_CHROOT_BASE, errno, "--chroot-base-dir '%s': %s",
				 a->chroot_base, strerror(errno));
	fs->base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->base_fd < 0)
		return jail_fail(err, JAIL_EXIT_CHROOT_BASE, errno, "--chroot-base-dir '%s': %s",
				 a->chroot_base, strerror(errno));
	if ((size_t)snprintf(fs->root_path, sizeof(fs->root_path), "%s/%s/%s/root",
			     strcmp(base, "/") ? base : "", fs->exec_name,
			     a->id) >= sizeof(fs->root_path))
		return jail_fail(err, JAIL_EXIT_JAIL_DIR, ENAMETOOLONG, "jail directory %s/...: %s",
				 base, strerror(ENAMETOOLONG));

	snprintf(shown, sizeof(shown), "%s/%s", strcmp(base, "/") ? base : "", fs->exec_name);
	r = subdir_open(fs->base_fd, fs->exec_name, 0755, shown, &fs->exec_dir_fd,
			&fs->made_exec_dir, err);
	if (r)
		return r;
	snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "/%s", a->id);
	r = subdir_open(fs->exec_dir_fd, a->id, 0755, shown, &fs->id_dir_fd, &fs->made_id_dir, err);
	if (r)
		return r;
	r = subdir_open(fs->id_dir_fd, "root", 0700, fs->root_path, &fs->root_fd, &fs->made_root,
			err);
	if (r)
		return r;
	/* Only the jailed user may look inside (owner set after the pivot, as Firecracker). */
	if (fchmod(fs->root_fd, 0700))
		return jail_fail(err, JAIL_EXIT_JAIL_DIR, errno, "jail directory %s: chmod: %s",
				 fs->root_path, strerror(errno));
	/* Same reason as exec_check_static(): exec would fail only after the privilege drop. */
	if (!fstatvfs(fs->root_fd, &vfs) && (vfs.f_flag & (ST_NOEXEC | ST_NODEV)))
		return jail_fail(err, JAIL_EXIT_JAIL_DIR, EPERM,
				 "jail directory %s: on a %s mount; choose another "
				 "--chroot-base-dir",
				 fs->root_path, vfs.f_flag & ST_NOEXEC ? "noexec" : "nodev");
	return 0;
}

int jail_fs_copy_exec(struct jail_fs *fs, struct jail_err *err)
{
	struct stat st;
	off_t off = 0;
	int fd, r;

	fd = openat(fs->root_fd, fs->exec_name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
	if (fd < 0) {
		int e = errno;
		const char *why = strerror(e);

		if (e == EEXIST && !fstatat(fs->root_fd, fs->exec_name, &st, AT_SYMLINK_NOFOLLOW)) {
			if (S_ISLNK(st.st_mode))
				why = "destination exists as a symlink";
			else if (S_ISREG(st.st_mode) && st.st_nlink > 1)
				why = "destination exists as a hard link";
			else
				why = "destination already exists";
			return jail_fail(err, JAIL_EXIT_COPY, e,
					 "copy to %s/%s: %s; refusing (a jail is single use)",
					 fs->root_path, fs->exec_name, why);
		}
		return jail_fail(err, JAIL_EXIT_COPY, e, "copy to %s/%s: %s", fs->root_path,
				 fs->exec_name, why);
	}
	fs->made_binary = true;
	if (fstat(fs->exec_fd, &st)) {
		r = jail_fail(err, JAIL_EXIT_COPY, errno, "copy: stat exec file: %s",
			      strerror(errno));
		goto out;
	}
	/* In-kernel copy: no buffer, and sparse or huge files are not our concern. */
	while (off < st.st_size) {
		ssize_t n = sendfile(fd, fs->exec_fd, &off, (size_t)(st.st_size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			r = jail_fail(err, JAIL_EXIT_COPY, e, "copy to %s/%s: %s", fs->root_path,
				      fs->exec_name, n < 0 ? strerror(e) : "exec file shrank");
			goto out;
		}
	}
	/* Root-owned and not writable by the jailed user; no set-id bits whatever the source. */
	if (fchmod(fd, 0755)) {
		r = jail_fail(err, JAIL_EXIT_COPY, errno, "copy to %s/%s: chmod: %s", fs->root_path,
			      fs->exec_name, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

int jail_fs_pivot(struct jail_fs *fs, struct jail_err *err)
{
	struct stat want, got, uffd;
	int fd;

	/* Its minor is dynamic (misc), so copy the host's node rather than guess. */
	if (!stat("/dev/userfaultfd", &uffd) && S_ISCHR(uffd.st_mode))
		fs->uffd_rdev = uffd.st_rdev;

	if (unshare(CLONE_NEWNS))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "unshare(CLONE_NEWNS): %s",
				 strerror(errno));
	/*
	 * Private rather than slave, as Firecracker: nothing mounted on the host
	 * later should appear in the jail, and nothing we do here leaks out.
	 */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "make / private: %s",
				 strerror(errno));
	/* pivot_root needs the new root to be a mount point. */
	if (mount(fs->root_path, fs->root_path, NULL, MS_BIND, NULL))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "bind mount %s: %s", fs->root_path,
				 strerror(errno));
	/* The path was walked again: make sure it still leads to the directory we made. */
	fd = open(fs->root_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "open %s: %s", fs->root_path,
				 strerror(errno));
	if (fstat(fd, &got) || fstat(fs->root_fd, &want) || got.st_dev != want.st_dev ||
	    got.st_ino != want.st_ino) {
		close(fd);
		return jail_fail(err, JAIL_EXIT_MOUNT, EXDEV,
				 "%s changed under us (not the directory we created)",
				 fs->root_path);
	}
	if (fchdir(fd)) {
		close(fd);
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "chdir %s: %s", fs->root_path,
				 strerror(errno));
	}
	close(fd);
	if (mkdir(OLD_ROOT, 0700))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "mkdir %s/" OLD_ROOT ": %s",
				 fs->root_path, strerror(errno));
	fs->made_old_root = true;
	if (syscall(SYS_pivot_root, ".", OLD_ROOT))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "pivot_root to %s: %s", fs->root_path,
				 strerror(errno));
	fs->pivoted = true;
	if (umount2(OLD_ROOT, MNT_DETACH))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "umount old root: %s",
				 strerror(errno));
	if (rmdir(OLD_ROOT))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "rmdir /" OLD_ROOT ": %s",
				 strerror(errno));
	fs->made_old_root = false;
	/* As Firecracker, for good measure: "/" and the cwd are now both the jail. */
	if (chroot(".") || chdir("/"))
		return jail_fail(err, JAIL_EXIT_MOUNT, errno, "chroot into the jail: %s",
				 strerror(errno));
	return 0;
}

static int own_dir(const char *path, uid_t uid, gid_t gid, struct jail_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r = 0;

	if (fd < 0)
		return jail_fail(err, JAIL_EXIT_DEV, errno, "jail folder %s: %s", path,
				 strerror(errno));
	/* 0700: the jailed user's, as Firecracker's folders; nobody else's business. */
	if (fchmod(fd, 0700) || fchown(fd, uid, gid))
		r = jail_fail(err, JAIL_EXIT_DEV, errno, "jail folder %s: chmod/chown: %s", path,
			      strerror(errno));
	close(fd);
	return r;
}

static int make_dev(struct jail_fs *fs, const char *path, dev_t rdev, unsigned bit, uid_t uid,
		    gid_t gid, struct jail_err *err)
{
	/* 0600 and owned by the jailed user, as Firecracker's device nodes. */
	if (mknod(path, S_IFCHR | 0600, rdev))
		return jail_fail(err, JAIL_EXIT_DEV, errno, "mknod %s (%u,%u): %s", path,
				 major(rdev), minor(rdev), strerror(errno));
	fs->made_inner |= bit;
	if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW))
		return jail_fail(err, JAIL_EXIT_DEV, errno, "chown %s: %s", path, strerror(errno));
	return 0;
}

int jail_fs_populate(struct jail_fs *fs, uid_t uid, gid_t gid, struct jail_err *err)
{
	unsigned i;
	int r;

	r = own_dir("/", uid, gid, err);
	for (i = 0; !r && i < sizeof(inner_dirs) / sizeof(inner_dirs[0]); i++) {
		if (!mkdir(inner_dirs[i].path, 0700))
			fs->made_inner |= inner_dirs[i].bit;
		else if (errno != EEXIST)
			return jail_fail(err, JAIL_EXIT_DEV, errno, "mkdir /%s: %s",
					 inner_dirs[i].path, strerror(errno));
		r = own_dir(inner_dirs[i].path, uid, gid, err);
	}
	if (!r)
		r = make_dev(fs, "/dev/kvm", makedev(10, 232), INNER_KVM, uid, gid, err);
	if (!r)
		r = make_dev(fs, "/dev/net/tun", makedev(10, 200), INNER_TUN, uid, gid, err);
	if (!r && fs->uffd_rdev)
		r = make_dev(fs, "/dev/userfaultfd", fs->uffd_rdev, INNER_UFFD, uid, gid, err);
	return r;
}

int jail_fs_write_pidfile(struct jail_fs *fs, pid_t pid, struct jail_err *err)
{
	char name[NAME_MAX + 8], buf[32];
	int fd, n, r = 0;

	snprintf(name, sizeof(name), "%s.pid", fs->exec_name);
	fd = openat(fs->root_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return jail_fail(err, JAIL_EXIT_SPAWN, errno, "pid file %s/%s: %s", fs->root_path,
				 name, strerror(errno));
	fs->made_pidfile = true;
	n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (write(fd, buf, (size_t)n) != n)
		r = jail_fail(err, JAIL_EXIT_SPAWN, errno ? errno : EIO,
			      "pid file %s/%s: write: %s", fs->root_path, name,
			      strerror(errno ? errno : EIO));
	close(fd);
	return r;
}

/* unlinkat that reports the first failure into @why and carries on. */
static void remove_at(int dirfd, const char *name, int flags, char *why, size_t len,
		      const char *shown)
{
	if (dirfd < 0 || !unlinkat(dirfd, name, flags) || errno == ENOENT || why[0])
		return; /* done, or already reporting an earlier failure */
	snprintf(why, len, "%s: %s", shown, strerror(errno));
}

void jail_fs_cleanup(struct jail_fs *fs)
{
	static const struct {
		const char *path;
		unsigned bit;
		int flags;
	} inner[] = {
	    {"dev/userfaultfd", INNER_UFFD, 0}, {"dev/net/tun", INNER_TUN, 0},
	    {"dev/kvm", INNER_KVM, 0},		{"dev/net", INNER_DEV_NET, AT_REMOVEDIR},
	    {"dev", INNER_DEV, AT_REMOVEDIR},	{"run", INNER_RUN, AT_REMOVEDIR},
	};
	char why[PATH_MAX + 128] = "", name[NAME_MAX + 8];
	bool made = fs->made_binary || fs->made_root || fs->made_id_dir || fs->made_exec_dir;
	unsigned i;

	if (!made && !fs->made_inner && !fs->made_pidfile)
		return;
	if (fs->made_pidfile) {
		snprintf(name, sizeof(name), "%s.pid", fs->exec_name);
		remove_at(fs->root_fd, name, 0, why, sizeof(why), name);
	}
	for (i = 0; i < sizeof(inner) / sizeof(inner[0]); i++)
		if (fs->made_inner & inner[i].bit)
			remove_at(fs->root_fd, inner[i].path, inner[i].flags, why, sizeof(why),
				  inner[i].path);
	if (fs->made_old_root && !fs->pivoted)
		remove_at(fs->root_fd, OLD_ROOT, AT_REMOVEDIR, why, sizeof(why), OLD_ROOT);
	if (fs->made_binary)
		remove_at(fs->root_fd, fs->exec_name, 0, why, sizeof(why), fs->exec_name);
	/*
	 * After the pivot the jail root is our own mount namespace's root and
	 * cannot be removed while mounted there; detaching it lets the rmdir
	 * below through (our "/" stays usable until we exit).
	 */
	if (fs->pivoted && fs->made_root)
		umount2("/", MNT_DETACH);
	if (fs->made_root)
		remove_at(fs->id_dir_fd, "root", AT_REMOVEDIR, why, sizeof(why), fs->root_path);
	if (fs->made_id_dir)
		remove_at(fs->exec_dir_fd, fs->id, AT_REMOVEDIR, why, sizeof(why), fs->root_path);
	/* Shared by every jail of this binary: another one may have appeared meanwhile. */
	if (fs->made_exec_dir && fs->base_fd >= 0)
		unlinkat(fs->base_fd, fs->exec_name, AT_REMOVEDIR);
	if (why[0])
		fprintf(stderr, "ember-jailer: cleanup: left behind %s\n", why);
	else if (made)
		fprintf(stderr, "ember-jailer: cleanup: removed what was created under %s\n",
			fs->root_path);
}
