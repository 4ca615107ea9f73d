# shellcheck shell=sh
# ACPI tests, sourced by run.sh (its helpers and variables apply).  The
# guest kernel has CONFIG_ACPI and CONFIG_VMGENID; ember gives it ACPI
# tables unless --no-acpi (vmm/acpi.c).

# The guest sees ember's ACPI devices: COM1, the i8042, the VM generation
# ID (its driver bound), the Generic Event Device, and each virtio device
# as LNRO0005, bound to virtio-mmio through ACPI.  With the device hints
# still on the command line, the hint's duplicate fails its probe on the
# busy region and the disks work (Firecracker's behaviour too).
t_acpi_devices() {
	_d=$LOGDIR/acpi-disk.img
	mkdisk "$_d" 1 || return 1
	boot "$VMLINUX" --disk "$_d" --entropy -- ember.test=acpi-devices && rc_is 0 &&
		has 'EMBER_GUEST_RESULT rc=0' && has 'EMBER_VMGENID bound' &&
		has 'EMBER_ACPI_DEV VMGENCTR:00' && has 'EMBER_ACPI_DEV ACPI0013:00' &&
		has 'EMBER_ACPI_DEV PNP0501:00' && has 'EMBER_ACPI_DEV PNP0303:00' &&
		has 'EMBER_ACPI_BOUND LNRO0005:00 virtio-mmio' &&
		has 'EMBER_ACPI_BOUND LNRO0005:01 virtio-mmio' && has 'virtio_mmio.device=' &&
		has 'ACPI: Interpreter enabled' || return 1
	# --no-acpi: the kernel finds no tables and boots from the MP table and the hints.
	cat "$LOG" >"$LOG.acpi" && : >"$LOG"
	boot "$VMLINUX" --no-acpi --disk "$_d" -- ember.test=acpi-devices && rc_is 0 &&
		has 'EMBER_GUEST_RESULT rc=1' && lacks 'EMBER_ACPI_DEV' && lacks 'ACPI: Interpreter enabled' && has 'vda'
}

# The bzImage entry (the zero page's acpi_rsdp_addr) finds the tables too.
t_acpi_bzimage() {
	boot "$BZIMAGE" --vcpus 2 -- ember.test=acpi-devices && rc_is 0 &&
		has 'EMBER_VMGENID bound' && cpus_are 2 && has 'ACPI: Interpreter enabled'
}

# Without virtio_mmio.device= hints a kernel with ACPI finds its devices in
# the DSDT alone: the root disk mounts and the guest test passes.
t_acpi_no_hints() {
	rootfs_copy || return 1
	vm run --kernel "$VMLINUX" --no-device-hints --disk "$LOGDIR/rootfs.ext4,root" \
		--cmdline "$BASE_CMDLINE ember.test=rootfs-check" </dev/null
	reached_init && has 'root=/dev/vda rw' && lacks 'virtio_mmio.device=' &&
		has EMBER_ROOTFS_OK && has 'EMBER_GUEST_RESULT rc=0'
}

# A stock distro kernel finds the devices through ACPI: Debian's own (the
# kernel L1 runs), whose virtio drivers are modules, booted with no
# virtio_mmio.device= hint; guest-tests/acpi-debian loads Debian's modules
# (run.sh stages them as a cpio, appended here to our initramfs) and reads
# the disk, which must have been bound through the DSDT's LNRO0005.
t_acpi_debian_kernel() {
	[ -n "${DEBIAN_KERNEL:-}" ] && [ -n "${DEBIAN_MODULES:-}" ] ||
		{ skip "no Debian kernel staged (tests/nested/run.sh)"; return 1; }
	_d=$LOGDIR/acpi-deb.img _i=$LOGDIR/acpi-deb.cpio
	mkdisk "$_d" 1 && printf EMBER_DEB_MARK_42 | dd of="$_d" conv=notrunc 2>/dev/null &&
		cat "$INITRD" "$DEBIAN_MODULES" >"$_i" || return 1
	vm run --kernel "$DEBIAN_KERNEL" --initrd "$_i" --mem 256 --no-device-hints \
		--disk "$_d" --cmdline "$BASE_CMDLINE ember.test=acpi-debian" </dev/null
	rc_is 0 && lacks 'virtio_mmio.device=' && has 'EMBER_DEB kernel' &&
		has 'ACPI: Interpreter enabled' && has 'EMBER_DEB_BOUND LNRO0005:00 virtio-mmio' &&
		has 'EMBER_DEB_DISK EMBER_DEB_MARK_42' && has 'EMBER_GUEST_RESULT rc=0'
}
