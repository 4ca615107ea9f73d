// SPDX-License-Identifier: Apache-2.0
/*
 * The VM configuration document: what GET /vm/config returns and what
 * --config-file reads.  Reading goes through the same per-object parsers and
 * collection rules as the PUT requests, so a file is accepted exactly when
 * the equivalent sequence of requests would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_cpu.h"
#include "api_json.h"
#include "api_mmds.h"
#include "config.h"

#define API_CONFIG_FILE_MAX (1u << 20) /* far above any real config, bounds the read */

void api_config_init(struct api_vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	api_config_defaults(cfg);
}

/* The non-zero defaults only, for a config already zeroed (calloc). */
void api_config_defaults(struct api_vm_config *cfg)
{
	cfg->machine.vcpu_count = CONFIG_DEFAULT_VCPUS;
	cfg->machine.mem_size_mib = CONFIG_DEFAULT_MEM_MIB;
	cfg->logger.level = API_LOG_INFO;
}

int api_drive_find(const struct api_vm_config *cfg, const char *id)
{
	for (unsigned i = 0; i < cfg->nr_drives; i++)
		if (!strcmp(cfg->drives[i].drive_id, id))
			return (int)i;
	return -1;
}

int api_net_find(const struct api_vm_config *cfg, const char *id)
{
	for (unsigned i = 0; i < cfg->nr_nets; i++)
		if (!strcmp(cfg->nets[i].iface_id, id))
			return (int)i;
	return -1;
}

/* PUT of an existing id replaces that drive, as in Firecracker. */
int api_drive_insert(struct api_vm_config *cfg, const struct api_drive *d, char *err, size_t errlen)
{
	int idx = api_drive_find(cfg, d->drive_id);

	for (unsigned i = 0; d->is_root_device && i < cfg->nr_drives; i++) {
		if ((int)i != idx && cfg->drives[i].is_root_device) {
			snprintf(err, errlen,
				 "drive: \"is_root_device\": a root block device already exists "
				 "(\"%s\").",
				 cfg->drives[i].drive_id);
			return -EINVAL;
		}
	}
	if (idx < 0) {
		if (cfg->nr_drives == API_MAX_DRIVES) {
			snprintf(err, errlen, "drive: at most %d drives are supported.",
				 API_MAX_DRIVES);
			return -ENOSPC;
		}
		idx = (int)cfg->nr_drives++;
	}
	cfg->drives[idx] = *d;
	return 0;
}

int api_net_insert(struct api_vm_config *cfg, const struct api_net *n, char *err, size_t errlen)
{
	int idx = api_net_find(cfg, n->iface_id);

	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		const struct api_net *o = &cfg->nets[i];

		if ((int)i == idx)
			continue;
		if (!strcmp(o->host_dev_name, n->host_dev_name)) {
			snprintf(err, errlen,
				 "network-interface: \"host_dev_name\" %s is already used by "
				 "\"%s\".",
				 n->host_dev_name, o->iface_id);
			return -EINVAL;
		}
		if (n->has_mac && o->has_mac && !memcmp(o->guest_mac, n->guest_mac, 6)) {
			snprintf(err, errlen,
				 "network-interface: \"guest_mac\" is already used by \"%s\".",
				 o->iface_id);
			return -EINVAL;
		}
	}
	if (idx < 0) {
		if (cfg->nr_nets == API_MAX_NETS) {
			snprintf(err, errlen,
				 "network-interface: at most %d interfaces are supported.",
				 API_MAX_NETS);
			return -ENOSPC;
		}
		idx = (int)cfg->nr_nets++;
	}
	cfg->nets[idx] = *n;
	return 0;
}

/* ---- serialising -------------------------------------------------------- */

json_t *api_json_machine_config(const struct api_machine_config *m)
{
	json_t *o = json_pack("{s:I, s:I, s:b, s:b, s:s}", "vcpu_count", (json_int_t)m->vcpu_count,
			      "mem_size_mib", (json_int_t)m->mem_size_mib, "smt", m->smt,
			      "track_dirty_pages", m->track_dirty_pages, "huge_pages",
			      m->huge_pages == API_HUGE_2M ? "2M" : "None");

	/* Firecracker shows a static template only (a custom one is "cpu-config"). */
	if (o && m->cpu_template != CPUT_NONE &&
	    json_object_set_new(o, "cpu_template",
				json_string(cput_static_name(m->cpu_template)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Firecracker's boot source is not optional in its config: an unset one (a
 * fresh VM, or one restored from a snapshot) shows as an empty kernel path,
 * and absent options as null.
 */
json_t *api_json_boot_source(const struct api_boot_source *b)
{
	return json_pack(
	    "{s:s, s:o, s:o}", "kernel_image_path", b->set ? b->kernel_image_path : "",
	    "initrd_path", b->set && b->initrd_path[0] ? json_string(b->initrd_path) : json_null(),
	    "boot_args", b->set && b->has_boot_args ? json_string(b->boot_args) : json_null());
}

json_t *api_json_bucket(const struct api_token_bucket *b)
{
	if (!b->set)
		return json_null();
	return json_pack("{s:I, s:I, s:I}", "size", (json_int_t)b->size, "one_time_burst",
			 (json_int_t)b->one_time_burst, "refill_time", (json_int_t)b->refill_time);
}

json_t *api_json_rate_limiter(const struct api_rate_limiter *rl)
{
	if (!rl->set)
		return json_null();
	return json_pack("{s:o, s:o}", "bandwidth", api_json_bucket(&rl->bandwidth), "ops",
			 api_json_bucket(&rl->ops));
}

/* null, or a string: Firecracker's Option<String> as serde writes it. */
static json_t *api_json_opt_str(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

/* A limiter as it was given ({} included), or null. */
static json_t *api_json_opt_limiter(const struct api_rate_limiter *rl)
{
	return rl->set ? api_json_rate_limiter(rl) : json_null();
}

/* Firecracker's BlockDeviceConfig: every field, in its order, absent ones null. */
json_t *api_json_drive(const struct api_drive *d)
{
	static const char *const cache[] = {"Unsafe", "Writeback"};
	static const char *const engine[] = {"Sync", "Async"};

	return json_pack("{s:s, s:o, s:b, s:s, s:b, s:s, s:o, s:s, s:n}", "drive_id", d->drive_id,
			 "partuuid", api_json_opt_str(d->partuuid), "is_root_device",
			 d->is_root_device, "cache_type", cache[d->cache_type], "is_read_only",
			 d->is_read_only, "path_on_host", d->path_on_host, "rate_limiter",
			 api_json_opt_limiter(&d->rate_limiter), "io_engine", engine[d->io_engine],
			 "socket");
}

/* Firecracker's NetworkInterfaceConfig, likewise. */
json_t *api_json_net(const struct api_net *n)
{
	char mac[18] = "";

	if (n->has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->guest_mac[0],
			 n->guest_mac[1], n->guest_mac[2], n->guest_mac[3], n->guest_mac[4],
			 n->guest_mac[5]);
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "iface_id", n->iface_id, "host_dev_name",
			 n->host_dev_name, "guest_mac", api_json_opt_str(mac), "mtu",
			 n->mtu ? json_integer(n->mtu) : json_null(), "rx_rate_limiter",
			 api_json_opt_limiter(&n->rx_rate_limiter), "tx_rate_limiter",
			 api_json_opt_limiter(&n->tx_rate_limiter));
}

json_t *api_json_vsock(const struct api_vsock *v)
{
	if (!v->set)
		return json_null();
	return json_pack("{s:I, s:s}", "guest_cid", (json_int_t)v->guest_cid, "uds_path",
			 v->uds_path);
}

json_t *api_json_entropy(const struct api_entropy *e)
{
	if (!e->set)
		return json_null();
	return json_pack("{s:o}", "rate_limiter", api_json_rate_limiter(&e->rate_limiter));
}

json_t *api_json_logger(const struct api_logger *l)
{
	static const char *const level[] = {"Error", "Warning", "Info", "Debug", "Trace", "Off"};
	json_t *o;

	if (!l->set)
		return json_null();
	o = json_pack("{s:s, s:b, s:b}", "level", level[l->level], "show_level", l->show_level,
		      "show_log_origin", l->show_log_origin);
	if (o && l->log_path[0] && json_object_set_new(o, "log_path", json_string(l->log_path)))
		goto fail;
	if (o && l->module[0] && json_object_set_new(o, "module", json_string(l->module)))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

json_t *api_json_metrics(const struct api_metrics *m)
{
	json_t *o;

	if (!m->set)
		return json_null();
	o = json_pack("{s:s, s:b}", "metrics_path", m->metrics_path, "emit_id", m->emit_id);
	if (o && m->properties[0] &&
	    json_object_set_new(o, "properties", json_loads(m->properties, 0, NULL))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *api_show_balloon(const struct api_vm_config *cfg)
{
	return api_json_balloon(&cfg->balloon);
}

static int api_read_balloon(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen)
{
	return json_is_null(v) ? 0 : api_parse_balloon(v, &cfg->balloon, err, errlen);
}

static json_t *api_show_hotplug(const struct api_vm_config *cfg)
{
	return api_json_hotplug(&cfg->hotplug);
}

static int api_read_hotplug(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen)
{
	return json_is_null(v) ? 0 : api_config_hotplug(v, &cfg->hotplug, err, errlen);
}

static json_t *api_show_cpu_config(const struct api_vm_config *cfg)
{
	return cfg->has_cpu_config ? api_json_cpu_config(&cfg->cpu_config) : json_null();
}

/* After the other sections: it names interfaces, which may come later. */
static int api_read_mmds_later(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen)
{
	(void)v, (void)cfg, (void)err, (void)errlen;
	return 0;
}

/* Not in Firecracker's document (api_serial.c): shown only once it was set. */
static bool api_has_serial(const struct api_vm_config *cfg)
{
	return cfg->serial.set;
}

static json_t *api_show_serial(const struct api_vm_config *cfg)
{
	return api_json_serial(&cfg->serial);
}

static int api_read_serial(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen)
{
	return json_is_null(v) ? 0 : api_parse_serial(v, &cfg->serial, err, errlen);
}

/*
 * The sections after "metrics", in Firecracker's order: @show writes one
 * for GET /vm/config (NULL: null, filled in later), @read takes a config
 * file's value, null included.  With @present, the key is left out where it
 * says so: Firecracker never writes "serial" (it is not part of a snapshot),
 * ember does once it was set.
 */
static const struct {
	const char *key;
	bool (*present)(const struct api_vm_config *cfg);
	json_t *(*show)(const struct api_vm_config *cfg);
	int (*read)(json_t *v, struct api_vm_config *cfg, char *err, size_t errlen);
} api_config_more[] = {
    {"balloon", .show = api_show_balloon, .read = api_read_balloon},
    {"cpu-config", .show = api_show_cpu_config, .read = api_cpu_config_section},
    /* GET /vm/config: api_mmds_vm_config() fills it in from the store. */
    {"mmds-config", .read = api_read_mmds_later},
    {"pmem", .show = api_json_pmem_list, .read = api_config_pmem},
    {"memory-hotplug", .show = api_show_hotplug, .read = api_read_hotplug},
    {"serial", .present = api_has_serial, .show = api_show_serial, .read = api_read_serial},
};

char *api_config_to_json(const struct api_vm_config *cfg)
{
	json_t *drives = json_array(), *nets = json_array(), *doc;
	char *s = NULL;

	for (unsigned i = 0; drives && i < cfg->nr_drives; i++)
		if (json_array_append_new(drives, api_json_drive(&cfg->drives[i])))
			goto out;
	for (unsigned i = 0; nets && i < cfg->nr_nets; i++)
		if (json_array_append_new(nets, api_json_net(&cfg->nets[i])))
			goto out;
	/* "o" steals each reference, and a NULL one makes json_pack fail cleanly. */
	doc = json_pack("{s:o, s:o, s:O, s:O, s:o, s:o, s:o, s:o}", "boot-source",
			api_json_boot_source(&cfg->boot), "machine-config",
			api_json_machine_config(&cfg->machine), "drives", drives,
			"network-interfaces", nets, "vsock", api_json_vsock(&cfg->vsock), "entropy",
			api_json_entropy(&cfg->entropy), "logger", api_json_logger(&cfg->logger),
			"metrics", api_json_metrics(&cfg->metrics));
	for (size_t i = 0; doc && i < ARRAY_SIZE(api_config_more); i++) {
		json_t *v;

		if (api_config_more[i].present && !api_config_more[i].present(cfg))
			continue;
		v = api_config_more[i].show ? api_config_more[i].show(cfg) : json_null();
		if (json_object_set_new(doc, api_config_more[i].key, v)) {
			json_decref(doc);
			doc = NULL;
		}
	}
	if (doc) {
		s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(doc);
	}
out:
	json_decref(drives);
	json_decref(nets);
	return s;
}

/* ---- reading ----------------------------------------------------------- */

/* The empty boot source GET /vm/config shows for a VM without one. */
static bool api_boot_source_empty(json_t *v)
{
	json_t *k = json_object_get(v, "kernel_image_path");
	size_t nulls = 0;

	if (!json_is_string(k) || json_string_length(k))
		return false;
	nulls += json_is_null(json_object_get(v, "initrd_path"));
	nulls += json_is_null(json_object_get(v, "boot_args"));
	return json_object_size(v) == 1 + nulls;
}

/* A section of api_config_more, in a config file. */
static int api_config_more_read(const char *key, json_t *v, struct api_vm_config *cfg, char *err,
				size_t errlen)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(api_config_more); i++)
		if (!strcmp(key, api_config_more[i].key))
			break;
	if (i == ARRAY_SIZE(api_config_more)) {
		snprintf(err, errlen, "config: unknown section \"%.64s\".", key);
		return -EINVAL;
	}
	return api_config_more[i].read(v, cfg, err, errlen);
}

static int api_config_sections(json_t *doc, struct api_vm_config *cfg, char *err, size_t errlen)
{
	const char *key;
	json_t *v, *item;
	size_t i;
	int rc = 0;

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "config: expected a JSON object.");
		return -EINVAL;
	}
	json_object_foreach(doc, key, v)
	{
		if (!strcmp(key, "boot-source")) {
			rc = json_is_null(v) || api_boot_source_empty(v)
				 ? 0
				 : api_parse_boot_source(v, &cfg->boot, err, errlen);
		} else if (!strcmp(key, "machine-config")) {
			rc = json_is_null(v)
				 ? 0
				 : api_parse_machine_config(v, false, &cfg->machine, err, errlen);
		} else if (!strcmp(key, "drives") || !strcmp(key, "network-interfaces")) {
			bool drives = key[0] == 'd';

			if (json_is_null(v))
				continue;
			if (!json_is_array(v)) {
				snprintf(err, errlen, "config: \"%s\" must be an array.", key);
				return -EINVAL;
			}
			json_array_foreach(v, i, item)
			{
				struct api_drive d;
				struct api_net n;

				if (drives)
					rc = api_parse_drive(item, &d, err, errlen);
				else
					rc = api_parse_net(item, &n, err, errlen);
				if (!rc && (drives ? api_drive_find(cfg, d.drive_id)
						   : api_net_find(cfg, n.iface_id)) >= 0) {
					snprintf(err, errlen, "config: \"%s\" has \"%s\" twice.",
						 key, drives ? d.drive_id : n.iface_id);
					rc = -EINVAL;
				}
				if (!rc)
					rc = drives ? api_drive_insert(cfg, &d, err, errlen)
						    : api_net_insert(cfg, &n, err, errlen);
				if (rc)
					return rc;
			}
		} else if (!strcmp(key, "vsock")) {
			rc = json_is_null(v) ? 0 : api_parse_vsock(v, &cfg->vsock, err, errlen);
		} else if (!strcmp(key, "entropy")) {
			rc = json_is_null(v) ? 0 : api_parse_entropy(v, &cfg->entropy, err, errlen);
		} else if (!strcmp(key, "logger")) {
			rc = json_is_null(v) ? 0 : api_parse_logger(v, &cfg->logger, err, errlen);
		} else if (!strcmp(key, "metrics")) {
			rc = json_is_null(v) ? 0 : api_parse_metrics(v, &cfg->metrics, err, errlen);
		} else {
			rc = api_config_more_read(key, v, cfg, err, errlen);
		}
		if (rc)
			return rc;
	}
	v = json_object_get(doc, "mmds-config");
	if (v && !json_is_null(v)) {
		rc = api_mmds_parse_config(v, cfg, &cfg->mmds, err, errlen);
		cfg->mmds.set = !rc;
	}
	return rc;
}

int api_config_from_json(const char *buf, size_t len, struct api_vm_config *cfg, char *err,
			 size_t errlen)
{
	struct api_vm_config *tmp;
	json_error_t jerr;
	json_t *doc;
	int rc;

	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, errlen, "config: invalid JSON: %s at line %d column %d.", jerr.text,
			 jerr.line, jerr.column);
		return -EINVAL;
	}
	tmp = malloc(sizeof(*tmp)); /* ~100 KiB: keep it off the stack */
	if (!tmp) {
		json_decref(doc);
		snprintf(err, errlen, "config: out of memory.");
		return -ENOMEM;
	}
	api_config_init(tmp);
	rc = api_config_sections(doc, tmp, err, errlen);
	/* As Firecracker: a custom template wins over machine-config's. */
	if (!rc && tmp->has_cpu_config)
		tmp->machine.cpu_template = CPUT_NONE;
	if (!rc)
		rc = api_balloon_fits(tmp, err, errlen);
	if (!rc)
		*cfg = *tmp;
	free(tmp);
	json_decref(doc);
	return rc;
}

int api_config_from_file(const char *path, struct api_vm_config *cfg, char *err, size_t errlen)
{
	char why[API_ERR_MAX], *buf;
	size_t len;
	int rc;

	rc = file_read_all(path, API_CONFIG_FILE_MAX, &buf, &len, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "config: %s", why);
		return rc;
	}
	rc = api_config_from_json(buf, len, cfg, err, errlen);
	free(buf);
	return rc;
}
