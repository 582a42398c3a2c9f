# SPDX-License-Identifier: GPL-2.0
#
# tpmrm: build the patched Linux kernel (6.12, or the 6.1 backport), boot it in QEMU on swtpm, and
# run the resource manager's tests.  "make help" lists the targets.

REPO      := $(CURDIR)
HARNESS   := $(REPO)/qemu-harness
BUILD     ?= $(REPO)/build
override BUILD := $(abspath $(BUILD))
FLAVOUR   ?= rm
# The kernel base: Debian's linux-source-$(BASE), patched by patches/$(BASE)/.
BASE      ?= 6.12
ifeq ($(filter 6.12 6.1,$(BASE)),)
$(error BASE must be 6.12 or 6.1)
endif
LINUX     := $(BUILD)/linux-$(BASE)
SRC_RM    := $(BUILD)/src-rm-$(BASE)
CONFIG    ?= minimal
TPM       ?= tis
JOBS      ?= $(shell nproc)
CMD       ?=
# check-extended runs long tests: a guest may take up to two hours.
ifneq ($(filter check-extended,$(MAKECMDGOALS)),)
TIMEOUT   ?= 7200
EXTENDED  := 1
endif
TIMEOUT   ?= 600
EXTENDED  ?= 0

ifeq ($(FLAVOUR),rm)
SRC       := $(SRC_RM)
FRAGMENTS := $(HARNESS)/config/minimal.config $(HARNESS)/config/rm.config
else ifeq ($(FLAVOUR),base)
SRC       := $(LINUX)
FRAGMENTS := $(HARNESS)/config/minimal.config
else
$(error FLAVOUR must be rm or base)
endif
ifeq ($(CONFIG),debug)
FRAGMENTS += $(HARNESS)/config/debug.config
else ifeq ($(CONFIG),hmac)
FRAGMENTS += $(HARNESS)/config/hmac.config
else ifneq ($(CONFIG),minimal)
$(error CONFIG must be minimal, debug or hmac)
endif

OBJ       := $(BUILD)/obj-$(BASE)-$(FLAVOUR)-$(CONFIG)
KERNEL    := $(OBJ)/arch/x86/boot/bzImage
TESTS     := $(BUILD)/selftests-$(BASE)
HEADERS   := $(BUILD)/obj-$(BASE)-headers
INITRAMFS := $(BUILD)/initramfs.cpio
export CCACHE_DIR ?= $(HOME)/.cache/tpmrm-ccache
# Paths under BUILD become relative, so builds in other BUILD folders hit.
export CCACHE_BASEDIR := $(BUILD)
export CCACHE_NOHASHDIR := 1
# kbuild passes -fmacro-prefix-map=<absolute srctree>/=; it only makes
# __FILE__ relative, so leaving it out of the hash lets clones share hits.
export CCACHE_IGNOREOPTIONS := -fmacro-prefix-map=*
KMAKE     := $(MAKE) -s -C $(SRC) O=$(OBJ) ARCH=x86_64 CC="ccache gcc" -j$(JOBS)
BOOT      := $(HARNESS)/scripts/boot.sh
BOOTENV   := BUILD=$(BUILD) KERNEL=$(KERNEL) INITRAMFS=$(INITRAMFS) \
	     CONFIG=$(CONFIG) FLAVOUR=$(FLAVOUR) TIMEOUT=$(TIMEOUT) SRC_RM=$(SRC_RM) \
	     TESTS=$(TESTS) REPO=$(REPO) EXTENDED=$(EXTENDED) ONLY='$(ONLY)'
# The results folder of one boot: results-<tpm>, results-<config>-<tpm>;
# results-6.1-... for the 6.1 backport.
results    = $(BUILD)/results-$(if $(filter 6.1,$(BASE)),6.1-)$(if $(filter-out minimal,$(1)),$(1)-)$(2)

.PHONY: help deps base assemble kernel selftests initramfs run check \
	check-one check-extended kunit refresh clean distclean bench series \
	series-check
.DEFAULT_GOAL := help
# One boot at a time, one kernel build at a time (they share build/src-rm-*).
.NOTPARALLEL:

help:
	@echo "make run        build, boot the patched kernel on swtpm, show the RM at work"
	@echo "                (CMD='...' runs a command in the guest instead of the demo)"
	@echo "make check      every test: KUnit, selftests on tpm-tis and tpm-crb, base"
	@echo "                python tpm2 selftests, then all again on the debug kernel"
	@echo "                (tpm-tis); ends with 'N passed, N failed, N skipped'"
	@echo "make check-extended  the long tests too (TPMRM_EXTENDED=1 in the guest),"
	@echo "                on the minimal and the debug kernel, tpm-tis"
	@echo "make kernel     build the kernel only"
	@echo "make bench      both flavours on swtpm: TPM commands, time, memory;"
	@echo "                table on stdout, CSV and PNG in results/ (not a test)"
	@echo "make refresh    rewrite patches/BASE/ from commits made in build/src-rm-BASE"
	@echo "make series     git format-patch series + cover letter in build/series"
	@echo "make series-check  git am, build each commit, checkpatch, sparse,"
	@echo "                kernel-doc, get_maintainer (also run by make check)"
	@echo "make check-one  one boot of the test job (TPM=, CONFIG=, EXTENDED=1,"
	@echo "                ONLY='tpmrm_fuzz_test ...' for some selftests only)"
	@echo "variables: BASE=6.12|6.1 FLAVOUR=rm|base CONFIG=minimal|debug|hmac TPM=tis|crb BUILD=dir"

deps:
	@$(HARNESS)/scripts/deps.sh

base: deps
	@mkdir -p $(BUILD)
	@$(HARNESS)/scripts/base.sh $(BUILD) $(BASE)

assemble: base
	@$(HARNESS)/scripts/assemble.sh $(REPO) $(BUILD) $(BASE)

$(if $(filter rm,$(FLAVOUR)),kernel-src: assemble,kernel-src: base)
.PHONY: kernel-src

kernel: kernel-src
	@$(HARNESS)/scripts/config.sh $(SRC) $(OBJ) $(FRAGMENTS)
	@echo "kernel: building $(FLAVOUR)-$(CONFIG)"
	@$(KMAKE) bzImage
	@echo "kernel: $(KERNEL)"

# The C tests include uapi headers (<linux/tpmrm.h>): install the series'
# headers into their own O= folder, as the selftests' top Makefile would.
# qemu-harness/selftests.mk also builds every tpmrm_*_test.c not yet listed in
# the selftests Makefile.
selftests: assemble
	@mkdir -p $(TESTS)
	@$(MAKE) -s -C $(SRC_RM) O=$(HEADERS) ARCH=x86_64 headers
	@$(MAKE) -s -C $(SRC_RM)/tools/testing/selftests/tpm2 OUTPUT=$(TESTS) \
		KHDR_INCLUDES="-isystem $(HEADERS)/usr/include" \
		-f Makefile -f $(HARNESS)/selftests.mk harness-tests

initramfs: deps
	@$(HARNESS)/scripts/initramfs.sh $(HARNESS)/guest/init $(INITRAMFS)

run: kernel selftests initramfs
	@$(BOOTENV) TPM=$(TPM) $(BOOT) "$(if $(CMD),cmd,demo)" '$(subst ','\'',$(value CMD))'

# One boot of the test job on one TPM interface; leaves $(BUILD)/results-<tpm>
# (results-debug-<tpm> with CONFIG=debug) and judges it.
check-one: kernel selftests initramfs
	@$(BOOTENV) TPM=$(TPM) RESULTS=$(call results,$(CONFIG),$(TPM)) \
		$(BOOT) check '' || true
	@$(HARNESS)/scripts/verdict.sh $(call results,$(CONFIG),$(TPM))

kernel-minimal kernel-debug: kernel-%:
	@$(MAKE) --no-print-directory kernel CONFIG=$*
.PHONY: kernel-minimal kernel-debug

# One check boot of the $(1) kernel on TPM interface $(2).  The debug kernel
# on TCG runs the same tests several times slower: give it more time.
debug_time = $(if $(filter debug,$(1)),$(if $(filter 1,$(EXTENDED)),,TIMEOUT=1800 UNIT_TIMEOUT=900))
check_boot = $(BOOTENV) $(call debug_time,$(1)) TPM=$(2) CONFIG=$(1) \
	KERNEL=$(BUILD)/obj-$(BASE)-$(FLAVOUR)-$(1)/arch/x86/boot/bzImage \
	RESULTS=$(call results,$(1),$(2)) $(BOOT) check '' || true

# The minimal kernel on tpm-tis and tpm-crb, the debug kernel on tpm-tis.
check: kernel-minimal kernel-debug selftests initramfs
	@rm -rf $(BUILD)/results-*
	@$(call check_boot,minimal,tis)
	@$(call check_boot,minimal,crb)
	@$(call check_boot,debug,tis)
	@$(MAKE) --no-print-directory series-check >/dev/null 2>&1 || true
	@$(HARNESS)/scripts/verdict.sh $(call results,minimal,tis) \
		$(call results,minimal,crb) $(call results,debug,tis) \
		$(BUILD)/results-series/tap

# The long tests (TPMRM_EXTENDED=1): both kernels on tpm-tis.
check-extended: kernel-minimal kernel-debug selftests initramfs
	@rm -rf $(BUILD)/results-*
	@$(call check_boot,minimal,tis)
	@$(call check_boot,debug,tis)
	@$(HARNESS)/scripts/verdict.sh $(call results,minimal,tis) \
		$(call results,debug,tis)

# The benchmark (qemu-harness/bench/): builds both flavours, boots each on a
# fresh swtpm and reports; not part of check.  Without an rm kernel it
# reports base alone.
bench: initramfs
	@$(MAKE) --no-print-directory kernel FLAVOUR=base
	@fl=base; \
	if $(MAKE) --no-print-directory kernel FLAVOUR=rm; then fl="base rm"; \
	else echo "bench: the rm flavour did not build; base only" >&2; fi; \
	FLAVOURS="$$fl" BUILD=$(BUILD) BASE=$(BASE) REPO=$(REPO) INITRAMFS=$(INITRAMFS) \
		$(HARNESS)/bench/bench.sh $(REPO)/results

refresh:
	@$(HARNESS)/scripts/refresh.sh $(REPO) $(BUILD) $(BASE)

# The series a maintainer would get (git format-patch + cover letter, in
# $(BUILD)/series), and its checks: git am on a fresh base, every commit
# built, checkpatch --strict, sparse, kernel-doc, get_maintainer.
series: base
	@$(HARNESS)/scripts/series.sh write $(REPO) $(BUILD) $(BASE)

series-check: series
	@mkdir -p $(BUILD)/results-series
	@{ $(HARNESS)/scripts/series.sh check $(REPO) $(BUILD) $(BASE); \
	   echo $$? > $(BUILD)/results-series/rc; } | tee $(BUILD)/results-series/tap
	@exit $$(cat $(BUILD)/results-series/rc)

clean:
	rm -rf $(BUILD)/obj-* $(TESTS) $(INITRAMFS) $(BUILD)/results-*

distclean:
	rm -rf $(BUILD)
