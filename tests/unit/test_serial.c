// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /serial (api_serial.c): what the router accepts and refuses, that it
 * is pre-boot only, not a boot resource, shown in GET /vm/config once set
 * and read back by --config-file; and the UART's rate limiter (serial.c):
 * bytes over the bucket are dropped and counted, the rest reach the output.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "unit.h"

#include "api_client.h"
#include "serial.h"

static void test_put_serial(void **state)
{
	struct t *t = *state;
	json_t *o, *s;

	/* Not shown until set: GET /vm/config stays Firecracker's document. */
	assert_int_equal(GET("/vm/config"), 200);
	assert_null(strstr(t->resp.body, "\"serial\""));

	assert_int_equal(PUT("/serial", "{}"), 204);
	assert_true(t->st.cfg.serial.set);
	assert_string_equal(t->st.cfg.serial.serial_out_path, "");
	assert_int_equal(PUT("/serial", "{\"serial_out_path\":\"/tmp/console.fifo\","
					"\"rate_limiter\":{\"size\":1000,\"one_time_burst\":50,"
					"\"refill_time\":100}}"),
			 204);
	assert_string_equal(t->st.cfg.serial.serial_out_path, "/tmp/console.fifo");
	assert_true(t->st.cfg.serial.rate_limiter.set);
	assert_int_equal(t->st.cfg.serial.rate_limiter.size, 1000);
	assert_int_equal(t->st.cfg.serial.rate_limiter.one_time_burst, 50);
	assert_int_equal(t->st.cfg.serial.rate_limiter.refill_time, 100);
	/* Not a boot resource: a snapshot may still be loaded after it. */
	assert_false(t->st.boot_configured);

	assert_int_equal(GET("/vm/config"), 200);
	o = body_json(t);
	s = json_object_get(o, "serial");
	assert_string_equal(json_string_value(json_object_get(s, "serial_out_path")),
			    "/tmp/console.fifo");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(s, "rate_limiter"), "size")), 1000);
	json_decref(o);

	/* A later PUT replaces the whole object, as in Firecracker. */
	assert_int_equal(PUT("/serial", "{\"serial_out_path\":\"out.log\"}"), 204);
	assert_false(t->st.cfg.serial.rate_limiter.set);
	assert_int_equal(PUT("/serial", "{\"serial_out_path\":null,\"rate_limiter\":null}"), 204);
	assert_string_equal(t->st.cfg.serial.serial_out_path, "");
}

/* Every refusal is a 400 with a message, and leaves the last good setting. */
static void test_put_serial_refused(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/serial", "{\"serial_out_path\":\"keep\"}"), 204);
	FAULT(PUT("/serial", "{\"serial_out\":\"x\"}"), "serial: unknown field \"serial_out\"");
	FAULT(PUT("/serial", "[]"), "serial: expected a JSON object");
	FAULT(PUT("/serial", "{\"serial_out_path\":5}"), "\"serial_out_path\" must be a non-empty");
	FAULT(PUT("/serial", "{\"serial_out_path\":\"\"}"), "\"serial_out_path\" must be");
	FAULT(PUT("/serial", "{\"serial_out_path\":\"a\\u0000b\"}"), "deserializing");
	FAULT(PUT("/serial", "{\"rate_limiter\":{\"size\":10}}"), "missing required field");
	FAULT(PUT("/serial", "{\"rate_limiter\":{\"size\":10,\"refill_time\":0}}"),
	      "serial: rate_limiter: ");
	FAULT(PUT("/serial", "{\"rate_limiter\":{\"size\":-1,\"refill_time\":5}}"), "size");
	/* A RateLimiter is not a TokenBucket. */
	FAULT(PUT("/serial", "{\"rate_limiter\":{\"bandwidth\":{}}}"),
	      "unknown field \"bandwidth\"");
	FAULT(PUT("/serial/x", "{}"), "Invalid request method and/or path");
	FAULT(GET("/serial"), "Invalid request method and/or path");
	assert_string_equal(t->st.cfg.serial.serial_out_path, "keep");

	/* Pre-boot only, as in Firecracker. */
	start_vm(t);
	FAULT(PUT("/serial", "{}"), "not supported after starting the microVM");
	assert_string_equal(t->st.cfg.serial.serial_out_path, "keep");
}

/* --config-file takes "serial" as PUT does, and GET /vm/config's document round-trips. */
static void test_config_file_serial(void **state)
{
	struct t *t = *state;
	struct api_vm_config *cfg = malloc(sizeof(*cfg)), *back = malloc(sizeof(*back));
	char err[API_ERR_MAX] = "";
	const char *doc = "{\"boot-source\":{\"kernel_image_path\":\"/k\"},"
			  "\"serial\":{\"serial_out_path\":\"/run/s.log\","
			  "\"rate_limiter\":{\"size\":64,\"refill_time\":1000}}}";
	char *s;

	assert_non_null(cfg);
	assert_non_null(back);
	api_config_init(cfg);
	assert_int_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->serial.serial_out_path, "/run/s.log");
	assert_int_equal(cfg->serial.rate_limiter.size, 64);
	s = api_config_to_json(cfg);
	assert_non_null(s);
	api_config_init(back);
	assert_int_equal(api_config_from_json(s, strlen(s), back, err, sizeof(err)), 0);
	assert_memory_equal(&back->serial, &cfg->serial, sizeof(cfg->serial));
	free(s);

	doc = "{\"serial\":{\"rate_limiter\":{\"size\":64}}}";
	assert_int_not_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "serial: rate_limiter"));
	doc = "{\"serial\":null}";
	assert_int_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	free(cfg);
	free(back);
	(void)t;
}

struct urig {
	struct serial s;
	int out[2];
	int irq;
};

static void uart_open(struct urig *r)
{
	assert_int_equal(pipe2(r->out, O_NONBLOCK), 0);
	r->irq = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(serial_init(&r->s, r->out[1], r->irq, -1), 0);
}

static void uart_close(struct urig *r)
{
	serial_destroy(&r->s);
	close(r->out[0]);
	close(r->out[1]);
	close(r->irq);
}

/* The guest writes @n bytes to THR; returns how many reached the output. */
static size_t uart_print(struct urig *r, size_t n)
{
	char buf[4096];
	uint8_t c = 'x';
	ssize_t got;

	for (size_t i = 0; i < n; i++)
		serial_ops.write(&r->s, 0, &c, 1);
	got = read(r->out[0], buf, sizeof(buf));
	return got > 0 ? (size_t)got : 0;
}

/*
 * A bucket of 100 bytes plus a one-time burst of 20 that takes a day to
 * refill: of 1000 bytes exactly 120 get out, the other 880 are counted.
 * (No timing: the refill in the test's lifetime is far below one byte.)
 */
static void test_uart_rate_limit(void **state)
{
	struct tbucket_cfg cfg = {.size = 100, .one_time_burst = 20, .refill_time_ms = 86400000};
	struct urig r;

	(void)state;
	uart_open(&r);
	serial_set_rate_limit(&r.s, &cfg);
	assert_int_equal(uart_print(&r, 1000), 120);
	assert_int_equal(r.s.out_rate_dropped, 880);
	assert_int_equal(r.s.out_written, 120);
	/* Loopback (the driver's self-test) is not console output: not limited. */
	serial_ops.write(&r.s, 4, &(uint8_t){0x10}, 1);
	assert_int_equal(uart_print(&r, 5), 0);
	assert_int_equal(r.s.out_rate_dropped, 880);
	uart_close(&r);

	/* Size 0: no limit at all (Firecracker's absent bucket). */
	uart_open(&r);
	cfg = (struct tbucket_cfg){0};
	serial_set_rate_limit(&r.s, &cfg);
	assert_int_equal(uart_print(&r, 1000), 1000);
	assert_int_equal(r.s.out_rate_dropped, 0);
	uart_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_serial, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_serial_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_file_serial, setup, teardown),
	    cmocka_unit_test(test_uart_rate_limit),
	};
	return cmocka_run_group_tests_name("serial", tests, NULL, NULL);
}
