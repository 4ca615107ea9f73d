// SPDX-License-Identifier: Apache-2.0
/* machine-config huge_pages (issue 18): "None" and "2M", Firecracker's size rule, round trip. */
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

#include "api.h"
#include "cmdq.h"

#include "api_client.h"

static const char *get_huge(struct t *t, const char *path)
{
	static char v[16];
	json_t *o, *m;

	assert_int_equal(GET(path), 200);
	o = body_json(t);
	m = json_object_get(o, "machine-config");
	snprintf(v, sizeof(v), "%s",
		 json_string_value(json_object_get(m ? m : o, "huge_pages")) ?: "(none)");
	json_decref(o);
	return v;
}

static void test_huge_round_trip(void **state)
{
	struct t *t = *state;
	struct api_machine_config *m = &t->st.cfg.machine;

	assert_int_equal(
	    PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":256,\"huge_pages\":\"2M\"}"),
	    204);
	assert_int_equal(m->huge_pages, API_HUGE_2M);
	assert_string_equal(get_huge(t, "/machine-config"), "2M");
	assert_string_equal(get_huge(t, "/vm/config"), "2M");
	/* PATCH keeps it; PUT without it goes back to Firecracker's default, "None". */
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":512}"), 204);
	assert_string_equal(get_huge(t, "/vm/config"), "2M");
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":255}"), 204);
	assert_int_equal(m->huge_pages, API_HUGE_NONE);
	assert_string_equal(get_huge(t, "/vm/config"), "None");
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":256,\"huge_pages\":\"2M\"}"),
			 204);
	assert_string_equal(get_huge(t, "/machine-config"), "2M");
	assert_int_equal(PATCH("/machine-config", "{\"huge_pages\":\"None\"}"), 204);
	assert_string_equal(get_huge(t, "/machine-config"), "None");
}

#define SIZE_MSG "The memory size (MiB) is either 0, or not a multiple of the configured page size."

static void test_huge_refused(void **state)
{
	struct t *t = *state;
	struct api_machine_config *m = &t->st.cfg.machine;

	/* Whole 2 MiB pages only, whichever request brings the odd size or the 2M. */
	FAULT(
	    PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":129,\"huge_pages\":\"2M\"}"),
	    SIZE_MSG);
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":129}"), 204);
	FAULT(PATCH("/machine-config", "{\"huge_pages\":\"2M\"}"), SIZE_MSG);
	assert_int_equal(m->huge_pages, API_HUGE_NONE);
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":128,\"huge_pages\":\"2M\"}"),
			 204);
	FAULT(PATCH("/machine-config", "{\"mem_size_mib\":127}"), SIZE_MSG);
	assert_int_equal(m->mem_size_mib, 128);
	assert_int_equal(m->huge_pages, API_HUGE_2M);
	FAULT(PATCH("/machine-config", "{\"huge_pages\":\"Transparent\"}"),
	      "\"huge_pages\" \"Transparent\" is not supported by ember");
	FAULT(PATCH("/machine-config", "{\"huge_pages\":\"1G\"}"),
	      "\"huge_pages\" must be one of \"None\", \"Transparent\", \"2M\"");
	FAULT(PATCH("/machine-config", "{\"huge_pages\":2}"), "\"huge_pages\"");
	/* null is "not given", as for Firecracker's Option: PATCH keeps the 2M. */
	assert_int_equal(PATCH("/machine-config", "{\"huge_pages\":null}"), 204);
	assert_int_equal(m->huge_pages, API_HUGE_2M);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_huge_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
