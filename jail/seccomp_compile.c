// SPDX-License-Identifier: Apache-2.0
/*
 * The allow-lists through libseccomp into BPF: what the build embeds in
 * ember (seccomp_gen.c) and what the unit test compares it with.  Not part
 * of ember: compiling at start-up cost every thread's start-up CPU time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ember.h"
#include "seccomp_rules.h"

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_arch_rules *arch,
		    const struct seccomp_rule *r, const uint64_t dyn[])
{
	struct scmp_arg_cmp cmp[ARRAY_SIZE(r->c)];
	unsigned nc = 0;

	/* libseccomp would compile it into a compare no call matches. */
	if (seccomp_syscall_resolve_name_arch(arch->scmp_arch, r->name) < 0) {
		fprintf(stderr, "seccomp: %s has no syscall %s\n", arch->name, r->name);
		return -ENOENT;
	}
	for (size_t k = 0; k < ARRAY_SIZE(r->c) && r->c[k].used; k++)
		cmp[nc++] = (struct scmp_arg_cmp){
		    .arg = r->c[k].arg,
		    .op = r->c[k].op,
		    .datum_a = r->c[k].dyn ? dyn[r->c[k].dyn] : r->c[k].a,
		    .datum_b = r->c[k].b,
		};
	/* r->nr is the build host's number: libseccomp translates it by name. */
	return seccomp_rule_add_array(ctx, r->err ? SCMP_ACT_ERRNO(r->err) : SCMP_ACT_ALLOW, r->nr,
				      nc, cmp);
}

/* The shared rules, then the architecture's, for @role. */
static int add_rules(scmp_filter_ctx ctx, const struct seccomp_arch_rules *arch,
		     enum seccomp_role role, const uint64_t dyn[])
{
	const struct seccomp_rule *tables[] = {seccomp_rules, arch->rules};
	const size_t sizes[] = {seccomp_nr_rules, arch->nr_rules};

	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (size_t i = 0; i < sizes[t]; i++) {
			int ret;

			if (!(tables[t][i].roles & (1u << role)))
				continue;
			ret = add_rule(ctx, arch, &tables[t][i], dyn);
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

int seccomp_compile(const struct seccomp_arch_rules *arch, enum seccomp_role role,
		    const uint64_t dyn[], struct sock_filter **insns, size_t *len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret;

	if (!ctx)
		return -ENOMEM;
	/* A syscall of another ABI is an attack, not a bug to report. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* Only @arch's ABI: the build host's is not the target's when cross-building. */
	if (!ret && seccomp_arch_native() != arch->scmp_arch) {
		ret = seccomp_arch_add(ctx, arch->scmp_arch);
		if (!ret)
			ret = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
	}
	if (!ret)
		ret = add_rules(ctx, arch, role, dyn);
	if (!ret)
		ret = export_bpf(ctx, insns, len);
	seccomp_release(ctx);
	return ret;
}
