/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_BALLOON_H
#define EMBER_BALLOON_H

#include <jansson.h>

#include "ember.h"
#include "persist.h"

/*
 * virtio-balloon (virtio 1.1 section 5.5), as Firecracker configures it:
 * a target size the host sets (amount_mib), the guest's inflate and deflate
 * queues, and the optional statistics, free page hinting and free page
 * reporting queues.  Pages the guest puts into the balloon, hints or
 * reports go back to the host with gm_discard().
 */

#define VBALLOON_NR_STATS      16 /* Linux's VIRTIO_BALLOON_S_* tags 0..15, as Firecracker's */
#define VBALLOON_PAGES_PER_MIB 256u
#define VBALLOON_MAX_MIB       (UINT32_MAX / VBALLOON_PAGES_PER_MIB) /* num_pages is a u32 */
#define VBALLOON_HINT_STOP     0u /* VIRTIO_BALLOON_CMD_ID_STOP */
#define VBALLOON_HINT_DONE     1u /* VIRTIO_BALLOON_CMD_ID_DONE */

/* The guest's last statistics: tag i is valid when bit i of present is set. */
struct vballoon_stats {
	uint32_t present;
	uint64_t val[VBALLOON_NR_STATS];
};

/*
 * The settings (CLI --balloon, PUT /balloon) and, since a snapshot saves a
 * device's config(), the state a restored balloon needs: what the guest
 * reported and where a hinting run stands.
 */
struct vballoon_config {
	char id[16]; /* "balloon": Firecracker has one */
	uint32_t amount_mib;
	bool deflate_on_oom, free_page_hinting, free_page_reporting;
	uint16_t stats_interval_s; /* 0: no statistics queue */

	/* ---- guest-visible state ---- */
	uint32_t actual_pages;	 /* the driver's "actual" config field */
	uint32_t hint_cmd;	 /* free_page_hint_cmd_id the host set */
	uint32_t hint_last_id;	 /* the last run id started (ids >= 2) */
	uint32_t hint_guest_cmd; /* the last command id the guest sent */
	bool hint_guest_set;	 /* hint_guest_cmd means something */
	bool hint_ack_on_stop;	 /* answer the guest's STOP with DONE */
	struct vballoon_stats stats;
};

/* --balloon amount_mib=N[,deflate_on_oom][,stats=S][,hinting][,reporting] */
int vballoon_config_parse(const char *spec, void *cfg, char *err, size_t errlen);
const char *vballoon_config_id(const void *cfg);
/* The device's counters (VMM thread, under the transport lock). */
struct vballoon_counters {
	uint64_t inflated_pages, deflated_pages;
	uint64_t bad_chains;	/* unwalkable, wrong direction, odd or oversized */
	uint64_t outside_bytes; /* pages or blocks outside guest RAM, or unaligned */
	uint64_t discard_fails; /* madvise refused */
	uint64_t stats_updates, stats_unknown;
	uint64_t hinted_bytes, reported_bytes;
	uint64_t inflate_count, deflate_count; /* chains, as Firecracker's *_count */
	uint64_t hint_count, report_count;     /* ranges given back (or tried) */
	uint64_t hint_fails, report_fails;     /* ranges not wholly given back */
};
/* Its metrics: ember's names and Firecracker's (BalloonDeviceMetrics). */
json_t *vballoon_config_metrics(const struct vballoon_config *c, const struct vballoon_counters *s);
void vballoon_config_save(const void *cfg, struct pw *w);
void vballoon_config_load(struct pr *r, uint16_t version, void *cfg);

/*
 * A live device, from the VMM thread (API commands).  0, or -errno with a
 * message logged (the API's fault_message).
 */
/* PATCH /balloon: a new target, at most the guest's memory. */
int vballoon_set_target(void *dev, uint32_t amount_mib);
/* PATCH /balloon/statistics: a new non-zero interval; statistics cannot be
 * switched on or off on a live device.  Refreshes the statistics now. */
int vballoon_set_stats_interval(void *dev, uint16_t interval_s);
/* GET /balloon/statistics: -ENOTSUP when statistics are off. */
int vballoon_get_stats(void *dev, uint32_t *target_pages, uint32_t *actual_pages,
		       struct vballoon_stats *st);
/* Free page hinting: -ENOTSUP when the device was configured without it. */
int vballoon_hint_start(void *dev, bool ack_on_stop);
int vballoon_hint_stop(void *dev);
int vballoon_hint_status(void *dev, uint32_t *host_cmd, bool *has_guest_cmd, uint32_t *guest_cmd);

#endif /* EMBER_BALLOON_H */
