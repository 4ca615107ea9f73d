// SPDX-License-Identifier: Apache-2.0
/*
 * vCPUs: creation and the KVM_RUN loop on each vCPU's own thread.  Their
 * architectural set-up (registers, CPU model, interrupt controller) is
 * arch_vcpu_setup's (arch.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch.h"
#include "seccomp.h"
#include "vm.h"

/* The signal that kicks a vCPU out of KVM_RUN; its handler does nothing. */
#define SIG_VCPU_KICK (SIGRTMIN + 0)

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signal_init(void)
{
	struct sigaction sa = {.sa_handler = kick_handler};

	/* No SA_RESTART: KVM_RUN must return EINTR. */
	sigemptyset(&sa.sa_mask);
	return sigaction(SIG_VCPU_KICK, &sa, NULL) ? -errno : 0;
}

int vcpu_open(int kvm_fd, int vm_fd, unsigned index, struct vcpu_kvm *out)
{
	int fd = kvm_ioctl(vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)index), r;
	void *run;

	if (fd < 0)
		return fd;
	r = kvm_ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (r < 0)
		goto err_close;
	run = mmap(NULL, (size_t)r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		r = -errno;
		goto err_close;
	}
	*out = (struct vcpu_kvm){.fd = fd, .run = run, .run_size = (size_t)r};
	return 0;

err_close:
	close(fd);
	return r;
}

void vcpu_close(struct vcpu_kvm *k)
{
	if (k->run)
		munmap(k->run, k->run_size);
	if (k->fd >= 0)
		close(k->fd);
	*k = (struct vcpu_kvm){.fd = -1};
}

int vcpu_create(struct vm *vm, unsigned index, struct vcpu_kvm *made)
{
	struct vcpu *v = &vm->vcpus[index];
	struct vcpu_kvm k;
	int r = made ? 0 : vcpu_open(vm->kvm_fd, vm->vm_fd, index, &k);

	if (r)
		return r;
	if (made) {
		k = *made;
		*made = (struct vcpu_kvm){.fd = -1};
	}
	v->vm = vm;
	v->index = index;
	v->rl_mmio = (struct ratelimit)RATELIMIT_INIT(1000, 5);
	v->fd = k.fd;
	v->run = k.run;
	v->run_size = k.run_size;
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	struct vcpu_kvm k = {.fd = v->fd, .run = v->run, .run_size = v->run_size};

	vcpu_close(&k);
	v->run = NULL;
	v->fd = -1;
}

/*
 * An instruction KVM cannot emulate before the guest's init has run is what
 * a stock kernel meets on kvm-pvm (vm.c says why); say so, since "internal
 * error, suberror 1" tells a user nothing.  Later in a guest's life it is a
 * different story, told by the registers above.
 */
static void explain_emulation_failure(const struct vcpu *v)
{
	if (v->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    atomic_load(&v->vm->boot_timer_fired))
		return;
	if (v->vm->kvm_pvm)
		log_err("KVM could not emulate an instruction early in boot: this host's KVM is "
			"kvm-pvm, which runs only PVM-enabled guest kernels (CONFIG_PVM_GUEST)");
	else
		log_err("KVM could not emulate an instruction early in boot: if this host's KVM "
			"is kvm-pvm (look for /sys/module/kvm_pvm), it runs only PVM-enabled guest "
			"kernels");
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep outsb) comes as count items of size bytes each. */
	for (uint32_t i = 0; i < run->io.count; i++)
		bus_access(&v->vm->pio, run->io.port, data + i * run->io.size, run->io.size, out);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;

	if (!bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write))
		log_ratelimited(&v->rl_mmio, LOG_WARN, "vCPU %u: %s of unmapped MMIO 0x%llx",
				v->index, run->mmio.is_write ? "write" : "read",
				(unsigned long long)run->mmio.phys_addr);
}

/* Returns -1 to keep running, or the process exit code the VM should end with. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		__atomic_fetch_add(&v->exits_io, 1, __ATOMIC_RELAXED);
		handle_io(v);
		return -1;
	case KVM_EXIT_MMIO:
		__atomic_fetch_add(&v->exits_mmio, 1, __ATOMIC_RELAXED);
		handle_mmio(v);
		return -1;
	case KVM_EXIT_SHUTDOWN:
		arch_report_crash(v, "guest triple fault (KVM_EXIT_SHUTDOWN)");
		return EXIT_GUEST_CRASH;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_CRASH) {
			arch_report_crash(v, "guest reported a crash");
			return EXIT_GUEST_CRASH;
		}
		log_info("guest requested %s",
			 run->system_event.type == KVM_SYSTEM_EVENT_RESET ? "reset" : "shutdown");
		return EXIT_GUEST_OK;
	case KVM_EXIT_INTERNAL_ERROR:
		log_err("vCPU %u: KVM internal error, suberror %u", v->index,
			run->internal.suberror);
		arch_report_crash(v, "cannot continue");
		explain_emulation_failure(v);
		return EXIT_GUEST_CRASH;
	case KVM_EXIT_FAIL_ENTRY:
		log_err("vCPU %u: VM entry failed, hardware reason 0x%llx", v->index,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return EXIT_GUEST_CRASH;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; treat like a powered-off CPU. */
		log_info("vCPU %u halted", v->index);
		return EXIT_GUEST_OK;
	default:
		arch_report_crash(v, "unexpected KVM exit");
		log_err("vCPU %u: exit reason %u", v->index, run->exit_reason);
		return EXIT_GUEST_CRASH;
	}
}

void vcpu_ctl_init(struct vcpu_ctl *c)
{
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cv, NULL);
	atomic_init(&c->pause_req, false);
	c->parked = 0;
}

/*
 * Paused: wait outside KVM_RUN until resumed or the VM ends.  The count of
 * parked vCPUs is what vcpus_pause() waits for, so "Paused" means no vCPU
 * is in the guest.
 */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vcpu_ctl *c = &vm->vcpu_ctl;

	pthread_mutex_lock(&c->lock);
	c->parked++;
	pthread_cond_broadcast(&c->cv);
	while (atomic_load(&c->pause_req) && atomic_load(&vm->exit_code) < 0)
		pthread_cond_wait(&c->cv, &c->lock);
	c->parked--;
	pthread_mutex_unlock(&c->lock);
}

int vcpus_pause(struct vm *vm)
{
	struct vcpu_ctl *c = &vm->vcpu_ctl;

	pthread_mutex_lock(&c->lock);
	atomic_store(&c->pause_req, true);
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&c->lock);
	while (c->parked < vm->nr_vcpus && atomic_load(&vm->exit_code) < 0)
		pthread_cond_wait(&c->cv, &c->lock);
	pthread_mutex_unlock(&c->lock);
	return atomic_load(&vm->exit_code) < 0 ? 0 : -ESHUTDOWN;
}

void vcpus_resume(struct vm *vm)
{
	struct vcpu_ctl *c = &vm->vcpu_ctl;

	pthread_mutex_lock(&c->lock);
	atomic_store(&c->pause_req, false);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->lock);
}

void vcpus_start_paused(struct vm *vm)
{
	atomic_store(&vm->vcpu_ctl.pause_req, true);
}

bool vcpus_paused(struct vm *vm)
{
	return atomic_load(&vm->vcpu_ctl.pause_req);
}

void vcpus_wake(struct vm *vm)
{
	pthread_mutex_lock(&vm->vcpu_ctl.lock);
	pthread_cond_broadcast(&vm->vcpu_ctl.cv);
	pthread_mutex_unlock(&vm->vcpu_ctl.lock);
}

/*
 * Before parking: an I/O or MMIO exit is complete (and the registers
 * consistent) only once KVM_RUN is re-entered.  With immediate_exit set KVM
 * finishes it and returns at once without running the guest, so a snapshot
 * taken while we are parked sees no half-done instruction.
 */
static void vcpu_settle(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	(void)kvm_ioctl(v->fd, KVM_RUN, NULL); /* -EINTR by design */
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;

	/* From here a vCPU thread runs the guest: the narrowest filter. */
	if (!vm->cfg->no_seccomp && seccomp_install(SECCOMP_VCPU)) {
		log_err("vCPU %u: cannot install its seccomp filter", v->index);
		vm_request_exit(vm, EXIT_VMM);
		return NULL;
	}
	while (atomic_load(&vm->exit_code) < 0) {
		if (atomic_load(&vm->vcpu_ctl.pause_req)) {
			vcpu_settle(v);
			vcpu_park(v);
			/* Resumed (a restore starts here too): drop what earlier
			 * exits touched of the stack below this frame. */
			thread_stack_trim();
			continue;
		}
		int r = kvm_ioctl(v->fd, KVM_RUN, NULL);

		if (r == -EINTR || r == -EAGAIN) {
			__atomic_fetch_add(&v->exits_other, 1, __ATOMIC_RELAXED);
			/* Kicked (or a stray signal): the loop condition decides. */
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if (r < 0) {
			log_err("vCPU %u: KVM_RUN: %s", v->index, strerror(-r));
			vm_request_exit(vm, EXIT_VMM);
			break;
		}
		r = handle_exit(v);
		if (r >= 0) {
			vm_request_exit(vm, r);
			break;
		}
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int r = thread_start(&v->thread, THREAD_STACK, vcpu_thread, v);

	if (r)
		return r;
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	/* If the signal lands before KVM_RUN, immediate_exit makes KVM_RUN return at once. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread.id, SIG_VCPU_KICK);
}
