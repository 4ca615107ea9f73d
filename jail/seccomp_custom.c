// SPDX-License-Identifier: Apache-2.0
/*
 * --seccomp-filter FILE: Firecracker's compiled filters instead of ember's.
 *
 * The file is what Firecracker's seccompiler-bin writes (Firecracker up to
 * 1.14): a bincode map, fixed-width little-endian integers, from thread
 * category to BPF program:
 *
 *   u64 n; n x { u64 len, len bytes of name; u64 m, m x u64 instruction }
 *
 * where an instruction is struct sock_filter as x86-64 lays it out (u16
 * code, u8 jt, u8 jf, u32 k).  As in Firecracker: names are lowercased and
 * must be exactly "vmm", "api" and "vcpu"; a file is at most 100000 bytes;
 * an empty program means no filter on that thread.  ember is stricter
 * where a file can only be damaged: duplicate names, programs over the
 * kernel's 4096 instructions and trailing bytes are refused, and each
 * program is loaded once in a throw-away child so the kernel's verdict on
 * it comes at start, not when a thread first installs it.  (Firecracker
 * 1.15 and later write bitcode instead, which ember does not read.)
 *
 * The parsed filters are the one process-wide setting seccomp_install()
 * consults: set once from main() before any thread exists, like the log
 * level, and read-only afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp_rules.h" /* first: it includes seccomp.h its own way */
#include "seccomp.h"
#include "seccomp_custom.h"

static const struct seccomp_custom *seccomp_custom_active;

/* Reads a u64 at *off if it fits; false at the end of the data. */
static bool get_u64(const uint8_t *b, size_t len, size_t *off, uint64_t *v)
{
	if (len - *off < 8)
		return false;
	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | b[*off + (size_t)i];
	*off += 8;
	return true;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "vmm", "api", "vcpu" (any case) as a role, or -1. */
static int role_of(const uint8_t *name, uint64_t len)
{
	char low[8];

	if (len == 0 || len >= sizeof(low))
		return -1;
	for (uint64_t i = 0; i < len; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	low[len] = '\0';
	for (int r = SECCOMP_VMM; r <= SECCOMP_API; r++)
		if (!strcmp(low, seccomp_role_name((enum seccomp_role)r)))
			return r;
	return -1;
}

/*
 * A program that begins as seccompiler's do, by loading seccomp_data.arch
 * and comparing it with one AUDIT_ARCH_* value, was compiled for that
 * architecture: the kernel would take one for another architecture and
 * kill the thread at its first system call, so it is refused here, by
 * name.  Programs that do not begin so are left to the kernel.
 */
static int check_arch(const struct sock_filter *p, size_t n, int role, char *err, size_t errlen)
{
	if (n < 2 || p[0].code != (BPF_LD | BPF_W | BPF_ABS) ||
	    p[0].k != offsetof(struct seccomp_data, arch) ||
	    p[1].code != (BPF_JMP | BPF_JEQ | BPF_K) || p[1].k == SECCOMP_TARGET_AUDIT)
		return 0;
	return bad(err, errlen,
		   "the %s program is for another architecture (AUDIT_ARCH 0x%08x; this ember's "
		   "is 0x%08x)",
		   seccomp_role_name(role), p[1].k, (unsigned)SECCOMP_TARGET_AUDIT);
}

static int parse_program(const uint8_t *b, size_t len, size_t *off, struct seccomp_custom *c,
			 int role, char *err, size_t errlen)
{
	uint64_t n, insn = 0;

	if (!get_u64(b, len, off, &n))
		return bad(err, errlen, "truncated in the %s program's length",
			   seccomp_role_name(role));
	if (n > SECCOMP_CUSTOM_MAX_INSNS)
		return bad(
		    err, errlen, "the %s program has %llu instructions, more than the kernel's %u",
		    seccomp_role_name(role), (unsigned long long)n, SECCOMP_CUSTOM_MAX_INSNS);
	if ((len - *off) / 8 < n)
		return bad(err, errlen, "truncated in the %s program (%llu instructions announced)",
			   seccomp_role_name(role), (unsigned long long)n);
	c->prog[role] = calloc(n ? n : 1, sizeof(struct sock_filter));
	if (!c->prog[role])
		return bad(err, errlen, "out of memory");
	c->len[role] = (size_t)n;
	for (uint64_t i = 0; i < n; i++) {
		struct sock_filter *f = &c->prog[role][i];

		get_u64(b, len, off, &insn);
		f->code = (uint16_t)insn;
		f->jt = (uint8_t)(insn >> 16);
		f->jf = (uint8_t)(insn >> 24);
		f->k = (uint32_t)(insn >> 32);
	}
	return check_arch(c->prog[role], c->len[role], role, err, errlen);
}

int seccomp_custom_parse(const void *data, size_t len, struct seccomp_custom *c, char *err,
			 size_t errlen)
{
	const uint8_t *b = data;
	bool seen[3] = {false, false, false};
	uint64_t n, name_len;
	size_t off = 0;
	int role, r;

	memset(c, 0, sizeof(*c));
	if (len > SECCOMP_CUSTOM_MAX_BYTES)
		return bad(err, errlen, "%zu bytes, more than the %u a filter file may have", len,
			   SECCOMP_CUSTOM_MAX_BYTES);
	if (!get_u64(b, len, &off, &n))
		return bad(err, errlen, "too short for a filter map (%zu bytes)", len);
	if (n > 3)
		return bad(err, errlen,
			   "a map of %llu thread categories; Firecracker's has vmm, api and vcpu",
			   (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++) {
		if (!get_u64(b, len, &off, &name_len) || name_len > len - off) {
			r = bad(err, errlen, "truncated in thread category %llu's name",
				(unsigned long long)i);
			goto fail;
		}
		role = role_of(b + off, name_len);
		if (role < 0) {
			r = bad(err, errlen, "Invalid thread categories: %.*s",
				(int)(name_len < 32 ? name_len : 32), (const char *)(b + off));
			goto fail;
		}
		off += (size_t)name_len;
		if (seen[role]) {
			r = bad(err, errlen, "thread category %s twice", seccomp_role_name(role));
			goto fail;
		}
		seen[role] = true;
		r = parse_program(b, len, &off, c, role, err, errlen);
		if (r)
			goto fail;
	}
	for (role = SECCOMP_VMM; role <= SECCOMP_API; role++) {
		if (!seen[role]) {
			r = bad(err, errlen, "Missing thread category: %s",
				seccomp_role_name(role));
			goto fail;
		}
	}
	if (off != len) {
		r = bad(err, errlen, "%zu bytes after the filter map", len - off);
		goto fail;
	}
	return 0;
fail:
	seccomp_custom_free(c);
	return r;
}

void seccomp_custom_free(struct seccomp_custom *c)
{
	for (int r = 0; r < 3; r++) {
		free(c->prog[r]);
		c->prog[r] = NULL;
		c->len[r] = 0;
	}
}

/*
 * The kernel's own verdict on each program: a child loads it and says on a
 * pipe if the load failed (before any filter, so the write goes through);
 * silence means loaded, whatever the filter then does to the child.
 */
static int check_loads(const struct seccomp_custom *c, char *err, size_t errlen)
{
	for (int role = SECCOMP_VMM; role <= SECCOMP_API; role++) {
		struct sock_fprog prog = {.len = (unsigned short)c->len[role],
					  .filter = c->prog[role]};
		int p[2], e = 0, st;
		ssize_t got;
		pid_t pid;

		if (!c->len[role])
			continue;
		if (pipe2(p, O_CLOEXEC))
			return bad(err, errlen, "pipe: %s", strerror(errno));
		pid = fork();
		if (pid < 0) {
			close(p[0]);
			close(p[1]);
			return bad(err, errlen, "fork: %s", strerror(errno));
		}
		if (pid == 0) {
			close(p[0]);
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
			    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
				e = errno;
				if (write(p[1], &e, sizeof(e)) < 0)
					_exit(2);
				_exit(1);
			}
			_exit(0); /* may trap under the new filter: the pipe has said all */
		}
		close(p[1]);
		got = read(p[0], &e, sizeof(e));
		close(p[0]);
		waitpid(pid, &st, 0);
		if (got == (ssize_t)sizeof(e))
			return bad(err, errlen, "the kernel refuses the %s program: %s",
				   seccomp_role_name((enum seccomp_role)role), strerror(e));
	}
	return 0;
}

int seccomp_custom_load(const char *path, struct seccomp_custom *c, char *err, size_t errlen)
{
	char why[300], *buf;
	size_t len;
	int r;

	r = file_read_all(path, SECCOMP_CUSTOM_MAX_BYTES, &buf, &len, why, sizeof(why));
	if (r)
		return bad(err, errlen, "Filter file open error: %s", why);
	r = seccomp_custom_parse((const uint8_t *)buf, len, c, err, errlen);
	if (r) {
		/* Firecracker's words first, then what is wrong. */
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "Filter deserialization failed: %s: %s", path, why);
		goto out;
	}
	r = check_loads(c, err, errlen);
	if (r)
		seccomp_custom_free(c);
out:
	free(buf);
	return r;
}

void seccomp_custom_use(const struct seccomp_custom *c)
{
	seccomp_custom_active = c;
}

const struct sock_filter *seccomp_custom_program(enum seccomp_role role, size_t *len)
{
	if (!seccomp_custom_active || (unsigned)role > SECCOMP_API)
		return NULL;
	*len = seccomp_custom_active->len[role];
	return seccomp_custom_active->prog[role];
}
