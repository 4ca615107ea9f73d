// SPDX-License-Identifier: Apache-2.0
/*
 * The MMDS data store (mmds_store.h).  The document is a jansson tree
 * guarded by one mutex: the API thread replaces or patches it, the VMM
 * thread renders a path of it for the guest.  A write is built on a copy
 * and swapped in only when it fits the limit, so a refused PUT or PATCH
 * leaves the document as it was, as Firecracker's does.  The size is the
 * compact serialisation's, which is what Firecracker measures too.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mmds_token.h"

struct mmds {
	pthread_mutex_t lock;
	json_t *doc; /* NULL until the first PUT */
	size_t limit;
	struct mmds_config cfg;
	struct mmds_keys keys; /* set at create, read-only after */
	/* Firecracker's rx_no_token / rx_invalid_token; VMM thread only. */
	uint64_t gets_no_token, gets_bad_token;
};

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

int mmds_create(struct mmds **out, size_t limit)
{
	struct mmds *m = calloc(1, sizeof(*m));
	int r;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	r = mmds_keys_init(&m->keys);
	if (r) {
		free(m);
		return r;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->limit = limit ? limit : MMDS_DEFAULT_LIMIT;
	m->cfg.version = MMDS_V1;
	m->cfg.ipv4 = MMDS_DEFAULT_IPV4;
	*out = m;
	return 0;
}

void mmds_destroy(struct mmds *m)
{
	if (!m)
		return;
	json_decref(m->doc);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void mmds_set_limit(struct mmds *m, size_t limit)
{
	pthread_mutex_lock(&m->lock);
	m->limit = limit ? limit : MMDS_DEFAULT_LIMIT;
	pthread_mutex_unlock(&m->lock);
}

size_t mmds_get_limit(struct mmds *m)
{
	size_t l;

	pthread_mutex_lock(&m->lock);
	l = m->limit;
	pthread_mutex_unlock(&m->lock);
	return l;
}

/* Does @doc serialise to at most @limit bytes? */
static bool mmds_fits(const json_t *doc, size_t limit)
{
	size_t n = json_dumpb(doc, NULL, 0, DUMP_FLAGS);

	return n != 0 && n <= limit;
}

json_t *mmds_merge_patch(const json_t *target, const json_t *patch)
{
	const char *key;
	json_t *out, *v;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (!out)
		return NULL;
	json_object_foreach((json_t *)patch, key, v)
	{
		json_t *merged;

		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		merged = mmds_merge_patch(json_object_get(out, key), v);
		if (!merged || json_object_set_new(out, key, merged)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Swaps @doc in if it fits; takes the reference either way. */
static int mmds_replace(struct mmds *m, json_t *doc)
{
	if (!doc)
		return -ENOMEM;
	if (!mmds_fits(doc, m->limit)) {
		json_decref(doc);
		return -EFBIG;
	}
	json_decref(m->doc);
	m->doc = doc;
	return 0;
}

int mmds_put(struct mmds *m, const json_t *doc)
{
	json_t *copy = json_deep_copy(doc);
	int r;

	pthread_mutex_lock(&m->lock);
	r = mmds_replace(m, copy);
	pthread_mutex_unlock(&m->lock);
	return r;
}

int mmds_patch(struct mmds *m, const json_t *patch)
{
	int r = -ENODATA;

	pthread_mutex_lock(&m->lock);
	if (m->doc)
		r = mmds_replace(m, mmds_merge_patch(m->doc, patch));
	pthread_mutex_unlock(&m->lock);
	return r;
}

char *mmds_get(struct mmds *m)
{
	char *s;

	pthread_mutex_lock(&m->lock);
	s = m->doc && !json_is_null(m->doc) ? json_dumps(m->doc, DUMP_FLAGS) : strdup("{}");
	pthread_mutex_unlock(&m->lock);
	return s;
}

void mmds_clear(struct mmds *m)
{
	pthread_mutex_lock(&m->lock);
	json_decref(m->doc);
	m->doc = NULL;
	pthread_mutex_unlock(&m->lock);
}

void mmds_set_config(struct mmds *m, const struct mmds_config *c)
{
	pthread_mutex_lock(&m->lock);
	m->cfg = *c;
	m->cfg.set = true;
	pthread_mutex_unlock(&m->lock);
}

void mmds_get_config(struct mmds *m, struct mmds_config *c)
{
	pthread_mutex_lock(&m->lock);
	*c = m->cfg;
	pthread_mutex_unlock(&m->lock);
}

enum mmds_version mmds_version(struct mmds *m)
{
	enum mmds_version v;

	pthread_mutex_lock(&m->lock);
	v = m->cfg.version;
	pthread_mutex_unlock(&m->lock);
	return v;
}

static int mmds_iface_index(const struct mmds_config *c, const char *id)
{
	for (unsigned i = 0; i < c->nr_ifaces; i++)
		if (!strcmp(c->ifaces[i], id))
			return (int)i;
	return -1;
}

bool mmds_iface_enabled(struct mmds *m, const char *iface_id, uint32_t *ipv4)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->cfg.set && mmds_iface_index(&m->cfg, iface_id) >= 0;
	*ipv4 = m->cfg.ipv4;
	pthread_mutex_unlock(&m->lock);
	return on;
}

void mmds_restore_iface(struct mmds *m, const char *iface_id, uint32_t ipv4, enum mmds_version v,
			bool imds_compat)
{
	struct mmds_config *c = &m->cfg;

	pthread_mutex_lock(&m->lock);
	c->set = true;
	c->version = v;
	c->ipv4 = ipv4;
	c->imds_compat = imds_compat;
	if (mmds_iface_index(c, iface_id) < 0 && c->nr_ifaces < MMDS_MAX_IFACES &&
	    strlen(iface_id) < MMDS_IFACE_MAX)
		strcpy(c->ifaces[c->nr_ifaces++], iface_id);
	pthread_mutex_unlock(&m->lock);
}

/* RFC 6901: "~1" is '/', "~0" is '~'; anything else after '~' is no key. */
static bool mmds_unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '~') {
			out[o++] = s[i];
			continue;
		}
		if (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1'))
			return false;
		out[o++] = s[++i] == '0' ? '~' : '/';
	}
	out[o] = '\0';
	return true;
}

/* An array index as RFC 6901 spells it: digits, no leading zero. */
static bool mmds_index(const char *s, size_t *idx)
{
	size_t v = 0;

	if (!s[0] || (s[0] == '0' && s[1]))
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (SIZE_MAX - 9) / 10)
			return false;
		v = v * 10 + (size_t)(*p - '0');
	}
	*idx = v;
	return true;
}

/* The JSON pointer @path (one trailing '/' dropped, as Firecracker does). */
static json_t *mmds_lookup(json_t *doc, const char *path, char *key)
{
	size_t len = strlen(path);
	const char *p = path;

	if (len && path[len - 1] == '/')
		len--;
	if (len && path[0] != '/')
		return NULL;
	while (doc && p < path + len) {
		const char *seg = p + 1, *end = memchr(seg, '/', (size_t)(path + len - seg));
		size_t n = end ? (size_t)(end - seg) : (size_t)(path + len - seg), idx;

		if (!mmds_unescape(seg, n, key))
			return NULL;
		if (json_is_object(doc))
			doc = json_object_get(doc, key);
		else if (json_is_array(doc) && mmds_index(key, &idx))
			doc = json_array_get(doc, idx);
		else
			return NULL;
		p = seg + n;
	}
	return doc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* IMDS text: an object's keys, sorted, one a line, "/" after sub-objects; a string as is. */
static char *mmds_imds(json_t *v, int *err)
{
	size_t n, total = 1, i = 0;
	const char *key, **keys;
	json_t *x;
	char *s, *o;

	if (json_is_string(v))
		return strndup(json_string_value(v), json_string_length(v));
	if (!json_is_object(v)) {
		*err = -ENOTSUP;
		return NULL;
	}
	n = json_object_size(v);
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	json_object_foreach(v, key, x)
	{
		keys[i++] = key;
		total += strlen(key) + 2;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	s = o = malloc(total);
	for (i = 0; s && i < n; i++) {
		size_t kl = strlen(keys[i]);

		if (i)
			*o++ = '\n';
		memcpy(o, keys[i], kl);
		o += kl;
		if (json_is_object(json_object_get(v, keys[i])))
			*o++ = '/';
	}
	if (s)
		*o = '\0';
	free(keys);
	return s;
}

int mmds_render(struct mmds *m, const char *path, enum mmds_format fmt, char **out, size_t *len,
		enum mmds_format *fmt_out)
{
	char *key = malloc(strlen(path) + 1);
	json_t *v, *null = json_null();
	int err = -ENOMEM;
	char *s = NULL;

	*out = NULL;
	if (!key)
		return -ENOMEM;
	pthread_mutex_lock(&m->lock);
	/* Before the first PUT the document is null, as Firecracker's is. */
	v = mmds_lookup(m->doc ? m->doc : null, path, key);
	if (m->cfg.imds_compat)
		fmt = MMDS_FMT_IMDS; /* EC2's IMDS ignores Accept */
	if (!v)
		err = -ENOENT;
	else if (fmt == MMDS_FMT_JSON)
		s = json_dumps(v, DUMP_FLAGS);
	else
		s = mmds_imds(v, &err);
	pthread_mutex_unlock(&m->lock);
	free(key);
	if (!s)
		return err;
	*out = s;
	*len = strlen(s);
	*fmt_out = fmt;
	return 0;
}

int mmds_token_new(struct mmds *m, uint32_t ttl_s, uint64_t now_ms, char *out)
{
	if (ttl_s < MMDS_TOKEN_TTL_MIN || ttl_s > MMDS_TOKEN_TTL_MAX)
		return -EINVAL;
	mmds_token_make(&m->keys, now_ms + (uint64_t)ttl_s * 1000, out);
	return 0;
}

bool mmds_token_valid(struct mmds *m, const char *tok, size_t len, uint64_t now_ms)
{
	return mmds_token_check(&m->keys, tok, len, now_ms);
}

bool mmds_token_get_ok(struct mmds *m, const char *tok, uint64_t now_ms)
{
	if (!tok) {
		m->gets_no_token++;
		return false;
	}
	if (!mmds_token_valid(m, tok, strlen(tok), now_ms)) {
		m->gets_bad_token++;
		return false;
	}
	return true;
}

void mmds_token_counts(const struct mmds *m, uint64_t *no_token, uint64_t *bad_token)
{
	*no_token = m->gets_no_token;
	*bad_token = m->gets_bad_token;
}
