// SPDX-License-Identifier: Apache-2.0
/*
 * Schema-driven validation of the API's JSON objects.  Each object is a
 * static table of fields (name, type, required, range, destination offset);
 * one walker checks a body against it, so the rules for unknown fields,
 * wrong types, nulls and missing fields are the same everywhere and every
 * message names the object and the field.  Field names, types and ranges
 * follow Firecracker's swagger; features ember lacks (rate limiters,
 * vhost-user, MTU) are recognised and refused as "not supported" rather
 * than reported as unknown, which would mislead the user.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_json.h"
#include "api_schema.h"
#include "config.h"
#include "limiter.h"

int api_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void api_choices_text(const char *const *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *c && n < len; c++)
		n += (size_t)snprintf(buf + n, len - n, "%s\"%s\"", n ? ", " : "", *c);
}

static int api_field_value(const char *what, const struct api_field *f, json_t *v, char *dst,
			   char *err, size_t errlen)
{
	char text[128];

	switch (f->type) {
	case AF_UNSUPPORTED:
		return api_err(err, errlen, "%s: \"%s\" is not supported by ember.", what, f->name);
	case AF_BOOL:
		if (!json_is_boolean(v))
			return api_err(err, errlen, "%s: \"%s\" must be a boolean.", what, f->name);
		if (f->off != AF_NO_DST)
			*(bool *)(dst + f->off) = json_is_true(v);
		return 0;
	case AF_U32:
	case AF_U64: {
		json_int_t n;

		if (!json_is_integer(v))
			return api_err(err, errlen, "%s: \"%s\" must be an integer.", what,
				       f->name);
		n = json_integer_value(v);
		if (n < 0 || (uint64_t)n < f->min || (uint64_t)n > f->max)
			return api_err(err, errlen, "%s: \"%s\" must be in %llu..%llu, not %lld.",
				       what, f->name, (unsigned long long)f->min,
				       (unsigned long long)f->max, (long long)n);
		if (f->off == AF_NO_DST)
			return 0;
		if (f->type == AF_U32)
			*(uint32_t *)(dst + f->off) = (uint32_t)n;
		else
			*(uint64_t *)(dst + f->off) = (uint64_t)n;
		return 0;
	}
	case AF_STR: {
		size_t len;

		if (!json_is_string(v))
			return api_err(err, errlen, "%s: \"%s\" must be a string.", what, f->name);
		len = json_string_length(v);
		if (f->nonempty && len == 0)
			return api_err(err, errlen, "%s: \"%s\" must not be empty.", what, f->name);
		if (f->off == AF_NO_DST)
			return 0;
		if (len >= f->size)
			return api_err(err, errlen, "%s: \"%s\" is longer than %zu bytes.", what,
				       f->name, f->size - 1);
		memcpy(dst + f->off, json_string_value(v), len + 1);
		return 0;
	}
	case AF_OBJECT:
		if (!json_is_object(v))
			return api_err(err, errlen, "%s: \"%s\" must be an object.", what, f->name);
		return 0;
	case AF_ARRAY:
		if (!json_is_array(v))
			return api_err(err, errlen, "%s: \"%s\" must be an array.", what, f->name);
		return 0;
	case AF_ENUM:
		if (json_is_string(v)) {
			const char *s = json_string_value(v);

			for (unsigned i = 0; f->choices[i]; i++) {
				if (f->nocase ? strcasecmp(s, f->choices[i])
					      : strcmp(s, f->choices[i]))
					continue;
				if (f->off != AF_NO_DST)
					*(unsigned *)(dst + f->off) = i;
				return 0;
			}
		}
		api_choices_text(f->choices, text, sizeof(text));
		return api_err(err, errlen, "%s: \"%s\" must be one of %s.", what, f->name, text);
	}
	return api_err(err, errlen, "%s: internal schema error.", what);
}

/*
 * Walks @o against @fields.  A null value counts as absent (as serde's
 * Option does in Firecracker), so documents from GET /vm/config round-trip.
 * @seen gets bit i for each field i present; @partial skips required checks.
 */
int api_json_obj(json_t *o, const char *what, const struct api_field *fields, size_t n,
		 bool partial, void *dst, uint32_t *seen, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	uint32_t bits = 0;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return api_err(err, errlen, "%s: expected a JSON object.", what);
	json_object_foreach(o, key, v)
	{
		for (i = 0; i < n; i++)
			if (!strcmp(key, fields[i].name))
				break;
		if (i == n)
			return api_err(err, errlen, "%s: unknown field \"%.64s\".", what, key);
		if (json_is_null(v))
			continue;
		rc = api_field_value(what, &fields[i], v, dst, err, errlen);
		if (rc)
			return rc;
		bits |= 1u << i;
	}
	for (i = 0; i < n && !partial; i++)
		if (fields[i].required && !(bits & (1u << i)))
			return api_err(err, errlen, "%s: missing required field \"%s\".", what,
				       fields[i].name);
	if (seen)
		*seen = bits;
	return 0;
}

int api_check_id(const char *what, const char *id, char *err, size_t errlen)
{
	size_t len = strlen(id);

	if (len == 0)
		return api_err(err, errlen, "%s: The ID cannot be empty.", what);
	if (len >= API_ID_MAX)
		return api_err(err, errlen, "%s: the ID is longer than %d bytes.", what,
			       API_ID_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		char c = id[i];

		if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return api_err(err, errlen,
				       "%s: API Resource IDs can only contain alphanumeric "
				       "characters and underscores.",
				       what);
	}
	return 0;
}

/* enum cput_static's order. */
static const char *const api_cpu_template_choices[] = {"None", "C3",  "T2", "T2S",
						       "T2CL", "T2A", NULL};
/* In enum api_log_level's order; "Warn" (Firecracker accepts it too) last. */
static const char *const api_level_choices[] = {"Error", "Warning", "Info", "Debug",
						"Trace", "Off",	    "Warn", NULL};
static const char *const api_action_choices[] = {"InstanceStart", "SendCtrlAltDel", "FlushMetrics",
						 NULL};
static const char *const api_vm_state_choices[] = {"Paused", "Resumed", NULL};

static const struct api_field api_boot_fields[] = {
    STR(struct api_boot_source, kernel_image_path, .required = true, .nonempty = true),
    STR(struct api_boot_source, initrd_path, .nonempty = true),
    STR(struct api_boot_source, boot_args),
};

int api_parse_boot_source(json_t *o, struct api_boot_source *out, char *err, size_t errlen)
{
	uint32_t seen;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = api_json_obj(o, "boot-source", api_boot_fields, ARRAY_SIZE(api_boot_fields), false,
			  out, &seen, err, errlen);
	out->has_boot_args = seen & (1u << 2);
	out->set = !rc;
	return rc;
}

static const char *const api_huge_choices[] = {"None", "Transparent", "2M", NULL};

static const struct api_field api_machine_fields[] = {
    {.name = "vcpu_count",
     .type = AF_U32,
     .required = true,
     .off = offsetof(struct api_machine_config, vcpu_count),
     .min = 1,
     .max = API_MAX_VCPUS},
    {.name = "mem_size_mib",
     .type = AF_U64,
     .required = true,
     .off = offsetof(struct api_machine_config, mem_size_mib),
     .min = 1,
     .max = CONFIG_MAX_MEM_MIB},
    BOOL(struct api_machine_config, smt),
    BOOL(struct api_machine_config, track_dirty_pages),
    {.name = "cpu_template", /* bit 4 in @seen */
     .type = AF_ENUM,
     .off = offsetof(struct api_machine_config, cpu_template),
     .choices = api_cpu_template_choices},
    {.name = "huge_pages",
     .type = AF_ENUM,
     .off = offsetof(struct api_machine_config, huge_pages),
     .choices = api_huge_choices},
};

int api_parse_machine_config(json_t *o, bool partial, struct api_machine_config *out, char *err,
			     size_t errlen)
{
	struct api_machine_config m = {
	    .vcpu_count = CONFIG_DEFAULT_VCPUS,
	    .mem_size_mib = CONFIG_DEFAULT_MEM_MIB,
	};
	uint32_t seen = 0;
	int rc;

	/* PUT: unspecified optional fields go back to their defaults, but for
	 * the CPU template, which Firecracker keeps. */
	if (partial)
		m = *out;
	m.cpu_template = out->cpu_template;
	/* PATCH with nothing in it is a mistake, as Firecracker says. */
	if (partial && json_is_object(o) && !json_object_size(o))
		return api_err(err, errlen, "machine-config: the update changes nothing.");
	rc = api_json_obj(o, "machine-config", api_machine_fields, ARRAY_SIZE(api_machine_fields),
			  partial, &m, &seen, err, errlen);
	if (rc)
		return rc;
	m.cpu_template_given = seen & (1u << 4);
	if (m.smt && m.vcpu_count > 1 && (m.vcpu_count & 1))
		return api_err(err, errlen,
			       "machine-config: \"vcpu_count\" must be 1 or even when \"smt\" is "
			       "true, not %u.",
			       m.vcpu_count);
	if (m.huge_pages == API_HUGE_THP)
		return api_err(err, errlen,
			       "machine-config: \"huge_pages\" \"Transparent\" is not supported by "
			       "ember; use \"None\" or \"2M\".");
	/* Firecracker's rule and words: hugetlbfs RAM is whole 2 MiB pages. */
	if (m.huge_pages == API_HUGE_2M && (m.mem_size_mib & 1))
		return api_err(err, errlen,
			       "The memory size (MiB) is either 0, or not a multiple of the "
			       "configured page size.");
	*out = m;
	return 0;
}

/* ---- rate limiters and the entropy device ---------------------------------- */

static void bucket_cfg(const struct api_token_bucket *b, struct tbucket_cfg *c)
{
	*c = (struct tbucket_cfg){0};
	if (b->set)
		*c = (struct tbucket_cfg){.size = b->size,
					  .one_time_burst = b->one_time_burst,
					  .refill_time_ms = b->refill_time};
}

void api_limiter_cfg(const struct api_rate_limiter *rl, struct limiter_cfg *c)
{
	bucket_cfg(&rl->bandwidth, &c->bw);
	bucket_cfg(&rl->ops, &c->ops);
}

/* The devices' own rules (limiter.c), so a PUT refuses what a device would. */
static int api_rate_limiter_check(const struct api_rate_limiter *rl, const char *what, char *err,
				  size_t errlen)
{
	struct limiter_cfg c;
	char why[160];

	api_limiter_cfg(rl, &c);
	if (!limiter_cfg_check(&c, why, sizeof(why)))
		return 0;
	return api_err(err, errlen, "%s: %s", what, why);
}

static const struct api_field api_bucket_fields[] = {
    {.name = "size",
     .type = AF_U64,
     .required = true,
     .off = offsetof(struct api_token_bucket, size),
     .max = INT64_MAX},
    {.name = "one_time_burst",
     .type = AF_U64,
     .off = offsetof(struct api_token_bucket, one_time_burst),
     .max = INT64_MAX},
    {.name = "refill_time",
     .type = AF_U64,
     .required = true,
     .off = offsetof(struct api_token_bucket, refill_time),
     .max = INT64_MAX},
};

int api_parse_bucket(json_t *o, const char *what, struct api_token_bucket *out, char *err,
		     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!o || json_is_null(o))
		return 0;
	int rc = api_json_obj(o, what, api_bucket_fields, ARRAY_SIZE(api_bucket_fields), false, out,
			      NULL, err, errlen);
	out->set = !rc;
	return rc;
}

static const struct api_field api_rate_limiter_fields[] = {
    {.name = "bandwidth", .type = AF_OBJECT, .off = AF_NO_DST},
    {.name = "ops", .type = AF_OBJECT, .off = AF_NO_DST},
};

int api_parse_rate_limiter(json_t *o, const char *what, struct api_rate_limiter *out, char *err,
			   size_t errlen)
{
	char sub[96];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o || json_is_null(o))
		return 0; /* absent: no limits */
	rc = api_json_obj(o, what, api_rate_limiter_fields, ARRAY_SIZE(api_rate_limiter_fields),
			  false, NULL, NULL, err, errlen);
	snprintf(sub, sizeof(sub), "%s: bandwidth", what);
	if (!rc)
		rc = api_parse_bucket(json_object_get(o, "bandwidth"), sub, &out->bandwidth, err,
				      errlen);
	snprintf(sub, sizeof(sub), "%s: ops", what);
	if (!rc)
		rc = api_parse_bucket(json_object_get(o, "ops"), sub, &out->ops, err, errlen);
	if (!rc)
		rc = api_rate_limiter_check(out, what, err, errlen);
	out->set = !rc;
	return rc;
}

static const struct api_field api_logger_fields[] = {
    STR(struct api_logger, log_path, .nonempty = true),
    {.name = "level",
     .type = AF_ENUM,
     .off = offsetof(struct api_logger, level),
     .choices = api_level_choices,
     .nocase = true},
    BOOL(struct api_logger, show_level),
    BOOL(struct api_logger, show_log_origin),
    STR(struct api_logger, module),
};

int api_parse_logger(json_t *o, struct api_logger *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->level = API_LOG_INFO;
	int rc = api_json_obj(o, "logger", api_logger_fields, ARRAY_SIZE(api_logger_fields), false,
			      out, NULL, err, errlen);
	if (!rc && out->level == API_LOG_OFF + 1)
		out->level = API_LOG_WARNING; /* "Warn" */
	out->set = !rc;
	return rc;
}

static const struct api_field api_metrics_fields[] = {
    STR(struct api_metrics, metrics_path, .required = true, .nonempty = true),
    BOOL(struct api_metrics, emit_id),
    {.name = "properties", .type = AF_OBJECT, .off = AF_NO_DST},
};

/* Firecracker's map of operator strings, kept as the JSON each line carries. */
static int api_parse_metrics_properties(json_t *p, struct api_metrics *out, char *err,
					size_t errlen)
{
	const char *key;
	json_t *v;
	char *s;
	int rc = 0;

	if (!p || json_is_null(p))
		return 0;
	json_object_foreach(p, key, v)
	{
		if (!json_is_string(v))
			return api_err(err, errlen,
				       "metrics: \"properties\": the value of \"%.64s\" must be a "
				       "string.",
				       key);
	}
	s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return api_err(err, errlen, "metrics: \"properties\": out of memory.");
	if (strlen(s) >= sizeof(out->properties))
		rc = api_err(err, errlen,
			     "metrics: \"properties\" is longer than %zu bytes as JSON.",
			     sizeof(out->properties) - 1);
	else
		memcpy(out->properties, s, strlen(s) + 1);
	free(s);
	return rc;
}

int api_parse_metrics(json_t *o, struct api_metrics *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = api_json_obj(o, "metrics", api_metrics_fields, ARRAY_SIZE(api_metrics_fields),
			      false, out, NULL, err, errlen);
	if (!rc)
		rc = api_parse_metrics_properties(json_object_get(o, "properties"), out, err,
						  errlen);
	out->set = !rc;
	return rc;
}

int api_parse_action(json_t *o, enum api_cmd_kind *kind, char *err, size_t errlen)
{
	static const enum api_cmd_kind kinds[] = {API_CMD_START, API_CMD_CTRL_ALT_DEL,
						  API_CMD_FLUSH_METRICS};
	static const struct api_field fields[] = {
	    {.name = "action_type",
	     .type = AF_ENUM,
	     .required = true,
	     .off = 0,
	     .choices = api_action_choices},
	};
	unsigned idx = 0;
	int rc =
	    api_json_obj(o, "actions", fields, ARRAY_SIZE(fields), false, &idx, NULL, err, errlen);

	if (!rc)
		*kind = kinds[idx];
	return rc;
}

int api_parse_vm_state(json_t *o, bool *pause, char *err, size_t errlen)
{
	static const struct api_field fields[] = {
	    {.name = "state",
	     .type = AF_ENUM,
	     .required = true,
	     .off = 0,
	     .choices = api_vm_state_choices},
	};
	unsigned idx = 0;
	int rc = api_json_obj(o, "vm", fields, ARRAY_SIZE(fields), false, &idx, NULL, err, errlen);

	if (!rc)
		*pause = idx == 0;
	return rc;
}
