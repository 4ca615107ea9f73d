// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the Uffd memory backend's handshake (snapshot/uffd.c,
 * protocol in snapshot/uffd.h).
 *
 * Which side is hostile: ember reads nothing from the handler (it connects,
 * sends one message, hangs up), so ember has no parser to fuzz on this
 * socket.  The parsing is on the handler's side, and the handler is the
 * one to protect: it runs outside ember's jail, with more rights, and
 * trusts what arrives on its socket from a VMM whose guest may own it.
 * The in-tree receiver is snapshot/examples/uffd_handler.c, the handler
 * we ship; it is compiled into this target (its main renamed, its exit()
 * made a longjmp back here, its ioctl() a checker, its stderr /dev/null).
 * So, per input:
 *
 *   1. The message bytes of the input go, split into up to four sendmsg()s
 *      by ember's own snap_uffd_send(), with the fd attached to the chunks
 *      the input says (none, one, several), over a socketpair to the
 *      handler's receive(), then parse() against a memory file of an
 *      input-chosen size.  What parse() accepts is checked (page aligned,
 *      not empty, inside the file, no overlap), and up to four faults at
 *      input-chosen addresses go to serve(), whose UFFDIO_COPY is checked
 *      to copy from inside the file (and answered with success, EEXIST,
 *      ESRCH, EAGAIN or an error, as the input says).
 *   2. ember's side against a hostile handler: a peer that has hung up or
 *      shut its reading side (snap_uffd_send must return -EPIPE, never
 *      raise SIGPIPE, which would end this process); and
 *      snap_uffd_handoff() with input-chosen regions (any 64-bit values)
 *      and error buffer size but a missing or too long socket path, which
 *      refuses before any userfaultfd exists: the region checks and the
 *      error formatting (NUL-terminated within the buffer, whatever fits).
 *   3. Where the kernel gives a userfaultfd (root, or
 *      vm.unprivileged_userfaultfd), the whole handoff as ember makes it,
 *      regions inside a mapping of our own that is never touched, to a
 *      socket we listen on; the handler's receive() and parse() must read
 *      back exactly the regions ember sent (ember's writer and the
 *      handler's reader agree).
 *
 * Not reached: faults served for real (UFFDIO_COPY into registered
 * memory: a fault nobody serves blocks for ever; test_uffd.c does that
 * with the real handler), the handler's main() (listening, the memory
 * file, the pidfd), and a partial write on ember's side (a blocking
 * AF_UNIX sendmsg of a message under 1 KiB completes or fails whole; only
 * a signal could split it).
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_uffd --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "uffd.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t inputs, received, parsed, served, copies, handler_refused, ember_refused, epipe,
	    round_trips;
	int uffd_errno; /* why the round trip could not run, or 0 */
} depth;

/* A broken promise of the code under test: say which, then crash for the fuzzer. */
#define fuzz_fail(why)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "fuzz_uffd: %s (line %d)\n", why, __LINE__);                       \
		abort();                                                                           \
	} while (0)

/* ---- the in-tree handler, made callable ------------------------------------------ */

static jmp_buf handler_jmp;
static FILE *handler_err;
static int copy_check(struct uffdio_copy *c);

/* die() ends the handler: here it comes back to the input's next step. */
static void __attribute__((noreturn)) handler_exit(int status)
{
	(void)status;
	depth.handler_refused++;
	longjmp(handler_jmp, 1);
}

/* The handler's only ioctl is UFFDIO_COPY, in serve(). */
static int handler_ioctl(int fd, unsigned long req, struct uffdio_copy *c)
{
	(void)fd;
	if (req != UFFDIO_COPY)
		fuzz_fail("the handler made an ioctl other than UFFDIO_COPY");
	return copy_check(c);
}

#undef stderr /* glibc's is a macro too */
#define main   uffd_handler_main
#define exit   handler_exit
#define ioctl  handler_ioctl
#define stderr handler_err
#include "../../snapshot/examples/uffd_handler.c"
#undef main
#undef exit
#undef ioctl
#undef stderr
#define stderr stderr

/*
 * jansson's allocations made through the handler: die() leaves parse()'s
 * array behind (the real handler exits), so a run that longjmp()ed frees
 * what is still listed.  Only around the handler's calls: ember frees
 * json_dumps() output with free().
 */
struct jblock {
	struct jblock *prev, *next;
	_Alignas(16) unsigned char data[];
};
static struct jblock jlist = {&jlist, &jlist};

static void *jmalloc(size_t n)
{
	struct jblock *b = malloc(sizeof(*b) + n);

	if (!b)
		return NULL;
	b->next = jlist.next;
	b->prev = &jlist;
	jlist.next->prev = b;
	jlist.next = b;
	return b->data;
}

static void jfree(void *p)
{
	struct jblock *b;

	if (!p)
		return;
	b = (struct jblock *)((unsigned char *)p - offsetof(struct jblock, data));
	b->prev->next = b->next;
	b->next->prev = b->prev;
	free(b);
}

static void jfree_all(void)
{
	while (jlist.next != &jlist)
		jfree(jlist.next->data);
}

/* ---- the memory file, and serve()'s copies ---------------------------------------- */

#define FILE_PAGES 64u
static uint8_t file_img[(FILE_PAGES + 1) * PAGE];
static uint64_t file_size;
static unsigned copy_mode, copy_calls;
static uint64_t fault_page;

static int copy_check(struct uffdio_copy *c)
{
	static uint8_t page[PAGE];
	uintptr_t src = (uintptr_t)c->src, base = (uintptr_t)file_img;

	copy_calls++;
	/* The page that faulted, a whole page, from inside the file. */
	if (c->dst != fault_page || c->len != PAGE || c->mode || src < base ||
	    src - base > file_size || file_size - (src - base) < PAGE)
		fuzz_fail("UFFDIO_COPY of another page, or from outside the memory file");
	memcpy(page, (const void *)src, PAGE);
	depth.copies++;
	switch (copy_mode) {
	case 1:
		errno = EEXIST;
		return -1;
	case 2:
		errno = ESRCH;
		return -1;
	case 3: /* once, then it works */
		if (copy_calls > 1)
			return 0;
		errno = EAGAIN;
		return -1;
	case 4:
		errno = EFAULT;
		return -1;
	default:
		c->copy = PAGE;
		return 0;
	}
}

/* ---- the input ------------------------------------------------------------------ */

/*
 * Header, then the message:
 *   [0] flags: 1 small receive buffer, 2/4/8 fd on the 1st/2nd/3rd non-empty chunk,
 *       16 ember-side EPIPE checks, 32 round trip, 64 two regions
 *   [1] what UFFDIO_COPY answers (0..4)
 *   [2..3] the memory file: pages (1..64); one page less (0x40), bytes past the last
 *          page (0x80 | 64-byte steps)
 *   [4..6] where the message is cut into chunks (fractions of 256)
 *   [7..22] four faults: region, 24-bit offset (region 0xff: anywhere)
 *   [23..46] a region for the argument checks: host_addr, size, offset
 *   [47] its count (0..2), [48] error buffer size, [49] socket path kind
 *   [50..55] round-trip regions: start page, pages, file page; twice
 */
#define HDR_LEN 56

struct hdr {
	uint8_t flags, copy, pages, extra, cut[3];
	uint8_t fault[4][4];
	uint8_t region[24];
	uint8_t nr, errlen, path;
	uint8_t rt[6];
};
_Static_assert(sizeof(struct hdr) == HDR_LEN, "header layout");

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* fds above @from that are open now but were not in @before (what a die() left). */
static void close_new_fds(const uint8_t *before)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self = d ? dirfd(d) : -1;

	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != self && fd < 1024 && !before[fd])
			close(fd);
	}
	if (d)
		closedir(d);
}

static void open_fds(uint8_t *set)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self = d ? dirfd(d) : -1;

	memset(set, 0, 1024);
	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != self && fd < 1024)
			set[fd] = 1;
	}
	if (d)
		closedir(d);
}

static int devnull(void)
{
	static int fd = -1;

	if (fd < 0 && (fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		abort();
	if (!handler_err && !(handler_err = fdopen(dup(fd), "w")))
		abort();
	return fd;
}

/* The handler's receive() and parse() of what arrives on @conn; regions found (0: refused). */
static unsigned handler_read(int conn, size_t cap, struct region *r)
{
	static char msg[MAX_MSG];
	/* Static: what the handler stored survives its longjmp(). */
	static unsigned n;
	static int fd;
	size_t len;

	n = 0;
	fd = -1;
	json_set_alloc_funcs(jmalloc, jfree);
	if (!setjmp(handler_jmp)) {
		len = receive(conn, msg, cap, &fd);
		depth.received++;
		n = parse(msg, len, file_size, r);
		depth.parsed++;
	}
	jfree_all();
	json_set_alloc_funcs(malloc, free);
	if (fd >= 0)
		close(fd);
	return n;
}

/* What parse() accepted must be safe to serve from. */
static void check_regions(const struct region *r, unsigned n)
{
	if (n > MAX_REGIONS)
		fuzz_fail("parse() returned too many regions");
	for (unsigned i = 0; i < n; i++) {
		if (!r[i].size || (r[i].base | r[i].size | r[i].offset) % PAGE ||
		    r[i].size > file_size || r[i].offset > file_size - r[i].size ||
		    r[i].base + r[i].size < r[i].base)
			fuzz_fail("parse() accepted a region that is empty, unaligned or beyond "
				  "the file");
		for (unsigned k = 0; k < i; k++)
			if (r[i].base < r[k].base + r[k].size && r[k].base < r[i].base + r[i].size)
				fuzz_fail("parse() accepted overlapping regions");
	}
}

/* One fault to serve(); setjmp() in a frame of its own, so nothing of the caller is clobbered. */
static void handler_fault(const struct region *r, unsigned n, uint64_t addr)
{
	fault_page = addr & ~(PAGE - 1);
	copy_calls = 0;
	if (!setjmp(handler_jmp))
		depth.served += !serve(-1, r, n, file_img, addr);
}

static void handler_serve(const struct hdr *h, const struct region *r, unsigned n)
{
	for (unsigned f = 0; f < 4; f++) {
		const uint8_t *p = h->fault[f];
		uint64_t off = p[1] | (uint64_t)p[2] << 8 | (uint64_t)p[3] << 16;

		if (p[0] == 0xff) /* anywhere: likely outside every region */
			handler_fault(r, n, off << 12 | p[1]);
		else
			handler_fault(r, n, r[p[0] % n].base + off % r[p[0] % n].size);
	}
}

/* Part 1: the message to the handler, in chunks, with or without the fd. */
static void to_handler(const struct hdr *h, const uint8_t *msg, size_t len)
{
	static uint8_t before[1024];
	struct region r[MAX_REGIONS];
	size_t cut[5] = {0, 0, 0, 0, len};
	int sv[2];
	unsigned n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	for (unsigned i = 0; i < 3; i++)
		cut[i + 1] = len * h->cut[i] / 256;
	for (unsigned i = 1; i < 4; i++) /* in order, as the message is */
		if (cut[i] < cut[i - 1])
			cut[i] = cut[i - 1];
	for (unsigned i = 0, sent = 0; i < 4; i++) {
		bool fd = sent < 3 && (h->flags & (2u << sent));

		if (cut[i + 1] == cut[i])
			continue;
		/* The whole message fits the socket's buffer: no reader needed yet. */
		if (snap_uffd_send(sv[0], (const char *)msg + cut[i], cut[i + 1] - cut[i],
				   fd ? devnull() : -1))
			fuzz_fail("snap_uffd_send to a live socket failed");
		sent++;
	}
	close(sv[0]);
	/* Two fds attached: the handler refuses the second, which it never closes. */
	open_fds(before);
	n = handler_read(sv[1], h->flags & 1 ? 64 : MAX_MSG, r);
	close_new_fds(before);
	close(sv[1]);
	if (!n)
		return;
	check_regions(r, n);
	handler_serve(h, r, n);
}

/* Part 2: ember's sender to a handler that hung up, and its argument checks. */
static void ember_side(const struct hdr *h, const uint8_t *msg, size_t len)
{
	struct snap_uffd_region reg[2];
	char longpath[200], *err;
	const char *path;
	size_t errlen = h->errlen % 130;
	int ret, sv[2];

	if ((h->flags & 16) && len) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			abort();
		if (h->nr & 1)
			close(sv[1]);
		else
			shutdown(sv[1], SHUT_RD);
		if (snap_uffd_send(sv[0], (const char *)msg, len, h->nr & 2 ? devnull() : -1) !=
		    -EPIPE)
			fuzz_fail("snap_uffd_send to a hung-up handler did not return -EPIPE");
		depth.epipe++;
		close(sv[0]);
		if (!(h->nr & 1))
			close(sv[1]);
	}
	reg[0] = (struct snap_uffd_region){le64_at(h->region), le64_at(h->region + 8),
					   le64_at(h->region + 16)};
	reg[1] = reg[0];
	reg[1].host_addr += reg[0].size;
	memset(longpath, 'u', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	/* Never a real path: with good regions it would make and register a userfaultfd. */
	path = h->path % 3 == 0 ? NULL : h->path % 3 == 1 ? "" : longpath;
	err = errlen ? malloc(errlen) : NULL; /* exactly as large: ASan sees an overrun */
	if (errlen && !err)
		abort();
	if (err)
		memset(err, 'x', errlen);
	ret = snap_uffd_handoff(path, reg, h->nr % 3, err, errlen);
	if (ret >= 0 || (err && (!memchr(err, 0, errlen) || (errlen > 1 && !err[0]))))
		fuzz_fail("snap_uffd_handoff accepted, or its error is not a NUL-terminated line");
	depth.ember_refused++;
	free(err);
}

/* Part 3: the real handoff; the handler must read back what ember sent. */
static char rt_dir[] = "/tmp/ember-fuzz-uffd-XXXXXX";
static char rt_sock[64];
static int rt_lsn = -1;
static uint8_t *rt_arena;
#define ARENA_PAGES 64u

static void rt_cleanup(void)
{
	if (rt_lsn >= 0) {
		close(rt_lsn);
		unlink(rt_sock);
		rmdir(rt_dir);
	}
}

static bool rt_setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct snap_uffd_region probe;
	char err[200];
	int ret;

	if (rt_lsn >= 0 || depth.uffd_errno)
		return rt_lsn >= 0;
	/* Mapped, never touched: a fault on it would wait for a handler for ever. */
	rt_arena = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rt_arena == MAP_FAILED || !mkdtemp(rt_dir))
		abort();
	probe = (struct snap_uffd_region){(uintptr_t)rt_arena, PAGE, 0};
	/* userfaultfd and registering come before connect: ENOENT means they worked. */
	ret = snap_uffd_handoff("/nonexistent/ember-fuzz-uffd", &probe, 1, err, sizeof(err));
	if (ret != -ENOENT) {
		depth.uffd_errno = ret < 0 ? -ret : EINVAL;
		rmdir(rt_dir);
		return false;
	}
	snprintf(rt_sock, sizeof(rt_sock), "%s/h.sock", rt_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", rt_sock);
	rt_lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rt_lsn < 0 || bind(rt_lsn, (struct sockaddr *)&sa, sizeof(sa)) || listen(rt_lsn, 4))
		abort();
	atexit(rt_cleanup);
	return true;
}

static void round_trip(const struct hdr *h)
{
	struct snap_uffd_region reg[2];
	struct region got[MAX_REGIONS];
	unsigned n = h->flags & 64 ? 2 : 1, k;
	uint64_t saved = file_size;
	char err[256];
	int uffd, conn;

	if (!rt_setup())
		return;
	reg[0] = (struct snap_uffd_region){(uintptr_t)rt_arena + (h->rt[0] % 16) * PAGE,
					   (1 + h->rt[1] % 16) * PAGE, (h->rt[2] % 64) * PAGE};
	reg[1] = (struct snap_uffd_region){reg[0].host_addr + reg[0].size + (h->rt[3] % 8) * PAGE,
					   (1 + h->rt[4] % 16) * PAGE, (h->rt[5] % 64) * PAGE};
	uffd = snap_uffd_handoff(rt_sock, reg, n, err, sizeof(err));
	if (uffd < 0)
		fuzz_fail("snap_uffd_handoff to a listening handler failed");
	conn = accept4(rt_lsn, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		abort();
	file_size = 128 * PAGE; /* room for every offset and size above */
	k = handler_read(conn, MAX_MSG, got);
	file_size = saved;
	close(conn);
	close(uffd); /* unregisters the arena */
	if (k != n)
		fuzz_fail("the handler read another number of regions than ember sent");
	for (unsigned i = 0; i < n; i++)
		if (got[i].base != reg[i].host_addr || got[i].size != reg[i].size ||
		    got[i].offset != reg[i].offset)
			fuzz_fail("the handler read other regions than ember sent");
	depth.round_trips++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hdr h = {0};
	const uint8_t *msg = data + (size < HDR_LEN ? size : HDR_LEN);
	size_t len = size < HDR_LEN ? 0 : size - HDR_LEN;

	memcpy(&h, data, size < HDR_LEN ? size : HDR_LEN);
	if (len > 32768)
		len = 32768; /* under the socket's buffer: the sender never waits for us */
	devnull();
	depth.inputs++;
	copy_mode = h.copy % 5;
	/* The seeds' regions fill the file exactly: one bit makes it a page short. */
	file_size = (1 + h.pages % FILE_PAGES) * PAGE;
	if (h.extra & 0x40 && file_size > PAGE)
		file_size -= PAGE;
	if (h.extra & 0x80)
		file_size += (h.extra & 0x3f) * 64u; /* a tail that is no whole page */
	to_handler(&h, msg, len);
	ember_side(&h, msg, len);
	if (h.flags & 32)
		round_trip(&h);
	return 0;
}

/* ---- built-in seeds ------------------------------------------------------------ */

#ifndef EMBER_LIBFUZZER
static void seed_add(struct fuzz_seed *s, unsigned *n, const char *name, const struct hdr *h,
		     const char *msg)
{
	size_t len = strlen(msg);

	s[*n] =
	    (struct fuzz_seed){.name = name, .data = malloc(HDR_LEN + len), .len = HDR_LEN + len};
	if (!s[*n].data)
		abort();
	memcpy(s[*n].data, h, HDR_LEN);
	memcpy(s[*n].data + HDR_LEN, msg, len);
	(*n)++;
}

static int fuzz_report(void)
{
	printf("fuzz_uffd: %zu inputs: %zu messages received, %zu parsed, %zu faults served "
	       "(%zu copies checked), %zu refused by the handler; ember: %zu refusals, %zu EPIPE, "
	       "%zu round trips",
	       depth.inputs, depth.received, depth.parsed, depth.served, depth.copies,
	       depth.handler_refused, depth.ember_refused, depth.epipe, depth.round_trips);
	if (depth.uffd_errno)
		printf(" (no userfaultfd here: %s)", strerror(depth.uffd_errno));
	printf("\n");
	return !depth.parsed || !depth.served || !depth.copies || !depth.handler_refused ||
	       !depth.ember_refused || !depth.epipe || (!depth.uffd_errno && !depth.round_trips);
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	/* What ember sends for a 6-page low and a 10-page high region (offsets in the file). */
	static const char two[] =
	    "[{\"base_host_virt_addr\":140230656098304,\"size\":24576,\"offset\":0,"
	    "\"page_size\":4096,\"page_size_kib\":4096},"
	    "{\"base_host_virt_addr\":140230657146880,\"size\":40960,\"offset\":24576,"
	    "\"page_size\":4096,\"page_size_kib\":4096}]";
	/* Firecracker before page_size: three fields. */
	static const char old[] = "[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":4096}]";
	/* The regions fill the 16-page file exactly. */
	struct hdr h = {.flags = 2 | 32 | 64, .pages = 15, .cut = {40, 128, 200}};
	unsigned n = 0;

	if (max < 5)
		abort();
	/* Faults in each region, one outside every region. */
	memcpy(h.fault, "\x00\x10\x20\x00\x01\x00\x50\x00\x01\x33\x00\x00\xff\x00\x00\x10", 16);
	h.rt[1] = 5;
	h.rt[4] = 9;
	seed_add(s, &n, "two-regions", &h, two);
	h = (struct hdr){.flags = 2 | 16, .copy = 3, .pages = 2, .nr = 1, .errlen = 40, .path = 2};
	memcpy(h.region, "\x00\x10\0\0\0\0\0\0\x00\x10\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24);
	seed_add(s, &n, "old-format", &h, old);
	/* Refusals: overlap, a second fd, and not JSON. */
	h = (struct hdr){
	    .flags = 2 | 4 | 16, .pages = 7, .cut = {10, 20, 30}, .nr = 2, .errlen = 12};
	memcpy(h.region, "\x01\x10\0\0\0\0\0\0\x00\x10\0\0\0\0\0\0\0\xf0\xff\xff\xff\xff\xff\x7f",
	       24);
	seed_add(s, &n, "overlap-two-fds", &h,
		 "[{\"base_host_virt_addr\":4096,\"size\":8192,\"offset\":0},"
		 "{\"base_host_virt_addr\":8192,\"size\":4096,\"offset\":0}]");
	h = (struct hdr){.flags = 2, .copy = 4, .extra = 0x81, .errlen = 1, .path = 1};
	seed_add(
	    s, &n, "page-size-small-buffer", &h,
	    "[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0,\"page_size\":2097152}]");
	h = (struct hdr){.flags = 1, .copy = 2, .pages = 1};
	seed_add(s, &n, "no-fd", &h, "[{\"base_host_virt_addr\":4096,\"size\":4096,\"offset\":0}]");
	return n;
}
#endif
