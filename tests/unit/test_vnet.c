// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net without a tap: the device gets one end of a SOCK_SEQPACKET
 * socketpair (frames keep their boundaries, like a tap's reads and writes)
 * and the test plays the host's network on the other end.  A test "driver"
 * brings the device up through the MMIO bus ops, builds chains in fake guest
 * memory and runs the device's evloop handlers by hand.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "device.h"
#include "net.h"
#include "unit.h"

#include "vnet_rig.h"

static int setup_mac(void **state)
{
	struct vnet_config cfg = {.iface_id = "eth0",
				  .host_dev_name = "fake0",
				  .has_mac = true,
				  .mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55},
				  .mtu = 9000};

	return setup_with(state, &cfg);
}

static void test_config_parse(void **state)
{
	struct vnet_config c;
	char err[160];

	(void)state;
	assert_int_equal(vnet_config_parse("tap=tap0", &c, err, sizeof(err)), 0);
	assert_string_equal(c.host_dev_name, "tap0");
	assert_string_equal(c.iface_id, "tap0");
	assert_false(c.has_mac);
	assert_int_equal(
	    vnet_config_parse("tap=fc-tap.1,mac=02:aB:cd:EF:00:09,id=eth0", &c, err, sizeof(err)),
	    0);
	assert_string_equal(c.host_dev_name, "fc-tap.1");
	assert_string_equal(c.iface_id, "eth0");
	assert_true(c.has_mac);
	assert_memory_equal(c.mac, "\x02\xab\xcd\xef\x00\x09", 6);
	assert_int_equal(vnet_config_parse("id=x,tap=t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.mtu, 0);
	assert_int_equal(vnet_config_parse("tap=t,mtu=1400", &c, err, sizeof(err)), 0);
	assert_int_equal(c.mtu, 1400);

	static const char *bad[] = {"",
				    "mac=02:00:00:00:00:01",
				    "tap=",
				    "tap=0123456789abcdef",
				    "tap=a/b",
				    "tap=t,mac=01:00:00:00:00:01",
				    "tap=t,mac=02:00:00:00:00",
				    "tap=t,mac=02:00:00:00:00:0g",
				    "tap=t,mac=02-00-00-00-00-01",
				    "tap=t,mac=02:00:00:00:00:011",
				    "tap=t,id=",
				    "tap=t,id=a b",
				    "tap=t,bogus",
				    "tap=t,mtu=67",
				    "tap=t,mtu=65536",
				    "tap=t,mtu=",
				    "tap=t,mtu=1500x",
				    "tap=t,"};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = 0;
		assert_int_equal(vnet_config_parse(bad[i], &c, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != 0);
	}
}

static void test_features_and_mac(void **state)
{
	struct rig *r = *state;
	uint64_t f = dev_features(r);
	uint8_t mac[8];

	assert_true(f & (1ull << VIRTIO_NET_F_MAC));
	assert_false(f & (1ull << VIRTIO_NET_F_MRG_RXBUF));
	assert_false(f & (1ull << VIRTIO_NET_F_CTRL_VQ));
	assert_true(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
	for (unsigned i = 0; i < 6; i++)
		virtio_mmio_bus_ops.read(r->t, VIRTIO_MMIO_CONFIG + i, &mac[i], 1);
	assert_memory_equal(mac, "\x02\x11\x22\x33\x44\x55", 6);
	assert_int_equal(rd32(r, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	/* mtu=: VIRTIO_NET_F_MTU, and the value at config offset 10 (le16). */
	assert_true(f & (1ull << VIRTIO_NET_F_MTU));
	virtio_mmio_bus_ops.read(r->t, VIRTIO_MMIO_CONFIG + 10, mac, 2);
	assert_int_equal(mac[0] | mac[1] << 8, 9000);
}

static void test_no_mac_feature(void **state)
{
	struct rig *r = *state;

	assert_false(dev_features(r) & (1ull << VIRTIO_NET_F_MAC));
	assert_false(dev_features(r) & (1ull << VIRTIO_NET_F_MTU));
}

static void test_offloads_follow_guest(void **state)
{
	struct rig *r = *state;

	assert_int_equal(vnet_tap_offloads(r->n),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
	driver_up(r, 1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_GUEST_TSO4);
	assert_int_equal(vnet_tap_offloads(r->n), TUN_F_CSUM | TUN_F_TSO4);
	/* TSO without checksum offload is not something the tap may hand over. */
	driver_up(r, 1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_NET_F_GUEST_TSO6);
	assert_int_equal(vnet_tap_offloads(r->n), 0);
	driver_up(r, 0);
	assert_int_equal(vnet_tap_offloads(r->n), 0);
}

static void test_tx(void **state)
{
	struct rig *r = *state;
	uint8_t got[4096];
	struct seg s[] = {
	    {BUF, VNET_HDR_LEN, false}, {BUF + 0x1000, 60, false}, {BUF + 0x2000, 1000, false}};
	uint16_t head;

	memset(at(r, BUF), 0, VNET_HDR_LEN);
	fill(at(r, BUF + 0x1000), 60, 1);
	fill(at(r, BUF + 0x2000), 1000, 2);
	head = add_chain(r, TXQ, s, 3);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	assert_int_equal(used_next(r, TXQ, head), 0);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 1060);
	assert_memory_equal(got + VNET_HDR_LEN, at(r, BUF + 0x1000), 60);
	assert_memory_equal(got + VNET_HDR_LEN + 60, at(r, BUF + 0x2000), 1000);
	assert_int_equal(vnet_stats(r->n)->tx_frames, 1);
	assert_int_equal(vnet_stats(r->n)->tx_bytes, 1060);

	/* A TSO frame the guest negotiated goes through with its header. */
	at(r, BUF)[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	at(r, BUF)[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	head = add_chain(r, TXQ, s, 3);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	assert_int_equal(used_next(r, TXQ, head), 0);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 1060);
	assert_int_equal(got[1], VIRTIO_NET_HDR_GSO_TCPV4);
}

/* Each bad chain is consumed and counted, sends nothing, and the next good one works. */
static void test_tx_drops(void **state)
{
	struct rig *r = *state;
	const struct vnet_stats *st = vnet_stats(r->n);
	uint8_t got[256];
	struct seg shrt[] = {{BUF, 8, false}};
	struct seg lng[] = {{BUF, VNET_HDR_LEN, false}, {BUF + 0x1000, VNET_MAX_FRAME + 1, false}};
	struct seg maxed[] = {{BUF, VNET_HDR_LEN, false}, {BUF + 0x1000, VNET_MAX_FRAME, false}};
	struct seg wr_seg[] = {{BUF, VNET_HDR_LEN, false}, {BUF + 0x1000, 100, true}};
	struct seg outside[] = {{BUF, VNET_HDR_LEN, false}, {RAM - 10, 100, false}};
	struct seg good[] = {{BUF, VNET_HDR_LEN + 100, false}};
	uint16_t head;

	memset(at(r, BUF), 0, VNET_HDR_LEN);
	head = add_chain(r, TXQ, shrt, 1);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	used_next(r, TXQ, head);
	assert_int_equal(st->tx_dropped_short, 1);

	head = add_chain(r, TXQ, lng, 2);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	used_next(r, TXQ, head);
	assert_int_equal(st->tx_dropped_long, 1);

	head = add_chain(r, TXQ, wr_seg, 2);
	add_chain(r, TXQ, outside, 2);
	kick(r, TXQ);
	pump(r, TXQ, 2);
	used_next(r, TXQ, head);
	r->used_seen[TXQ]++;
	assert_int_equal(st->tx_bad_chain, 2);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), -1);
	assert_int_equal(errno, EAGAIN);

	/* Exactly the maximum is fine. */
	head = add_chain(r, TXQ, maxed, 2);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	used_next(r, TXQ, head);
	assert_int_equal(st->tx_frames, 1);
	assert_int_equal(recv(r->host, got, sizeof(got), MSG_TRUNC), VNET_MAX_LEN);

	head = add_chain(r, TXQ, good, 1);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	used_next(r, TXQ, head);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 100);
	assert_int_equal(st->tx_frames, 2);
}

static void test_tx_offload_not_negotiated(void **state)
{
	struct rig *r = *state;
	const struct vnet_stats *st = vnet_stats(r->n);
	struct seg s[] = {{BUF, VNET_HDR_LEN + 100, false}};
	static const uint8_t bad[][2] = {
	    {0, VIRTIO_NET_HDR_GSO_TCPV4}, {0, VIRTIO_NET_HDR_GSO_TCPV6},
	    {0, VIRTIO_NET_HDR_GSO_UDP},   {VIRTIO_NET_HDR_F_NEEDS_CSUM, 0},
	    {0, VIRTIO_NET_HDR_GSO_ECN},
	};
	uint8_t got[256];

	driver_up(r, 1ull << VIRTIO_RING_F_EVENT_IDX);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(at(r, BUF), 0, VNET_HDR_LEN);
		memcpy(at(r, BUF), bad[i], 2);
		add_chain(r, TXQ, s, 1);
		kick(r, TXQ);
		pump(r, TXQ, 1);
		r->used_seen[TXQ]++;
		assert_int_equal(st->tx_bad_header, i + 1);
	}
	assert_int_equal(recv(r->host, got, sizeof(got), 0), -1);
	memset(at(r, BUF), 0, VNET_HDR_LEN);
	add_chain(r, TXQ, s, 1);
	kick(r, TXQ);
	pump(r, TXQ, 1);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 100);
}

/*
 * The tap is full: the chain waits, the loop does not spin, EPOLLOUT
 * finishes it, with the header as it was checked.
 */
static void test_tx_eagain(void **state)
{
	struct rig *r = *state;
	struct seg s[] = {{BUF, VNET_HDR_LEN + 1000, false}};
	int dev_fd = r->dev, small = 4096;
	uint8_t junk[1024] = {0}, got[2048];
	uint16_t head;

	setsockopt(dev_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	while (send(dev_fd, junk, sizeof(junk), 0) > 0)
		;
	assert_int_equal(errno, EAGAIN);

	memset(at(r, BUF), 0, VNET_HDR_LEN);
	fill(at(r, BUF + VNET_HDR_LEN), 1000, 7);
	head = add_chain(r, TXQ, s, 1);
	kick(r, TXQ);
	settle(r);
	assert_int_equal(used_count(r, TXQ), 0);
	/*
	 * The guest rewrites the header it posted while the chain waits: the
	 * tap still gets the header ember checked, not offloads it never did.
	 */
	memset(at(r, BUF), 0xab, VNET_HDR_LEN);

	while (recv(r->host, got, sizeof(got), 0) == sizeof(junk))
		;
	pump(r, TXQ, 1);
	used_next(r, TXQ, head);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 1000);
	for (unsigned i = 0; i < VNET_HDR_LEN; i++)
		assert_int_equal(got[i], 0);
	assert_memory_equal(got + VNET_HDR_LEN, at(r, BUF + VNET_HDR_LEN), 1000);
	settle(r);
}

static void test_rx(void **state)
{
	struct rig *r = *state;
	uint16_t h1, h2;

	h1 = post_rx(r, BUF, 2000);
	h2 = post_rx(r, BUF2, 2000);
	kick(r, RXQ);
	host_send(r, VNET_HDR_LEN + 100, 3);
	host_send(r, VNET_HDR_LEN + 1500, 4);
	pump(r, RXQ, 2);
	expect_rx(r, h1, BUF, VNET_HDR_LEN + 100, 3);
	expect_rx(r, h2, BUF2, VNET_HDR_LEN + 1500, 4);
	assert_int_equal(vnet_stats(r->n)->rx_frames, 2);
	assert_int_equal(vnet_stats(r->n)->rx_bytes, 1600);
	settle(r);
}

/* Frames arrive before buffers: nothing is lost, nothing spins, the RX kick resumes. */
static void test_rx_no_buffers_then_kick(void **state)
{
	struct rig *r = *state;
	uint16_t h[3];

	for (unsigned i = 0; i < 3; i++)
		host_send(r, VNET_HDR_LEN + 200 + i, 10 + i);
	settle(r);
	assert_int_equal(used_count(r, RXQ), 0);
	settle(r);
	for (unsigned i = 0; i < 3; i++)
		h[i] = post_rx(r, BUF + 0x10000 * i, 2000);
	kick(r, RXQ);
	pump(r, RXQ, 3);
	for (unsigned i = 0; i < 3; i++)
		expect_rx(r, h[i], BUF + 0x10000 * i, VNET_HDR_LEN + 200 + i, 10 + i);

	/* Again with the ring going empty mid-stream. */
	h[0] = post_rx(r, BUF, 2000);
	kick(r, RXQ);
	host_send(r, VNET_HDR_LEN + 64, 20);
	host_send(r, VNET_HDR_LEN + 65, 21);
	pump(r, RXQ, 1);
	expect_rx(r, h[0], BUF, VNET_HDR_LEN + 64, 20);
	settle(r);
	assert_int_equal(used_count(r, RXQ), 0);
	/* EVENT_IDX: the device asked to be kicked for the very next buffer. */
	assert_int_equal(get16(r, qbase[RXQ] + 0x2004 + 8 * QSIZE), r->avail_idx[RXQ]);
	h[1] = post_rx(r, BUF2, 2000);
	kick(r, RXQ);
	pump(r, RXQ, 1);
	expect_rx(r, h[1], BUF2, VNET_HDR_LEN + 65, 21);
}

static void test_rx_drops(void **state)
{
	struct rig *r = *state;
	const struct vnet_stats *st = vnet_stats(r->n);
	uint16_t h;

	h = post_rx(r, BUF, VNET_MAX_FRAME + 100);
	kick(r, RXQ);
	host_send(r, VNET_HDR_LEN - 1, 1);
	host_send(r, VNET_MAX_LEN + 1, 2);
	host_send(r, 1, 3);
	host_send(r, VNET_MAX_LEN, 4);
	pump(r, RXQ, 1);
	assert_int_equal(st->rx_dropped_short, 2);
	assert_int_equal(st->rx_dropped_long, 1);
	expect_rx(r, h, BUF, VNET_MAX_LEN, 4);

	/* A chain too small for the frame: frame dropped, chain returned empty. */
	h = post_rx(r, BUF, 50);
	kick(r, RXQ);
	host_send(r, VNET_HDR_LEN + 100, 5);
	pump(r, RXQ, 1);
	assert_int_equal(used_next(r, RXQ, h), 0);
	assert_int_equal(st->rx_dropped_small_buf, 1);

	/* A read-only chain is returned empty and the frame waits for a good one. */
	struct seg ro[] = {{BUF, 2000, false}};
	h = add_chain(r, RXQ, ro, 1);
	kick(r, RXQ);
	host_send(r, VNET_HDR_LEN + 100, 6);
	pump(r, RXQ, 1);
	assert_int_equal(used_next(r, RXQ, h), 0);
	assert_int_equal(st->rx_bad_chain, 1);
	h = post_rx(r, BUF2, 2000);
	kick(r, RXQ);
	pump(r, RXQ, 1);
	expect_rx(r, h, BUF2, VNET_HDR_LEN + 100, 6);
	assert_int_equal(st->rx_frames, 2);
}

/* After a reset nothing is delivered into the old rings; a new driver gets the frames. */
static void test_reset(void **state)
{
	struct rig *r = *state;
	uint16_t h;

	host_send(r, VNET_HDR_LEN + 80, 30);
	settle(r);
	wr(r, VIRTIO_MMIO_STATUS, 0);
	post_rx(r, BUF, 2000);
	settle(r);
	assert_int_equal(get16(r, qbase[RXQ] + 0x2002), 0);
	driver_up(r, ~0ull);
	h = post_rx(r, BUF2, 2000);
	kick(r, RXQ);
	pump(r, RXQ, 1);
	expect_rx(r, h, BUF2, VNET_HDR_LEN + 80, 30);
}

/* One frame per 200 ms each way: the second frame waits for the timer, nothing spins. */
static int setup_limited(void **state)
{
	const struct tbucket_cfg one = {.size = 1, .refill_time_ms = 200};
	struct vnet_config cfg = {.iface_id = "eth0", .host_dev_name = "fake0"};

	cfg.rx_limiter.ops = one;
	cfg.tx_limiter.ops = one;
	setup_with(state, &cfg);
	driver_up(*state, ~0ull);
	return 0;
}

static void test_rate_limited(void **state)
{
	struct rig *r = *state;
	struct seg s[] = {{BUF, VNET_HDR_LEN, false}, {BUF + 0x1000, 100, false}};
	uint8_t got[256];
	uint64_t t0 = time_now_us();
	uint16_t h1, h2;

	memset(at(r, BUF), 0, VNET_HDR_LEN);
	add_chain(r, TXQ, s, 2);
	add_chain(r, TXQ, s, 2);
	kick(r, TXQ);
	settle(r);
	assert_int_equal(used_count(r, TXQ), 1);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 100);
	assert_true(recv(r->host, got, sizeof(got), MSG_DONTWAIT) < 0);
	assert_int_equal(vnet_stats(r->n)->tx_throttled, 1);
	pump(r, TXQ, 2);
	assert_int_equal(recv(r->host, got, sizeof(got), 0), VNET_HDR_LEN + 100);
	assert_true(time_now_us() - t0 >= 150000);

	h1 = post_rx(r, BUF, 2000);
	h2 = post_rx(r, BUF2, 2000);
	kick(r, RXQ);
	t0 = time_now_us();
	host_send(r, VNET_HDR_LEN + 100, 3);
	host_send(r, VNET_HDR_LEN + 200, 4);
	run_once(r, 50);
	settle(r); /* the second frame waits; the tap is not polled meanwhile */
	assert_int_equal(used_count(r, RXQ), 1);
	expect_rx(r, h1, BUF, VNET_HDR_LEN + 100, 3);
	assert_true(vnet_stats(r->n)->rx_throttled >= 1);
	pump(r, RXQ, 1);
	expect_rx(r, h2, BUF2, VNET_HDR_LEN + 200, 4);
	assert_true(time_now_us() - t0 >= 150000);
}

/* A PATCH that lifts the limit lets the waiting frame go at once. */
static void test_rate_limit_lifted(void **state)
{
	const struct limiter_cfg none = {0};
	struct rig *r = *state;
	struct seg s[] = {{BUF, VNET_HDR_LEN, false}, {BUF + 0x1000, 100, false}};
	const struct vdev_type *t = vdev_type_find("net");

	memset(at(r, BUF), 0, VNET_HDR_LEN);
	for (int i = 0; i < 3; i++)
		add_chain(r, TXQ, s, 2);
	kick(r, TXQ);
	settle(r);
	assert_int_equal(used_count(r, TXQ), 1);
	assert_int_equal(t->set_limiter(r->n, "tx", &none), 0);
	settle(r);
	assert_int_equal(used_count(r, TXQ), 3);
	assert_int_equal(t->set_limiter(r->n, "sideways", &none), -EINVAL);
}

static void test_create_tap_missing(void **state)
{
	struct vnet_config cfg = {.iface_id = "x", .host_dev_name = "ember-nope0"};
	struct guest_mem gm;
	struct vnet *n = (void *)1;

	(void)state;
	fake_gm_init(&gm, RAM, 0, 0);
	assert_int_equal(vnet_create(&n, &cfg, &gm, NULL), -ENODEV);
	assert_null(n);
	fake_gm_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_parse),
	    cmocka_unit_test(test_create_tap_missing),
	    cmocka_unit_test_setup_teardown(test_features_and_mac, setup_mac, teardown),
	    cmocka_unit_test_setup_teardown(test_no_mac_feature, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offloads_follow_guest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_offload_not_negotiated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_eagain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_no_buffers_then_kick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limited, setup_limited, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limit_lifted, setup_limited, teardown),
	};
	return cmocka_run_group_tests_name("vnet", tests, NULL, NULL);
}
