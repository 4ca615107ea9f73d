/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client of the router for the API unit tests: one request at a time into
 * api_handle(), the VMM's verdict through api_complete(), and checks on the
 * {"fault_message": ...} bodies.  Tests use `struct t *t` from *state.
 */
#ifndef EMBER_TEST_API_CLIENT_H
#define EMBER_TEST_API_CLIENT_H

#include <jansson.h>
#include <stdio.h>

#include "api.h"

struct t {
	struct api_state st;
	struct api_response resp;
	struct api_cmd cmd;
	enum api_result res;
	bool vet_by_hand; /* API_CMD_CHECK waits for complete() */
};

/* One request; the previous response is freed. */
static inline int req(struct t *t, enum http_method m, const char *path, const char *body)
{
	struct http_request r = {.method = m, .keep_alive = true};

	api_response_free(&t->resp);
	snprintf(r.path, sizeof(r.path), "%s", path);
	r.body = (char *)body;
	r.body_len = body ? strlen(body) : 0;
	t->res = api_handle(&t->st, &r, &t->resp, &t->cmd);
	/* The VMM's PUT-time checks pass unless a test plays the VMM itself. */
	if (t->res == API_EXEC && t->cmd.kind == API_CMD_CHECK && !t->vet_by_hand) {
		api_complete(&t->st, &t->cmd, 0, "", &t->resp);
		t->res = API_DONE;
	}
	return t->resp.status;
}

#define GET(p)	    req(t, HTTP_GET, p, NULL)
#define PUT(p, b)   req(t, HTTP_PUT, p, b)
#define PATCH(p, b) req(t, HTTP_PATCH, p, b)

/* The request ran on the "VMM" with @rc; returns the final status. */
static inline int complete(struct t *t, int rc, const char *msg)
{
	assert_int_equal(t->res, API_EXEC);
	api_complete(&t->st, &t->cmd, rc, msg, &t->resp);
	t->res = API_DONE;
	return t->resp.status;
}

/* A 400 whose body is exactly {"fault_message": "..."} containing @needle. */
static inline void expect_fault(struct t *t, int status, const char *needle)
{
	json_t *o;

	if (status != 400)
		fail_msg("got %d, want 400 with \"%s\"", status, needle);
	assert_int_equal(t->res, API_DONE);
	o = json_loads(t->resp.body, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 1);
	assert_true(json_is_string(json_object_get(o, "fault_message")));
	assert_int_equal(strncmp(t->resp.body, "{\"fault_message\":\"", 18), 0);
	if (!strstr(json_string_value(json_object_get(o, "fault_message")), needle))
		fail_msg("\"%s\" lacks \"%s\"", t->resp.body, needle);
	json_decref(o);
}

#define FAULT(call, needle) expect_fault(t, call, needle)

static inline int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_int_equal(api_state_init(&t->st, "vm-1"), 0);
	*state = t;
	return 0;
}

static inline int teardown(void **state)
{
	struct t *t = *state;

	api_response_free(&t->resp);
	free(t);
	return 0;
}

static inline json_t *body_json(struct t *t)
{
	json_t *o = json_loads(t->resp.body, 0, NULL);

	assert_non_null(o);
	return o;
}

static inline void start_vm(struct t *t)
{
	assert_int_equal(PUT("/boot-source", "{\"kernel_image_path\":\"/k\"}"), 204);
	PUT("/actions", "{\"action_type\":\"InstanceStart\"}");
	assert_int_equal(t->cmd.kind, API_CMD_START);
	assert_ptr_equal(t->cmd.cfg, &t->st.cfg);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
}

#endif /* EMBER_TEST_API_CLIENT_H */
