/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seccomp_table.h - how the rule tables are written: seccomp_rules.c (the
 * rules every architecture shares) and jail/arch/ARCH/seccomp_rules.c
 * (each architecture's own).  Only those files include it.
 */
#ifndef EMBER_SECCOMP_TABLE_H
#define EMBER_SECCOMP_TABLE_H

#include "seccomp_rules.h"

#define R_VMM  (1u << SECCOMP_VMM)
#define R_VCPU (1u << SECCOMP_VCPU)
#define R_API  (1u << SECCOMP_API)
#define R_ALL  (R_VMM | R_VCPU | R_API)

#define RULE(r, sys, ...)                                                                          \
	{                                                                                          \
		.nr = SCMP_SYS(sys), .name = #sys, .roles = (r), ##__VA_ARGS__                     \
	}
#define EQ(i, v)                                                                                   \
	{                                                                                          \
		.used = true, .arg = (i), .op = SCMP_CMP_EQ, .a = (v), .a_text = #v                \
	}
#define EQ_DYN(i, d)                                                                               \
	{                                                                                          \
		.used = true, .arg = (i), .op = SCMP_CMP_EQ, .dyn = (d)                            \
	}
#define MASKED(i, m, v)                                                                            \
	{                                                                                          \
		.used = true, .arg = (i), .op = SCMP_CMP_MASKED_EQ, .a = (m), .b = (v),            \
		.a_text = #m, .b_text = #v                                                         \
	}

#endif /* EMBER_SECCOMP_TABLE_H */
