// SPDX-License-Identifier: Apache-2.0
/*
 * Port I/O and MMIO dispatch.  A handful of devices, so a linear scan is the
 * fastest thing there is; ranges are checked for overlap at registration so
 * dispatch can stop at the first match.
 */
#include <string.h>

#include "ember.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_dev_ops *ops,
		 void *dev)
{
	if (!len || base + len < base)
		return -EINVAL;
	if (bus->nr_devs == BUS_MAX_DEVS)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->nr_devs; i++) {
		const struct bus_dev *d = &bus->devs[i];

		if (base < d->base + d->len && d->base < base + len)
			return -EEXIST;
	}
	bus->devs[bus->nr_devs++] = (struct bus_dev){
	    .base = base,
	    .len = len,
	    .ops = ops,
	    .dev = dev,
	};
	return 0;
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	for (unsigned i = 0; i < bus->nr_devs; i++) {
		const struct bus_dev *d = &bus->devs[i];

		if (addr < d->base || addr - d->base >= d->len)
			continue;
		/* An access straddling the device's end is a guest bug: drop it. */
		if (len > d->len - (addr - d->base))
			break;
		if (is_write)
			d->ops->write(d->dev, addr - d->base, data, len);
		else
			d->ops->read(d->dev, addr - d->base, data, len);
		return true;
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
