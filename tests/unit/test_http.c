// SPDX-License-Identifier: Apache-2.0
/* The HTTP parser and writer, then the API server over a real Unix socket. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"

#include "cmdq.h"
#include "http.h"
#include "server.h"

static enum http_parse_result feed_all(struct http_parser *p, const char *s, size_t len)
{
	size_t used;
	enum http_parse_result r = http_parser_feed(p, s, len, &used);

	if (r == HTTP_PARSE_READY)
		assert_int_equal(used, len);
	return r;
}

static enum http_parse_result parse_str(struct http_parser *p, const char *s)
{
	http_parser_init(p, 0);
	return feed_all(p, s, strlen(s));
}

static void test_simple_get(void **state)
{
	struct http_parser p;

	(void)state;
	assert_int_equal(parse_str(&p, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
			 HTTP_PARSE_READY);
	assert_int_equal(p.req.method, HTTP_GET);
	assert_string_equal(p.req.path, "/");
	assert_true(p.req.keep_alive);
	assert_null(p.req.body);
	http_parser_free(&p);

	/* Empty lines before a request are ignored; absolute form keeps the path. */
	assert_int_equal(parse_str(&p, "\r\n\r\nPATCH http://localhost/vm HTTP/1.1\r\n"
				       "Content-Length: 2\r\n\r\n{}"),
			 HTTP_PARSE_READY);
	assert_int_equal(p.req.method, HTTP_PATCH);
	assert_string_equal(p.req.path, "/vm");
	assert_string_equal(p.req.body, "{}");
	http_parser_free(&p);
}

static void test_connection_semantics(void **state)
{
	struct http_parser p;

	(void)state;
	assert_int_equal(parse_str(&p, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
			 HTTP_PARSE_READY);
	assert_false(p.req.keep_alive);
	assert_int_equal(parse_str(&p, "GET / HTTP/1.0\r\n\r\n"), HTTP_PARSE_READY);
	assert_true(p.req.http10);
	assert_false(p.req.keep_alive);
	assert_int_equal(parse_str(&p, "GET / HTTP/1.0\r\nconnection: Upgrade, Keep-Alive\r\n\r\n"),
			 HTTP_PARSE_READY);
	assert_true(p.req.keep_alive);
	/* Content-Length: 0 is no body, which the router treats as "Empty PUT". */
	assert_int_equal(parse_str(&p, "PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
			 HTTP_PARSE_READY);
	assert_null(p.req.body);
	/* Same value twice is harmless. */
	assert_int_equal(
	    parse_str(&p, "PUT /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
	    HTTP_PARSE_READY);
	http_parser_free(&p);
	/* Expect: 100-continue is announced once the headers are in. */
	assert_int_equal(parse_str(&p, "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\n"
				       "Content-Length: 3\r\n\r\n"),
			 HTTP_PARSE_MORE);
	assert_true(p.continue_pending);
	http_parser_free(&p);
}

static const char good_put[] = "PUT /drives/rootfs HTTP/1.1\r\nHost: localhost\r\n"
			       "Content-Type: application/json\r\nContent-Length: 29\r\n\r\n"
			       "{\"drive_id\": \"rootfs\", \"x\":1}";

/* The same request split at every byte boundary parses the same. */
static void test_split_reads(void **state)
{
	size_t len = strlen(good_put), used;
	struct http_parser p;

	(void)state;
	for (size_t k = 0; k <= len; k++) {
		http_parser_init(&p, 0);
		assert_int_equal(http_parser_feed(&p, good_put, k, &used),
				 k == len ? HTTP_PARSE_READY : HTTP_PARSE_MORE);
		assert_int_equal(used, k);
		if (k < len)
			assert_int_equal(feed_all(&p, good_put + k, len - k), HTTP_PARSE_READY);
		assert_int_equal(p.req.method, HTTP_PUT);
		assert_string_equal(p.req.path, "/drives/rootfs");
		assert_int_equal(p.req.body_len, 29);
		assert_memory_equal(p.req.body, good_put + len - 29, 29);
		http_parser_free(&p);
	}
	/* And one byte at a time. */
	http_parser_init(&p, 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(http_parser_feed(&p, good_put + i, 1, &used),
				 i + 1 == len ? HTTP_PARSE_READY : HTTP_PARSE_MORE);
	http_parser_free(&p);
}

static void test_pipelined(void **state)
{
	char buf[512];
	size_t used, off = 0, len;
	struct http_parser p;

	(void)state;
	len = (size_t)snprintf(buf, sizeof(buf), "%sGET /version HTTP/1.1\r\n\r\nGET /", good_put);
	http_parser_init(&p, 0);
	assert_int_equal(http_parser_feed(&p, buf, len, &used), HTTP_PARSE_READY);
	assert_int_equal(used, strlen(good_put));
	/* Feeding again before http_parser_next() takes nothing. */
	assert_int_equal(http_parser_feed(&p, buf + used, len - used, &off), HTTP_PARSE_READY);
	assert_int_equal(off, 0);
	off = used;
	http_parser_next(&p);
	assert_int_equal(http_parser_feed(&p, buf + off, len - off, &used), HTTP_PARSE_READY);
	assert_string_equal(p.req.path, "/version");
	off += used;
	http_parser_next(&p);
	assert_int_equal(http_parser_feed(&p, buf + off, len - off, &used), HTTP_PARSE_MORE);
	assert_true(http_parser_busy(&p));
	http_parser_free(&p);
}

static enum http_parse_result parse_body(struct http_parser *p, size_t max, size_t n)
{
	char head[128];
	char *body = malloc(n);
	enum http_parse_result r;
	size_t used;

	assert_non_null(body);
	memset(body, 'a', n);
	http_parser_init(p, max);
	snprintf(head, sizeof(head), "PUT /mmds HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", n);
	r = http_parser_feed(p, head, strlen(head), &used);
	if (r == HTTP_PARSE_MORE)
		r = feed_all(p, body, n);
	free(body);
	return r;
}

static void test_payload_limit(void **state)
{
	struct http_parser p;

	(void)state;
	assert_int_equal(parse_body(&p, 0, 51199), HTTP_PARSE_READY);
	assert_int_equal(p.req.body_len, 51199);
	http_parser_free(&p);
	assert_int_equal(parse_body(&p, 0, 51200), HTTP_PARSE_READY);
	assert_int_equal(p.req.body_len, 51200);
	http_parser_free(&p);
	assert_int_equal(parse_body(&p, 0, 51201), HTTP_PARSE_ERROR);
	assert_int_equal(p.err_status, 400);
	assert_string_equal(p.err_msg, "Request payload with size 51201 is larger than the limit "
				       "of 51200 allowed by server.");
	assert_null(p.req.body); /* refused before allocating */
	assert_int_equal(parse_body(&p, 10, 10), HTTP_PARSE_READY);
	http_parser_free(&p);
	assert_int_equal(parse_body(&p, 10, 11), HTTP_PARSE_ERROR);
}

struct bad_case {
	const char *raw;
	int status;
	const char *needle;
};

static const struct bad_case bad_cases[] = {
    {"POST / HTTP/1.1\r\n\r\n", 400, "Invalid HTTP Method"},
    {"DELETE /drives/x HTTP/1.1\r\n\r\n", 400, "Invalid HTTP Method"},
    {"get / HTTP/1.1\r\n\r\n", 400, "Invalid HTTP Method"},
    {"G(T / HTTP/1.1\r\n\r\n", 400, "Invalid request line"},
    {"GET / HTTP/2.0\r\n\r\n", 400, "Invalid HTTP Version"},
    {"GET / http/1.1\r\n\r\n", 400, "Invalid HTTP Version"},
    {"GET /\r\n\r\n", 400, "Invalid request line"},
    {"GET  / HTTP/1.1\r\n\r\n", 400, "Invalid request line"},
    {"GET / HTTP/1.1 \r\n\r\n", 400, "Invalid request line"},
    {"GET / HTTP/1.1\n\n", 400, "CRLF"},
    {"GET / HTTP/1.1\r\nHost: x\n\r\n", 400, "CRLF"},
    {"GET vm HTTP/1.1\r\n\r\n", 400, "Invalid URI"},
    {"GET http://localhost HTTP/1.1\r\n\r\n", 400, "Invalid URI"},
    {"GET /a?b=1 HTTP/1.1\r\n\r\n", 400, "query"},
    {"GET /\x01 HTTP/1.1\r\n\r\n", 400, "Invalid URI"},
    {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 400, "Invalid URI"},
    {"GET /a\rb HTTP/1.1\r\n\r\n", 400, "stray"},
    {"PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
    {"PUT / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length"},
    {"PUT / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 400, "Content-Length"},
    {"PUT / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, "Content-Length"},
    {"PUT / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400, "Content-Length"},
    {"PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "Content-Length"},
    {"PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "too large"},
    {"PUT / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", 400,
     "size 18446744073709551615 is larger than the limit"},
    {"PUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400, "Conflicting"},
    {"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400,
     "Transfer-Encoding"},
    {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "Invalid header"},
    {"GET / HTTP/1.1\r\n: empty\r\n\r\n", 400, "Invalid header"},
    {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "Invalid header name"},
    {"GET / HTTP/1.1\r\nContent-Length : 2\r\n\r\n", 400, "Invalid header name"},
    {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "folded"},
    {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400, "Invalid header value"},
    {"GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417, "Expect"},
};

static void test_bad_requests(void **state)
{
	struct http_parser p;
	size_t used;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		http_parser_init(&p, 0);
		if (http_parser_feed(&p, c->raw, strlen(c->raw), &used) != HTTP_PARSE_ERROR)
			fail_msg("accepted case %zu: %s", i, c->raw);
		assert_int_equal(p.err_status, c->status);
		if (!strstr(p.err_msg, c->needle))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, p.err_msg, c->needle);
		/* Sticky: nothing after an error is parsed. */
		assert_int_equal(http_parser_feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used),
				 HTTP_PARSE_ERROR);
		assert_int_equal(used, 0);
		http_parser_free(&p);
	}
}

static void test_size_limits(void **state)
{
	static char buf[HTTP_MAX_HEADER_BYTES * 2];
	struct http_parser p;
	size_t n;

	(void)state;
	/* Longest allowed path, then one more byte. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\n\r\n", HTTP_MAX_PATH - 1, 0);
	http_parser_init(&p, 0);
	assert_int_equal(feed_all(&p, buf, n), HTTP_PARSE_READY);
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.1\r\n\r\n", HTTP_MAX_PATH, 0);
	assert_int_equal(parse_str(&p, buf), HTTP_PARSE_ERROR);
	assert_non_null(strstr(p.err_msg, "Invalid URI"));
	/* Over-long request line: refused before its end arrives. */
	memset(buf, 'a', HTTP_MAX_LINE + 10);
	memcpy(buf, "GET /", 5);
	http_parser_init(&p, 0);
	assert_int_equal(http_parser_feed(&p, buf, HTTP_MAX_LINE + 10, &n), HTTP_PARSE_ERROR);
	assert_non_null(strstr(p.err_msg, "Request line is longer"));
	/* Over-long header line. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", HTTP_MAX_LINE,
			     0);
	assert_int_equal(parse_str(&p, buf), HTTP_PARSE_ERROR);
	assert_non_null(strstr(p.err_msg, "Header line is longer"));
	/* 64 headers pass, 65 do not. */
	for (unsigned count = HTTP_MAX_HEADERS; count <= HTTP_MAX_HEADERS + 1; count++) {
		n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
		for (unsigned i = 0; i < count; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%u: y\r\n", i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
		assert_int_equal(parse_str(&p, buf),
				 count > HTTP_MAX_HEADERS ? HTTP_PARSE_ERROR : HTTP_PARSE_READY);
	}
	/* Many long-but-legal lines overflow the total. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	for (unsigned i = 0; i < 6; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%u: %0*d\r\n", i, 3000, 0);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	assert_int_equal(parse_str(&p, buf), HTTP_PARSE_ERROR);
	assert_non_null(strstr(p.err_msg, "headers are larger"));
	/* A NUL in a header. */
	http_parser_init(&p, 0);
	assert_int_equal(http_parser_feed(&p, "GET / HTTP/1.1\r\nA: \0\r\n\r\n", 24, &n),
			 HTTP_PARSE_ERROR);
}

static void test_response_build(void **state)
{
	char *out;
	size_t len;
	static const char ok[] = "HTTP/1.1 200 OK\r\nServer: Firecracker API\r\n"
				 "Connection: keep-alive\r\nContent-Type: application/json\r\n"
				 "Content-Length: 2\r\n\r\n{}";
	static const char nc[] = "HTTP/1.1 204 No Content\r\nServer: Firecracker API\r\n"
				 "Connection: keep-alive\r\n\r\n";
	static const char bad[] = "HTTP/1.1 400 Bad Request\r\nServer: Firecracker API\r\n"
				  "Connection: close\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	assert_int_equal(http_response_build(200, "{}", 2, true, false, &out, &len), 0);
	assert_int_equal(len, strlen(ok));
	assert_memory_equal(out, ok, len);
	free(out);
	assert_int_equal(http_response_build(204, "ignored", 7, true, false, &out, &len), 0);
	assert_int_equal(len, strlen(nc));
	assert_memory_equal(out, nc, len);
	free(out);
	assert_int_equal(http_response_build(400, NULL, 0, false, false, &out, &len), 0);
	assert_int_equal(len, strlen(bad));
	assert_memory_equal(out, bad, len);
	free(out);
	assert_string_equal(http_reason(503), "Service Unavailable");
}

/* ---- the server over a real socket ---------------------------------------- */

struct fake_vmm {
	struct cmdq q;
	pthread_t thread;
	int stop;
	unsigned calls[API_CMD_CHECK + 1];
};

static int fake_exec(void *ctx, struct api_cmd *cmd, char *err, size_t errlen)
{
	struct fake_vmm *v = ctx;

	v->calls[cmd->kind]++;
	if (cmd->kind == API_CMD_START && !strcmp(cmd->cfg->boot.kernel_image_path, "/bad")) {
		snprintf(err, errlen, "kernel /bad: no such file");
		return -ENOENT;
	}
	return 0;
}

static void *fake_vmm_thread(void *arg)
{
	struct fake_vmm *v = arg;
	struct pollfd pfd = {.fd = cmdq_fd(&v->q), .events = POLLIN};

	while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE))
		if (poll(&pfd, 1, 20) > 0)
			cmdq_process(&v->q, fake_exec, v);
	return NULL;
}

struct srv_fixture {
	char dir[64], path[96];
	struct fake_vmm vmm;
	struct api_server *srv;
};

/* A server listening on its own socket with options @base (its thread not
 * started: api_server_open), and a fake VMM behind it. */
static void fixture_open(struct srv_fixture *f, const struct api_server_opts *base)
{
	struct api_server_opts o = *base;
	char err[256];

	memset(&f->vmm, 0, sizeof(f->vmm));
	strcpy(f->dir, "/tmp/ember-api-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/api.sock", f->dir);
	assert_int_equal(cmdq_init(&f->vmm.q), 0);
	assert_int_equal(pthread_create(&f->vmm.thread, NULL, fake_vmm_thread, &f->vmm), 0);
	o.sock_path = f->path;
	o.submit = cmdq_submit;
	o.opaque = &f->vmm.q;
	assert_int_equal(api_server_open(&o, &f->srv, err, sizeof(err)), 0);
}

/* ... and serving. */
static void fixture_up_opts(struct srv_fixture *f, const struct api_server_opts *base)
{
	char err[256];

	fixture_open(f, base);
	assert_int_equal(api_server_run(f->srv, err, sizeof(err)), 0);
}

static void fixture_up(struct srv_fixture *f, unsigned max_conns, unsigned timeout_ms)
{
	struct api_server_opts o = {.max_conns = max_conns, .timeout_ms = timeout_ms};

	fixture_up_opts(f, &o);
}

static void fixture_down(struct srv_fixture *f)
{
	struct stat st;

	cmdq_close(&f->vmm.q);
	api_server_stop(f->srv);
	assert_int_not_equal(lstat(f->path, &st), 0); /* socket removed */
	__atomic_store_n(&f->vmm.stop, 1, __ATOMIC_RELEASE);
	pthread_join(f->vmm.thread, NULL);
	cmdq_destroy(&f->vmm.q);
	rmdir(f->dir);
}

static int client(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/*
 * Reads exactly one response (headers byte by byte, then the Content-Length
 * body) so pipelined responses stay in the socket for the next call.
 * Returns the status, or -1 on EOF / timeout.
 */
static int read_response(int fd, char *buf, size_t size)
{
	size_t got = 0, need;
	char *cl;

	while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4)) {
		if (got + 1 >= size || recv(fd, buf + got, 1, 0) != 1)
			return -1;
		buf[++got] = '\0';
	}
	cl = strstr(buf, "Content-Length: ");
	need = got + (cl ? strtoul(cl + 16, NULL, 10) : 0);
	assert_true(need < size);
	while (got < need) {
		ssize_t n = recv(fd, buf + got, need - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return atoi(buf + 9);
}

static void test_server_basics(void **state)
{
	struct srv_fixture f;
	struct stat st;
	char buf[4096];
	int fd, fd2;

	(void)state;
	fixture_up(&f, 0, 0);
	assert_int_equal(stat(f.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	fd = client(f.path);
	send_str(fd, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"state\":\"Not started\""));
	assert_non_null(strstr(buf, "Server: Firecracker API\r\nConnection: keep-alive\r\n"));
	assert_null(strstr(buf, "Deprecation"));
	/* A deprecated field (vsock_id) is flagged as Firecracker does. */
	send_str(fd, "PUT /vsock HTTP/1.1\r\nContent-Length: "
		     "46\r\n\r\n{\"guest_cid\":3,\"uds_path\":\"/v\",\"vsock_id\":\"v\"}");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	assert_non_null(strstr(buf, "Connection: keep-alive\r\nDeprecation: true\r\n"));
	/* Keep-alive + pipelining: three requests in one write, three answers. */
	send_str(fd, "PUT /boot-source HTTP/1.1\r\nContent-Length: 31\r\n\r\n"
		     "{\"kernel_image_path\": \"/bad\"}  "
		     "PUT /actions HTTP/1.1\r\nContent-Length: 32\r\n\r\n"
		     "{\"action_type\": \"InstanceStart\"}"
		     "GET /machine-config HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 400);
	assert_non_null(strstr(buf, "{\"fault_message\":\"kernel /bad: no such file\"}"));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"vcpu_count\":1"));
	/* Expect: 100-continue gets its interim answer before the body is sent. */
	send_str(fd, "PUT /boot-source HTTP/1.1\r\nExpect: 100-continue\r\n"
		     "Content-Length: 28\r\n\r\n");
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), (ssize_t)strlen(http_continue_response));
	send_str(fd, "{\"kernel_image_path\": \"/ok\"}");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	send_str(fd, "PUT /actions HTTP/1.1\r\nContent-Length: 32\r\n\r\n"
		     "{\"action_type\": \"InstanceStart\"}");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 204);
	assert_int_equal(f.vmm.calls[API_CMD_START], 2);
	/* A second connection sees the new state; Connection: close is honoured. */
	fd2 = client(f.path);
	send_str(fd2, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(read_response(fd2, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"state\":\"Running\""));
	assert_non_null(strstr(buf, "Connection: close"));
	assert_int_equal(recv(fd2, buf, sizeof(buf), 0), 0);
	close(fd2);
	close(fd);
	fixture_down(&f);
}

static unsigned cfg_calls;

/* The VMM's side of api_server_opts.initial_cfg: it writes over the defaults. */
static void fill_cfg(void *opaque, struct api_vm_config *cfg)
{
	struct api_vm_config *def = calloc(1, sizeof(*def));

	assert_non_null(opaque); /* the submit callback's, the cmdq */
	assert_non_null(def);
	api_config_defaults(def);
	assert_memory_equal(cfg, def, sizeof(*def));
	free(def);
	cfg->machine.vcpu_count = 3;
	cfg->machine.mem_size_mib = 77;
	cfg_calls++;
}

/* A VM that runs before its server (a fork's child, --config-file): the
 * server shows its state and the configuration the VMM wrote, once. */
static void test_server_started(void **state)
{
	struct api_server_opts o = {.started = true, .paused = true, .initial_cfg = fill_cfg};
	struct srv_fixture f;
	char buf[4096];
	int fd;

	(void)state;
	cfg_calls = 0;
	fixture_up_opts(&f, &o);
	assert_int_equal(cfg_calls, 1);
	fd = client(f.path);
	send_str(fd, "GET / HTTP/1.1\r\n\r\nGET /machine-config HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"state\":\"Paused\""));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"vcpu_count\":3"));
	assert_non_null(strstr(buf, "\"mem_size_mib\":77"));
	close(fd);
	fixture_down(&f);
	/* Not started: nothing to copy, the defaults. */
	o.started = false;
	fixture_up_opts(&f, &o);
	assert_int_equal(cfg_calls, 1);
	fixture_down(&f);
}

/* Opened, the socket takes a connection and its request, which waits for
 * the thread api_server_run starts (a fork child answers its parent in
 * between); then it is served. */
static void test_server_open_run(void **state)
{
	struct api_server_opts o = {0};
	struct srv_fixture f;
	struct pollfd p;
	char err[256], buf[4096];
	int fd;

	(void)state;
	fixture_open(&f, &o);
	fd = client(f.path);
	send_str(fd, "GET / HTTP/1.1\r\n\r\n");
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 200), 0); /* nobody serves yet */
	assert_int_equal(api_server_run(f.srv, err, sizeof(err)), 0);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"state\":\"Not started\""));
	close(fd);
	fixture_down(&f);
}

static const char *const garbage[] = {
    "POST / HTTP/1.1\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "PUT /machine-config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "PUT /machine-config HTTP/1.1\r\nContent-Length: -4\r\n\r\n",
    "PUT /machine-config HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    "\x16\x03\x01\x02\xff\x01\xfc\x03\x03\r\n\r\n", /* TLS-ish */
    "GET /\x7f HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\n\n",
};

static void test_server_survives_garbage(void **state)
{
	struct srv_fixture f;
	char buf[4096];
	int fd;

	(void)state;
	fixture_up(&f, 0, 0);
	for (int i = 0; i < 1000; i++) {
		fd = client(f.path);
		send_str(fd, garbage[i % ARRAY_SIZE(garbage)]);
		if (read_response(fd, buf, sizeof(buf)) / 100 != 4)
			fail_msg("garbage %d: %s", i, buf);
		assert_non_null(strstr(buf, "{\"fault_message\":"));
		assert_non_null(strstr(buf, "Connection: close"));
		assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0); /* and it closed */
		close(fd);
	}
	/* Valid requests with bad JSON keep their connection. */
	fd = client(f.path);
	for (int i = 0; i < 50; i++) {
		send_str(fd, "PUT /machine-config HTTP/1.1\r\nContent-Length: 5\r\n\r\n{\"a\":");
		assert_int_equal(read_response(fd, buf, sizeof(buf)), 400);
	}
	send_str(fd, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"state\":\"Not started\""));
	close(fd);
	fixture_down(&f);
}

static void test_server_limits(void **state)
{
	struct srv_fixture f;
	char buf[4096];
	int fds[4], fd;

	(void)state;
	fixture_up(&f, 4, 300);
	for (int i = 0; i < 4; i++) {
		fds[i] = client(f.path);
		send_str(fds[i], "GET /version HTTP/1.1\r\n\r\n");
		assert_int_equal(read_response(fds[i], buf, sizeof(buf)), 200);
		usleep(20 * 1000); /* an order of idleness */
	}
	/* Idle keep-alive connections outlive the timeout: a pooled client reuses them. */
	usleep(700 * 1000);
	send_str(fds[1], "GET /version HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fds[1], buf, sizeof(buf)), 200);
	/* At the cap a fifth is served: the connection idle longest (fds[0]) makes room. */
	fd = client(f.path);
	send_str(fd, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	assert_int_equal(recv(fds[0], buf, sizeof(buf), 0), 0);
	close(fds[0]);
	fds[0] = fd;
	/* A slow client is dropped after the timeout, freeing its slot. */
	send_str(fds[1], "GET / HT");
	usleep(700 * 1000);
	assert_int_equal(recv(fds[1], buf, sizeof(buf), 0), 0);
	close(fds[1]);
	fds[1] = client(f.path);
	/* All four mid-request: nobody can make room, so a fifth gets 503. */
	for (int i = 0; i < 4; i++)
		send_str(fds[i], "GET / HT");
	usleep(50 * 1000);
	fd = client(f.path);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 503);
	close(fd);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	usleep(50 * 1000); /* the server sees them go */
	fd = client(f.path);
	send_str(fd, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	close(fd);
	fixture_down(&f);
}

static void test_socket_path_rules(void **state)
{
	struct srv_fixture f;
	struct api_server_opts o = {0};
	struct api_server *srv2;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char err[256], path[128];
	int fd;

	(void)state;
	fixture_up(&f, 0, 0);
	/* A live socket is not replaced. */
	o.sock_path = f.path;
	assert_int_equal(api_server_open(&o, &srv2, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "in use"));
	/* A stale one (bound, never listening) is. */
	snprintf(path, sizeof(path), "%s/stale.sock", f.dir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	fd = api_socket_listen(path, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	/* A regular file is not touched. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(api_socket_listen(path, err, sizeof(err)), -EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(api_socket_listen(path, err, sizeof(err)), -ENAMETOOLONG);
	o.sock_path = "/tmp/ember-never.sock";
	o.instance_id = "bad id!";
	assert_int_equal(api_server_open(&o, &srv2, err, sizeof(err)), -EINVAL);
	fixture_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_get),	   cmocka_unit_test(test_connection_semantics),
	    cmocka_unit_test(test_split_reads),	   cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_payload_limit),  cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_size_limits),	   cmocka_unit_test(test_response_build),
	    cmocka_unit_test(test_server_basics),  cmocka_unit_test(test_server_survives_garbage),
	    cmocka_unit_test(test_server_limits),  cmocka_unit_test(test_socket_path_rules),
	    cmocka_unit_test(test_server_started), cmocka_unit_test(test_server_open_run),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
