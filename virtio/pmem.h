/* SPDX-License-Identifier: Apache-2.0 */
/* pmem.h - virtio-pmem's settings (pmem_config.c), shared with the device (pmem.c) and the API. */
#ifndef EMBER_PMEM_H
#define EMBER_PMEM_H

#include "device.h"
#include "limiter.h"

struct vpmem_config {
	char id[64];
	char path[4096];
	bool root, read_only;
	struct limiter_cfg limiter; /* counts flushes (ops) and the file's bytes per flush */
	/* Where the guest has it: 0 until created; a snapshot's pins the restore. */
	uint64_t gpa, size;
};

/* The vdev_type hooks: the CLI's PATH[,ro][,root][,id=NAME], rules, snapshot encoding. */
int vpmem_parse_spec(const char *spec, void *cfg, char *err, size_t errlen);
const char *vpmem_id(const void *cfg);
void vpmem_complete(void *cfg, unsigned nth);
int vpmem_check_set(const void *const cfgs[], unsigned n, char *err, size_t errlen);
bool vpmem_first(const void *cfg);
const char *vpmem_cmdline(const void *cfg, char *buf, size_t len);
struct limiter_cfg *vpmem_limiter(void *cfg, const char *which);
void vpmem_save(const void *cfg, struct pw *w);
void vpmem_load(struct pr *r, uint16_t version, void *cfg);

#endif /* EMBER_PMEM_H */
