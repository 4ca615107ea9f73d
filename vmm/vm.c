// SPDX-License-Identifier: Apache-2.0
/*
 * VM lifecycle: the KVM VM, guest RAM, vCPUs, the serial console and the boot
 * timer, then the VMM thread's loop until the guest resets or crashes.  What
 * differs between architectures (irqchip, RAM map, platform devices, boot
 * protocol) is behind arch.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "console.h"
#include "hugetlb.h"
#include "seccomp.h"
#include "virtio_devs.h"
#include "vm.h"

static int check_caps(int kvm_fd, const struct kvm_cap_req *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (kvm_ioctl(kvm_fd, KVM_CHECK_EXTENSION, (void *)req[i].cap) <= 0) {
			log_err("KVM lacks KVM_CAP_%s", req[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int check_kvm(int kvm_fd)
{
	static const struct kvm_cap_req required[] = {
	    {KVM_CAP_USER_MEMORY, "USER_MEMORY"},
	    {KVM_CAP_IRQFD, "IRQFD"},
	    {KVM_CAP_IOEVENTFD, "IOEVENTFD"},
	    {KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT"},
	};
	int v = kvm_ioctl(kvm_fd, KVM_GET_API_VERSION, NULL);

	if (v != KVM_API_VERSION) {
		log_err("KVM API version %d, need %d", v, KVM_API_VERSION);
		return -ENOTSUP;
	}
	int r = check_caps(kvm_fd, required, ARRAY_SIZE(required));

	return r ? r : check_caps(kvm_fd, arch_kvm_caps, arch_nr_kvm_caps);
}

/*
 * kvm-pvm (pagetable-based virtual machine) offers /dev/kvm without hardware
 * virtualisation: it runs the guest kernel in ring 3 and emulates what traps,
 * which works only for kernels built to run that way (CONFIG_PVM_GUEST).  A
 * stock kernel gets through its first instructions and dies on one KVM cannot
 * emulate (xrstor, int3) seconds later.  Its ioctls look like kvm-amd's and
 * kvm-intel's (same CPUID, same capabilities); the module's name in sysfs is
 * what tells it apart.  Inside a jail sysfs is not mounted: then only the
 * emulation failure's explanation (vcpu.c) is left.
 */
#define KVM_PVM_SYSFS "/sys/module/kvm_pvm"

static int check_kvm_pvm(struct vm *vm)
{
	if (access(KVM_PVM_SYSFS, F_OK))
		return 0;
	vm->kvm_pvm = true;
	if (vm->cfg->allow_kvm_pvm) {
		log_warn("/dev/kvm is kvm-pvm: --allow-kvm-pvm given, so the guest kernel had "
			 "better be PVM-enabled");
		return 0;
	}
	log_err("/dev/kvm is kvm-pvm (" KVM_PVM_SYSFS "), which runs only PVM-enabled guest "
		"kernels (CONFIG_PVM_GUEST); a stock kernel dies early in boot. Boot a "
		"PVM-enabled kernel with --allow-kvm-pvm, or use a host with hardware KVM "
		"(make run and make test use tests/nested then)");
	return -ENOTSUP;
}

int vm_set_slot(int vm_fd, unsigned slot, const struct gm_region *g, bool dirty_log)
{
	struct kvm_userspace_memory_region kr = {
	    .slot = slot,
	    .flags = dirty_log ? KVM_MEM_LOG_DIRTY_PAGES : 0,
	    .guest_phys_addr = g->gpa,
	    .memory_size = g->size,
	    .userspace_addr = (uintptr_t)g->host,
	};

	return kvm_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &kr);
}

/*
 * One region of guest RAM: @len bytes of @fd from @off, or anonymous
 * (@fd < 0).  MAP_NORESERVE: a guest pays only for pages it touches.  A
 * restore maps the memory file privately instead: clones of one snapshot
 * share its page cache until they write.  2 MiB hugetlbfs RAM is reserved
 * whole instead (hugetlb.c), a private map of it too: a fork child's
 * copies on write.
 */
static void *map_ram(uint64_t len, int fd, uint64_t off, bool huge, bool shared)
{
	if (huge)
		return hugetlb_map(len, fd, off, shared);
	if (fd < 0)
		return mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return mmap(NULL, len, PROT_READ | PROT_WRITE,
		    (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_NORESERVE, fd, (off_t)off);
}

/*
 * RAM's regions: mapped and given their slots here, or already in vm->mem,
 * taken from what a pooled fork child made ahead (take_pre).
 */
static int setup_memory(struct vm *vm)
{
	uint64_t start[GM_MAX_REGIONS], len[GM_MAX_REGIONS];
	unsigned n = arch_mem_regions(vm->cfg->mem_mib << 20, start, len);
	const struct vm_mem_source *src = vm->cfg->mem_src;
	uint64_t file_off = 0;
	bool huge = vm->cfg->huge_2m, shared;

	/*
	 * A booted VM's RAM is one memfd (on 2 MiB pages for huge_pages)
	 * mapped MAP_SHARED, so a live fork (fork.c) can hand it to its
	 * children and freeze it as their copy-on-write base; nothing else sees
	 * the difference from anonymous memory (the balloon punches its pages
	 * out: gm_discard).  Where the memfd cannot be had, e.g. under the
	 * jailer's fsize limit (a memfd's size counts against RLIMIT_FSIZE),
	 * RAM is anonymous and the VM merely cannot be forked: that is no
	 * reason to refuse to boot it.
	 */
	if (vm->mem.nr_regions)
		n = 0; /* made ahead (vm_pre_prepare): only the base's fd below */
	if (!src) {
		int fd = huge ? hugetlb_memfd(vm->cfg->mem_mib << 20)
			      : memfd_create("ember-ram", MFD_CLOEXEC);

		if (fd >= 0 && !huge && ftruncate(fd, (off_t)(vm->cfg->mem_mib << 20))) {
			close(fd);
			fd = -errno;
		}
		vm->ram_fd = fd < 0 ? -1 : fd;
		if (fd < 0)
			log_warn("guest memory: no memfd (%s), anonymous memory instead: this "
				 "microVM cannot be forked",
				 strerror(huge ? -fd : errno));
	}
	shared = vm->ram_fd >= 0;

	for (unsigned i = 0; i < n && len[i]; i++) {
		struct gm_region *g = &vm->mem.region[i];
		int fd = src && !src->uffd ? src->fd : vm->ram_fd;
		void *p = map_ram(len[i], fd, file_off, huge, shared);

		if (p == MAP_FAILED)
			return -errno;
		*g = (struct gm_region){
		    .gpa = start[i], .size = len[i], .host = p, .hugetlb = huge, .shared = shared};
		vm->mem.nr_regions++;
		file_off += len[i];
		if (vm->cfg->track_dirty_pages) {
			g->dirty = calloc((len[i] / 4096 + 63) / 64, sizeof(uint64_t));
			if (!g->dirty)
				return -ENOMEM;
		}
		int r = vm_set_slot(vm->vm_fd, i, g, vm->cfg->track_dirty_pages);

		if (r < 0)
			return r;
	}
	/*
	 * A restored (or migrated, or forked) VM's RAM is its memory file
	 * mapped privately: already what a live fork makes of a booted VM's
	 * memfd, so that file is the base its own forks hand their children.
	 */
	if (src && !src->uffd) {
		vm->ram_fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 0);
		vm->ram_frozen = vm->ram_fd >= 0;
	}
	return 0;
}

static void free_memory(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		munmap(vm->mem.region[i].host, vm->mem.region[i].size);
		free(vm->mem.region[i].dirty);
	}
	vm->mem.nr_regions = 0;
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	vm->ram_fd = -1;
	vm->ram_frozen = false;
}

void vm_request_exit(struct vm *vm, int code)
{
	int running = -1;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->exit_code, &running, code))
		return;
	if (write(vm->exit_fd, &one, sizeof(one)) < 0)
		log_err("cannot signal the VMM thread: %s", strerror(errno));
	/* A vcpus_pause() waiting for this vCPU to park must see the exit instead. */
	vcpus_wake(vm);
}

/* The boot timer: guest init writes any byte to PORT_BOOT_TIMER once it runs. */
static void boot_timer_write(void *dev, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct vm *vm = dev;
	uint64_t us = time_now_us() - vm->start_us, cpu_ms;

	(void)off;
	(void)data;
	(void)len;
	if (atomic_exchange(&vm->boot_timer_fired, true))
		return;
	cpu_ms = clock_us(CLOCK_PROCESS_CPUTIME_ID) / 1000;
	log_info("guest init after %llu ms (%llu us, %llu CPU ms)", (unsigned long long)(us / 1000),
		 (unsigned long long)us, (unsigned long long)cpu_ms);
}

static void boot_timer_read(void *dev, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)off;
	memset(data, 0, len);
}

const struct bus_dev_ops vm_boot_timer_ops = {
    .read = boot_timer_read,
    .write = boot_timer_write,
};

static void on_exit_event(struct ev_handler *h, uint32_t events)
{
	struct vm *vm = h->opaque;
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0) {
		/* Spurious wake-up: exit_code says whether to stop. */
	}
	if (atomic_load(&vm->exit_code) >= 0)
		evloop_stop(&vm->loop);
}

static int setup_devices(struct vm *vm)
{
	struct kvm_irqfd irqfd = {.gsi = ARCH_SERIAL_GSI};
	int r;

	vm->serial_irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->serial_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->serial_irq_fd < 0 || vm->serial_wake_fd < 0)
		return -errno;
	irqfd.fd = (uint32_t)vm->serial_irq_fd;
	r = kvm_ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
	if (r < 0)
		return r;
	r = console_open(&vm->console, vm->cfg->console, vm->cfg->console_path, &vm->loop);
	if (r)
		return r;
	r = serial_init(&vm->serial, vm->console.out_fd, vm->serial_irq_fd, vm->serial_wake_fd);
	if (r)
		return r;
	if (vm->cfg->console == CONSOLE_FILE)
		serial_set_output_limit(&vm->serial, vm->cfg->console_limit);
	serial_set_rate_limit(&vm->serial, &vm->cfg->console_rate);
	vm->devices_ready = true;
	r = console_connect(&vm->console, &vm->serial, vm->serial_wake_fd);
	return r ? r : arch_setup_devices(vm);
}

int vm_pre_create(struct vm_pre *p)
{
	int r;

	*p = (struct vm_pre){.kvm_fd = -1, .vm_fd = -1};
	p->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->kvm_fd < 0)
		return -errno;
	r = p->vm_fd = kvm_ioctl(p->kvm_fd, KVM_CREATE_VM, NULL);
	if (r >= 0)
		r = arch_vm_pre_init(p->vm_fd);
	if (r < 0) {
		vm_pre_release(p);
		return r;
	}
	p->arch_done = r == 1;
	return 0;
}

int vm_pre_prepare(struct vm_pre *p, int ram_fd, unsigned vcpus, uint64_t mem_mib, bool huge)
{
	uint64_t start[GM_MAX_REGIONS], len[GM_MAX_REGIONS], off = 0;
	unsigned n;
	struct stat st;
	int r = -EINVAL;

	if (p->vm_fd < 0 || p->nr_vcpus || p->nr_mem || vcpus > MAX_VCPUS ||
	    mem_mib > CONFIG_MAX_MEM_MIB)
		goto fail;
	n = huge ? 0 : arch_mem_regions(mem_mib << 20, start, len);
	if (n && fstat(ram_fd, &st)) {
		r = -errno;
		goto fail;
	}
	for (unsigned i = 0; i < n && len[i]; i++) {
		struct gm_region *g = &p->mem[i];
		void *h = map_ram(len[i], ram_fd, off, false, false);

		if (h == MAP_FAILED) {
			r = -errno;
			goto fail;
		}
		*g = (struct gm_region){.gpa = start[i], .size = len[i], .host = h};
		p->nr_mem++;
		off += len[i];
		r = vm_set_slot(p->vm_fd, i, g, false);
		if (r < 0)
			goto fail;
	}
	p->mem_mib = mem_mib;
	p->ram_dev = n ? st.st_dev : 0;
	p->ram_ino = n ? st.st_ino : 0;
	/*
	 * x86 only (arch_done): its irqchip, which a vCPU must find, is made
	 * ahead too; aarch64 makes its vGIC (arch_vm_init) before the vCPUs.
	 */
	for (unsigned i = 0; p->arch_done && i < vcpus; i++) {
		r = vcpu_open(p->kvm_fd, p->vm_fd, i, &p->vcpu[i]);
		if (r)
			goto fail;
		p->nr_vcpus++;
	}
	return 0;
fail:
	vm_pre_release(p);
	return r;
}

void vm_pre_release(struct vm_pre *p)
{
	vm_notifiers_close(&p->notify);
	for (unsigned i = 0; i < p->nr_vcpus; i++)
		vcpu_close(&p->vcpu[i]);
	for (unsigned i = 0; i < p->nr_mem; i++)
		munmap(p->mem[i].host, p->mem[i].size);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	if (p->kvm_fd >= 0)
		close(p->kvm_fd);
	*p = (struct vm_pre){.kvm_fd = -1, .vm_fd = -1};
}

/*
 * Whether what a pooled child made ahead is part of the VM @cfg describes:
 * no more vCPUs, and RAM (if any) from the same file, of the same size,
 * mapped as a restore would map it.
 */
static bool pre_fits(const struct vm_pre *p, const struct vm_config *cfg)
{
	const struct vm_mem_source *src = cfg->mem_src;
	struct stat st;

	if (p->nr_vcpus > cfg->vcpus)
		return false;
	if (!p->nr_mem)
		return true;
	return src && !src->uffd && !cfg->huge_2m && !cfg->track_dirty_pages &&
	       p->mem_mib == cfg->mem_mib && !fstat(src->fd, &st) && st.st_dev == p->ram_dev &&
	       st.st_ino == p->ram_ino;
}

/*
 * Into @vm what fits of cfg->pre (which is empty after), and whether
 * arch_vm_init is done: 0, or -1 for nothing taken.
 */
static int take_pre(struct vm *vm, const struct vm_config *cfg, bool *arch_done)
{
	struct vm_pre *p = cfg->pre;
	unsigned nr_notify = 0;

	if (!p || p->vm_fd < 0)
		return -1;
	if (!pre_fits(p, cfg)) {
		log_debug("the VM made ahead does not fit this one: building it afresh");
		vm_pre_release(p);
		return -1;
	}
	vm->kvm_fd = p->kvm_fd;
	vm->vm_fd = p->vm_fd;
	for (unsigned i = 0; i < p->nr_vcpus; i++)
		(void)vcpu_create(vm, i, &p->vcpu[i]);
	memcpy(vm->mem.region, p->mem, p->nr_mem * sizeof(p->mem[0]));
	vm->mem.nr_regions = p->nr_mem;
	vm->pre_notify = p->notify; /* for vm_add_devices */
	for (unsigned i = 0; i < MAX_VIRTIO_DEVS; i++)
		nr_notify += p->notify.queues[i];
	if (p->nr_vcpus || p->nr_mem)
		log_info("VM made ahead: %u vCPUs, %u RAM regions, %u queue notifiers", p->nr_vcpus,
			 p->nr_mem, nr_notify);
	*arch_done = p->arch_done;
	*p = (struct vm_pre){.kvm_fd = -1, .vm_fd = -1};
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, uint64_t start_us)
{
	unsigned phys_bits = 0;
	bool arch_done = false;
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->start_us = start_us;
	vm->vm_fd = vm->exit_fd = vm->serial_irq_fd = vm->serial_wake_fd = -1;
	vm->console.out_fd = -1;
	vm->genid.irq_fd = -1;
	vm->loop.epfd = -1;
	vm->ram_fd = -1;
	atomic_init(&vm->exit_code, -1);
	vcpu_ctl_init(&vm->vcpu_ctl);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	vm->nr_vcpus = cfg->vcpus;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	if (take_pre(vm, cfg, &arch_done))
		vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		r = -errno;
		log_err("/dev/kvm: %s (no KVM on this host? `make test` and `make run` use the "
			"nested harness in tests/nested instead)",
			strerror(errno));
		return r;
	}
	r = check_kvm(vm->kvm_fd);
	if (!r)
		r = check_kvm_pvm(vm);
	if (r)
		goto fail;
	if (vm->vm_fd < 0)
		r = vm->vm_fd = kvm_ioctl(vm->kvm_fd, KVM_CREATE_VM, NULL);
	if (r < 0) {
		log_err("KVM_CREATE_VM: %s", strerror(-r));
		goto fail;
	}
	r = arch_done ? 0 : arch_vm_init(vm);
	if (r)
		goto fail;
	r = setup_memory(vm);
	if (r) {
		log_err("guest memory (%llu MiB): %s", (unsigned long long)cfg->mem_mib,
			strerror(-r));
		goto fail;
	}
	r = arch_vm_cpu_init(vm, &phys_bits);
	if (r)
		goto fail;
	r = devmem_init(&vm->devmem, &vm->mem, vm->kvm_fd, vm->vm_fd, cfg->mem_mib << 20,
			phys_bits);
	if (r)
		goto fail;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		r = vm->vcpus[i].fd >= 0 ? 0 : vcpu_create(vm, i, NULL);
		if (r) {
			log_err("vCPU %u: KVM_CREATE_VCPU: %s", i, strerror(-r));
			goto fail;
		}
	}
	r = arch_vcpus_created(vm);
	if (r)
		goto fail;
	r = evloop_init(&vm->loop);
	if (r)
		goto fail;
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0) {
		r = -errno;
		goto fail;
	}
	vm->h_exit = (struct ev_handler){.fd = vm->exit_fd, .fn = on_exit_event, .opaque = vm};
	r = evloop_add(&vm->loop, &vm->h_exit, EPOLLIN);
	if (!r)
		r = setup_devices(vm);
	if (r) {
		log_err("devices: %s", strerror(-r));
		goto fail;
	}
	return 0;

fail:
	vm_destroy(vm);
	return r < 0 ? r : -EIO;
}

int vm_load(struct vm *vm, const uint8_t *img, size_t img_len, const struct kernel_info *ki,
	    const uint8_t *initrd, size_t initrd_len)
{
	/* The user's line, then what ember adds (devices, root=). */
	if ((size_t)snprintf(vm->cmdline, sizeof(vm->cmdline), "%s%s", vm->cfg->cmdline,
			     vm->cmdline_extra) >= sizeof(vm->cmdline)) {
		log_err("kernel command line with ember's device list is longer than %zu bytes",
			sizeof(vm->cmdline) - 1);
		return -E2BIG;
	}
	return arch_vm_load(vm, img, img_len, ki, initrd, initrd_len);
}

int vm_setup_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		int r = arch_vcpu_setup(&vm->vcpus[i]);

		if (r) {
			log_err("vCPU %u set-up: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

int vm_run(struct vm *vm)
{
	int r = vcpu_signal_init();

	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++)
		r = vcpu_start(&vm->vcpus[i]);
	/*
	 * Every vCPU thread exists and everything is open: the VMM thread's
	 * filter goes on now (a thread created after it would inherit it).
	 */
	if (!r && !vm->cfg->no_seccomp && seccomp_install(SECCOMP_VMM)) {
		log_err("cannot install the VMM thread's seccomp filter");
		r = -EPERM;
	}
	if (r) {
		log_err("starting vCPUs: %s", strerror(-r));
		vm_request_exit(vm, EXIT_VMM);
	} else {
		r = evloop_run(&vm->loop);
		if (r) {
			log_err("event loop: %s", strerror(-r));
			vm_request_exit(vm, EXIT_VMM);
		}
	}
	/* Parked vCPUs wait; exit_code is set, so they leave. */
	vcpus_wake(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].thread_started)
			thread_join(&vm->vcpus[i].thread);
		vm->vcpus[i].thread_started = false;
	}
	return atomic_load(&vm->exit_code);
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	vm->nr_vcpus = 0;
	vm_remove_devices(vm); /* before the loop its handlers are on */
	vm_notifiers_close(&vm->pre_notify);
	vmgenid_close(vm);
	console_close(&vm->console);
	arch_vm_destroy(vm);
	if (vm->devices_ready) {
		serial_destroy(&vm->serial);
		vm->devices_ready = false;
	}
	evloop_destroy(&vm->loop);
	const int fds[] = {vm->exit_fd, vm->serial_irq_fd, vm->serial_wake_fd, vm->vm_fd,
			   vm->kvm_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	vm->exit_fd = vm->serial_irq_fd = vm->serial_wake_fd = vm->vm_fd = vm->kvm_fd = -1;
	free_memory(vm);
}
