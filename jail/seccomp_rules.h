/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp_rules.h - the per-thread allow-lists as data (seccomp_rules.c),
 * shared by the three places that use them: ember's SIGSYS handler (names
 * of system calls), the build-time compiler that turns them into BPF
 * (seccomp_gen.c, through seccomp_compile.c and libseccomp) and the unit
 * test that checks the programs ember embeds are what libseccomp makes of
 * the lists today.  ember itself never runs libseccomp.
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

/* The name of syscall @nr for the SIGSYS message, or NULL. */
const char *seccomp_syscall_known(int nr);

/*
 * @role's list as a BPF program, with @dyn[DYN_*] for the run-time values,
 * through libseccomp (seccomp_compile.c; not part of ember).  *@insns is
 * malloc'ed.  0 or -errno.
 */
int seccomp_compile(enum seccomp_role role, const uint64_t dyn[], struct sock_filter **insns,
		    size_t *len);

/*
 * What seccomp_install() loads for @role (jail/seccomp.c): a malloc'ed copy
 * of the embedded program, run-time values in place; *@len instructions.
 */
struct sock_filter *seccomp_program(enum seccomp_role role, size_t *len);

#endif /* EMBER_SECCOMP_RULES_H */
