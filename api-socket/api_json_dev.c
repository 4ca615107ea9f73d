// SPDX-License-Identifier: Apache-2.0
/*
 * The device objects' schemas and parsers: drives, network interfaces (and
 * their MAC), vsock, entropy, pmem and memory hotplug, with their PATCH
 * bodies.  Same field-table walker as the rest (api_json.c's api_json_obj);
 * separate from api_json.c, which holds the walker and the VM-wide objects,
 * to keep both under the size limit.
 */
#include <string.h>

#include "api_json.h"
#include "api_schema.h"

static const char *const api_cache_choices[] = {"Unsafe", "Writeback", NULL};
static const char *const api_engine_choices[] = {"Sync", "Async", NULL};

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
