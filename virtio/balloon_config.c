// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon's settings (struct vballoon_config): the CLI's --balloon
 * SPEC, with Firecracker's field names, and the device's encoding in a
 * snapshot, which also carries what the guest reported and the state of a
 * free page hinting run.
 */
#include <stdio.h>
#include <string.h>

#include "balloon.h"

static bool opt_is(const char *opt, size_t n, const char *name)
{
	return n == strlen(name) && !memcmp(opt, name, n);
}

/* "NAME=DIGITS" at @opt (@n bytes) into *v, at most @max. */
static int opt_num(const char *opt, size_t n, const char *name, uint64_t max, uint64_t *v,
		   char *err, size_t errlen)
{
	size_t k = strlen(name);
	char buf[24];

	if (n <= k + 1 || n - k - 1 >= sizeof(buf)) {
		snprintf(err, errlen, "%s needs a value", name);
		return -EINVAL;
	}
	memcpy(buf, opt + k + 1, n - k - 1);
	buf[n - k - 1] = '\0';
	if (str_to_u64(buf, max, v)) {
		snprintf(err, errlen, "%s must be a number in 0..%llu", name,
			 (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

static bool opt_has(const char *opt, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && !memcmp(opt, name, k) && opt[k] == '=';
}

int vballoon_config_parse(const char *spec, void *cfg, char *err, size_t errlen)
{
	struct vballoon_config *c = cfg;
	const char *opt = spec, *p;
	uint64_t v;

	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "balloon");
	while (opt && *opt) {
		size_t n;

		p = strchr(opt, ',');
		n = p ? (size_t)(p - opt) : strlen(opt);
		if (opt_has(opt, n, "amount_mib")) {
			if (opt_num(opt, n, "amount_mib", VBALLOON_MAX_MIB, &v, err, errlen))
				return -EINVAL;
			c->amount_mib = (uint32_t)v;
		} else if (opt_has(opt, n, "stats_polling_interval_s")) {
			if (opt_num(opt, n, "stats_polling_interval_s", UINT16_MAX, &v, err,
				    errlen))
				return -EINVAL;
			c->stats_interval_s = (uint16_t)v;
		} else if (opt_is(opt, n, "deflate_on_oom")) {
			c->deflate_on_oom = true;
		} else if (opt_is(opt, n, "free_page_hinting")) {
			c->free_page_hinting = true;
		} else if (opt_is(opt, n, "free_page_reporting")) {
			c->free_page_reporting = true;
		} else {
			snprintf(err, errlen, "unknown balloon option '%.*s'", (int)n, opt);
			return -EINVAL;
		}
		opt = p ? p + 1 : NULL;
	}
	return 0;
}

const char *vballoon_config_id(const void *cfg)
{
	return ((const struct vballoon_config *)cfg)->id;
}

/*
 * State version 1: id (string); amount_mib (u32); deflate_on_oom,
 * free_page_hinting, free_page_reporting (bools); stats_interval_s (u16);
 * actual_pages, hint_cmd, hint_last_id, hint_guest_cmd (u32);
 * hint_guest_set, hint_ack_on_stop (bools); the statistics' present mask
 * (u32) and VBALLOON_NR_STATS values (u64).
 */
void vballoon_config_save(const void *cfg, struct pw *w)
{
	const struct vballoon_config *c = cfg;

	pw_str(w, c->id);
	pw_u32(w, c->amount_mib);
	pw_bool(w, c->deflate_on_oom);
	pw_bool(w, c->free_page_hinting);
	pw_bool(w, c->free_page_reporting);
	pw_u16(w, c->stats_interval_s);
	pw_u32(w, c->actual_pages);
	pw_u32(w, c->hint_cmd);
	pw_u32(w, c->hint_last_id);
	pw_u32(w, c->hint_guest_cmd);
	pw_bool(w, c->hint_guest_set);
	pw_bool(w, c->hint_ack_on_stop);
	pw_u32(w, c->stats.present);
	for (unsigned i = 0; i < VBALLOON_NR_STATS; i++)
		pw_u64(w, c->stats.val[i]);
}

void vballoon_config_load(struct pr *r, uint16_t version, void *cfg)
{
	struct vballoon_config *c = cfg;

	(void)version;
	pr_str(r, c->id, sizeof(c->id));
	c->amount_mib = pr_u32(r);
	c->deflate_on_oom = pr_bool(r);
	c->free_page_hinting = pr_bool(r);
	c->free_page_reporting = pr_bool(r);
	c->stats_interval_s = pr_u16(r);
	c->actual_pages = pr_u32(r);
	c->hint_cmd = pr_u32(r);
	c->hint_last_id = pr_u32(r);
	c->hint_guest_cmd = pr_u32(r);
	c->hint_guest_set = pr_bool(r);
	c->hint_ack_on_stop = pr_bool(r);
	c->stats.present = pr_u32(r);
	for (unsigned i = 0; i < VBALLOON_NR_STATS; i++)
		c->stats.val[i] = pr_u64(r);
	if (r->why)
		return;
	if (!c->id[0])
		pr_fail(r, "an empty id");
	else if (c->amount_mib > VBALLOON_MAX_MIB)
		pr_fail(r, "a balloon target of more than 2^32 pages");
	else if (c->stats.present >> VBALLOON_NR_STATS)
		pr_fail(r, "statistics with unknown tags");
	else if (!c->free_page_hinting && (c->hint_cmd || c->hint_last_id || c->hint_guest_set))
		pr_fail(r, "a hinting run without free page hinting");
}

json_t *vballoon_config_metrics(const struct vballoon_config *c, const struct vballoon_counters *s)
{
	json_t *o = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "target_pages",
	    (json_int_t)c->amount_mib * VBALLOON_PAGES_PER_MIB, "actual_pages",
	    (json_int_t)c->actual_pages, "inflated_pages", (json_int_t)s->inflated_pages,
	    "deflated_pages", (json_int_t)s->deflated_pages, "bad_chains",
	    (json_int_t)s->bad_chains, "outside_bytes", (json_int_t)s->outside_bytes,
	    "discard_fails", (json_int_t)s->discard_fails, "stats_updates",
	    (json_int_t)s->stats_updates, "stats_unknown_tags", (json_int_t)s->stats_unknown,
	    "free_page_hint_freed", (json_int_t)s->hinted_bytes, "free_page_report_freed",
	    (json_int_t)s->reported_bytes);

	/*
	 * Firecracker's names.  activate_fails and event_fails stay 0: ember's
	 * activation and interrupts have no failure path.
	 */
	if (o)
		json_object_update_new(
		    o, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				 "activate_fails", (json_int_t)0, "inflate_count",
				 (json_int_t)s->inflate_count, "stats_updates_count",
				 (json_int_t)s->stats_updates, "stats_update_fails",
				 (json_int_t)s->stats_unknown, "deflate_count",
				 (json_int_t)s->deflate_count, "event_fails", (json_int_t)0,
				 "free_page_report_count", (json_int_t)s->report_count,
				 "free_page_report_fails", (json_int_t)s->report_fails,
				 "free_page_hint_count", (json_int_t)s->hint_count,
				 "free_page_hint_fails", (json_int_t)s->hint_fails));
	return o;
}
