// SPDX-License-Identifier: Apache-2.0
/*
 * The snapshot objects' schemas and parsers: PUT /snapshot/create and
 * /snapshot/load with its memory backend, network and vsock overrides (which
 * PUT /migration/receive reuses).  Same field-table walker as the rest
 * (api_json.c's api_json_obj); separate from api_json.c, which holds the
 * walker and the VM-wide objects, to keep both under the size limit.
 */
#include <stdio.h>
#include <string.h>

#include "api_json.h"
#include "api_schema.h"

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
