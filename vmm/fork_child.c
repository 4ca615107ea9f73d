// SPDX-License-Identifier: Apache-2.0
/*
 * A live fork's child, before and after the VM is built (the build itself
 * is a snapshot restore, api_snap.c's api_snap_fork_child).  Nothing here
 * runs under a seccomp filter: the filters go on in vm_run, after 'G'.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fork_child.h"
#include "migrate.h"
#include "seccomp.h"
#include "spawn.h"
#include "virtio_devs.h"
#include "vm.h"

/* A parent that stops talking for this long is gone: the child ends. */
#define FORK_CHILD_TIMEOUT_S 30
/*
 * Heap a pooled child faults in while it waits.  Below glibc's trim
 * threshold (128 KiB) free() keeps it, and the build after the request
 * mallocs from it (the state, its parse, the configuration) instead of
 * taking page faults, each a few microseconds in a nested L1, on CPUs ten
 * siblings share.
 */
#define FORK_CHILD_WARM_HEAP (96u << 10)

/* This process's CPU time (us), this thread's, and the process's minor page faults so far. */
static void usage_now(uint64_t *proc_us, uint64_t *thread_us, long *faults)
{
	struct rusage ru = {0};

	*proc_us = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	*thread_us = clock_us(CLOCK_THREAD_CPUTIME_ID);
	(void)getrusage(RUSAGE_SELF, &ru);
	*faults = ru.ru_minflt;
}

/*
 * The header's first byte, and with it the file guest RAM is mapped from
 * (fork.c: SCM_RIGHTS).  A request without it is refused: a child must
 * never build a VM on memory of its own making.
 */
static int recv_ram_fd(struct fork_child_in *in, uint8_t *first)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {first, 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(in->ctl, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return n < 0 ? -errno : -EPIPE;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || (mh.msg_flags & MSG_CTRUNC))
		return -EBADF;
	memcpy(&in->ram_fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

/* What the request's build would fault in or open, done while a pooled child waits. */
static void warm_up(void)
{
	void *heap = malloc(FORK_CHILD_WARM_HEAP);

	if (heap) {
		/* Not memset: a store right before free() may be optimised away. */
		explicit_bzero(heap, FORK_CHILD_WARM_HEAP);
		free(heap);
	}
	/* jansson seeds its hashes from /dev/urandom at the first JSON object: the request's. */
	json_object_seed(0);
}

/*
 * A pooled child's hint ('P', fork_msg.h), its first byte read: RAM mapped,
 * vCPUs made and the queues' notifiers bound now, while we wait.  A hint
 * we cannot use costs only that: the fork builds them as a child without
 * a pool does.
 */
static int read_prep(struct fork_child_in *in)
{
	uint8_t b[FORK_PREP_LEN] = {'P'};
	struct fork_prep p;
	int r = migrate_recv_all(in->ctl, b + 1, FORK_PREP_LEN - 1);

	if (!r && !fork_prep_decode(b, &p) && in->pre.vm_fd >= 0) {
		r = vm_pre_prepare(&in->pre, in->ram_fd, p.vcpus, p.mem_mib, p.huge);
		if (!r)
			r = vm_pre_notifiers(&in->pre, p.nr_slots, p.queues);
		if (r)
			log_debug("fork child: making the VM ahead: %s", strerror(-r));
		r = 0;
		warm_up();
	}
	close(in->ram_fd); /* the request brings it again */
	in->ram_fd = -1;
	return r;
}

static int read_request(struct fork_child_in *in, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = FORK_CHILD_TIMEOUT_S};
	uint8_t hdr[FORK_MSG_HDR], *state = NULL;
	char *json = NULL;
	uint32_t jl;
	/* No time limit on the first byte: a pooled child (--fork-pool) waits for its fork. */
	int r = recv_ram_fd(in, hdr);

	if (!r && hdr[0] == 'P' && !(r = read_prep(in)))
		r = recv_ram_fd(in, hdr);
	if (r == -EPIPE)
		return r; /* released unused */
	in->req_us = time_now_us();
	usage_now(&in->req_cpu_us, &in->req_thread_us, &in->req_faults);
	(void)setsockopt(in->ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(in->ctl, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!r)
		r = migrate_recv_all(in->ctl, hdr + 1, sizeof(hdr) - 1);
	if (r) {
		snprintf(err, errlen, "reading the fork request: %s", strerror(-r));
		return r;
	}
	r = fork_msg_header(hdr, &jl, err, errlen);
	if (r)
		return r;
	json = malloc(jl);
	r = json ? migrate_recv_all(in->ctl, json, jl) : -ENOMEM;
	if (!r)
		r = fork_msg_decode(json, jl, SNAP_DEFAULT_MAX, &in->msg, err, errlen);
	else
		snprintf(err, errlen, "reading the fork request: %s", strerror(-r));
	free(json);
	if (r)
		return r;
	state = malloc(in->msg.state_len);
	r = state ? migrate_recv_all(in->ctl, state, in->msg.state_len) : -ENOMEM;
	if (r)
		snprintf(err, errlen, "reading the VM state: %s", strerror(-r));
	else
		r = snap_parse(state, in->msg.state_len, &in->img, err, errlen);
	free(state);
	return r;
}

/* The command line of an ember that serves the API on the child's socket. */
static void build_argv(struct fork_child_in *in)
{
	static const char *const level[] = {"error", "warn", "info", "debug"};
	int n = 0;

	in->argv[n++] = "ember";
	in->argv[n++] = "--api-sock";
	in->argv[n++] = in->msg.api_sock;
	in->argv[n++] = "--log-level";
	in->argv[n++] = (char *)level[in->msg.log_level];
	if (in->msg.no_seccomp)
		in->argv[n++] = "--no-seccomp";
	if (in->msg.allow_kvm_pvm)
		in->argv[n++] = "--allow-kvm-pvm";
	if (in->msg.seccomp_filter[0]) {
		in->argv[n++] = "--seccomp-filter";
		in->argv[n++] = in->msg.seccomp_filter;
	}
	in->argv[n] = NULL;
	in->argc = n;
}

/*
 * Until 'G' a child is SCHED_BATCH: a batch task never preempts the one
 * running when it wakes.  At a fork the parent sends its requests one
 * after the other, and each wakes a child; as ordinary tasks the
 * children, just woken after long sleeps, took the parent's CPU at every
 * send, and ten requests took it ~65 ms instead of ~2 (the nested bench,
 * two CPUs).  Going back needs no privilege: both are fair policies at the
 * same nice.  Only this thread exists until then (the API thread and the
 * vCPUs start after 'G' and inherit the policy), so no thread is left
 * batch, with or without /proc (a jail has none).
 */
static void sched_policy(int policy)
{
	struct sched_param p = {0};

	if (sched_setscheduler(0, policy, &p))
		log_debug("fork child: scheduling policy %d: %s", policy, strerror(errno));
}

struct fork_child_in *fork_child_read(const char *argv0)
{
	struct fork_child_in *in = calloc(1, sizeof(*in));
	char err[FORK_MAX_ERR];
	int r;

	if (!in)
		return NULL;
	in->ctl = SPAWN_CHILD_FD;
	in->ram_fd = -1;
	(void)fcntl(in->ctl, F_SETFD, FD_CLOEXEC);
	/*
	 * Failing here is no error yet: api_mode.c and vm_create try again
	 * and say why.  Capabilities go first: the starter keeps what we have
	 * when it forks, and main drops them anyway.
	 */
	in->spawner.pid = -1;
	if (!seccomp_drop_caps())
		(void)spawner_start(&in->spawner, argv0);
	sched_policy(SCHED_BATCH); /* after the starter: it stays ordinary */
	(void)vm_pre_create(&in->pre);
	r = read_request(in, err, sizeof(err));
	if (r == -EPIPE) {
		/* A pooled child its parent no longer needs: nothing to report. */
		fork_child_free(in);
		return NULL;
	}
	if (r) {
		log_err("fork child: %s", err);
		fork_child_answer(in, -EINVAL, err);
		fork_child_free(in);
		return NULL;
	}
	build_argv(in);
	return in;
}

int fork_child_answer(struct fork_child_in *in, int result, const char *why)
{
	size_t n = result ? strnlen(why, FORK_MAX_ERR) : 0;
	uint8_t a[3] = {result ? 'E' : 'K', (uint8_t)n, (uint8_t)(n >> 8)};
	uint64_t proc_us, thread_us;
	long faults;
	int r;

	/*
	 * What a fork's latency is made of, beside the parent's "fork:" line
	 * (monotonic times line the two up): wall, CPU and page faults from
	 * the request to this answer.
	 */
	usage_now(&proc_us, &thread_us, &faults);
	if (!result)
		log_debug(
		    "fork child: ready %llu us after its request at %llu us (%llu us of "
		    "CPU, %llu on this thread; %ld page faults)",
		    (unsigned long long)(time_now_us() - in->req_us),
		    (unsigned long long)in->req_us, (unsigned long long)(proc_us - in->req_cpu_us),
		    (unsigned long long)(thread_us - in->req_thread_us), faults - in->req_faults);
	r = migrate_send_all(in->ctl, a, sizeof(a));
	return !r && n ? migrate_send_all(in->ctl, why, n) : r;
}

int fork_child_go(struct fork_child_in *in)
{
	char c = 0;
	int r = migrate_recv_all(in->ctl, &c, 1);

	if (!r && c != 'G')
		r = -EPROTO;
	if (!r)
		sched_policy(SCHED_OTHER);
	return r;
}

void fork_child_free(struct fork_child_in *in)
{
	if (!in)
		return;
	if (in->ctl >= 0)
		close(in->ctl);
	if (in->ram_fd >= 0)
		close(in->ram_fd);
	vm_pre_release(&in->pre);
	spawner_stop(&in->spawner);
	snap_image_free(&in->img);
	free(in);
}
