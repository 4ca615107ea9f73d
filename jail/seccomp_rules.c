// SPDX-License-Identifier: Apache-2.0
/*
 * The per-thread allow-lists: every rule all architectures share, the
 * threads it applies to and why each of them needs it (jail/seccomp.c's
 * head comment says how the threads use them); each architecture adds its
 * own in jail/arch/ARCH/seccomp_rules.c (syscalls glibc makes under
 * another name there, KVM ioctls).  Only syscalls every architecture has
 * and argument values that are the same on all of them belong here
 * (seccomp_rules.h says why).  The build compiles them to BPF
 * (seccomp_gen.c); ember keeps this table for the names in its SIGSYS
 * message.
 */
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "ember.h"
#include "seccomp_table.h"

/* The masked setsockopt rule below takes exactly these two. */
_Static_assert((SO_RCVTIMEO & 1) == 0 && (SO_RCVTIMEO | 1) == SO_SNDTIMEO,
	       "SO_RCVTIMEO and SO_SNDTIMEO differ in bit 0 only");

/* The futex command without the PRIVATE and CLOCK_REALTIME modifiers. */
#define FUTEX_CMD(cmd) MASKED(1, ~(uint64_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME), cmd)

const struct seccomp_rule seccomp_rules[] = {
    /* ---- every thread ---------------------------------------------------- */
    /* log_msg (one write per line), the SIGSYS message, serial output and
     * eventfd signalling (irqfds, exit_fd, notify fds, the command queue). */
    RULE(R_ALL, write),
    /* The SIGSYS handler's _exit(); the VMM thread's return from main(). */
    RULE(R_ALL, exit_group),
    /* time_now_us() for logs, rate limits, API timeouts and the boot timer;
     * the vDSO serves CLOCK_MONOTONIC unless the clocksource cannot, and
     * CLOCK_PROCESS_CPUTIME_ID (boot timer, on a vCPU) is always a syscall. */
    RULE(R_ALL, clock_gettime),
    /* pthread mutexes (devices, pause), condition variables (pause, command
     * queue) and pthread_join. */
    RULE(R_ALL, futex, .c = {FUTEX_CMD(FUTEX_WAIT)}),
    RULE(R_ALL, futex, .c = {FUTEX_CMD(FUTEX_WAKE)}),
    RULE(R_ALL, futex, .c = {FUTEX_CMD(FUTEX_WAIT_BITSET)}),
    /* glibc blocks signals around pthread_kill and as a thread exits
     * (start_thread, since 2.34). */
    RULE(R_ALL, rt_sigprocmask),
    /* malloc: the main arena grows with brk, thread arenas are mmap'ed
     * PROT_NONE and opened up with mprotect, big blocks are mmap'ed; the
     * vCPU threads only malloc on rare paths (strerror of an unknown errno).
     * Never PROT_EXEC: no new code can appear in ember. */
    RULE(R_ALL, brk),
    RULE(R_ALL, mmap, .c = {MASKED(2, PROT_EXEC, 0)}),
    RULE(R_ALL, mprotect, .c = {MASKED(2, PROT_EXEC, 0)}),
    /* free() of big blocks; teardown of guest RAM, kvm_run, io_uring rings. */
    RULE(R_ALL, munmap),
    /* free() trimming a thread arena, glibc releasing a dead thread's
     * stack, and (VMM thread) guest pages the balloon gives back to the
     * host (gm_discard).  Only DONTNEED: it just drops pages. */
    RULE(R_ALL, madvise, .c = {EQ(2, MADV_DONTNEED)}),
    /* The balloon giving back pages of guest RAM that is a shared memfd
     * mapping (gm_discard): only REMOVE, only the VMM thread. */
    RULE(R_VMM, madvise, .c = {EQ(2, MADV_REMOVE)}),
    /* See the head comment: glibc's lazy read-only opens fail, not trap. */
    RULE(R_VCPU | R_API, openat, .err = EACCES, .c = {EQ(2, O_RDONLY | O_CLOEXEC)}),

    /* ---- vCPU threads ---------------------------------------------------- */
    /* The vCPU loop. */
    RULE(R_VCPU, ioctl, .c = {EQ(1, KVM_RUN)}),
    /* The kick handler (vcpu.c kick_handler) returns. */
    RULE(R_VCPU | R_VMM, rt_sigreturn),
    /* vcpu_thread and the API thread return: pthread's thread exit. */
    RULE(R_VCPU | R_API, exit),
    /* A guest resetting a virtio-blk device (a status write on the vCPU)
     * drains its io_uring (blk.c, blk_engine.c: a reset); a short transfer
     * completed there finishes synchronously.  The VMM thread: submitting
     * and reaping, the sync engine. */
    RULE(R_VCPU | R_VMM, io_uring_enter),
    RULE(R_VCPU | R_VMM, preadv),
    RULE(R_VCPU | R_VMM, pwritev),
    /* virtio-net: the guest's status write activates or resets the device
     * on the vCPU (net.c: activate and reset): the tap's offloads
     * follow the negotiated features, and reset stops polling the tap.  The
     * VMM thread: evloop_add/del (stdin flow control, net rx/tx polling,
     * teardown); the API thread: its connections. */
    RULE(R_VCPU, ioctl, .c = {EQ(1, TUNSETOFFLOAD)}),
    RULE(R_ALL, epoll_ctl),

    /* ---- VMM thread ------------------------------------------------------ */
    /* (The event loop's epoll_wait: the architecture's rules.) */
    /* stdin, the tap (net rx), eventfds (exit, serial wake, queue kicks,
     * io_uring completions, the command queue); the API's connections. */
    RULE(R_VMM | R_API, read),
    /* Teardown; the API thread's connections; vsock connections, which a
     * guest resetting the device drops from its vCPU (the backend, on the device's reset). */
    RULE(R_ALL, close),
    /* realloc of big buffers (API responses, device state). */
    RULE(R_VMM | R_API, mremap),
    /* virtio-blk FLUSH with the sync engine. */
    RULE(R_VMM, fdatasync),
    /* virtio-pmem FLUSH: the file's shared mapping written back (pmem.c). */
    RULE(R_VMM, msync, .c = {EQ(2, MS_SYNC)}),
    /* Device memory slots (vmm/devmem.c): deleted when a device goes with
     * the VM, after the filter is on. */
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_SET_USER_MEMORY_REGION)}),
    /* virtio-net transmit: one writev per frame to the tap (net.c). */
    RULE(R_VMM, writev),
    /* virtio-net receive: one readv per frame from the tap into the
     * guest's chain (net.c: receive). */
    RULE(R_VMM, readv),
    /* vsock streams (vsock_conn.c, vsock_client.c, vsock_host.c): send()/recv() with
     * MSG_DONTWAIT|MSG_NOSIGNAL are sendto/recvfrom without an address;
     * shutdown() passes the guest's half-close on to the host side. */
    RULE(R_VMM, sendto),
    RULE(R_VMM, recvfrom),
    RULE(R_VMM, shutdown),
    /* vcpu_kick -> pthread_kill -> tgkill(getpid(), tid, SIG_VCPU_KICK):
     * only our own process, only the kick signal. */
    RULE(R_VMM, getpid),
    RULE(R_VMM, tgkill, .c = {EQ_DYN(0, DYN_PID), EQ_DYN(2, DYN_KICK_SIG)}),
    /* vm_destroy restores the terminal: tcsetattr(TCSANOW) is TCSETS, and
     * this glibc reads the settings first (TCGETS). */
    RULE(R_VMM, ioctl, .c = {EQ(1, TCGETS)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, TCSETS)}),
    /* PUT /snapshot/create (snapshot/snapshot.c) on the VMM thread: the
     * state and memory files are created write-only and truncated, nothing
     * else (SECCOMP_VMM_OPEN_FLAGS); the memory file is sized sparse, its
     * pages written at their offsets, both fsynced; a failed snapshot
     * removes them (unlink: the architecture's rules).  mincore and
     * sysinfo: which pages of a booted VM can be left as holes (snap_mem.c
     * resident_pages). */
    RULE(R_VMM, openat, .c = {EQ(2, SECCOMP_VMM_OPEN_FLAGS)}),
    RULE(R_VMM, ftruncate),
    RULE(R_VMM, pwrite64),
    RULE(R_VMM, fsync),
    RULE(R_VMM, mincore),
    RULE(R_VMM, sysinfo),
    /* ... and the KVM state it saves, read-only ioctls: the dirty log
     * (snapshot.c) and the capabilities snap_kvm.c asks /dev/kvm about;
     * the architecture's state: its rules. */
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_GET_DIRTY_LOG)}),
    RULE(R_VMM, ioctl, .c = {EQ(1, KVM_CHECK_EXTENSION)}),
    /* PATCH /drives/{id} after start (blk.c: a new backing file): the new image,
     * read-write or read-only like the drive, non-blocking until it is known
     * not to be a FIFO (vmm/files.c), then blocking again (F_SETFL 0).  The
     * read-only form without O_NONBLOCK serves glibc's lazy opens on this
     * thread (see the head comment). */
    RULE(R_VMM, openat, .c = {EQ(2, O_RDWR | O_NONBLOCK | O_CLOEXEC)}),
    RULE(R_VMM, openat, .c = {EQ(2, O_RDONLY | O_NONBLOCK | O_CLOEXEC)}),
    RULE(R_VMM, openat, .c = {EQ(2, O_RDONLY | O_CLOEXEC)}),
    RULE(R_VMM, fcntl, .c = {EQ(1, F_SETFL), EQ(2, 0)}),
    /* ... and sizes it (blk.c). */
    RULE(R_VMM, fstat),
    RULE(R_VMM, newfstatat),
    RULE(R_VMM, lseek),
    /* vsock (next): connecting to the host side's Unix socket when the
     * guest opens a connection.  AF_UNIX only: no network from ember. */
    RULE(R_VMM, socket, .c = {EQ(0, AF_UNIX)}),
    /* (connect also reaches the live fork's process starter, spawn.c: a
     * child per connection; mmap remaps RAM privately, fork.c.) */
    RULE(R_VMM, connect),
    /* ... and the child gets the file guest RAM is mapped from with its
     * request (fork.c: SCM_RIGHTS on the first byte), MSG_NOSIGNAL only. */
    RULE(R_VMM, sendmsg, .c = {EQ(2, MSG_NOSIGNAL)}),
    /* PUT /migration/send (snapshot/migrate.c), on this thread: a stream to
     * the destination, Unix (above) or TCP; send/recv are the sendto and
     * recvfrom above.  Only SOCK_STREAM|SOCK_CLOEXEC, only these families
     * (AF_INET 2 and AF_INET6 10 differ in bit 3 only: one masked compare). */
    RULE(R_VMM, socket, .c = {MASKED(0, ~8ull, AF_INET), EQ(1, SOCK_STREAM | SOCK_CLOEXEC)}),
    /* ... with send and receive timeouts, so a silent destination fails it
     * (SO_RCVTIMEO and SO_SNDTIMEO differ in bit 0 only: one masked compare
     * takes both), and TCP_NODELAY: with Nagle, the small END frame after
     * the state waits for a delayed ACK, up to 40 ms more downtime. */
    RULE(R_VMM, setsockopt, .c = {EQ(1, SOL_SOCKET), MASKED(2, ~1ull, SO_RCVTIMEO)}),
    RULE(R_VMM, setsockopt, .c = {EQ(1, IPPROTO_TCP), EQ(2, TCP_NODELAY)}),
    /* ... and a one-shot timer for vsock handshake deadlines (a host client
     * that never sends CONNECT, a guest that never answers a REQUEST),
     * armed only while one is pending (vsock_host.c: handshake deadlines). */
    RULE(R_VMM, timerfd_settime),
    /* virtio-rng (rng.c) fills guest buffers from the host's pool, never
     * waiting for it: GRND_NONBLOCK only. */
    RULE(R_VMM, getrandom, .c = {EQ(2, GRND_NONBLOCK)}),

    /* ---- API thread ------------------------------------------------------ */
    /* server.c api_accept, and host-side vsock connections (next) on the
     * VMM thread: always non-blocking and close-on-exec. */
    RULE(R_API | R_VMM, accept4, .c = {EQ(3, SOCK_NONBLOCK | SOCK_CLOEXEC)}),
    /* send() is sendto() with no address: responses and the 503. */
    RULE(R_API, sendto),
};

/*
 * Names of other syscalls worth recognising in the SIGSYS message (an
 * attacker's first moves, and what a new code path typically adds).
 */
static const struct {
	int nr;
	const char *name;
} seccomp_other_names[] = {
/* clang-format off */
/* SCMP_SYS: a syscall the architecture lacks gets a number no call has. */
#define N(sys) {SCMP_SYS(sys), #sys}
	N(open), N(getppid), N(getuid), N(stat), N(fstat), N(lstat), N(newfstatat), N(statx),
	N(lseek), N(pread64), N(pwrite64), N(readv), N(writev), N(access), N(pipe), N(pipe2),
	N(dup), N(dup2), N(dup3), N(nanosleep), N(clock_nanosleep), N(sched_yield), N(gettid),
	N(kill), N(tkill), N(rt_sigaction), N(sigaltstack), N(clone), N(clone3), N(fork), N(vfork),
	N(execve), N(execveat), N(wait4), N(ptrace), N(prctl), N(seccomp), N(bind), N(listen),
	N(accept), N(recvfrom), N(sendmsg), N(recvmsg), N(shutdown), N(socketpair), N(setsockopt),
	N(getsockopt), N(fcntl), N(flock), N(fsync), N(truncate), N(ftruncate), N(rename),
	N(renameat2), N(unlink), N(unlinkat), N(mkdir), N(mkdirat), N(rmdir), N(symlink), N(link),
	N(chmod), N(fchmod), N(chown), N(fchown), N(mknod), N(mount), N(umount2), N(pivot_root),
	N(chroot), N(setns), N(unshare), N(setuid), N(setgid), N(setresuid), N(capset), N(bpf),
	N(perf_event_open), N(io_uring_setup), N(io_uring_register), N(userfaultfd),
	N(memfd_create), N(process_vm_readv), N(process_vm_writev), N(keyctl), N(add_key),
	N(init_module), N(finit_module), N(kexec_load), N(openat2), N(epoll_pwait),
	N(epoll_create1), N(eventfd2), N(getrandom), N(rseq), N(set_robust_list),
	N(sched_getaffinity), N(uname), N(sysinfo), N(mlock), N(pkey_mprotect), N(timerfd_create),
	N(signalfd4), N(select), N(poll), N(ppoll), N(getdents64), N(fchdir),
	N(chdir),
#undef N
    /* clang-format on */
};

const size_t seccomp_nr_rules = ARRAY_SIZE(seccomp_rules);

const char *seccomp_syscall_known(const struct seccomp_arch_rules *a, int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_rules); i++)
		if (seccomp_rules[i].nr == nr)
			return seccomp_rules[i].name;
	for (size_t i = 0; i < a->nr_rules; i++)
		if (a->rules[i].nr == nr)
			return a->rules[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_other_names); i++)
		if (seccomp_other_names[i].nr == nr)
			return seccomp_other_names[i].name;
	return NULL;
}
