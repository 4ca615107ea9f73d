// SPDX-License-Identifier: Apache-2.0
/*
 * x86_64 vCPU set-up behind vmm/arch.h: CPUID, MSRs (and the CPU template's),
 * LAPIC, FPU, and for the boot vCPU the registers of the chosen entry (64-bit
 * boot protocol or PVH).  Application processors are left in KVM's
 * wait-for-SIPI state; the guest starts them through the in-kernel LAPIC.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "boot.h"
#include "cpuid.h"
#include "vm.h"

/* Architectural constants (Intel SDM vol. 3; AMD APM vol. 2). */
#define CR0_PE	    (1ull << 0)
#define CR0_ET	    (1ull << 4)
#define CR0_PG	    (1ull << 31)
#define CR4_PAE	    (1ull << 5)
#define EFER_LME    (1ull << 8)
#define EFER_LMA    (1ull << 10)
#define RFLAGS_RSVD 0x2ull

#define MSR_IA32_TSC		0x10
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_ENABLE_WB		((1ull << 11) | 6) /* MTRRs on, default type write-back */

#define APIC_LVT0	  0x350
#define APIC_LVT1	  0x360
#define APIC_MODE_NMI	  0x4
#define APIC_MODE_EXTINT  0x7
#define FPU_DEFAULT_FCW	  0x37f
#define FPU_DEFAULT_MXCSR 0x1f80

static int setup_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *tmpl = v->vm->arch.cpuid;
	size_t size = sizeof(*tmpl) + tmpl->nent * sizeof(tmpl->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int r;

	if (!c)
		return -ENOMEM;
	memcpy(c, tmpl, size);
	cpuid_normalize(c->entries, c->nent, v->index, v->vm->nr_vcpus);
	r = kvm_ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return r < 0 ? r : 0;
}

static int setup_msrs(struct vcpu *v)
{
	static const struct kvm_msr_entry boot_msrs[] = {
	    {.index = MSR_IA32_SYSENTER_CS},
	    {.index = MSR_IA32_SYSENTER_ESP},
	    {.index = MSR_IA32_SYSENTER_EIP},
	    {.index = MSR_STAR},
	    {.index = MSR_CSTAR},
	    {.index = MSR_KERNEL_GS_BASE},
	    {.index = MSR_SYSCALL_MASK},
	    {.index = MSR_LSTAR},
	    {.index = MSR_IA32_TSC},
	    {.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING},
	    {.index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE_WB},
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(boot_msrs)];
	} m = {.hdr.nmsrs = ARRAY_SIZE(boot_msrs)};
	int r;

	memcpy(m.e, boot_msrs, sizeof(boot_msrs));
	r = kvm_ioctl(v->fd, KVM_SET_MSRS, &m);
	if (r < 0)
		return r;
	/* KVM_SET_MSRS stops at the first MSR it rejects and returns how many it set. */
	return r == (int)ARRAY_SIZE(boot_msrs) ? 0 : -EINVAL;
}

static void lapic_set_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t val;

	memcpy(&val, &l->regs[reg], sizeof(val));
	val = (val & ~0x700u) | mode << 8;
	memcpy(&l->regs[reg], &val, sizeof(val));
}

/* LINT0 as ExtINT (the 8259 behind it) and LINT1 as NMI, as on a PC. */
static int setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	int r = kvm_ioctl(v->fd, KVM_GET_LAPIC, &l);

	if (r < 0)
		return r;
	lapic_set_mode(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_mode(&l, APIC_LVT1, APIC_MODE_NMI);
	r = kvm_ioctl(v->fd, KVM_SET_LAPIC, &l);
	return r < 0 ? r : 0;
}

static int setup_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu = {.fcw = FPU_DEFAULT_FCW, .mxcsr = FPU_DEFAULT_MXCSR};
	int r = kvm_ioctl(v->fd, KVM_SET_FPU, &fpu);

	return r < 0 ? r : 0;
}

/* A kvm_segment from our boot GDT, so the hidden state matches the table. */
static struct kvm_segment segment(uint16_t sel)
{
	uint64_t d = boot_gdt[sel / 8];
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	struct kvm_segment s = {
	    .base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000),
	    .selector = sel,
	    .type = (d >> 40) & 0xf,
	    .s = (d >> 44) & 1,
	    .dpl = (d >> 45) & 3,
	    .present = (d >> 47) & 1,
	    .avl = (d >> 52) & 1,
	    .l = (d >> 53) & 1,
	    .db = (d >> 54) & 1,
	    .g = (d >> 55) & 1,
	};

	s.limit = s.g ? limit << 12 | 0xfff : limit;
	s.unusable = !s.present;
	return s;
}

static int setup_boot_regs(struct vcpu *v)
{
	const struct boot_entry *e = &v->vm->arch.entry;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rflags = RFLAGS_RSVD, .rip = e->rip};
	int r = kvm_ioctl(v->fd, KVM_GET_SREGS, &sregs);

	if (r < 0)
		return r;
	sregs.cs = segment(e->pvh ? GDT_SEL_CODE32 : GDT_SEL_CODE64);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = segment(GDT_SEL_DATA);
	sregs.tr = segment(GDT_SEL_TSS);
	sregs.gdt.base = LAYOUT_GDT;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	sregs.idt.base = LAYOUT_IDT;
	sregs.idt.limit = sizeof(uint64_t) - 1;
	if (e->pvh) {
		/* PVH: 32-bit flat protected mode, paging off, ebx = start info. */
		sregs.cr0 = CR0_PE | CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
		regs.rbx = LAYOUT_PVH_INFO;
	} else {
		/* 64-bit boot protocol: long mode on identity page tables, rsi = zero page. */
		sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
		sregs.cr3 = LAYOUT_PML4;
		sregs.cr4 = CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
		regs.rsp = regs.rbp = LAYOUT_BOOT_STACK;
		regs.rsi = LAYOUT_ZERO_PAGE;
	}
	r = kvm_ioctl(v->fd, KVM_SET_SREGS, &sregs);
	if (!r)
		r = kvm_ioctl(v->fd, KVM_SET_REGS, &regs);
	return r < 0 ? r : 0;
}

int arch_vcpu_setup(struct vcpu *v)
{
	int r = setup_cpuid(v);

	if (!r)
		r = setup_msrs(v);
	if (!r)
		r = vcpu_apply_msr_template(v);
	if (!r)
		r = setup_fpu(v);
	if (!r)
		r = setup_lapic(v);
	if (!r && v->index == 0)
		r = setup_boot_regs(v);
	return r;
}

void arch_report_crash(struct vcpu *v, const char *what)
{
	struct kvm_regs regs;

	if (kvm_ioctl(v->fd, KVM_GET_REGS, &regs) != 0)
		log_err("vCPU %u: %s", v->index, what);
	else if (regs.rip == 0xfff0 && regs.rsp == 0)
		/*
		 * On AMD, KVM re-initialises the vCPU when it intercepts a
		 * shutdown (the VMCB is undefined after one): what we read is
		 * the reset state, not where the guest died.
		 */
		log_err("vCPU %u: %s (registers already reset by KVM; the faulting rip is lost)",
			v->index, what);
	else
		log_err("vCPU %u: %s (rip=0x%llx rsp=0x%llx)", v->index, what, regs.rip, regs.rsp);
}
