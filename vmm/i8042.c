// SPDX-License-Identifier: Apache-2.0
/*
 * i8042 keyboard controller.  Commands are the IBM PC/AT ones Linux's i8042
 * driver issues during probe (drivers/input/serio/i8042.c); the answers are
 * chosen so the probe concludes quickly that no AUX port exists instead of
 * waiting out its 0.5 s timeouts.
 */
#include <string.h>
#include <sys/eventfd.h>

#include "i8042.h"

#define STATUS_OBF	0x01 /* output buffer full */
#define STATUS_SYS	0x04 /* system flag: self-test passed */
#define STATUS_CMD	0x08 /* last write was to the command port */
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited; else Linux warns "Keylock active" */

#define CTL_KBD_INT	0x01 /* raise IRQ 1 when keyboard data is waiting */
#define CTL_KBD_DISABLE 0x10
#define CTL_AUX_DISABLE 0x20
#define CTL_XLATE	0x40

enum {
	CMD_READ_CTL = 0x20,
	CMD_WRITE_CTL = 0x60,
	CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8,
	CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad,
	CMD_KBD_ENABLE = 0xae,
	CMD_READ_INPUT = 0xc0,
	CMD_READ_OUTPUT = 0xd0,
	CMD_WRITE_OUTPUT = 0xd1,
	CMD_KBD_LOOP = 0xd2,
	CMD_AUX_LOOP = 0xd3,
	CMD_AUX_SEND = 0xd4,
	CMD_PULSE_RESET = 0xfe,
};

#define SELF_TEST_OK	  0x55
#define PORT_TEST_OK	  0x00
#define AUX_TEST_STUCK	  0x01 /* "clock line stuck": Linux then skips the AUX port */
#define KBD_ACK		  0xfa
#define OUTPUT_PORT_VALUE 0x03 /* reset line high (inactive), A20 enabled */

int i8042_init(struct i8042 *k, void (*reset)(void *opaque), void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->control = CTL_XLATE | CTL_AUX_DISABLE;
	k->reset = reset;
	k->opaque = opaque;
	k->irq_fd = -1;
	return -pthread_mutex_init(&k->lock, NULL);
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

static void kbd_irq(struct i8042 *k)
{
	if (k->irq_fd >= 0 && (k->control & CTL_KBD_INT))
		(void)eventfd_write(k->irq_fd, 1); /* fails only if an edge is pending anyway */
}

static void out_push(struct i8042 *k, uint8_t v)
{
	if (k->out_count < sizeof(k->out))
		k->out[k->out_count++] = v;
}

static uint8_t out_pop(struct i8042 *k)
{
	uint8_t v;

	if (!k->out_count)
		return 0;
	v = k->out[0];
	memmove(k->out, k->out + 1, --k->out_count);
	return v;
}

/* Returns true when the guest asked for a reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_READ_CTL:
		out_push(k, k->control);
		break;
	case CMD_WRITE_CTL:
	case CMD_WRITE_OUTPUT:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending_cmd = cmd; /* the data byte follows on port 0x60 */
		break;
	case CMD_AUX_DISABLE:
		k->control |= CTL_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		k->control &= (uint8_t)~CTL_AUX_DISABLE;
		break;
	case CMD_AUX_TEST:
		out_push(k, AUX_TEST_STUCK);
		break;
	case CMD_SELF_TEST:
		out_push(k, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		out_push(k, PORT_TEST_OK);
		break;
	case CMD_KBD_DISABLE:
		k->control |= CTL_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		k->control &= (uint8_t)~CTL_KBD_DISABLE;
		break;
	case CMD_READ_INPUT:
		out_push(k, 0);
		break;
	case CMD_READ_OUTPUT:
		out_push(k, OUTPUT_PORT_VALUE);
		break;
	case CMD_PULSE_RESET:
		return true;
	default: /* unknown commands are ignored, as real controllers do */
		break;
	}
	return false;
}

static void data_write(struct i8042 *k, uint8_t v)
{
	switch (k->pending_cmd) {
	case CMD_WRITE_CTL:
		k->control = v;
		/* Interrupt switched on with data waiting: the line goes high. */
		if (k->out_count)
			kbd_irq(k);
		break;
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
		/* Echo as keyboard data: for AUX_LOOP the missing AUX flag means "no AUX port". */
		out_push(k, v);
		break;
	case CMD_WRITE_OUTPUT:
	case CMD_AUX_SEND: /* nothing behind the AUX port */
		break;
	default:
		out_push(k, KBD_ACK); /* a byte for the (absent) keyboard */
		break;
	}
	k->pending_cmd = 0;
}

void i8042_get_state(struct i8042 *k, struct i8042_state *st)
{
	pthread_mutex_lock(&k->lock);
	*st = (struct i8042_state){.control = k->control, .pending_cmd = k->pending_cmd};
	pthread_mutex_unlock(&k->lock);
}

void i8042_set_state(struct i8042 *k, const struct i8042_state *st)
{
	pthread_mutex_lock(&k->lock);
	k->control = st->control;
	k->pending_cmd = st->pending_cmd;
	pthread_mutex_unlock(&k->lock);
}

int i8042_ctrl_alt_del(struct i8042 *k)
{
	/*
	 * Scancode set 1, which is what the guest reads while the controller
	 * translates (CTL_XLATE, Linux's default); set 2 otherwise.  Ctrl, Alt
	 * and Delete down, then up in reverse order.
	 */
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
				       0x71, 0xf0, 0x11, 0xf0, 0x14};
	const uint8_t *seq;
	size_t n;
	int r = 0;

	pthread_mutex_lock(&k->lock);
	seq = k->control & CTL_XLATE ? set1 : set2;
	n = k->control & CTL_XLATE ? sizeof(set1) : sizeof(set2);
	if (k->out_count + n > sizeof(k->out)) {
		r = -EBUSY;
	} else {
		for (size_t i = 0; i < n; i++)
			out_push(k, seq[i]);
		/*
		 * Always an edge: the line is "data waiting and interrupt on",
		 * and a byte left from the probe (pushed while the interrupt
		 * was off) must not hide the keys.  A spare edge costs the
		 * guest one empty status read.
		 */
		kbd_irq(k);
	}
	pthread_mutex_unlock(&k->lock);
	return r;
}

static void i8042_data_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;

	(void)off;
	memset(data, 0, len);
	pthread_mutex_lock(&k->lock);
	data[0] = out_pop(k);
	/* Linux reads one byte per interrupt: an edge for each that is left. */
	if (k->out_count)
		kbd_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_data_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;

	(void)off;
	(void)len;
	pthread_mutex_lock(&k->lock);
	data_write(k, data[0]);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_status_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;

	(void)off;
	memset(data, 0, len);
	pthread_mutex_lock(&k->lock);
	data[0] = STATUS_SYS | STATUS_UNLOCKED | (k->out_count ? STATUS_OBF : 0) |
		  (k->pending_cmd ? STATUS_CMD : 0);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_cmd_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = dev;
	bool reset;

	(void)off;
	(void)len;
	pthread_mutex_lock(&k->lock);
	reset = command(k, data[0]);
	pthread_mutex_unlock(&k->lock);
	/* Outside the lock: the callback stops the VM. */
	if (reset && k->reset)
		k->reset(k->opaque);
}

const struct bus_dev_ops i8042_data_ops = {
    .read = i8042_data_read,
    .write = i8042_data_write,
};

const struct bus_dev_ops i8042_cmd_ops = {
    .read = i8042_status_read,
    .write = i8042_cmd_write,
};
