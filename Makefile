# ember - a minimal KVM microVM monitor.
#
#   make            build build/ember (static)
#   make run        install what is missing, build, boot the default guest
#                   (through the nested-KVM harness when there is no /dev/kvm)
#   make test       unit tests, then the integration tests on real KVM
#   make bench      boot-time and memory figures, ember vs QEMU microvm
#   make bench-api  API start-up/latency on the host (BENCH_BASELINE=old ember)
#   make unit       unit tests only (no KVM needed)
#   make host-tests ember on this host's /dev/kvm, whatever it is
#   make input-tests hostile files (FIFOs, directories, huge) given to ember
#   make integration [TESTS="a b"]  integration tests only (some of them)
#   make integration-arm64 [TESTS=..]  the aarch64 build's, in an arm64 L1
#   make format     clang-format the tree

CC      ?= gcc
BUILD   := build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-missing-field-initializers \
           -fno-strict-aliasing -D_GNU_SOURCE -Ivmm
# The architecture ember is built for: vmm/arch/$(ARCH) and snapshot/arch/$(ARCH)
# (vmm/arch.h says what they provide).  The host's by default.
ARCH    ?= $(shell uname -m)
ARCH_SRCS := $(wildcard vmm/arch/$(ARCH)/*.c snapshot/arch/$(ARCH)/*.c jail/arch/$(ARCH)/*.c)
CFLAGS  += -Ivmm/arch/$(ARCH)
# Cross-building for aarch64 (README): Debian's cross compiler, the arm64
# -dev packages unpacked by guest/arm64-sysroot.sh, objects in build-aarch64.
ifeq ($(ARCH),aarch64)
ifneq ($(shell uname -m),aarch64)
CC      := aarch64-linux-gnu-gcc
ifeq ($(origin SYSROOT),undefined)
SYSROOT := $(shell guest/arm64-sysroot.sh)
endif
CFLAGS  += -isystem $(SYSROOT)/usr/include
LDFLAGS += -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
BUILD   := build-aarch64
endif
endif
LDFLAGS += -static -pthread

# ember = vmm/ + virtio/ + api-socket/ + snapshot/ + jail/seccomp*.c (but
# the build-time seccomp compiler, SECCOMP_TOOL_SRCS); the
# jailer is its own binary from jail/jailer*.c.  New files are picked up by
# wildcard, so adding a module never needs a Makefile change.
SECCOMP_TOOL_SRCS := jail/seccomp_gen.c jail/seccomp_compile.c
EMBER_SRCS := $(filter-out $(SECCOMP_TOOL_SRCS),\
	$(wildcard vmm/*.c virtio/*.c api-socket/*.c snapshot/*.c jail/seccomp*.c) $(ARCH_SRCS))
EMBER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(EMBER_SRCS))
JAILER_SRCS := $(wildcard jail/jailer*.c)
JAILER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(JAILER_SRCS)) $(BUILD)/vmm/strnum.o
LDLIBS  := -luring -ljansson -lseccomp -lcap -lfdt
CFLAGS  += -Ivirtio -Iapi-socket -Isnapshot -Ijail -I$(BUILD)/gen

# Objects the unit tests link: everything except what needs KVM, threads or
# a main(): vmm/ minus those, plus all of virtio/ and api-socket/.
UNIT_EXCLUDE := jail/seccomp_gen.c vmm/main.c vmm/vm.c vmm/vcpu.c vmm/launch.c vmm/api_mode.c vmm/api_cmds.c vmm/api_snap.c vmm/virtio_devs.c \
	snapshot/snapshot.c snapshot/migrate.c snapshot/migrate_recv.c vmm/metrics.c \
	vmm/fork.c vmm/fork_child.c vmm/fork_pages.c vmm/spawn.c \
	$(wildcard vmm/arch/*/*_vm.c vmm/arch/*/*_vcpu.c snapshot/arch/*/*.c)
# Plus other architectures' pure parts (plain C), so every host tests them.
UNIT_PORTABLE := vmm/arch/aarch64/fdt.c vmm/arch/aarch64/image.c \
	jail/arch/aarch64/seccomp_rules.c
UNIT_LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(sort $(filter-out $(UNIT_EXCLUDE),\
	$(wildcard vmm/*.c virtio/*.c api-socket/*.c snapshot/*.c jail/seccomp*.c) $(ARCH_SRCS) \
	$(UNIT_PORTABLE))))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps unit layering format-check fuzz fuzz-long fuzz-cov jail-tests host-tests input-tests test integration integration-xhost integration-arm64 run bench bench-api guest format clean
all: $(BUILD)/ember $(if $(JAILER_SRCS),$(BUILD)/ember-jailer)

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/ember: $(EMBER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/ember-jailer: $(JAILER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The seccomp allow-lists, compiled to BPF at build time by libseccomp
# (jail/seccomp_gen.c) and embedded in ember: nothing is compiled at start.
# The compiler is a build host tool with the target's rules (cross builds
# too: HOSTCC, the host's headers and libseccomp, which translates syscall
# names to the target's numbers).  aarch64's programs are made on every
# build: the unit tests check them (tests/unit/test_seccomp_bpf.c).
SECCOMP_GEN_CFLAGS := -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Ivmm -Ijail
$(BUILD)/seccomp-gen-%: jail/seccomp_gen.c jail/seccomp_compile.c jail/seccomp_rules.c \
		jail/arch/%/seccomp_rules.c jail/seccomp_rules.h jail/seccomp_table.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(SECCOMP_GEN_CFLAGS) -DSECCOMP_GEN_ARCH=seccomp_arch_$* -o $@ \
		$(filter %.c,$^) -lseccomp
$(BUILD)/gen/seccomp_bpf_%.h: $(BUILD)/seccomp-gen-%
	@mkdir -p $(dir $@)
	$< $@
$(BUILD)/jail/seccomp.o $(BUILD)/fuzz-obj/jail/seccomp.o: $(BUILD)/gen/seccomp_bpf_$(ARCH).h
$(BUILD)/tests/test_seccomp_bpf: | $(BUILD)/gen/seccomp_bpf_aarch64.h
.SECONDARY: $(BUILD)/seccomp-gen-$(ARCH) $(BUILD)/seccomp-gen-aarch64

# CRC-64's slicing tables (snapshot/crc64.c), generated at build time by a
# host tool (cross builds too: HOSTCC).
HOSTCC ?= cc
$(BUILD)/crc64-gen: snapshot/tools/crc64_gen.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILD)/gen/crc64_table.h: $(BUILD)/crc64-gen
	@mkdir -p $(dir $@)
	$(BUILD)/crc64-gen $@
$(BUILD)/snapshot/crc64.o $(BUILD)/fuzz-obj/snapshot/crc64.o: $(BUILD)/gen/crc64_table.h

# cmocka is linked shared (bookworm has no libcmocka.a); the rest statically,
# as in ember: Debian's liburing.so.2.3 lacks io_uring_register_restrictions.
$(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Wno-missing-prototypes -Itests/unit -o $@ $< $(UNIT_LIB_OBJS) -lcmocka \
		-Wl,-Bstatic $(LDLIBS) -Wl,-Bdynamic -pthread
# A test that builds in the file it tests (its code is not in the unit objects).
$(BUILD)/tests/test_fork_pages: vmm/fork_pages.c

# The guest that triple-faults on purpose (tests/integration/run.sh).
$(BUILD)/triplefault.elf: tests/integration/triplefault.S
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $(BUILD)/triplefault.o
	$(LD) -static -nostdlib -z noexecstack -z max-page-size=4096 --build-id=none \
		-Ttext=0x1000000 -e _start -o $@ $(BUILD)/triplefault.o

# Host side of the vsock tests (static: it runs inside L1).
$(BUILD)/vsock-host: tests/integration/vsock-host.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# Example page fault handler for the Uffd snapshot memory backend (static:
# it runs inside L1 too); tests/unit/test_uffd.c drives it.
$(BUILD)/ember-uffd-handler: snapshot/examples/uffd_handler.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -ljansson

# Order-only: test_uffd runs the handler, it does not link it.
$(BUILD)/tests/test_uffd: | $(BUILD)/ember-uffd-handler

# curl's part the API tests use, for the arm64 L1, which has no curl.
$(BUILD)/api-curl: tests/integration/api-curl.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/mktap: tests/integration/mktap.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# Holds a VM open in L1 so KVM's APIC static keys are never re-patched
# (tests/nested/kvm-keeper.c says why); static, it runs inside L1.
$(BUILD)/kvm-keeper: tests/nested/kvm-keeper.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# Boot-time and memory probe for make bench; runs inside L1 (static).
$(BUILD)/boottime: bench/boottime.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Restore-to-ready probe for make bench (bench/snapshot-in-l1.sh).
$(BUILD)/restoretime: bench/restoretime.c bench/clock.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Restore-to-running probe on the serial console, for ember and QEMU alike
# (bench/restore-peer-in-l1.sh).
$(BUILD)/serialtime: bench/serialtime.c bench/clock.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Throughput client for make bench (bench/net-in-l1.sh), static for L1; the
# same file is the guest's server (guest/mkinitramfs.sh builds guest/tools).
$(BUILD)/netperf: guest/tools/netperf.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# The fuzz targets (tests/fuzz/), built with ASan/UBSan from the unit
# tests' sources (each file compiled again, instrumented).  `make fuzz`
# replays each one's seeds and 2000 mutations of every seed (driver.h): a
# regression check, not a fuzzing campaign.  (-Werror for the targets only:
# `make` holds the rest to it, and clang warns otherwise.)
# `make fuzz-long` (below) builds them for libFuzzer and runs a campaign.
FUZZ_SAN ?= address,undefined
FUZZ_ENGINE ?=
FUZZ_CFLAGS := -g -O1 $(if $(FUZZ_SAN),-fsanitize=$(FUZZ_SAN) -fno-sanitize-recover=all) $(FUZZ_ENGINE) \
	-std=gnu11 -Wall -Wextra -Wno-missing-field-initializers -D_GNU_SOURCE \
	-Ivmm -Ivmm/arch/$(ARCH) -Ivirtio -Iapi-socket -Isnapshot -Ijail -I$(BUILD)/gen
FUZZ_LIB_OBJS := $(patsubst $(BUILD)/%,$(BUILD)/fuzz-obj/%,$(UNIT_LIB_OBJS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))
.SECONDARY: $(FUZZ_LIB_OBJS) $(BUILD)/fuzz-obj/jail/jailer_args.o
$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
# A target that needs more than the unit tests' objects names it here.
FUZZ_EXTRA_jailer := $(BUILD)/fuzz-obj/jail/jailer_args.o
.SECONDEXPANSION:
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.h tests/fuzz/vrig.h $(FUZZ_LIB_OBJS) $$(FUZZ_EXTRA_$$*)
	@echo "  LINK $@ (ASan/UBSan)"
	@$(CC) $(FUZZ_CFLAGS) -MMD -MP -Werror -o $@ $< $(FUZZ_LIB_OBJS) $(FUZZ_EXTRA_$*) \
		-Wl,-Bstatic $(LDLIBS) -Wl,-Bdynamic -pthread

# Each target over its corpus directory, if it has one, and its built-in seeds.
fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; \
		if [ -d tests/fuzz/corpus/$$n ]; then $$f tests/fuzz/corpus/$$n; else $$f; fi; done

# A campaign with libFuzzer (clang), counted in CPU time and logged in
# tests/fuzz/CAMPAIGN.md: tests/fuzz/campaign.sh says how.
fuzz-long:
	$(MAKE) CC=clang FUZZ_SAN=fuzzer,address,undefined FUZZ_ENGINE=-DEMBER_LIBFUZZER \
		BUILD=build-lf $(patsubst $(BUILD)/%,build-lf/%,$(FUZZ_BINS))
	$(MAKE) $(FUZZ_BINS)
	tests/fuzz/campaign.sh $(FUZZ_TARGETS)

# What the replays of `make fuzz` reach, per target and source file (clang,
# llvm-cov): build-cov/NAME.txt, a summary on stdout.
fuzz-cov:
	$(MAKE) CC=clang FUZZ_SAN= FUZZ_ENGINE="-fprofile-instr-generate -fcoverage-mapping" \
		BUILD=build-cov $(patsubst $(BUILD)/%,build-cov/%,$(FUZZ_BINS))
	@tests/fuzz/cov.sh build-cov $(patsubst $(BUILD)/fuzz_%,%,$(FUZZ_BINS))

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The device model's structural rules (tests/layering.sh says which).
layering: all
	tests/layering.sh

# What the tests need from this Makefile, on this host (direct) or in L1
# (the nested harness): one VAR:FILE:DIR[:bench] per tool.  The tests find
# $(BUILD)/FILE through the environment variable VAR (- for none: l1-init
# runs kvm-keeper by name); in L1 it is /ember/DIR/FILE; bench marks what
# only make bench needs.  tests/nested/run.sh checks, stages and exports
# what $(BUILD)/l1-manifest lists, and that is written from this list, so a
# new tool is one line here.  The guest kernel, initramfs and rootfs come
# from guest/*.sh: run.sh adds those itself.
L1_MANIFEST := \
	EMBER:ember:bin \
	JAILER:ember-jailer:bin \
	VSOCK_HOST:vsock-host:bin \
	MKTAP:mktap:bin \
	UFFD_HANDLER:ember-uffd-handler:bin \
	MIG_HOSTILE:mig-hostile:bin \
	-:kvm-keeper:bin \
	TRIPLEFAULT:triplefault.elf:guest \
	BOOTTIME:boottime:bin:bench \
	RESTORETIME:restoretime:bin:bench \
	SERIALTIME:serialtime:bin:bench \
	NETPERF:netperf:bin:bench
l1_field = $(word $1,$(subst :, ,$2))
l1_bench = $(filter bench,$(call l1_field,4,$1))
l1_line = $(call l1_field,1,$1) $(BUILD)/$(call l1_field,2,$1) \
	/ember/$(call l1_field,3,$1)/$(call l1_field,2,$1) $(or $(call l1_bench,$1),all)
L1_TOOLS := $(strip $(foreach t,$(L1_MANIFEST),$(if $(call l1_bench,$t),,$(BUILD)/$(call l1_field,2,$t))))
L1_BENCH_TOOLS := $(strip $(foreach t,$(L1_MANIFEST),$(if $(call l1_bench,$t),$(BUILD)/$(call l1_field,2,$t))))

# One "VAR BUILD-PATH L1-PATH all|bench" a line.  Through a temporary file:
# run.sh never reads half a manifest.
$(BUILD)/l1-manifest: Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' '# VAR BUILD-PATH L1-PATH all|bench (from L1_MANIFEST in the Makefile)' \
		$(foreach t,$(L1_MANIFEST),'$(call l1_line,$t)') >$@.tmp
	mv $@.tmp $@

integration: all $(L1_TOOLS) $(BUILD)/l1-manifest
	tests/nested/run.sh --tests $(TESTS)

# Live migration and restore across two L1 machines at once (tests/nested/xhost.sh).
integration-xhost: all $(L1_TOOLS) $(BUILD)/l1-manifest
	tests/nested/run.sh --xhost

# The aarch64 build's integration tests in an arm64 L1 (tests/nested/arm64-l1.sh,
# which builds the arm64 guest and takes the nested lock); TESTS="a b": some.
ARM64_L1_TOOLS := ember ember-jailer vsock-host mktap api-curl ember-uffd-handler mig-hostile
integration-arm64:
	@$(MAKE) --no-print-directory ARCH=aarch64 $(addprefix build-aarch64/,$(ARM64_L1_TOOLS))
	tests/nested/arm64-l1.sh $(TESTS)

# The jailer's host-side tests (root for the real jails; SKIPs otherwise).
jail-tests: $(BUILD)/ember-jailer
	tests/jail/run.sh

# Hostile files (FIFOs, directories, files over a limit) named to ember's
# command line and API: refused at once, no VM needed.
input-tests: all $(BUILD)/triplefault.elf $(BUILD)/mig-hostile
	TRIPLEFAULT=$(BUILD)/triplefault.elf tests/host/inputs.sh $(BUILD)/ember
	tests/host/mig_streams.sh $(BUILD)/ember $(BUILD)/mig-hostile

# A hostile migration source (tests/host/mig_streams.sh), from the unit
# tests' stream rig and the receiver's own framing code.
$(BUILD)/mig-hostile: tests/host/mig_hostile.c tests/unit/mig_rig.h $(BUILD)/snapshot/migrate_stream.o \
		$(BUILD)/snapshot/snapfile.o $(BUILD)/snapshot/crc64.o $(BUILD)/virtio/persist.o
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $(filter %.c %.o,$^)

# ember on this host's own /dev/kvm (none, kvm-pvm or real), and the nested
# harness's choice between direct and nested, with fakes.
host-tests: all
	tests/nested/test-decide.sh
	EMBER=$(BUILD)/ember VMLINUX=$$(guest/build-kernel.sh)/vmlinux \
		INITRD=$$(guest/mkinitramfs.sh) CURL=$$(command -v curl) tests/host/kvm.sh

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory layering
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory jail-tests
	@$(MAKE) --no-print-directory input-tests
	@$(MAKE) --no-print-directory host-tests
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-xhost
	@$(MAKE) --no-print-directory integration-arm64

run: deps
	@$(MAKE) --no-print-directory all $(L1_TOOLS) $(BUILD)/l1-manifest
	tests/nested/run.sh --run

bench: deps
	@$(MAKE) --no-print-directory all $(L1_TOOLS) $(L1_BENCH_TOOLS) $(BUILD)/l1-manifest
	@$(MAKE) --no-print-directory bench-api
	BENCH="$(BENCH)" tests/nested/run.sh --bench

# API start-up and latency on the host itself (no KVM, no nested harness);
# BENCH_BASELINE=OLD-EMBER puts an older binary's start-up next to ours.
bench-api: all
	BENCH_BASELINE=$(BENCH_BASELINE) bench/api.sh $(BUILD)/ember bench/results

guest:
	guest/build-kernel.sh

FORMAT_SRCS := $(wildcard vmm/*.[ch] vmm/arch/*/*.[ch] snapshot/arch/*/*.[ch] jail/arch/*/*.[ch] virtio/*.[ch] \
	jail/*.[ch] snapshot/*.[ch] snapshot/tools/*.c api-socket/*.[ch] tests/unit/*.[ch] \
	tests/host/*.c guest/tools/*.c)
format:
	clang-format -i $(FORMAT_SRCS)

# Part of make test: the C sources as .clang-format has them (make format fixes).
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)

# The test programs' own headers too (a test and its rig are one compile).
-include $(EMBER_OBJS:.o=.d) $(JAILER_OBJS:.o=.d) $(UNIT_LIB_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d) \
	$(UNIT_BINS:=.d) $(FUZZ_BINS:=.d)
