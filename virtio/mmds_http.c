// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.x for the guest's MMDS requests (mmds_http.h).  The parser is
 * small and strict: a request line, headers, an optional Content-Length
 * body, all within MMDS_HTTP_REQ_MAX bytes (the TCP layer resets a
 * connection whose request does not fit).  Statuses and messages are
 * Firecracker's (src/vmm/src/mmds/mod.rs), so guest code written against it
 * reads the same answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmds_http.h"
#include "mmds_store.h"

#define MSG_NO_TOKEN                                                                               \
	"No MMDS token provided. Use `X-metadata-token` or `X-aws-ec2-metadata-token` header "     \
	"to specify the session token."
#define MSG_NO_TTL                                                                                 \
	"Token time to live value not found. Use `X-metadata-token-ttl-seconds` or "               \
	"`X-aws-ec2-metadata-token-ttl-seconds` header to specify the token's lifetime."
#define MSG_BAD_TOKEN	"MMDS token not valid."
#define MSG_NO_METHOD	"Not allowed HTTP method."
#define MSG_BAD_URI	"Invalid URI."
#define MSG_UNSUPPORTED "Cannot retrieve value. The value has an unsupported type."

enum { HDR_ACCEPT, HDR_CONN, HDR_TOKEN, HDR_TTL, HDR_XFF, HDR_CLEN, HDR_N };

struct http_req {
	char method[8];
	char uri[MMDS_HTTP_REQ_MAX];
	bool http10;
	const char *hdr[HDR_N]; /* values, NUL-terminated in the copy */
	const char *hdr_name[HDR_N];
};

/* Each header with its AWS alias, as Firecracker takes either. */
static int http_header_id(const char *name)
{
	static const struct {
		const char *name;
		int id;
	} known[] = {
	    {"accept", HDR_ACCEPT},
	    {"connection", HDR_CONN},
	    {"x-metadata-token", HDR_TOKEN},
	    {"x-aws-ec2-metadata-token", HDR_TOKEN},
	    {"x-metadata-token-ttl-seconds", HDR_TTL},
	    {"x-aws-ec2-metadata-token-ttl-seconds", HDR_TTL},
	    {"x-forwarded-for", HDR_XFF},
	    {"content-length", HDR_CLEN},
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcasecmp(name, known[i].name))
			return known[i].id;
	return -1;
}

static char *http_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* The request line and headers in @head (NUL-terminated, CRLF lines); 0 or -EINVAL. */
static int http_parse_head(char *head, struct http_req *r)
{
	char *line = head, *next, *sp1, *sp2;

	next = strstr(line, "\r\n");
	if (!next)
		return -EINVAL;
	*next = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || (size_t)(sp1 - line) >= sizeof(r->method) || sp1 == line ||
	    strchr(sp2 + 1, ' '))
		return -EINVAL;
	memcpy(r->method, line, (size_t)(sp1 - line));
	r->method[sp1 - line] = '\0';
	*sp2 = '\0';
	snprintf(r->uri, sizeof(r->uri), "%s", sp1 + 1);
	if (!strcmp(sp2 + 1, "HTTP/1.0"))
		r->http10 = true;
	else if (strcmp(sp2 + 1, "HTTP/1.1"))
		return -EINVAL;
	for (line = next + 2; *line; line = next + 2) {
		char *colon;
		int id;

		next = strstr(line, "\r\n");
		if (!next)
			return -EINVAL;
		*next = '\0';
		colon = strchr(line, ':');
		if (!colon || colon == line)
			return -EINVAL;
		*colon = '\0';
		for (char *c = line; *c; c++)
			if (*c <= ' ' || *c >= 0x7f)
				return -EINVAL;
		id = http_header_id(line);
		if (id >= 0) {
			r->hdr[id] = http_trim(colon + 1);
			r->hdr_name[id] = line;
		}
	}
	return 0;
}

/* Firecracker's get_abs_path and sanitize_uri: the path of an absolute
 * URI, no query, runs of '/' as one. */
static void http_path(const char *uri, char *out, size_t size)
{
	const char *p = uri;
	size_t o = 0;

	if (!strncasecmp(p, "http://", 7)) {
		p = strchr(p + 7, '/');
		if (!p)
			p = "";
	}
	for (; *p && *p != '?' && o + 1 < size; p++)
		if (!(*p == '/' && o && out[o - 1] == '/'))
			out[o++] = *p;
	out[o] = '\0';
}

static const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Not Implemented";
	}
}

/* The response; @extra is whole header lines (CRLF each) or "". */
static void http_respond(const struct http_req *r, int status, bool json, const char *extra,
			 const char *body, size_t blen, char **out, size_t *out_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.%c %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n",
			 r->http10 ? '0' : '1', status, http_reason(status),
			 json ? "application/json" : "text/plain", extra, blen);

	*out = NULL;
	*out_len = 0;
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	*out = malloc((size_t)n + blen);
	if (!*out)
		return;
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, body, blen);
	*out_len = (size_t)n + blen;
}

static void http_text(const struct http_req *r, int status, const char *msg, char **out,
		      size_t *out_len)
{
	http_respond(r, status, false, "", msg, strlen(msg), out, out_len);
}

static void http_get(struct mmds *store, const struct http_req *r, const char *path,
		     uint64_t now_ms, char **out, size_t *out_len)
{
	enum mmds_format fmt = MMDS_FMT_IMDS, used;
	const char *tok = r->hdr[HDR_TOKEN];
	char msg[MMDS_HTTP_REQ_MAX + 32], *body;
	size_t blen;
	int rc;

	/* V1 checks (and counts) a token but answers either way, as Firecracker. */
	if (!mmds_token_get_ok(store, tok, now_ms) && mmds_version(store) == MMDS_V2) {
		http_text(r, 401, tok ? MSG_BAD_TOKEN : MSG_NO_TOKEN, out, out_len);
		return;
	}
	if (r->hdr[HDR_ACCEPT] && strstr(r->hdr[HDR_ACCEPT], "application/json"))
		fmt = MMDS_FMT_JSON;
	rc = mmds_render(store, path, fmt, &body, &blen, &used);
	if (rc == -ENOENT) {
		snprintf(msg, sizeof(msg), "Resource not found: %s.", r->uri);
		http_text(r, 404, msg, out, out_len);
	} else if (rc == -ENOTSUP) {
		http_text(r, 501, MSG_UNSUPPORTED, out, out_len);
	} else if (rc == 0) {
		http_respond(r, 200, used == MMDS_FMT_JSON, "", body, blen, out, out_len);
		free(body);
	} else {
		*out = NULL;
		*out_len = 0;
	}
}

static void http_put_token(struct mmds *store, const struct http_req *r, const char *path,
			   uint64_t now_ms, char **out, size_t *out_len)
{
	char msg[MMDS_HTTP_REQ_MAX + 160], tok[MMDS_TOKEN_LEN + 1], extra[128];
	const char *ttl = r->hdr[HDR_TTL];
	unsigned long v;
	char *end;

	/* A token must not be fetchable through a proxy in the guest. */
	if (r->hdr[HDR_XFF]) {
		snprintf(msg, sizeof(msg),
			 "Invalid header. Reason: Unsupported header name. Key: %s",
			 r->hdr_name[HDR_XFF]);
		http_text(r, 400, msg, out, out_len);
		return;
	}
	if (strcmp(path, MMDS_TOKEN_PATH)) {
		snprintf(msg, sizeof(msg), "Resource not found: %s.", r->uri);
		http_text(r, 404, msg, out, out_len);
		return;
	}
	if (!ttl) {
		http_text(r, 400, MSG_NO_TTL, out, out_len);
		return;
	}
	errno = 0;
	v = strtoul(ttl, &end, 10);
	if (!ttl[0] || *end || errno || v > UINT32_MAX || ttl[0] == '-' || ttl[0] == '+') {
		snprintf(msg, sizeof(msg),
			 "Invalid header. Reason: Invalid value. Key:%s; Value:%s",
			 r->hdr_name[HDR_TTL], ttl);
		http_text(r, 400, msg, out, out_len);
		return;
	}
	if (mmds_token_new(store, (uint32_t)v, now_ms, tok)) {
		snprintf(msg, sizeof(msg),
			 "Invalid time to live value provided for token: %lu. Please provide a "
			 "value between %u and %u.",
			 v, MMDS_TOKEN_TTL_MIN, MMDS_TOKEN_TTL_MAX);
		http_text(r, 400, msg, out, out_len);
		return;
	}
	snprintf(extra, sizeof(extra), "%s: %lu\r\n", r->hdr_name[HDR_TTL], v);
	http_respond(r, 200, false, extra, tok, MMDS_TOKEN_LEN, out, out_len);
}

/* Where the head ends (after its blank line), or 0. */
static size_t http_head_end(const uint8_t *req, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (req[i] == '\r' && req[i + 1] == '\n' && req[i + 2] == '\r' &&
		    req[i + 3] == '\n')
			return i + 4;
	return 0;
}

size_t mmds_http_serve(struct mmds *store, const uint8_t *req, size_t len, uint64_t now_ms,
		       char **out, size_t *out_len, bool *close)
{
	size_t head_len = http_head_end(req, len), used;
	struct http_req *r;
	char *head, path[MMDS_HTTP_REQ_MAX];
	unsigned long clen = 0;

	*out = NULL;
	*out_len = 0;
	*close = false;
	if (!head_len)
		return 0;
	r = calloc(1, sizeof(*r));
	head = malloc(head_len - 1);
	if (!r || !head) {
		free(r);
		free(head);
		*close = true;
		return len;
	}
	memcpy(head, req, head_len - 2); /* the last CRLF stays, the blank line goes */
	head[head_len - 2] = '\0';
	if (memchr(req, '\0', head_len) || http_parse_head(head, r))
		goto bad;
	if (r->hdr[HDR_CLEN]) {
		char *end;

		clen = strtoul(r->hdr[HDR_CLEN], &end, 10);
		if (!r->hdr[HDR_CLEN][0] || *end || clen > MMDS_HTTP_REQ_MAX)
			goto bad;
	}
	used = head_len + clen;
	if (used > len) {
		free(head);
		free(r);
		return 0; /* the body is still coming */
	}
	*close = r->http10 || (r->hdr[HDR_CONN] && !strcasecmp(r->hdr[HDR_CONN], "close"));
	http_path(r->uri, path, sizeof(path));
	if (!path[0])
		http_text(r, 400, MSG_BAD_URI, out, out_len);
	else if (!strcmp(r->method, "GET"))
		http_get(store, r, path, now_ms, out, out_len);
	else if (!strcmp(r->method, "PUT"))
		http_put_token(store, r, path, now_ms, out, out_len);
	else
		http_respond(r, 405, false, "Allow: GET, PUT\r\n", MSG_NO_METHOD,
			     strlen(MSG_NO_METHOD), out, out_len);
	free(head);
	free(r);
	return used;
bad:
	/* Nothing after a malformed request can be trusted: answer and close. */
	r->http10 = false;
	http_text(r, 400, "Invalid request.", out, out_len);
	*close = true;
	free(head);
	free(r);
	return len;
}
