// SPDX-License-Identifier: Apache-2.0
/*
 * Legacy devices through the bus, as a guest drives them: the 8250 the way
 * Linux's driver probes and uses it, the i8042 probe and reset, and garbage
 * accesses that must be absorbed.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "i8042.h"
#include "layout.h"
#include "serial.h"
#include "unit.h"

struct rig {
	struct bus pio;
	struct serial s;
	struct i8042 k;
	int out[2]; /* pipe: what the guest printed */
	int irq, wake;
	int resets;
};

static void on_reset(void *opaque)
{
	((struct rig *)opaque)->resets++;
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(pipe2(r->out, O_NONBLOCK), 0);
	r->irq = eventfd(0, EFD_NONBLOCK);
	r->wake = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(serial_init(&r->s, r->out[1], r->irq, r->wake), 0);
	assert_int_equal(i8042_init(&r->k, on_reset, r), 0);
	bus_init(&r->pio, "pio");
	assert_int_equal(bus_register(&r->pio, PORT_COM1, 8, &serial_ops, &r->s), 0);
	assert_int_equal(bus_register(&r->pio, PORT_I8042_DATA, 1, &i8042_data_ops, &r->k), 0);
	assert_int_equal(bus_register(&r->pio, PORT_I8042_CMD, 1, &i8042_cmd_ops, &r->k), 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	serial_destroy(&r->s);
	i8042_destroy(&r->k);
	close(r->out[0]);
	close(r->out[1]);
	close(r->irq);
	close(r->wake);
	free(r);
	return 0;
}

static uint8_t inb(struct rig *r, uint16_t port)
{
	uint8_t v;

	bus_access(&r->pio, port, &v, 1, false);
	return v;
}

static void outb(struct rig *r, uint16_t port, uint8_t v)
{
	bus_access(&r->pio, port, &v, 1, true);
}

/* Number of interrupt edges since the last call. */
static uint64_t irqs(struct rig *r)
{
	uint64_t n = 0;

	if (read(r->irq, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void test_serial_probe(void **state)
{
	struct rig *r = *state;

	/* Scratch register and IER read back, as autoconfig checks. */
	outb(r, PORT_COM1 + 7, 0xa5);
	assert_int_equal(inb(r, PORT_COM1 + 7), 0xa5);
	outb(r, PORT_COM1 + 1, 0x0f);
	assert_int_equal(inb(r, PORT_COM1 + 1), 0x0f);
	outb(r, PORT_COM1 + 1, 0xff);
	assert_int_equal(inb(r, PORT_COM1 + 1), 0x0f); /* reserved bits stay 0 */
	outb(r, PORT_COM1 + 1, 0);
	/* Divisor latch does not disturb IER/THR. */
	outb(r, PORT_COM1 + 3, 0x80);
	outb(r, PORT_COM1 + 0, 0x01);
	outb(r, PORT_COM1 + 1, 0x00);
	assert_int_equal(inb(r, PORT_COM1 + 0), 0x01);
	outb(r, PORT_COM1 + 3, 0x03);
	/* Loopback: MCR outputs appear in MSR, THR in RBR. */
	outb(r, PORT_COM1 + 4, 0x10 | 0x0a);
	assert_int_equal(inb(r, PORT_COM1 + 6) & 0xf0, 0x90);
	outb(r, PORT_COM1 + 0, 'L');
	assert_int_equal(inb(r, PORT_COM1 + 5) & 1, 1);
	assert_int_equal(inb(r, PORT_COM1 + 0), 'L');
	outb(r, PORT_COM1 + 4, 0x08);
	/* 16550A: FIFO bits in IIR, nothing pending. */
	assert_int_equal(inb(r, PORT_COM1 + 2), 0xc1);
}

static void test_serial_tx_rx(void **state)
{
	struct rig *r = *state;
	char buf[8] = {0};

	irqs(r);
	outb(r, PORT_COM1 + 0, 'h');
	outb(r, PORT_COM1 + 0, 'i');
	assert_int_equal(read(r->out[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_int_equal(irqs(r), 0); /* THRI off: no interrupt */

	/* Enabling THRI with THR empty interrupts at once; reading IIR acknowledges it. */
	outb(r, PORT_COM1 + 1, 0x02);
	assert_true(irqs(r) > 0);
	assert_int_equal(inb(r, PORT_COM1 + 2), 0xc2);
	assert_int_equal(inb(r, PORT_COM1 + 2), 0xc1);
	/* Polling LSR must not raise interrupts. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(inb(r, PORT_COM1 + 5) & 0x60, 0x60);
	assert_int_equal(irqs(r), 0);

	/* Input: data-ready and an RX interrupt with RDI enabled. */
	outb(r, PORT_COM1 + 1, 0x01);
	irqs(r);
	assert_int_equal(serial_push(&r->s, (const uint8_t *)"ok", 2), 2);
	assert_true(irqs(r) > 0);
	assert_int_equal(inb(r, PORT_COM1 + 2), 0xc4);
	assert_int_equal(inb(r, PORT_COM1 + 0), 'o');
	assert_int_equal(inb(r, PORT_COM1 + 0), 'k');
	assert_int_equal(inb(r, PORT_COM1 + 5) & 1, 0);
	assert_int_equal(inb(r, PORT_COM1 + 0), 0); /* empty RBR reads 0 */
}

/* A capped output writes up to the cap, then drops and counts; the guest never notices. */
static void test_serial_output_limit(void **state)
{
	struct rig *r = *state;
	char buf[16] = {0};

	serial_set_output_limit(&r->s, 4);
	for (const char *p = "hello, world"; *p; p++)
		outb(r, PORT_COM1 + 0, (uint8_t)*p);
	assert_int_equal(read(r->out[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "hell", 4);
	assert_int_equal(r->s.out_written, 4);
	assert_int_equal(r->s.out_dropped, 8);
	/* THR is empty again after every byte, dropped or not. */
	assert_int_equal(inb(r, PORT_COM1 + 5) & 0x60, 0x60);
}

static void test_serial_rx_full_wakes(void **state)
{
	struct rig *r = *state;
	static uint8_t big[SERIAL_RX_SIZE + 100];
	uint64_t n = 0;

	memset(big, 'x', sizeof(big));
	assert_int_equal(serial_push(&r->s, big, sizeof(big)), SERIAL_RX_SIZE);
	assert_int_equal(read(r->wake, &n, sizeof(n)), -1); /* not yet */
	for (unsigned i = 0; i < SERIAL_RX_SIZE / 2 + 1; i++)
		inb(r, PORT_COM1 + 0);
	assert_int_equal(read(r->wake, &n, sizeof(n)), sizeof(n)); /* VMM told to resume */
	outb(r, PORT_COM1 + 2, 0x02);				   /* FCR: clear RX FIFO */
	assert_int_equal(inb(r, PORT_COM1 + 5) & 1, 0);

	/*
	 * Full again, and this time the guest clears the FIFO instead of
	 * reading it (Linux does whenever it opens the port): that is room
	 * too, and the VMM must hear of it, or no input ever arrives again.
	 */
	assert_int_equal(serial_push(&r->s, big, sizeof(big)), SERIAL_RX_SIZE);
	assert_int_equal(read(r->wake, &n, sizeof(n)), -1);
	outb(r, PORT_COM1 + 2, 0x02);
	assert_int_equal(read(r->wake, &n, sizeof(n)), sizeof(n));
	assert_int_equal(serial_push(&r->s, big, 10), 10);
}

static void test_i8042_probe_and_reset(void **state)
{
	struct rig *r = *state;

	assert_int_equal(inb(r, PORT_I8042_CMD) & 0x10, 0x10); /* not keylocked */
	outb(r, PORT_I8042_CMD, 0xaa);
	assert_int_equal(inb(r, PORT_I8042_CMD) & 1, 1);
	assert_int_equal(inb(r, PORT_I8042_DATA), 0x55);
	assert_int_equal(inb(r, PORT_I8042_CMD) & 1, 0);
	/* Control byte round trip. */
	outb(r, PORT_I8042_CMD, 0x60);
	outb(r, PORT_I8042_DATA, 0x47);
	outb(r, PORT_I8042_CMD, 0x20);
	assert_int_equal(inb(r, PORT_I8042_DATA), 0x47);
	/* AUX loop answers without the AUX flag, AUX test says "stuck": no AUX port. */
	outb(r, PORT_I8042_CMD, 0xd3);
	outb(r, PORT_I8042_DATA, 0x5a);
	assert_int_equal(inb(r, PORT_I8042_CMD) & 0x21, 0x01);
	assert_int_equal(inb(r, PORT_I8042_DATA), 0x5a);
	outb(r, PORT_I8042_CMD, 0xa9);
	assert_int_equal(inb(r, PORT_I8042_DATA), 0x01);
	/* Unknown commands and floods are absorbed. */
	for (int i = 0; i < 1000; i++)
		outb(r, PORT_I8042_CMD, (uint8_t)(0x30 + i % 16));
	for (int i = 0; i < 100; i++)
		outb(r, PORT_I8042_DATA, 0xed);
	assert_int_equal(r->resets, 0);
	/* The guest's reboot path: pulse the reset line. */
	outb(r, PORT_I8042_CMD, 0xfe);
	assert_int_equal(r->resets, 1);
}

/* SendCtrlAltDel: the keys arrive in order, one IRQ 1 edge per byte. */
static void test_i8042_ctrl_alt_del(void **state)
{
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
	struct rig *r = *state;
	int kirq = eventfd(0, EFD_NONBLOCK);
	eventfd_t edges;

	assert_true(kirq >= 0);
	r->k.irq_fd = kirq;
	/* Linux drains the probe's bytes, then enables the keyboard IRQ, XLATE on. */
	outb(r, PORT_I8042_CMD, 0x60);
	outb(r, PORT_I8042_DATA, 0x41);
	assert_int_equal(i8042_ctrl_alt_del(&r->k), 0);
	assert_int_equal(eventfd_read(kirq, &edges), 0);
	assert_int_equal(edges, 1);
	for (size_t i = 0; i < sizeof(set1); i++) {
		assert_int_equal(inb(r, PORT_I8042_CMD) & 1, 1);
		assert_int_equal(inb(r, PORT_I8042_DATA), set1[i]);
		/* Another edge while bytes remain, none after the last. */
		assert_int_equal(eventfd_read(kirq, &edges) == 0, i + 1 < sizeof(set1));
	}
	assert_int_equal(inb(r, PORT_I8042_CMD) & 1, 0);
	/* An undrained buffer refuses a second press rather than dropping keys. */
	assert_int_equal(i8042_ctrl_alt_del(&r->k), 0);
	assert_int_equal(i8042_ctrl_alt_del(&r->k), 0);
	assert_int_equal(i8042_ctrl_alt_del(&r->k), -EBUSY);
	/* Keyboard interrupt disabled: bytes wait, no edge. */
	for (int i = 0; i < 16; i++)
		inb(r, PORT_I8042_DATA);
	(void)eventfd_read(kirq, &edges);
	outb(r, PORT_I8042_CMD, 0x60);
	outb(r, PORT_I8042_DATA, 0x40);
	assert_int_equal(i8042_ctrl_alt_del(&r->k), 0);
	assert_int_equal(eventfd_read(kirq, &edges), -1);
	assert_int_equal(inb(r, PORT_I8042_DATA), 0x1d);
	/* Switching the interrupt on with bytes waiting raises the line. */
	outb(r, PORT_I8042_CMD, 0x60);
	outb(r, PORT_I8042_DATA, 0x41);
	assert_int_equal(eventfd_read(kirq, &edges), 0);
	/* A byte left over from the probe does not hide the keys. */
	for (int i = 0; i < 16; i++)
		inb(r, PORT_I8042_DATA);
	outb(r, PORT_I8042_DATA, 0xf2); /* a keyboard command: its ACK stays unread */
	(void)eventfd_read(kirq, &edges);
	assert_int_equal(i8042_ctrl_alt_del(&r->k), 0);
	assert_int_equal(eventfd_read(kirq, &edges), 0);
	r->k.irq_fd = -1;
	close(kirq);
}

static void test_bus_garbage(void **state)
{
	struct rig *r = *state;
	uint8_t wide[8];

	/* Unmapped port reads all-ones, writes vanish. */
	assert_int_equal(inb(r, 0x80), 0xff);
	assert_false(bus_access(&r->pio, 0x1234, wide, 4, true));
	/* Straddling the end of a device is not dispatched. */
	assert_false(bus_access(&r->pio, PORT_COM1 + 6, wide, 4, false));
	assert_memory_equal(wide, "\xff\xff\xff\xff", 4);
	/* Wide access to a byte register returns the byte, zero-extended. */
	outb(r, PORT_COM1 + 7, 0x3c);
	assert_true(bus_access(&r->pio, PORT_COM1 + 7, wide, 1, false));
	assert_int_equal(wide[0], 0x3c);
	/* Overlapping registrations are refused. */
	assert_int_equal(bus_register(&r->pio, PORT_COM1 + 4, 8, &serial_ops, &r->s), -EEXIST);
	assert_int_equal(bus_register(&r->pio, UINT64_MAX - 1, 8, &serial_ops, &r->s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_serial_probe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serial_tx_rx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serial_rx_full_wakes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serial_output_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_i8042_probe_and_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_i8042_ctrl_alt_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bus_garbage, setup, teardown),
	};
	return cmocka_run_group_tests_name("devices", tests, NULL, NULL);
}
