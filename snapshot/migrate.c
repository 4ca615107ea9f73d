// SPDX-License-Identifier: Apache-2.0
/*
 * Live migration, the source (PUT /migration/send) and what both ends
 * share (addresses, whole-buffer socket I/O).
 *
 * Where it runs: on the VMM thread, inside the API command, in steps: after
 * every frame (at most 1 MiB of pages) the caller's step() serves the device
 * events that are ready, so the guest's I/O goes on during the pre-copy
 * rounds.  A migration thread of its own would need a seccomp filter, a
 * handshake with this thread to pause the vCPUs and save the devices (which
 * only this thread may touch), and a way to hand a failure back to the API
 * answer; the VMM thread already has all three, and the API thread has to
 * wait for the answer (204 once the VM runs there) either way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "migrate.h"
#include "migrate_stream.h"
#include "snap_dev.h"

#define MIG_MAX_ROUNDS 30 /* a guest dirtying faster than we send: stop trying */
#define MIG_TIMEOUT_S  30 /* a destination silent this long is gone */

int migrate_send_all(int fd, const void *p, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a destination that went away is an error, not SIGPIPE. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -ECONNRESET;
		p = (const uint8_t *)p + n;
		len -= (size_t)n;
	}
	return 0;
}

int migrate_recv_all(int fd, void *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -ECONNRESET;
		p = (uint8_t *)p + n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- source ------------------------------------------------------------------------ */

struct mig_tx {
	struct vm *vm;
	const struct migrate_send_req *req;
	int fd;
	uint64_t nonce, seq, bytes, pages;
	/* Where the downtime goes: vCPUs paused, last pages sent, END sent (the rest is the
	 * destination's). */
	uint64_t t_paused, t_pages, t_end, last_pages;
	/*
	 * The next PAGES frame: up to MIG_MAX_RUN pages, wherever they are in
	 * RAM, copied so the CRC and the bytes sent agree (the guest may write
	 * a page meanwhile: the dirty log then has it again), and their offsets.
	 */
	uint8_t *copy;
	uint8_t offs[MIG_MAX_RUN][8];
	uint32_t nr;
	bool final; /* paused, the last pass: no device events until the state is built */
	char *err;  /* the caller's message buffer: a refusal heard mid-stream */
	size_t errlen;
	bool log_was_on; /* machine-config track_dirty_pages: KVM logs dirty pages anyway */
};

/* Header and parts in one writev, resumed where a short write stopped. */
static int tx_iov(int fd, struct iovec *iov, unsigned nr)
{
	while (nr) {
		ssize_t n = writev(fd, iov, (int)nr); /* SIGPIPE is ignored (main.c) */

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -ECONNRESET;
		for (; nr && (size_t)n >= iov->iov_len; iov++, nr--)
			n -= (ssize_t)iov->iov_len;
		if (nr) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int rx_answer(struct mig_tx *t, char *err, size_t errlen);

/*
 * The destination speaks before END only to refuse (it could not build the
 * VM from the configuration, or the stream failed its checks), then closes:
 * its ERR says why, better than the send error that follows.  Peeked for
 * after every frame, so a refused migration stops within a frame; after a
 * failed send, read if the destination closed (EPIPE, ECONNRESET).
 */
static int tx_refused(struct mig_tx *t, int sent)
{
	uint8_t b;
	ssize_t n;
	int r;

	if (!sent) {
		n = recv(t->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
	} else if (sent != -EPIPE && sent != -ECONNRESET) {
		return sent;
	}
	r = rx_answer(t, t->err, t->errlen);
	if (r == -EREMOTEIO)
		return r;
	t->err[0] = '\0';
	if (!r && !sent) {
		snprintf(t->err, t->errlen,
			 "the destination answered before the end of the stream");
		return -EPROTO;
	}
	return sent ? sent : -ECONNRESET;
}

static int tx_frame(struct mig_tx *t, uint32_t type, const struct mig_part *parts, unsigned nr)
{
	uint8_t hdr[MIG_HDR_SIZE];
	struct iovec iov[4] = {{hdr, sizeof(hdr)}};
	int r;

	mig_hdr_encode(hdr, t->nonce, type, t->seq++, parts, nr);
	for (unsigned i = 0; i < nr && i < 3; i++) {
		iov[i + 1] = (struct iovec){(void *)parts[i].p, parts[i].len};
		t->bytes += parts[i].len;
	}
	t->bytes += sizeof(hdr);
	r = tx_iov(t->fd, iov, nr + 1);
	/* After END the answer is due, and tx_final reads it. */
	if (type != MIG_FR_END)
		r = tx_refused(t, r);
	/*
	 * Between pre-copy frames the guest's I/O goes on (device writes are
	 * logged).  Not in the last pass: a device event served after the last
	 * dirty pages were collected would write RAM (and move its queue) that
	 * the destination never gets.
	 */
	if (!r && t->req->step && !t->final)
		t->req->step(t->req->ctx);
	return r;
}

/* The pages gathered so far, as one PAGES frame. */
static int tx_flush(struct mig_tx *t)
{
	uint8_t sub[MIG_PAGES_HDR] = {0};
	uint32_t n = t->nr;
	int r;

	if (!n)
		return 0;
	for (int k = 0; k < 4; k++)
		sub[k] = (uint8_t)(n >> (8 * k));
	r = tx_frame(t, MIG_FR_PAGES,
		     (struct mig_part[]){{sub, sizeof(sub)},
					 {t->offs, (size_t)n * 8},
					 {t->copy, (size_t)n * MIG_PAGE}},
		     3);
	t->nr = 0;
	t->pages += n;
	return r;
}

static int tx_page(struct mig_tx *t, uint64_t off, const uint8_t *page)
{
	memcpy(t->copy + (size_t)t->nr * MIG_PAGE, page, MIG_PAGE);
	for (int k = 0; k < 8; k++)
		t->offs[t->nr][k] = (uint8_t)(off >> (8 * k));
	return ++t->nr == MIG_MAX_RUN ? tx_flush(t) : 0;
}

static bool page_is_zero(const uint8_t *p)
{
	return !p[0] && !memcmp(p, p + 1, MIG_PAGE - 1);
}

/*
 * The pages set in @bits (or, without bits, the first round: every page
 * that is not zero), in frames of MIG_MAX_RUN pages each.
 */
static int tx_pages(struct mig_tx *t, uint64_t *bits[GM_MAX_REGIONS])
{
	uint64_t base = 0;
	int r = 0;

	for (unsigned i = 0; !r && i < t->vm->mem.nr_regions; i++) {
		const struct gm_region *g = &t->vm->mem.region[i];
		const uint64_t *b = bits ? bits[i] : NULL;
		uint64_t n = g->size / MIG_PAGE;

		for (uint64_t w = 0; !r && w < (n + 63) / 64; w++) {
			uint64_t set = b ? b[w] : ~0ull;

			for (; !r && set; set &= set - 1) {
				uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(set);
				const uint8_t *p = g->host + pg * MIG_PAGE;

				if (pg < n && (b || !page_is_zero(p)))
					r = tx_page(t, base + pg * MIG_PAGE, p);
			}
		}
		base += g->size;
	}
	return r ? r : tx_flush(t);
}

/* KVM's dirty log on every RAM slot, and ember's own bitmaps (gm_mark_dirty). */
static int dirty_log_set(struct vm *vm, bool on)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		struct gm_region *g = &vm->mem.region[i];
		int r;

		if (on && !g->dirty) {
			uint64_t *d = calloc((g->size / MIG_PAGE + 63) / 64, sizeof(uint64_t));

			if (!d)
				return -ENOMEM;
			/* Devices on the vCPU threads read it: publish it whole. */
			__atomic_store_n(&g->dirty, d, __ATOMIC_RELEASE);
		}
		r = vm_set_slot(vm->vm_fd, i, g, on);
		if (r < 0)
			return r;
	}
	return 0;
}

static void bits_free(uint64_t *bits[GM_MAX_REGIONS])
{
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++) {
		free(bits[i]);
		bits[i] = NULL;
	}
}

static uint64_t bits_count(const struct vm *vm, uint64_t *bits[GM_MAX_REGIONS])
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->mem.nr_regions; i++)
		for (uint64_t w = 0; w < (vm->mem.region[i].size / MIG_PAGE + 63) / 64; w++)
			n += (uint64_t)__builtin_popcountll(bits[i][w]);
	return n;
}

static int tx_hello(struct mig_tx *t)
{
	uint8_t h[24 + 16 * GM_MAX_REGIONS] = {0};
	const struct guest_mem *gm = &t->vm->mem;
	uint64_t total = 0;
	size_t len = 24;

	for (unsigned i = 0; i < gm->nr_regions; i++, len += 16) {
		for (int k = 0; k < 8; k++) {
			h[len + k] = (uint8_t)(gm->region[i].gpa >> (8 * k));
			h[len + 8 + k] = (uint8_t)(gm->region[i].size >> (8 * k));
		}
		total += gm->region[i].size;
	}
	h[0] = MIG_VERSION;
	h[4] = SNAP_ARCH_HOST;
	h[8] = (uint8_t)gm->nr_regions;
	for (int k = 0; k < 8; k++)
		h[16 + k] = (uint8_t)(total >> (8 * k));
	return tx_frame(t, MIG_FR_HELLO, &(struct mig_part){h, len}, 1);
}

/*
 * What the VM is, no state, so the destination builds it while the pages
 * go over (snap_load_prepare): vm_create and the devices are no downtime.
 */
static int tx_config(struct mig_tx *t, char *err, size_t errlen)
{
	struct snap_writer w = {0};
	const uint8_t *img = NULL;
	size_t len;
	int r = snap_config_build(t->vm, &w, err, errlen);

	if (!r && !(img = snap_w_bytes(&w, &len))) {
		snprintf(err, errlen, "out of memory building the configuration");
		r = -ENOMEM;
	}
	if (!r)
		r = tx_frame(t, MIG_FR_CONFIG, &(struct mig_part){img, len}, 1);
	snap_w_free(&w);
	return r;
}

/*
 * Pre-copy: every non-zero page, then what the guest dirtied meanwhile,
 * round after round.  It stops once sending the rest would fit @budget_us
 * and a round no longer shrinks the rest by a quarter: under the budget
 * is not enough, the downtime goes down to what the guest dirties in the
 * time of a short round.  The rate is the whole pre-copy's: a small
 * round's bytes may only have reached the socket's buffer, which would
 * make it look fast and the last pass slow.  The last round's pages are in
 * @pending, for the final pass.
 */
static int tx_precopy(struct mig_tx *t, uint64_t budget_us, uint64_t *pending[GM_MAX_REGIONS],
		      unsigned *rounds)
{
	uint64_t t0 = time_now_us(), b0 = t->bytes, prev = 0;
	int r = tx_pages(t, NULL);

	for (*rounds = 1; !r; (*rounds)++) {
		uint64_t us = time_now_us() - t0 + 1, sent = t->bytes - b0 + 1, left;
		bool fits;

		r = snap_collect_dirty(t->vm, pending);
		if (r)
			break;
		left = bits_count(t->vm, pending) * (MIG_PAGE + MIG_HDR_SIZE);
		/* bytes * us / sent, without overflow for sane sizes. */
		fits = (double)left * (double)us / (double)sent <= (double)budget_us;
		if ((fits && *rounds > 1 && (!left || left * 4 > prev * 3)) ||
		    *rounds >= MIG_MAX_ROUNDS || vcpus_paused(t->vm))
			break;
		prev = left;
		r = tx_pages(t, pending);
		bits_free(pending);
	}
	return r;
}

static int rx_answer(struct mig_tx *t, char *err, size_t errlen)
{
	uint8_t hdr[MIG_HDR_SIZE], msg[MIG_MAX_ERR + 1];
	uint64_t len;
	int r = migrate_recv_all(t->fd, hdr, sizeof(hdr));

	if (!r)
		r = mig_answer_check(t->nonce, hdr, NULL, &len, err, errlen);
	if (!r)
		r = migrate_recv_all(t->fd, msg, len);
	if (!r)
		return mig_answer_check(t->nonce, hdr, msg, &len, err, errlen);
	if (!err[0])
		snprintf(err, errlen, "no answer from the destination: %s", strerror(-r));
	return r;
}

/* Paused: the last dirty pages, the devices and vCPUs, END; then the answer. */
static int tx_final(struct mig_tx *t, uint64_t *pending[GM_MAX_REGIONS], bool paused, char *err,
		    size_t errlen)
{
	uint64_t *last[GM_MAX_REGIONS] = {0};
	uint8_t end[8] = {paused ? MIG_END_PAUSED : 0};
	struct snap_writer w = {0};
	const uint8_t *img;
	size_t len;
	int r;

	t->final = true;
	snap_dev_quiesce(t->vm);
	r = snap_collect_dirty(t->vm, last);
	for (unsigned i = 0; !r && i < t->vm->mem.nr_regions; i++)
		for (uint64_t k = 0;
		     pending[i] && k < (t->vm->mem.region[i].size / MIG_PAGE + 63) / 64; k++)
			last[i][k] |= pending[i][k];
	t->last_pages = t->pages;
	if (!r)
		r = tx_pages(t, last);
	t->last_pages = t->pages - t->last_pages;
	t->t_pages = time_now_us();
	bits_free(last);
	if (r)
		goto io;
	r = snap_state_build(t->vm, &w, false, err, errlen);
	img = r ? NULL : snap_w_bytes(&w, &len);
	if (!r && !img) {
		snprintf(err, errlen, "out of memory building the state");
		r = -ENOMEM;
	}
	if (!r)
		r = tx_frame(t, MIG_FR_STATE, &(struct mig_part){img, len}, 1);
	snap_w_free(&w);
	if (!r)
		r = tx_frame(t, MIG_FR_END, &(struct mig_part){end, sizeof(end)}, 1);
	t->t_end = time_now_us();
	if (!r || err[0])
		return r ? r : rx_answer(t, err, errlen);
io:
	if (!err[0])
		snprintf(err, errlen, "sending to the destination: %s", strerror(-r));
	return r;
}

static int tx_connect(struct mig_tx *t, const char *url, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = MIG_TIMEOUT_S};
	uint8_t gr[MIG_GREETING_SIZE];
	struct sockaddr_storage ss;
	socklen_t sl;
	int r = migrate_url(url, &ss, &sl, err, errlen);

	if (r)
		return r;
	t->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot connect to %.200s: %s", url, strerror(errno));
		return r;
	}
	/*
	 * Before connect: a destination that stops reading or answering, or a
	 * full backlog (SO_SNDTIMEO bounds connect too), fails the migration,
	 * never hangs it.
	 */
	(void)setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Frames are whole writes: Nagle would only hold END back for a delayed ACK. */
	if (ss.ss_family != AF_UNIX)
		(void)setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	if (connect(t->fd, (struct sockaddr *)&ss, sl)) {
		r = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		snprintf(err, errlen, "cannot connect to %.200s: %s", url, strerror(-r));
		return r;
	}
	r = migrate_recv_all(t->fd, gr, sizeof(gr));
	if (r) {
		snprintf(err, errlen, "no greeting from the destination: %s", strerror(-r));
		return r;
	}
	return mig_greeting_decode(gr, &t->nonce, err, errlen);
}

int migrate_send(struct vm *vm, const struct migrate_send_req *req, char *err, size_t errlen)
{
	struct mig_tx t = {.vm = vm,
			   .req = req,
			   .fd = -1,
			   .log_was_on = vm->cfg->track_dirty_pages,
			   .err = err,
			   .errlen = errlen};
	uint64_t *pending[GM_MAX_REGIONS] = {0}, t_start = time_now_us(), t_pause = 0;
	bool was_paused = vcpus_paused(vm), paused = was_paused;
	unsigned rounds = 0;
	int r;

	err[0] = '\0';
	if (vm->devmem.nr_exposed) {
		snprintf(err, errlen, "a microVM with memory hotplug cannot be migrated yet");
		return -ENOTSUP;
	}
	t.copy = malloc((size_t)MIG_MAX_RUN * MIG_PAGE);
	if (!t.copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = tx_connect(&t, req->url, err, errlen);
	if (!r)
		r = dirty_log_set(vm, true);
	/* From here every page the guest or a device writes is logged: drop the old log. */
	if (!r && !(r = snap_collect_dirty(vm, pending)))
		bits_free(pending);
	if (!r)
		r = tx_hello(&t);
	if (!r)
		r = tx_config(&t, err, errlen);
	if (!r)
		r = tx_precopy(&t, (uint64_t)req->max_downtime_ms * 1000, pending, &rounds);
	if (r && !err[0])
		snprintf(err, errlen, "sending to the destination: %s", strerror(-r));
	if (!r) {
		t_pause = time_now_us();
		r = paused ? 0 : vcpus_pause(vm);
		paused = true;
		t.t_paused = time_now_us();
	}
	if (!r)
		r = tx_final(&t, pending, was_paused, err, errlen);
	bits_free(pending);
	free(t.copy);
	if (t.fd >= 0)
		close(t.fd);
	if (!r) {
		uint64_t now = time_now_us();

		log_info(
		    "migration: sent %llu pages, %llu bytes in %u rounds, %llu ms in all, "
		    "%llu ms downtime (%llu ms of it waiting for the destination to start the VM; "
		    "pausing %llu us, quiescing and the last %llu pages %llu us, state %llu us)",
		    (unsigned long long)t.pages, (unsigned long long)t.bytes, rounds,
		    (unsigned long long)(now - t_start) / 1000,
		    (unsigned long long)(now - t_pause) / 1000,
		    (unsigned long long)(now - t.t_end) / 1000,
		    (unsigned long long)(t.t_paused - t_pause), (unsigned long long)t.last_pages,
		    (unsigned long long)(t.t_pages - t.t_paused),
		    (unsigned long long)(t.t_end - t.t_pages));
		return 0;
	}
	/* Failed: the VM goes on here as before, every page dirty for a later Diff snapshot. */
	for (unsigned i = 0; i < vm->mem.nr_regions && t.log_was_on; i++)
		memset(vm->mem.region[i].dirty, 0xff,
		       (vm->mem.region[i].size / MIG_PAGE + 63) / 64 * sizeof(uint64_t));
	if (!t.log_was_on)
		(void)dirty_log_set(vm, false);
	if (paused && !was_paused)
		vcpus_resume(vm);
	log_err("migration failed: %s", err);
	return r;
}
