/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcpu.h - vCPUs and their run control (vcpu.c).  Each vCPU has its own
 * thread in KVM_RUN; pause, resume and the VM's end reach them through
 * struct vcpu_ctl, which only vcpu.c touches.
 */
#ifndef EMBER_VCPU_H
#define EMBER_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>

#include "thread.h"
#include <stdatomic.h>

#include "ember.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	struct ember_thread thread;
	bool thread_started;
	struct ratelimit rl_mmio;
	/* Exits handled in userspace, for metrics: written by the vCPU, read anywhere. */
	uint64_t exits_io, exits_mmio, exits_other;
};

/* Pause: vCPUs park outside KVM_RUN while pause_req is set. */
struct vcpu_ctl {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	atomic_bool pause_req;
	unsigned parked; /* under lock */
};

/* A vCPU's KVM side: its fd and run structure. */
struct vcpu_kvm {
	int fd;
	struct kvm_run *run;
	size_t run_size;
};

void vcpu_ctl_init(struct vcpu_ctl *c);
/* KVM_CREATE_VCPU @index and its run structure mapped: 0 or -errno. */
int vcpu_open(int kvm_fd, int vm_fd, unsigned index, struct vcpu_kvm *out);
void vcpu_close(struct vcpu_kvm *k);
/* vCPU @index of @vm: its KVM side made now, or taken from @made (NULL: none). */
int vcpu_create(struct vm *vm, unsigned index, struct vcpu_kvm *made);
int vcpu_start(struct vcpu *v);
/* Out of KVM_RUN now (a signal, and immediate_exit if it is not in yet). */
void vcpu_kick(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
int vcpu_signal_init(void);

/*
 * VMM thread, while vm_run() loops: stop every vCPU outside KVM_RUN and
 * wait until they all are (0, or -ESHUTDOWN if the VM ends meanwhile), or
 * resume them.  Device work on the VMM thread is not stopped: a paused guest
 * just issues nothing new.
 */
int vcpus_pause(struct vm *vm);
void vcpus_resume(struct vm *vm);
bool vcpus_paused(struct vm *vm);
/* Before vm_run(): the vCPUs park at once (a restore with resume_vm false). */
void vcpus_start_paused(struct vm *vm);
/* The VM is ending (its exit code is set): parked vCPUs and vcpus_pause() wake. */
void vcpus_wake(struct vm *vm);

#endif /* EMBER_VCPU_H */
