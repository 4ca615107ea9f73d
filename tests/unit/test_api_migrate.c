// SPDX-License-Identifier: Apache-2.0
/*
 * The router's migration endpoints (api_migrate.c): bodies, when each is
 * allowed, GET / saying "Migrating" until the VMM thread's outcome, and
 * adopting the configuration it restored.
 */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "api.h"

#include "api_client.h"

static atomic_int outcome;

static int setup_mig(void **state)
{
	int r = setup(state);
	struct t *t = *state;

	atomic_store(&outcome, API_MIG_PENDING);
	t->st.migration = &outcome;
	return r;
}

#define RECV_OK                                                                                    \
	"{\"url\":\"unix:/run/mig.sock\",\"network_overrides\":[{\"iface_id\":\"eth0\","           \
	"\"host_dev_name\":\"tap9\"}],\"vsock_override\":{\"uds_path\":\"/run/v2.sock\"}}"

static void test_receive(void **state)
{
	struct t *t = *state;

	PUT("/migration/receive", RECV_OK);
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(t->cmd.kind, API_CMD_MIGRATE_RECV);
	assert_string_equal(t->cmd.migrate.url, "unix:/run/mig.sock");
	assert_int_equal(t->cmd.migrate.load.nr_net_overrides, 1);
	assert_string_equal(t->cmd.migrate.load.net_overrides[0].host_dev_name, "tap9");
	assert_true(t->cmd.migrate.load.has_vsock_override);
	assert_non_null(t->cmd.migrate.load.restored);
	/* The VMM thread fills this later; here, what it would. */
	t->cmd.migrate.load.restored->machine.mem_size_mib = 256;
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(GET("/"), 200);
	assert_non_null(strstr(t->resp.body, "\"Migrating\""));
	/* Nothing else may be configured meanwhile. */
	FAULT(PUT("/migration/receive", RECV_OK), "fresh ember");
	FAULT(PUT("/migration/send", "{\"url\":\"unix:/x\"}"), "running or paused");
	atomic_store(&outcome, API_MIG_PAUSED);
	assert_int_equal(GET("/"), 200);
	assert_non_null(strstr(t->resp.body, "\"Paused\""));
	assert_int_equal(t->st.cfg.machine.mem_size_mib, 256);
}

static void test_receive_refused(void **state)
{
	struct t *t = *state;

	static const char *const bad[][2] = {
	    {"{}", "url"},
	    {"{\"url\":\"ftp:x\"}", "unix:/path"},
	    {"{\"url\":\"unix:/x\",\"bogus\":1}", "bogus"},
	    {"{\"url\":\"unix:/x\",\"max_downtime_ms\":5}", "max_downtime_ms"},
	    {"{\"url\":\"unix:/x\",\"network_overrides\":[{\"iface_id\":\"a\"}]}", "host_dev_name"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		FAULT(PUT("/migration/receive", bad[i][0]), bad[i][1]);
	/* A failed listen: still a fresh ember, Not started. */
	PUT("/migration/receive", "{\"url\":\"tcp:1.2.3.4:99\"}");
	FAULT(complete(t, -EADDRNOTAVAIL, "cannot listen"), "cannot listen");
	assert_int_equal(t->st.vm_state, API_VM_NOT_STARTED);
	/* After a boot-specific PUT: refused, as a snapshot load is. */
	assert_int_equal(PUT("/boot-source", "{\"kernel_image_path\":\"/k\"}"), 204);
	FAULT(PUT("/migration/receive", RECV_OK), "fresh ember");
}

static void test_send(void **state)
{
	struct t *t = *state;

	FAULT(PUT("/migration/send", "{\"url\":\"unix:/x\"}"), "running or paused");
	start_vm(t);
	FAULT(PUT("/migration/send", "{\"url\":\"unix:/x\",\"max_downtime_ms\":0}"),
	      "max_downtime_ms");
	FAULT(PUT("/migration/send", "{\"url\":\"tcp:nocolon\"}"), "tcp:ADDRESS:PORT");
	FAULT(PUT("/migration/send", "{\"url\":\"unix:/x\",\"network_overrides\":[]}"),
	      "network_overrides");
	PUT("/migration/send", "{\"url\":\"tcp:10.0.0.2:4444\",\"max_downtime_ms\":50}");
	assert_int_equal(t->cmd.kind, API_CMD_MIGRATE_SEND);
	assert_int_equal(t->cmd.migrate.max_downtime_ms, 50);
	/* Refused by the destination: 400 with its reason, the VM as it was. */
	FAULT(complete(t, -EREMOTEIO, "Migration failed: the destination refused: no tap9"),
	      "no tap9");
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
	PUT("/migration/send", "{\"url\":\"unix:/x\"}");
	assert_int_equal(t->cmd.migrate.max_downtime_ms, 300);
	assert_int_equal(complete(t, 0, ""), 204);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_receive, setup_mig, teardown),
	    cmocka_unit_test_setup_teardown(test_receive_refused, setup_mig, teardown),
	    cmocka_unit_test_setup_teardown(test_send, setup_mig, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
