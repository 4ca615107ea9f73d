// SPDX-License-Identifier: Apache-2.0
/*
 * From a vm_config to a VM ready to run, shared by `ember run` and the API's
 * InstanceStart: validate the kernel and initrd before touching KVM (bad
 * input is a configuration error), build the VM, attach the disks, load the
 * images, set up the vCPUs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "loader.h"
#include "virtio_devs.h"

#define IMAGE_MAX_SIZE GiB(1) /* far above any kernel or initrd we boot */

struct image {
	const uint8_t *data;
	size_t len;
};

/* Maps a whole regular file read-only.  Returns 0 or -errno, message logged. */
static int image_map(const char *what, const char *path, struct image *img)
{
	const char *why;
	struct stat st;
	int fd, r = 0;

	img->data = NULL;
	img->len = 0;
	/* Never blocks: a FIFO is refused, not waited on. */
	fd = file_open_input(path, false, false, &why);
	if (fd < 0) {
		log_err("%s %s: %s", what, path, why);
		return fd;
	}
	if (fstat(fd, &st)) {
		r = -errno;
		log_err("%s %s: %s", what, path, strerror(errno));
	} else if (st.st_size == 0 || (uint64_t)st.st_size > IMAGE_MAX_SIZE) {
		r = -EINVAL;
		log_err("%s %s: size %lld is empty or too large", what, path,
			(long long)st.st_size);
	} else {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			r = -errno;
			log_err("%s %s: %s", what, path, strerror(errno));
		} else {
			img->data = p;
			img->len = (size_t)st.st_size;
		}
	}
	close(fd);
	return r;
}

static void image_unmap(struct image *img)
{
	if (img->data)
		munmap((void *)img->data, img->len);
	img->data = NULL;
}

static int check_host_memory(uint64_t mem_mib)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t host_mib = pages > 0 && page > 0 ? ((uint64_t)pages * (uint64_t)page) >> 20 : 0;

	if (host_mib && mem_mib > host_mib) {
		log_err("--mem %llu MiB is more than this host has (%llu MiB)",
			(unsigned long long)mem_mib, (unsigned long long)host_mib);
		return -ENOMEM;
	}
	return 0;
}

int launch_prepare(struct vm *vm, const struct vm_config *cfg, uint64_t start_us)
{
	struct image kernel, initrd = {0};
	struct kernel_info ki;
	const char *why;
	int code = EXIT_CONFIG;

	if (check_host_memory(cfg->mem_mib))
		return EXIT_CONFIG;
	if (image_map("kernel", cfg->kernel, &kernel))
		return EXIT_CONFIG;
	if (kernel_parse(kernel.data, kernel.len, &ki, &why)) {
		log_err("kernel %s: %s", cfg->kernel, why);
		goto out_kernel;
	}
	if (cfg->initrd && image_map("initrd", cfg->initrd, &initrd))
		goto out_kernel;

	if (vm_create(vm, cfg, start_us)) {
		code = EXIT_VMM;
		goto out_initrd;
	}
	if (vm_add_devices(vm) ||
	    vm_load(vm, kernel.data, kernel.len, &ki, initrd.data, initrd.len))
		goto out_vm;
	/*
	 * The images now live in guest memory; keeping the file mappings
	 * would count every page the loader touched against ember's own
	 * footprint for the VM's whole life (~8 MiB for a vmlinux).
	 */
	image_unmap(&initrd);
	image_unmap(&kernel);
	if (vm_setup_vcpus(vm)) {
		code = EXIT_VMM;
		goto out_vm;
	}
	return 0;

out_vm:
	vm_destroy(vm);
out_initrd:
	image_unmap(&initrd);
out_kernel:
	image_unmap(&kernel);
	return code;
}
