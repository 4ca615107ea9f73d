// SPDX-License-Identifier: Apache-2.0
/*
 * aarch64 vCPU set-up behind vmm/arch.h.  KVM_ARM_VCPU_INIT with PSCI 0.2
 * (aarch64_vm.c calls it once the GIC is initialised); vCPU 0 then starts
 * at the Image with booting.rst's registers (x0 = the device tree, EL1h,
 * all of DAIF masked, MMU off as KVM resets it); the others stay powered
 * off until the guest's PSCI CPU_ON.  Registers go through KVM_SET_ONE_REG.
 */
#include <stddef.h>
#include <string.h>

#include "arch.h"
#include "vm.h"

/* PSTATE at entry: EL1 with SP_EL1 (EL1h), D, A, I and F masked. */
#define PSTATE_EL1H   0x5ull
#define PSTATE_DAIF   (0xfull << 6)
#define CORE_REG(r)   (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(r))
#define REG_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)

static int set_reg(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = {.id = id, .addr = (uintptr_t)&val};
	int e = kvm_ioctl(v->fd, KVM_SET_ONE_REG, &r);

	return e < 0 ? e : 0;
}

static int get_reg(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = {.id = id, .addr = (uintptr_t)val};
	int e = kvm_ioctl(v->fd, KVM_GET_ONE_REG, &r);

	return e < 0 ? e : 0;
}

int arm64_vcpu_init(struct vcpu *v)
{
	struct kvm_vcpu_init init = {.target = v->vm->arch.target};
	int r;

	init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (v->index)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	r = kvm_ioctl(v->fd, KVM_ARM_VCPU_INIT, &init);
	return r < 0 ? r : 0;
}

int arm64_vcpu_mpidr(struct vcpu *v, uint64_t *mpidr)
{
	return get_reg(v, REG_MPIDR_EL1, mpidr);
}

int arch_vcpu_setup(struct vcpu *v)
{
	const struct arch_vm *a = &v->vm->arch;
	int r;

	if (v->index)
		return 0;
	r = set_reg(v, CORE_REG(regs.pstate), PSTATE_EL1H | PSTATE_DAIF);
	if (!r)
		r = set_reg(v, CORE_REG(regs.pc), a->entry);
	if (!r)
		r = set_reg(v, CORE_REG(regs.regs[0]), a->fdt_gpa);
	return r;
}

void arch_report_crash(struct vcpu *v, const char *what)
{
	uint64_t pc, sp;

	if (get_reg(v, CORE_REG(regs.pc), &pc) || get_reg(v, CORE_REG(sp_el1), &sp))
		log_err("vCPU %u: %s", v->index, what);
	else
		log_err("vCPU %u: %s (pc=0x%llx sp_el1=0x%llx)", v->index, what,
			(unsigned long long)pc, (unsigned long long)sp);
}
