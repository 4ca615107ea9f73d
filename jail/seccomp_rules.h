/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp_rules.h - the per-thread allow-lists as data: the rules every
 * architecture shares (seccomp_rules.c) and each architecture's own
 * (jail/arch/ARCH/seccomp_rules.c: its syscall names where glibc calls
 * another one, its KVM ioctls), shared by the three places that use them:
 * ember's SIGSYS handler (names of system calls), the build-time compiler
 * that turns them into BPF (seccomp_gen.c, through seccomp_compile.c and
 * libseccomp) and the unit test that checks the programs ember embeds are
 * what libseccomp makes of the lists today.  ember itself never runs
 * libseccomp.
 */
#ifndef EMBER_SECCOMP_RULES_H
#define EMBER_SECCOMP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

/*
 * Ours (jail/seccomp.h), and through it libseccomp's, for SCMP_SYS() and
 * the compare operators: constants only, nothing ember links.  Include this
 * before anything else includes seccomp.h.
 */
#define EMBER_SECCOMP_WANT_LIBSECCOMP
#include <seccomp.h>

/* Argument values known only at run time. */
enum seccomp_dyn {
	DYN_NONE,
	DYN_PID,      /* getpid(): tgkill may only target our own threads */
	DYN_KICK_SIG, /* SIGRTMIN: vmm/vcpu.c's SIG_VCPU_KICK */
};

struct seccomp_cond {
	bool used;
	uint8_t arg;
	enum scmp_compare op;
	enum seccomp_dyn dyn;
	uint64_t a, b; /* b: the value a masked compare wants */
	/* a and b as written: seccomp_gen.c has the target's compiler check them */
	const char *a_text, *b_text;
};

struct seccomp_rule {
	int nr;
	const char *name; /* for the SIGSYS message */
	unsigned roles;
	int err; /* 0: allow; else fail with this errno */
	struct seccomp_cond c[2];
};

/*
 * What a compiled program carries in place of a run-time value: ember
 * patches these constants (compares of the low 32 bits; the high halves are
 * 0 for both) when it installs a program.  Values no rule compares with.
 */
#define SECCOMP_PLACEHOLDER_PID	     0x7e3b1d01u
#define SECCOMP_PLACEHOLDER_KICK_SIG 0x7e3b1d02u

extern const struct seccomp_rule seccomp_rules[];
extern const size_t seccomp_nr_rules;

/*
 * One architecture's part.  Its .nr are the numbers of the architecture the
 * file is compiled for (SCMP_SYS), as the shared table's: in ember, the
 * target's; in the build-time compiler, the build host's, which libseccomp
 * translates by name into @scmp_arch's.  So the shared table may only use
 * syscalls and argument values that are the same on every architecture
 * (ioctl numbers, flags); what differs goes here.
 */
struct seccomp_arch_rules {
	const char *name;   /* "x86_64", "aarch64": as make's ARCH */
	uint32_t scmp_arch; /* SCMP_ARCH_*: the one ABI the filter admits */
	const struct seccomp_rule *rules;
	size_t nr_rules;
};

extern const struct seccomp_arch_rules seccomp_arch_x86_64;
extern const struct seccomp_arch_rules seccomp_arch_aarch64;

/*
 * The build's architecture: its rules, and the programs the build made of
 * them (gen/seccomp_bpf_ARCH.h: seccomp_progs_ARCH[role]).
 */
#if defined(__x86_64__)
#define seccomp_arch_target  seccomp_arch_x86_64
#define seccomp_progs_target seccomp_progs_x86_64
#define SECCOMP_TARGET_BPF_H "seccomp_bpf_x86_64.h"
#define SECCOMP_TARGET_AUDIT AUDIT_ARCH_X86_64 /* seccomp_data.arch, linux/audit.h */
#elif defined(__aarch64__)
#define seccomp_arch_target  seccomp_arch_aarch64
#define seccomp_progs_target seccomp_progs_aarch64
#define SECCOMP_TARGET_BPF_H "seccomp_bpf_aarch64.h"
#define SECCOMP_TARGET_AUDIT AUDIT_ARCH_AARCH64
#else
#error "no seccomp allow-lists for this architecture (jail/arch/ARCH/seccomp_rules.c)"
#endif

/* The name of syscall @nr (@arch's rules first) for the SIGSYS message, or NULL. */
const char *seccomp_syscall_known(const struct seccomp_arch_rules *arch, int nr);

/*
 * @role's list for @arch as a BPF program, with @dyn[DYN_*] for the
 * run-time values, through libseccomp (seccomp_compile.c; not part of
 * ember).  A rule whose syscall @arch does not have is an error (-ENOENT,
 * named on stderr): libseccomp would compile it into a compare that never
 * matches.  *@insns is malloc'ed.  0 or -errno.
 */
int seccomp_compile(const struct seccomp_arch_rules *arch, enum seccomp_role role,
		    const uint64_t dyn[], struct sock_filter **insns, size_t *len);

/*
 * What seccomp_install() loads for @role (jail/seccomp.c): a malloc'ed copy
 * of the embedded program, run-time values in place; *@len instructions.
 */
struct sock_filter *seccomp_program(enum seccomp_role role, size_t *len);

#endif /* EMBER_SECCOMP_RULES_H */
