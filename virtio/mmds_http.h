/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds_http.h - the guest's HTTP requests to the MMDS, answered from the
 * store as Firecracker answers them: GET a path (IMDS text or JSON, by
 * Accept and imds_compat), V2's PUT /latest/api/token and its tokens.
 */
#ifndef EMBER_MMDS_HTTP_H
#define EMBER_MMDS_HTTP_H

#include "ember.h"

struct mmds;

/* The largest request (line, headers and body) a connection buffers. */
#define MMDS_HTTP_REQ_MAX 2500

/*
 * One request from the start of @req (@len bytes).  Returns 0 while it is
 * incomplete, else the bytes it used, with the malloc'ed response in *out
 * (*out_len bytes; NULL if out of memory) and *close when the connection is
 * to end after it (HTTP/1.0, "Connection: close", a malformed request).
 */
size_t mmds_http_serve(struct mmds *store, const uint8_t *req, size_t len, uint64_t now_ms,
		       char **out, size_t *out_len, bool *close);

#endif /* EMBER_MMDS_HTTP_H */
