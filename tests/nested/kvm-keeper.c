// SPDX-License-Identifier: Apache-2.0
/*
 * kvm-keeper - holds one idle VM open in L1 for the whole nested run.
 *
 * KVM counts the vCPUs whose local APIC is disabled in two static keys
 * (apic_hw_disabled and apic_sw_disabled, arch/x86/kvm/lapic.c).  Every
 * vCPU starts software-disabled, so each guest that boots turns the keys
 * 0 -> 1 and, a second after it enables its APIC, 1 -> 0.  Both are live
 * patches of kvm.ko's code (text_poke_bp: an int3 on each site while the
 * other CPU may be running it).  Under QEMU's multi-threaded TCG that now
 * and then freezes L1 with a CPU in exc_int3.  One vCPU that never runs,
 * its APIC disabled in both ways, keeps both counts above zero: the keys
 * stay on and nothing is patched as guests come and go.
 *
 * Prints one line and returns once it holds the VM; a child keeps holding
 * it until L1 powers off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#define MSR_IA32_APICBASE 0x1b
#define APIC_BASE_BSP	  (1u << 8)
#define APIC_DEFAULT_BASE 0xfee00000u

int main(void)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {.hdr.nmsrs = 1,
		  /* ENABLE (bit 11) clear: apic_hw_disabled goes up by one. */
		  .e = {.index = MSR_IA32_APICBASE, .data = APIC_DEFAULT_BASE | APIC_BASE_BSP}};
	int kvm, vm, vcpu;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "kvm-keeper: /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	/* An in-kernel irqchip, so that the vCPU gets KVM's local APIC... */
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "kvm-keeper: VM: %s\n", strerror(errno));
		return 1;
	}
	/* ... software-disabled from its creation: apic_sw_disabled + 1. */
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0 || ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1) {
		fprintf(stderr, "kvm-keeper: vCPU: %s\n", strerror(errno));
		return 1;
	}
	printf("kvm-keeper: holding a VM with its APIC disabled\n");
	fflush(stdout);
	/* The caller goes on when we return; the VM lives on in the child. */
	switch (fork()) {
	case -1:
		fprintf(stderr, "kvm-keeper: fork: %s\n", strerror(errno));
		return 1;
	case 0:
		for (;;)
			pause();
	default:
		return 0;
	}
}
