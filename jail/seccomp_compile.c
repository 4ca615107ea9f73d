// SPDX-License-Identifier: Apache-2.0
/*
 * The allow-lists through libseccomp into BPF: what the build embeds in
 * ember (seccomp_gen.c) and what the unit test compares it with.  Not part
 * of ember: compiling at start-up cost every thread's start-up CPU time.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ember.h"
#include "seccomp_rules.h"

static int add_rules(scmp_filter_ctx ctx, enum seccomp_role role, const uint64_t dyn[])
{
	for (size_t i = 0; i < seccomp_nr_rules; i++) {
		const struct seccomp_rule *r = &seccomp_rules[i];
		struct scmp_arg_cmp cmp[ARRAY_SIZE(r->c)];
		unsigned nc = 0;
		int ret;

		if (!(r->roles & (1u << role)))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(r->c) && r->c[k].used; k++)
			cmp[nc++] = (struct scmp_arg_cmp){
			    .arg = r->c[k].arg,
			    .op = r->c[k].op,
			    .datum_a = r->c[k].dyn ? dyn[r->c[k].dyn] : r->c[k].a,
			    .datum_b = r->c[k].b,
			};
		ret = seccomp_rule_add_array(ctx, r->err ? SCMP_ACT_ERRNO(r->err) : SCMP_ACT_ALLOW,
					     r->nr, nc, cmp);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: a memfd, read back. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *len)
{
	int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC), ret;
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	if (ret)
		goto out;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size % sizeof(**insns)) {
		ret = -EIO;
		goto out;
	}
	*insns = malloc((size_t)st.st_size);
	if (!*insns) {
		ret = -ENOMEM;
		goto out;
	}
	n = pread(fd, *insns, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		free(*insns);
		*insns = NULL;
		ret = -EIO;
		goto out;
	}
	*len = (size_t)st.st_size / sizeof(**insns);
out:
	close(fd);
	return ret;
}

int seccomp_compile(enum seccomp_role role, const uint64_t dyn[], struct sock_filter **insns,
		    size_t *len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret;

	if (!ctx)
		return -ENOMEM;
	/* A syscall of another ABI is an attack, not a bug to report. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!ret)
		ret = add_rules(ctx, role, dyn);
	if (!ret)
		ret = export_bpf(ctx, insns, len);
	seccomp_release(ctx);
	return ret;
}
