/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM: KVM handles, guest memory, vCPUs, the legacy devices and the VMM
 * thread's event loop.  Threads: the caller of vm_run() becomes the VMM
 * thread; each vCPU has its own.  vCPU threads touch devices only through
 * bus callbacks, which lock what they share with the VMM thread.
 */
#ifndef EMBER_VM_H
#define EMBER_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>

#include "arch_vm.h"
#include "config.h"
#include "console.h"
#include "devmem.h"
#include "vcpu.h"
#include "ember.h"
#include "evloop.h"
#include "i8042.h"
#include "layout.h"
#include "loader.h"
#include "serial.h"
#include "virtio_mmio.h"
#include "vmgenid.h"

/* Process exit codes (documented in README). */
enum ember_exit {
	EXIT_GUEST_OK = 0,    /* guest rebooted or powered off */
	EXIT_CONFIG = 1,      /* bad arguments, kernel, initrd or configuration */
	EXIT_VMM = 2,	      /* ember or KVM failed to set the VM up or run it */
	EXIT_GUEST_CRASH = 3, /* triple fault, KVM internal error, failed entry */
};

struct vm;

/*
 * ioctl on a KVM fd: -errno on failure, retried on EINTR except for KVM_RUN,
 * whose EINTR is how a kicked vCPU comes back to us.
 */
static inline int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR && req != KVM_RUN);
	return r < 0 ? -errno : r;
}

/* A virtio device on the VM: its type, the instance, its transport, where it is. */
struct vm_dev {
	const struct vdev_type *type;
	void *dev;
	struct virtio_mmio *t;
	uint64_t base; /* MMIO slot */
	unsigned gsi;
};

/*
 * Queue notifiers bound (KVM_IOEVENTFD) before the devices exist:
 * eventfds, -1 where none, for the first @queues[slot] queues of each slot.
 * Registering one waits for a KVM SRCU grace period (kernel work too): in
 * a nested L1 each took a child of a fork into ten ~2 ms, on CPUs its
 * siblings keep busy.  A pooled child does it before its fork instead.
 */
struct vm_notifiers {
	uint8_t queues[MAX_VIRTIO_DEVS];
	int fd[MAX_VIRTIO_DEVS][VIRTIO_MMIO_MAX_QUEUES];
};

struct vm {
	const struct vm_config *cfg;
	uint64_t start_us; /* process start, for the boot timer */
	int kvm_fd, vm_fd;
	bool kvm_pvm; /* /dev/kvm is kvm-pvm: only PVM-enabled guest kernels run */
	struct guest_mem mem;
	/* The file guest RAM is mapped from (regions back to back): a booted
	 * VM's memfd (MAP_SHARED), or with ram_frozen the copy-on-write base
	 * it maps privately: a memfd a live fork froze (fork.c), a restore's
	 * memory file.  -1: anonymous RAM (a Uffd restore, no memfd). */
	int ram_fd;
	bool ram_frozen;
	struct devmem devmem; /* device memory above RAM (devmem.h) */
	struct vcpu vcpus[MAX_VCPUS];
	unsigned nr_vcpus;
	struct arch_vm arch; /* vmm/arch/ARCH/arch_vm.h */

	struct bus pio, mmio;
	struct serial serial;
	struct i8042 i8042;
	atomic_bool boot_timer_fired;

	struct vcpu_ctl vcpu_ctl; /* pause/resume: vcpu.c's */

	struct evloop loop;
	struct ev_handler h_exit;
	int exit_fd;	      /* eventfd: a vCPU or device asks the VMM thread to stop */
	atomic_int exit_code; /* -1 while running; first request wins */
	int serial_irq_fd, serial_wake_fd;
	bool devices_ready;
	struct console console;
	struct vmgenid genid; /* .on when the guest has ACPI tables with one */

	/* virtio-mmio devices, in slot order (virtio_devs.c). */
	struct vm_dev dev[MAX_VIRTIO_DEVS];
	unsigned nr_devs;
	struct vm_notifiers pre_notify; /* made ahead (take_pre), until vm_add_devices */
	/* What ember adds to the user's command line: device list, root=. */
	char cmdline_extra[LAYOUT_CMDLINE_MAX];
	size_t cmdline_extra_len;
	char cmdline[LAYOUT_CMDLINE_MAX];
};

/*
 * A KVM VM made before anyone knew what it would be: a pooled fork child
 * (--fork-pool) makes it while it waits (vm_pre_create), so that its fork
 * does not wait for KVM_CREATE_VM and what needs no configuration after it
 * (arch_vm_pre_init).  Told its parent's machine (vm_pre_prepare, fork.c),
 * it also maps guest RAM and makes the vCPUs: in a nested L1 the memory
 * slots and vCPUs are, after the devices, the slowest part of building a
 * VM that needs no state.  vm_create (cfg->pre) takes all of it if it fits
 * the VM it builds, else releases it and starts afresh.
 */
struct vm_pre {
	int kvm_fd, vm_fd; /* -1: none */
	bool arch_done;	   /* arch_vm_pre_init did all of arch_vm_init */
	unsigned nr_vcpus; /* vCPUs 0 .. nr_vcpus - 1 */
	struct vcpu_kvm vcpu[MAX_VCPUS];
	/* RAM: mapped privately from the file (st_dev, st_ino) as a fork maps it; slots set. */
	unsigned nr_mem;
	struct gm_region mem[GM_MAX_REGIONS];
	uint64_t mem_mib;
	dev_t ram_dev;
	ino_t ram_ino;
	struct vm_notifiers notify; /* the queues' ioeventfds (vm_pre_notifiers) */
};

/*
 * Opens KVM and builds the machine: memory, irqchip, PIT, vCPUs, devices.
 * On failure everything built so far is torn down and -errno returned.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, uint64_t start_us);
/* Memory slot @slot of the VM @vm_fd: region @g, with KVM's dirty log if @dirty_log. */
int vm_set_slot(int vm_fd, unsigned slot, const struct gm_region *g, bool dirty_log);
/* /dev/kvm, KVM_CREATE_VM and arch_vm_pre_init: 0, or -errno with both -1. */
int vm_pre_create(struct vm_pre *p);
/*
 * Guest RAM of @mem_mib MiB mapped privately from @ram_fd with its memory
 * slots (not on 2 MiB pages, @huge: a private mapping of those reserves a
 * whole copy), and @vcpus vCPUs.  0, or -errno with @p released.
 */
int vm_pre_prepare(struct vm_pre *p, int ram_fd, unsigned vcpus, uint64_t mem_mib, bool huge);
void vm_pre_release(struct vm_pre *p);
/*
 * Loads the kernel and initrd and writes the boot structures.  Fails only
 * for what the user gave (sizes, command line): a configuration error.
 */
int vm_load(struct vm *vm, const uint8_t *img, size_t img_len, const struct kernel_info *ki,
	    const uint8_t *initrd, size_t initrd_len);
/*
 * cpu_apply.c: the configuration's CPU template (NULL: none); checks it
 * against the host and KVM and applies its CPUID part to vm->cpuid (from
 * vm_create); its MSR part on one vCPU (from arch_vcpu_setup).  0 or -errno,
 * with the reason logged.
 */
const struct cpu_template *vm_cpu_template(const struct vm_config *cfg);
int vm_apply_cpu_template(struct vm *vm);
int vcpu_apply_msr_template(struct vcpu *v);

/* Every vCPU's initial state (arch_vcpu_setup) and the boot registers on vCPU 0. */
int vm_setup_vcpus(struct vm *vm);
/* Runs until the guest resets or crashes; returns an enum ember_exit. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Any thread: ask the VMM thread to stop the VM with @code (first caller wins). */
void vm_request_exit(struct vm *vm, int code);
/* The boot timer: guest init writes any byte to it once it runs (arch_setup_devices places it). */
extern const struct bus_dev_ops vm_boot_timer_ops;
/* SendCtrlAltDel: the keys, through the i8042 (-ENOTSUP where there is none). */
int vm_ctrl_alt_del(struct vm *vm);

#endif /* EMBER_VM_H */
