// SPDX-License-Identifier: Apache-2.0
/*
 * MMDS inside virtio-net: frames for the MMDS address leave the TX queue
 * and come back on the RX queue without the tap seeing them; other frames
 * still reach the tap; a NIC not listed has no MMDS; a restored NIC's
 * settings bring the MMDS version and address back into a fresh store.
 */
#include <jansson.h>
#include <stdio.h>

#include "vnet_rig.h"

#include "device.h"
#include "mmds_store.h"

static const uint8_t guest_mac[6] = {0x06, 0x00, 0xac, 0x1e, 0x00, 0x02};

static struct mmds *store_for(const char *iface, enum mmds_version v)
{
	struct mmds_config c = {.version = v, .ipv4 = MMDS_DEFAULT_IPV4, .nr_ifaces = 1};
	struct mmds *m;

	assert_int_equal(mmds_create(&m, 0), 0);
	snprintf(c.ifaces[0], sizeof(c.ifaces[0]), "%s", iface);
	mmds_set_config(m, &c);
	return m;
}

/* An ARP request from the guest for @tpa, with its virtio header, at BUF. */
static size_t arp_frame(struct rig *r, uint32_t tpa)
{
	uint8_t *f = at(r, BUF);

	memset(f, 0, VNET_HDR_LEN + 42);
	f += VNET_HDR_LEN;
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;    /* Ethernet */
	f[16] = 0x08; /* IPv4 */
	f[18] = 6;
	f[19] = 4;
	f[21] = 1; /* request */
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, "\xac\x1e\x00\x02", 4);
	for (int i = 0; i < 4; i++)
		f[38 + i] = (uint8_t)(tpa >> (24 - 8 * i));
	return VNET_HDR_LEN + 42;
}

static void send_tx(struct rig *r, size_t len)
{
	struct seg s[] = {{BUF, (uint32_t)len, false}};
	uint16_t head = add_chain(r, TXQ, s, 1);

	kick(r, TXQ);
	pump(r, TXQ, 1);
	assert_int_equal(used_next(r, TXQ, head), 0);
}

static void test_arp_through_device(void **state)
{
	struct rig *r = *state;
	struct mmds *m = store_for("eth0", MMDS_V1);
	uint8_t got[256];
	uint16_t head;

	assert_int_equal(vnet_mmds_attach(r->n, m), 0);
	assert_true(vnet_get_config(r->n)->mmds);
	assert_int_equal(vnet_get_config(r->n)->mmds_ipv4, MMDS_DEFAULT_IPV4);
	head = post_rx(r, BUF2, 1514);
	send_tx(r, arp_frame(r, MMDS_DEFAULT_IPV4));
	pump(r, RXQ, 1);
	assert_int_equal(used_next(r, RXQ, head), VNET_HDR_LEN + 42);
	assert_int_equal(at(r, BUF2)[10], 1); /* num_buffers */
	assert_memory_equal(at(r, BUF2) + VNET_HDR_LEN, guest_mac, 6);
	assert_memory_equal(at(r, BUF2) + VNET_HDR_LEN + 22, "\x06\x01\x23\x45\x67\x01", 6);
	assert_int_equal(recv(r->host, got, sizeof(got), MSG_DONTWAIT), -1); /* not the tap's */
	assert_int_equal(vnet_stats(r->n)->tx_mmds, 1);
	assert_int_equal(vnet_stats(r->n)->rx_mmds, 1);
	/* An ARP for another address is the tap's, as before. */
	send_tx(r, arp_frame(r, 0xac1e0001));
	assert_int_equal(recv(r->host, got, sizeof(got), MSG_DONTWAIT), VNET_HDR_LEN + 42);
	settle(r);
	vnet_destroy(r->n); /* before the store: the device reads it */
	r->n = NULL;
	mmds_destroy(m);
}

static void test_not_listed(void **state)
{
	struct rig *r = *state;
	struct mmds *m = store_for("eth1", MMDS_V1);
	uint8_t got[256];

	assert_int_equal(vnet_mmds_attach(r->n, m), 0);
	assert_false(vnet_get_config(r->n)->mmds);
	send_tx(r, arp_frame(r, MMDS_DEFAULT_IPV4));
	assert_int_equal(recv(r->host, got, sizeof(got), MSG_DONTWAIT), VNET_HDR_LEN + 42);
	vnet_destroy(r->n);
	r->n = NULL;
	mmds_destroy(m);
}

/* A snapshot's NIC (mmds on, V2, 169.254.170.2) into an unconfigured store. */
static void test_restored(void **state)
{
	struct vnet_config cfg = {.iface_id = "eth0",
				  .host_dev_name = "fake0",
				  .mmds = true,
				  .mmds_ipv4 = 0xa9feaa02,
				  .mmds_version = MMDS_V2,
				  .mmds_imds_compat = true};
	struct mmds_config c;
	struct mmds *m;
	struct rig *r;
	uint32_t ip;

	assert_int_equal(mmds_create(&m, 0), 0);
	setup_with(state, &cfg);
	r = *state;
	assert_int_equal(vnet_mmds_attach(r->n, m), 0);
	assert_true(mmds_iface_enabled(m, "eth0", &ip));
	assert_int_equal(ip, 0xa9feaa02);
	mmds_get_config(m, &c);
	assert_int_equal(c.version, MMDS_V2);
	assert_true(c.imds_compat);
	vnet_destroy(r->n);
	r->n = NULL;
	mmds_destroy(m);
}

/* The NIC's MMDS settings in a snapshot: kept, and a bad version refused. */
static void test_state(void **state)
{
	struct vnet_config cfg = {.iface_id = "eth0",
				  .host_dev_name = "tap0",
				  .mmds = true,
				  .mmds_ipv4 = 0xa9feaa02,
				  .mmds_version = MMDS_V2,
				  .mmds_imds_compat = true};
	const struct vdev_type *type = vdev_type_find("net");
	const struct vnet_config *got;
	struct vdev_config out;
	char err[256] = "";
	struct pw w;

	(void)state;
	pw_init(&w);
	assert_int_equal(vdev_state_save(type, &cfg, &w), 0);
	assert_int_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
	got = (const void *)out.data;
	assert_true(got->mmds);
	assert_int_equal(got->mmds_ipv4, 0xa9feaa02);
	assert_int_equal(got->mmds_version, MMDS_V2);
	assert_true(got->mmds_imds_compat);
	/* The version is the last byte but one: 3 is no MMDS version. */
	w.buf[w.len - 2] = 3;
	assert_int_not_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "a bad MMDS address or version"));
	w.buf[w.len - 2] = MMDS_V2;
	w.buf[w.len - 5] = 0; /* 169.254.0.x: not an address PUT /mmds/config takes */
	assert_int_not_equal(vdev_state_load(w.buf, w.len, &out, err, sizeof(err)), 0);
	pw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_arp_through_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_listed, setup, teardown),
	    cmocka_unit_test_teardown(test_restored, teardown),
	    cmocka_unit_test(test_state),
	};
	return cmocka_run_group_tests_name("vnet_mmds", tests, NULL, NULL);
}
