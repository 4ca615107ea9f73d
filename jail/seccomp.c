// SPDX-License-Identifier: Apache-2.0
/*
 * Per-thread seccomp allow-lists and the capability drop.
 *
 * One table, jail/seccomp_rules.c, plus the architecture's part of it
 * (jail/arch/ARCH/seccomp_rules.c), holds every rule with the threads it
 * applies to and why each of them needs it; the build compiles it to BPF
 * (seccomp_gen.c) and this file installs those programs.  The reasons name
 * the code paths as of this writing; a new system call on a filtered thread
 * needs a rule there (and the filtered boot in the integration tests will
 * say so: exit 148 and the syscall's name on stderr).
 *
 * Threads and what they do once filtered:
 *  - vCPU (vmm/vcpu.c vcpu_thread): KVM_RUN and the exit handling behind it:
 *    port and MMIO device callbacks (serial output, eventfd kicks and irqfds,
 *    virtio-mmio register writes: a blk reset drains io_uring and may
 *    finish a short transfer with preadv/pwritev, a net activate or reset
 *    sets the tap's offloads and its epoll interest), logging, the pause
 *    rendezvous (futex), the kick signal, thread exit.
 *  - VMM (the main thread after vm_run has started the vCPUs): the epoll
 *    loop (console input, eventfds, virtio queue kicks, io_uring
 *    completions), block I/O, kicking vCPUs (pthread_kill), the API command
 *    queue, then teardown (joins, munmap, close, terminal restore).
 *  - API (api-socket/server.c api_thread): epoll, accept4, read, send,
 *    close, the command queue (eventfd write, futex), malloc.
 *
 * With --seccomp-filter (seccomp_custom.c) the programs come from
 * Firecracker's filter file instead, and the same installer loads them.
 *
 * Decisions:
 *  - The VMM thread is filtered after it has created every vCPU thread.
 *    Filters are inherited by threads created later and they stack, so a
 *    vCPU thread created under the VMM filter could not KVM_RUN; and this
 *    way the VMM list needs no clone, rt_sigaction, set_robust_list or rseq.
 *  - Everything set up before a thread's filter goes on (opening /dev/kvm,
 *    disks and files, KVM_CREATE_*, KVM_IRQFD, KVM_IOEVENTFD, io_uring_setup
 *    and _register, epoll_create1, eventfd2, the API socket) needs no rule.
 *  - Denied default: trap.  The handler writes one line and _exit()s with
 *    EMBER_EXIT_SECCOMP from the faulting thread, so write and exit_group
 *    are on every list.
 *  - Only the build's ABI (x86-64, or aarch64): others (int 0x80, x32 on
 *    x86; AArch32 on arm64) kill the process.
 *  - openat(O_RDONLY|O_CLOEXEC) fails with EACCES instead of trapping, on
 *    every thread: glibc opens files lazily behind our back, and the one
 *    that matters is malloc's first trim of a thread arena reading
 *    /proc/sys/vm/overcommit_memory (malloc-sysdep.h check_may_shrink_heap).
 *    It falls back to madvise when the open fails.  Nothing can be read.
 *  - io_uring runs its SQEs in the kernel without asking seccomp: a ring
 *    that accepts any opcode would let code in ember open files or sockets
 *    through it.  virtio/blk_engine.c therefore creates its rings disabled,
 *    restricts them to READV, WRITEV and FSYNC, and only then enables them
 *    (tests/unit/test_blk_engine.c).  io_uring_setup and _register are on
 *    no list.
 *  - futex only for the operations glibc's mutexes, condition variables and
 *    pthread_join use (WAIT, WAKE, WAIT_BITSET, private or not): no requeue,
 *    no PI, nothing the futex CVEs went through.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "ember.h"
#include "seccomp_rules.h"
/* After seccomp_rules.h, which wants seccomp.h with libseccomp's. */
#include "seccomp_custom.h"
/* The lists compiled at build time (seccomp_gen.c): seccomp_progs_target[role]. */
#include SECCOMP_TARGET_BPF_H

/* Their argument values, from the build host's headers, are the target's. */
SECCOMP_TARGET_ARG_CHECKS;

/*
 * The only mutable state, both for the SIGSYS handler, which can use
 * nothing else: the fault count (a metric; atomic because any thread may
 * trap) and the calling thread's role, so the message names the thread.
 * The role is thread-local: a thread created under an inherited filter
 * without calling seccomp_install() is reported as "unknown".
 */
static atomic_uint_fast64_t seccomp_fault_count;
static _Thread_local int seccomp_thread_role = -1;

static const char *const seccomp_role_names[] = {
    [SECCOMP_VMM] = "vmm",
    [SECCOMP_VCPU] = "vcpu",
    [SECCOMP_API] = "api",
};

static bool seccomp_role_ok(enum seccomp_role role)
{
	return (unsigned)role < ARRAY_SIZE(seccomp_role_names);
}

const char *seccomp_role_name(enum seccomp_role role)
{
	return seccomp_role_ok(role) ? seccomp_role_names[role] : "unknown";
}

uint64_t seccomp_faults(void)
{
	return atomic_load(&seccomp_fault_count);
}

/* ---- the SIGSYS handler: async-signal-safe, write(2) and _exit(2) only -- */

static const char *seccomp_syscall_name(int nr)
{
	const char *name = seccomp_syscall_known(&seccomp_arch_target, nr);

	return name ? name : "unknown";
}

static size_t seccomp_put_str(char *buf, size_t pos, size_t cap, const char *s)
{
	while (*s && pos < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t seccomp_put_num(char *buf, size_t pos, size_t cap, uint64_t v, unsigned base)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n && pos < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

/* Syscall argument @i (0..3) as the trapped thread passed it. */
static uint64_t seccomp_sigsys_arg(const ucontext_t *uc, unsigned i)
{
#if defined(__x86_64__)
	static const int regs[] = {REG_RDI, REG_RSI, REG_RDX, REG_R10};

	return (uint64_t)uc->uc_mcontext.gregs[regs[i]];
#elif defined(__aarch64__)
	return uc->uc_mcontext.regs[i];
#endif
}

static void seccomp_sigsys(int sig, siginfo_t *si, void *uctx)
{
	const ucontext_t *uc = uctx;
	int role = seccomp_thread_role;
	char line[192];
	size_t n = 0, cap = sizeof(line) - 1;

	(void)sig;
	atomic_fetch_add(&seccomp_fault_count, 1);
	n = seccomp_put_str(line, n, cap, "ember: seccomp: thread ");
	n = seccomp_put_str(line, n, cap, seccomp_role_name((enum seccomp_role)role));
	n = seccomp_put_str(line, n, cap, " made forbidden syscall ");
	n = seccomp_put_num(line, n, cap, (uint64_t)(unsigned)si->si_syscall, 10);
	n = seccomp_put_str(line, n, cap, " (");
	n = seccomp_put_str(line, n, cap, seccomp_syscall_name(si->si_syscall));
	n = seccomp_put_str(line, n, cap, ")");
	/* The arguments a rule looks at: ioctl's request, socket's family, prot. */
	n = seccomp_put_str(line, n, cap, ", args");
	for (unsigned i = 0; i < 4; i++) {
		n = seccomp_put_str(line, n, cap, " 0x");
		n = seccomp_put_num(line, n, cap, seccomp_sigsys_arg(uc, i), 16);
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it; the exit status still says it. */
	}
	_exit(EMBER_EXIT_SECCOMP);
}

int seccomp_init_handler(void)
{
	struct sigaction sa = {.sa_sigaction = seccomp_sigsys, .sa_flags = SA_SIGINFO};

	/* No other signal may interrupt the one line and the exit. */
	sigfillset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

/* ---- building and loading ----------------------------------------------- */

/* Only conditional jumps compare with constants: the placeholders are there. */
struct sock_filter *seccomp_program(enum seccomp_role role, size_t *len)
{
	const struct sock_filter *custom = seccomp_custom_program(role, len);
	const struct sock_fprog *p = &seccomp_progs_target[role];
	struct sock_filter *f;

	/* --seccomp-filter: the file's program as it is (no placeholders there). */
	if (custom) {
		f = malloc((*len ? *len : 1) * sizeof(*f));
		if (f)
			memcpy(f, custom, *len * sizeof(*f));
		return f;
	}
	f = malloc(p->len * sizeof(*f));

	if (!f)
		return NULL;
	*len = p->len;
	memcpy(f, p->filter, p->len * sizeof(*f));
	for (unsigned i = 0; i < p->len; i++) {
		if (BPF_CLASS(f[i].code) != BPF_JMP || BPF_SRC(f[i].code) != BPF_K)
			continue;
		if (f[i].k == SECCOMP_PLACEHOLDER_PID)
			f[i].k = (uint32_t)getpid();
		else if (f[i].k == SECCOMP_PLACEHOLDER_KICK_SIG)
			f[i].k = (uint32_t)SIGRTMIN;
	}
	return f;
}

int seccomp_rule_count(enum seccomp_role role)
{
	int n = 0;

	if (!seccomp_role_ok(role))
		return -EINVAL;
	for (size_t i = 0; i < seccomp_nr_rules; i++)
		n += !!(seccomp_rules[i].roles & (1u << role));
	for (size_t i = 0; i < seccomp_arch_target.nr_rules; i++)
		n += !!(seccomp_arch_target.rules[i].roles & (1u << role));
	return n;
}

int seccomp_install(enum seccomp_role role)
{
	struct sock_fprog prog;
	sigset_t sys;
	size_t len;
	int ret;

	if (!seccomp_role_ok(role))
		return -EINVAL;
	prog.filter = seccomp_program(role, &len);
	if (!prog.filter)
		return -ENOMEM;
	prog.len = (unsigned short)len;
	ret = 0;
	if (!len) /* a filter file's empty program: this thread runs unfiltered */
		goto out;
	/* Also what lets an unprivileged process load a filter at all. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		goto out;
	}
	/*
	 * A trap in a thread that blocks SIGSYS (the API thread blocks all
	 * signals) would reset the handler and kill the process silently.
	 */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	ret = -pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (ret)
		goto out;
	seccomp_thread_role = role;
	/* This thread only (no TSYNC): each thread gets its own list. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		ret = -errno;
		seccomp_thread_role = -1;
	}
out:
	/* Runs filtered when the load succeeded: free() is on every list. */
	free(prog.filter);
	return ret;
}

/* ---- capabilities ------------------------------------------------------- */

int seccomp_drop_caps(void)
{
	cap_t none;
	int ret = 0;

	/*
	 * Bounding set first: dropping from it needs CAP_SETPCAP, which the
	 * next step removes.  Without CAP_SETPCAP (the jailer's unprivileged
	 * uid) it cannot shrink, and with nothing permitted it grants nothing.
	 * One prctl per capability, up to the kernel's last (EINVAL): libcap's
	 * probe-read-drop took three times as many calls at every start.
	 */
	for (unsigned long c = 0;; c++) {
		if (!prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			continue;
		if (errno == EINVAL || errno == EPERM)
			break;
		return -errno;
	}
	none = cap_init(); /* every flag clear */
	if (!none)
		return -errno;
	if (cap_set_proc(none))
		ret = -errno;
	cap_free(none);
	if (ret)
		return ret;
	/* Ambient capabilities would survive an execve; there is none, but clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}
