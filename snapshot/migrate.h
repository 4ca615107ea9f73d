/* SPDX-License-Identifier: Apache-2.0 */
/*
 * migrate.h - live migration between two ember processes (issue 17), the
 * VMM thread's side (snapshot/migrate.c); the wire format is
 * migrate_stream.h, the API's side api-socket/api_migrate.c.
 *
 * The source sends guest RAM while the guest runs (pre-copy), then the
 * pages it dirtied, round after round, until the rest fits the downtime
 * budget; then it pauses the VM and sends the last pages and the snapshot
 * state (snap_state_build).  The destination keeps everything in a memfd
 * and its heap until END, then builds the VM with snap_load, as a restore.
 * Disks and taps are not copied: they must exist at the destination.
 */
#ifndef EMBER_MIGRATE_H
#define EMBER_MIGRATE_H

#include "migrate_stream.h"
#include "snapshot.h"
#include "vm.h"

/* The destination's listening end ("unix:/path" or "tcp:ADDRESS:PORT"). */
struct migrate_dest {
	int lfd;
	char unix_path[108]; /* removed when closed */
};

int migrate_listen(struct migrate_dest *d, const char *url, char *err, size_t errlen);
void migrate_dest_close(struct migrate_dest *d);

/*
 * Accepts the source, receives and checks the whole stream, then builds
 * @vm as snap_load does (@req: the overrides; its img and mem_fd are set
 * here) and answers the source.  *@paused: start the vCPUs paused.  On
 * failure nothing is built and the source is told why.
 */
int migrate_receive(struct migrate_dest *d, struct vm *vm, struct vm_config *cfg,
		    struct snap_restored *rs, struct snap_load_req *req, uint64_t start_us,
		    bool *paused, char *err, size_t errlen);

/*
 * The source, on the VMM thread: 0 once the destination runs the VM (the
 * caller then ends this one), or -errno with @err; the VM then runs (or
 * stays paused) as before.  @step runs between frames so the event loop
 * keeps serving devices during the pre-copy rounds.
 */
struct migrate_send_req {
	const char *url;
	uint32_t max_downtime_ms;
	void (*step)(void *ctx);
	void *ctx;
};

int migrate_send(struct vm *vm, const struct migrate_send_req *req, char *err, size_t errlen);

/* ---- shared by migrate.c and migrate_recv.c -------------------------------- */

#include <sys/socket.h>

/* Whole buffers over a stream socket: 0, or -errno (-ECONNRESET when the peer left). */
int migrate_send_all(int fd, const void *p, size_t len);
int migrate_recv_all(int fd, void *p, size_t len);

#endif /* EMBER_MIGRATE_H */
