/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds_store.h - the microVM metadata service's data store, as Firecracker
 * has it: one JSON document the API writes (PUT /mmds, PATCH /mmds as an
 * RFC 7396 merge patch, bounded by a size limit) and the guest reads over
 * HTTP (api-socket/api_mmds.c is the API end, virtio/mmds_*.c the guest's),
 * the MMDS configuration (PUT /mmds/config) and V2's session tokens.
 *
 * Threads: the API thread writes, the VMM thread reads while it answers the
 * guest; every function takes the store's mutex, so a reader never sees half
 * a PATCH.  The document is never handed out: readers get a rendered copy.
 */
#ifndef EMBER_MMDS_STORE_H
#define EMBER_MMDS_STORE_H

#include <jansson.h>

#include "ember.h"

/* Firecracker's --mmds-size-limit default: the API's max payload (51200). */
#define MMDS_DEFAULT_LIMIT 51200u
#define MMDS_DEFAULT_IPV4  0xa9fea9feu /* 169.254.169.254, host order */
#define MMDS_MAX_IFACES	   8u
#define MMDS_IFACE_MAX	   64u /* iface_id, NUL included */
#define MMDS_TOKEN_TTL_MIN 1u
#define MMDS_TOKEN_TTL_MAX 21600u
#define MMDS_TOKEN_LEN	   32u /* base64 of expiry and MAC, without NUL */
#define MMDS_TOKEN_PATH	   "/latest/api/token"

enum mmds_version { MMDS_V1 = 1, MMDS_V2 = 2 };

/* PUT /mmds/config, plain data. */
struct mmds_config {
	bool set; /* configured (PUT /mmds/config or a restored snapshot) */
	enum mmds_version version;
	uint32_t ipv4; /* host order */
	bool imds_compat;
	char ifaces[MMDS_MAX_IFACES][MMDS_IFACE_MAX];
	unsigned nr_ifaces;
};

/* How a path of the document is answered to the guest. */
enum mmds_format { MMDS_FMT_IMDS, MMDS_FMT_JSON };

struct mmds;

/* A store with @limit bytes at most (0: MMDS_DEFAULT_LIMIT); 0 or -errno. */
int mmds_create(struct mmds **out, size_t limit);
void mmds_destroy(struct mmds *m);
/* --mmds-size-limit: the serialized document's largest size in bytes. */
void mmds_set_limit(struct mmds *m, size_t limit);
size_t mmds_get_limit(struct mmds *m);

/* PUT /mmds: the whole document.  0, or -EFBIG over the limit (nothing changes). */
int mmds_put(struct mmds *m, const json_t *doc);
/* PATCH /mmds: a merge patch.  0, -ENODATA before any PUT, -EFBIG over the limit. */
int mmds_patch(struct mmds *m, const json_t *patch);
/* GET /mmds: the document, "{}" before any PUT; malloc'ed, NULL on ENOMEM. */
char *mmds_get(struct mmds *m);
/* The snapshot rule: a restored VM starts with no document. */
void mmds_clear(struct mmds *m);

void mmds_set_config(struct mmds *m, const struct mmds_config *c);
void mmds_get_config(struct mmds *m, struct mmds_config *c);
/*
 * Is MMDS served on @iface_id?  Then *ipv4 is its address.  A restored NIC
 * that had MMDS adds itself with mmds_restore_iface (the snapshot keeps the
 * version and the address, not the document).
 */
bool mmds_iface_enabled(struct mmds *m, const char *iface_id, uint32_t *ipv4);
void mmds_restore_iface(struct mmds *m, const char *iface_id, uint32_t ipv4, enum mmds_version v,
			bool imds_compat);

/*
 * The guest's GET of @path ("/a/b", trailing '/' allowed): 0 and a
 * malloc'ed body in *out (*fmt_out: the format used, which imds_compat may
 * force), -ENOENT no such path, -ENOTSUP a value IMDS cannot show (not an
 * object or string), -ENOMEM.
 */
int mmds_render(struct mmds *m, const char *path, enum mmds_format fmt, char **out, size_t *len,
		enum mmds_format *fmt_out);
enum mmds_version mmds_version(struct mmds *m);

/* V2 session tokens (mmds_token.c).  @now_ms: CLOCK_MONOTONIC, in ms. */
/* A token valid @ttl_s seconds into @out (MMDS_TOKEN_LEN + 1); -EINVAL bad ttl. */
int mmds_token_new(struct mmds *m, uint32_t ttl_s, uint64_t now_ms, char *out);
bool mmds_token_valid(struct mmds *m, const char *tok, size_t len, uint64_t now_ms);
/*
 * A guest GET's token (@tok NULL: none): true if valid.  Counted as
 * Firecracker's rx_no_token / rx_invalid_token, in V1 too, where the answer
 * does not depend on it.  VMM thread only, as the counts' reader.
 */
bool mmds_token_get_ok(struct mmds *m, const char *tok, uint64_t now_ms);
void mmds_token_counts(const struct mmds *m, uint64_t *no_token, uint64_t *bad_token);

/* The merge patch itself (RFC 7396), exposed for tests: a new reference or NULL. */
json_t *mmds_merge_patch(const json_t *target, const json_t *patch);

#endif /* EMBER_MMDS_STORE_H */
