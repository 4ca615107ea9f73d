// SPDX-License-Identifier: Apache-2.0
/*
 * 8250/16550A UART.  Register semantics follow the 16550A datasheet; only the
 * parts the Linux 8250 driver relies on are modelled (no line-status errors,
 * no modem status changes, baud rate ignored).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serial.h"

enum {
	UART_RBR_THR = 0, /* DLL when LCR.DLAB */
	UART_IER = 1,	  /* DLM when LCR.DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI	       0x01 /* receive data available */
#define IER_THRI       0x02 /* transmitter holding register empty */
#define IER_MASK       0x0f
#define IIR_NO_INT     0x01
#define IIR_THRI       0x02
#define IIR_RDI	       0x04
#define IIR_FIFO_BITS  0xc0 /* "FIFOs enabled": the driver then finds a 16550A */
#define FCR_CLEAR_RCVR 0x02
#define LCR_DLAB       0x80
#define MCR_DTR	       0x01
#define MCR_RTS	       0x02
#define MCR_OUT1       0x04
#define MCR_OUT2       0x08
#define MCR_LOOP       0x10
#define LSR_DR	       0x01
#define LSR_THRE       0x20
#define LSR_TEMT       0x40
#define MSR_CTS	       0x10
#define MSR_DSR	       0x20
#define MSR_RI	       0x40
#define MSR_DCD	       0x80

int serial_init(struct serial *s, int out_fd, int irq_fd, int wake_fd)
{
	memset(s, 0, sizeof(*s));
	s->out_fd = out_fd;
	s->irq_fd = irq_fd;
	s->wake_fd = wake_fd;
	s->mcr = MCR_OUT2;
	return -pthread_mutex_init(&s->lock, NULL);
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static void notify(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* eventfd counter saturated: the event is pending anyway. */
	}
}

static uint8_t iir(const struct serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thre_pending)
		return IIR_THRI;
	return IIR_NO_INT;
}

/*
 * An edge to the interrupt controller (irqfd) when a write or new input may
 * have made an interrupt pending.  Reads never raise one: the driver polls
 * LSR, and an edge per poll would be a storm of spurious interrupts.
 */
static void update_irq(struct serial *s)
{
	if (iir(s) != IIR_NO_INT)
		notify(s->irq_fd);
}

static size_t rx_push_locked(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n && s->rx_count < SERIAL_RX_SIZE; i++)
		s->rx[(s->rx_head + s->rx_count++) % SERIAL_RX_SIZE] = buf[i];
	if (i < n)
		s->rx_was_full = true;
	return i;
}

void serial_get_state(struct serial *s, struct serial_state *st)
{
	pthread_mutex_lock(&s->lock);
	*st = (struct serial_state){.ier = s->ier,
				    .lcr = s->lcr,
				    .mcr = s->mcr,
				    .scr = s->scr,
				    .dll = s->dll,
				    .dlm = s->dlm,
				    .thre_pending = s->thre_pending};
	pthread_mutex_unlock(&s->lock);
}

void serial_set_state(struct serial *s, const struct serial_state *st)
{
	pthread_mutex_lock(&s->lock);
	s->ier = st->ier;
	s->lcr = st->lcr;
	s->mcr = st->mcr;
	s->scr = st->scr;
	s->dll = st->dll;
	s->dlm = st->dlm;
	s->thre_pending = st->thre_pending != 0;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_push(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t taken;

	pthread_mutex_lock(&s->lock);
	taken = rx_push_locked(s, buf, n);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return taken;
}

static uint8_t rx_pop_locked(struct serial *s)
{
	uint8_t c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
	s->rx_count--;
	if (s->rx_was_full && s->rx_count < SERIAL_RX_SIZE / 2) {
		s->rx_was_full = false;
		notify(s->wake_fd);
	}
	return c;
}

static uint8_t msr(const struct serial *s)
{
	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback: modem control outputs feed the modem status inputs. */
	return (s->mcr & MCR_RTS ? MSR_CTS : 0) | (s->mcr & MCR_DTR ? MSR_DSR : 0) |
	       (s->mcr & MCR_OUT1 ? MSR_RI : 0) | (s->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

static uint8_t reg_read(struct serial *s, uint64_t off)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RBR_THR:
		return dlab ? s->dll : rx_pop_locked(s);
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		v = iir(s);
		if (v == IIR_THRI)
			s->thre_pending = false; /* reading IIR acknowledges THRE */
		return v | IIR_FIFO_BITS;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return (s->rx_count ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
	case UART_MSR:
		return msr(s);
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		rx_push_locked(s, &c, 1);
	} else if (s->out_rate_on && tbucket_take(&s->out_rate, 1, now_ns())) {
		s->out_rate_dropped++;
	} else if (s->out_limit && s->out_written >= s->out_limit) {
		if (!s->out_dropped++)
			log_warn("console output reached %llu bytes: the rest is dropped (counted "
				 "in metrics)",
				 (unsigned long long)s->out_limit);
	} else if (s->out_fd >= 0 && write(s->out_fd, &c, 1) < 0) {
		/* A closed console must not stop the guest: drop output. */
	} else {
		s->out_written++;
	}
	s->thre_pending = true;
}

void serial_set_output_limit(struct serial *s, uint64_t bytes)
{
	s->out_limit = bytes;
}

void serial_set_rate_limit(struct serial *s, const struct tbucket_cfg *cfg)
{
	s->out_rate_on = cfg->size != 0;
	tbucket_init(&s->out_rate, cfg, now_ns());
}

static void reg_write(struct serial *s, uint64_t off, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case UART_RBR_THR:
		if (dlab)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises THRE at once; the driver waits for it. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = true;
		s->ier = v & IER_MASK;
		break;
	case UART_IIR_FCR:
		if (v & FCR_CLEAR_RCVR) {
			s->rx_head = 0;
			s->rx_count = 0;
			/* Room again: whoever stopped feeding us at a full FIFO may go on. */
			if (s->rx_was_full) {
				s->rx_was_full = false;
				notify(s->wake_fd);
			}
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR, MSR: read-only */
		break;
	}
}

static void serial_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	/* Byte registers: a wider access reads the first, the rest is zero. */
	memset(data, 0, len);
	data[0] = reg_read(s, off);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct serial *s = dev;

	(void)len;
	pthread_mutex_lock(&s->lock);
	reg_write(s, off, data[0]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct bus_dev_ops serial_ops = {
    .read = serial_read,
    .write = serial_write,
};
