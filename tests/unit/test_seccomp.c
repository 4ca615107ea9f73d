// SPDX-License-Identifier: Apache-2.0
/*
 * The seccomp allow-lists, without KVM, on the rig of seccomp_rig.h: the
 * lists themselves (fewer rules than Firecracker's, every filter loads and
 * reports under its role's name), the calls each thread's list refuses, and
 * the capabilities main() drops before any thread exists.  A forbidden call
 * ends the process with EMBER_EXIT_SECCOMP and "ember: seccomp: thread
 * <role> made forbidden syscall <nr> (<name>)" on stderr, whatever the
 * thread's signal mask.  What the lists must let through, in the real
 * thread topology: test_seccomp_allowed.c.
 */
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "seccomp_rig.h"

/* Firecracker's x86_64 lists, the counts to beat (issue 7). */
#define FC_VMM_RULES  76
#define FC_VCPU_RULES 49
#define FC_API_RULES  36

/* ---- the lists themselves ---------------------------------------------- */

static void test_rule_counts(void **state)
{
	const struct {
		enum seccomp_role role;
		int firecracker;
	} r[] = {
	    {SECCOMP_VMM, FC_VMM_RULES},
	    {SECCOMP_VCPU, FC_VCPU_RULES},
	    {SECCOMP_API, FC_API_RULES},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		int n = seccomp_rule_count(r[i].role);

		print_message("%-4s: %d rules (Firecracker %d)\n", seccomp_role_name(r[i].role), n,
			      r[i].firecracker);
		assert_true(n > 0);
		assert_true(n < r[i].firecracker);
	}
	assert_int_equal(seccomp_rule_count((enum seccomp_role)7), -EINVAL);
	assert_int_equal(seccomp_install((enum seccomp_role)7), -EINVAL);
	assert_string_equal(seccomp_role_name((enum seccomp_role)7), "unknown");
	assert_int_equal(seccomp_faults(), 0);
}

static int call_getppid(void *arg)
{
	(void)arg;
	syscall(SYS_getppid); /* on no list */
	return 0;
}

/* Each filter compiles, loads, and is in force with the role's name. */
static void test_each_filter_loads(void **state)
{
	const enum seccomp_role roles[] = {SECCOMP_VMM, SECCOMP_VCPU, SECCOMP_API};
	struct child c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		child_on_main(roles[i], call_getppid, NULL, &c);
		expect_killed(&c, seccomp_role_name(roles[i]), SYS_getppid, "getppid");
		child_in_thread(roles[i], false, call_getppid, NULL, &c);
		expect_killed(&c, seccomp_role_name(roles[i]), SYS_getppid, "getppid");
	}
}

/* ---- forbidden on a vCPU thread ------------------------------------------ */

static int vcpu_openat(void *arg)
{
	(void)arg;
	syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
	return 0;
}

static void test_vcpu_openat_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, vcpu_openat, NULL, &c);
	expect_killed(&c, "vcpu", SYS_openat, "openat");
}

static int vcpu_execve(void *arg)
{
	char *const argv[] = {"true", NULL}, *const envp[] = {NULL};

	(void)arg;
	execve("/bin/true", argv, envp);
	return 0;
}

static void test_vcpu_execve_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, vcpu_execve, NULL, &c);
	expect_killed(&c, "vcpu", SYS_execve, "execve");
}

static int vcpu_ioctl_memslot(void *arg)
{
	struct kvm_userspace_memory_region r = {0};

	(void)arg;
	/* The filter looks at the request, not at the fd. */
	ioctl(STDERR_FILENO, KVM_SET_USER_MEMORY_REGION, &r);
	return 0;
}

static int vcpu_ioctl_tcgets(void *arg)
{
	struct termios t;

	(void)arg;
	ioctl(STDERR_FILENO, TCGETS, &t);
	return 0;
}

static void test_vcpu_ioctl_killed(void **state)
{
	struct child c;
	char args[64];

	(void)state;
	/* The guest's memory map is the VMM's business, never a vCPU's. */
	child_in_thread(SECCOMP_VCPU, false, vcpu_ioctl_memslot, NULL, &c);
	expect_killed(&c, "vcpu", SYS_ioctl, "ioctl");
	snprintf(args, sizeof(args), " 0x%lx ", (unsigned long)KVM_SET_USER_MEMORY_REGION);
	assert_non_null(strstr(c.out, args)); /* the request is in the message */
	child_in_thread(SECCOMP_VCPU, false, vcpu_ioctl_tcgets, NULL, &c);
	expect_killed(&c, "vcpu", SYS_ioctl, "ioctl");
}

static int any_socket_inet(void *arg)
{
	(void)arg;
	socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return 0;
}

/* The VMM thread may open a TCP stream (a migration's, migrate.c), nothing else of IP. */
static int vmm_socket_udp(void *arg)
{
	(void)arg;
	socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return 0;
}

static void test_vcpu_socket_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, any_socket_inet, NULL, &c);
	expect_killed(&c, "vcpu", SYS_socket, "socket");
}

static int vcpu_futex_requeue(void *arg)
{
	static uint32_t a, b;

	(void)arg;
	syscall(SYS_futex, &a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &b, 0);
	return 0;
}

static void test_vcpu_futex_requeue_killed(void **state)
{
	struct child c;

	(void)state;
	child_in_thread(SECCOMP_VCPU, false, vcpu_futex_requeue, NULL, &c);
	expect_killed(&c, "vcpu", SYS_futex, "futex");
}

/* ---- forbidden on the VMM thread ----------------------------------------- */

static int vmm_mmap_exec(void *arg)
{
	(void)arg;
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 0;
}

static int vmm_mprotect_exec(void *arg)
{
	void *p = arg;

	mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	return 0;
}

static void test_vmm_exec_memory_killed(void **state)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct child c;

	(void)state;
	assert_true(p != MAP_FAILED);
	child_on_main(SECCOMP_VMM, vmm_mmap_exec, NULL, &c);
	expect_killed(&c, "vmm", SYS_mmap, "mmap");
	child_on_main(SECCOMP_VMM, vmm_mprotect_exec, p, &c);
	expect_killed(&c, "vmm", SYS_mprotect, "mprotect");
	munmap(p, 4096);
}

static void test_vmm_socket_inet_killed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, vmm_socket_udp, NULL, &c);
	expect_killed(&c, "vmm", SYS_socket, "socket");
}

static int vmm_fork(void *arg)
{
	(void)arg;
	if (fork() == 0)
		_exit(0);
	return 0;
}

static void test_vmm_fork_killed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, vmm_fork, NULL, &c);
	expect_killed(&c, "vmm", SYS_clone, "clone"); /* glibc's fork is clone */
}

static int vmm_tgkill_other(void *arg)
{
	pid_t tid = *(pid_t *)arg;

	/* The kick signal is allowed; SIGTERM (or another process) is not. */
	syscall(SYS_tgkill, getpid(), tid, SIGTERM);
	return 0;
}

static int vmm_tgkill_prepare(void *arg)
{
	struct on_main m = {.role = SECCOMP_VMM, .fn = vmm_tgkill_other};
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)arg;
	m.arg = &tid;
	return on_main_run(&m);
}

static void test_vmm_tgkill_other_signal_killed(void **state)
{
	struct child c;

	(void)state;
	run_child(vmm_tgkill_prepare, NULL, &c);
	expect_killed(&c, "vmm", SYS_tgkill, "tgkill");
}

/* The VMM thread opens images read-write (PATCH /drives), never creates them. */
static int vmm_open_read_write(void *arg)
{
	(void)arg;
	open("/dev/null", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return 0;
}

static void test_vmm_open_rdwr_killed(void **state)
{
	struct child c;

	(void)state;
	child_on_main(SECCOMP_VMM, vmm_open_read_write, NULL, &c);
	expect_killed(&c, "vmm", SYS_openat, "openat");
}

/* ---- forbidden on the API thread ----------------------------------------- */

static void test_api_socket_killed_signals_blocked(void **state)
{
	struct child c;

	(void)state;
	/* The API thread blocks every signal; the trap must still report. */
	child_in_thread(SECCOMP_API, true, any_socket_inet, NULL, &c);
	expect_killed(&c, "api", SYS_socket, "socket");
}

static int api_accept_blocking(void *arg)
{
	int lfd = *(int *)arg;

	accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* server.c always adds SOCK_NONBLOCK */
	return 0;
}

static int api_accept_prepare(void *arg)
{
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct in_thread t = {.role = SECCOMP_API, .fn = api_accept_blocking, .arg = &lfd};

	(void)arg;
	CHECK(lfd >= 0);
	return run_in_thread(&t);
}

static void test_api_accept_flags_killed(void **state)
{
	struct child c;

	(void)state;
	run_child(api_accept_prepare, NULL, &c);
	expect_killed(&c, "api", SYS_accept4, "accept4");
}

/* ---- capabilities -------------------------------------------------------- */

static int status_hex(const char *status, const char *key, uint64_t *v)
{
	const char *p = strstr(status, key);

	if (!p)
		return -1;
	*v = strtoull(p + strlen(key), NULL, 16);
	return 0;
}

static int drop_caps_child(void *arg)
{
	bool had_setpcap = *(bool *)arg;
	char st[4096];
	uint64_t v;
	ssize_t n;
	int fd;

	CHECK(seccomp_drop_caps() == 0);
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	n = read(fd, st, sizeof(st) - 1);
	CHECK(n > 0);
	st[n] = '\0';
	close(fd);
	CHECK(status_hex(st, "CapInh:\t", &v) == 0 && v == 0);
	CHECK(status_hex(st, "CapPrm:\t", &v) == 0 && v == 0);
	CHECK(status_hex(st, "CapEff:\t", &v) == 0 && v == 0);
	CHECK(status_hex(st, "CapAmb:\t", &v) == 0 && v == 0);
	if (had_setpcap)
		CHECK(status_hex(st, "CapBnd:\t", &v) == 0 && v == 0);
	CHECK(strstr(st, "NoNewPrivs:\t1"));
	return 0;
}

static void test_drop_caps(void **state)
{
	char st[4096];
	uint64_t eff = 0;
	bool had_setpcap;
	ssize_t n;
	int fd;
	struct child c;

	(void)state;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, st, sizeof(st) - 1);
	close(fd);
	assert_true(n > 0);
	st[n] = '\0';
	assert_int_equal(status_hex(st, "CapEff:\t", &eff), 0);
	had_setpcap = eff & (1ull << 8); /* CAP_SETPCAP */
	if (!had_setpcap)
		print_message("no CAP_SETPCAP: the bounding set is not checked\n");
	run_child(drop_caps_child, &had_setpcap, &c);
	expect_ok(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_counts),
	    cmocka_unit_test(test_each_filter_loads),
	    cmocka_unit_test(test_vcpu_openat_killed),
	    cmocka_unit_test(test_vcpu_execve_killed),
	    cmocka_unit_test(test_vcpu_ioctl_killed),
	    cmocka_unit_test(test_vcpu_socket_killed),
	    cmocka_unit_test(test_vcpu_futex_requeue_killed),
	    cmocka_unit_test(test_vmm_exec_memory_killed),
	    cmocka_unit_test(test_vmm_socket_inet_killed),
	    cmocka_unit_test(test_vmm_fork_killed),
	    cmocka_unit_test(test_vmm_tgkill_other_signal_killed),
	    cmocka_unit_test(test_vmm_open_rdwr_killed),
	    cmocka_unit_test(test_api_socket_killed_signals_blocked),
	    cmocka_unit_test(test_api_accept_flags_killed),
	    cmocka_unit_test(test_drop_caps),
	};

	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
