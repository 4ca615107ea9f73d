// SPDX-License-Identifier: Apache-2.0
/*
 * The MMDS data store and its API: merge patch (RFC 7396's examples), the
 * size limit (413, nothing changed), IMDS and JSON rendering, tokens (TTL
 * bounds, expiry, forgery), PUT /mmds/config's checks and GET /vm/config.
 */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "api_client.h"
#include "mmds_store.h"
#include "mmds_token.h"

static json_t *J(const char *s)
{
	json_t *o = json_loads(s, JSON_DECODE_ANY, NULL);

	assert_non_null(o);
	return o;
}

static void merge_is(const char *target, const char *patch, const char *want)
{
	json_t *t = J(target), *p = J(patch), *w = J(want), *got = mmds_merge_patch(t, p);

	assert_non_null(got);
	if (!json_equal(got, w)) {
		char *s = json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS);

		fail_msg("%s + %s = %s, want %s", target, patch, s, want);
	}
	json_decref(t);
	json_decref(p);
	json_decref(w);
	json_decref(got);
}

/* RFC 7396, Appendix A. */
static void test_merge_patch(void **state)
{
	(void)state;
	merge_is("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	merge_is("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
	merge_is("{\"a\":\"b\"}", "{\"a\":null}", "{}");
	merge_is("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
	merge_is("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
	merge_is("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
	merge_is("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
		 "{\"a\":{\"b\":\"d\"}}");
	merge_is("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
	merge_is("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
	merge_is("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
	merge_is("{\"a\":\"foo\"}", "null", "null");
	merge_is("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
	merge_is("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
	merge_is("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
	merge_is("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static char *render(struct mmds *m, const char *path, enum mmds_format f, int *rc)
{
	enum mmds_format used;
	char *s = NULL;
	size_t len;

	*rc = mmds_render(m, path, f, &s, &len, &used);
	if (!*rc)
		assert_int_equal(len, strlen(s));
	return s;
}

static void render_is(struct mmds *m, const char *path, enum mmds_format f, const char *want)
{
	int rc;
	char *s = render(m, path, f, &rc);

	if (rc)
		fail_msg("%s: error %d, want \"%s\"", path, rc, want);
	assert_string_equal(s, want);
	free(s);
}

static void render_err(struct mmds *m, const char *path, enum mmds_format f, int want)
{
	int rc;
	char *s = render(m, path, f, &rc);

	assert_null(s);
	assert_int_equal(rc, want);
}

static void test_store_render(void **state)
{
	struct mmds *m;
	struct mmds_config c = {.version = MMDS_V1, .ipv4 = MMDS_DEFAULT_IPV4};
	json_t *doc = J("{\"name\":{\"first\":\"John\",\"second\":\"Doe\"},\"age\":43,"
			"\"phones\":{\"home\":{\"RO\":\"+40\",\"UK\":\"+44\"},\"mobile\":\"+442\"},"
			"\"list\":[\"x\",{\"y\":\"z\"}],\"a/b\":\"slash\"}");
	char *s;

	(void)state;
	assert_int_equal(mmds_create(&m, 0), 0);
	assert_int_equal(mmds_get_limit(m), MMDS_DEFAULT_LIMIT);
	s = mmds_get(m);
	assert_string_equal(s, "{}"); /* nothing PUT yet */
	free(s);
	render_err(m, "/", MMDS_FMT_IMDS, -ENOTSUP); /* null has no IMDS form */
	render_is(m, "/", MMDS_FMT_JSON, "null");
	assert_int_equal(mmds_put(m, doc), 0);
	render_is(m, "/", MMDS_FMT_IMDS, "a/b\nage\nlist\nname/\nphones/");
	render_is(m, "", MMDS_FMT_IMDS, "a/b\nage\nlist\nname/\nphones/");
	render_is(m, "/name", MMDS_FMT_IMDS, "first\nsecond");
	render_is(m, "/name/", MMDS_FMT_IMDS, "first\nsecond");
	render_is(m, "/name/first", MMDS_FMT_IMDS, "John");
	render_is(m, "/phones/home/UK", MMDS_FMT_IMDS, "+44");
	render_is(m, "/a~1b", MMDS_FMT_IMDS, "slash");
	render_is(m, "/list/1/y", MMDS_FMT_IMDS, "z");
	render_err(m, "/age", MMDS_FMT_IMDS, -ENOTSUP);
	render_err(m, "/list", MMDS_FMT_IMDS, -ENOTSUP);
	render_is(m, "/age", MMDS_FMT_JSON, "43");
	render_is(m, "/name", MMDS_FMT_JSON, "{\"first\":\"John\",\"second\":\"Doe\"}");
	render_is(m, "/name/first", MMDS_FMT_JSON, "\"John\"");
	render_err(m, "/nope", MMDS_FMT_IMDS, -ENOENT);
	render_err(m, "/name/first/x", MMDS_FMT_JSON, -ENOENT);
	render_err(m, "/list/01", MMDS_FMT_JSON, -ENOENT);
	render_err(m, "/list/9", MMDS_FMT_JSON, -ENOENT);
	render_err(m, "/a~2b", MMDS_FMT_JSON, -ENOENT);
	render_err(m, "name", MMDS_FMT_JSON, -ENOENT);
	/* imds_compat: text whatever the guest accepts. */
	c.imds_compat = true;
	mmds_set_config(m, &c);
	render_is(m, "/name", MMDS_FMT_JSON, "first\nsecond");
	s = mmds_get(m);
	assert_non_null(strstr(s, "\"age\":43"));
	free(s);
	mmds_clear(m); /* a restored VM's store */
	s = mmds_get(m);
	assert_string_equal(s, "{}");
	free(s);
	json_decref(doc);
	mmds_destroy(m);
}

static void test_store_limit(void **state)
{
	struct mmds *m;
	json_t *small = J("{\"k\":\"v\"}"), *grow = J("{\"big\":\"0123456789\"}");
	char *s;

	(void)state;
	assert_int_equal(mmds_create(&m, 16), 0);
	assert_int_equal(mmds_patch(m, small), -ENODATA); /* PATCH before PUT */
	assert_int_equal(mmds_put(m, small), 0);	  /* 9 bytes */
	assert_int_equal(mmds_patch(m, grow), -EFBIG);	  /* 32 bytes */
	s = mmds_get(m);
	assert_string_equal(s, "{\"k\":\"v\"}"); /* unchanged */
	free(s);
	assert_int_equal(mmds_put(m, grow), -EFBIG);
	mmds_set_limit(m, 64);
	assert_int_equal(mmds_patch(m, grow), 0);
	s = mmds_get(m);
	assert_string_equal(s, "{\"big\":\"0123456789\",\"k\":\"v\"}");
	free(s);
	mmds_set_limit(m, 0); /* back to the default */
	assert_int_equal(mmds_get_limit(m), MMDS_DEFAULT_LIMIT);
	json_decref(small);
	json_decref(grow);
	mmds_destroy(m);
}

static void test_tokens(void **state)
{
	struct mmds *m, *other;
	char tok[MMDS_TOKEN_LEN + 1], forged[MMDS_TOKEN_LEN + 1];
	const uint64_t now = 1000000;
	/* SipHash-2-4's reference vector: key 00..0f, message 00..0e. */
	const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	uint8_t msg[15];

	(void)state;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(mmds_siphash(key, msg, 15) == 0xa129ca6149be45e5ull);
	assert_int_equal(mmds_create(&m, 0), 0);
	assert_int_equal(mmds_create(&other, 0), 0);
	assert_int_equal(mmds_token_new(m, 0, now, tok), -EINVAL);
	assert_int_equal(mmds_token_new(m, 21601, now, tok), -EINVAL);
	assert_int_equal(mmds_token_new(m, 1, now, tok), 0);
	assert_int_equal(strlen(tok), MMDS_TOKEN_LEN);
	assert_true(mmds_token_valid(m, tok, strlen(tok), now));
	assert_true(mmds_token_valid(m, tok, strlen(tok), now + 999));
	assert_false(mmds_token_valid(m, tok, strlen(tok), now + 1000)); /* expired */
	assert_false(mmds_token_valid(other, tok, strlen(tok), now));	 /* not its keys */
	assert_false(mmds_token_valid(m, tok, strlen(tok) - 1, now));
	assert_false(mmds_token_valid(m, "", 0, now));
	/* A longer life written into the token breaks its MAC. */
	memcpy(forged, tok, sizeof(tok));
	forged[5] = forged[5] == 'A' ? 'B' : 'A';
	assert_false(mmds_token_valid(m, forged, strlen(forged), now));
	forged[5] = '*';
	assert_false(mmds_token_valid(m, forged, strlen(forged), now));
	assert_int_equal(mmds_token_new(m, 21600, now, tok), 0);
	assert_true(mmds_token_valid(m, tok, strlen(tok), now + 21600ull * 1000 - 1));
	assert_false(mmds_token_valid(m, tok, strlen(tok), now + 21600ull * 1000));
	mmds_destroy(m);
	mmds_destroy(other);
}

static int setup_mmds(void **state)
{
	struct t *t;

	setup(state);
	t = *state;
	assert_int_equal(mmds_create(&t->st.mmds, 64), 0);
	return 0;
}

static int teardown_mmds(void **state)
{
	struct t *t = *state;

	mmds_destroy(t->st.mmds);
	return teardown(state);
}

static void test_api_mmds(void **state)
{
	struct t *t = *state;

	assert_int_equal(GET("/mmds"), 200);
	assert_string_equal(t->resp.body, "{}");
	FAULT(PATCH("/mmds", "{\"a\":\"b\"}"), "The MMDS data store is not initialized.");
	assert_int_equal(PUT("/mmds", "{\"b\":{\"c\":\"d\"},\"a\":1}"), 204);
	assert_int_equal(GET("/mmds"), 200);
	assert_string_equal(t->resp.body, "{\"a\":1,\"b\":{\"c\":\"d\"}}");
	assert_int_equal(PATCH("/mmds", "{\"a\":null,\"b\":{\"e\":\"f\"}}"), 204);
	assert_int_equal(GET("/mmds"), 200);
	assert_string_equal(t->resp.body, "{\"b\":{\"c\":\"d\",\"e\":\"f\"}}");
	/* Over the 64-byte limit: 413, and the document is as it was. */
	assert_int_equal(PATCH("/mmds", "{\"x\":\"0123456789012345678901234567890123456789\"}"),
			 413);
	assert_non_null(strstr(t->resp.body, "The MMDS patch request doesn't fit."));
	assert_int_equal(
	    PUT("/mmds",
		"{\"x\":\"0123456789012345678901234567890123456789012345678901234567890\"}"),
	    413);
	assert_int_equal(GET("/mmds"), 200);
	assert_string_equal(t->resp.body, "{\"b\":{\"c\":\"d\",\"e\":\"f\"}}");
	FAULT(PUT("/mmds", "{"), "deserializing");
	FAULT(GET("/mmds/x"), "Invalid request method and/or path");
	/* Still served after start (pre-boot is only for the config). */
	t->st.vm_state = API_VM_RUNNING;
	assert_int_equal(PUT("/mmds", "{\"k\":\"v\"}"), 204);
}

static void test_api_mmds_config(void **state)
{
	struct t *t = *state;
	struct mmds_config c;
	uint32_t ip;

	FAULT(PUT("/mmds/config", "{}"), "missing field \"network_interfaces\"");
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[]}"), "is empty");
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\"]}"),
	      "does not correspond to any existing network interface");
	assert_int_equal(
	    PUT("/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\"}"),
	    204);
	assert_int_equal(
	    PUT("/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\"}"),
	    204);
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\"],\"version\":\"V3\"}"),
	      "\"V1\" or \"V2\"");
	FAULT(PUT("/mmds/config",
		  "{\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"10.0.0.1\"}"),
	      "not link local");
	FAULT(PUT("/mmds/config",
		  "{\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"169.254.0.1\"}"),
	      "not link local");
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"x\"}"),
	      "IPv4");
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\"],\"imds_compat\":1}"),
	      "boolean");
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\"],\"bogus\":1}"),
	      "unknown field");
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[1]}"), "strings");
	mmds_get_config(t->st.mmds, &c);
	assert_false(c.set); /* nothing refused changed it */
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(t->resp.body, "\"mmds-config\":null"));
	assert_int_equal(PUT("/mmds/config",
			     "{\"network_interfaces\":[\"eth1\"],\"version\":\"V2\","
			     "\"ipv4_address\":\"169.254.170.2\",\"imds_compat\":true}"),
			 204);
	assert_false(t->resp.deprecated);
	assert_true(mmds_iface_enabled(t->st.mmds, "eth1", &ip));
	assert_int_equal(ip, 0xa9feaa02);
	assert_false(mmds_iface_enabled(t->st.mmds, "eth0", &ip));
	assert_int_equal(mmds_version(t->st.mmds), MMDS_V2);
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(t->resp.body, "\"mmds-config\":{\"version\":\"V2\","
					     "\"network_interfaces\":[\"eth1\"],\"ipv4_address\":"
					     "\"169.254.170.2\",\"imds_compat\":true}"));
	/* Defaults: V1 on 169.254.169.254; V1, named or not, is deprecated as in Firecracker. */
	assert_int_equal(
	    PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\"],\"version\":\"V1\"}"), 204);
	assert_true(t->resp.deprecated);
	assert_int_equal(PUT("/mmds/config", "{\"network_interfaces\":[\"eth0\",\"eth0\"]}"), 204);
	assert_true(t->resp.deprecated);
	mmds_get_config(t->st.mmds, &c);
	assert_int_equal(c.version, MMDS_V1);
	assert_int_equal(c.ipv4, MMDS_DEFAULT_IPV4);
	assert_int_equal(c.nr_ifaces, 1);
	assert_false(c.imds_compat);
	t->st.vm_state = API_VM_RUNNING;
	FAULT(PUT("/mmds/config", "{\"network_interfaces\":[\"eth1\"]}"),
	      "not supported after starting");
}

/* --config-file: "mmds-config" after or before the interfaces it names. */
static void test_config_file(void **state)
{
	struct api_vm_config *cfg = malloc(sizeof(*cfg));
	char err[API_ERR_MAX] = "";
	const char *doc =
	    "{\"mmds-config\":{\"version\":\"V2\",\"network_interfaces\":[\"eth0\"]},"
	    "\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\"}]}";

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	assert_true(cfg->mmds.set);
	assert_int_equal(cfg->mmds.version, MMDS_V2);
	assert_string_equal(cfg->mmds.ifaces[0], "eth0");
	doc = "{\"mmds-config\":{\"network_interfaces\":[\"eth1\"]}}";
	assert_int_not_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "does not correspond to any existing network interface"));
	doc = "{\"mmds-config\":null}";
	assert_int_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	assert_false(cfg->mmds.set);
	free(cfg);
}

/* Without a store (an ember that has none), the requests are refused cleanly. */
static void test_api_no_store(void **state)
{
	struct t *t = *state;

	FAULT(GET("/mmds"), "MMDS is not available");
	FAULT(PUT("/mmds", "{}"), "MMDS is not available");
	FAULT(PUT("/mmds/config", "{}"), "MMDS is not available");
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(t->resp.body, "\"mmds-config\":null"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merge_patch),
	    cmocka_unit_test(test_store_render),
	    cmocka_unit_test(test_store_limit),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test_setup_teardown(test_api_mmds, setup_mmds, teardown_mmds),
	    cmocka_unit_test_setup_teardown(test_api_mmds_config, setup_mmds, teardown_mmds),
	    cmocka_unit_test_setup_teardown(test_api_no_store, setup, teardown),
	    cmocka_unit_test(test_config_file),
	};
	return cmocka_run_group_tests_name("mmds_store", tests, NULL, NULL);
}
