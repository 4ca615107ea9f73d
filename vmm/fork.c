// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /vm/fork, the parent's side, on the VMM thread (issue 18).
 *
 * A KVM VM cannot be used from another process, so each child is a fresh
 * ember (spawn.h) that builds its own VM and vCPUs from the parent's state:
 * the snapshot state file (snap_state_build, the one format) sent over the
 * child's control socket (fork_msg.h), and guest RAM as the file it is
 * mapped from (vm.c: a booted VM's memfd, on 2 MiB pages for huge_pages),
 * passed along with it (SCM_RIGHTS), which the child maps privately as a
 * restore maps a memory file.  No page is copied or written to a file.
 *
 * The fork, with the vCPUs paused and the devices quiesced:
 *   1. the state, once;
 *   2. each child: started (or taken from the pool, --fork-pool) and sent
 *      the request; all of them map the memfd privately, build their VMs
 *      and bind their API sockets side by side (a pooled child has mapped
 *      it and made its vCPUs while it waited: pool_tell);
 *   3. each child answers 'K' (or 'E': every child is dropped, they exit
 *      on EOF without having run, and the parent goes on as it was);
 *   4. 'G' to every child, which runs once it reads it, and the 204;
 *   5. then (fork_finish) the parent's RAM is remapped MAP_PRIVATE over
 *      the same memfd at the same address (MAP_FIXED: KVM's memory slots
 *      keep their addresses; the unmap's MMU notifier drops KVM's mappings
 *      of the old pages, so the guest faults the new ones in).  The memfd
 *      is frozen from then on: the parent and every child write into
 *      private copies.  Nothing wrote it since step 1: we stay paused and
 *      the children write their own copies.  Except on huge pages: there
 *      the private mapping reserves its pages and may find too few, so it
 *      is done before 'G', and a shortage is refused with the parent as it
 *      was;
 *   6. the parent resumes if it was running, and its pool fills again.
 *
 * A parent forked before keeps its RAM private over the frozen memfd; its
 * later forks send each child the pages that differ from the memfd
 * (fork_pages.h: only those are copied, into each child's RAM).  A VM that
 * is itself restored, migrated or a fork's child is in that state from the
 * start: its memory file is the base.
 *
 * Not supported, refused with the reason: a Uffd restore (its RAM is
 * anonymous, filled by the handler: no file to share) and plugged
 * virtio-mem memory (a snapshot keeps it after RAM in the memory file).
 * The balloon is safe: once frozen, RAM is not shared, so gm_discard drops
 * private copies (MADV_DONTNEED) and never punches the children's base.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api_mode.h"
#include "fork_msg.h"
#include "fork_pages.h"
#include "hugetlb.h"
#include "snap_dev.h"
#include "spawn.h"

#define FORK_TIMEOUT_S	   30	/* a child silent this long has failed */
#define FORK_REPLY_WAIT_MS 1000 /* for the 204 to be written before the remap */

static int fork_refused(const struct api_mode *m, char *err, size_t errlen)
{
	const struct vm *vm = &m->vm;
	const char *why = NULL;

	if (vm->ram_fd < 0 && vm->cfg->mem_src)
		why = "a microVM restored with the Uffd backend cannot be forked (its memory is "
		      "the page-fault handler's, not a file to share)";
	else if (vm->ram_fd < 0 || m->spawner.pid < 0)
		why = "live fork is unavailable in this ember (no process starter, or guest RAM "
		      "is not a memfd; its log says why)";
	else if (vm->devmem.nr_exposed)
		why = "a microVM with plugged hotplug memory cannot be forked";
	if (why)
		snprintf(err, errlen, "Fork failed: %s.", why);
	return why ? -ENOTSUP : 0;
}

/* The header's first byte, and with it (SCM_RIGHTS) the file guest RAM is mapped from. */
static int send_ram_fd(int ctl, const uint8_t *first, int ram_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {(void *)first, 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &ram_fd, sizeof(int));
	do
		n = sendmsg(ctl, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EIO;
}

/* The request to one child: header (with the RAM's fd), JSON, state. */
static int send_request(int ctl, const struct fork_msg *msg, const uint8_t *state, int ram_fd)
{
	uint8_t *head;
	size_t len;
	int r = fork_msg_encode(msg, &head, &len);

	if (r)
		return r;
	r = send_ram_fd(ctl, head, ram_fd);
	if (!r)
		r = migrate_send_all(ctl, head + 1, len - 1);
	free(head);
	return r ? r : migrate_send_all(ctl, state, msg->state_len);
}

/* 'K', or the child's 'E' and reason, or what went wrong talking to it. */
static int read_answer(int ctl, char *why, size_t whylen)
{
	uint8_t a[3];
	size_t n;
	int r = migrate_recv_all(ctl, a, sizeof(a));

	if (r) {
		snprintf(why, whylen, "it ended before its VM was built (%s; its log says why)",
			 strerror(-r));
		return r;
	}
	if (a[0] == 'K')
		return 0;
	n = (size_t)a[1] | (size_t)a[2] << 8;
	if (a[0] != 'E' || n >= whylen || migrate_recv_all(ctl, why, n)) {
		snprintf(why, whylen, "it answered nonsense");
		return -EPROTO;
	}
	why[n] = 0;
	return -EINVAL;
}

static void child_msg(const struct api_mode *m, const struct api_fork_child *c, bool paused,
		      uint64_t state_len, struct fork_msg *msg)
{
	*msg = (struct fork_msg){.paused = paused,
				 .no_seccomp = m->cli->no_seccomp,
				 .allow_kvm_pvm = m->cli->allow_kvm_pvm,
				 .log_level = (unsigned)m->cli->log_level,
				 .state_len = state_len};
	snprintf(msg->api_sock, sizeof(msg->api_sock), "%s", c->api_sock);
	snprintf(msg->serial_out_path, sizeof(msg->serial_out_path), "%s", c->serial_out_path);
	if (c->ov.has_vsock_override)
		snprintf(msg->vsock_uds, sizeof(msg->vsock_uds), "%s", c->ov.vsock_uds_path);
	if (m->cli->fc.seccomp_filter)
		snprintf(msg->seccomp_filter, sizeof(msg->seccomp_filter), "%s",
			 m->cli->fc.seccomp_filter);
	for (unsigned i = 0; i < c->ov.nr_net_overrides && i < FORK_MAX_NETS; i++) {
		snprintf(msg->nets[i].iface_id, sizeof(msg->nets[i].iface_id), "%s",
			 c->ov.net_overrides[i].iface_id);
		snprintf(msg->nets[i].host_dev_name, sizeof(msg->nets[i].host_dev_name), "%s",
			 c->ov.net_overrides[i].host_dev_name);
		msg->nr_nets++;
	}
}

/* Pooled child @i leaves the pool (the oldest first: FIFO). */
static int pool_take(struct api_mode *m, unsigned i)
{
	int fd = m->fork_pool[i];

	m->fork_pool_nr--;
	memmove(m->fork_pool + i, m->fork_pool + i + 1, (m->fork_pool_nr - i) * sizeof(fd));
	if (i < m->fork_pool_told)
		m->fork_pool_told--;
	return fd;
}

/*
 * Once our VM exists, each pooled child not told yet gets our machine and
 * the file RAM is mapped from ('P', fork_msg.h), and maps RAM, makes its
 * vCPUs and binds its devices' queue notifiers while it waits.  Our
 * machine does not change while we run; a child whose fork finds otherwise
 * (vm_create's pre_fits, attach_slot) builds them anew.  On 2 MiB pages
 * RAM is not mapped ahead: that would reserve a copy per child.
 */
static void pool_tell(struct api_mode *m)
{
	_Static_assert(MAX_VIRTIO_DEVS <= FORK_PREP_MAX_SLOTS, "every slot fits the hint");
	_Static_assert(VIRTIO_MMIO_MAX_QUEUES <= FORK_PREP_MAX_QUEUES, "every queue too");
	const struct vm *vm = &m->vm;
	uint8_t b[FORK_PREP_LEN];
	struct fork_prep p;

	if (!m->vm_live || vm->ram_fd < 0)
		return;
	p = (struct fork_prep){.vcpus = vm->nr_vcpus,
			       .mem_mib = vm->cfg->mem_mib,
			       .huge = vm->mem.region[0].hugetlb,
			       .nr_slots = vm->nr_devs};
	for (unsigned i = 0; i < vm->nr_devs; i++)
		p.queues[i] = (uint8_t)vm->dev[i].t->ops->num_queues;
	fork_prep_encode(&p, b);
	while (m->fork_pool_told < m->fork_pool_nr) {
		int fd = m->fork_pool[m->fork_pool_told];
		int r = send_ram_fd(fd, b, vm->ram_fd);

		if (!r)
			r = migrate_send_all(fd, b + 1, sizeof(b) - 1);
		if (!r) {
			m->fork_pool_told++;
			continue;
		}
		log_warn("fork: a pooled child is gone (%s)", strerror(-r));
		close(pool_take(m, m->fork_pool_told));
	}
}

void fork_pool_fill(struct api_mode *m)
{
	while (m->fork_pool_nr < m->cli->fork_pool) {
		int fd = spawner_connect(&m->spawner);

		if (fd < 0) {
			log_warn("fork: cannot start a child for the pool: %s", strerror(-fd));
			break;
		}
		m->fork_pool[m->fork_pool_nr++] = fd;
	}
	pool_tell(m);
}

/* Each reads EOF before any request and exits (fork_child.c). */
void fork_pool_drain(struct api_mode *m)
{
	while (m->fork_pool_nr)
		close(m->fork_pool[--m->fork_pool_nr]);
	m->fork_pool_told = 0;
}

/*
 * A child's control socket: the oldest pooled child (the likeliest to have
 * finished starting), else a new one.  @pooled says which.
 */
static int child_connect(struct api_mode *m, bool *pooled)
{
	*pooled = m->fork_pool_nr > 0;
	return *pooled ? pool_take(m, 0) : spawner_connect(&m->spawner);
}

/* One child started and sent its request: 0 with *@ctl open, or -errno with @why. */
static int start_child(struct api_mode *m, const struct fork_msg *msg, const uint8_t *state,
		       const uint64_t *bits, int *ctl, char *why, size_t whylen)
{
	struct timeval tv = {.tv_sec = FORK_TIMEOUT_S};
	bool pooled;
	int fd, r;

	do {
		fd = child_connect(m, &pooled);
		if (fd < 0) {
			snprintf(why, whylen, "cannot start it: %s", strerror(-fd));
			return fd;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		r = send_request(fd, msg, state, m->vm.ram_fd);
		/* A pooled child gone since (killed, out of memory): take another. */
		if (r && pooled) {
			log_warn("fork: a pooled child is gone (%s); starting another",
				 strerror(-r));
			close(fd);
		}
	} while (r && pooled);
	if (!r && msg->pages)
		r = fork_pages_send(fd, &m->vm, bits);
	/* A child that cannot build its VM says why and stops reading: say that. */
	if (r && read_answer(fd, why, whylen) != -EINVAL)
		snprintf(why, whylen, "sending it the state: %s", strerror(-r));
	if (r) {
		close(fd);
		return r;
	}
	*ctl = fd;
	return 0;
}

/*
 * Step 5: the memfd becomes the children's base; we write privately on top.
 * On 2 MiB pages the private mapping reserves the pages its copies may
 * need: with fewer free than that it is refused before anything changed
 * (-ENOMEM, every region as it was), not by a MAP_FIXED mmap that would
 * have unmapped guest RAM already.  -EFAULT if a remap failed halfway:
 * this VM cannot go on then.
 */
static int freeze_ram(struct vm *vm)
{
	uint64_t off = 0;
	long long avail = vm->mem.region[0].hugetlb ? hugetlb_available() : -1;

	if (avail >= 0 && (uint64_t)avail < (vm->cfg->mem_mib << 20) / HUGETLB_2M)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		struct gm_region *g = &vm->mem.region[i];

		if (mmap(g->host, g->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED | (g->hugetlb ? 0 : MAP_NORESERVE), vm->ram_fd,
			 (off_t)off) == MAP_FAILED)
			return -EFAULT;
		g->shared = false; /* gm_discard: never MADV_REMOVE the base */
		off += g->size;
	}
	vm->ram_frozen = true;
	return 0;
}

static int build_state(struct vm *vm, struct snap_writer *w, const uint8_t **img, size_t *len,
		       char *err, size_t errlen)
{
	int r;

	snap_dev_quiesce(vm);
	r = snap_state_build(vm, w, false, err, errlen);
	*img = r ? NULL : snap_w_bytes(w, len);
	if (!r && !*img) {
		snprintf(err, errlen, "out of memory building the state");
		r = -ENOMEM;
	}
	return r;
}

/* Step 5, once per VM: 0 at once if done before. */
static int freeze(struct vm *vm, char *err, size_t errlen)
{
	int r = vm->ram_frozen ? 0 : freeze_ram(vm);

	if (r == -EFAULT) {
		/* Part of guest RAM is the base's, part its own: it cannot go on. */
		snprintf(err, errlen, "Fork failed: remapping guest memory: %s", strerror(-r));
		vm_request_exit(vm, EXIT_VMM);
	} else if (r) {
		snprintf(err, errlen,
			 "Fork failed: not enough free 2 MiB huge pages for this VM's own "
			 "copies of its memory after the fork");
	}
	return r;
}

/*
 * Step 4.  Not waiting for each child to read it: that only waits for ten
 * processes to be scheduled, and a child that dies now is as dead as one
 * that dies a moment after it would have confirmed.
 */
static void release_children(const int *ctl, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		if (migrate_send_all(ctl[i], "G", 1))
			log_warn("fork: child %u went away before it could run", i);
}

int fork_run(struct api_mode *m, const struct api_fork *f, char *err, size_t errlen)
{
	struct vm *vm = &m->vm;
	bool was_paused;
	int ctl[API_FORK_MAX], r;
	unsigned nr = 0;
	struct snap_writer w = {0};
	const uint8_t *img;
	char why[FORK_MAX_ERR + 40];
	uint64_t t0 = time_now_us(), *bits = NULL, pages = 0;
	uint64_t t[4] = {0}; /* paused with the state built, sent, all answered, released */
	size_t len;

	if (!m->vm_live) {
		snprintf(err, errlen, "Fork failed: the microVM is not running.");
		return -EINVAL;
	}
	r = fork_refused(m, err, errlen);
	if (r)
		return r;
	was_paused = vcpus_paused(vm);
	r = was_paused ? 0 : vcpus_pause(vm);
	if (r) {
		snprintf(err, errlen, "Fork failed: cannot pause the microVM: %s", strerror(-r));
		return r;
	}
	r = build_state(vm, &w, &img, &len, why, sizeof(why));
	if (r)
		snprintf(err, errlen, "Fork failed: %s", why);
	/* Forked before: the children also need what we wrote since (fork_pages.h). */
	if (!r && vm->ram_frozen && (r = fork_pages_diff(vm, &bits, &pages)))
		snprintf(err, errlen, "Fork failed: comparing RAM with its base: %s", strerror(-r));
	t[0] = time_now_us();
	for (unsigned i = 0; !r && i < f->nr; i++) {
		struct fork_msg msg;

		child_msg(m, &f->child[i], was_paused, len, &msg);
		msg.pages = pages;
		r = start_child(m, &msg, img, bits, &ctl[nr], why, sizeof(why));
		if (r)
			snprintf(err, errlen, "Fork failed: child %u (%s): %s", i,
				 f->child[i].api_sock, why);
		else
			nr++;
	}
	t[1] = time_now_us();
	/* They build their VMs side by side; each answers once it is ready. */
	for (unsigned i = 0; !r && i < nr; i++) {
		r = read_answer(ctl[i], why, sizeof(why));
		if (r)
			snprintf(err, errlen, "Fork failed: child %u (%s): %s", i,
				 f->child[i].api_sock, why);
	}
	t[2] = time_now_us();
	if (!r && vm->mem.region[0].hugetlb)
		r = freeze(vm, err, errlen); /* may find too few pages: before any child runs */
	if (!r)
		release_children(ctl, nr);
	t[3] = time_now_us();
	/* Children not released read EOF and exit without having run. */
	for (unsigned i = 0; i < nr; i++)
		close(ctl[i]);
	snap_w_free(&w);
	free(bits);
	if (!r) {
		/* Paused until fork_finish: the children's base must not change. */
		m->fork_post.pending = true;
		m->fork_post.resume = !was_paused;
		m->fork_post.nr = f->nr;
		m->fork_post.t0 = t0;
		m->fork_post.pages = pages;
		/* With each child's "fork child: ready" line: where a fork's time goes. */
		log_debug("fork: started at %llu us; paused with %zu bytes of state after %llu, "
			  "%u requests sent after %llu, all built after %llu, released after %llu",
			  (unsigned long long)t0, len, (unsigned long long)(t[0] - t0), nr,
			  (unsigned long long)(t[1] - t0), (unsigned long long)(t[2] - t0),
			  (unsigned long long)(t[3] - t0));
		return 0;
	}
	log_err("%s", err);
	if (!was_paused)
		vcpus_resume(vm);
	fork_pool_fill(m);
	return r;
}

/*
 * Steps 5 and 6, once the 204 is written: every child runs already,
 * on its private mapping of the memfd, which nothing writes while we stay
 * paused.  Remapping our RAM is the parent's largest share of a fork
 * (10 to 16 ms of its CPU for a 128 MiB guest in the nested bench, several
 * times that in wall time beside ten new VMs on two CPUs); the caller
 * waits for none of it, nor for the pool to fill again.
 */
void fork_finish(struct api_mode *m)
{
	struct vm *vm = &m->vm;
	char err[API_ERR_MAX];
	int r;

	if (!m->fork_post.pending)
		return;
	m->fork_post.pending = false;
	/*
	 * The 204 first: the remap holds our mmap lock throughout, and an API
	 * thread that faults a page in while writing it waits for all of it
	 * (seen in the nested bench: the 204 arriving only as the remap
	 * ended, ~150 ms after the children were released; the lock is the
	 * likely cause, not proven).
	 */
	if (cmdq_wait_replied(&m->q, FORK_REPLY_WAIT_MS))
		log_warn("fork: the API thread wrote no reply in %u ms; going on",
			 FORK_REPLY_WAIT_MS);
	r = freeze(vm, err, sizeof(err));
	if (r) {
		log_err("%s", err); /* it exits: part of its RAM is the base's */
		return;
	}
	if (m->fork_post.resume)
		vcpus_resume(vm);
	fork_pool_fill(m);
	log_info("fork: %u children in %llu us (%llu pages of our own sent to each)",
		 m->fork_post.nr, (unsigned long long)(time_now_us() - m->fork_post.t0),
		 (unsigned long long)m->fork_post.pages);
}
