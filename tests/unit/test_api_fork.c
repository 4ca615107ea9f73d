// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /vm/fork's router side (api_fork.c): the body, checked whole before
 * the VMM thread sees it, when a fork is allowed, and that the parent's
 * state is unchanged by the outcome either way.
 */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "api.h"

#include "api_client.h"

#define CHILD(n)                                                                                   \
	"{\"api_sock\":\"/run/c" #n ".sock\",\"serial_out_path\":\"/run/c" #n ".out\","            \
	"\"vsock_override\":{\"uds_path\":\"/run/v" #n ".sock\"},"                                 \
	"\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap" #n "\"}]}"

static void test_fork(void **state)
{
	struct t *t = *state;

	start_vm(t);
	PUT("/vm/fork",
	    "{\"children\":[" CHILD(1) "," CHILD(2) ",{\"api_sock\":\"/run/c3.sock\"}]}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(t->cmd.kind, API_CMD_FORK);
	assert_non_null(t->cmd.fork);
	assert_int_equal(t->cmd.fork->nr, 3);
	assert_string_equal(t->cmd.fork->child[1].api_sock, "/run/c2.sock");
	assert_string_equal(t->cmd.fork->child[1].serial_out_path, "/run/c2.out");
	assert_true(t->cmd.fork->child[1].ov.has_vsock_override);
	assert_string_equal(t->cmd.fork->child[1].ov.vsock_uds_path, "/run/v2.sock");
	assert_int_equal(t->cmd.fork->child[1].ov.nr_net_overrides, 1);
	assert_string_equal(t->cmd.fork->child[1].ov.net_overrides[0].host_dev_name, "tap2");
	assert_string_equal(t->cmd.fork->child[2].serial_out_path, "");
	assert_false(t->cmd.fork->child[2].ov.has_vsock_override);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
	/* A paused parent can fork and stays paused; a failure leaves it as it was. */
	PATCH("/vm", "{\"state\":\"Paused\"}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(complete(t, 0, ""), 204);
	PUT("/vm/fork", "{\"children\":[" CHILD(1) "]}");
	assert_int_equal(t->cmd.kind, API_CMD_FORK);
	FAULT(complete(t, -EINVAL, "Fork failed: child 0: cannot bind"), "cannot bind");
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
	PUT("/vm/fork", "{\"children\":[" CHILD(1) "]}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
}

static void test_fork_refused(void **state)
{
	struct t *t = *state;
	char many[4096];
	size_t n;

	static const char *const bad[][2] = {
	    {"{}", "children"},
	    {"{\"children\":[]}", "1 to 16"},
	    {"{\"children\":{}}", "children"},
	    {"{\"children\":[{}]}", "api_sock"},
	    {"{\"children\":[{\"api_sock\":\"\"}]}", "api_sock"},
	    {"{\"children\":[{\"api_sock\":\"/a\",\"bogus\":1}]}", "bogus"},
	    {"{\"children\":[{\"api_sock\":\"/a\"}],\"extra\":true}", "extra"},
	    {"{\"children\":[{\"api_sock\":\"/a\"},{\"api_sock\":\"/a\"}]}", "same api_sock"},
	    {"{\"children\":[{\"api_sock\":\"/a\",\"serial_out_path\":\"/o\"},"
	     "{\"api_sock\":\"/b\",\"serial_out_path\":\"/o\"}]}",
	     "same serial_out_path"},
	    {"{\"children\":[{\"api_sock\":\"/a\",\"vsock_override\":{\"uds_path\":\"/v\"}},"
	     "{\"api_sock\":\"/b\",\"vsock_override\":{\"uds_path\":\"/v\"}}]}",
	     "same vsock"},
	    {"{\"children\":[{\"api_sock\":\"/a\",\"network_overrides\":[{\"iface_id\":\"e\"}]}]}",
	     "host_dev_name"},
	    {"{\"children\":[{\"api_sock\":\"/a\",\"vsock_override\":{}}]}", "uds_path"},
	    {"{\"children\":[\"/a\"]}", "children[0]"},
	};

	/* The microVM's vsock path is the parent's: every child needs its own. */
	t->st.cfg.vsock =
	    (struct api_vsock){.set = true, .guest_cid = 3, .uds_path = "/run/v.sock"};
	t->st.vm_state = API_VM_RUNNING;
	FAULT(PUT("/vm/fork", "{\"children\":[{\"api_sock\":\"/a\"}]}"), "vsock_override");
	FAULT(PUT("/vm/fork", "{\"children\":[{\"api_sock\":\"/a\",\"vsock_override\":"
			      "{\"uds_path\":\"/run/v.sock\"}}]}"),
	      "of its own");
	PUT("/vm/fork", "{\"children\":[{\"api_sock\":\"/a\",\"vsock_override\":"
			"{\"uds_path\":\"/run/v1.sock\"}}]}");
	assert_int_equal(t->res, API_EXEC);
	complete(t, 0, "");
	t->st.cfg.vsock.set = false;
	t->st.vm_state = API_VM_NOT_STARTED;
	/* Before the start: nothing to fork. */
	FAULT(PUT("/vm/fork", "{\"children\":[{\"api_sock\":\"/a\"}]}"), "running or paused");
	start_vm(t);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		FAULT(PUT("/vm/fork", bad[i][0]), bad[i][1]);
	/* Seventeen children: one too many. */
	n = (size_t)snprintf(many, sizeof(many), "{\"children\":[");
	for (int i = 0; i < API_FORK_MAX + 1; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s{\"api_sock\":\"/c%d\"}",
				      i ? "," : "", i);
	snprintf(many + n, sizeof(many) - n, "]}");
	FAULT(PUT("/vm/fork", many), "1 to 16");
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
