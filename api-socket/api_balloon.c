// SPDX-License-Identifier: Apache-2.0
/*
 * The balloon's end of Firecracker's API: PUT/GET/PATCH /balloon, GET/PATCH
 * /balloon/statistics, /balloon/hinting/{start,status,stop}, the "balloon"
 * section of GET /vm/config and config files, and the device's settings
 * (virtio/balloon.h) made from them.  The rules are Firecracker's:
 * PUT only before boot, with amount_mib at most the guest's memory; the
 * rest only after boot, run on the live device by the VMM thread
 * (API_CMD_BALLOON); statistics cannot be switched on or off after boot.
 * GET /balloon answers from the API's configuration, which every
 * successful PATCH updates.
 */
#include <stdio.h>
#include <string.h>

#include "api_json.h"
#include "api_schema.h"
#include "balloon.h"
#include "device.h"

#define MSG_AFTER_START	 "The requested operation is not supported after starting the microVM."
#define MSG_BEFORE_START "The requested operation is not supported before starting the microVM."
#define MSG_NO_BALLOON	 "Balloon config error: No balloon device found."

/* Firecracker's BalloonStats names, by Linux's VIRTIO_BALLOON_S_* tag. */
static const char *const stat_names[API_BALLOON_NR_STATS] = {
    "swap_in",	      "swap_out",	  "major_faults", "minor_faults",	 "free_memory",
    "total_memory",   "available_memory", "disk_caches",  "hugetlb_allocations", "hugetlb_failures",
    "oom_kill",	      "alloc_stall",	  "async_scan",	  "direct_scan",	 "async_reclaim",
    "direct_reclaim",
};

/* ---- the objects ------------------------------------------------------------------ */

/* Parsed into u32s (the walker's widths), then narrowed. */
struct balloon_in {
	uint32_t amount_mib, stats_polling_interval_s;
	bool deflate_on_oom, free_page_hinting, free_page_reporting, acknowledge_on_stop;
};

#define U32(f, req, hi)                                                                            \
	{                                                                                          \
		.name = #f, .type = AF_U32, .required = req,                                       \
		.off = offsetof(struct balloon_in, f), .max = hi                                   \
	}

/* amount_mib is Firecracker's u32; what the guest lacks is refused by the rule below. */
static const struct api_field balloon_fields[] = {
    U32(amount_mib, true, UINT32_MAX),
    BOOL(struct balloon_in, deflate_on_oom, .required = true),
    U32(stats_polling_interval_s, false, UINT16_MAX),
    BOOL(struct balloon_in, free_page_hinting),
    BOOL(struct balloon_in, free_page_reporting),
};
static const struct api_field update_fields[] = {U32(amount_mib, true, UINT32_MAX)};
static const struct api_field stats_fields[] = {U32(stats_polling_interval_s, true, UINT16_MAX)};
static const struct api_field hint_fields[] = {BOOL(struct balloon_in, acknowledge_on_stop)};

int api_parse_balloon(json_t *o, struct api_balloon *out, char *err, size_t errlen)
{
	struct balloon_in in = {0};
	int rc = api_json_obj(o, "balloon", balloon_fields, ARRAY_SIZE(balloon_fields), false, &in,
			      NULL, err, errlen);

	if (rc)
		return rc;
	*out = (struct api_balloon){
	    .set = true,
	    .amount_mib = in.amount_mib,
	    .deflate_on_oom = in.deflate_on_oom,
	    .stats_polling_interval_s = (uint16_t)in.stats_polling_interval_s,
	    .free_page_hinting = in.free_page_hinting,
	    .free_page_reporting = in.free_page_reporting,
	};
	return 0;
}

json_t *api_json_balloon(const struct api_balloon *b)
{
	if (!b->set)
		return json_null();
	return json_pack("{s:I, s:b, s:I, s:b, s:b}", "amount_mib", (json_int_t)b->amount_mib,
			 "deflate_on_oom", b->deflate_on_oom, "stats_polling_interval_s",
			 (json_int_t)b->stats_polling_interval_s, "free_page_hinting",
			 b->free_page_hinting, "free_page_reporting", b->free_page_reporting);
}

int api_balloon_fits(const struct api_vm_config *cfg, char *err, size_t errlen)
{
	if (!cfg->balloon.set || cfg->balloon.amount_mib <= cfg->machine.mem_size_mib)
		return 0;
	return api_err(err, errlen,
		       "Balloon config error: Amount of pages requested is too large.");
}

/* ---- the device's settings -------------------------------------------------------- */

int api_balloon_to_config(const struct api_balloon *b, struct vdev_configs *l, char *err,
			  size_t errlen)
{
	const struct vdev_type *t = vdev_type_find("balloon");
	struct vballoon_config c = {
	    .amount_mib = b->amount_mib,
	    .deflate_on_oom = b->deflate_on_oom,
	    .stats_interval_s = b->stats_polling_interval_s,
	    .free_page_hinting = b->free_page_hinting,
	    .free_page_reporting = b->free_page_reporting,
	};
	char why[200];

	snprintf(c.id, sizeof(c.id), "balloon");
	if (!t)
		return api_err(err, errlen, "this ember has no balloon device");
	if (vdev_configs_add(l, t, &c, why, sizeof(why)))
		return api_err(err, errlen, "%s", why);
	return 0;
}

void api_balloon_from_config(const void *cfg, struct api_balloon *b)
{
	const struct vballoon_config *c = cfg;

	*b = (struct api_balloon){
	    .set = true,
	    .amount_mib = c->amount_mib,
	    .deflate_on_oom = c->deflate_on_oom,
	    .stats_polling_interval_s = c->stats_interval_s,
	    .free_page_hinting = c->free_page_hinting,
	    .free_page_reporting = c->free_page_reporting,
	};
}

/* ---- requests ------------------------------------------------------------------------ */

static enum api_result bad(struct api_response *resp, const char *msg)
{
	api_fault(resp, 400, "%s", msg);
	return API_DONE;
}

static enum api_result put_balloon(struct api_state *st, json_t *body, struct api_response *resp)
{
	struct api_vm_config *cfg = &st->cfg;
	struct api_balloon b, old = cfg->balloon;
	char err[API_ERR_MAX];

	if (api_parse_balloon(body, &b, err, sizeof(err)))
		return bad(resp, err);
	if (st->vm_state != API_VM_NOT_STARTED)
		return bad(resp, MSG_AFTER_START);
	cfg->balloon = b;
	if (api_balloon_fits(cfg, err, sizeof(err))) {
		cfg->balloon = old;
		return bad(resp, err);
	}
	st->boot_configured = true;
	resp->status = 204;
	return API_DONE;
}

/* 200 with @o (taken; NULL: out of memory). */
static enum api_result ok_json(struct api_response *resp, json_t *o)
{
	resp->status = 200;
	resp->body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!resp->body)
		api_fault(resp, 500, "Out of memory.");
	return API_DONE;
}

static enum api_result get_balloon(struct api_state *st, struct api_response *resp)
{
	if (!st->cfg.balloon.set)
		return bad(resp, MSG_NO_BALLOON);
	return ok_json(resp, api_json_balloon(&st->cfg.balloon));
}

/* A command for the live device, after the body and the state are checked. */
static enum api_result live(struct api_state *st, enum api_balloon_op op, struct api_cmd *cmd,
			    struct api_response *resp)
{
	if (st->vm_state == API_VM_NOT_STARTED)
		return bad(resp, MSG_BEFORE_START);
	if (!st->cfg.balloon.set)
		return bad(resp, MSG_NO_BALLOON);
	cmd->kind = API_CMD_BALLOON;
	cmd->cfg = &st->cfg;
	cmd->balloon.op = op;
	return API_EXEC;
}

/* The object @fields describe, into @in; a missing body is Firecracker's error. */
static int body_fields(json_t *body, enum http_method m, const struct api_field *f, size_t n,
		       struct balloon_in *in, char *err, size_t errlen)
{
	if (!body)
		return api_err(err, errlen, "Empty %s request.", http_method_name(m));
	return api_json_obj(body, "balloon", f, n, false, in, NULL, err, errlen);
}

/* PATCH start (body optional: acknowledge_on_stop defaults to true). */
static enum api_result hint_start(struct api_state *st, json_t *body, struct api_response *resp,
				  struct api_cmd *cmd)
{
	struct balloon_in in = {.acknowledge_on_stop = true};
	char err[API_ERR_MAX];

	if (body && api_json_obj(body, "balloon", hint_fields, ARRAY_SIZE(hint_fields), false, &in,
				 NULL, err, sizeof(err)))
		return bad(resp, err);
	cmd->balloon.ack_on_stop = in.acknowledge_on_stop;
	return live(st, API_BALLOON_HINT_START, cmd, resp);
}

enum api_result api_balloon_handle(struct api_state *st, enum http_method m, const char *sub,
				   json_t *body, struct api_response *resp, struct api_cmd *cmd)
{
	struct balloon_in in = {0};
	char err[API_ERR_MAX];

	memset(cmd, 0, sizeof(*cmd));
	if (!strcmp(sub, "") || !strcmp(sub, "/")) {
		if (m == HTTP_GET)
			return get_balloon(st, resp);
		if (m == HTTP_PUT)
			return body ? put_balloon(st, body, resp) : bad(resp, "Empty PUT request.");
		if (body_fields(body, m, update_fields, ARRAY_SIZE(update_fields), &in, err,
				sizeof(err)))
			return bad(resp, err);
		cmd->balloon.amount_mib = in.amount_mib;
		return live(st, API_BALLOON_TARGET, cmd, resp);
	}
	if (!strcmp(sub, "/statistics") && m == HTTP_GET)
		return live(st, API_BALLOON_STATS, cmd, resp);
	if (!strcmp(sub, "/statistics") && m == HTTP_PATCH) {
		if (body_fields(body, m, stats_fields, ARRAY_SIZE(stats_fields), &in, err,
				sizeof(err)))
			return bad(resp, err);
		cmd->balloon.interval_s = (uint16_t)in.stats_polling_interval_s;
		return live(st, API_BALLOON_STATS_INTERVAL, cmd, resp);
	}
	if (!strcmp(sub, "/hinting/start") && m == HTTP_PATCH)
		return hint_start(st, body, resp, cmd);
	if (!strcmp(sub, "/hinting/status") && m == HTTP_GET)
		return live(st, API_BALLOON_HINT_STATUS, cmd, resp);
	if (!strcmp(sub, "/hinting/stop") && m == HTTP_PATCH)
		return live(st, API_BALLOON_HINT_STOP, cmd, resp);
	api_fault(resp, 400, "Invalid request method and/or path: %s balloon%.200s.",
		  http_method_name(m), sub);
	return API_DONE;
}

/* ---- the VMM thread's part, and the answer ------------------------------------------ */

int api_balloon_exec(void *dev, struct api_balloon_cmd *c, char *err, size_t errlen)
{
	struct vballoon_stats st;
	struct log_capture why;
	int r = -ENODEV;

	if (!dev) {
		snprintf(err, errlen, "%s", MSG_NO_BALLOON);
		return -ENODEV;
	}
	log_capture_begin(&why);
	switch (c->op) {
	case API_BALLOON_TARGET:
		r = vballoon_set_target(dev, c->amount_mib);
		break;
	case API_BALLOON_STATS_INTERVAL:
		r = vballoon_set_stats_interval(dev, c->interval_s);
		break;
	case API_BALLOON_STATS:
		r = vballoon_get_stats(dev, &c->target_pages, &c->actual_pages, &st);
		c->stats_present = st.present;
		memcpy(c->stats, st.val, sizeof(c->stats));
		break;
	case API_BALLOON_HINT_START:
		r = vballoon_hint_start(dev, c->ack_on_stop);
		break;
	case API_BALLOON_HINT_STATUS:
		r = vballoon_hint_status(dev, &c->host_cmd, &c->has_guest_cmd, &c->guest_cmd);
		break;
	case API_BALLOON_HINT_STOP:
		r = vballoon_hint_stop(dev);
		break;
	}
	log_capture_end(&why);
	if (r)
		snprintf(err, errlen, "Balloon update error: %s",
			 why.msg[0] ? why.msg : strerror(-r));
	return r;
}

static json_t *stats_json(const struct api_balloon_cmd *c)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "target_pages", (json_int_t)c->target_pages,
			      "actual_pages", (json_int_t)c->actual_pages, "target_mib",
			      (json_int_t)(c->target_pages / VBALLOON_PAGES_PER_MIB), "actual_mib",
			      (json_int_t)(c->actual_pages / VBALLOON_PAGES_PER_MIB));

	/* As Firecracker: only the statistics the guest has sent. */
	for (unsigned i = 0; o && i < API_BALLOON_NR_STATS; i++)
		if (c->stats_present >> i & 1 &&
		    json_object_set_new(o, stat_names[i], json_integer((json_int_t)c->stats[i]))) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

bool api_balloon_complete(struct api_state *st, const struct api_cmd *cmd,
			  struct api_response *resp)
{
	const struct api_balloon_cmd *c = &cmd->balloon;
	json_t *o = NULL;

	if (cmd->kind != API_CMD_BALLOON)
		return false;
	switch (c->op) {
	case API_BALLOON_TARGET:
		st->cfg.balloon.amount_mib = c->amount_mib;
		break;
	case API_BALLOON_STATS_INTERVAL:
		st->cfg.balloon.stats_polling_interval_s = c->interval_s;
		break;
	case API_BALLOON_STATS:
		o = stats_json(c);
		break;
	case API_BALLOON_HINT_STATUS:
		o = json_pack("{s:I}", "host_cmd", (json_int_t)c->host_cmd);
		if (o && c->has_guest_cmd &&
		    json_object_set_new(o, "guest_cmd", json_integer(c->guest_cmd))) {
			json_decref(o);
			o = NULL;
		}
		break;
	default:
		break;
	}
	resp->status = 204;
	resp->body = NULL;
	if (c->op == API_BALLOON_STATS || c->op == API_BALLOON_HINT_STATUS)
		ok_json(resp, o);
	return true;
}
