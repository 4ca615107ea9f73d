/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vdev_enc.h - for the device-model tests: where a setting lands in a
 * device type's snapshot encoding, so a test can spoil exactly that byte.
 */
#ifndef EMBER_TEST_VDEV_ENC_H
#define EMBER_TEST_VDEV_ENC_H

#include <stdint.h>
#include <string.h>

#include "device.h"
#include "unit.h"

/* Where the bool at @off in @cfg lands in @t's encoding: the one byte that changes. */
static inline size_t flag_byte(const struct vdev_type *t, const void *cfg, size_t off)
{
	_Alignas(8) unsigned char c[VDEV_CONFIG_MAX];
	struct pw a, b;
	size_t at = SIZE_MAX;

	memcpy(c, cfg, t->config_size);
	pw_init(&a);
	pw_init(&b);
	assert_int_equal(vdev_state_save(t, c, &a), 0);
	c[off] = !c[off];
	assert_int_equal(vdev_state_save(t, c, &b), 0);
	assert_int_equal(a.err, 0);
	assert_int_equal(b.err, 0);
	assert_int_equal(a.len, b.len);
	for (size_t i = 0; i < a.len; i++)
		if (a.buf[i] != b.buf[i]) {
			assert_true(at == SIZE_MAX);
			at = i;
		}
	assert_true(at != SIZE_MAX);
	pw_free(&a);
	pw_free(&b);
	return at;
}

#endif /* EMBER_TEST_VDEV_ENC_H */
