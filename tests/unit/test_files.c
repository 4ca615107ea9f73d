// SPDX-License-Identifier: Apache-2.0
/*
 * vmm/files.c: what the user names as a file is opened without ever
 * blocking (a FIFO with nobody at the other end is refused at once), only
 * regular files (or block devices where a disk may be one) pass, and an
 * output never truncates a file the VM uses, however it is named.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

struct dir {
	char path[64];
};

static void dir_make(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/ember-files-XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

static void in(const struct dir *d, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", d->path, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_input(void **state)
{
	struct dir d;
	char reg[96], fifo[96];
	const char *why;
	uint64_t t0;
	int fd;

	(void)state;
	dir_make(&d);
	in(&d, "reg", reg, sizeof(reg));
	in(&d, "fifo", fifo, sizeof(fifo));
	write_file(reg, "data");
	assert_int_equal(mkfifo(fifo, 0600), 0);

	fd = file_open_input(reg, false, false, &why);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0); /* blocking again */
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);
	fd = file_open_input(reg, true, false, &why);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	close(fd);

	/* Nobody writes to the FIFO: a blocking open would never return. */
	t0 = time_now_us();
	assert_int_equal(file_open_input(fifo, false, false, &why), -EINVAL);
	assert_string_equal(why, "not a regular file");
	assert_int_equal(file_open_input(fifo, true, true, &why), -EINVAL);
	assert_string_equal(why, "not a regular file or block device");
	assert_true(time_now_us() - t0 < 1000000);
	assert_int_equal(file_open_input(d.path, false, false, &why), -EINVAL);
	assert_int_equal(file_open_input("/dev/null", false, true, &why), -EINVAL);
	assert_int_equal(file_open_input("/nonexistent/x", false, false, &why), -ENOENT);
	assert_string_equal(why, strerror(ENOENT));
	unlink(reg);
	unlink(fifo);
	rmdir(d.path);
}

/* The one reader of whole-file inputs (config, metadata, filters, cpu-config). */
static void test_read_all(void **state)
{
	struct dir d;
	char reg[96], fifo[96], err[256], *buf;
	size_t len;

	(void)state;
	dir_make(&d);
	in(&d, "reg", reg, sizeof(reg));
	in(&d, "fifo", fifo, sizeof(fifo));
	write_file(reg, "0123456789");
	assert_int_equal(mkfifo(fifo, 0600), 0);

	assert_int_equal(file_read_all(reg, 10, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789"); /* NUL-terminated */
	free(buf);
	/* One byte over: refused, the limit named. */
	assert_int_equal(file_read_all(reg, 9, &buf, &len, err, sizeof(err)), -EFBIG);
	assert_null(buf);
	assert_non_null(strstr(err, "larger than the limit of 9 bytes"));
	assert_non_null(strstr(err, reg));
	/*
	 * A FIFO nobody writes to: a blocking open (or read) would never
	 * return, so a regression ends this test by SIGALRM, not by a hang.
	 */
	alarm(20);
	assert_int_equal(file_read_all(fifo, 100, &buf, &len, err, sizeof(err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(file_read_all(d.path, 100, &buf, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(file_read_all("/dev/zero", 100, &buf, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(file_read_all("/nonexistent/x", 100, &buf, &len, err, sizeof(err)),
			 -ENOENT);
	/* st_size says 0, the file has more: read to its end, still bounded. */
	assert_int_equal(file_read_all("/proc/self/status", 1 << 20, &buf, &len, err, sizeof(err)),
			 0);
	assert_non_null(strstr(buf, "Name:"));
	free(buf);
	assert_int_equal(file_read_all("/proc/self/status", 8, &buf, &len, err, sizeof(err)),
			 -EFBIG);
	unlink(reg);
	unlink(fifo);
	rmdir(d.path);
}

static void test_output(void **state)
{
	struct dir d;
	char mem[96], sym[96], hard[96], fifo[96], fresh[96], other[96];
	struct file_id keep;
	struct stat st;
	const char *why;
	int fd;

	(void)state;
	dir_make(&d);
	in(&d, "mem", mem, sizeof(mem));
	in(&d, "sym", sym, sizeof(sym));
	in(&d, "hard", hard, sizeof(hard));
	in(&d, "fifo", fifo, sizeof(fifo));
	in(&d, "fresh", fresh, sizeof(fresh));
	in(&d, "other", other, sizeof(other));
	write_file(mem, "guest memory");
	write_file(other, "old snapshot");
	assert_int_equal(symlink(mem, sym), 0);
	assert_int_equal(link(mem, hard), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(stat(mem, &st), 0);
	keep = (struct file_id){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino};

	/* The file the VM uses, by any name: refused, and not truncated. */
	assert_int_equal(file_open_output(mem, &keep, 1, &why), -EINVAL);
	assert_non_null(strstr(why, "a file this microVM uses"));
	assert_int_equal(file_open_output(sym, &keep, 1, &why), -EINVAL);
	assert_int_equal(file_open_output(hard, &keep, 1, &why), -EINVAL);
	assert_int_equal(size_of(mem), 12);
	/* A FIFO: refused at once, still a FIFO. */
	assert_int_equal(file_open_output(fifo, &keep, 1, &why), -EINVAL);
	assert_string_equal(why, "not a regular file");
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(file_open_output(d.path, NULL, 0, &why), -EISDIR);

	/* Anything else: created, or truncated, blocking, close-on-exec. */
	fd = file_open_output(fresh, &keep, 1, &why);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	close(fd);
	fd = file_open_output(other, &keep, 1, &why);
	assert_true(fd >= 0);
	assert_int_equal(size_of(other), 0);
	assert_true(file_is(fd, &(struct file_id){.dev = (uint64_t)st.st_dev,
						  .ino = (uint64_t)st.st_ino}) == false);
	close(fd);
	fd = open(mem, O_RDONLY);
	assert_true(file_is(fd, &keep));
	close(fd);

	unlink(mem);
	unlink(sym);
	unlink(hard);
	unlink(fifo);
	unlink(fresh);
	unlink(other);
	rmdir(d.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_input),
	    cmocka_unit_test(test_read_all),
	    cmocka_unit_test(test_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
