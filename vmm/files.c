// SPDX-License-Identifier: Apache-2.0
/*
 * Opening the files the API and the command line name, safely (ember.h):
 * never blocking (a FIFO named as a kernel, a drive or a snapshot would
 * otherwise hang the VMM thread, and with it every device and the API),
 * regular files only (block devices where a disk may be one), and never
 * truncating a file the VM itself uses (a snapshot written over the
 * memory file it was restored from would destroy its RAM and its clones').
 * Checks are on the opened fd, so a path swapped in between cannot slip by.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ember.h"

/* Regular (or, with @blk_ok, block device): 0, else -EINVAL with *why. */
static int check_kind(int fd, bool blk_ok, struct stat *st, const char **why)
{
	if (fstat(fd, st)) {
		*why = strerror(errno);
		return -errno;
	}
	if (S_ISREG(st->st_mode) || (blk_ok && S_ISBLK(st->st_mode)))
		return 0;
	*why = blk_ok ? "not a regular file or block device" : "not a regular file";
	return -EINVAL;
}

/* Blocking again: for io_uring and plain reads O_NONBLOCK would mean EAGAIN. */
static int unblock(int fd, const char **why)
{
	if (fcntl(fd, F_SETFL, 0) == 0)
		return 0;
	*why = strerror(errno);
	return -errno;
}

int file_open_input(const char *path, bool write, bool blk_ok, const char **why)
{
	struct stat st;
	int fd = open(path, (write ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC), r;

	if (fd < 0) {
		*why = strerror(errno);
		return -errno;
	}
	r = check_kind(fd, blk_ok, &st, why);
	if (!r)
		r = unblock(fd, why);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

bool file_is(int fd, const struct file_id *id)
{
	struct stat st;

	return !fstat(fd, &st) && (uint64_t)st.st_dev == id->dev && (uint64_t)st.st_ino == id->ino;
}

int file_open_output(const char *path, const struct file_id *keep, unsigned n, const char **why)
{
	struct stat st;
	int fd = open(path, FILE_OUTPUT_FLAGS, 0600), r;

	if (fd < 0 && errno == ENXIO) {
		/* A FIFO nobody reads (or a socket): O_NONBLOCK refuses it for us. */
		*why = "not a regular file";
		return -EINVAL;
	}
	if (fd < 0) {
		*why = strerror(errno);
		return -errno;
	}
	r = check_kind(fd, false, &st, why);
	for (unsigned i = 0; !r && i < n; i++) {
		if ((uint64_t)st.st_dev == keep[i].dev && (uint64_t)st.st_ino == keep[i].ino) {
			*why = "a file this microVM uses (its memory or a drive): refused";
			r = -EINVAL;
		}
	}
	/* Only now, once it is known to be ours to overwrite. */
	if (!r && ftruncate(fd, 0)) {
		*why = strerror(errno);
		r = -errno;
	}
	if (!r)
		r = unblock(fd, why);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

int file_open_stream(const char *path, const char **why)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);

	/*
	 * A FIFO nobody reads yet (the go-sdk creates them and starts its
	 * readers later) refuses a write-only non-blocking open with ENXIO;
	 * opened read-write, as Firecracker does, it works, and what is written
	 * while nobody reads waits in the pipe (or is dropped once it is full).
	 */
	if (fd < 0 && errno == ENXIO)
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*why = strerror(errno);
		return -errno;
	}
	return fd;
}

/* Grows @buf (capacity *cap) towards @max + 1, the most file_read_all reads. */
static int grow(char **buf, size_t *cap, size_t max)
{
	size_t want = *cap > (max + 1) / 2 ? max + 1 : *cap * 2;
	char *n = realloc(*buf, want + 1);

	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = want;
	return 0;
}

/*
 * Reads to the end, not to st_size: a file that grows meanwhile, or one of
 * /proc's that says 0, is still bounded by @max (one byte more is read to
 * tell "exactly max" from "larger").
 */
static int read_bounded(int fd, size_t size, size_t max, char **out, size_t *len)
{
	size_t cap = (size < max ? size : max) + 1, got = 0;
	char *buf = malloc(cap + 1);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	while (!r && got <= max) {
		ssize_t n;

		if (got == cap && (r = grow(&buf, &cap, max)))
			break;
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else if (n == 0)
			break;
		else
			got += (size_t)n;
	}
	if (!r && got > max)
		r = -EFBIG;
	if (r) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int file_read_all(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	const char *why = NULL;
	int fd = file_open_input(path, false, false, &why), r;

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return fd;
	}
	r = fstat(fd, &st) ? -errno : 0;
	if (!r && (uint64_t)st.st_size > max)
		r = -EFBIG; /* refused before a byte is read or allocated */
	if (!r)
		r = read_bounded(fd, (size_t)st.st_size, max, buf, len);
	if (r == -EFBIG)
		snprintf(err, errlen, "%s: larger than the limit of %zu bytes", path, max);
	else if (r)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	close(fd);
	return r;
}

int sock_path_claim(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (lstat(path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Refused: the listener is gone (EAGAIN would be one too busy to accept: live). */
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	close(fd);
	if (r == -ECONNREFUSED)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	return -EADDRINUSE;
}
