// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock limits, on the rig of vsock_rig.h: what a host client or a
 * guest can hold and for how long.  The stream cap (VSOCK_MAX_CONNS), and
 * the handshake deadline: a host client that never finishes its CONNECT
 * line is closed, a REQUEST the guest never answers is reset on both sides,
 * and neither touches a stream that made it in time.  The deadline is
 * shortened to HS_MS so the tests wait a fraction of a second.
 */
#include <sys/resource.h>

#include "vsock_rig.h"

#define HS_MS 100

static const struct vsock_stats *st(struct rig *r)
{
	return vsock_stats(r->v);
}

/* Pumps the loop for @ms: the device's timer gets its chance to fire. */
static void pump(struct rig *r, unsigned ms)
{
	uint64_t end = time_now_us() + ms * 1000ull;

	while (time_now_us() < end)
		run_once(r, 10);
}

static void test_client_silent(void **state)
{
	struct rig *r = *state;
	int fd;

	vsock_set_handshake_ms(r->v, HS_MS);
	fd = host_client(r);
	host_write(fd, "CONNECT 5", 9); /* no newline, ever */
	settle(r);
	assert_int_equal(vsock_nr_conns(r->v), 1);
	expect_eof(r, fd);
	close(fd);
	assert_int_equal(st(r)->handshake_timeouts, 1);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	/* Nothing reached the guest for a line that never completed. */
	no_pkt(r);
}

/* Deadlines taken at different times: the timer re-arms for the later one. */
static void test_clients_staggered(void **state)
{
	struct rig *r = *state;
	int a, b;

	vsock_set_handshake_ms(r->v, HS_MS);
	a = host_client(r);
	settle(r);
	pump(r, HS_MS / 2);
	b = host_client(r);
	settle(r);
	expect_eof(r, a);
	assert_int_equal(st(r)->handshake_timeouts, 1);
	assert_int_equal(vsock_nr_conns(r->v), 1);
	expect_eof(r, b);
	assert_int_equal(st(r)->handshake_timeouts, 2);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	close(a);
	close(b);
}

static void test_guest_silent(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	uint32_t hp;
	int fd;

	vsock_set_handshake_ms(r->v, HS_MS);
	fd = host_client(r);
	host_write(fd, "CONNECT 77\n", 11);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(REQUEST));
	hp = h.src_port;
	/* The guest never answers: the host sees EOF, the guest an RST. */
	expect_eof(r, fd);
	close(fd);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_int_equal(h.src_port, hp);
	assert_int_equal(h.dst_port, 77);
	assert_int_equal(st(r)->handshake_timeouts, 1);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	/* A RESPONSE that comes too late finds no stream: reset again. */
	send_pkt(r, OP(RESPONSE), 77, hp, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	/* The device still serves. */
	close(host_connect(r, 77, 65536, &hp));
}

/* Streams that connected in time outlive the deadline. */
static void test_handshake_in_time(void **state)
{
	struct rig *r = *state;
	struct vsock_hdr h;
	uint8_t buf[8];
	uint32_t hp;
	int fd;

	vsock_set_handshake_ms(r->v, HS_MS);
	fd = host_connect(r, 80, 65536, &hp);
	pump(r, 3 * HS_MS);
	assert_int_equal(st(r)->handshake_timeouts, 0);
	assert_int_equal(vsock_nr_conns(r->v), 1);
	host_write(fd, "ping", 4);
	get_pkt(r, &h, buf);
	assert_int_equal(h.op, OP(RW));
	assert_int_equal(h.len, 4);
	assert_memory_equal(buf, "ping", 4);
	close(fd);
}

/* VSOCK_MAX_CONNS streams and clients, then refusals, then room again. */
static void test_conn_cap(void **state)
{
	struct rig *r = *state;
	struct rlimit rl;
	static int fds[VSOCK_MAX_CONNS];
	struct vsock_hdr h;
	int extra;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2 * VSOCK_MAX_CONNS + 64) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * VSOCK_MAX_CONNS + 64)
			skip();
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		fds[i] = host_client(r);
		host_write(fds[i], "CONN", 4);
		if (i % 64 == 63)
			settle(r);
	}
	settle(r);
	assert_int_equal(vsock_nr_conns(r->v), VSOCK_MAX_CONNS);
	/* One more host client is closed at once; a guest connect is reset. */
	extra = host_client(r);
	expect_eof(r, extra);
	close(extra);
	send_pkt(r, OP(REQUEST), 1, 1, 0, NULL, 0, 65536, 0);
	get_pkt(r, &h, NULL);
	assert_int_equal(h.op, OP(RST));
	assert_true(vsock_stats(r->v)->conns_refused >= 2);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		close(fds[i]);
	settle(r);
	assert_int_equal(vsock_nr_conns(r->v), 0);
	uint32_t hp;
	close(host_connect(r, 5, 65536, &hp));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_client_silent),     T(test_clients_staggered), T(test_guest_silent),
	    T(test_handshake_in_time), T(test_conn_cap),
	};
	return cmocka_run_group_tests_name("vsock_limits", tests, NULL, NULL);
}
