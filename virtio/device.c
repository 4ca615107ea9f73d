// SPDX-License-Identifier: Apache-2.0
/*
 * The device registry and the list of devices a VM is to have.
 *
 * Registration is a pointer in the linker section "ember_vdev", as Solo5
 * registers its modules: a device module is complete on its own, and
 * nothing has to list the modules that exist.  The linker provides the
 * section's bounds.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"

extern const struct vdev_type *const __start_ember_vdev[];
extern const struct vdev_type *const __stop_ember_vdev[];

unsigned vdev_type_count(void)
{
	return (unsigned)(__stop_ember_vdev - __start_ember_vdev);
}

const struct vdev_type *vdev_type_at(unsigned i)
{
	return i < vdev_type_count() ? __start_ember_vdev[i] : NULL;
}

const struct vdev_type *vdev_type_find(const char *name)
{
	for (unsigned i = 0; i < vdev_type_count(); i++)
		if (!strcmp(__start_ember_vdev[i]->name, name))
			return __start_ember_vdev[i];
	return NULL;
}

const struct vdev_type *vdev_type_by_opt(const char *cli_opt)
{
	for (unsigned i = 0; i < vdev_type_count(); i++) {
		const struct vdev_type *t = __start_ember_vdev[i];

		if (t->cli_opt && !strcmp(t->cli_opt, cli_opt))
			return t;
	}
	return NULL;
}

unsigned vdev_configs_count(const struct vdev_configs *l, const struct vdev_type *type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->nr; i++)
		n += l->dev[i].type == type;
	return n;
}

void *vdev_configs_find(struct vdev_configs *l, const struct vdev_type *type, const char *id)
{
	for (unsigned i = 0; i < l->nr; i++)
		if (l->dev[i].type == type && !strcmp(type->id(l->dev[i].data), id))
			return l->dev[i].data;
	return NULL;
}

int vdev_configs_add(struct vdev_configs *l, const struct vdev_type *type, const void *cfg,
		     char *err, size_t errlen)
{
	const void *same[VDEV_MAX];
	unsigned n = 0;
	struct vdev_config *d;

	/* The type's own limit first: it says more than the VM's budget. */
	if (vdev_configs_count(l, type) >= type->max) {
		if (type->max == 1)
			snprintf(err, errlen, "only one %s device", type->name);
		else
			snprintf(err, errlen, "more than %u %s devices", type->max, type->name);
		return -ENOSPC;
	}
	if (l->nr >= VDEV_MAX) {
		snprintf(err, errlen, "more than %u devices in all", VDEV_MAX);
		return -ENOSPC;
	}
	d = &l->dev[l->nr];
	d->type = type;
	memcpy(d->data, cfg, type->config_size);
	if (type->complete)
		type->complete(d->data, vdev_configs_count(l, type));
	for (unsigned i = 0; i < l->nr; i++) {
		if (l->dev[i].type != type)
			continue;
		if (!strcmp(type->id(l->dev[i].data), type->id(d->data))) {
			snprintf(err, errlen, "%s id '%s' used twice", type->name,
				 type->id(d->data));
			return -EINVAL;
		}
		same[n++] = l->dev[i].data;
	}
	same[n++] = d->data;
	/* first() is the root device: the guest can boot from one only, whatever its type. */
	for (unsigned i = 0; type->first && type->first(d->data) && i < l->nr; i++) {
		const struct vdev_type *o = l->dev[i].type;

		if (o != type && o->first && o->first(l->dev[i].data)) {
			snprintf(err, errlen, "%s %s cannot be the root device: %s %s is",
				 type->name, type->id(d->data), o->name, o->id(l->dev[i].data));
			return -EINVAL;
		}
	}
	if (type->check_set && type->check_set(same, n, err, errlen))
		return -EINVAL;
	l->nr++;
	return 0;
}

int vdev_configs_parse(struct vdev_configs *l, const struct vdev_type *type, const char *spec,
		       char *err, size_t errlen)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX];
	char why[200];

	memset(cfg, 0, sizeof(cfg));
	if (!type->parse(spec, cfg, why, sizeof(why)) &&
	    !vdev_configs_add(l, type, cfg, why, sizeof(why)))
		return 0;
	if (spec)
		snprintf(err, errlen, "%s '%s': %s", type->cli_opt, spec, why);
	else
		snprintf(err, errlen, "%s: %s", type->cli_opt, why);
	return -EINVAL;
}

unsigned vdev_configs_order(const struct vdev_configs *l, unsigned order[VDEV_MAX])
{
	unsigned n = 0;

	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < l->nr; i++) {
			const struct vdev_type *t = l->dev[i].type;
			bool first = t->first && t->first(l->dev[i].data);

			if (first == (pass == 0))
				order[n++] = i;
		}
	return n;
}

int vdev_state_save(const struct vdev_type *type, const void *cfg, struct pw *w)
{
	pw_str(w, type->name);
	pw_u16(w, type->state_version);
	type->save(cfg, w);
	return w->err;
}

int vdev_state_load(const void *p, size_t len, struct vdev_config *out, char *err, size_t errlen)
{
	char name[32];
	const char *why;
	uint16_t version;
	struct pr r;

	pr_init(&r, p, len);
	pr_str(&r, name, sizeof(name));
	version = pr_u16(&r);
	if (r.why) {
		snprintf(err, errlen, "device state: %s", r.why);
		return -EINVAL;
	}
	out->type = vdev_type_find(name);
	if (!out->type) {
		snprintf(err, errlen, "device type '%s' unknown to this ember", name);
		return -EINVAL;
	}
	if (version == 0 || version > out->type->state_version) {
		snprintf(err, errlen, "%s state version %u, this ember reads 1 to %u", name,
			 version, out->type->state_version);
		return -EINVAL;
	}
	memset(out->data, 0, sizeof(out->data));
	out->type->load(&r, version, out->data);
	if (pr_finish(&r, &why)) {
		snprintf(err, errlen, "%s settings: %s", name, why);
		return -EINVAL;
	}
	return 0;
}
