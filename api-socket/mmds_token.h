/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmds_token.h - internal to the MMDS store: V2 session tokens.
 *
 * A token is its expiry time and a MAC over it (SipHash-2-4 under two
 * random keys drawn when the store is made), base64-encoded: nothing is
 * kept per token, so a guest asking for tokens in a loop costs no memory
 * and cannot push out anyone's token, which is Firecracker's property too
 * (its tokens are the expiry sealed with AES-GCM).  A new process (a
 * restored snapshot) has new keys: old tokens are refused there.
 */
#ifndef EMBER_MMDS_TOKEN_H
#define EMBER_MMDS_TOKEN_H

#include "mmds_store.h"

struct mmds_keys {
	uint64_t k[4]; /* two 128-bit SipHash keys */
};

/* Random keys (getrandom); 0 or -errno. */
int mmds_keys_init(struct mmds_keys *keys);
/* The token for @expiry_ms into @out (MMDS_TOKEN_LEN chars and a NUL). */
void mmds_token_make(const struct mmds_keys *keys, uint64_t expiry_ms, char *out);
/* Well-formed, ours and not expired at @now_ms. */
bool mmds_token_check(const struct mmds_keys *keys, const char *tok, size_t len, uint64_t now_ms);
/* SipHash-2-4 of @len bytes under a 128-bit key (exposed for its test vector). */
uint64_t mmds_siphash(const uint64_t key[2], const uint8_t *in, size_t len);

#endif /* EMBER_MMDS_TOKEN_H */
