// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for a live fork's request as a child reads it (vmm/fork_msg.c):
 * the 16-byte header, then the JSON document behind it.  The child trusts
 * its parent, but a request is still checked whole; any crash, leak or
 * sanitizer report is a bug, refusals are the point.  The seed is a good
 * request; `make fuzz` replays it and 2000 mutations (driver.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fork_msg.h"

#define FUZZ_HAVE_SEEDS
#include "driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fork_msg m;
	char err[FORK_MAX_ERR];
	uint32_t jl;

	if (size < FORK_MSG_HDR || fork_msg_header(data, &jl, err, sizeof(err)))
		return 0;
	if (jl > size - FORK_MSG_HDR)
		jl = (uint32_t)(size - FORK_MSG_HDR);
	(void)fork_msg_decode((const char *)data + FORK_MSG_HDR, jl, 64u << 20, &m, err,
			      sizeof(err));
	return 0;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	struct fork_msg m = {.paused = true, .log_level = 2, .state_len = 4096, .nr_nets = 1};
	unsigned n = 0;
	uint8_t *buf;
	size_t len;

	strcpy(m.api_sock, "/run/c1.sock");
	strcpy(m.serial_out_path, "/run/c1.out");
	strcpy(m.vsock_uds, "/run/v1.sock");
	strcpy(m.nets[0].iface_id, "eth0");
	strcpy(m.nets[0].host_dev_name, "tap1");
	if (max < 1 || fork_msg_encode(&m, &buf, &len))
		return 0;
	fuzz_seed_add(s, &n, "request", buf, len);
	free(buf);
	return n;
}
