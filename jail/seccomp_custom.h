/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp_custom.h - Firecracker's compiled seccomp filter file
 * (--seccomp-filter), installed on ember's threads instead of its own
 * lists.  The format and the rules are in seccomp_custom.c.
 */
#ifndef EMBER_SECCOMP_CUSTOM_H
#define EMBER_SECCOMP_CUSTOM_H

#include <linux/filter.h>
#include <stddef.h>

#include "seccomp.h"

#define SECCOMP_CUSTOM_MAX_BYTES 100000u /* Firecracker's deserialisation limit */
#define SECCOMP_CUSTOM_MAX_INSNS 4096u	 /* BPF_MAXINSNS */

/* One program per role (enum seccomp_role); len 0: no filter on that thread. */
struct seccomp_custom {
	struct sock_filter *prog[3];
	size_t len[3];
};

/* Pure: the file's bytes.  0 or -EINVAL with a message; on failure @c holds nothing. */
int seccomp_custom_parse(const void *data, size_t len, struct seccomp_custom *c, char *err,
			 size_t errlen);
/* Reads, parses and test-loads (in a child) the file at @path.  0 or -EINVAL with a message. */
int seccomp_custom_load(const char *path, struct seccomp_custom *c, char *err, size_t errlen);
void seccomp_custom_free(struct seccomp_custom *c);

/*
 * From main(), before any thread: seccomp_install() loads @c's programs
 * instead of ember's from now on (NULL: ember's again).  @c must outlive
 * every thread.
 */
void seccomp_custom_use(const struct seccomp_custom *c);
/* The program seccomp_install() uses for @role instead of ember's, or NULL. */
const struct sock_filter *seccomp_custom_program(enum seccomp_role role, size_t *len);

#endif /* EMBER_SECCOMP_CUSTOM_H */
