// SPDX-License-Identifier: Apache-2.0
/*
 * The API socket's HTTP/1.1 parser and response writer.  Hand-written and
 * strict on purpose: the only clients are control planes (curl, SDKs), so
 * anything unusual is far more likely an attack or a bug than a legitimate
 * variant, and refusing it keeps the code small enough to reason about.
 * Lines are collected byte by byte into a fixed buffer, so no input can make
 * the parser allocate more than one body of at most max_payload bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ember.h"
#include "http.h"

const char http_continue_response[] = "HTTP/1.1 100 Continue\r\n\r\n";

static const char *const http_method_names[] = {
    [HTTP_GET] = "GET",
    [HTTP_PUT] = "PUT",
    [HTTP_PATCH] = "PATCH",
};

const char *http_method_name(enum http_method m)
{
	return (unsigned)m < sizeof(http_method_names) / sizeof(http_method_names[0])
		   ? http_method_names[m]
		   : "?";
}

static const struct {
	int status;
	const char *reason;
} http_reasons[] = {
    {100, "Continue"},		 {200, "OK"},
    {204, "No Content"},	 {400, "Bad Request"},
    {404, "Not Found"},		 {405, "Method Not Allowed"},
    {408, "Request Timeout"},	 {413, "Payload Too Large"},
    {417, "Expectation Failed"}, {500, "Internal Server Error"},
    {501, "Not Implemented"},	 {503, "Service Unavailable"},
};

const char *http_reason(int status)
{
	for (size_t i = 0; i < sizeof(http_reasons) / sizeof(http_reasons[0]); i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	return "Unknown";
}

void http_parser_init(struct http_parser *p, size_t max_payload)
{
	memset(p, 0, sizeof(*p));
	p->max_payload = max_payload ? max_payload : HTTP_MAX_PAYLOAD_DEFAULT;
	p->state = HTTP_ST_LINE;
}

void http_parser_free(struct http_parser *p)
{
	free(p->req.body);
	p->req.body = NULL;
}

void http_parser_next(struct http_parser *p)
{
	size_t max = p->max_payload;

	http_parser_free(p);
	http_parser_init(p, max);
}

bool http_parser_busy(const struct http_parser *p)
{
	return p->state == HTTP_ST_BODY || p->state == HTTP_ST_HEADERS || p->line_len > 0 ||
	       p->head_bytes > 0;
}

static enum http_parse_result http_fail(struct http_parser *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum http_parse_result http_fail(struct http_parser *p, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err_msg, sizeof(p->err_msg), fmt, ap);
	va_end(ap);
	p->err_status = status;
	p->state = HTTP_ST_ERR;
	return HTTP_PARSE_ERROR;
}

/* RFC 9110 tchar: what a method or header name may be made of. */
static bool http_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Request line: exactly METHOD SP TARGET SP VERSION, single spaces. */
static enum http_parse_result http_request_line(struct http_parser *p, char *line, size_t len)
{
	char *sp1 = memchr(line, ' ', len), *sp2, *target, *version;
	size_t mlen, tlen;
	unsigned i;

	if (!sp1)
		return http_fail(p, 400, "Invalid request line.");
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
	if (!sp2 || memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - line)))
		return http_fail(p, 400, "Invalid request line.");
	mlen = (size_t)(sp1 - line);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	if (!mlen || !tlen)
		return http_fail(p, 400, "Invalid request line.");
	for (i = 0; i < mlen; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return http_fail(p, 400, "Invalid request line.");
	for (i = 0; i < 3; i++)
		if (strlen(http_method_names[i]) == mlen &&
		    !memcmp(line, http_method_names[i], mlen))
			break;
	if (i == 3)
		return http_fail(p, 400, "Invalid HTTP Method: Unsupported HTTP method.");
	p->req.method = (enum http_method)i;

	*sp2 = '\0';
	if (!strcmp(version, "HTTP/1.1"))
		p->req.http10 = false;
	else if (!strcmp(version, "HTTP/1.0"))
		p->req.http10 = true;
	else
		return http_fail(p, 400, "Invalid HTTP Version: Unsupported HTTP version.");

	/* Absolute form (RFC 9112 3.2.2) must be accepted; keep only its path. */
	if (tlen > 7 && !strncasecmp(target, "http://", 7)) {
		char *slash = memchr(target + 7, '/', tlen - 7);

		if (!slash)
			return http_fail(p, 400, "Invalid URI: no path.");
		tlen -= (size_t)(slash - target);
		target = slash;
	}
	if (target[0] != '/')
		return http_fail(p, 400, "Invalid URI: the path must start with '/'.");
	if (tlen > HTTP_MAX_PATH)
		return http_fail(p, 400, "Invalid URI: longer than %u bytes.", HTTP_MAX_PATH);
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c < 0x21 || c > 0x7e)
			return http_fail(p, 400, "Invalid URI: control or non-ASCII byte.");
		if (c == '?' || c == '#')
			return http_fail(p, 400, "Invalid URI: query strings are not supported.");
	}
	memcpy(p->req.path, target, tlen);
	p->req.path[tlen] = '\0';
	p->state = HTTP_ST_HEADERS;
	return HTTP_PARSE_MORE;
}

/* Connection: a comma-separated token list; only close/keep-alive matter. */
static void http_connection_tokens(struct http_parser *p, const char *v)
{
	while (*v) {
		size_t n;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		n = strcspn(v, ", \t");
		if (n == 5 && !strncasecmp(v, "close", 5))
			p->conn_close = true;
		else if (n == 10 && !strncasecmp(v, "keep-alive", 10))
			p->conn_keep_alive = true;
		v += n;
	}
}

static enum http_parse_result http_header_line(struct http_parser *p, char *line, size_t len)
{
	char *colon = memchr(line, ':', len), *v, *end;
	size_t nlen;

	if (line[0] == ' ' || line[0] == '\t')
		return http_fail(p, 400, "Invalid header: folded header lines are not supported.");
	if (++p->nheaders > HTTP_MAX_HEADERS)
		return http_fail(p, 400, "Too many headers (more than %u).", HTTP_MAX_HEADERS);
	if (!colon || colon == line)
		return http_fail(p, 400, "Invalid header: no name.");
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!http_is_tchar((unsigned char)line[i]))
			return http_fail(p, 400, "Invalid header name.");
	*colon = '\0';
	v = colon + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	for (char *c = v; c < end; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return http_fail(p, 400, "Invalid header value for %s.", line);

	if (!strcasecmp(line, "Content-Length")) {
		uint64_t n;
		int rc = str_to_u64(v, UINT64_MAX, &n);

		if (rc == -ERANGE)
			return http_fail(p, 400, "Invalid Content-Length: too large.");
		if (rc)
			return http_fail(p, 400, "Invalid Content-Length: not a decimal number.");
		if (p->have_len && n != p->content_length)
			return http_fail(p, 400, "Conflicting Content-Length headers.");
		p->have_len = true;
		p->content_length = n;
	} else if (!strcasecmp(line, "Transfer-Encoding")) {
		return http_fail(p, 400,
				 "Transfer-Encoding is not supported: send a Content-Length body.");
	} else if (!strcasecmp(line, "Connection")) {
		http_connection_tokens(p, v);
	} else if (!strcasecmp(line, "Expect")) {
		if (strcasecmp(v, "100-continue"))
			return http_fail(p, 417, "Unsupported Expect header.");
		p->req.expect_continue = true;
	}
	return HTTP_PARSE_MORE;
}

static enum http_parse_result http_headers_done(struct http_parser *p)
{
	if (p->req.http10)
		p->req.keep_alive = p->conn_keep_alive && !p->conn_close;
	else
		p->req.keep_alive = !p->conn_close;
	if (!p->have_len || p->content_length == 0) {
		p->state = HTTP_ST_DONE;
		return HTTP_PARSE_READY;
	}
	if (p->content_length > p->max_payload)
		return http_fail(p, 400,
				 "Request payload with size %" PRIu64
				 " is larger than the limit of %zu allowed by server.",
				 p->content_length, p->max_payload);
	p->req.body = malloc((size_t)p->content_length + 1);
	if (!p->req.body)
		return http_fail(p, 500, "Out of memory.");
	p->req.body_len = (size_t)p->content_length;
	p->body_got = 0;
	p->continue_pending = p->req.expect_continue;
	p->state = HTTP_ST_BODY;
	return HTTP_PARSE_MORE;
}

/* One complete line (CRLF stripped by the caller) in the line or header state. */
static enum http_parse_result http_line(struct http_parser *p, char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\0' || line[i] == '\r')
			return http_fail(p, 400, "Invalid request: stray NUL or CR.");
	if (p->state == HTTP_ST_LINE) {
		if (len == 0) /* RFC 9112 2.2: ignore empty lines before a request */
			return HTTP_PARSE_MORE;
		return http_request_line(p, line, len);
	}
	if (len == 0)
		return http_headers_done(p);
	return http_header_line(p, line, len);
}

enum http_parse_result http_parser_feed(struct http_parser *p, const char *buf, size_t len,
					size_t *used)
{
	enum http_parse_result r = HTTP_PARSE_MORE;
	size_t i = 0;

	if (p->state == HTTP_ST_ERR) {
		*used = 0;
		return HTTP_PARSE_ERROR;
	}
	if (p->state == HTTP_ST_DONE) {
		*used = 0;
		return HTTP_PARSE_READY;
	}
	while (i < len) {
		if (p->state == HTTP_ST_BODY) {
			size_t n = p->req.body_len - p->body_got;

			if (n > len - i)
				n = len - i;
			memcpy(p->req.body + p->body_got, buf + i, n);
			p->body_got += n;
			i += n;
			if (p->body_got == p->req.body_len) {
				p->req.body[p->req.body_len] = '\0';
				p->state = HTTP_ST_DONE;
				r = HTTP_PARSE_READY;
				break;
			}
			continue;
		}
		if (++p->head_bytes > HTTP_MAX_HEADER_BYTES) {
			r = http_fail(p, 400, "Request headers are larger than %u bytes.",
				      HTTP_MAX_HEADER_BYTES);
			i++;
			break;
		}
		if (buf[i] != '\n') {
			if (p->line_len >= HTTP_MAX_LINE + 1) {
				r = http_fail(p, 400, "%s is longer than %u bytes.",
					      p->state == HTTP_ST_LINE ? "Request line"
								       : "Header line",
					      HTTP_MAX_LINE);
				i++;
				break;
			}
			p->line[p->line_len++] = buf[i++];
			continue;
		}
		i++;
		if (p->line_len == 0 || p->line[p->line_len - 1] != '\r') {
			r = http_fail(p, 400, "Invalid request: lines must end with CRLF.");
			break;
		}
		p->line[--p->line_len] = '\0';
		r = http_line(p, p->line, p->line_len);
		p->line_len = 0;
		if (r != HTTP_PARSE_MORE)
			break;
	}
	*used = i;
	return r;
}

int http_response_build(int status, const char *body, size_t body_len, bool keep_alive,
			bool deprecated, char **out, size_t *out_len)
{
	bool no_len = status < 200 || status == 204;
	char head[256];
	int n;

	if (!body || no_len)
		body_len = 0;
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nServer: Firecracker API\r\nConnection: %s\r\n", status,
		     http_reason(status), keep_alive ? "keep-alive" : "close");
	if (deprecated)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Deprecation: true\r\n");
	if (body_len)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: application/json\r\n");
	if (!no_len)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n",
			      body_len);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	*out = malloc((size_t)n + body_len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, head, (size_t)n);
	if (body_len)
		memcpy(*out + n, body, body_len);
	*out_len = (size_t)n + body_len;
	return 0;
}
