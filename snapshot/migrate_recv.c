// SPDX-License-Identifier: Apache-2.0
/*
 * Live migration, the destination (PUT /migration/receive): listen, then
 * on the VMM thread's pre-start loop accept one source, check its stream
 * frame by frame (migrate_stream.c) into a memfd and the heap, and only
 * after END build the VM from them as a snapshot restore does.  This runs
 * before vm_run(), so before the VMM thread's seccomp filter exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "migrate.h"
#include "migrate_stream.h"

/* A source that stops sending for this long is gone. */
#define MIG_RECV_TIMEOUT_S 30

int migrate_listen(struct migrate_dest *d, const char *url, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, r = migrate_url(url, &ss, &sl, err, errlen);

	*d = (struct migrate_dest){.lfd = -1};
	if (r)
		return r;
	/* A socket file a killed destination left is taken over; a live one is not. */
	if (ss.ss_family == AF_UNIX && (r = sock_path_claim(url + 5))) {
		snprintf(err, errlen, "cannot listen on %.200s: %s", url,
			 r == -EADDRINUSE ? "another process listens there" : strerror(-r));
		return r;
	}
	d->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->lfd >= 0 && ss.ss_family != AF_UNIX)
		(void)setsockopt(d->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/*
	 * Room for about one PAGES frame while the previous one is checked, and
	 * no more: what sits in this buffer when the source pauses the VM is
	 * downtime (TCP's autotuning let it grow to megabytes, tens of ms of
	 * CRC and copying in nested KVM).  On the listening socket, so TCP's
	 * window scale agrees.  Unix sockets are bounded by the sender's buffer.
	 */
	if (d->lfd >= 0)
		(void)setsockopt(d->lfd, SOL_SOCKET, SO_RCVBUF, &(int){MIG_MAX_RUN * MIG_PAGE},
				 sizeof(int));
	if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&ss, sl) || listen(d->lfd, 1)) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %.200s: %s", url, strerror(errno));
		migrate_dest_close(d);
		return r;
	}
	if (ss.ss_family == AF_UNIX)
		snprintf(d->unix_path, sizeof(d->unix_path), "%s", url + 5);
	return 0;
}

void migrate_dest_close(struct migrate_dest *d)
{
	if (d->lfd >= 0)
		close(d->lfd);
	if (d->unix_path[0])
		unlink(d->unix_path);
	*d = (struct migrate_dest){.lfd = -1};
}

/* Where the stream goes: RAM into a memfd; the VM, built once CONFIG is in. */
struct mig_sink {
	int memfd;
	struct vm *vm;
	struct vm_config *cfg;
	struct snap_restored *rs;
	struct snap_load_req *req;
	uint64_t start_us;
	bool built; /* by snap_load_prepare, its state not restored yet */
};

/*
 * The VM from the CONFIG frame, while the source still sends RAM (into the
 * memfd it maps: nothing reads or writes guest memory before the state is
 * restored, so the pages written later are the ones it sees).
 */
static int sink_prepare(struct mig_sink *s, struct mig_rx *rx, char *err, size_t errlen)
{
	int r;

	s->req->img = &rx->config;
	s->req->mem_fd = s->memfd;
	r = snap_load_prepare(s->vm, s->cfg, s->rs, s->req, s->start_us, err, errlen);
	s->built = !r;
	if (!r)
		log_info("migration: the VM is built ahead (%u vCPUs, %llu MiB, %u devices)",
			 s->vm->nr_vcpus, (unsigned long long)s->cfg->mem_mib, s->vm->nr_devs);
	return r;
}

/* The final state into the VM: into the one built ahead, or a whole load. */
static int sink_finish(struct mig_sink *s, struct mig_rx *rx, char *err, size_t errlen)
{
	int r = 0;

	if (s->built) {
		s->built = false;
		r = snap_load_finish(s->vm, s->cfg, s->rs, s->req, &rx->img, err, errlen);
		if (r != -ESTALE)
			return r;
		log_warn("migration: %s: building the VM again from its final state", err);
		vm_destroy(s->vm);
		snap_restored_release(s->rs);
	}
	s->req->img = &rx->img;
	s->req->mem_fd = s->memfd;
	return snap_load(s->vm, s->cfg, s->rs, s->req, s->start_us, err, errlen);
}

static int store_pages(void *ctx, uint64_t off, const uint8_t *data, uint32_t n)
{
	struct mig_sink *s = ctx;
	size_t len = (size_t)n * MIG_PAGE;

	while (len) {
		ssize_t w = pwrite(s->memfd, data, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		data += w, off += (uint64_t)w, len -= (size_t)w;
	}
	return 0;
}

/* Frames until END; RAM into a memfd sized by HELLO.  Nothing runs from here. */
static int rx_stream(int fd, struct mig_rx *rx, struct mig_sink *s, char *err, size_t errlen)
{
	uint8_t hdr[MIG_HDR_SIZE], *buf = NULL;
	int r = 0;

	while (!r && rx->state != MIG_RX_DONE) {
		uint64_t len;
		uint32_t type;

		r = migrate_recv_all(fd, hdr, sizeof(hdr));
		if (r) {
			snprintf(err, errlen, "migration stream cut: %s", strerror(-r));
			break;
		}
		r = mig_rx_header(rx, hdr, &type, &len, err, errlen);
		if (r)
			break;
		/* Bounded by mig_rx_header: at most the state's cap (64 MiB). */
		buf = malloc(len ? len : 1);
		if (!buf) {
			snprintf(err, errlen, "out of memory receiving %llu bytes",
				 (unsigned long long)len);
			r = -ENOMEM;
			break;
		}
		r = migrate_recv_all(fd, buf, len);
		if (r)
			snprintf(err, errlen, "migration stream cut: %s", strerror(-r));
		else
			r = mig_rx_frame(rx, hdr, buf, err, errlen);
		free(buf);
		if (!r && rx->state == MIG_RX_PAGES && s->memfd < 0) {
			s->memfd = memfd_create("ember-migrated-ram", MFD_CLOEXEC);
			if (s->memfd < 0 || ftruncate(s->memfd, (off_t)rx->mem_bytes)) {
				r = -errno;
				snprintf(err, errlen, "cannot hold %llu bytes of RAM: %s",
					 (unsigned long long)rx->mem_bytes, strerror(errno));
			}
		}
		if (!r && rx->config.buf && !s->built && rx->state == MIG_RX_PAGES && !rx->pages_rx)
			r = sink_prepare(s, rx, err, errlen);
	}
	return r;
}

static int tx_answer(int fd, uint64_t nonce, int result, const char *msg)
{
	struct mig_part part = {msg, result ? strnlen(msg, MIG_MAX_ERR) : 0};
	uint8_t hdr[MIG_HDR_SIZE];
	int r;

	mig_hdr_encode(hdr, nonce, result ? MIG_FR_ERR : MIG_FR_OK, 0, &part, 1);
	r = migrate_send_all(fd, hdr, sizeof(hdr));
	return !r && part.len ? migrate_send_all(fd, part.p, part.len) : r;
}

/*
 * After an ERR: the source only hears it between two of its frames, and a
 * TCP socket closed with unread data answers with a reset that can take
 * the ERR with it.  So read what is still coming until the source hangs up
 * (within a frame, migrate.c: tx_refused), bounded in time and bytes.
 */
static void drain_source(int fd)
{
	struct timeval tv = {.tv_sec = 2};
	static const size_t max = 64u << 20;
	uint8_t buf[16384];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (total < max &&
	       ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)))
		total += n > 0 ? (size_t)n : 0;
}

int migrate_receive(struct migrate_dest *d, struct vm *vm, struct vm_config *cfg,
		    struct snap_restored *rs, struct snap_load_req *req, uint64_t start_us,
		    bool *paused, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = MIG_RECV_TIMEOUT_S};
	uint8_t gr[MIG_GREETING_SIZE];
	struct mig_sink sink = {
	    .memfd = -1, .vm = vm, .cfg = cfg, .rs = rs, .req = req, .start_us = start_us};
	uint64_t nonce, t0 = time_now_us();
	struct mig_rx rx;
	int fd, r;

	fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "accepting the source: %s", strerror(errno));
		return -errno;
	}
	migrate_dest_close(d); /* one source only */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The nonce every frame's CRC covers: a recorded stream cannot be replayed here. */
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		close(fd);
		return -EIO;
	}
	mig_greeting_encode(gr, nonce);
	mig_rx_init(&rx, nonce);
	rx.pages = store_pages;
	rx.ctx = &sink;
	r = migrate_send_all(fd, gr, sizeof(gr));
	if (r)
		snprintf(err, errlen, "greeting the source: %s", strerror(-r));
	else
		r = rx_stream(fd, &rx, &sink, err, errlen);
	if (!r) {
		r = sink_finish(&sink, &rx, err, errlen);
		*paused = rx.end_flags & MIG_END_PAUSED;
	} else if (sink.built) { /* the stream failed after CONFIG */
		vm_destroy(vm);
		snap_restored_release(rs);
	}
	/* A source that cannot hear the OK resumes its VM: this one must not run too. */
	if (tx_answer(fd, nonce, r, err) && !r) {
		snprintf(err, errlen, "the source left before the VM could start here");
		vm_destroy(vm);
		snap_restored_release(rs);
		r = -ECONNRESET;
	}
	if (r)
		drain_source(fd);
	log_info("migration: received %llu pages, %llu bytes in %llu ms: %s",
		 (unsigned long long)rx.pages_rx, (unsigned long long)rx.bytes_rx,
		 (unsigned long long)(time_now_us() - t0) / 1000, r ? err : "ok");
	if (sink.memfd >= 0)
		close(sink.memfd);
	mig_rx_free(&rx);
	close(fd);
	return r;
}
