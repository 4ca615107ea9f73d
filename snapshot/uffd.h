/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uffd.h - the "Uffd" memory backend of snapshot restore, ember's side.
 *
 * Instead of mapping the memory file, ember maps guest RAM anonymous and
 * empty, registers it with a userfaultfd and hands that descriptor to a page
 * fault handler process the user runs; the handler fills each page on first
 * touch (UFFDIO_COPY), from wherever it keeps the image.  The protocol is
 * Firecracker's, so handlers written for Firecracker work with ember:
 *
 *   1. The handler listens on a Unix stream socket (the backend's path).
 *   2. ember connects and sends ONE message: a JSON array with one object per
 *      guest RAM region, the userfaultfd attached as SCM_RIGHTS, then closes
 *      the connection.  Nothing else is ever said on the socket, either way.
 *
 *   [{"base_host_virt_addr":140230656098304,"size":134217728,"offset":0,
 *     "page_size":4096,"page_size_kib":4096}]
 *
 *   base_host_virt_addr  start of the region's mapping in ember (integer)
 *   size                 bytes in the region
 *   offset               where the region's bytes start in the memory file
 *   page_size            the region's page size in bytes
 *   page_size_kib        the same number, also in BYTES: Firecracker added
 *                        this field first and, despite the name, always
 *                        filled it with bytes (4096); it later added
 *                        page_size and still sends both, page_size_kib
 *                        deprecated.  Handlers of either kind find the field
 *                        they require; those of Firecracker before either
 *                        (only the first three fields) ignore the extras.
 *
 * The message is well under the 1 KiB some of Firecracker's example
 * handlers read in one recvmsg (ember has at most two RAM regions).
 *
 * The userfaultfd is registered for missing pages only, with no optional
 * feature (no UFFD_EVENT_REMOVE/UNMAP/FORK: with them every munmap or
 * madvise of guest RAM would wait until the handler has read the event).
 * Hence a handler sees UFFD_EVENT_PAGEFAULT only.  A page the balloon gave
 * back (madvise) is missing again: its next touch faults to the handler,
 * which serves the snapshot's page once more, as a file-backed restore
 * would read it.  If the handler dies, a vCPU touching a
 * missing page waits for ever, as under Firecracker: supervise it.
 *
 * snapshot/examples/uffd_handler.c (build/ember-uffd-handler) is a small
 * handler serving the pages from the memory file.
 */
#ifndef EMBER_UFFD_H
#define EMBER_UFFD_H

#include <stddef.h>
#include <stdint.h>

struct snap_uffd_region {
	uint64_t host_addr; /* start of the guest region's host mapping (anonymous, MAP_PRIVATE,
			     * page aligned) */
	uint64_t size;	    /* bytes, page multiple */
	uint64_t offset;    /* where the region's bytes start in the memory file */
	uint64_t page_size; /* 4096, or 2 MiB for hugetlbfs RAM (the handler copies whole
			     * pages); 0: 4096 */
};

/*
 * Creates a userfaultfd (syscall userfaultfd(O_CLOEXEC|O_NONBLOCK), falling
 * back to /dev/userfaultfd + USERFAULTFD_IOC_NEW), UFFDIO_API handshake,
 * registers every region with UFFDIO_REGISTER_MODE_MISSING, connects to the
 * handler's Unix stream socket @sock_path, and sends one message: the JSON
 * array of mappings in Firecracker's format with the uffd attached via
 * SCM_RIGHTS. Returns the uffd (>= 0; the caller keeps it open for the VM's
 * lifetime) or -errno with a one-line message in @err (nothing left open).
 *
 * Needs, besides the regions mapped: userfaultfd(2) (or open and ioctl on
 * /dev/userfaultfd), ioctl UFFDIO_API/UFFDIO_REGISTER, socket, connect,
 * sendmsg and close, for whoever writes the seccomp filter of the caller.
 */
int snap_uffd_handoff(const char *sock_path, const struct snap_uffd_region *r, unsigned n,
		      char *err, size_t errlen);

/*
 * The sending half of the above, public for the tests' fake ember: all
 * @len bytes of @msg on the stream socket @sock, @fd (unless < 0) attached
 * to the first byte as SCM_RIGHTS.  Returns 0 or -errno (-EPIPE, not
 * SIGPIPE, when the peer has hung up).
 */
int snap_uffd_send(int sock, const char *msg, size_t len, int fd);

#endif /* EMBER_UFFD_H */
