// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /serial, Firecracker's SerialConfig: where the guest's serial console
 * output goes ("serial_out_path", a file or a FIFO; without it, stdout as
 * before) and a TokenBucket on its bytes ("rate_limiter": what is over the
 * limit is dropped and counted in the metrics, uart.rate_limiter_dropped_bytes).
 * Pre-boot only, as in Firecracker; it is not a boot resource, so it may
 * precede PUT /snapshot/load and then applies to the restored VM.
 *
 * Firecracker leaves it out of GET /vm/config (serde skip); ember shows it
 * there once set, and --config-file takes the same object as "serial", so a
 * configuration read back starts the same VM.
 */
#include <string.h>

#include "api_json.h"
#include "limiter.h"

int api_parse_serial(json_t *o, struct api_serial *out, char *err, size_t errlen)
{
	struct api_rate_limiter rl = {.set = true};
	struct limiter_cfg c;
	const char *key;
	char why[160];
	json_t *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "serial: expected a JSON object.");
		return -EINVAL;
	}
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "serial_out_path") && strcmp(key, "rate_limiter")) {
			snprintf(err, errlen, "serial: unknown field \"%.64s\".", key);
			return -EINVAL;
		}
	}
	v = json_object_get(o, "serial_out_path");
	if (v && !json_is_null(v)) {
		size_t n = json_is_string(v) ? json_string_length(v) : 0;

		if (!json_is_string(v) || !n || n >= API_PATH_MAX ||
		    strlen(json_string_value(v)) != n) {
			snprintf(err, errlen,
				 "serial: \"serial_out_path\" must be a non-empty path of at most "
				 "%d bytes.",
				 API_PATH_MAX - 1);
			return -EINVAL;
		}
		memcpy(out->serial_out_path, json_string_value(v), n + 1);
	}
	rc = api_parse_bucket(json_object_get(o, "rate_limiter"), "serial: rate_limiter",
			      &out->rate_limiter, err, errlen);
	if (rc)
		return rc;
	/* The devices' own rules: a size needs a refill time, and so on. */
	rl.bandwidth = out->rate_limiter;
	api_limiter_cfg(&rl, &c);
	if (limiter_cfg_check(&c, why, sizeof(why))) {
		snprintf(err, errlen, "serial: rate_limiter: %s", why);
		return -EINVAL;
	}
	out->set = true;
	return 0;
}

json_t *api_json_serial(const struct api_serial *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if ((s->serial_out_path[0] &&
	     json_object_set_new(o, "serial_out_path", json_string(s->serial_out_path))) ||
	    (s->rate_limiter.set &&
	     json_object_set_new(o, "rate_limiter", api_json_bucket(&s->rate_limiter)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}
