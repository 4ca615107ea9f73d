/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapfile.h - ember's snapshot state file: a versioned, checksummed
 * container of typed sections.  Byte-level only: KVM structures, device
 * registers and settings are opaque payloads the caller packs and unpacks,
 * so this module needs no KVM header and is unit-tested without /dev/kvm.
 *
 * Layout (every integer little-endian):
 *
 *   offset  size  header
 *        0     8  magic "EMBERSNP"
 *        8     4  format version (SNAP_VERSION)
 *       12     4  architecture (SNAP_ARCH_*: the writer's; a reader refuses others')
 *       16     4  flags (SNAP_F_*; unknown bits are refused)
 *       20     4  section count
 *       24     8  total file length, CRC included
 *       32        sections, each:
 *                   4  type (enum snap_section_type)
 *                   4  id   (vCPU index, device index, region index, or 0)
 *                   8  payload length L
 *                   L  payload, then zero padding to a multiple of 8 bytes
 *                      (so payloads are 8-byte aligned in the reader's buffer
 *                      and may be read in place)
 *   total-8    8  CRC-64/XZ of bytes [0, total-8)
 *
 * CRC-64/XZ (a.k.a. CRC-64/GO-ECMA): the ECMA-182 polynomial, reflected,
 * init and xorout all ones; check value of "123456789" 0x995dc9bbdf1939fa.
 * It catches every burst up to 64 bits and any torn or short write; it is
 * not a MAC: a state file must come from a trusted place (the file names
 * arrive over the API socket, which only the control plane can reach).
 *
 * The reader checks, in this order and before it uses anything: size cap
 * (from fstat, before reading a byte), magic, version, architecture, total
 * length == file size, CRC, flags, then every section's bounds and the
 * count.  Errors are one line naming what is wrong, for the 400 answer.
 *
 * The guest RAM image is a separate file (snap_mem_check() vets it).
 */
#ifndef EMBER_SNAPFILE_H
#define EMBER_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC	  "EMBERSNP" /* 8 bytes, no NUL in the file */
#define SNAP_VERSION	  2u	     /* 2: devices in their own encodings (virtio/device.h) */
#define SNAP_ARCH_X86_64  1u
#define SNAP_ARCH_AARCH64 2u
/* The architecture this ember writes and reads (KVM state is per architecture). */
#if defined(__aarch64__)
#define SNAP_ARCH_HOST SNAP_ARCH_AARCH64
#else
#define SNAP_ARCH_HOST SNAP_ARCH_X86_64
#endif
#define SNAP_HDR_SIZE	  32u
#define SNAP_SEC_HDR_SIZE 16u
#define SNAP_CRC_SIZE	  8u
#define SNAP_ALIGN	  8u
#define SNAP_MAX_SECTIONS 4096u		/* 32 vCPUs x ~12 + devices: far below */
#define SNAP_DEFAULT_MAX  (64ull << 20) /* a sane cap for snap_read_fd's max_size */
#define SNAP_MEM_PAGE	  4096u

/* Header flags. */
#define SNAP_F_DIFF  0x1u /* the memory file holds only pages dirtied since the last snapshot */
#define SNAP_F_KNOWN SNAP_F_DIFF

/*
 * Section types.  Payloads are defined by whoever writes them (the VMM);
 * the comments say what belongs in each and what the id means.  Numbers are
 * part of the file format: never renumber, only add.  Writers should emit
 * devices before the VM-wide interrupt state and vCPUs (the order the issue
 * asks for, so no interrupt raised by a device while saving is lost); the
 * reader does not depend on order.
 */
enum snap_section_type {
	/* ---- VM-wide, id 0 unless stated ---- */
	SNAP_SEC_MACHINE = 0x001,      /* u32 vCPUs, u32 regions, u64 MiB (snapshot.c) */
	SNAP_SEC_MEM_REGION = 0x002,   /* id = region index: u64 gpa, size, offset in the file */
	SNAP_SEC_CPU_TEMPLATE = 0x003, /* the CPU template booted with, versioned (snap_cpu.h) */
	SNAP_SEC_MEM_PAGES = 0x004,    /* u32 version 1, u64 guest RAM page size; absent: 4 KiB */
	SNAP_SEC_PIC_MASTER = 0x010,   /* KVM_GET_IRQCHIP, chip 0 (struct kvm_pic_state) */
	SNAP_SEC_PIC_SLAVE = 0x011,    /* chip 1 */
	SNAP_SEC_IOAPIC = 0x012,       /* chip 2 (struct kvm_ioapic_state) */
	SNAP_SEC_PIT = 0x013,	       /* KVM_GET_PIT2 (struct kvm_pit_state2) */
	SNAP_SEC_CLOCK = 0x014,	       /* KVM_GET_CLOCK (struct kvm_clock_data) */
	/* aarch64's vGICv3 (snapshot/arch/aarch64/snap_kvm.c), each a snap_regs.h list */
	SNAP_SEC_GIC_DIST = 0x020,	/* distributor registers: ids offsets, 4-byte values */
	SNAP_SEC_GIC_SPI_LEVEL = 0x021, /* SPIs' line levels: ids LEVEL_INFO attributes, 4 bytes */

	/* ---- per vCPU, id = vCPU index ---- */
	SNAP_SEC_VCPU_REGS = 0x100,	 /* struct kvm_regs */
	SNAP_SEC_VCPU_SREGS = 0x101,	 /* struct kvm_sregs (or sregs2) */
	SNAP_SEC_VCPU_FPU = 0x102,	 /* struct kvm_fpu, when XSAVE is unavailable */
	SNAP_SEC_VCPU_XSAVE = 0x103,	 /* struct kvm_xsave (KVM_GET_XSAVE2 size) */
	SNAP_SEC_VCPU_XCRS = 0x104,	 /* struct kvm_xcrs */
	SNAP_SEC_VCPU_LAPIC = 0x105,	 /* struct kvm_lapic_state */
	SNAP_SEC_VCPU_MSRS = 0x106,	 /* struct kvm_msrs header + entries */
	SNAP_SEC_VCPU_MP_STATE = 0x107,	 /* struct kvm_mp_state */
	SNAP_SEC_VCPU_EVENTS = 0x108,	 /* struct kvm_vcpu_events */
	SNAP_SEC_VCPU_DEBUGREGS = 0x109, /* struct kvm_debugregs */
	SNAP_SEC_VCPU_CPUID = 0x10a,	 /* struct kvm_cpuid2 header + entries */
	SNAP_SEC_VCPU_TSC_KHZ = 0x10b,	 /* u32 KVM_GET_TSC_KHZ, to refuse/scale on another host */
	/* aarch64 */
	SNAP_SEC_VCPU_ONE_REGS = 0x10c, /* every KVM_GET_REG_LIST register (snap_regs.h) */
	SNAP_SEC_VCPU_ARM_MP = 0x10d,	/* u32 version 1, u32 KVM mp_state */
	SNAP_SEC_GIC_REDIST = 0x10e,	/* the vCPU's redistributor: ids offsets, 4 bytes */
	SNAP_SEC_GIC_CPU = 0x10f,	/* its ICC_* registers: ids sysreg encodings, 8 bytes */
	SNAP_SEC_GIC_PPI_LEVEL = 0x110, /* its PPIs' line levels, as SNAP_SEC_GIC_SPI_LEVEL */

	/* ---- devices, id = device index on the MMIO bus (0 for legacy ones) ---- */
	SNAP_SEC_DEV_MMIO = 0x200, /* virtio-mmio transport state (virtio/mmio_persist.c) */
	/* 0x201-0x204: version 1's raw device structs; never reused. */
	SNAP_SEC_DEVICE = 0x205,  /* a device's settings: type name, its state version, its
				   * own encoding (vdev_state_save, virtio/device.h) */
	SNAP_SEC_SERIAL = 0x280,  /* 16550 registers, versioned (snap_dev.c) */
	SNAP_SEC_I8042 = 0x281,	  /* command byte and pending command, versioned */
	SNAP_SEC_VMGENID = 0x282, /* where the VM generation ID is and its GSI (vmgenid.h);
				   * optional: absent when the guest had no ACPI tables */
};

/* Name for messages ("vcpu-regs"); "unknown" for anything else. */
const char *snap_section_name(uint32_t type);

/*
 * Formats a one-line message into @err (with ": strerror(-r)" appended
 * when @r < 0) and returns @r, or -EINVAL when @r is not an error: the
 * KVM state code's messages for the API's 400 answer.
 */
int snap_fail_errno(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* CRC-64/XZ, incremental: crc = 0 to start, feed the previous result on. */
uint64_t snap_crc64(uint64_t crc, const void *buf, size_t len);

/* ---- writer --------------------------------------------------------------- */

/*
 * Sections accumulate in one malloc'ed buffer; the header and CRC are filled
 * in when the image is sealed (snap_w_bytes or snap_w_finish), after which
 * no section can be added.  An allocation failure is sticky: later calls
 * return the same -ENOMEM, so callers may check once at the end.
 */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	uint32_t flags;
	uint32_t arch; /* SNAP_ARCH_HOST from snap_w_begin (tests may set another) */
	uint32_t nr_sections;
	int err;
	int sealed;
};

int snap_w_begin(struct snap_writer *w, uint32_t flags);
int snap_w_section(struct snap_writer *w, uint32_t type, uint32_t id, const void *data,
		   uint64_t len);
/* Seals and returns the whole image (valid until snap_w_free), or NULL on error. */
const uint8_t *snap_w_bytes(struct snap_writer *w, size_t *len);
/*
 * Seals, writes everything to @fd from its current offset (retrying short
 * writes and EINTR) and fsyncs it.  0 or -errno (-ENOSPC, -EFBIG, -EIO...);
 * on failure the caller removes the partial file.  A process hitting
 * RLIMIT_FSIZE gets SIGXFSZ, which kills it unless ignored: the VMM must set
 * it to SIG_IGN so the write fails with -EFBIG instead.
 */
int snap_w_finish(struct snap_writer *w, int fd);
void snap_w_free(struct snap_writer *w);

/* ---- reader --------------------------------------------------------------- */

struct snap_section {
	uint32_t type, id;
	uint64_t len;
	const uint8_t *data; /* inside snap_image.buf, 8-byte aligned */
};

struct snap_image {
	uint8_t *buf; /* the whole file */
	uint64_t size;
	uint32_t version, arch, flags;
	uint32_t nr_sections;
	struct snap_section *sections; /* in file order */
};

/*
 * Reads and validates a whole state file.  @max_size: files larger than
 * this are refused from fstat, before any read or allocation.  0, or -EINVAL
 * (bad content), -EFBIG (over the cap), -ENOMEM or the read's -errno, with a
 * one-line message in @err.  On failure @img is left empty (safe to free).
 */
int snap_read_fd(int fd, uint64_t max_size, struct snap_image *img, char *err, size_t errlen);
/* The same checks on an in-memory image (copied); for tests and fuzzing. */
int snap_parse(const void *buf, size_t len, struct snap_image *img, char *err, size_t errlen);
/* snap_parse as an ember built for @arch would: the other architecture's refusal, host-tested. */
int snap_parse_arch(const void *buf, size_t len, uint32_t arch, struct snap_image *img, char *err,
		    size_t errlen);
/* "x86_64", "aarch64", or "unknown". */
const char *snap_arch_name(uint32_t arch);
void snap_image_free(struct snap_image *img);
/*
 * --describe-snapshot: the format version in a state file's first @len
 * bytes (at least 12), whatever this ember can read, as Firecracker prints
 * any snapshot's version.  0, or -EINVAL with a message for a non-state file.
 */
int snap_describe(const void *head, size_t len, uint32_t *version, char *err, size_t errlen);

/* The section (@type, @id): 0 with *data and *len set, or -ENOENT. */
int snap_find(const struct snap_image *img, uint32_t type, uint32_t id, const void **data,
	      uint64_t *len);
/*
 * Iteration over one type: start with *pos = 0; returns the next section of
 * @type at or after *pos and advances *pos past it, or NULL at the end.
 * @type SNAP_SEC_ANY matches every section.
 */
/*
 * 0 if every section of @part is in @whole with the same bytes and @whole
 * has no device section @part lacks, else -ESTALE: a migration's early
 * configuration (snap_config_build) against its final state.
 */
int snap_sections_within(const struct snap_image *part, const struct snap_image *whole);
#define SNAP_SEC_ANY UINT32_MAX
const struct snap_section *snap_next(const struct snap_image *img, uint32_t type, uint32_t *pos);

/*
 * The guest memory file for a restore: a regular file of at least @need
 * bytes (from fstat, so before any mmap that could SIGBUS on a short file).
 * 0 or -EINVAL with a message.
 */
int snap_mem_check(int fd, uint64_t need, char *err, size_t errlen);

#endif /* EMBER_SNAPFILE_H */
