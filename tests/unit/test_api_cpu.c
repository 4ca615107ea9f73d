// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /cpu-config and machine-config's "cpu_template" through the router:
 * one template at a time as in Firecracker, pre-boot only, shown by GET
 * /vm/config, read from a config file (inline or by path), and refusals
 * that leave the last good template in place.
 */
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

#include "api.h"
#include "api_client.h"

#define AES_OFF                                                                                    \
	"{\"cpuid_modifiers\":[{\"leaf\":\"0x1\",\"subleaf\":\"0x0\",\"flags\":0,"                 \
	"\"modifiers\":[{\"register\":\"ecx\",\"bitmap\":\"0bxxxxxx0xxxxxxxxxxxxxxxxxxxxxxxxx\"}]" \
	"}]}"

/* GET /vm/config's "cpu-config" and machine-config's "cpu_template" (NULL: absent). */
static void shown(struct t *t, bool custom, const char *stat)
{
	json_t *o, *mc;

	assert_int_equal(GET("/vm/config"), 200);
	o = body_json(t);
	assert_true(custom ? json_is_object(json_object_get(o, "cpu-config"))
			   : json_is_null(json_object_get(o, "cpu-config")));
	mc = json_object_get(o, "machine-config");
	if (stat)
		assert_string_equal(json_string_value(json_object_get(mc, "cpu_template")), stat);
	else
		assert_null(json_object_get(mc, "cpu_template"));
	json_decref(o);
}

static void test_put_cpu_config(void **state)
{
	struct t *t = *state;

	shown(t, false, NULL);
	assert_int_equal(PUT("/cpu-config", AES_OFF), 204);
	assert_true(t->st.cfg.has_cpu_config);
	assert_int_equal(t->st.cfg.cpu_config.leaves[0].mods[0].filter, 1u << 25);
	assert_true(t->st.boot_configured);
	shown(t, true, NULL);
	/* A PUT /machine-config without "cpu_template" keeps it (Firecracker's rule). */
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":256}"), 204);
	assert_true(t->st.cfg.has_cpu_config);
	/* A static one replaces it, and the other way round. */
	assert_int_equal(PATCH("/machine-config", "{\"cpu_template\":\"T2A\"}"), 204);
	assert_false(t->st.cfg.has_cpu_config);
	assert_int_equal(t->st.cfg.machine.cpu_template, CPUT_T2A);
	shown(t, false, "T2A");
	assert_int_equal(GET("/machine-config"), 200);
	assert_non_null(strstr(t->resp.body, "\"cpu_template\":\"T2A\""));
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128}"), 204);
	assert_int_equal(t->st.cfg.machine.cpu_template, CPUT_T2A);
	assert_int_equal(PUT("/cpu-config", "{}"), 204);
	assert_int_equal(t->st.cfg.machine.cpu_template, CPUT_NONE);
	shown(t, true, NULL);
	assert_int_equal(PUT("/cpu-config", AES_OFF), 204);
	assert_int_equal(PUT("/machine-config",
			     "{\"vcpu_count\":1,\"mem_size_mib\":128,\"cpu_template\":\"None\"}"),
			 204);
	assert_false(t->st.cfg.has_cpu_config);
	shown(t, false, NULL);
	/* Every static name Firecracker has on x86 (V1N1 is aarch64's). */
	assert_int_equal(PATCH("/machine-config", "{\"cpu_template\":\"C3\"}"), 204);
	assert_int_equal(PATCH("/machine-config", "{\"cpu_template\":\"T2S\"}"), 204);
	assert_int_equal(PATCH("/machine-config", "{\"cpu_template\":\"T2CL\"}"), 204);
	assert_int_equal(PATCH("/machine-config", "{\"cpu_template\":\"T2\"}"), 204);
	FAULT(PATCH("/machine-config", "{\"cpu_template\":\"V1N1\"}"), "\"cpu_template\"");
	FAULT(PATCH("/machine-config", "{\"cpu_template\":\"t2\"}"), "\"cpu_template\"");
	assert_int_equal(t->st.cfg.machine.cpu_template, CPUT_T2);
}

static void test_refusals(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/cpu-config", AES_OFF), 204);
	FAULT(PUT("/cpu-config", "{\"cpuid_modifiers\":[{\"leaf\":\"1\"}]}"),
	      "cpu-config: missing field `subleaf`");
	FAULT(PUT("/cpu-config", "{\"msr_modifiers\":[{\"addr\":\"0x1\",\"bitmap\":\"0b2\"}]}"),
	      "unknown character");
	FAULT(PUT("/cpu-config", "{\"vcpu_features\":[]}"), "unknown field `vcpu_features`");
	FAULT(PUT("/cpu-config", "[1]"), "expected a JSON object");
	FAULT(PUT("/cpu-config", "{"), "deserializing");
	FAULT(GET("/cpu-config"), "Invalid request method and/or path");
	FAULT(PATCH("/cpu-config", "{}"), "Invalid request method and/or path");
	/* The last good one stays. */
	assert_true(t->st.cfg.has_cpu_config);
	assert_int_equal(t->st.cfg.cpu_config.nr_leaves, 1);
	assert_int_equal(t->st.cfg.cpu_config.leaves[0].mods[0].filter, 1u << 25);
	/* Pre-boot only. */
	start_vm(t);
	FAULT(PUT("/cpu-config", "{}"), "not supported after starting the microVM");
	FAULT(PATCH("/machine-config", "{\"cpu_template\":\"T2A\"}"), "after starting");
}

static void test_config_file(void **state)
{
	static struct api_vm_config cfg;
	char err[256], path[] = "/tmp/ember-cpu-XXXXXX", doc[512];
	int fd;

	(void)state;
	assert_int_equal(api_config_from_json("{\"cpu-config\":" AES_OFF "}",
					      strlen("{\"cpu-config\":" AES_OFF "}"), &cfg, err,
					      sizeof(err)),
			 0);
	assert_true(cfg.has_cpu_config);
	assert_int_equal(cfg.cpu_config.leaves[0].mods[0].filter, 1u << 25);
	/* Both: the custom template wins, as in Firecracker. */
	snprintf(doc, sizeof(doc),
		 "{\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":64,\"cpu_template\":"
		 "\"T2A\"},\"cpu-config\":%s}",
		 AES_OFF);
	assert_int_equal(api_config_from_json(doc, strlen(doc), &cfg, err, sizeof(err)), 0);
	assert_true(cfg.has_cpu_config);
	assert_int_equal(cfg.machine.cpu_template, CPUT_NONE);
	/* Static alone. */
	snprintf(doc, sizeof(doc),
		 "{\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":64,\"cpu_template\":"
		 "\"T2A\"},\"cpu-config\":null}");
	assert_int_equal(api_config_from_json(doc, strlen(doc), &cfg, err, sizeof(err)), 0);
	assert_false(cfg.has_cpu_config);
	assert_int_equal(cfg.machine.cpu_template, CPUT_T2A);
	/* A path to a template file. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, AES_OFF, strlen(AES_OFF)), (ssize_t)strlen(AES_OFF));
	close(fd);
	snprintf(doc, sizeof(doc), "{\"cpu-config\":\"%s\"}", path);
	assert_int_equal(api_config_from_json(doc, strlen(doc), &cfg, err, sizeof(err)), 0);
	assert_true(cfg.has_cpu_config);
	assert_int_equal(cfg.cpu_config.leaves[0].leaf, 1);
	/* A bad file, a missing one, a directory: refused with the path named. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "{\"x\":1}", 7), 7);
	close(fd);
	assert_int_equal(api_config_from_json(doc, strlen(doc), &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown field `x`"));
	unlink(path);
	assert_int_equal(api_config_from_json(doc, strlen(doc), &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(
	    api_config_from_json("{\"cpu-config\":\"/tmp\"}", 21, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/tmp: not a regular file"));
	assert_int_equal(api_config_from_json("{\"cpu-config\":7}", 16, &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cpu-config: expected a JSON object"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_cpu_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test(test_config_file),
	};
	return cmocka_run_group_tests_name("api_cpu", tests, NULL, NULL);
}
