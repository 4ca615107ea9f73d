// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for a snapshot's state file, the restore path that reads it:
 * raw bytes -> snap_parse -> snap_dev_config (every device's settings,
 * decoded by its own type, checked as the CLI checks them, a clone's
 * overrides applied) -> each transport state decoded and restored into a
 * live virtio-rng over guest memory that is the input again, its queue
 * kicked.  Because random bytes rarely carry a good CRC, every input is
 * parsed twice: as it is, and with its length and CRC fields made right.
 * The whole input also goes straight to the payload decoders (device
 * settings, transport, VM generation ID).  Any
 * crash, leak or sanitizer report is a bug; refusals are the point.
 *
 * Not reached: the KVM sections (snapshot.c hands them to the kernel, which
 * checks them) and the UART/i8042 payloads (snap_dev_restore needs a VM).
 *
 * libFuzzer (clang): the Makefile says how; `build/fuzz_snap --write-seeds
 * DIR` (the gcc build) stores the built-in seeds for it.
 * Without libFuzzer: `make fuzz` (gcc, ASan/UBSan; driver.h) runs the
 * built-in seeds below and 2000 mutations of each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ids.h>
#include <sys/epoll.h>

#include "device.h"
#include "snap_dev.h"
#include "snapfile.h"

#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

/* How deep the inputs went: make fuzz fails if the seeds stop reaching the end. */
static struct {
	size_t parsed, configured, restored, kicked;
} depth;

#define FUZZ_RAM (64u << 10)
/* Where the seeds put the entropy queue's rings (inside FUZZ_RAM). */
#define SEED_DESC  0x1000u
#define SEED_AVAIL 0x2000u
#define SEED_USED  0x3000u
#define SEED_QSIZE 16u

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * A virtio-rng made as the VM makes one, over guest memory filled with the
 * input, given @st as a restore would; then its queue runs once.
 */
static void fuzz_restore(const struct virtio_mmio_state *st, const uint8_t *data, size_t size)
{
	static uint8_t ram[FUZZ_RAM];
	struct guest_mem gm = {.nr_regions = 1};
	struct evloop loop = {.epfd = -1};
	const struct vdev_type *type = vdev_type_find("entropy");
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	struct vdev_env env = {.gm = &gm, .loop = &loop};
	char err[200];
	void *dev = NULL;

	for (size_t off = 0; off < FUZZ_RAM; off += size)
		memcpy(ram + off, data, size < FUZZ_RAM - off ? size : FUZZ_RAM - off);
	gm.region[0] = (struct gm_region){.gpa = 0, .size = FUZZ_RAM, .host = ram};
	if (!type || evloop_init(&loop) || type->parse(NULL, cfg, err, sizeof(err)) ||
	    type->create(&dev, cfg, &env))
		abort(); /* the rig, not the input: nothing to learn from going on */
	if (!virtio_mmio_restore(type->transport(dev), st, err, sizeof(err))) {
		struct epoll_event ev[8];
		int n;

		depth.restored++;
		virtio_mmio_kick(type->transport(dev), 0);
		for (int round = 0; round < 4 && (n = epoll_wait(loop.epfd, ev, 8, 0)) > 0; round++)
			for (int i = 0; i < n; i++) {
				struct ev_handler *h = ev[i].data.ptr;

				h->fn(h, ev[i].events);
				depth.kicked++;
			}
	}
	type->destroy(dev);
	evloop_destroy(&loop);
}

static void fuzz_image(const uint8_t *buf, size_t len, const uint8_t *data, size_t size)
{
	static struct vm_config cfg;
	const struct snap_net_override nets[] = {{"eth0", "tap9"}, {"nope", "tap8"}};
	/* 0, 1 or 2 overrides (the last one refused) by the input's bytes, not its
	 * size: inputs from one seed mostly share a size, and all would fail. */
	struct snap_load_req req = {
	    .nets = nets, .nr_nets = snap_crc64(0, data, size) % 3, .vsock_uds = "/run/v2.sock"};
	struct snap_image img;
	const struct snap_section *s;
	char err[256];
	unsigned nr;

	if (snap_parse(buf, len, &img, err, sizeof(err)))
		return;
	depth.parsed++;
	/* Without overrides, then with the ones the size picks (some refused):
	 * the seeds stay accepted whatever their size. */
	for (unsigned k = 0; k < 2; k++) {
		req.nr_nets = k ? size % 3 : 0;
		memset(&cfg, 0, sizeof(cfg));
		if (!snap_dev_config(&img, &req, &cfg, &nr, err, sizeof(err)))
			depth.configured++;
	}
	for (uint32_t pos = 0; (s = snap_next(&img, SNAP_SEC_VMGENID, &pos));) {
		struct vmgenid g;
		const char *why;

		vmgenid_load(s->data, s->len, &g, &why);
	}
	for (uint32_t pos = 0; (s = snap_next(&img, SNAP_SEC_DEV_MMIO, &pos));) {
		struct virtio_mmio_state st;
		const char *why;

		if (s->len >= 6 &&
		    !virtio_mmio_state_load(s->data, s->len, le32_at((const uint8_t *)s->data + 2),
					    &st, &why))
			fuzz_restore(&st, data, size);
	}
	snap_image_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdev_config c;
	struct virtio_mmio_state st;
	const char *why;
	char err[256];

	log_set_level(LOG_ERROR);
	fuzz_image(data, size, data, size);
	if (size >= SNAP_HDR_SIZE + SNAP_CRC_SIZE) {
		uint8_t *fixed = malloc(size);

		if (!fixed)
			return 0;
		memcpy(fixed, data, size);
		for (unsigned i = 0; i < 8; i++) {
			fixed[24 + i] = (uint8_t)((uint64_t)size >> (8 * i));
			fixed[size - 8 + i] =
			    (uint8_t)(snap_crc64(0, fixed, size - SNAP_CRC_SIZE) >> (8 * i));
		}
		fuzz_image(fixed, size, data, size);
		free(fixed);
	}
	vdev_state_load(data, size, &c, err, sizeof(err));
	{
		struct vmgenid g;

		vmgenid_load(data, size, &g, &why);
	}
	if (size >= 6 && !virtio_mmio_state_load(data, size, le32_at(data + 2), &st, &why))
		fuzz_restore(&st, data, size);
	return 0;
}

#ifndef EMBER_LIBFUZZER
/* ---- built-in seeds: what ember itself writes ---------------------------------- */

static void seed_add(struct fuzz_seed *s, unsigned *n, const char *name, struct pw *w)
{
	fuzz_seed_add(s, n, name, w->buf, w->len);
	pw_free(w);
}

/* The entropy device's transport as a running guest leaves it. */
static void seed_mmio(struct pw *w, uint32_t device_id)
{
	struct virtio_mmio_state st = {.status = 0xf, .activated = true};

	st.driver_features = 1ull << 32; /* VIRTIO_F_VERSION_1 */
	st.vq[0] = (struct virtq){.desc = SEED_DESC,
				  .avail = SEED_AVAIL,
				  .used = SEED_USED,
				  .size = SEED_QSIZE,
				  .ready = true,
				  .last_avail = 3,
				  .used_idx = 3};
	virtio_mmio_state_save(&st, device_id, w);
}

static int fuzz_report(void)
{
	printf("fuzz_snap: %zu images parsed, %zu device sets accepted, %zu transports "
	       "restored, %zu event handler runs\n",
	       depth.parsed, depth.configured, depth.restored, depth.kicked);
	return !depth.configured || !depth.restored || !depth.kicked;
}

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	static const struct {
		const char *type, *spec;
		uint32_t device_id;
	} devs[] = {
	    {"block", "/img/root.ext4,root,id=rootfs", VIRTIO_ID_BLOCK},
	    {"block", "/img/data,ro,id=data,engine=io_uring", VIRTIO_ID_BLOCK},
	    {"net", "tap=tap0,mac=02:00:00:00:00:01,id=eth0", VIRTIO_ID_NET},
	    {"vsock", "cid=3,uds=/run/v.sock", VIRTIO_ID_VSOCK},
	    {"entropy", NULL, VIRTIO_ID_RNG},
	};
	struct snap_writer sw;
	const uint8_t *img;
	size_t len;
	unsigned n = 0;
	struct pw w;

	if (max < 3 || snap_w_begin(&sw, 0))
		abort();
	for (unsigned i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		const struct vdev_type *t = vdev_type_find(devs[i].type);
		_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
		char err[200];

		if (!t || t->parse(devs[i].spec, cfg, err, sizeof(err)))
			abort();
		if (t->complete)
			t->complete(cfg, 0);
		pw_init(&w);
		vdev_state_save(t, cfg, &w);
		if (w.err || snap_w_section(&sw, SNAP_SEC_DEVICE, i, w.buf, w.len))
			abort();
		if (!strcmp(devs[i].type, "entropy")) /* also alone: the decoder's own seed */
			seed_add(s, &n, "device-entropy", &w);
		else
			pw_free(&w);
		pw_init(&w);
		seed_mmio(&w, devs[i].device_id);
		if (w.err || snap_w_section(&sw, SNAP_SEC_DEV_MMIO, i, w.buf, w.len))
			abort();
		pw_free(&w);
	}
	img = snap_w_bytes(&sw, &len);
	pw_init(&w);
	pw_bytes(&w, img, len);
	seed_add(s, &n, "state-five-devices", &w);
	snap_w_free(&sw);
	pw_init(&w);
	seed_mmio(&w, VIRTIO_ID_RNG);
	seed_add(s, &n, "mmio-entropy", &w);
	return n;
}

#endif
