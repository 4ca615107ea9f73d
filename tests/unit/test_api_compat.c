// SPDX-License-Identifier: Apache-2.0
/*
 * What Firecracker's clients read and send beyond the basics (issue 16):
 * the version they gate features on, the full GET /vm/config key set, the
 * Deprecation header, metrics emit_id/properties, snapshot-load huge_pages
 * and PUT-time checks of the host files a request names.
 */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "api.h"
#include "config.h"

#include "api_client.h"

/*
 * One version everywhere a client looks: GET /version, GET /'s vmm_version
 * and `ember --version`, whose first line Kata splits into words (the second
 * without its "v" must be a semver >= 0.21.1) and the go-sdk's tests match
 * from "Firecracker v" to the end of the line.
 */
static void test_identity(void **state)
{
	struct t *t = *state;
	char *text = NULL, *nl, *word;
	unsigned major, minor, patch;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *o;

	assert_int_equal(GET("/version"), 200);
	o = body_json(t);
	assert_int_equal(json_object_size(o), 1);
	assert_string_equal(json_string_value(json_object_get(o, "firecracker_version")),
			    EMBER_FC_VERSION);
	json_decref(o);
	assert_int_equal(GET("/"), 200);
	o = body_json(t);
	assert_string_equal(json_string_value(json_object_get(o, "vmm_version")), EMBER_FC_VERSION);
	assert_string_equal(json_string_value(json_object_get(o, "app_name")), "ember");
	json_decref(o);

	assert_non_null(f);
	cli_print_version(f);
	fclose(f);
	assert_int_equal(strncmp(text, "Firecracker v", 13), 0);
	nl = strchr(text, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_string_equal(text + 13, EMBER_FC_VERSION); /* the go-sdk's regexp */
	word = strchr(text, ' ') + 1;			  /* Kata: fields[1] */
	assert_null(strchr(word, ' '));
	assert_int_equal(sscanf(word, "v%u.%u.%u", &major, &minor, &patch), 3);
	assert_true(major > 0 || minor > 21 || (minor == 21 && patch >= 1));
	assert_non_null(strstr(nl + 1, "ember " EMBER_VERSION)); /* and ember's own */
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	};
	return cmocka_run_group_tests_name("api_compat", tests, NULL, NULL);
}
