// SPDX-License-Identifier: Apache-2.0
/*
 * The migration stream's receiver (snapshot/migrate_stream.c): a good
 * stream lands page for page; garbage, truncation, another version,
 * oversized lengths, a replay (another connection's nonce, a frame sent
 * twice), frames out of order and any single damaged byte are refused
 * before END, so nothing of them could run.
 */
#include "unit.h"

#include "mig_rig.h"
#include "migrate_stream.h"

#define NONCE 0x1122334455667788ull
#define RAM   (16u * MIG_PAGE)

static uint8_t ram[RAM];
static unsigned calls;

static int store(void *ctx, uint64_t off, const uint8_t *data, uint32_t n)
{
	(void)ctx;
	assert_true(off + (uint64_t)n * MIG_PAGE <= RAM);
	memcpy(ram + off, data, (size_t)n * MIG_PAGE);
	calls++;
	return 0;
}

static int feed(const struct mig_buf *b, uint64_t nonce, struct mig_rx *rx, char *err)
{
	int r;

	memset(ram, 0, sizeof(ram));
	calls = 0;
	mig_rx_init(rx, nonce);
	rx->pages = store;
	r = mig_rx_buffer(rx, b->p, b->len, err, 256);
	if (r)
		assert_true(err[0]); /* every refusal says why */
	return r;
}

static int feed_free(const struct mig_buf *b, uint64_t nonce)
{
	char err[256] = "";
	struct mig_rx rx;
	int r = feed(b, nonce, &rx, err);

	mig_rx_free(&rx);
	return r;
}

static void test_good(void **state)
{
	struct mig_buf b;
	struct mig_rx rx;
	char err[256] = "";

	(void)state;
	mig_buf_good(&b, NONCE);
	assert_int_equal(feed(&b, NONCE, &rx, err), 0);
	assert_int_equal(rx.end_flags, MIG_END_PAUSED);
	assert_int_equal(rx.mem_bytes, RAM);
	assert_int_equal(rx.pages_rx, 5);
	assert_int_equal(rx.img.nr_sections, 1);
	assert_int_equal(ram[0], 0x10);
	assert_int_equal(ram[MIG_PAGE], 0x30); /* sent again: the later copy wins */
	assert_int_equal(ram[2 * MIG_PAGE + 100], 0x12);
	assert_int_equal(ram[3 * MIG_PAGE], 0);
	assert_int_equal(ram[15 * MIG_PAGE + 4095], 0x20);
	mig_rx_free(&rx);
	free(b.p);
}

static void test_garbage_and_truncated(void **state)
{
	struct mig_buf b, g = {0};
	uint64_t x = 99;

	(void)state;
	mig_buf_good(&b, NONCE);
	/* Every proper prefix, including a cut inside a header or a payload. */
	for (size_t n = 0; n < b.len; n += (n < 4096 ? 1 : 509)) {
		struct mig_buf t = b;

		t.len = n;
		assert_int_not_equal(feed_free(&t, NONCE), 0);
	}
	assert_int_equal(feed_free(&b, NONCE), 0);
	/* Trailing bytes after END. */
	b.len++;
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len--;
	/* Random bytes. */
	g.p = malloc(4096);
	g.len = 4096;
	for (int k = 0; k < 100; k++) {
		for (size_t i = 0; i < g.len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			g.p[i] = (uint8_t)x;
		}
		assert_int_not_equal(feed_free(&g, NONCE), 0);
	}
	free(g.p);
	free(b.p);
}

/* Every single damaged byte of a good stream is refused (CRC or structure). */
static void test_any_byte_damaged(void **state)
{
	struct mig_buf b;

	(void)state;
	mig_buf_good(&b, NONCE);
	for (size_t i = 0; i < b.len; i += (i < 8192 ? 1 : 97)) {
		b.p[i] ^= 0x40;
		assert_int_not_equal(feed_free(&b, NONCE), 0);
		b.p[i] ^= 0x40;
	}
	free(b.p);
}

static void test_version(void **state)
{
	struct mig_buf b = {.nonce = NONCE};
	uint8_t gr[MIG_GREETING_SIZE];
	uint64_t nonce = 0;
	char err[256];

	(void)state;
	mig_buf_hello(&b, MIG_VERSION + 1, RAM); /* a right CRC, a wrong version */
	mig_buf_state(&b);
	mig_buf_end(&b, 0);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	free(b.p);

	mig_greeting_encode(gr, 42);
	assert_int_equal(mig_greeting_decode(gr, &nonce, err, sizeof(err)), 0);
	assert_true(nonce == 42);
	gr[8] = MIG_VERSION + 1; /* another version, CRC made right again */
	mig_le(gr + 24, snap_crc64(0, gr, 24), 8);
	assert_int_equal(mig_greeting_decode(gr, &nonce, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "version"));
	gr[0] = 'X';
	assert_int_equal(mig_greeting_decode(gr, &nonce, err, sizeof(err)), -EINVAL);
}

static void test_oversized(void **state)
{
	struct mig_buf b = {.nonce = NONCE};
	uint8_t hdr[MIG_HDR_SIZE], p[MIG_PAGES_HDR] = {0};
	struct mig_rx rx;
	uint64_t len;
	uint32_t type;
	char err[256];

	(void)state;
	/* A header announcing more than its type allows: refused from the header. */
	mig_rx_init(&rx, NONCE);
	mig_hdr_encode(hdr, NONCE, MIG_FR_PAGES, 0, NULL, 0);
	mig_le(hdr + 16, ~0ull, 8);
	assert_int_equal(mig_rx_header(&rx, hdr, &type, &len, err, sizeof(err)), -EINVAL);
	mig_le(hdr + 16, mig_max_payload(MIG_FR_PAGES) + 1, 8);
	assert_int_equal(mig_rx_header(&rx, hdr, &type, &len, err, sizeof(err)), -EINVAL);
	mig_le(hdr + 16, mig_max_payload(MIG_FR_STATE) + 1, 8);
	mig_le(hdr, MIG_FR_STATE, 4);
	assert_int_equal(mig_rx_header(&rx, hdr, &type, &len, err, sizeof(err)), -EINVAL);
	mig_le(hdr, 77, 4); /* unknown type */
	mig_le(hdr + 16, 0, 8);
	assert_int_equal(mig_rx_header(&rx, hdr, &type, &len, err, sizeof(err)), -EINVAL);

	/* Pages past the end of RAM, a count that does not match the length, too many. */
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_pages(&b, RAM - MIG_PAGE, 2, 1);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_le(p, 1, 4); /* one page announced, none carried */
	mig_buf_add(&b, MIG_FR_PAGES, p, sizeof(p));
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_pages(&b, ~0ull & ~(uint64_t)(MIG_PAGE - 1), 1, 1); /* offset wraps */
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	/* A memory size beyond any machine. */
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, MIG_MAX_MEM + MIG_PAGE);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	free(b.p);
}

/* One frame of scattered pages lands run by run; bad offset lists are refused whole. */
static void test_scattered(void **state)
{
	static const uint64_t good[] = {0, 2 * MIG_PAGE, 3 * MIG_PAGE, 9 * MIG_PAGE};
	static const uint64_t bad[][3] = {
	    {MIG_PAGE, MIG_PAGE, 2 * MIG_PAGE},		/* a page twice */
	    {3 * MIG_PAGE, 2 * MIG_PAGE, 5 * MIG_PAGE}, /* descending */
	    {0, MIG_PAGE + 8, 5 * MIG_PAGE},		/* misaligned */
	    {0, MIG_PAGE, RAM},				/* past the end */
	};
	struct mig_buf b = {.nonce = NONCE};
	struct mig_rx rx;
	char err[256] = "";

	(void)state;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_page_list(&b, good, 4, 0x40);
	mig_buf_state(&b);
	mig_buf_end(&b, 0);
	assert_int_equal(feed(&b, NONCE, &rx, err), 0);
	assert_int_equal(rx.pages_rx, 4);
	assert_int_equal(calls, 3); /* pages 2 and 3 are one run */
	assert_int_equal(ram[0], 0x40);
	assert_int_equal(ram[MIG_PAGE], 0);
	assert_int_equal(ram[2 * MIG_PAGE], 0x41);
	assert_int_equal(ram[3 * MIG_PAGE + 4095], 0x42);
	assert_int_equal(ram[9 * MIG_PAGE], 0x43);
	mig_rx_free(&rx);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		b.len = 0, b.seq = 0;
		mig_buf_hello(&b, MIG_VERSION, RAM);
		mig_buf_page_list(&b, bad[k], 3, 1);
		mig_buf_state(&b);
		mig_buf_end(&b, 0);
		assert_int_not_equal(feed(&b, NONCE, &rx, err), 0);
		assert_int_equal(calls, 0); /* nothing of the frame was stored */
		mig_rx_free(&rx);
	}
	free(b.p);
}

/*
 * CONFIG (the VM's settings, for the destination to build it ahead) comes
 * at most once, after HELLO and before any page; it is parsed as a state
 * file, so a corrupt one is refused like a corrupt STATE.
 */
static void test_config(void **state)
{
	struct mig_buf b = {.nonce = NONCE};
	struct mig_rx rx;
	char err[256] = "";

	(void)state;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_image(&b, MIG_FR_CONFIG);
	mig_buf_pages(&b, 0, 1, 1);
	mig_buf_state(&b);
	mig_buf_end(&b, 0);
	assert_int_equal(feed(&b, NONCE, &rx, err), 0);
	assert_non_null(rx.config.buf);
	assert_int_equal(rx.config.nr_sections, 1);
	mig_rx_free(&rx);
	assert_null(rx.config.buf);
	/* Without CONFIG, as before. */
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_state(&b);
	mig_buf_end(&b, 0);
	assert_int_equal(feed(&b, NONCE, &rx, err), 0);
	assert_null(rx.config.buf);
	mig_rx_free(&rx);
	/* Twice, after pages, before HELLO, after STATE: out of order. */
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_image(&b, MIG_FR_CONFIG);
	mig_buf_image(&b, MIG_FR_CONFIG);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_pages(&b, 0, 1, 1);
	mig_buf_image(&b, MIG_FR_CONFIG);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_image(&b, MIG_FR_CONFIG);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_state(&b);
	mig_buf_image(&b, MIG_FR_CONFIG);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	/* Not a state file. */
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_add(&b, MIG_FR_CONFIG, "not a state file", 16);
	assert_int_not_equal(feed(&b, NONCE, &rx, err), 0);
	assert_non_null(strstr(err, "state file"));
	assert_null(rx.config.buf);
	mig_rx_free(&rx);
	free(b.p);
}

static void test_replay(void **state)
{
	struct mig_buf b, d = {.nonce = NONCE};
	size_t hello_len;

	(void)state;
	/* A whole good stream recorded on another connection (another nonce). */
	mig_buf_good(&b, NONCE + 1);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	free(b.p);
	/* One frame sent twice, with its own sequence number. */
	mig_buf_hello(&d, MIG_VERSION, RAM);
	hello_len = d.len;
	mig_buf_pages(&d, 0, 1, 1);
	d.p = realloc(d.p, d.len + (d.len - hello_len));
	memcpy(d.p + d.len, d.p + hello_len, d.len - hello_len);
	d.len += d.len - hello_len;
	mig_buf_state(&d);
	mig_buf_end(&d, 0);
	assert_int_not_equal(feed_free(&d, NONCE), 0);
	free(d.p);
}

static void test_order(void **state)
{
	struct mig_buf b = {.nonce = NONCE};

	(void)state;
	mig_buf_state(&b); /* no HELLO */
	mig_buf_end(&b, 0);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_end(&b, 0); /* no STATE */
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_state(&b);
	mig_buf_pages(&b, 0, 1, 1); /* pages after the state */
	mig_buf_end(&b, 0);
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	b.len = 0, b.seq = 0;
	mig_buf_hello(&b, MIG_VERSION, RAM);
	mig_buf_state(&b);
	mig_buf_end(&b, 0x80); /* unknown END flag */
	assert_int_not_equal(feed_free(&b, NONCE), 0);
	free(b.p);
}

static void test_answer(void **state)
{
	uint8_t hdr[MIG_HDR_SIZE];
	struct mig_part msg = {"no tap0", 7};
	uint64_t len;
	char err[256];

	(void)state;
	mig_hdr_encode(hdr, NONCE, MIG_FR_OK, 0, NULL, 0);
	assert_int_equal(mig_answer_check(NONCE, hdr, NULL, &len, err, sizeof(err)), 0);
	assert_int_equal(mig_answer_check(NONCE, hdr, (const uint8_t *)"", &len, err, sizeof(err)),
			 0);
	assert_int_equal(
	    mig_answer_check(NONCE + 1, hdr, (const uint8_t *)"", &len, err, sizeof(err)), -EINVAL);
	mig_hdr_encode(hdr, NONCE, MIG_FR_ERR, 0, &msg, 1);
	assert_int_equal(mig_answer_check(NONCE, hdr, NULL, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 7);
	assert_int_equal(mig_answer_check(NONCE, hdr, msg.p, &len, err, sizeof(err)), -EREMOTEIO);
	assert_non_null(strstr(err, "no tap0"));
	mig_hdr_encode(hdr, NONCE, MIG_FR_PAGES, 0, NULL, 0);
	assert_int_equal(mig_answer_check(NONCE, hdr, NULL, &len, err, sizeof(err)), -EINVAL);
	mig_hdr_encode(hdr, NONCE, MIG_FR_OK, 1, NULL, 0);
	assert_int_equal(mig_answer_check(NONCE, hdr, NULL, &len, err, sizeof(err)), -EINVAL);
}

static void test_url(void **state)
{
	static const char *const bad[] = {"",
					  "unix:",
					  "tcp:",
					  "tcp:1.2.3.4",
					  "tcp:1.2.3.4:",
					  "tcp:1.2.3.4:0",
					  "tcp:1.2.3.4:65536",
					  "tcp:1.2.3.4:80x",
					  "tcp:host.example:80",
					  "tcp:[::1:80",
					  "tcp:[zz]:80",
					  "udp:1.2.3.4:80",
					  "unix:/a/very/long/path/that/does/not/fit/in/sun_path/"
					  "because/it/is/far/longer/than/one/"
					  "hundred/and/eight/bytes/xx"};
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(migrate_url(bad[i], &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(migrate_url("unix:/run/m.sock", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_UNIX);
	assert_int_equal(migrate_url("tcp:127.0.0.1:4444", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(migrate_url("tcp:[::1]:4444", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_garbage_and_truncated),
	    cmocka_unit_test(test_any_byte_damaged),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_scattered),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_answer),
	    cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
