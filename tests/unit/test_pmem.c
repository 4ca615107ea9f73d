// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-pmem (virtio/pmem.c) through the device model, with a fake VMM
 * behind vdev_mem_ops: the file is mapped where the VMM says, rounded up to
 * 2 MiB, read-only when asked; the config space tells the guest where;
 * flushes reach the file and answer 0; malformed requests come back without
 * a status (or with an error status) and the device lives on; files the
 * device cannot use are refused with nothing left reserved or mapped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define RAM   0x400000
#define QSIZE 16
#define REQ   0x100000
#define STS   0x100100

static const uint64_t qbase[1] = {0x10000};

#include "devrig.h"
#include "pmem.h"

#define FAKE_GPA GiB(5)

/* The VMM's side, recorded. */
struct fake_vmm {
	unsigned reserves, maps, unmaps;
	uint64_t gpa, size;
	void *host;
	bool read_only;
	int fail_reserve;
};

static int fake_reserve(void *vmm, uint64_t size, uint64_t align, uint64_t *gpa)
{
	struct fake_vmm *f = vmm;

	f->reserves++;
	if (f->fail_reserve)
		return f->fail_reserve;
	assert_int_equal(align, MiB(2));
	if (!*gpa)
		*gpa = FAKE_GPA;
	f->gpa = *gpa;
	f->size = size;
	return 0;
}

static int fake_map(void *vmm, uint64_t gpa, void *host, uint64_t size, bool read_only)
{
	struct fake_vmm *f = vmm;

	assert_true(gpa == f->gpa && size == f->size);
	f->maps++;
	f->host = host;
	f->read_only = read_only;
	return 7;
}

static void fake_unmap(void *vmm, int slot)
{
	assert_int_equal(slot, 7);
	((struct fake_vmm *)vmm)->unmaps++;
}

static const struct vdev_mem_ops fake_ops = {
    .reserve = fake_reserve, .map = fake_map, .unmap = fake_unmap};

/* A temporary file of @len bytes, each byte @fill; its path in @path. */
static void make_file(char path[64], size_t len, int fill)
{
	char buf[4096];
	int fd;

	snprintf(path, 64, "/tmp/ember-test-pmem-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (size_t done = 0; done < len; done += sizeof(buf))
		assert_int_equal(
		    write(fd, buf, len - done < sizeof(buf) ? len - done : sizeof(buf)),
		    len - done < sizeof(buf) ? len - done : sizeof(buf));
	close(fd);
}

static uint32_t used_len(struct rig *r, unsigned nth)
{
	uint32_t v;

	assert_int_equal(gm_read(&r->gm, qbase[0] + 0x2000 + 4 + 8 * (uint64_t)nth + 4, &v, 4), 0);
	return le32toh(v);
}

/* A request of @type from REQ with its status at STS (preset to 0xaa bytes). */
static void request(struct rig *r, uint32_t type)
{
	const struct seg s[2] = {{REQ, 4, false}, {STS, 4, true}};
	uint32_t t = htole32(type);

	put(r, REQ, &t, 4);
	memset(at(r, STS), 0xaa, 4);
	add_chain(r, 0, s, 2);
}

static uint32_t status(struct rig *r)
{
	uint32_t v;

	memcpy(&v, at(r, STS), 4);
	return le32toh(v);
}

static void test_maps_and_flushes(void **state)
{
	struct fake_vmm f = {0};
	struct rig r = {.mops = &fake_ops, .vmm = &f};
	char path[64], spec[100], back[8];
	json_t *m;
	int fd;

	(void)state;
	make_file(path, MiB(3) + 100, 'a'); /* not a 2 MiB multiple: rounded up */
	snprintf(spec, sizeof(spec), "%s,id=p", path);
	rig_up(&r, "pmem", spec, NULL);
	assert_int_equal(f.reserves, 1);
	assert_int_equal(f.maps, 1);
	assert_true(f.size == MiB(4));
	assert_false(f.read_only);
	/* The config space: le64 start, le64 size. */
	assert_int_equal(rd32(&r, 0x100), (uint32_t)FAKE_GPA);
	assert_int_equal(rd32(&r, 0x104), (uint32_t)(FAKE_GPA >> 32));
	assert_int_equal(rd32(&r, 0x108), (uint32_t)MiB(4));
	assert_int_equal(rd32(&r, 0x10c), 0);
	/* The guest sees the file, and zeros past its end up to 2 MiB. */
	assert_int_equal(((uint8_t *)f.host)[0], 'a');
	assert_int_equal(((uint8_t *)f.host)[MiB(3) + 99], 'a');
	assert_int_equal(((uint8_t *)f.host)[MiB(4) - 1], 0);
	/* A guest write goes to the file (shared mapping); a flush answers 0. */
	memcpy(f.host, "written", 8);
	request(&r, 0);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 1);
	assert_int_equal(used_len(&r, 0), 4);
	assert_int_equal(status(&r), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, back, 8, 0), 8);
	close(fd);
	assert_string_equal(back, "written");
	m = r.type->metrics(r.dev);
	assert_int_equal(json_integer_value(json_object_get(m, "flush_count")), 1);
	json_decref(m);
	rig_down(&r);
	assert_int_equal(f.unmaps, 1);
	unlink(path);
}

static void test_bad_requests(void **state)
{
	struct fake_vmm f = {0};
	struct rig r = {.mops = &fake_ops, .vmm = &f};
	const struct seg only_w = {STS, 4, true};
	const struct seg only_r = {REQ, 4, false};
	const struct seg short_sts[2] = {{REQ, 4, false}, {STS, 2, true}};
	const struct seg short_req[2] = {{REQ, 2, false}, {STS, 4, true}};
	const struct seg outside[2] = {{RAM - 2, 4, false}, {STS, 4, true}};
	const struct seg sts_outside[2] = {{REQ, 4, false}, {RAM - 2, 4, true}};
	char path[64], spec[100];
	json_t *m;

	(void)state;
	make_file(path, MiB(2), 0);
	snprintf(spec, sizeof(spec), "%s", path);
	rig_up(&r, "pmem", spec, NULL);
	add_chain(&r, 0, &only_w, 1);
	add_chain(&r, 0, &only_r, 1);
	add_chain(&r, 0, short_sts, 2);
	add_chain(&r, 0, short_req, 2);
	add_chain(&r, 0, outside, 2);
	add_chain(&r, 0, sts_outside, 2);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(used_len(&r, i), 0);
	/* An unknown request type: an error status, not a flush. */
	request(&r, 1);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 7);
	assert_int_equal(used_len(&r, 6), 4);
	assert_int_not_equal(status(&r), 0);
	assert_int_equal(rd32(&r, VIRTIO_MMIO_STATUS), S_ALL); /* no NEEDS_RESET */
	/* The config space is the device's: a guest write changes nothing. */
	wr(&r, 0x100, 0);
	assert_int_equal(rd32(&r, 0x104), (uint32_t)(FAKE_GPA >> 32));
	/* ... and a good request still works. */
	request(&r, 0);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(used_count(&r, 0), 8);
	assert_int_equal(status(&r), 0);
	m = r.type->metrics(r.dev);
	assert_int_equal(json_integer_value(json_object_get(m, "bad_chains")), 7);
	assert_int_equal(json_integer_value(json_object_get(m, "flush_count")), 1);
	json_decref(m);
	rig_down(&r);
	unlink(path);
}

static void test_read_only(void **state)
{
	struct fake_vmm f = {0};
	struct rig r = {.mops = &fake_ops, .vmm = &f};
	char path[64], spec[100];

	(void)state;
	make_file(path, MiB(2), 'r');
	snprintf(spec, sizeof(spec), "%s,ro,root", path);
	rig_up(&r, "pmem", spec, NULL);
	assert_true(f.read_only);
	assert_int_equal(((uint8_t *)f.host)[5], 'r');
	/* The host mapping itself is read-only: mprotect cannot add write to a
	 * MAP_SHARED mapping of a file opened read-only. */
	assert_int_equal(mprotect(f.host, 4096, PROT_READ | PROT_WRITE), -1);
	request(&r, 0);
	wr(&r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(&r);
	assert_int_equal(status(&r), 0);
	assert_string_equal(r.type->cmdline(r.type->config(r.dev), NULL, 0), " root=/dev/pmem0 ro");
	rig_down(&r);
	unlink(path);
}

/* @spec's device must fail to create, with nothing left mapped. */
static void create_fails(const char *spec, struct fake_vmm *f, uint64_t gpa, uint64_t size)
{
	_Alignas(8) unsigned char cfg[VDEV_CONFIG_MAX] = {0};
	const struct vdev_type *t = vdev_type_find("pmem");
	struct guest_mem gm;
	struct evloop loop = {.epfd = epoll_create1(EPOLL_CLOEXEC)};
	const struct vdev_env env = {.gm = &gm, .loop = &loop, .mem = &fake_ops, .vmm = f};
	char err[100];
	void *dev = (void *)1;

	fake_gm_init(&gm, RAM, 0, 0);
	assert_int_equal(t->parse(spec, cfg, err, sizeof(err)), 0);
	((struct vpmem_config *)cfg)->gpa = gpa;
	((struct vpmem_config *)cfg)->size = size;
	assert_true(t->create(&dev, cfg, &env) < 0);
	assert_null(dev);
	assert_int_equal(f->maps, f->unmaps);
	close(loop.epfd);
	fake_gm_free(&gm);
}

static void test_refused_files(void **state)
{
	struct fake_vmm f = {0};
	char path[64], spec[100];

	(void)state;
	create_fails("/nonexistent/pmem.img", &f, 0, 0);
	assert_int_equal(f.reserves, 0);
	make_file(path, 0, 0); /* empty */
	create_fails(path, &f, 0, 0);
	assert_int_equal(f.reserves, 0);
	unlink(path);
	/* A restore whose file changed size since the snapshot. */
	make_file(path, MiB(2), 0);
	create_fails(path, &f, FAKE_GPA, MiB(4));
	assert_int_equal(f.reserves, 0);
	/* The VMM has no room. */
	f.fail_reserve = -ENOSPC;
	create_fails(path, &f, 0, 0);
	assert_int_equal(f.reserves, 1);
	assert_int_equal(f.maps, 0);
	/* A directory is not a file. */
	snprintf(spec, sizeof(spec), "/tmp");
	create_fails(spec, &f, 0, 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_maps_and_flushes),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_read_only),
	    cmocka_unit_test(test_refused_files),
	};
	return cmocka_run_group_tests_name("pmem", tests, NULL, NULL);
}
