// SPDX-License-Identifier: Apache-2.0
/*
 * The live fork's request to a child (fork_msg.c): a round trip, and a
 * child refusing headers and documents it cannot trust.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "fork_msg.h"

static void sample(struct fork_msg *m)
{
	*m = (struct fork_msg){
	    .paused = true, .log_level = LOG_WARN, .state_len = 12345, .nr_nets = 2, .pages = 77};
	strcpy(m->api_sock, "/run/c1.sock");
	strcpy(m->serial_out_path, "/run/c1.out");
	strcpy(m->vsock_uds, "/run/v1.sock");
	strcpy(m->nets[0].iface_id, "eth0");
	strcpy(m->nets[0].host_dev_name, "tap1");
	strcpy(m->nets[1].iface_id, "eth1");
	strcpy(m->nets[1].host_dev_name, "tap2");
}

/* A pooled child's hint: its fields back, and nothing else taken for one. */
static void test_prep(void **state)
{
	struct fork_prep in = {.vcpus = 2, .mem_mib = 5ull << 30 >> 20, .huge = true}, out;
	uint8_t b[FORK_PREP_LEN];

	(void)state;
	fork_prep_encode(&in, b);
	assert_int_equal(b[0], 'P');
	assert_int_equal(fork_prep_decode(b, &out), 0);
	assert_int_equal(out.vcpus, 2);
	assert_int_equal(out.mem_mib, 5120);
	assert_true(out.huge);
	in.huge = false;
	fork_prep_encode(&in, b);
	assert_int_equal(fork_prep_decode(b, &out), 0);
	assert_false(out.huge);
	assert_int_equal(out.nr_slots, 0);
	/* The queues of each slot's device, and only of the slots in use. */
	in.nr_slots = 2;
	in.queues[0] = 3;
	in.queues[1] = FORK_PREP_MAX_QUEUES;
	fork_prep_encode(&in, b);
	assert_int_equal(fork_prep_decode(b, &out), 0);
	assert_int_equal(out.nr_slots, 2);
	assert_int_equal(out.queues[0], 3);
	assert_int_equal(out.queues[1], FORK_PREP_MAX_QUEUES);
	assert_int_equal(out.queues[2], 0);
	static const struct {
		unsigned off;
		uint8_t v;
	} bad_q[] = {{2, FORK_PREP_MAX_SLOTS + 1},   {2, 3},  {16, 0},
		     {17, FORK_PREP_MAX_QUEUES + 1}, {18, 1}, {FORK_PREP_LEN - 1, 1}};
	for (size_t i = 0; i < sizeof(bad_q) / sizeof(bad_q[0]); i++) {
		uint8_t c[FORK_PREP_LEN];

		memcpy(c, b, sizeof(c));
		c[bad_q[i].off] = bad_q[i].v;
		assert_int_equal(fork_prep_decode(c, &out), -EINVAL);
	}
	/* A request's first byte, unknown flags or padding, no or too many vCPUs, bad sizes. */
	static const struct {
		unsigned off;
		uint8_t v;
	} bad[] = {{0, 'E'}, {1, 2}, {2, 1}, {3, 1}, {4, 0}, {5, 4}, {8, 0}, {11, 0x10}, {15, 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t c[FORK_PREP_LEN];

		fork_prep_encode(&(struct fork_prep){.vcpus = 1, .mem_mib = 128}, c);
		assert_int_equal(fork_prep_decode(c, &out), 0);
		c[bad[i].off] = bad[i].v;
		if (bad[i].off == 8) /* 0 MiB */
			c[9] = 0;
		assert_int_equal(fork_prep_decode(c, &out), -EINVAL);
	}
}

static void test_round_trip(void **state)
{
	struct fork_msg in, out;
	char err[200];
	uint8_t *buf;
	size_t len;
	uint32_t jl;

	(void)state;
	sample(&in);
	assert_int_equal(fork_msg_encode(&in, &buf, &len), 0);
	assert_int_equal(fork_msg_header(buf, &jl, err, sizeof(err)), 0);
	assert_int_equal(jl + FORK_MSG_HDR, len);
	assert_int_equal(
	    fork_msg_decode((char *)buf + FORK_MSG_HDR, jl, 1u << 20, &out, err, sizeof(err)), 0);
	assert_string_equal(out.api_sock, "/run/c1.sock");
	assert_string_equal(out.serial_out_path, "/run/c1.out");
	assert_string_equal(out.vsock_uds, "/run/v1.sock");
	assert_int_equal(out.nr_nets, 2);
	assert_string_equal(out.nets[1].host_dev_name, "tap2");
	assert_true(out.paused);
	assert_false(out.no_seccomp);
	assert_int_equal(out.log_level, LOG_WARN);
	assert_int_equal(out.state_len, 12345);
	assert_int_equal(out.pages, 77);
	/* A state larger than the child accepts. */
	assert_int_equal(
	    fork_msg_decode((char *)buf + FORK_MSG_HDR, jl, 100, &out, err, sizeof(err)), -EINVAL);
	/* Another version, another magic, an empty or huge document. */
	buf[8] = 1; /* version 1: RAM inherited from the process starter, not sent */
	assert_int_equal(fork_msg_header(buf, &jl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "version 1"));
	buf[8] = FORK_MSG_VERSION;
	buf[0] = 'X';
	assert_int_equal(fork_msg_header(buf, &jl, err, sizeof(err)), -EINVAL);
	buf[0] = 'E';
	memset(buf + 12, 0, 4);
	assert_int_equal(fork_msg_header(buf, &jl, err, sizeof(err)), -EINVAL);
	memset(buf + 12, 0xff, 4);
	assert_int_equal(fork_msg_header(buf, &jl, err, sizeof(err)), -EINVAL);
	free(buf);
}

static void test_bad_documents(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{}",
	    "not json",
	    /* no api_sock */
	    "{\"api_sock\":\"\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":1,\"state_len\":10,\"pages\":0}",
	    /* a level out of range */
	    "{\"api_sock\":\"/a\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":9,\"state_len\":10,\"pages\":0}",
	    /* no state */
	    "{\"api_sock\":\"/a\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":1,\"state_len\":0,\"pages\":0}",
	    /* pages out of range */
	    "{\"api_sock\":\"/a\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":1,\"state_len\":10,\"pages\":-1}",
	    /* a tap name too long, a NUL inside a string */
	    "{\"api_sock\":\"/a\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[{"
	    "\"iface_id\":\"eth0\",\"host_dev_name\":\"0123456789abcdefg\"}],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":1,\"state_len\":10,\"pages\":0}",
	    "{\"api_sock\":\"/a\\u0000b\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":1,\"state_len\":10,\"pages\":0}",
	};
	struct fork_msg m;
	char err[200];

	static const char good[] =
	    "{\"api_sock\":\"/a\",\"serial_out_path\":\"\",\"vsock_uds\":\"\",\"nets\":[],"
	    "\"seccomp_filter\":\"\",\"paused\":false,\"no_seccomp\":false,"
	    "\"allow_kvm_pvm\":false,\"log_level\":1,\"state_len\":10,\"pages\":0}";

	(void)state;
	/* The documents below differ from this one in one field each. */
	assert_int_equal(fork_msg_decode(good, strlen(good), 1u << 20, &m, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(
		    fork_msg_decode(bad[i], strlen(bad[i]), 1u << 20, &m, err, sizeof(err)),
		    -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_prep),
	    cmocka_unit_test(test_bad_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
