// SPDX-License-Identifier: Apache-2.0
/*
 * Firecracker's MMDS requests: PUT/PATCH/GET /mmds on the data store and
 * PUT /mmds/config (pre-boot).  Status codes and messages are Firecracker's
 * (413 for a document over the size limit, the "MMDS error: ..." and "MMMDS
 * config error: ..." prefixes of its VmmActionError, sic), because control
 * planes match on them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "api_mmds.h"

#define MSG_NO_MMDS	"MMDS is not available in this ember."
#define MSG_TOO_BIG	"MMDS limit exceeded error: The MMDS patch request doesn't fit."
#define MSG_NOT_INIT	"MMDS error: The MMDS data store is not initialized."
#define MSG_CFG		"MMMDS config error: "
#define MSG_AFTER_START "The requested operation is not supported after starting the microVM."

static bool api_mmds_have(struct api_state *st, struct api_response *resp)
{
	if (st->mmds)
		return true;
	api_fault(resp, 400, "%s", MSG_NO_MMDS);
	return false;
}

void api_mmds_get(struct api_state *st, struct api_response *resp)
{
	if (!api_mmds_have(st, resp))
		return;
	resp->body = mmds_get(st->mmds);
	resp->status = 200;
	if (!resp->body)
		api_fault(resp, 500, "Out of memory.");
}

static void api_mmds_result(int r, struct api_response *resp)
{
	if (r == 0) {
		resp->status = 204;
		resp->body = NULL;
	} else if (r == -EFBIG) {
		api_fault(resp, 413, "%s", MSG_TOO_BIG);
	} else if (r == -ENODATA) {
		api_fault(resp, 400, "%s", MSG_NOT_INIT);
	} else {
		api_fault(resp, 500, "Out of memory.");
	}
}

void api_mmds_put(struct api_state *st, json_t *body, struct api_response *resp)
{
	if (api_mmds_have(st, resp))
		api_mmds_result(mmds_put(st->mmds, body), resp);
}

void api_mmds_patch(struct api_state *st, json_t *body, struct api_response *resp)
{
	if (api_mmds_have(st, resp))
		api_mmds_result(mmds_patch(st->mmds, body), resp);
}

/* Firecracker's is_link_local_valid: 169.254.0.0/16 less its first and last /24. */
static bool api_mmds_ipv4_ok(uint32_t a)
{
	uint32_t third = (a >> 8) & 0xff;

	return (a >> 16) == 0xa9fe && third != 0 && third != 255;
}

static int api_mmds_ifaces(json_t *v, const struct api_vm_config *cfg, struct mmds_config *c,
			   char *err, size_t errlen)
{
	size_t i;
	json_t *id;

	if (!json_is_array(v)) {
		snprintf(err, errlen,
			 "mmds-config: \"network_interfaces\" must be an array of "
			 "interface ids.");
		return -EINVAL;
	}
	if (json_array_size(v) == 0) {
		snprintf(err, errlen,
			 MSG_CFG "The list of network interface IDs that allow "
				 "forwarding MMDS requests is empty.");
		return -EINVAL;
	}
	json_array_foreach(v, i, id)
	{
		const char *s = json_string_value(id);

		if (!s) {
			snprintf(err, errlen,
				 "mmds-config: \"network_interfaces\" must hold strings.");
			return -EINVAL;
		}
		if (api_net_find(cfg, s) < 0) {
			snprintf(err, errlen,
				 MSG_CFG "The list of network interface IDs provided contains at "
					 "least one ID that does not correspond to any existing "
					 "network interface.");
			return -EINVAL;
		}
		/* Listed twice is harmless; each NIC is in api_vm_config once. */
		bool dup = false;

		for (unsigned k = 0; k < c->nr_ifaces; k++)
			dup |= !strcmp(c->ifaces[k], s);
		if (dup)
			continue;
		if (c->nr_ifaces >= MMDS_MAX_IFACES || strlen(s) >= MMDS_IFACE_MAX) {
			snprintf(err, errlen, "mmds-config: too many network interfaces.");
			return -EINVAL;
		}
		strcpy(c->ifaces[c->nr_ifaces++], s);
	}
	return 0;
}

int api_mmds_parse_config(json_t *o, const struct api_vm_config *cfg, struct mmds_config *c,
			  char *err, size_t errlen)
{
	const char *key, *s;
	struct in_addr a;
	json_t *v;

	memset(c, 0, sizeof(*c));
	c->version = MMDS_V1;
	c->ipv4 = MMDS_DEFAULT_IPV4;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "mmds-config: expected a JSON object.");
		return -EINVAL;
	}
	json_object_foreach(o, key, v)
	{
		if (!strcmp(key, "version")) {
			s = json_string_value(v);
			if (!s || (strcmp(s, "V1") && strcmp(s, "V2"))) {
				snprintf(err, errlen,
					 "mmds-config: \"version\" must be \"V1\" or "
					 "\"V2\".");
				return -EINVAL;
			}
			c->version = s[1] == '2' ? MMDS_V2 : MMDS_V1;
		} else if (!strcmp(key, "imds_compat")) {
			if (!json_is_boolean(v)) {
				snprintf(err, errlen,
					 "mmds-config: \"imds_compat\" must be a "
					 "boolean.");
				return -EINVAL;
			}
			c->imds_compat = json_is_true(v);
		} else if (!strcmp(key, "ipv4_address")) {
			if (json_is_null(v))
				continue;
			s = json_string_value(v);
			if (!s || inet_pton(AF_INET, s, &a) != 1) {
				snprintf(err, errlen,
					 "mmds-config: \"ipv4_address\" must be an IPv4 "
					 "address.");
				return -EINVAL;
			}
			c->ipv4 = ntohl(a.s_addr);
			if (!api_mmds_ipv4_ok(c->ipv4)) {
				snprintf(err, errlen,
					 MSG_CFG "The MMDS IPv4 address is not link local.");
				return -EINVAL;
			}
		} else if (strcmp(key, "network_interfaces")) {
			snprintf(err, errlen, "mmds-config: unknown field \"%.64s\".", key);
			return -EINVAL;
		}
	}
	v = json_object_get(o, "network_interfaces");
	if (!v) {
		snprintf(err, errlen, "mmds-config: missing field \"network_interfaces\".");
		return -EINVAL;
	}
	return api_mmds_ifaces(v, cfg, c, err, errlen);
}

void api_mmds_put_config(struct api_state *st, json_t *body, struct api_response *resp)
{
	struct mmds_config c;
	char err[API_ERR_MAX];

	if (!api_mmds_have(st, resp))
		return;
	if (st->vm_state != API_VM_NOT_STARTED) {
		api_fault(resp, 400, "%s", MSG_AFTER_START);
		return;
	}
	if (api_mmds_parse_config(body, &st->cfg, &c, err, sizeof(err))) {
		api_fault(resp, 400, "%s", err);
		return;
	}
	/* As Firecracker: V1 (also the default) works but is flagged deprecated. */
	if (c.version == MMDS_V1) {
		resp->deprecated = true;
		log_warn("PUT /mmds/config: V1 is deprecated. Use V2 instead.");
	}
	mmds_set_config(st->mmds, &c);
	resp->status = 204;
	resp->body = NULL;
}

json_t *api_json_mmds_config(struct mmds *m)
{
	struct mmds_config c;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	json_t *ifs;

	if (!m)
		return json_null();
	mmds_get_config(m, &c);
	if (!c.set)
		return json_null();
	ifs = json_array();
	for (unsigned i = 0; ifs && i < c.nr_ifaces; i++)
		if (json_array_append_new(ifs, json_string(c.ifaces[i]))) {
			json_decref(ifs);
			return NULL;
		}
	a.s_addr = htonl(c.ipv4);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	return json_pack("{s:s, s:o, s:s, s:b}", "version", c.version == MMDS_V2 ? "V2" : "V1",
			 "network_interfaces", ifs, "ipv4_address", ip, "imds_compat",
			 c.imds_compat);
}

char *api_mmds_vm_config(struct mmds *m, char *doc)
{
	json_t *o;
	char *s = NULL;

	if (!m)
		return doc; /* no MMDS in this ember: the document as it is */
	o = doc ? json_loads(doc, 0, NULL) : NULL;

	if (o && !json_object_set_new(o, "mmds-config", api_json_mmds_config(m)))
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	free(doc);
	return s;
}
