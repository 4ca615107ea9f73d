// SPDX-License-Identifier: Apache-2.0
/*
 * KVM state in and out of a snapshot: the VM-wide interrupt controllers,
 * PIT and clock, and every vCPU's architectural state.  Payloads are the
 * raw KVM structures; a reader checks each length before the structure
 * goes anywhere near an ioctl.
 *
 * Restore order follows what KVM needs (and what Firecracker found out the
 * hard way): CPUID before anything that depends on the features it
 * advertises (XSAVE size, MSRs); sregs, which carry the APIC base, before
 * the LAPIC; the LAPIC before the MSRs, so the TSC deadline lands in an
 * armed timer; vCPU events last, because the other calls may clear
 * pending exceptions.  The VM's kvmclock after every vCPU, beside their TSCs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap_kvm.h"

#define MSR_MAX	     1024 /* far above the ~100 KVM lists */
#define CPUID_MAX    256
#define XSAVE_MAX    (64u << 10)
#define XSAVE_LEGACY sizeof(struct kvm_xsave)
#define MSR_IA32_TSC 0x10
/* A TSC read back this close to the one written: the ioctls' own time, logged as nothing. */
#define TSC_SLACK (1ull << 24)

/*
 * MSRs KVM's index list leaves out but a running Linux guest programs:
 * the MTRRs (def type, fixed ranges, 8 variable pairs) and PAT.
 */
static const uint32_t extra_msrs[] = {
    0x2ff, 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d,
    0x26e, 0x26f, 0x277, 0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206,
    0x207, 0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
};

/* ---- MSR list ------------------------------------------------------------ */

/*
 * Every MSR this vCPU can read: KVM's list plus extra_msrs, each probed
 * once, because KVM_GET_MSRS stops at the first index it refuses.
 */
static int msr_probe(struct vm *vm, struct vcpu *v, struct kvm_msrs **out)
{
	struct kvm_msr_list probe = {.nmsrs = 0}, *list;
	struct kvm_msrs *m;
	uint32_t n;
	int r;

	r = kvm_ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe);
	if (r != -E2BIG)
		return r < 0 ? r : -EIO;
	if (probe.nmsrs > MSR_MAX)
		return -E2BIG;
	n = probe.nmsrs;
	list = calloc(1, sizeof(*list) + (n + ARRAY_SIZE(extra_msrs)) * sizeof(uint32_t));
	m = calloc(1, sizeof(*m) + (n + ARRAY_SIZE(extra_msrs)) * sizeof(struct kvm_msr_entry));
	if (!list || !m) {
		r = -ENOMEM;
		goto err;
	}
	list->nmsrs = n;
	r = kvm_ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list);
	if (r < 0)
		goto err;
	memcpy(&list->indices[list->nmsrs], extra_msrs, sizeof(extra_msrs));
	list->nmsrs += ARRAY_SIZE(extra_msrs);
	for (uint32_t i = 0; i < list->nmsrs; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} one = {.hdr.nmsrs = 1, .e.index = list->indices[i]};
		bool dup = false;

		for (uint32_t j = 0; j < m->nmsrs && !dup; j++)
			dup = m->entries[j].index == one.e.index;
		if (!dup && kvm_ioctl(v->fd, KVM_GET_MSRS, &one) == 1)
			m->entries[m->nmsrs++].index = one.e.index;
	}
	free(list);
	*out = m;
	return 0;
err:
	free(list);
	free(m);
	return r;
}

/* ---- save ------------------------------------------------------------------ */

int snap_kvm_save_vm(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	static const struct {
		uint32_t chip, sec;
	} chips[] = {
	    {KVM_IRQCHIP_PIC_MASTER, SNAP_SEC_PIC_MASTER},
	    {KVM_IRQCHIP_PIC_SLAVE, SNAP_SEC_PIC_SLAVE},
	    {KVM_IRQCHIP_IOAPIC, SNAP_SEC_IOAPIC},
	};
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(chips); i++) {
		struct kvm_irqchip chip = {.chip_id = chips[i].chip};

		r = kvm_ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip);
		if (r < 0)
			return snap_fail_errno(err, errlen, r, "KVM_GET_IRQCHIP %u", chips[i].chip);
		snap_w_section(w, chips[i].sec, 0, &chip, sizeof(chip));
	}
	r = kvm_ioctl(vm->vm_fd, KVM_GET_PIT2, &pit);
	if (r < 0)
		return snap_fail_errno(err, errlen, r, "KVM_GET_PIT2");
	snap_w_section(w, SNAP_SEC_PIT, 0, &pit, sizeof(pit));
	r = kvm_ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock);
	if (r < 0)
		return snap_fail_errno(err, errlen, r, "KVM_GET_CLOCK");
	return snap_w_section(w, SNAP_SEC_CLOCK, 0, &clock, sizeof(clock));
}

static int xsave_size(struct vm *vm)
{
	int r = kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)KVM_CAP_XSAVE2);

	return r > (int)XSAVE_LEGACY ? r : (int)XSAVE_LEGACY;
}

/* Sections with a fixed-size payload, got with one ioctl each. */
static const struct fixed_sec {
	uint32_t sec;
	unsigned long get, set;
	size_t size;
	const char *name;
} fixed[] = {
    {SNAP_SEC_VCPU_MP_STATE, KVM_GET_MP_STATE, KVM_SET_MP_STATE, sizeof(struct kvm_mp_state),
     "MP_STATE"},
    {SNAP_SEC_VCPU_REGS, KVM_GET_REGS, KVM_SET_REGS, sizeof(struct kvm_regs), "REGS"},
    {SNAP_SEC_VCPU_SREGS, KVM_GET_SREGS, KVM_SET_SREGS, sizeof(struct kvm_sregs), "SREGS"},
    {SNAP_SEC_VCPU_XCRS, KVM_GET_XCRS, KVM_SET_XCRS, sizeof(struct kvm_xcrs), "XCRS"},
    {SNAP_SEC_VCPU_DEBUGREGS, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, sizeof(struct kvm_debugregs),
     "DEBUGREGS"},
    {SNAP_SEC_VCPU_LAPIC, KVM_GET_LAPIC, KVM_SET_LAPIC, sizeof(struct kvm_lapic_state), "LAPIC"},
};

int snap_kvm_save_vcpu(struct vcpu *v, struct snap_writer *w, char *err, size_t errlen)
{
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs dregs;
		struct kvm_lapic_state lapic;
		struct kvm_mp_state mp;
		struct kvm_vcpu_events ev;
	} u;
	struct kvm_cpuid2 *cpuid = NULL;
	struct kvm_msrs *msrs = NULL;
	struct kvm_xsave *xsave = NULL;
	int xsize = xsave_size(v->vm), r, khz;

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		r = kvm_ioctl(v->fd, fixed[i].get, &u);
		if (r < 0)
			return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_%s", v->index,
					       fixed[i].name);
		snap_w_section(w, fixed[i].sec, v->index, &u, fixed[i].size);
	}
	r = kvm_ioctl(v->fd, KVM_GET_VCPU_EVENTS, &u.ev);
	if (r < 0)
		return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_VCPU_EVENTS", v->index);
	snap_w_section(w, SNAP_SEC_VCPU_EVENTS, v->index, &u.ev, sizeof(u.ev));

	xsave = calloc(1, (size_t)xsize);
	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX * sizeof(cpuid->entries[0]));
	if (!xsave || !cpuid) {
		r = snap_fail_errno(err, errlen, -ENOMEM, "vCPU %u", v->index);
		goto out;
	}
	r = kvm_ioctl(v->fd, xsize > (int)XSAVE_LEGACY ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, xsave);
	if (r < 0) {
		r = snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_XSAVE", v->index);
		goto out;
	}
	snap_w_section(w, SNAP_SEC_VCPU_XSAVE, v->index, xsave, (uint64_t)xsize);

	cpuid->nent = CPUID_MAX;
	r = kvm_ioctl(v->fd, KVM_GET_CPUID2, cpuid);
	if (r < 0) {
		r = snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_CPUID2", v->index);
		goto out;
	}
	snap_w_section(w, SNAP_SEC_VCPU_CPUID, v->index, cpuid,
		       sizeof(*cpuid) + cpuid->nent * sizeof(cpuid->entries[0]));

	r = msr_probe(v->vm, v, &msrs);
	if (!r) {
		uint32_t want = msrs->nmsrs;

		r = kvm_ioctl(v->fd, KVM_GET_MSRS, msrs);
		if (r >= 0 && (uint32_t)r != want)
			r = -EIO;
	}
	if (r < 0) {
		r = snap_fail_errno(err, errlen, r, "vCPU %u: KVM_GET_MSRS", v->index);
		goto out;
	}
	snap_w_section(w, SNAP_SEC_VCPU_MSRS, v->index, msrs,
		       sizeof(*msrs) + msrs->nmsrs * sizeof(msrs->entries[0]));

	khz = kvm_ioctl(v->fd, KVM_GET_TSC_KHZ, NULL);
	if (khz > 0) {
		uint32_t k = (uint32_t)khz;

		snap_w_section(w, SNAP_SEC_VCPU_TSC_KHZ, v->index, &k, sizeof(k));
	}
	r = 0;
out:
	free(xsave);
	free(cpuid);
	free(msrs);
	return r;
}

/* ---- restore ----------------------------------------------------------------- */

/* The section (@type, @id), which must be exactly @size bytes (any size if 0; *@lenp gets it). */
static const void *need_len(const struct snap_image *img, uint32_t type, uint32_t id, uint64_t size,
			    uint64_t *lenp, char *err, size_t errlen)
{
	const void *p;
	uint64_t len;

	if (snap_find(img, type, id, &p, &len)) {
		snprintf(err, errlen, "snapshot has no %s section for %u", snap_section_name(type),
			 id);
		return NULL;
	}
	if (size && len != size) {
		snprintf(err, errlen, "snapshot section %s %u is %llu bytes, expected %llu",
			 snap_section_name(type), id, (unsigned long long)len,
			 (unsigned long long)size);
		return NULL;
	}
	if (lenp)
		*lenp = len;
	return p;
}

static const void *need(const struct snap_image *img, uint32_t type, uint32_t id, uint64_t size,
			char *err, size_t errlen)
{
	return need_len(img, type, id, size, NULL, err, errlen);
}

int snap_kvm_restore_vm(struct vm *vm, const struct snap_image *img, char *err, size_t errlen)
{
	static const uint32_t secs[] = {SNAP_SEC_PIC_MASTER, SNAP_SEC_PIC_SLAVE, SNAP_SEC_IOAPIC};
	const struct kvm_pit_state2 *pit;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(secs); i++) {
		const struct kvm_irqchip *c = need(img, secs[i], 0, sizeof(*c), err, errlen);

		if (!c)
			return -EINVAL;
		if (c->chip_id != (uint32_t)i)
			return snap_fail_errno(err, errlen, 0,
					       "snapshot irqchip section %zu names chip %u", i,
					       c->chip_id);
		r = kvm_ioctl(vm->vm_fd, KVM_SET_IRQCHIP, (void *)c);
		if (r < 0)
			return snap_fail_errno(err, errlen, r, "KVM_SET_IRQCHIP %zu", i);
	}
	pit = need(img, SNAP_SEC_PIT, 0, sizeof(*pit), err, errlen);
	if (!pit)
		return -EINVAL;
	r = kvm_ioctl(vm->vm_fd, KVM_SET_PIT2, (void *)pit);
	return r < 0 ? snap_fail_errno(err, errlen, r, "KVM_SET_PIT2") : 0;
}

/*
 * kvmclock, after the vCPUs: the guest's clock and its TSCs (restore_tsc)
 * then start from one moment, as they were saved at one.  Set first, the
 * clock ran ahead of the TSC by the vCPUs' restore (9 ms seen in the nested
 * harness); QEMU too sets it last, as the VM resumes.
 */
int snap_kvm_restore_vm_late(struct vm *vm, const struct snap_image *img, bool clock_realtime,
			     char *err, size_t errlen)
{
	const struct kvm_clock_data *saved;
	struct kvm_clock_data clock;
	int r;

	saved = need(img, SNAP_SEC_CLOCK, 0, sizeof(*saved), err, errlen);
	if (!saved)
		return -EINVAL;
	/*
	 * By default the guest's clock resumes where it stopped; with
	 * clock_realtime KVM adds the wall time since the snapshot.
	 */
	clock = (struct kvm_clock_data){.clock = saved->clock};
	if (clock_realtime && (saved->flags & KVM_CLOCK_REALTIME)) {
		clock.flags = KVM_CLOCK_REALTIME;
		clock.realtime = saved->realtime;
	} else if (clock_realtime) {
		/* KVM pairs the clock with wall time only on a TSC-based host clock. */
		log_warn("clock_realtime: the snapshot's host clock was not TSC-based; "
			 "the guest's clock resumes where it stopped");
	}
	r = kvm_ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock);
	return r < 0 ? snap_fail_errno(err, errlen, r, "KVM_SET_CLOCK") : 0;
}

/* A variable-length section: header of @hdr bytes with a count of @elem-sized entries. */
static const void *need_var(const struct snap_image *img, uint32_t type, uint32_t id, size_t hdr,
			    size_t elem, uint32_t max, char *err, size_t errlen)
{
	uint64_t len;
	const void *p = need_len(img, type, id, 0, &len, err, errlen);
	uint32_t n;

	if (!p)
		return NULL;
	if (len < sizeof(n)) {
		snprintf(err, errlen, "snapshot section %s %u is too short",
			 snap_section_name(type), id);
		return NULL;
	}
	memcpy(&n, p, sizeof(n)); /* nmsrs / nent: the first member of both */
	if (len < hdr || n > max || len != hdr + (uint64_t)n * elem) {
		snprintf(err, errlen, "snapshot section %s %u: count %u does not match its size",
			 snap_section_name(type), id, n);
		return NULL;
	}
	return p;
}

static int restore_msrs(struct vcpu *v, const struct kvm_msrs *saved, char *err, size_t errlen)
{
	size_t size = sizeof(*saved) + saved->nmsrs * sizeof(saved->entries[0]);
	struct kvm_msrs *m = malloc(size);
	uint32_t done = 0;
	int r = 0;

	if (!m)
		return snap_fail_errno(err, errlen, -ENOMEM, "vCPU %u: MSRs", v->index);
	/*
	 * KVM_SET_MSRS stops at the first MSR it refuses.  One this host's KVM
	 * will not take back (a feature it lacks) is logged and skipped; the
	 * rest must go in.
	 */
	while (done < saved->nmsrs) {
		m->nmsrs = saved->nmsrs - done;
		memcpy(m->entries, &saved->entries[done], m->nmsrs * sizeof(m->entries[0]));
		r = kvm_ioctl(v->fd, KVM_SET_MSRS, m);
		if (r < 0)
			break;
		done += (uint32_t)r;
		if (done < saved->nmsrs) {
			log_warn("vCPU %u: KVM refused MSR 0x%x from the snapshot", v->index,
				 saved->entries[done].index);
			done++;
		}
		r = 0;
	}
	free(m);
	return r < 0 ? snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_MSRS", v->index) : 0;
}

/*
 * The TSC as saved, which KVM_SET_MSRS alone does not give.  Linux 6.1's
 * kvm_synchronize_tsc (later kernels spare a VM's first write) takes a
 * write within one second of the TSC the VM's vCPUs would read had they
 * run since they were made for an attempt to line vCPUs up, and keeps the
 * old offset instead of the value.  A pooled fork child makes its vCPU
 * while its parent boots, so the parent's TSC at the fork is just such a
 * value: the child's TSC went back by the time between the two vCPUs'
 * births (0.1-0.6 s in the nested harness).  A snapshot of a guest younger
 * than a second meets the same fate.  So the offset is set outright
 * (KVM_VCPU_TSC_OFFSET, Linux 5.16): vCPU 0's is the one in force moved by
 * what its TSC lacks now (exact: an offset does not move with time); the
 * others take vCPU 0's, which keeps them in step, and KVM counts the TSCs
 * as matched, as kvm-clock wants.  Without the attribute, or if an ioctl
 * here fails (logged), the write stands.
 */
static void restore_tsc(struct vcpu *v, const struct kvm_msrs *saved)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} now = {.h.nmsrs = 1, .e.index = MSR_IA32_TSC};
	uint64_t off;
	struct kvm_device_attr a = {
	    .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET, .addr = (uintptr_t)&off};
	uint32_t i = 0;
	int r;

	while (i < saved->nmsrs && saved->entries[i].index != MSR_IA32_TSC)
		i++;
	if (i == saved->nmsrs || kvm_ioctl(v->vm->vcpus[0].fd, KVM_GET_DEVICE_ATTR, &a) < 0)
		return; /* no TSC saved, or a KVM without the attribute */
	if (!v->index) {
		r = kvm_ioctl(v->fd, KVM_GET_MSRS, &now);
		if (r != 1) {
			log_warn("vCPU 0: reading the TSC back: %s; it stays as KVM set it",
				 strerror(r < 0 ? -r : EIO));
			return;
		}
		if (now.e.data - saved->entries[i].data + TSC_SLACK > 2 * TSC_SLACK)
			log_debug("vCPU 0: KVM put the TSC %lld cycles off the snapshot's; "
				  "setting its offset instead",
				  (long long)(now.e.data - saved->entries[i].data));
		off += saved->entries[i].data - now.e.data;
	}
	/* A failure leaves the TSC as the MSR write did: no reason to refuse the restore. */
	r = kvm_ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a);
	if (r < 0)
		log_warn("vCPU %u: setting the TSC offset: %s; the TSC stays as KVM set it",
			 v->index, strerror(-r));
}

int snap_kvm_restore_vcpu(struct vcpu *v, const struct snap_image *img, char *err, size_t errlen)
{
	const struct kvm_cpuid2 *cpuid;
	const struct kvm_msrs *msrs;
	struct kvm_vcpu_events ev;
	const void *p;
	void *xsave;
	uint64_t len;
	int r, xsize = xsave_size(v->vm);
	unsigned id = v->index;

	cpuid = need_var(img, SNAP_SEC_VCPU_CPUID, id, sizeof(*cpuid), sizeof(cpuid->entries[0]),
			 CPUID_MAX, err, errlen);
	msrs = need_var(img, SNAP_SEC_VCPU_MSRS, id, sizeof(*msrs), sizeof(msrs->entries[0]),
			MSR_MAX, err, errlen);
	if (!cpuid || !msrs)
		return -EINVAL;
	r = kvm_ioctl(v->fd, KVM_SET_CPUID2, (void *)cpuid);
	if (r < 0)
		return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_CPUID2", id);
	if (!snap_find(img, SNAP_SEC_VCPU_TSC_KHZ, id, &p, &len) && len == sizeof(uint32_t)) {
		uint32_t khz;
		int now = kvm_ioctl(v->fd, KVM_GET_TSC_KHZ, NULL);

		memcpy(&khz, p, sizeof(khz));
		if (now > 0 && (uint32_t)now != khz &&
		    kvm_ioctl(v->fd, KVM_SET_TSC_KHZ, (void *)(uintptr_t)khz) < 0)
			log_warn("vCPU %u: snapshot TSC %u kHz, this host %d kHz, no scaling: "
				 "guest time will drift",
				 id, khz, now);
	}
	/* mp_state, regs, sregs, xcrs, debugregs, LAPIC; XSAVE between sregs and xcrs. */
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		const void *s = need(img, fixed[i].sec, id, fixed[i].size, err, errlen);

		if (!s)
			return -EINVAL;
		if (fixed[i].sec == SNAP_SEC_VCPU_XCRS) {
			if (snap_find(img, SNAP_SEC_VCPU_XSAVE, id, &p, &len) ||
			    len < XSAVE_LEGACY || len > XSAVE_MAX)
				return snap_fail_errno(err, errlen, 0,
						       "vCPU %u: snapshot XSAVE section "
						       "missing or of a bad size",
						       id);
			/* KVM copies its own buffer size: pad or refuse, never overread. */
			if (len > (uint64_t)xsize)
				return snap_fail_errno(err, errlen, 0,
						       "vCPU %u: snapshot XSAVE area (%llu "
						       "bytes) is larger than this host's (%d)",
						       id, (unsigned long long)len, xsize);
			xsave = calloc(1, (size_t)xsize);
			if (!xsave)
				return -ENOMEM;
			memcpy(xsave, p, len);
			r = kvm_ioctl(v->fd, KVM_SET_XSAVE, xsave);
			free(xsave);
			if (r < 0)
				return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_XSAVE",
						       id);
		}
		r = kvm_ioctl(v->fd, fixed[i].set, (void *)s);
		if (r < 0)
			return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_%s", id,
					       fixed[i].name);
	}
	r = restore_msrs(v, msrs, err, errlen);
	if (r)
		return r;
	restore_tsc(v, msrs);
	p = need(img, SNAP_SEC_VCPU_EVENTS, id, sizeof(ev), err, errlen);
	if (!p)
		return -EINVAL;
	memcpy(&ev, p, sizeof(ev));
	/* GET leaves these unset; without them SET would drop a pending NMI. */
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	r = kvm_ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev);
	if (r < 0)
		return snap_fail_errno(err, errlen, r, "vCPU %u: KVM_SET_VCPU_EVENTS", id);
	/* Tell a kvmclock guest its clock stood still, so its watchdogs stay quiet. */
	(void)kvm_ioctl(v->fd, KVM_KVMCLOCK_CTRL, NULL);
	return 0;
}
