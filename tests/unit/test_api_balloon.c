// SPDX-License-Identifier: Apache-2.0
/*
 * The balloon's API (api-socket/api_balloon.c) as Firecracker's clients see
 * it: PUT only before boot and never larger than the guest's memory, the
 * rest only after boot as commands for the VMM thread, the answers'
 * JSON, and every refusal a 400 that changes nothing.  Then the VMM
 * thread's end on a real (unstarted) device, and the configuration a
 * restore rebuilds.
 */
#include <sys/epoll.h>
#include <unistd.h>

#include "unit.h"

#include "api_client.h"
#include "balloon.h"
#include "device.h"

#define BALLOON "{\"amount_mib\":64,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1}"

static void test_put_and_get(void **state)
{
	struct t *t = *state;
	json_t *o;

	FAULT(GET("/balloon"), "No balloon device found.");
	assert_int_equal(PUT("/balloon", BALLOON), 204);
	assert_true(t->st.boot_configured);
	assert_int_equal(GET("/balloon"), 200);
	assert_string_equal(
	    t->resp.body,
	    "{\"amount_mib\":64,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1,"
	    "\"free_page_hinting\":false,\"free_page_reporting\":false}");
	assert_int_equal(GET("/balloon/"), 200);
	/* A second PUT replaces it, as Firecracker's does. */
	assert_int_equal(PUT("/balloon",
			     "{\"amount_mib\":0,\"deflate_on_oom\":false,"
			     "\"free_page_hinting\":true,\"free_page_reporting\":true}"),
			 204);
	assert_int_equal(GET("/vm/config"), 200);
	o = json_object_get(body_json(t), "balloon");
	assert_int_equal(json_integer_value(json_object_get(o, "amount_mib")), 0);
	assert_true(json_is_true(json_object_get(o, "free_page_reporting")));
}

static void test_put_refused(void **state)
{
	struct t *t = *state;

	/* 128 MiB by default: 129 is more than the guest has. */
	FAULT(PUT("/balloon", "{\"amount_mib\":129,\"deflate_on_oom\":true}"),
	      "Balloon config error: Amount of pages requested is too large.");
	FAULT(GET("/balloon"), "No balloon device found."); /* nothing half-built */
	FAULT(PUT("/balloon", "{\"amount_mib\":4294967295,\"deflate_on_oom\":true}"),
	      "Amount of pages requested is too large.");
	FAULT(PUT("/balloon", "{\"amount_mib\":4294967296,\"deflate_on_oom\":true}"),
	      "\"amount_mib\" must be in 0..4294967295");
	FAULT(PUT("/balloon", "{\"amount_mib\":1}"), "missing required field \"deflate_on_oom\"");
	FAULT(PUT("/balloon", "{\"deflate_on_oom\":true}"),
	      "missing required field \"amount_mib\"");
	FAULT(PUT("/balloon", "{\"amount_mib\":-1,\"deflate_on_oom\":true}"), "\"amount_mib\"");
	FAULT(PUT("/balloon", "{\"amount_mib\":\"1\",\"deflate_on_oom\":true}"),
	      "\"amount_mib\" must be an integer");
	FAULT(PUT("/balloon",
		  "{\"amount_mib\":1,\"deflate_on_oom\":true,\"stats_polling_interval_s\":65536}"),
	      "\"stats_polling_interval_s\" must be in 0..65535");
	FAULT(PUT("/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":1}"),
	      "\"deflate_on_oom\" must be a boolean");
	FAULT(PUT("/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":true,\"x\":1}"),
	      "unknown field \"x\"");
	FAULT(PUT("/balloon", "[]"), "expected a JSON object");
	FAULT(PUT("/balloon", NULL), "Empty PUT request.");
	FAULT(GET("/balloon"), "No balloon device found.");
	assert_false(t->st.boot_configured);
	/* The machine cannot shrink under the balloon either. */
	assert_int_equal(PUT("/balloon", BALLOON), 204);
	FAULT(PATCH("/machine-config", "{\"mem_size_mib\":63}"),
	      "smaller than the previously set balloon device target size");
	assert_int_equal(t->st.cfg.machine.mem_size_mib, 128);
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":64}"), 204);
}

static void test_preboot_rules(void **state)
{
	struct t *t = *state;
	const char *before = "not supported before starting the microVM";

	assert_int_equal(PUT("/balloon", BALLOON), 204);
	FAULT(PATCH("/balloon", "{\"amount_mib\":1}"), before);
	FAULT(GET("/balloon/statistics"), before);
	FAULT(PATCH("/balloon/statistics", "{\"stats_polling_interval_s\":2}"), before);
	FAULT(PATCH("/balloon/hinting/start", NULL), before);
	FAULT(GET("/balloon/hinting/status"), before);
	FAULT(PATCH("/balloon/hinting/stop", NULL), before);
	/* Paths and methods that do not exist, and bodies that are wrong. */
	FAULT(GET("/balloon/nope"), "Invalid request method and/or path: GET balloon/nope.");
	FAULT(PUT("/balloon/statistics", "{}"), "Invalid request method and/or path");
	FAULT(GET("/balloon/hinting/start"), "Invalid request method and/or path");
	FAULT(PATCH("/balloon/hinting", NULL), "Invalid request method and/or path");
	FAULT(PATCH("/balloon", NULL), "Empty PATCH request.");
	FAULT(PATCH("/balloon/statistics", NULL), "Empty PATCH request.");
	FAULT(PATCH("/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":true}"),
	      "unknown field \"deflate_on_oom\"");
	FAULT(PATCH("/balloon/statistics", "{}"), "missing required field");
	FAULT(PATCH("/balloon/hinting/start", "{\"acknowledge_on_stop\":1}"), "must be a boolean");
}

static void test_live(void **state)
{
	struct t *t = *state;
	const char *after = "not supported after starting the microVM";

	start_vm(t);
	FAULT(PATCH("/balloon", "{\"amount_mib\":1}"), "No balloon device found.");
	api_state_init(&t->st, "vm-1");
	assert_int_equal(PUT("/balloon", BALLOON), 204);
	start_vm(t);
	FAULT(PUT("/balloon", BALLOON), after);

	PATCH("/balloon", "{\"amount_mib\":32}");
	assert_int_equal(t->cmd.kind, API_CMD_BALLOON);
	assert_int_equal(t->cmd.balloon.op, API_BALLOON_TARGET);
	assert_int_equal(t->cmd.balloon.amount_mib, 32);
	FAULT(complete(t, -EAGAIN, "Balloon update error: Device not activated yet."),
	      "Device not activated yet.");
	assert_int_equal(t->st.cfg.balloon.amount_mib, 64); /* refused: unchanged */
	PATCH("/balloon", "{\"amount_mib\":32}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(GET("/balloon"), 200);
	assert_non_null(strstr(t->resp.body, "\"amount_mib\":32"));

	GET("/balloon/statistics");
	assert_int_equal(t->cmd.balloon.op, API_BALLOON_STATS);
	t->cmd.balloon.target_pages = 32 * 256;
	t->cmd.balloon.actual_pages = 1000;
	t->cmd.balloon.stats_present = 1u << 4 | 1u << 6 | 1u << 15;
	t->cmd.balloon.stats[4] = 111;
	t->cmd.balloon.stats[6] = 222;
	t->cmd.balloon.stats[15] = 333;
	assert_int_equal(complete(t, 0, ""), 200);
	assert_string_equal(t->resp.body,
			    "{\"target_pages\":8192,\"actual_pages\":1000,\"target_mib\":32,"
			    "\"actual_mib\":3,\"free_memory\":111,\"available_memory\":222,"
			    "\"direct_reclaim\":333}");

	PATCH("/balloon/statistics", "{\"stats_polling_interval_s\":7}");
	assert_int_equal(t->cmd.balloon.op, API_BALLOON_STATS_INTERVAL);
	assert_int_equal(t->cmd.balloon.interval_s, 7);
	FAULT(complete(t, -EINVAL,
		       "Balloon update error: Statistics cannot be enabled/disabled "
		       "after activation."),
	      "cannot be enabled/disabled");
	PATCH("/balloon/statistics", "{\"stats_polling_interval_s\":7}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.cfg.balloon.stats_polling_interval_s, 7);
}

static void test_hinting(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/balloon", "{\"amount_mib\":0,\"deflate_on_oom\":false,"
					 "\"free_page_hinting\":true}"),
			 204);
	start_vm(t);
	PATCH("/balloon/hinting/start", NULL);
	assert_int_equal(t->cmd.balloon.op, API_BALLOON_HINT_START);
	assert_true(t->cmd.balloon.ack_on_stop); /* Firecracker's default */
	assert_int_equal(complete(t, 0, ""), 204);
	PATCH("/balloon/hinting/start", "{\"acknowledge_on_stop\":false}");
	assert_false(t->cmd.balloon.ack_on_stop);
	assert_int_equal(complete(t, 0, ""), 204);
	GET("/balloon/hinting/status");
	assert_int_equal(t->cmd.balloon.op, API_BALLOON_HINT_STATUS);
	t->cmd.balloon.host_cmd = 3;
	assert_int_equal(complete(t, 0, ""), 200);
	assert_string_equal(t->resp.body, "{\"host_cmd\":3}");
	GET("/balloon/hinting/status");
	t->cmd.balloon.host_cmd = 1;
	t->cmd.balloon.has_guest_cmd = true;
	t->cmd.balloon.guest_cmd = 0;
	assert_int_equal(complete(t, 0, ""), 200);
	assert_string_equal(t->resp.body, "{\"host_cmd\":1,\"guest_cmd\":0}");
	PATCH("/balloon/hinting/stop", NULL);
	assert_int_equal(t->cmd.balloon.op, API_BALLOON_HINT_STOP);
	assert_int_equal(complete(t, 0, ""), 204);
}

/* The VMM thread's end: the device's own words become the fault_message. */
static void test_exec(void **state)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	const struct vdev_type *type = vdev_type_find("balloon");
	struct guest_mem gm;
	struct evloop loop = {.epfd = epoll_create1(EPOLL_CLOEXEC)};
	const struct vdev_env env = {.gm = &gm, .loop = &loop};
	struct api_balloon_cmd c = {.op = API_BALLOON_TARGET, .amount_mib = 1};
	char err[API_ERR_MAX], why[100];
	void *dev;

	(void)state;
	log_set_level(LOG_ERROR);
	fake_gm_init(&gm, 4 << 20, 0, 0);
	assert_int_equal(api_balloon_exec(NULL, &c, err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "Balloon config error: No balloon device found.");
	assert_int_equal(type->parse("amount_mib=1", cfg, why, sizeof(why)), 0);
	assert_int_equal(type->create(&dev, cfg, &env), 0);
	assert_int_equal(api_balloon_exec(dev, &c, err, sizeof(err)), -EAGAIN);
	assert_string_equal(err, "Balloon update error: Device not activated yet.");
	c.amount_mib = 5;
	assert_int_equal(api_balloon_exec(dev, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Balloon update error: Requested memory should be less than 4MiB");
	c.amount_mib = UINT32_MAX; /* Firecracker's u32: no overflow into num_pages */
	assert_int_equal(api_balloon_exec(dev, &c, err, sizeof(err)), -EINVAL);
	c.op = API_BALLOON_STATS;
	assert_int_equal(api_balloon_exec(dev, &c, err, sizeof(err)), -ENOTSUP);
	assert_string_equal(err, "Balloon update error: Statistics for the balloon device are "
				 "not enabled.");
	c.op = API_BALLOON_HINT_START;
	assert_int_equal(api_balloon_exec(dev, &c, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "hinting was not enabled"));
	type->destroy(dev);
	/* More than the guest has, from a config file's or the CLI's settings. */
	assert_int_equal(type->parse("amount_mib=5", cfg, why, sizeof(why)), 0);
	assert_int_equal(type->create(&dev, cfg, &env), -EINVAL);
	close(loop.epfd);
	fake_gm_free(&gm);
}

/* A restore rebuilds the API's view from the device's settings. */
static void test_round_trip(void **state)
{
	struct t *t = *state;
	struct vdev_configs *l = calloc(1, sizeof(*l));
	struct api_vm_config *back = calloc(1, sizeof(*back));
	char err[200];

	assert_int_equal(PUT("/balloon",
			     "{\"amount_mib\":12,\"deflate_on_oom\":true,"
			     "\"stats_polling_interval_s\":3,\"free_page_reporting\":true}"),
			 204);
	assert_int_equal(api_devices_to_config(&t->st.cfg, l, err, sizeof(err)), 0);
	assert_int_equal(l->nr, 1);
	assert_string_equal(l->dev[0].type->name, "balloon");
	api_config_init(back);
	api_devices_from_config(l, back);
	assert_true(back->balloon.set);
	assert_int_equal(back->balloon.amount_mib, 12);
	assert_true(back->balloon.deflate_on_oom);
	assert_int_equal(back->balloon.stats_polling_interval_s, 3);
	assert_false(back->balloon.free_page_hinting);
	assert_true(back->balloon.free_page_reporting);
	free(l);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_and_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_preboot_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hinting, setup, teardown),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
