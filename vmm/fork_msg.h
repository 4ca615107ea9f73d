/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork_msg.h - what a live fork's parent tells each child (vmm/fork_msg.c),
 * byte level only, unit-tested.  Over the child's control socket (fd 3):
 *
 *   parent -> child   "EMBERFRK" (its first byte carries, SCM_RIGHTS, the file
 *                     guest RAM is mapped from), u32 LE FORK_MSG_VERSION, u32 LE length N,
 *                     N bytes of JSON (struct fork_msg below),
 *                     then state_len bytes: a snapshot state file (snapfile.h),
 *                     the one state format, checked by snap_parse; then, from
 *                     a parent forked before, its own pages (fork_pages.h).
 *   child -> parent   'K' (built, API socket ready) or 'E', u16 LE length, message
 *   parent -> child   'G' (every child is ready: run); EOF instead: exit
 *
 * RAM itself is never sent: the child maps that file privately.  A pooled
 * child (--fork-pool) may get a hint first, once its parent's VM exists:
 *
 *   parent -> child   'P' (carrying, SCM_RIGHTS, the file guest RAM is mapped
 *                     from), u8 flags (FORK_PREP_HUGE), u8 virtio slots N,
 *                     u8 0, u32 LE vCPUs, u64 LE MiB of RAM, then
 *                     FORK_PREP_MAX_SLOTS bytes: the queues of the device in
 *                     each slot (0 from slot N on): FORK_PREP_LEN bytes
 *
 * with which it maps RAM, makes its vCPUs (vm_pre_prepare) and registers
 * the queues' notifiers (vm_pre_notifiers) while it waits: they are the
 * slowest part of building a VM that needs no state.
 */
#ifndef EMBER_FORK_MSG_H
#define EMBER_FORK_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

#define FORK_MSG_MAGIC "EMBERFRK"
/* 2: RAM's fd with the header; 3: no 'R' after 'G'; 4: 'P'; 5: 'P' with the queues */
#define FORK_MSG_VERSION 5u
#define FORK_MSG_HDR	 16u
#define FORK_MSG_MAX	 (64u << 10) /* the JSON */
#define FORK_MAX_NETS	 8
#define FORK_MAX_ERR	 300u
#define FORK_MAX_PAGES	 (1ll << 28) /* 1 TiB of 4 KiB pages (CONFIG_MAX_MEM_MIB) */

struct fork_msg {
	char api_sock[108];
	char serial_out_path[4096]; /* "": the inherited stdout */
	char vsock_uds[108];	    /* "": the parent's */
	unsigned nr_nets;
	struct {
		char iface_id[64];
		char host_dev_name[16];
	} nets[FORK_MAX_NETS];
	char seccomp_filter[4096]; /* the parent's --seccomp-filter, "" none */
	bool paused, no_seccomp, allow_kvm_pvm;
	unsigned log_level; /* enum log_level */
	uint64_t state_len;
	uint64_t pages; /* the parent's own pages that follow the state (fork_pages.h) */
};

#define FORK_PREP_MAX_SLOTS  32u /* beyond any arch's MAX_VIRTIO_DEVS */
#define FORK_PREP_MAX_QUEUES 8u	 /* VIRTIO_MMIO_MAX_QUEUES */
#define FORK_PREP_LEN	     (16u + FORK_PREP_MAX_SLOTS)
#define FORK_PREP_HUGE	     1u		/* RAM on 2 MiB pages: not mapped ahead (fork_child.c) */
#define FORK_PREP_MAX_VCPUS  1024u	/* beyond any arch's MAX_VCPUS */
#define FORK_PREP_MAX_MIB    (1u << 20) /* CONFIG_MAX_MEM_MIB */

/* The machine a pooled child is made ready for. */
struct fork_prep {
	unsigned vcpus;
	uint64_t mem_mib;
	bool huge;
	unsigned nr_slots;		     /* virtio slots 0 .. nr_slots - 1 */
	uint8_t queues[FORK_PREP_MAX_SLOTS]; /* each one's device's queues, 1 .. MAX_QUEUES */
};

void fork_prep_encode(const struct fork_prep *p, uint8_t out[FORK_PREP_LEN]);
/* 0, or -EINVAL for anything but a well-formed hint within the bounds above. */
int fork_prep_decode(const uint8_t in[FORK_PREP_LEN], struct fork_prep *p);

/* malloc'ed header + JSON into *@out (*@len bytes), or -ENOMEM / -EINVAL. */
int fork_msg_encode(const struct fork_msg *m, uint8_t **out, size_t *len);
/* The 16-byte header: the JSON's length, or -EINVAL with @err. */
int fork_msg_header(const uint8_t hdr[FORK_MSG_HDR], uint32_t *json_len, char *err, size_t errlen);
/* The JSON: every field checked and bounded.  0 or -EINVAL with @err. */
int fork_msg_decode(const char *json, size_t len, uint64_t max_state, struct fork_msg *m, char *err,
		    size_t errlen);

#endif /* EMBER_FORK_MSG_H */
