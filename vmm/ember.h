/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ember.h - the one header every ember module includes.
 *
 * Holds what all modules share and nothing KVM-specific, so virtio/ and
 * api-socket/ can include it: logging, the guest-memory accessor and the
 * port/MMIO bus device interface.  Conventions: functions return 0 (or a
 * count) on success and -errno on failure; nothing a guest can reach aborts.
 */
#ifndef EMBER_H
#define EMBER_H

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define EMBER_VERSION "0.1.0"
/*
 * The Firecracker release whose API ember answers as (GET /version, GET /'s
 * vmm_version, the first line of `ember --version`): clients gate features
 * on it (Kata needs >= 0.21.1).  1.16.0 is the newest release whose request
 * and response shapes ember follows (its vsock_override, clock_realtime and
 * NIC mtu are there); ember also takes what 1.17.0-dev's swagger adds
 * (metrics emit_id and properties, snapshot-load huge_pages) but claims no
 * unreleased version.  What ember lacks is a 400 naming it, never a silent no-op.
 */
#define EMBER_FC_VERSION "1.16.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB(x)	      ((uint64_t)(x) << 10)
#define MiB(x)	      ((uint64_t)(x) << 20)
#define GiB(x)	      ((uint64_t)(x) << 30)

/* ---- logging (vmm/log.c) ------------------------------------------------ */

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg_at(enum log_level lvl, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_set_level(enum log_level lvl);
/*
 * Firecracker's logger options: every line names its level ("ember: INFO:
 * ..."), and/or where it was logged ("ember: [vm.c:123] ...").  Set before
 * threads start, or from the VMM thread while the others only read them.
 */
void log_set_format(bool show_level, bool show_origin);
/*
 * Firecracker's --module / the logger's "module": only lines from source
 * files under this path (e.g. "vmm/" or "virtio/blk") are written; errors
 * still reach the API's fault_message.  NULL or "": every line.  The prefix
 * is copied (at most API_MODULE_MAX - 1 bytes).
 */
void log_set_module(const char *prefix);
/* PUT /logger's level, format and (when given) module, as Firecracker applies them. */
struct api_logger;
void log_apply_logger(const struct api_logger *lg);

/*
 * One error channel: every error is reported with log_err().  A caller that
 * must also hand the reason to someone else (the API's fault_message) opens
 * a capture on its thread; the first error logged on that thread until
 * log_capture_end() is kept in it, without its "ember: error: " prefix.
 * Captures nest (the inner one sees the errors; the outer one does not).
 */
struct log_capture {
	char msg[256];
	struct log_capture *prev;
};
void log_capture_begin(struct log_capture *c);
void log_capture_end(struct log_capture *c);

#define log_msg(lvl, ...) log_msg_at(lvl, __FILE__, __LINE__, __VA_ARGS__)
#define log_err(...)	  log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	  log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * A guest can trigger a message on every exit; this keeps it to a burst of
 * @burst per @interval_ms, then one "suppressed N" line when the window opens.
 */
struct ratelimit {
	uint64_t window_start_ms;
	unsigned interval_ms, burst, printed, missed;
};
#define RATELIMIT_INIT(ms, n)                                                                      \
	{                                                                                          \
		.interval_ms = (ms), .burst = (n)                                                  \
	}
bool ratelimit_ok(struct ratelimit *rl);

#define log_ratelimited(rl, lvl, ...)                                                              \
	do {                                                                                       \
		if (ratelimit_ok(rl))                                                              \
			log_msg(lvl, __VA_ARGS__);                                                 \
	} while (0)

/* Little-endian fields of wire and file formats; the buffers need not be aligned. */
static inline void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* @clock in microseconds (CPU clocks too: CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID). */
uint64_t clock_us(clockid_t clock);
uint64_t time_now_us(void); /* clock_us(CLOCK_MONOTONIC) */

/*
 * Decimal digits only (no sign, spaces, suffix or base prefix), value in
 * [0, max]: 0, -EINVAL for a malformed string, -ERANGE above max.
 */
int str_to_u64(const char *s, uint64_t max, uint64_t *out);

/* ---- files the user names (vmm/files.c) ---------------------------------- */

/* A file by what it is, not by name: links to it are the same file. */
struct file_id {
	uint64_t dev, ino;
};

/* Output files: created, never truncated on open (file_open_output decides). */
#define FILE_OUTPUT_FLAGS (O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC)

/*
 * Opens an existing file to read (@write: and write) without ever
 * blocking on it: a regular file, or a block device with @blk_ok; the fd
 * returned blocks again.  -errno with *why naming the problem.
 */
int file_open_input(const char *path, bool write, bool blk_ok, const char **why);
/*
 * Creates or truncates an output file: a regular file that is none of
 * @keep[0..@n) (by device and inode).  A refused file is left untouched.
 */
int file_open_output(const char *path, const struct file_id *keep, unsigned n, const char **why);
/*
 * A stream the VMM writes as it goes (log, metrics, serial output): a
 * regular file, created or appended to, or a FIFO, which need not have a
 * reader yet.  Non-blocking: a write that would wait fails instead.
 */
int file_open_stream(const char *path, const char **why);
/* Whether @fd is the file @id. */
bool file_is(int fd, const struct file_id *id);
/*
 * The whole of the regular file @path, at most @max bytes, read without
 * ever blocking (a FIFO, socket, device or directory is refused, never
 * waited on): *buf (malloc()ed, NUL-terminated, *len bytes before it).
 * -errno and a message in @err that names @path (and @max if too large).
 * The one reader of every whole-file input: config, metadata, filters.
 */
int file_read_all(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen);
/*
 * A Unix socket path about to be bound: 0 if nothing is there, or only a
 * socket nobody listens on any more (a killed process's, now removed);
 * -EADDRINUSE if something still listens on it (binding over it would
 * take it away: a clone restored onto a live VM's vsock path); -EEXIST if
 * it is not a socket.
 */
int sock_path_claim(const char *path);

/* ---- guest memory (vmm/gm.c) -------------------------------------------- */

#define GM_MAX_REGIONS 4
#define GM_PAGE_SIZE   4096u
#define GM_HUGE_SIZE   (2ull << 20) /* hugetlbfs pages (machine-config huge_pages "2M") */

struct gm_region {
	uint64_t gpa;  /* guest-physical start */
	uint64_t size; /* bytes, page multiple */
	uint8_t *host; /* host mapping of the whole region */
	/*
	 * Diff snapshots: one bit per 4 KiB page that ember itself wrote
	 * (KVM's dirty log only sees the guest's writes).  NULL when the VM
	 * does not track dirty pages.
	 */
	uint64_t *dirty;
	/* MAP_SHARED (a memfd): gm_discard must take the pages out of the file. */
	bool shared;
	/* 2 MiB hugetlbfs pages: gm_discard can only drop whole ones. */
	bool hugetlb;
};

struct guest_mem {
	struct gm_region region[GM_MAX_REGIONS];
	unsigned nr_regions;
};

/*
 * Every guest address goes through these.  A range [gpa, gpa+len) is valid
 * only if it lies entirely inside one region; the arithmetic cannot wrap.
 * len == 0 is valid iff gpa is inside a region (or one past its end).
 */
bool gm_range_ok(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* gm_ptr for a range the caller is about to write: marks its pages dirty. */
void *gm_ptr_w(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);
uint64_t gm_total(const struct guest_mem *gm);
/* Marks [gpa, gpa+len) dirty when the VM tracks dirty pages (no-op otherwise). */
void gm_mark_dirty(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/*
 * Gives the pages [gpa, gpa+len) back to the host (balloon, free page
 * reporting): afterwards they read as zero on a fresh VM, or as the snapshot's
 * content on a restored one, and are marked dirty.  Page-aligned and inside
 * one region: 0, -EINVAL (unaligned or empty), -EFAULT (outside RAM), -errno.
 */
int gm_discard(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* ---- port I/O and MMIO bus (vmm/bus.c) ---------------------------------- */

/*
 * A device on the bus.  @off is relative to the device's base; @len is 1, 2,
 * 4 or 8.  Reads must fill all of @data.  Callbacks run on vCPU threads, so a
 * device that is also touched from the VMM thread takes its own lock.
 */
struct bus_dev_ops {
	void (*read)(void *dev, uint64_t off, uint8_t *data, uint32_t len);
	void (*write)(void *dev, uint64_t off, const uint8_t *data, uint32_t len);
};

#define BUS_MAX_DEVS 32

struct bus_dev {
	uint64_t base, len;
	const struct bus_dev_ops *ops;
	void *dev;
};

struct bus {
	const char *name; /* "pio" / "mmio", for messages */
	struct bus_dev devs[BUS_MAX_DEVS];
	unsigned nr_devs;
};

void bus_init(struct bus *bus, const char *name);
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_dev_ops *ops,
		 void *dev);
/* Returns false when nothing is mapped there (reads then return all-ones). */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif /* EMBER_H */
