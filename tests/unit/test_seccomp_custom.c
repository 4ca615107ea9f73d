// SPDX-License-Identifier: Apache-2.0
/*
 * --seccomp-filter: Firecracker's compiled filter file (bincode, fixed
 * little-endian integers), built by hand here byte by byte; every way it
 * can be damaged is refused with a message, and a parsed file's programs
 * are what seccomp_install() then loads: a thread under a forbidding one
 * dies with EMBER_EXIT_SECCOMP naming its role.
 */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp_custom.h"
#include "seccomp_rig.h"

struct file {
	uint8_t b[SECCOMP_CUSTOM_MAX_BYTES + 64];
	size_t len;
};

static struct file f;

static void put_u64(uint64_t v)
{
	for (int i = 0; i < 8; i++)
		f.b[f.len++] = (uint8_t)(v >> (8 * i));
}

static void put_insn(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	put_u64((uint64_t)code | (uint64_t)jt << 16 | (uint64_t)jf << 24 | (uint64_t)k << 32);
}

/* "allow": RET ALLOW.  "forbid": write and exit_group allowed, every other call traps. */
static void put_prog(const char *kind)
{
	if (!strcmp(kind, "empty")) {
		put_u64(0);
	} else if (!strcmp(kind, "allow")) {
		put_u64(1);
		put_insn(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	} else if (!strcmp(kind, "forbid")) {
		put_u64(5);
		put_insn(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0); /* seccomp_data.nr */
		put_insn(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, SYS_write);
		put_insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SYS_exit_group);
		put_insn(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRAP);
		put_insn(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	} else if (!strncmp(kind, "arch=", 5)) { /* seccompiler's prologue for that arch */
		put_u64(4);
		put_insn(BPF_LD | BPF_W | BPF_ABS, 0, 0, 4); /* seccomp_data.arch */
		put_insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, (uint32_t)strtoul(kind + 5, NULL, 0));
		put_insn(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
		put_insn(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	} else { /* "badjump": a jump past the end, which the kernel refuses */
		put_u64(2);
		put_insn(BPF_JMP | BPF_JEQ | BPF_K, 5, 5, 0);
		put_insn(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	}
}

static void put_entry(const char *name, const char *kind)
{
	put_u64(strlen(name));
	memcpy(f.b + f.len, name, strlen(name));
	f.len += strlen(name);
	put_prog(kind);
}

/* A map of three, as seccompiler-bin writes it (names in order). */
static void build(const char *api, const char *vcpu, const char *vmm)
{
	f.len = 0;
	put_u64(3);
	put_entry("api", api);
	put_entry("vcpu", vcpu);
	put_entry("vmm", vmm);
}

static void refused(const char *needle)
{
	struct seccomp_custom c;
	char err[256];

	assert_int_equal(seccomp_custom_parse(f.b, f.len, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s' lacks '%s'", err, needle);
	for (int r = 0; r < 3; r++)
		assert_null(c.prog[r]);
}

static void test_parse(void **state)
{
	struct seccomp_custom c;
	char err[256];

	(void)state;
	build("allow", "forbid", "empty");
	assert_int_equal(seccomp_custom_parse(f.b, f.len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.len[SECCOMP_API], 1);
	assert_int_equal(c.prog[SECCOMP_API][0].code, BPF_RET | BPF_K);
	assert_int_equal(c.prog[SECCOMP_API][0].k, SECCOMP_RET_ALLOW);
	assert_int_equal(c.len[SECCOMP_VCPU], 5);
	assert_int_equal(c.prog[SECCOMP_VCPU][1].jt, 2);
	assert_int_equal(c.prog[SECCOMP_VCPU][1].k, SYS_write);
	assert_int_equal(c.prog[SECCOMP_VCPU][3].k, SECCOMP_RET_TRAP);
	assert_int_equal(c.len[SECCOMP_VMM], 0);
	seccomp_custom_free(&c);
	/* Names in any case, in any order (Firecracker lowercases them). */
	f.len = 0;
	put_u64(3);
	put_entry("VMM", "allow");
	put_entry("Api", "allow");
	put_entry("vCPU", "forbid");
	assert_int_equal(seccomp_custom_parse(f.b, f.len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.len[SECCOMP_VCPU], 5);
	seccomp_custom_free(&c);
}

static void test_refusals(void **state)
{
	size_t whole;

	(void)state;
	/* Every truncation of a good file. */
	build("allow", "forbid", "allow");
	whole = f.len;
	for (size_t n = 0; n < whole; n++) {
		struct seccomp_custom c;
		char err[256];

		f.len = n;
		assert_int_equal(seccomp_custom_parse(f.b, n, &c, err, sizeof(err)), -EINVAL);
	}
	f.len = 4;
	refused("too short for a filter map");
	f.len = whole - 3;
	refused("truncated in the vmm program");
	f.len = whole;
	f.b[f.len++] = 0;
	refused("1 bytes after the filter map");
	/* Categories: Firecracker's three, each once. */
	f.len = 0;
	put_u64(2);
	put_entry("api", "allow");
	put_entry("vcpu", "allow");
	refused("Missing thread category: vmm");
	f.len = 0;
	put_u64(3);
	put_entry("api", "allow");
	put_entry("vcpu", "allow");
	put_entry("main", "allow");
	refused("Invalid thread categories: main");
	f.len = 0;
	put_u64(3);
	put_entry("api", "allow");
	put_entry("API", "allow");
	put_entry("vmm", "allow");
	refused("thread category api twice");
	f.len = 0;
	put_u64(4);
	refused("a map of 4 thread categories");
	f.len = 0;
	put_u64(1);
	put_u64(UINT64_MAX); /* a name longer than the file */
	refused("truncated in thread category 0's name");
	/* Programs: no more than the kernel takes, no length past the end. */
	f.len = 0;
	put_u64(1);
	put_u64(3);
	memcpy(f.b + f.len, "api", 3);
	f.len += 3;
	put_u64(SECCOMP_CUSTOM_MAX_INSNS + 1);
	refused("the api program has 4097 instructions, more than the kernel's 4096");
	f.len -= 8;
	put_u64(UINT64_MAX / 8);
	refused("instructions, more than");
	f.len -= 8;
	put_u64(100);
	refused("truncated in the api program (100 instructions announced)");
	/* Firecracker's size limit. */
	f.len = SECCOMP_CUSTOM_MAX_BYTES + 1;
	refused("more than the 100000 a filter file may have");
}

/* seccomp_custom_load(): the file on disk, and the kernel's verdict at load. */
/*
 * A program compiled for another architecture (x86-64's file on aarch64,
 * or the other way) is refused by name; one for this architecture loads.
 */
static void test_arch(void **state)
{
	struct seccomp_custom c;
	char this[32], other[32], err[256];

	(void)state;
	snprintf(this, sizeof(this), "arch=%u", (unsigned)AUDIT_ARCH_X86_64);
	snprintf(other, sizeof(other), "arch=%u", (unsigned)AUDIT_ARCH_AARCH64);
#if defined(__aarch64__)
	snprintf(this, sizeof(this), "arch=%u", (unsigned)AUDIT_ARCH_AARCH64);
	snprintf(other, sizeof(other), "arch=%u", (unsigned)AUDIT_ARCH_X86_64);
#endif
	build("allow", this, this);
	assert_int_equal(seccomp_custom_parse(f.b, f.len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.len[SECCOMP_VCPU], 4);
	seccomp_custom_free(&c);
	build("allow", this, other);
	refused("the vmm program is for another architecture");
}

static void test_load(void **state)
{
	char path[] = "/tmp/ember-seccomp-XXXXXX", err[256];
	struct seccomp_custom c;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	build("allow", "badjump", "allow");
	assert_int_equal(write(fd, f.b, f.len), (ssize_t)f.len);
	assert_int_equal(seccomp_custom_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the kernel refuses the vcpu program: Invalid argument"));
	build("allow", "forbid", "empty");
	assert_int_equal(pwrite(fd, f.b, f.len, 0), (ssize_t)f.len);
	assert_int_equal(ftruncate(fd, (off_t)f.len), 0);
	assert_int_equal(seccomp_custom_load(path, &c, err, sizeof(err)), 0);
	seccomp_custom_free(&c);
	assert_int_equal(ftruncate(fd, 20), 0);
	assert_int_equal(seccomp_custom_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Filter deserialization failed: /tmp/ember-seccomp-"));
	close(fd);
	unlink(path);
	assert_int_equal(seccomp_custom_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Filter file open error"));
	assert_int_equal(seccomp_custom_load("/tmp", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	/* A FIFO nobody writes to: refused, not waited on (SIGALRM if it hangs). */
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(20);
	assert_int_equal(seccomp_custom_load(path, &c, err, sizeof(err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "Filter file open error"));
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	/* Firecracker's 100000 bytes bound the file before it is read. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SECCOMP_CUSTOM_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(seccomp_custom_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than the limit of 100000 bytes"));
	unlink(path);
}

static int call_getppid(void *arg)
{
	(void)arg;
	syscall(SYS_getppid);
	return 0;
}

static int use_and_call(void *arg)
{
	seccomp_custom_use(arg);
	return run_in_thread(&(struct in_thread){.role = SECCOMP_VCPU, .fn = call_getppid});
}

static int use_and_call_api(void *arg)
{
	seccomp_custom_use(arg);
	return run_in_thread(
	    &(struct in_thread){.role = SECCOMP_API, .block_signals = true, .fn = call_getppid});
}

/* The file's programs replace ember's: forbidding trips, allowing and empty do not. */
static void test_installed(void **state)
{
	struct seccomp_custom c;
	struct child ch;
	char err[256];

	(void)state;
	build("allow", "forbid", "empty");
	assert_int_equal(seccomp_custom_parse(f.b, f.len, &c, err, sizeof(err)), 0);
	run_child(use_and_call, &c, &ch);
	expect_killed(&ch, "vcpu", SYS_getppid, "getppid");
	/* ember's own API list forbids getppid too; this file's allows everything. */
	run_child(use_and_call_api, &c, &ch);
	expect_ok(&ch);
	seccomp_custom_free(&c);
	build("empty", "empty", "empty");
	assert_int_equal(seccomp_custom_parse(f.b, f.len, &c, err, sizeof(err)), 0);
	run_child(use_and_call, &c, &ch);
	expect_ok(&ch);
	seccomp_custom_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),     cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_arch),      cmocka_unit_test(test_load),
	    cmocka_unit_test(test_installed),
	};
	return cmocka_run_group_tests_name("seccomp_custom", tests, NULL, NULL);
}
