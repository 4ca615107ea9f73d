// SPDX-License-Identifier: Apache-2.0
/*
 * KVM's part of a snapshot on aarch64 (snap_kvm.h): every vCPU's registers,
 * as the list KVM_GET_REG_LIST reports (core and FP/SIMD registers, system
 * registers with the virtual timer's CTL/CVAL/CNT, the PSCI/SMCCC firmware
 * pseudo-registers), its MP state, and the vGICv3's state through its
 * device attributes: distributor, each vCPU's redistributor and CPU
 * interface (ICC_*) registers, and the interrupt lines' levels.  No ITS is
 * created (aarch64_vm.c), so there are no LPI tables to save.
 *
 * Everything goes out in snap_regs.h's explicit encoding, never a raw
 * struct.  The values of the vGIC's registers are the guest's, but their
 * addresses (the redistributor's MPIDR) are taken from the restoring VM,
 * never from the file.
 *
 * Restore order, as KVM wants it: the vCPUs exist and the vGIC is
 * initialised (vm_create); every vCPU's registers and MP state; then the
 * vGIC (snap_kvm_restore_vm_late), whose per-CPU parts are addressed by
 * the MPIDR the vCPUs now carry; all before any vCPU runs, which is also
 * what lets KVM take the firmware registers back.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"
#include "snap_kvm.h"
#include "snap_regs.h"

#define MP_VERSION 1u

#define REG_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)
/* ICC_* system registers as the vGIC's CPU_SYSREGS attribute encodes them. */
#define ICC(op1, crn, crm, op2) ((3u << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

/* ---- vGIC attributes ---------------------------------------------------------- */

/* The distributor's list at the most interrupts a vGIC has (1024): 2420. */
#define GL_MAX 2560u

/* Which registers of one vGIC group a snapshot holds, in the order they are restored. */
struct gic_list {
	uint32_t group;
	uint32_t size;	/* 4: MMIO registers and line levels; 8: ICC_* */
	uint64_t mpidr; /* the attribute's bits 63-32 (0 for VM-wide ones) */
	uint32_t n;
	uint64_t ids[GL_MAX];
	uint64_t vals[GL_MAX]; /* gic_save's */
	bool have[GL_MAX];     /* gic_save's: KVM gave it */
	bool optional[GL_MAX]; /* may be absent on this GIC (ICC_AP0R1..3 with few priority bits) */
};

static void gl_add(struct gic_list *l, uint64_t id, bool optional)
{
	if (l->n < ARRAY_SIZE(l->ids)) {
		l->optional[l->n] = optional;
		l->ids[l->n++] = id;
	}
}

static int gic_attr(struct vm *vm, unsigned long op, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = {.group = group, .attr = attr, .addr = (uintptr_t)val};
	int r = kvm_ioctl(vm->arch.gic_fd, op, &a);

	return r < 0 ? r : 0;
}

static int gic_nr_irqs(struct vm *vm, uint32_t *n)
{
	int r = gic_attr(vm, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, n);

	if (!r && (*n < 64 || *n > 1024 || *n % 32))
		r = -ERANGE;
	return r;
}

/*
 * The distributor: IIDR first (the doc asks userspace to write it back
 * before anything else), then per-interrupt registers for the SPIs (the
 * SGIs' and PPIs' are the redistributors'), CTLR last so the groups are
 * enabled over a complete configuration.  IROUTER is 64-bit: two words.
 */
static void dist_list(struct gic_list *l, uint32_t nr_irqs)
{
	static const uint32_t per32[] = {0x080, 0x100, 0x200, 0x300}; /* IGROUPR ISENABLER ISPENDR
									 ISACTIVER */

	*l = (struct gic_list){.group = KVM_DEV_ARM_VGIC_GRP_DIST_REGS, .size = 4};
	gl_add(l, 0x0008, false); /* GICD_IIDR */
	for (size_t k = 0; k < ARRAY_SIZE(per32); k++)
		for (uint32_t i = 32; i < nr_irqs; i += 32)
			gl_add(l, per32[k] + i / 8, false);
	for (uint32_t i = 32; i < nr_irqs; i += 4)
		gl_add(l, 0x400 + i, false); /* IPRIORITYR, a byte each */
	for (uint32_t i = 32; i < nr_irqs; i += 16)
		gl_add(l, 0xc00 + i / 4, false); /* ICFGR, two bits each */
	for (uint32_t i = 32; i < nr_irqs; i++) {
		gl_add(l, 0x6000 + 8 * i, false); /* IROUTER, low word */
		gl_add(l, 0x6000 + 8 * i + 4, false);
	}
	gl_add(l, 0x0000, false); /* GICD_CTLR */
}

/* One vCPU's redistributor: the SGI_base frame's SGI/PPI registers, then GICR_CTLR. */
static void redist_list(struct gic_list *l, uint64_t mpidr)
{
	static const uint32_t sgi[] = {0x10080, 0x10100, 0x10200, 0x10300, 0x10c00, 0x10c04};

	*l =
	    (struct gic_list){.group = KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, .size = 4, .mpidr = mpidr};
	for (size_t k = 0; k < ARRAY_SIZE(sgi); k++)
		gl_add(l, sgi[k], false);
	for (uint32_t i = 0; i < 32; i += 4)
		gl_add(l, 0x10400 + i, false); /* GICR_IPRIORITYR0-7 */
	gl_add(l, 0x0000, false);	       /* GICR_CTLR */
}

/* One vCPU's CPU interface: SRE and CTLR (which sets how many APxRn exist) first. */
static void cpu_list(struct gic_list *l, uint64_t mpidr)
{
	*l =
	    (struct gic_list){.group = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, .size = 8, .mpidr = mpidr};
	gl_add(l, ICC(0, 12, 12, 5), false); /* ICC_SRE_EL1 */
	gl_add(l, ICC(0, 12, 12, 4), false); /* ICC_CTLR_EL1 */
	gl_add(l, ICC(0, 4, 6, 0), false);   /* ICC_PMR_EL1 */
	gl_add(l, ICC(0, 12, 8, 3), false);  /* ICC_BPR0_EL1 */
	gl_add(l, ICC(0, 12, 12, 3), false); /* ICC_BPR1_EL1 */
	for (uint32_t n = 0; n < 4; n++) {
		gl_add(l, ICC(0, 12, 8, 4 + n), n > 0); /* ICC_AP0Rn_EL1 */
		gl_add(l, ICC(0, 12, 9, n), n > 0);	/* ICC_AP1Rn_EL1 */
	}
	gl_add(l, ICC(0, 12, 12, 6), false); /* ICC_IGRPEN0_EL1 */
	gl_add(l, ICC(0, 12, 12, 7), false); /* ICC_IGRPEN1_EL1 */
}

/* Line levels: the SPIs' (VM-wide, @vintid_from 32) or one vCPU's PPIs (0 to 31). */
static void level_list(struct gic_list *l, uint64_t mpidr, uint32_t from, uint32_t to)
{
	*l = (struct gic_list){.group = KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, .size = 4, .mpidr = mpidr};
	for (uint32_t i = from; i < to; i += 32)
		gl_add(l,
		       ((uint64_t)VGIC_LEVEL_INFO_LINE_LEVEL
			<< KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT) |
			   i,
		       false);
}

static int gic_save(struct vm *vm, struct gic_list *l, struct snap_writer *w, uint32_t sec,
		    uint32_t id, char *err, size_t errlen)
{
	uint64_t *vals = l->vals;
	bool *have = l->have;
	uint32_t n = 0;
	struct pw p;
	int r;

	for (uint32_t i = 0; i < l->n; i++) {
		vals[i] = 0;
		r = gic_attr(vm, KVM_GET_DEVICE_ATTR, l->group, l->mpidr << 32 | l->ids[i],
			     &vals[i]);
		have[i] = !r;
		if (r && !l->optional[i])
			return snap_fail_errno(err, errlen, r, "vGIC group %u register 0x%llx",
					       l->group, (unsigned long long)l->ids[i]);
		n += have[i];
	}
	pw_init(&p);
	snap_regs_begin(&p, n);
	for (uint32_t i = 0; i < l->n; i++)
		if (have[i])
			snap_regs_put(&p, l->ids[i], &vals[i], l->size);
	r = p.err ? p.err : snap_w_section(w, sec, id, p.buf, p.len);
	pw_free(&p);
	return r ? snap_fail_errno(err, errlen, r, "vGIC state") : 0;
}

/*
 * Replays a saved list.  Only ids of @l's own list are taken: a state file
 * is hostile, and whatever it names goes to KVM with this VM's MPIDR.
 */
static int gic_restore(struct vm *vm, const struct gic_list *l, const struct snap_image *img,
		       uint32_t sec, uint32_t id, char *err, size_t errlen)
{
	struct snap_reg *regs;
	const char *why;
	const void *p;
	uint64_t len;
	uint32_t n;
	int r;

	if (snap_find(img, sec, id, &p, &len))
		return snap_fail_errno(err, errlen, 0, "snapshot has no %s section for %u",
				       snap_section_name(sec), id);
	r = snap_regs_parse(p, len, l->size, &regs, &n, &why);
	if (r)
		return snap_fail_errno(err, errlen, 0, "snapshot section %s %u: %s",
				       snap_section_name(sec), id, why);
	for (uint32_t i = 0; !r && i < n; i++) {
		uint64_t v = 0;
		bool known = false;

		for (uint32_t k = 0; k < l->n && !known; k++)
			known = l->ids[k] == regs[i].id;
		if (!known) {
			r = snap_fail_errno(
			    err, errlen, 0, "snapshot section %s %u: unknown register 0x%llx",
			    snap_section_name(sec), id, (unsigned long long)regs[i].id);
			break;
		}
		memcpy(&v, regs[i].val, l->size);
		r = gic_attr(vm, KVM_SET_DEVICE_ATTR, l->group, l->mpidr << 32 | regs[i].id, &v);
		if (r)
			r = snap_fail_errno(err, errlen, r,
					    "restoring vGIC group %u register 0x%llx", l->group,
					    (unsigned long long)regs[i].id);
	}
	free(regs);
	return r;
}

/* MPIDR_EL1's affinity fields as the vGIC attributes' bits 63-32 want them. */
static int gic_mpidr(struct vcpu *v, uint64_t *out)
{
	uint64_t m;
	int r = arm64_vcpu_mpidr(v, &m);

	*out = (m & 0xffffff) | ((m >> 32) & 0xff) << 24;
	return r;
}

/*
 * Each vGIC list of this VM in restore order, saved (@w) or restored (@img):
 * the distributor, then per vCPU its redistributor, CPU interface and PPI
 * levels, then the SPI levels.  One list at a time: the distributor's
 * grows with the interrupt count.
 */
static int gic_each(struct vm *vm, struct snap_writer *w, const struct snap_image *img, char *err,
		    size_t errlen)
{
	struct gic_list *l = calloc(1, sizeof(*l));
	uint32_t nr_irqs;
	int r = l ? gic_nr_irqs(vm, &nr_irqs) : -ENOMEM;

	if (r) {
		free(l);
		return snap_fail_errno(err, errlen, r, "vGIC register lists");
	}
#define GIC_DO(sec, id)                                                                            \
	(w ? gic_save(vm, l, w, sec, id, err, errlen)                                              \
	   : gic_restore(vm, l, img, sec, id, err, errlen))
	dist_list(l, nr_irqs);
	r = GIC_DO(SNAP_SEC_GIC_DIST, 0);
	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++) {
		uint64_t mpidr;

		r = gic_mpidr(&vm->vcpus[i], &mpidr);
		if (r) {
			r = snap_fail_errno(err, errlen, r, "vCPU %u: MPIDR_EL1", i);
			break;
		}
		redist_list(l, mpidr);
		r = GIC_DO(SNAP_SEC_GIC_REDIST, i);
		cpu_list(l, mpidr);
		r = r ? r : GIC_DO(SNAP_SEC_GIC_CPU, i);
		level_list(l, mpidr, 0, 32);
		r = r ? r : GIC_DO(SNAP_SEC_GIC_PPI_LEVEL, i);
	}
	level_list(l, 0, 32, nr_irqs);
	r = r ? r : GIC_DO(SNAP_SEC_GIC_SPI_LEVEL, 0);
#undef GIC_DO
	free(l);
	return r;
}

/* ---- save ------------------------------------------------------------------ */

int snap_kvm_save_vm(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	if (!vm->arch.has_gic)
		return snap_fail_errno(err, errlen, 0, "no vGIC to save");
	return gic_each(vm, w, NULL, err, errlen);
}

static int reg_list(struct vcpu *v, struct kvm_reg_list **out)
{
	struct kvm_reg_list probe = {.n = 0}, *l;
	int r = kvm_ioctl(v->fd, KVM_GET_REG_LIST, &probe);

	if (r != -E2BIG)
		return r < 0 ? r : -EIO;
	if (probe.n > SNAP_REGS_MAX)
		return -E2BIG;
	l = calloc(1, sizeof(*l) + probe.n * sizeof(l->reg[0]));
	if (!l)
		return -ENOMEM;
	l->n = probe.n;
	r = kvm_ioctl(v->fd, KVM_GET_REG_LIST, l);
	if (r < 0) {
		free(l);
		return r;
	}
	*out = l;
	return 0;
}

int snap_kvm_save_vcpu(struct vcpu *v, struct snap_writer *w, char *err, size_t errlen)
{
	struct kvm_reg_list *list = NULL;
	struct kvm_mp_state mp;
	uint8_t val[SNAP_REG_MAX_SIZE];
	struct pw p;
	int r = reg_list(v, &list);

	if (r)
		return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_REG_LIST", v->index);
	pw_init(&p);
	snap_regs_begin(&p, (uint32_t)list->n);
	for (uint64_t i = 0; !r && i < list->n; i++) {
		uint64_t id = list->reg[i];
		uint32_t size = snap_reg_id_size(id);
		struct kvm_one_reg one = {.id = id, .addr = (uintptr_t)val};

		if (size > sizeof(val)) {
			r = snap_fail_errno(err, errlen, 0,
					    "vCPU %u: register 0x%llx is %u bytes wide", v->index,
					    (unsigned long long)id, size);
			break;
		}
		r = kvm_ioctl(v->fd, KVM_GET_ONE_REG, &one);
		if (r < 0)
			r = snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_ONE_REG 0x%llx",
					    v->index, (unsigned long long)id);
		else
			snap_regs_put(&p, id, val, size);
	}
	free(list);
	if (!r && p.err)
		r = snap_fail_errno(err, errlen, p.err, "vCPU %u: registers", v->index);
	if (!r)
		snap_w_section(w, SNAP_SEC_VCPU_ONE_REGS, v->index, p.buf, p.len);
	pw_free(&p);
	if (r)
		return r;
	r = kvm_ioctl(v->fd, KVM_GET_MP_STATE, &mp);
	if (r < 0)
		return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_MP_STATE", v->index);
	pw_init(&p);
	pw_u32(&p, MP_VERSION);
	pw_u32(&p, mp.mp_state);
	r = p.err ? p.err : snap_w_section(w, SNAP_SEC_VCPU_ARM_MP, v->index, p.buf, p.len);
	pw_free(&p);
	return r ? snap_fail_errno(err, errlen, r, "vCPU %u: MP state", v->index) : 0;
}

/* ---- restore ----------------------------------------------------------------- */

int snap_kvm_restore_vm(struct vm *vm, const struct snap_image *img, char *err, size_t errlen)
{
	(void)vm;
	(void)img;
	(void)err;
	(void)errlen;
	return 0;
}

int snap_kvm_restore_vm_late(struct vm *vm, const struct snap_image *img, bool clock_realtime,
			     char *err, size_t errlen)
{
	/* The virtual counter is a register of each vCPU's, restored with them. */
	if (clock_realtime)
		log_warn("clock_realtime is x86-only (kvmclock); the aarch64 guest's counter "
			 "resumes where it stopped");
	return gic_each(vm, NULL, img, err, errlen);
}

/*
 * What must go back for the guest to run on: the core registers (PC,
 * PSTATE, the general and FP/SIMD registers), the timer's and MPIDR.  A
 * refusal of another system or firmware register (a feature this host's
 * KVM lacks or will not let be changed) is logged and skipped, as x86's
 * MSRs are.
 */
static bool reg_vital(uint64_t id)
{
	return (id & KVM_REG_ARM_COPROC_MASK) == KVM_REG_ARM_CORE || id == KVM_REG_ARM_TIMER_CTL ||
	       id == KVM_REG_ARM_TIMER_CVAL || id == KVM_REG_ARM_TIMER_CNT || id == REG_MPIDR_EL1;
}

static bool listed(const struct kvm_reg_list *l, uint64_t id)
{
	for (uint64_t i = 0; i < l->n; i++)
		if (l->reg[i] == id)
			return true;
	return false;
}

/*
 * The saved registers into @v.  Only ids this vCPU's KVM lists go to
 * KVM_SET_ONE_REG: the file is hostile, and an id KVM does not list is
 * one it would not take back anyway.
 */
static int restore_regs(struct vcpu *v, const struct snap_reg *regs, uint32_t n, char *err,
			size_t errlen)
{
	struct kvm_reg_list *list;
	int r = reg_list(v, &list);

	if (r)
		return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_REG_LIST", v->index);
	for (uint32_t i = 0; !r && i < n; i++) {
		uint8_t val[SNAP_REG_MAX_SIZE];
		struct kvm_one_reg one = {.id = regs[i].id, .addr = (uintptr_t)val};

		/* KVM reads the id's size (snap_regs_parse checked it is regs[i].size). */
		memcpy(val, regs[i].val, regs[i].size);
		r = listed(list, regs[i].id) ? kvm_ioctl(v->fd, KVM_SET_ONE_REG, &one) : -ENOENT;
		if (r < 0 && !reg_vital(regs[i].id)) {
			log_warn("vCPU %u: KVM refused register 0x%llx from the snapshot (%s)",
				 v->index, (unsigned long long)regs[i].id, strerror(-r));
			r = 0;
		} else if (r < 0) {
			r = snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_ONE_REG 0x%llx",
					    v->index, (unsigned long long)regs[i].id);
		} else {
			r = 0;
		}
	}
	free(list);
	return r;
}

int snap_kvm_restore_vcpu(struct vcpu *v, const struct snap_image *img, char *err, size_t errlen)
{
	struct snap_reg *regs;
	struct kvm_mp_state mp;
	const char *why;
	const void *p;
	uint64_t len;
	uint32_t n, version;
	struct pr rd;
	int r;

	if (snap_find(img, SNAP_SEC_VCPU_ONE_REGS, v->index, &p, &len))
		return snap_fail_errno(err, errlen, 0,
				       "snapshot has no vcpu-one-regs section for %u", v->index);
	r = snap_regs_parse(p, len, SNAP_REGS_SIZE_ID, &regs, &n, &why);
	if (r)
		return snap_fail_errno(err, errlen, 0, "snapshot section vcpu-one-regs %u: %s",
				       v->index, why);
	r = restore_regs(v, regs, n, err, errlen);
	free(regs);
	if (r)
		return r;
	if (snap_find(img, SNAP_SEC_VCPU_ARM_MP, v->index, &p, &len))
		return snap_fail_errno(err, errlen, 0, "snapshot has no vcpu-arm-mp section for %u",
				       v->index);
	pr_init(&rd, p, (size_t)len);
	version = pr_u32(&rd);
	mp.mp_state = pr_u32(&rd);
	if (pr_finish(&rd, &why) || version != MP_VERSION)
		return snap_fail_errno(err, errlen, 0, "snapshot section vcpu-arm-mp %u: %s",
				       v->index, why ? why : "unknown version");
	r = kvm_ioctl(v->fd, KVM_SET_MP_STATE, &mp);
	return r < 0 ? snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_MP_STATE %u", v->index,
				       mp.mp_state)
		     : 0;
}
