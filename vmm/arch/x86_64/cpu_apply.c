// SPDX-License-Identifier: Apache-2.0
/*
 * A CPU template on a real VM (Firecracker's order): at VM creation, a
 * static template must fit the host's CPU vendor and model, the template's
 * KVM capabilities must be there, and its CPUID modifiers go onto KVM's
 * supported table, which every vCPU then gets (normalised); at vCPU set-up,
 * its MSR modifiers change the values the vCPU boots with.  Every failure
 * is one log_err line, Firecracker's words where it has some, so it becomes
 * InstanceStart's fault_message.
 */
#include <stdio.h>
#include <string.h>

#include "cpu_template.h"
#include "cpuid.h"
#include "vcpu.h"
#include "vm.h"

/* The template @cfg asks for: a custom one, a static one, or none. */
const struct cpu_template *vm_cpu_template(const struct vm_config *cfg)
{
	if (cfg->cpu_tmpl)
		return cfg->cpu_tmpl;
	return cput_static_get((enum cput_static)cfg->cpu_static);
}

/* The CPUID instruction (-Ivmm hides the compiler's <cpuid.h> behind ours). */
static void host_cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

/* The host's vendor string and family/model/stepping, as Firecracker reads them. */
static void host_cpu(char vendor[12], uint32_t *eax1)
{
	uint32_t r[4];

	host_cpuid(0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	host_cpuid(1, r);
	*eax1 = r[0];
}

int vm_apply_cpu_template(struct vm *vm)
{
	const struct cpu_template *t = vm_cpu_template(vm->cfg);
	char err[256], vendor[12];
	uint32_t eax1;

	/* A restore: the snapshot's vCPUs carry the template's CPUID and MSRs already. */
	if (!t || vm->cfg->mem_src)
		return 0;
	if (!vm->cfg->cpu_tmpl) {
		host_cpu(vendor, &eax1);
		if (cput_static_check((enum cput_static)vm->cfg->cpu_static, vendor, eax1, err,
				      sizeof(err))) {
			log_err("%s", err);
			return -ENOTSUP;
		}
	}
	for (uint32_t i = 0; i < t->nr_caps; i++) {
		if (t->caps[i].remove) /* ember's own needs are checked regardless */
			continue;
		if (kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)t->caps[i].cap) <=
		    0) {
			log_err("Missing KVM capabilities: [%u] (from the CPU template)",
				t->caps[i].cap);
			return -ENOTSUP;
		}
	}
	if (cpuid_apply_template(vm->arch.cpuid->entries, vm->arch.cpuid->nent, t, err,
				 sizeof(err))) {
		log_err("%s", err);
		return -ENOENT;
	}
	return 0;
}

int vcpu_apply_msr_template(struct vcpu *v)
{
	const struct cpu_template *t = vm_cpu_template(v->vm->cfg);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;

	for (uint32_t i = 0; t && i < t->nr_msrs; i++) {
		const struct cput_msr *mod = &t->msrs[i];

		m.hdr = (struct kvm_msrs){.nmsrs = 1};
		m.e = (struct kvm_msr_entry){.index = mod->addr};
		/* KVM_GET_MSRS answers how many it read: 0 for an MSR it does not know. */
		if (kvm_ioctl(v->fd, KVM_GET_MSRS, &m) != 1) {
			log_err("Template changes an MSR entry not supported by KVM: Register "
				"Address: 0x%x",
				mod->addr);
			return -ENOENT;
		}
		m.e.data = cput_apply_bits(m.e.data, mod->filter, mod->value);
		if (kvm_ioctl(v->fd, KVM_SET_MSRS, &m) != 1) {
			log_err("KVM refuses the CPU template's value 0x%llx for MSR 0x%x",
				(unsigned long long)m.e.data, mod->addr);
			return -EINVAL;
		}
	}
	return 0;
}
