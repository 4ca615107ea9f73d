// SPDX-License-Identifier: Apache-2.0
/*
 * MMDS V2 session tokens: base64(expiry_ms (u64 LE) | MAC1 | MAC2), where
 * MACn is SipHash-2-4 of the expiry under key n.  SipHash is a keyed PRF
 * built for short inputs, so without the keys nobody makes a valid token or
 * stretches one's expiry; two independent 64-bit MACs make a guess cost
 * 2^-128.  Comparison is constant-time.
 */
#include <string.h>
#include <sys/random.h>

#include "mmds_token.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define TOKEN_RAW  24 /* 8 expiry + 2 x 8 MAC */

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return x;
}

uint64_t mmds_siphash(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
			 key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull};
	uint64_t m, last = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int mmds_keys_init(struct mmds_keys *keys)
{
	ssize_t n = getrandom(keys->k, sizeof(keys->k), GRND_NONBLOCK);

	return n == (ssize_t)sizeof(keys->k) ? 0 : -EAGAIN;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void token_raw(const struct mmds_keys *keys, uint64_t expiry_ms, uint8_t raw[TOKEN_RAW])
{
	for (int i = 0; i < 8; i++)
		raw[i] = (uint8_t)(expiry_ms >> (8 * i));
	for (int k = 0; k < 2; k++) {
		uint64_t mac = mmds_siphash(&keys->k[2 * k], raw, 8);

		for (int i = 0; i < 8; i++)
			raw[8 + 8 * k + i] = (uint8_t)(mac >> (8 * i));
	}
}

void mmds_token_make(const struct mmds_keys *keys, uint64_t expiry_ms, char *out)
{
	uint8_t raw[TOKEN_RAW];
	char *o = out;

	token_raw(keys, expiry_ms, raw);
	/* 24 bytes are 8 groups of 3: no padding. */
	for (int i = 0; i < TOKEN_RAW; i += 3) {
		uint32_t g = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		*o++ = b64[(g >> 18) & 63];
		*o++ = b64[(g >> 12) & 63];
		*o++ = b64[(g >> 6) & 63];
		*o++ = b64[g & 63];
	}
	*o = '\0';
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

bool mmds_token_check(const struct mmds_keys *keys, const char *tok, size_t len, uint64_t now_ms)
{
	uint8_t raw[TOKEN_RAW], want[TOKEN_RAW], diff = 0;
	uint64_t expiry;

	if (len != MMDS_TOKEN_LEN)
		return false;
	for (size_t i = 0, o = 0; i < len; i += 4, o += 3) {
		int a = b64_val(tok[i]), b = b64_val(tok[i + 1]), c = b64_val(tok[i + 2]),
		    d = b64_val(tok[i + 3]);
		uint32_t g;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return false;
		g = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		raw[o] = (uint8_t)(g >> 16);
		raw[o + 1] = (uint8_t)(g >> 8);
		raw[o + 2] = (uint8_t)g;
	}
	expiry = le64(raw);
	token_raw(keys, expiry, want);
	for (int i = 8; i < TOKEN_RAW; i++)
		diff |= raw[i] ^ want[i];
	return diff == 0 && now_ms < expiry;
}
