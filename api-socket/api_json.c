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
static const char *const api_cache_choices[] = {"Unsafe", "Writeback", NULL};
static const char *const api_engine_choices[] = {"Sync", "Async", NULL};
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

static const struct api_field api_drive_fields[] = {
    STR(struct api_drive, drive_id, .required = true),
    STR(struct api_drive, path_on_host, .required = true, .nonempty = true),
    BOOL(struct api_drive, is_root_device, .required = true),
    BOOL(struct api_drive, is_read_only),
    STR(struct api_drive, partuuid, .nonempty = true),
    {.name = "cache_type",
     .type = AF_ENUM,
     .off = offsetof(struct api_drive, cache_type),
     .choices = api_cache_choices},
    {.name = "io_engine",
     .type = AF_ENUM,
     .off = offsetof(struct api_drive, io_engine),
     .choices = api_engine_choices},
    {.name = "rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
    NOTSUP("socket"),
};

int api_parse_drive(json_t *o, struct api_drive *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = api_json_obj(o, "drive", api_drive_fields, ARRAY_SIZE(api_drive_fields), false,
			      out, NULL, err, errlen);
	if (!rc)
		rc = api_parse_rate_limiter(json_object_get(o, "rate_limiter"),
					    "drive: rate_limiter", &out->rate_limiter, err, errlen);
	return rc ? rc : api_check_id("drive: \"drive_id\"", out->drive_id, err, errlen);
}

static const struct api_field api_drive_patch_fields[] = {
    STR(struct api_drive_patch, drive_id, .required = true),
    STR(struct api_drive_patch, path_on_host, .nonempty = true),
    {.name = "rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
};

int api_parse_drive_patch(json_t *o, struct api_drive_patch *out, char *err, size_t errlen)
{
	uint32_t seen;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = api_json_obj(o, "drive", api_drive_patch_fields, ARRAY_SIZE(api_drive_patch_fields),
			  false, out, &seen, err, errlen);
	if (!rc)
		rc = api_parse_rate_limiter(json_object_get(o, "rate_limiter"),
					    "drive: rate_limiter", &out->rate_limiter, err, errlen);
	if (rc)
		return rc;
	out->has_path = seen & (1u << 1);
	return api_check_id("drive: \"drive_id\"", out->drive_id, err, errlen);
}

struct api_net_json {
	char iface_id[API_ID_MAX];
	char host_dev_name[API_IFNAME_MAX];
	char guest_mac[18];
	uint32_t mtu;
};

static const struct api_field api_net_fields[] = {
    STR(struct api_net_json, iface_id, .required = true),
    STR(struct api_net_json, host_dev_name, .required = true, .nonempty = true),
    STR(struct api_net_json, guest_mac),
    {.name = "mtu",
     .type = AF_U32,
     .off = offsetof(struct api_net_json, mtu),
     .min = 68,
     .max = 65535},
    {.name = "rx_rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
    {.name = "tx_rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
};

/* The rx and tx rate limiters of a network-interface body. */
static int api_parse_net_limiters(json_t *o, struct api_rate_limiter *rx,
				  struct api_rate_limiter *tx, char *err, size_t errlen)
{
	int rc = api_parse_rate_limiter(json_object_get(o, "rx_rate_limiter"),
					"network-interface: rx_rate_limiter", rx, err, errlen);

	return rc ? rc
		  : api_parse_rate_limiter(json_object_get(o, "tx_rate_limiter"),
					   "network-interface: tx_rate_limiter", tx, err, errlen);
}

static int api_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly six colon-separated two-digit hex bytes. */
static int api_parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = api_hex(s[3 * i]), lo = api_hex(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int api_parse_net(json_t *o, struct api_net *out, char *err, size_t errlen)
{
	struct api_net_json j = {0};
	uint32_t seen;
	int rc;

	rc = api_json_obj(o, "network-interface", api_net_fields, ARRAY_SIZE(api_net_fields), false,
			  &j, &seen, err, errlen);
	if (rc)
		return rc;
	rc = api_check_id("network-interface: \"iface_id\"", j.iface_id, err, errlen);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	memcpy(out->iface_id, j.iface_id, sizeof(out->iface_id));
	memcpy(out->host_dev_name, j.host_dev_name, sizeof(out->host_dev_name));
	out->mtu = j.mtu;
	out->has_mac = seen & (1u << 2);
	if (out->has_mac && api_parse_mac(j.guest_mac, out->guest_mac))
		return api_err(
		    err, errlen,
		    "network-interface: \"guest_mac\" must look like 06:00:AC:10:00:02.");
	return api_parse_net_limiters(o, &out->rx_rate_limiter, &out->tx_rate_limiter, err, errlen);
}

static const struct api_field api_net_patch_fields[] = {
    STR(struct api_net_json, iface_id, .required = true),
    {.name = "rx_rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
    {.name = "tx_rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
};

int api_parse_net_patch(json_t *o, struct api_net_patch *out, char *err, size_t errlen)
{
	struct api_net_json j = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = api_json_obj(o, "network-interface", api_net_patch_fields,
			  ARRAY_SIZE(api_net_patch_fields), false, &j, NULL, err, errlen);
	if (!rc)
		rc = api_parse_net_limiters(o, &out->rx, &out->tx, err, errlen);
	if (rc)
		return rc;
	memcpy(out->iface_id, j.iface_id, API_ID_MAX);
	return api_check_id("network-interface: \"iface_id\"", out->iface_id, err, errlen);
}

static const struct api_field api_vsock_fields[] = {
    {.name = "guest_cid",
     .type = AF_U32,
     .required = true,
     .off = offsetof(struct api_vsock, guest_cid),
     .min = 3,
     .max = UINT32_MAX - 1},
    STR(struct api_vsock, uds_path, .required = true, .nonempty = true),
    {.name = "vsock_id", .type = AF_STR, .off = AF_NO_DST}, /* deprecated, ignored */
};

int api_parse_vsock(json_t *o, struct api_vsock *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = api_json_obj(o, "vsock", api_vsock_fields, ARRAY_SIZE(api_vsock_fields), false,
			      out, NULL, err, errlen);
	out->set = !rc;
	return rc;
}

static const struct api_field api_entropy_fields[] = {
    {.name = "rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
};

int api_parse_entropy(json_t *o, struct api_entropy *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = api_json_obj(o, "entropy", api_entropy_fields, ARRAY_SIZE(api_entropy_fields), false,
			  NULL, NULL, err, errlen);
	if (!rc)
		rc = api_parse_rate_limiter(json_object_get(o, "rate_limiter"),
					    "entropy: rate_limiter", &out->rate_limiter, err,
					    errlen);
	out->set = !rc;
	return rc;
}

static const struct api_field api_pmem_fields[] = {
    STR(struct api_pmem, id, .required = true),
    STR(struct api_pmem, path_on_host, .required = true, .nonempty = true),
    BOOL(struct api_pmem, root_device),
    BOOL(struct api_pmem, read_only),
    {.name = "rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
};

int api_parse_pmem(json_t *o, struct api_pmem *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = api_json_obj(o, "pmem", api_pmem_fields, ARRAY_SIZE(api_pmem_fields), false, out,
			      NULL, err, errlen);
	if (!rc)
		rc = api_check_id("pmem", out->id, err, errlen);
	if (!rc)
		rc = api_parse_rate_limiter(json_object_get(o, "rate_limiter"),
					    "pmem: rate_limiter", &out->rate_limiter, err, errlen);
	return rc;
}

static const struct api_field api_hotplug_fields[] = {
    {.name = "total_size_mib",
     .type = AF_U32,
     .required = true,
     .off = offsetof(struct api_hotplug, total_size_mib),
     .max = UINT32_MAX},
    {.name = "slot_size_mib",
     .type = AF_U32,
     .off = offsetof(struct api_hotplug, slot_size_mib),
     .max = UINT32_MAX},
    {.name = "block_size_mib",
     .type = AF_U32,
     .off = offsetof(struct api_hotplug, block_size_mib),
     .max = UINT32_MAX},
};

int api_parse_hotplug(json_t *o, struct api_hotplug *out, char *err, size_t errlen)
{
	*out = (struct api_hotplug){.slot_size_mib = 128, .block_size_mib = 2};
	int rc = api_json_obj(o, "memory-hotplug", api_hotplug_fields,
			      ARRAY_SIZE(api_hotplug_fields), false, out, NULL, err, errlen);
	out->set = !rc;
	return rc;
}

int api_parse_hotplug_patch(json_t *o, uint32_t *requested_mib, char *err, size_t errlen)
{
	const struct api_field f[] = {
	    {.name = "requested_size_mib", .type = AF_U32, .required = true, .max = UINT32_MAX}};

	return api_json_obj(o, "memory-hotplug", f, 1, false, requested_mib, NULL, err, errlen);
}

int api_parse_pmem_patch(json_t *o, char id[API_ID_MAX], struct api_rate_limiter *rl, char *err,
			 size_t errlen)
{
	const struct api_field f[] = {
	    {.name = "id", .type = AF_STR, .required = true, .size = API_ID_MAX},
	    {.name = "rate_limiter", .type = AF_OBJECT, .off = AF_NO_DST},
	};
	int rc = api_json_obj(o, "pmem", f, ARRAY_SIZE(f), false, id, NULL, err, errlen);

	if (!rc)
		rc = api_parse_rate_limiter(json_object_get(o, "rate_limiter"),
					    "pmem: rate_limiter", rl, err, errlen);
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

/* ---- snapshots ------------------------------------------------------------ */

static const char *const api_snap_type_choices[] = {"Full", "Diff", NULL};
static const char *const api_backend_choices[] = {"File", "Uffd", NULL};
static const char *const api_load_huge_choices[] = {"Snapshot", "None", "Transparent", "2M", NULL};

static const struct api_field api_snap_create_fields[] = {
    STR(struct api_snapshot_create, snapshot_path, .required = true, .nonempty = true),
    STR(struct api_snapshot_create, mem_file_path, .required = true, .nonempty = true),
    {.name = "snapshot_type",
     .type = AF_ENUM,
     .off = offsetof(struct api_snapshot_create, type),
     .choices = api_snap_type_choices},
    NOTSUP("version"), /* dropped from Firecracker's API in 1.5 */
};

int api_parse_snapshot_create(json_t *o, struct api_snapshot_create *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = api_json_obj(o, "snapshot-create", api_snap_create_fields,
			  ARRAY_SIZE(api_snap_create_fields), false, out, NULL, err, errlen);
	if (rc)
		return rc;
	/* One would overwrite the other: refuse before the VMM opens either. */
	if (!strcmp(out->snapshot_path, out->mem_file_path))
		return api_err(err, errlen,
			       "snapshot-create: \"snapshot_path\" and \"mem_file_path\" must be "
			       "different files.");
	return 0;
}

/* Indices below are the bits api_json_obj() reports in @seen. */
enum {
	LF_PATH,
	LF_MEM_FILE,
	LF_BACKEND,
	LF_DIFF,
	LF_TRACK,
	LF_RESUME,
	LF_NETS,
	LF_VSOCK,
	LF_CLOCK,
	LF_HUGE
};

static const struct api_field api_snap_load_fields[] = {
    [LF_PATH] = STR(struct api_snapshot_load, snapshot_path, .required = true, .nonempty = true),
    [LF_MEM_FILE] = {.name = "mem_file_path",
		     .type = AF_STR,
		     .nonempty = true,
		     .off = offsetof(struct api_snapshot_load, mem_path),
		     .size = API_PATH_MAX},
    [LF_BACKEND] = {.name = "mem_backend", .type = AF_OBJECT, .off = AF_NO_DST},
    [LF_DIFF] = {.name = "enable_diff_snapshots", .type = AF_BOOL, .off = AF_NO_DST},
    [LF_TRACK] = {.name = "track_dirty_pages", .type = AF_BOOL, .off = AF_NO_DST},
    [LF_RESUME] = BOOL(struct api_snapshot_load, resume_vm),
    [LF_NETS] = {.name = "network_overrides", .type = AF_ARRAY, .off = AF_NO_DST},
    [LF_VSOCK] = {.name = "vsock_override", .type = AF_OBJECT, .off = AF_NO_DST},
    [LF_CLOCK] = BOOL(struct api_snapshot_load, clock_realtime),
    [LF_HUGE] = {.name = "huge_pages",
		 .type = AF_ENUM,
		 .off = offsetof(struct api_snapshot_load, huge_pages),
		 .choices = api_load_huge_choices},
};

/*
 * ember's guest memory is the memory file mapped (File) or anonymous pages
 * a handler fills (Uffd), 4 KiB or 2 MiB hugetlbfs pages.  2M from a File is
 * Firecracker's own refusal (a snapshot that is 2M by itself is refused when
 * loaded, snapshot.c); "Transparent" ember does not do.
 */
static int api_load_huge_pages(const struct api_snapshot_load *l, char *err, size_t errlen)
{
	if (l->huge_pages == 3 && l->backend == API_MEM_FILE)
		return api_err(err, errlen,
			       "Load snapshot error: Cannot restore hugetlbfs backed snapshot by "
			       "mapping the memory file. Please use uffd.");
	if (l->huge_pages == 2)
		return api_err(err, errlen,
			       "snapshot-load: \"huge_pages\" \"Transparent\" is not supported by "
			       "ember; use \"Snapshot\", \"None\" or \"2M\".");
	return 0;
}

static const struct api_field api_backend_fields[] = {
    {.name = "backend_type",
     .type = AF_ENUM,
     .required = true,
     .off = offsetof(struct api_snapshot_load, backend),
     .choices = api_backend_choices},
    {.name = "backend_path",
     .type = AF_STR,
     .required = true,
     .nonempty = true,
     .off = offsetof(struct api_snapshot_load, mem_path),
     .size = API_PATH_MAX},
};

static const struct api_field api_override_fields[] = {
    STR(struct api_net_override, iface_id, .required = true),
    STR(struct api_net_override, host_dev_name, .required = true, .nonempty = true),
};

static const struct api_field api_vsock_override_fields[] = {
    {.name = "uds_path",
     .type = AF_STR,
     .required = true,
     .nonempty = true,
     .off = offsetof(struct api_snapshot_load, vsock_uds_path),
     .size = API_UDS_PATH_MAX},
};

int api_parse_net_overrides(json_t *arr, struct api_snapshot_load *out, char *err, size_t errlen)
{
	char what[64];
	size_t i;
	json_t *v;
	int rc;

	if (json_array_size(arr) > API_MAX_NETS)
		return api_err(err, errlen,
			       "snapshot-load: \"network_overrides\" has more than %d entries.",
			       API_MAX_NETS);
	json_array_foreach(arr, i, v)
	{
		struct api_net_override *n = &out->net_overrides[i];

		snprintf(what, sizeof(what), "snapshot-load: network_overrides[%zu]", i);
		rc = api_json_obj(v, what, api_override_fields, ARRAY_SIZE(api_override_fields),
				  false, n, NULL, err, errlen);
		if (!rc)
			rc = api_check_id(what, n->iface_id, err, errlen);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(out->net_overrides[j].iface_id, n->iface_id))
				return api_err(err, errlen,
					       "%s: \"iface_id\" \"%s\" is overridden twice.", what,
					       n->iface_id);
	}
	out->nr_net_overrides = (unsigned)json_array_size(arr);
	return 0;
}

int api_parse_snapshot_load(json_t *o, struct api_snapshot_load *out, char *err, size_t errlen)
{
	const char *what = "snapshot-load";
	uint32_t seen;
	json_t *v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = api_json_obj(o, what, api_snap_load_fields, ARRAY_SIZE(api_snap_load_fields), false,
			  out, &seen, err, errlen);
	if (rc)
		return rc;
	/* Firecracker's swagger: exactly one of the two mem_* fields. */
	if ((seen & (1u << LF_BACKEND)) && (seen & (1u << LF_MEM_FILE)))
		return api_err(err, errlen,
			       "%s: \"mem_backend\" and \"mem_file_path\" are mutually exclusive; "
			       "give only \"mem_backend\".",
			       what);
	if (!(seen & ((1u << LF_BACKEND) | (1u << LF_MEM_FILE))))
		return api_err(err, errlen,
			       "%s: missing field: either \"mem_backend\" or \"mem_file_path\" is "
			       "required.",
			       what);
	if (seen & (1u << LF_BACKEND)) {
		rc = api_json_obj(json_object_get(o, "mem_backend"), "snapshot-load: mem_backend",
				  api_backend_fields, ARRAY_SIZE(api_backend_fields), false, out,
				  NULL, err, errlen);
		if (rc)
			return rc;
	}
	rc = api_load_huge_pages(out, err, errlen);
	if (rc)
		return rc;
	if (out->backend == API_MEM_UFFD && strlen(out->mem_path) >= API_UDS_PATH_MAX)
		return api_err(
		    err, errlen,
		    "%s: mem_backend: \"backend_path\" of a Uffd backend is a Unix socket "
		    "and must be shorter than %d bytes.",
		    what, API_UDS_PATH_MAX);
	if (out->backend == API_MEM_FILE && !strcmp(out->mem_path, out->snapshot_path))
		return api_err(err, errlen,
			       "%s: the memory file and \"snapshot_path\" must be different files.",
			       what);
	/* The deprecated and the current name of the same switch: either enables it. */
	v = json_object_get(o, "enable_diff_snapshots");
	out->track_dirty_pages = json_is_true(v);
	v = json_object_get(o, "track_dirty_pages");
	out->track_dirty_pages |= json_is_true(v);
	if (seen & (1u << LF_NETS)) {
		rc = api_parse_net_overrides(json_object_get(o, "network_overrides"), out, err,
					     errlen);
		if (rc)
			return rc;
	}
	if (seen & (1u << LF_VSOCK))
		return api_parse_vsock_override(json_object_get(o, "vsock_override"),
						"snapshot-load: vsock_override", out, err, errlen);
	return 0;
}

int api_parse_vsock_override(json_t *v, const char *what, struct api_snapshot_load *out, char *err,
			     size_t errlen)
{
	int rc = api_json_obj(v, what, api_vsock_override_fields,
			      ARRAY_SIZE(api_vsock_override_fields), false, out, NULL, err, errlen);

	out->has_vsock_override = !rc;
	return rc;
}
