// SPDX-License-Identifier: Apache-2.0
/*
 * The live fork's request to a child (fork_msg.h): a small JSON document
 * behind a versioned header, so a child exec'd from another ember binary
 * refuses it clearly instead of misreading it.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fork_msg.h"

void fork_prep_encode(const struct fork_prep *p, uint8_t out[FORK_PREP_LEN])
{
	memset(out, 0, FORK_PREP_LEN);
	out[0] = 'P';
	out[1] = p->huge ? FORK_PREP_HUGE : 0;
	out[2] = (uint8_t)p->nr_slots;
	put_le32(out + 4, p->vcpus);
	put_le64(out + 8, p->mem_mib);
	memcpy(out + 16, p->queues, p->nr_slots);
}

int fork_prep_decode(const uint8_t in[FORK_PREP_LEN], struct fork_prep *p)
{
	uint32_t vcpus = get_le32(in + 4);
	uint64_t mib = get_le64(in + 8);
	unsigned slots = in[2];

	if (in[0] != 'P' || (in[1] & ~FORK_PREP_HUGE) || in[3] || !vcpus ||
	    vcpus > FORK_PREP_MAX_VCPUS || !mib || mib > FORK_PREP_MAX_MIB ||
	    slots > FORK_PREP_MAX_SLOTS)
		return -EINVAL;
	/* Every slot in use has a device with queues; the rest are zero. */
	for (unsigned i = 0; i < FORK_PREP_MAX_SLOTS; i++)
		if (i < slots ? !in[16 + i] || in[16 + i] > FORK_PREP_MAX_QUEUES : in[16 + i] != 0)
			return -EINVAL;
	*p = (struct fork_prep){
	    .vcpus = vcpus, .mem_mib = mib, .huge = in[1] & FORK_PREP_HUGE, .nr_slots = slots};
	memcpy(p->queues, in + 16, slots);
	return 0;
}

int fork_msg_encode(const struct fork_msg *m, uint8_t **out, size_t *len)
{
	json_t *nets = json_array(), *o;
	char *js = NULL;
	size_t jl;
	int r = -ENOMEM;

	for (unsigned i = 0; nets && i < m->nr_nets && i < FORK_MAX_NETS; i++)
		if (json_array_append_new(nets,
					  json_pack("{s:s,s:s}", "iface_id", m->nets[i].iface_id,
						    "host_dev_name", m->nets[i].host_dev_name)))
			goto out_nets;
	o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b,s:b,s:b,s:i,s:I,s:I}", "api_sock", m->api_sock,
		      "serial_out_path", m->serial_out_path, "vsock_uds", m->vsock_uds, "nets",
		      nets, "seccomp_filter", m->seccomp_filter, "paused", m->paused, "no_seccomp",
		      m->no_seccomp, "allow_kvm_pvm", m->allow_kvm_pvm, "log_level",
		      (int)m->log_level, "state_len", (json_int_t)m->state_len, "pages",
		      (json_int_t)m->pages);
	nets = NULL; /* "o" took it, also on failure */
	if (o)
		js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!js)
		return -ENOMEM;
	jl = strlen(js);
	r = -EINVAL;
	if (jl > FORK_MSG_MAX)
		goto out;
	r = -ENOMEM;
	*out = malloc(FORK_MSG_HDR + jl);
	if (!*out)
		goto out;
	memcpy(*out, FORK_MSG_MAGIC, 8);
	put_le32(*out + 8, FORK_MSG_VERSION);
	put_le32(*out + 12, (uint32_t)jl);
	memcpy(*out + FORK_MSG_HDR, js, jl);
	*len = FORK_MSG_HDR + jl;
	r = 0;
out:
	free(js);
	return r;
out_nets:
	json_decref(nets);
	return r;
}

int fork_msg_header(const uint8_t hdr[FORK_MSG_HDR], uint32_t *json_len, char *err, size_t errlen)
{
	if (memcmp(hdr, FORK_MSG_MAGIC, 8)) {
		snprintf(err, errlen, "not a fork request");
		return -EINVAL;
	}
	if (get_le32(hdr + 8) != FORK_MSG_VERSION) {
		snprintf(err, errlen, "fork request version %u, this ember reads %u",
			 get_le32(hdr + 8), FORK_MSG_VERSION);
		return -EINVAL;
	}
	*json_len = get_le32(hdr + 12);
	if (*json_len == 0 || *json_len > FORK_MSG_MAX) {
		snprintf(err, errlen, "fork request of %u bytes", *json_len);
		return -EINVAL;
	}
	return 0;
}

/* A string field into @dst (NUL included at most @size bytes); @nonempty: "" refused. */
static int get_str(json_t *o, const char *key, char *dst, size_t size, bool nonempty, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(o, key);
	size_t n = json_is_string(v) ? json_string_length(v) : 0;

	if (!json_is_string(v) || n >= size || (nonempty && !n) ||
	    strlen(json_string_value(v)) != n) {
		snprintf(err, errlen, "fork request: bad \"%s\"", key);
		return -EINVAL;
	}
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

static int get_nets(json_t *arr, struct fork_msg *m, char *err, size_t errlen)
{
	json_t *n;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > FORK_MAX_NETS) {
		snprintf(err, errlen, "fork request: bad \"nets\"");
		return -EINVAL;
	}
	json_array_foreach(arr, i, n)
	{
		if (get_str(n, "iface_id", m->nets[i].iface_id, sizeof(m->nets[i].iface_id), true,
			    err, errlen) ||
		    get_str(n, "host_dev_name", m->nets[i].host_dev_name,
			    sizeof(m->nets[i].host_dev_name), true, err, errlen))
			return -EINVAL;
		m->nr_nets++;
	}
	return 0;
}

int fork_msg_decode(const char *json, size_t len, uint64_t max_state, struct fork_msg *m, char *err,
		    size_t errlen)
{
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	int r = -EINVAL;
	json_int_t lvl, sl, pages;
	int paused, no_seccomp, pvm;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "fork request: not a JSON object");
		goto out;
	}
	if (get_str(o, "api_sock", m->api_sock, sizeof(m->api_sock), true, err, errlen) ||
	    get_str(o, "serial_out_path", m->serial_out_path, sizeof(m->serial_out_path), false,
		    err, errlen) ||
	    get_str(o, "vsock_uds", m->vsock_uds, sizeof(m->vsock_uds), false, err, errlen) ||
	    get_str(o, "seccomp_filter", m->seccomp_filter, sizeof(m->seccomp_filter), false, err,
		    errlen) ||
	    get_nets(json_object_get(o, "nets"), m, err, errlen))
		goto out;
	if (json_unpack(o, "{s:b,s:b,s:b,s:I,s:I,s:I}", "paused", &paused, "no_seccomp",
			&no_seccomp, "allow_kvm_pvm", &pvm, "log_level", &lvl, "state_len", &sl,
			"pages", &pages) ||
	    lvl < LOG_ERROR || lvl > LOG_DEBUG || sl <= 0 || (uint64_t)sl > max_state ||
	    pages < 0 || pages > FORK_MAX_PAGES) {
		snprintf(err, errlen, "fork request: bad flags, log level, state length or pages");
		goto out;
	}
	m->paused = paused, m->no_seccomp = no_seccomp, m->allow_kvm_pvm = pvm;
	m->log_level = (unsigned)lvl;
	m->state_len = (uint64_t)sl;
	m->pages = (uint64_t)pages;
	r = 0;
out:
	json_decref(o);
	return r;
}
