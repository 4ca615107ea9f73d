/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - the strict HTTP/1.1 subset the API socket speaks.
 *
 * Incremental: bytes are fed as a non-blocking socket delivers them, so a
 * request may arrive one byte at a time or several may arrive in one read
 * (pipelining).  The parser copies what it keeps, so the caller's buffer can
 * be reused as soon as http_parser_feed() returns.
 *
 * Accepted: `GET|PUT|PATCH SP /path SP HTTP/1.1 CRLF` (HTTP/1.0 too, as
 * Firecracker does, with close as its default), header lines terminated by
 * CRLF, a body framed by Content-Length.  Everything else is refused with a
 * status and a message (Transfer-Encoding, bare LF, obs-fold, bad or
 * conflicting Content-Length, oversize lines/headers/bodies).  After a
 * refusal the stream can no longer be trusted, so the connection is closed.
 */
#ifndef EMBER_HTTP_H
#define EMBER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_PAYLOAD_DEFAULT 51200u /* Firecracker's --http-api-max-payload-size */
#define HTTP_MAX_LINE		 4096u	/* request line or one header line, CRLF excluded */
#define HTTP_MAX_PATH		 1024u	/* request target, NUL excluded */
#define HTTP_MAX_HEADERS	 64u
#define HTTP_MAX_HEADER_BYTES	 16384u /* request line + header lines, CRLFs included */
#define HTTP_MAX_MSG		 192u

enum http_method { HTTP_GET, HTTP_PUT, HTTP_PATCH };

struct http_request {
	enum http_method method;
	char path[HTTP_MAX_PATH + 1]; /* origin form, always starts with '/' */
	bool http10;
	bool keep_alive;      /* false: close the connection after the response */
	bool expect_continue; /* client sent Expect: 100-continue */
	char *body;	      /* NULL: no body (none or Content-Length: 0); else NUL-terminated */
	size_t body_len;
};

/* Results of http_parser_feed(). */
enum http_parse_result {
	HTTP_PARSE_MORE,  /* all bytes consumed, request not complete yet */
	HTTP_PARSE_READY, /* p->req is complete; *used may be < len (pipelining) */
	HTTP_PARSE_ERROR, /* p->err_status / p->err_msg say why; close after answering */
};

enum http_parse_state { HTTP_ST_LINE, HTTP_ST_HEADERS, HTTP_ST_BODY, HTTP_ST_DONE, HTTP_ST_ERR };

struct http_parser {
	size_t max_payload;
	enum http_parse_state state;
	char line[HTTP_MAX_LINE + 2]; /* the line being collected, CR included */
	size_t line_len;
	size_t head_bytes;
	unsigned nheaders;
	bool have_len, conn_close, conn_keep_alive;
	uint64_t content_length;
	size_t body_got;
	/* Set when the headers of a request with Expect: 100-continue are in
	 * and its body is awaited: the server writes "100 Continue" and clears it. */
	bool continue_pending;
	struct http_request req;
	int err_status;
	char err_msg[HTTP_MAX_MSG];
};

/* @max_payload 0 means HTTP_MAX_PAYLOAD_DEFAULT. */
void http_parser_init(struct http_parser *p, size_t max_payload);
/*
 * Feeds @len bytes.  Stops at the end of a request (READY) or at the first
 * error; *used tells how many bytes were taken.  After READY, call
 * http_parser_next() before feeding the rest.  After ERROR, every further
 * call returns ERROR again.
 */
enum http_parse_result http_parser_feed(struct http_parser *p, const char *buf, size_t len,
					size_t *used);
/* True while a request has started but not completed (used for timeouts). */
bool http_parser_busy(const struct http_parser *p);
/* Drops the completed request (frees its body) and readies the next one. */
void http_parser_next(struct http_parser *p);
void http_parser_free(struct http_parser *p);

const char *http_method_name(enum http_method m);
const char *http_reason(int status);

/*
 * A whole response in one malloc'ed buffer: status line, `Server: Firecracker
 * API`, `Connection: keep-alive|close`, `Deprecation: true` with @deprecated
 * (the request used a deprecated field, as Firecracker flags it), and for
 * bodies Content-Type: application/json.  Content-Length is sent for every
 * status except 1xx and 204 (which must not carry it).  Returns 0 or -ENOMEM.
 */
int http_response_build(int status, const char *body, size_t body_len, bool keep_alive,
			bool deprecated, char **out, size_t *out_len);

extern const char http_continue_response[]; /* "HTTP/1.1 100 Continue\r\n\r\n" */

#endif /* EMBER_HTTP_H */
