# ember - a minimal KVM microVM monitor.
#
#   make            build build/ember (static)
#   make run        install what is missing, build, boot the default guest
#                   (through the nested-KVM harness when there is no /dev/kvm)
#   make test       unit tests, then the integration tests on real KVM
#   make bench      boot-time and memory figures, ember vs QEMU microvm
#   make unit       unit tests only (no KVM needed)
#   make format     clang-format the tree

CC      ?= gcc
BUILD   := build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-missing-field-initializers \
           -fno-strict-aliasing -D_GNU_SOURCE -Ivmm
LDFLAGS += -static -pthread

VMM_SRCS := $(wildcard vmm/*.c)
VMM_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VMM_SRCS))

# Modules the unit tests link: everything that needs neither KVM nor threads.
UNIT_LIB := gm bus log loader boot mptable cpuid cli serial i8042
UNIT_LIB_OBJS := $(patsubst %,$(BUILD)/vmm/%.o,$(UNIT_LIB))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps unit test integration run bench guest format clean
all: $(BUILD)/ember

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/ember: $(VMM_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -Itests/unit -o $@ $^ -lcmocka -pthread

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: $(BUILD)/ember
	tests/nested/run.sh --tests

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

run: deps
	@$(MAKE) --no-print-directory all
	tests/nested/run.sh --run

bench: deps
	@$(MAKE) --no-print-directory all
	tests/nested/run.sh --bench

guest:
	guest/build-kernel.sh

format:
	clang-format -i $(wildcard vmm/*.[ch] virtio/*.[ch] jail/*.[ch] snapshot/*.[ch] \
		api-socket/*.[ch] tests/unit/*.[ch] guest/tools/*.c)

clean:
	rm -rf $(BUILD)

-include $(VMM_OBJS:.o=.d)
