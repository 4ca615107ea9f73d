/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread seccomp allow-lists and the capability drop (issue 7).
 *
 * The guest is hostile from its first instruction: if it ever runs code in
 * ember, each thread may make only the system calls that thread makes in a
 * normal run, with the arguments it uses (ioctl request numbers, no
 * PROT_EXEC, AF_UNIX only, ...).  Anything else traps: the SIGSYS handler
 * writes one line and ends the process with EMBER_EXIT_SECCOMP.
 *
 * Order (seccomp.c's head comment says why):
 *   main(), before any thread:   seccomp_init_handler(); seccomp_drop_caps();
 *   API thread, before serving:  seccomp_install(SECCOMP_API)
 *   vCPU thread, before KVM_RUN: seccomp_install(SECCOMP_VCPU)
 *   VMM thread, once every vCPU thread is started (never before: filters
 *   are inherited by threads created later and stack):
 *                                seccomp_install(SECCOMP_VMM)
 */
#ifndef EMBER_SECCOMP_H
#define EMBER_SECCOMP_H

#include <fcntl.h>
#include <stdint.h>

#include "ember.h"

/*
 * -Ijail makes <seccomp.h> this file; jail/seccomp.c asks for libseccomp's
 * header of the same name through here.
 */
#ifdef EMBER_SECCOMP_WANT_LIBSECCOMP
#include_next <seccomp.h>
#endif

enum seccomp_role { SECCOMP_VMM, SECCOMP_VCPU, SECCOMP_API };

/*
 * Exit status after a forbidden system call.  148 is Firecracker's
 * (its BadSyscall), so supervisors written for Firecracker read it right.
 */
#define EMBER_EXIT_SECCOMP 148

/*
 * The open(2) that creates files for writing on the VMM thread once it is
 * filtered (snapshot files: vmm/files.c file_open_output, which truncates
 * only after checking what it opened).  Open with exactly these flags
 * (open() adds nothing on x86-64).
 */
#define SECCOMP_VMM_OPEN_FLAGS FILE_OUTPUT_FLAGS

/* Installs the SIGSYS handler, process-wide.  Once, from main(). 0 or -errno. */
int seccomp_init_handler(void);

/*
 * Sets no_new_privs and loads @role's allow-list on the calling thread only
 * (threads it creates afterwards inherit it).  Unblocks SIGSYS in the calling
 * thread, so a thread that blocks every signal still gets the message.
 * 0 or -errno (nothing is loaded on failure).
 */
int seccomp_install(enum seccomp_role role);

/* Rules in @role's list (a syscall with one argument condition is one rule); -EINVAL. */
int seccomp_rule_count(enum seccomp_role role);

/* "vmm", "vcpu", "api". */
const char *seccomp_role_name(enum seccomp_role role);

/* Forbidden calls trapped so far (a metric; the first one also ends the process). */
uint64_t seccomp_faults(void);

/*
 * Drops every capability: bounding set (where CAP_SETPCAP allows), then
 * effective, permitted and inheritable, then ambient; sets no_new_privs.
 * Capabilities are per thread: call it before creating any thread.  0 or -errno.
 */
int seccomp_drop_caps(void);

#endif /* EMBER_SECCOMP_H */
