# SPDX-License-Identifier: GPL-2.0
#
# tpmrm: build the patched Linux kernel (6.12, or the 6.1 backport), boot it in QEMU on swtpm, and
# run the resource manager's tests.  "make help" lists the targets.

REPO      := $(CURDIR)
HARNESS   := $(REPO)/qemu-harness
# kbuild refuses source and object folders whose path holds a space or a
# colon.  When the checkout's does, the build goes to a folder of its own
# under ~/.cache, and ./build becomes a symlink to it.
ifeq ($(origin BUILD),undefined)
ifeq ($(words $(subst :, ,$(REPO))),1)
BUILD     := $(REPO)/build
else
BUILD     := $(HOME)/.cache/tpmrm/build-$(shell printf '%s' '$(subst ','\'',$(REPO))' | sha1sum | cut -c1-12)
BUILD_LINK := $(shell [ -e build ] || [ -L build ] || { ln -s '$(BUILD)' build; \
	echo "harness: this checkout's path holds a space or a colon, which kbuild refuses; building in $(BUILD) (./build links there)" >&2; })
endif
endif
ifneq ($(words $(subst :, ,$(BUILD))),1)
$(error BUILD=$(BUILD): kbuild refuses a folder whose path holds a space or a colon; choose another BUILD)
endif
override BUILD := $(abspath $(BUILD))
# The checkout's path may hold spaces: recipes quote it as a shell word.
q         = '$(subst ','\'',$(1))'
R         := $(call q,$(REPO))
H         := $(call q,$(HARNESS))
FLAVOUR   ?= rm
# The kernel base: Debian's linux-source-$(BASE), patched by patches/$(BASE)/.
BASE      ?= 6.12
ifeq ($(filter 6.12 6.1,$(BASE)),)
$(error BASE must be 6.12 or 6.1)
endif
# make check also boots the backport (BACKPORT) once.
BACKPORT  := 6.1
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
# check-personalities' boots hold the regap run at 10^5 saves.
ifneq ($(filter check-personalities,$(MAKECMDGOALS)),)
TIMEOUT   ?= 7200
endif
# A check boot takes 5-10 min; the limit only ends a hung guest.  At 600 s
# a boot slowed by other jobs on the cores ran out inside its last unit
# (hmac-tis, 2026-12-08: bench-smoke started at 526 s).
TIMEOUT   ?= 1200
EXTENDED  ?= 0

ifeq ($(FLAVOUR),rm)
SRC       := $(SRC_RM)
FRAGMENTS := $(H)/config/minimal.config $(H)/config/rm.config
else ifeq ($(FLAVOUR),base)
SRC       := $(LINUX)
FRAGMENTS := $(H)/config/minimal.config
else
$(error FLAVOUR must be rm or base)
endif
ifeq ($(CONFIG),debug)
FRAGMENTS += $(H)/config/debug.config
else ifeq ($(CONFIG),hmac)
FRAGMENTS += $(H)/config/hmac.config
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
BOOT      := $(H)/scripts/boot.sh
BOOTENV   := BUILD=$(BUILD) KERNEL=$(KERNEL) INITRAMFS=$(INITRAMFS) \
	     CONFIG=$(CONFIG) FLAVOUR=$(FLAVOUR) TIMEOUT=$(TIMEOUT) SRC_RM=$(SRC_RM) BASE=$(BASE) \
	     TESTS=$(TESTS) REPO=$(R) EXTENDED=$(EXTENDED) ONLY='$(ONLY)' SKIP='$(SKIP)'
# --- personality (qemu-harness/personality/README.md) ---
# PERSONALITY=slb9670|npct75x|ptt|tight|swtpm[,key=value...] boots on swtpm
# behind the personality proxy; PERSONALITY_SEED seeds its warnings.
# make check and check-extended pick one per boot by PERSONALITY_SEED (printed)
# unless PERSONALITY is given ('none': straight to swtpm).
PERSONALITY      ?=
ifeq ($(PERSONALITY_SEED),)
PERSONALITY_SEED := $(shell date +%s)
endif
PERSONALITIES ?= slb9670 npct75x ptt tight swtpm
BOOTENV   += PERSONALITY='$(PERSONALITY)' PERSONALITY_SEED='$(PERSONALITY_SEED)'
# the personality environment of check boot $(1)-$(2) (config-tpm)
personality_env = $(shell $(H)/personality/pick.sh '$(PERSONALITY)' \
	'$(PERSONALITY_SEED)' $(1)-$(2))
# the personality layer's own tests (host), TAP for verdict.sh
personality_tests = mkdir -p $(BUILD)/results-personality && \
	echo "personality: seed $(PERSONALITY_SEED)" && \
	python3 $(H)/personality/test_personality.py --tap \
	> $(BUILD)/results-personality/tap 2>$(BUILD)/results-personality/log || true
# check-extended and check-personalities: one boot per personality (make
# check sizes, the regap test at REGAP_SAVES context saves; each unit may
# take the boot's TIMEOUT - 300 s), results in results-tis-<personality>
# (results-base-tis-<personality> for FLAVOUR=base), its time in seconds.
REGAP_SAVES ?= 100000
pers_results = $(BUILD)/results-$(if $(filter base,$(FLAVOUR)),base-)tis-$(1)
personality_boot = t0=$$(date +%s); $(BOOTENV) TPM=tis PERSONALITY=$(1) \
	REGAP_SAVES=$(REGAP_SAVES) EXTENDED=0 \
	UNIT_TIMEOUT=$$(( $(TIMEOUT) > 600 ? $(TIMEOUT) - 300 : 300 )) \
	RESULTS=$(call pers_results,$(1)) $(BOOT) check '' || true; \
	echo $$(( $$(date +%s) - t0 )) > $(call pers_results,$(1))/seconds
# --- end personality ---
# The results folder of one boot: results-<tpm>, results-<config>-<tpm>;
# results-6.1-... for the 6.1 backport.
results    = $(BUILD)/results-$(if $(filter 6.1,$(BASE)),6.1-)$(if $(filter-out minimal,$(1)),$(1)-)$(2)

# SETUP_ONLY=1 (the harness test's): every target does its set-up (packages,
# folders, inputs) and stops before each long step (unpacking, kbuild,
# QEMU, the bench, the series).
export TPMRM_SETUP_ONLY := $(if $(filter 1,$(SETUP_ONLY)),1,)
long      = $(if $(TPMRM_SETUP_ONLY),@echo "setup-only: skip $(1)",@$(2))

.PHONY: help deps base assemble kernel selftests initramfs run check \
	check-one check-extended check-personalities kunit refresh clean distclean bench series \
	series-check check-harness
.DEFAULT_GOAL := help
# One boot at a time, one kernel build at a time (they share build/src-rm-*).
.NOTPARALLEL:

help:
	@echo "make run        build, boot the patched kernel on swtpm, show the RM at work"
	@echo "                (CMD='...' runs a command in the guest instead of the demo)"
	@echo "make check      every test: KUnit, selftests on tpm-tis and tpm-crb, base"
	@echo "                python tpm2 selftests, then all again on the debug and"
	@echo "                the hmac kernel (tpm-tis), and the 6.1 backport's minimal"
	@echo "                kernel (tpm-tis); ends with 'N passed, N failed, N skipped'"
	@echo "make check-extended  the long tests too (TPMRM_EXTENDED=1 in the guest),"
	@echo "                on the minimal and the debug kernel, tpm-tis, the fault"
	@echo "                matrix alone on the debug kernel, tpm-crb, and one"
	@echo "                boot per personality (with the regap run at 10^5 saves)"
	@echo "make check-personalities  those personality boots alone, of FLAVOUR"
	@echo "                (base: the old RM), PERSONALITIES, REGAP_SAVES; a table"
	@echo "make kernel     build the kernel only"
	@echo "make bench      both flavours on swtpm: TPM commands, time, memory;"
	@echo "                table on stdout, CSV and PNG in results/ (not a test);"
	@echo "                BENCH_CONFIGS='minimal hmac' (default) picks the kernels"
	@echo "make refresh    rewrite patches/BASE/ from commits made in build/src-rm-BASE"
	@echo "make series     git format-patch series + cover letter in build/series"
	@echo "make series-check  git am, build each commit, checkpatch, sparse,"
	@echo "                kernel-doc, get_maintainer (also run by make check)"
	@echo "make check-one  one boot of the test job (TPM=, CONFIG=, EXTENDED=1,"
	@echo "                ONLY='tpmrm_fuzz_test ...' for some selftests only)"
	@echo "make kunit      boot the kernel and judge only its KUnit suites"
	@echo "make check-harness  the harness's own test (also run by make check)"
	@echo "make clean      remove the builds' objects and results"
	@echo "make distclean  remove all of BUILD"
	@echo "variables: BASE=6.12|6.1 FLAVOUR=rm|base CONFIG=minimal|debug|hmac TPM=tis|crb BUILD=dir"

deps:
	@$(H)/scripts/deps.sh

base: deps
	@mkdir -p $(BUILD)
	@$(H)/scripts/base.sh $(BUILD) $(BASE)

assemble: base
	@$(H)/scripts/assemble.sh $(R) $(BUILD) $(BASE)

$(if $(filter rm,$(FLAVOUR)),kernel-src: assemble,kernel-src: base)
.PHONY: kernel-src

kernel: kernel-src
	@$(H)/scripts/config.sh $(SRC) $(OBJ) $(FRAGMENTS)
	@echo "kernel: building $(FLAVOUR)-$(CONFIG)"
	$(call long,kbuild,$(KMAKE) bzImage)
	@echo "kernel: $(KERNEL)"

# The C tests include uapi headers (<linux/tpmrm.h>): install the series'
# headers into their own O= folder, as the selftests' top Makefile would.
# qemu-harness/selftests.mk also builds every tpmrm_*_test.c not yet listed in
# the selftests Makefile.
selftests: assemble
	@mkdir -p $(TESTS)
	$(call long,headers,$(MAKE) -s -C $(SRC_RM) O=$(HEADERS) ARCH=x86_64 headers)
	$(call long,selftests,$(MAKE) -s -C $(SRC_RM)/tools/testing/selftests/tpm2 OUTPUT=$(TESTS) \
		KHDR_INCLUDES="-isystem $(HEADERS)/usr/include" \
		-f Makefile -f $(H)/selftests.mk harness-tests)
	@gcc -O2 -Wall -I$(R)/tools/testing/selftests/tpm2 -o $(TESTS)/tpmbench \
		$(H)/bench/tpmbench.c $(H)/bench/tcti.c \
		$(R)/tools/testing/selftests/tpm2/tpm2_lib.c -ltss2-tctildr

initramfs: deps
	@$(H)/scripts/initramfs.sh $(H)/guest/init $(INITRAMFS)

run: kernel selftests initramfs
	@$(BOOTENV) TPM=$(TPM) $(BOOT) "$(if $(CMD),cmd,demo)" '$(subst ','\'',$(value CMD))'

# One boot of the test job on one TPM interface; leaves $(BUILD)/results-<tpm>
# (results-debug-<tpm> with CONFIG=debug) and judges it.
check-one: kernel selftests initramfs
	@$(BOOTENV) TPM=$(TPM) RESULTS=$(call results,$(CONFIG),$(TPM)) \
		$(BOOT) check '' || true
	@$(H)/scripts/verdict.sh $(call results,$(CONFIG),$(TPM))

# The KUnit suites alone: they run at boot, so boot the kernel with no
# selftests (ONLY=none) and judge their KTAP, kmemleak and dmesg.
kunit: kernel initramfs
	@$(BOOTENV) TPM=$(TPM) ONLY=none RESULTS=$(BUILD)/results-kunit \
		$(BOOT) check '' || true
	@$(H)/scripts/verdict.sh $(BUILD)/results-kunit

# The harness's own test: every target as the first command of a fresh
# clone, make run from a checkout under /tmp whose path holds a space, and
# make run's exit status.  TAP in $(BUILD)/results-harness/tap.
check-harness: kernel-minimal selftests initramfs
	@mkdir -p $(BUILD)/results-harness
	@$(H)/tests/harness_test.sh $(R) $(BUILD) | tee $(BUILD)/results-harness/tap

kernel-minimal kernel-debug kernel-hmac: kernel-%:
	@$(MAKE) --no-print-directory kernel CONFIG=$*
.PHONY: kernel-minimal kernel-debug kernel-hmac

# One check boot of the $(1) kernel on TPM interface $(2), of only the
# selftests $(3) if given.  The debug kernel on TCG runs the same tests
# several times slower: give it more time.  In make check it leaves out
# DEBUG_SKIP, the units that drive the RM through user-space stacks
# (tpm2-tools, tpm2-pytss, the base tree's python tests, the bench
# client): every other boot of make check runs them, check-extended's
# debug boot too.
DEBUG_SKIP := tpmrm_tools_test.sh tpmrm_workflow_test.sh tpmrm_pytss_test.sh \
	test_smoke.sh test_space.sh bench-smoke
debug_time = $(if $(filter debug,$(1)),$(if $(filter 1,$(EXTENDED)),,TIMEOUT=1800 UNIT_TIMEOUT=900 SKIP='$(DEBUG_SKIP)'))
check_boot = $(BOOTENV) $(call personality_env,$(1),$(2)) $(call debug_time,$(1)) TPM=$(2) CONFIG=$(1) \
	$(if $(3),ONLY='$(3)') \
	KERNEL=$(BUILD)/obj-$(BASE)-$(FLAVOUR)-$(1)/arch/x86/boot/bzImage \
	RESULTS=$(call results,$(1),$(2)) $(BOOT) check '' || true

# One boot of make check without a verdict: make check runs the backport's
# boot with it in a sub-make (BASE=6.1 CONFIG=minimal TPM=tis).
check-boot: kernel selftests initramfs
	@$(call check_boot,$(CONFIG),$(TPM))
.PHONY: check-boot

# make check's CPU-bound jobs that need no QEMU: the backport's kernel and
# selftests (then check-background.6.1 exists), then the series check
# (every commit built).  They run with one job beside the boots, whose
# tests mostly keep one of the guest's two vCPUs (one host thread each
# under TCG) busy.  The backport's boot and the harness test run beside
# the series check, which is the longest of them (about 40 min at one
# job), so that neither core waits.
check_background = { $(MAKE) --no-print-directory kernel selftests \
	BASE=$(BACKPORT) CONFIG=minimal JOBS=1; touch $(BUILD)/check-background.6.1; \
	$(MAKE) --no-print-directory series-check JOBS=1; }
# wait for the background to end, or with $(1) until that file exists
check_wait = while $(if $(1),[ ! -e $(1) ] &&) \
	kill -0 $$(cat $(BUILD)/check-background.pid) 2>/dev/null; do sleep 5; done
# Each phase's end, with the minutes since make check started.
check_phase = echo "check: $(1): $$(date +%T), $$(( ($$(date +%s) - \
	$$(stat -c %Y $(BUILD)/check-background.pid)) / 60 )) min"

# On $(BASE) (6.12): the minimal kernel on tpm-tis and tpm-crb, the debug
# and the hmac kernel on tpm-tis; then the 6.1 backport's minimal kernel on
# tpm-tis.
check: kernel-minimal kernel-debug kernel-hmac selftests initramfs
	@rm -rf $(BUILD)/results-* $(BUILD)/check-background.*
	@$(check_background) </dev/null >$(BUILD)/check-background.log 2>&1 & \
		echo $$! > $(BUILD)/check-background.pid
	@$(call check_phase,start)
	@$(call check_boot,minimal,tis)
	@$(call check_phase,boot minimal tis)
	@$(call check_boot,minimal,crb)
	@$(call check_phase,boot minimal crb)
	@$(call check_boot,debug,tis)
	@$(call check_phase,boot debug tis)
	@$(call check_boot,hmac,tis)
	@$(call check_phase,boot hmac tis)
	@$(call check_wait,$(BUILD)/check-background.6.1)
	@$(call check_phase,background $(BACKPORT) build ended)
	@$(MAKE) --no-print-directory check-boot BASE=$(BACKPORT) CONFIG=minimal \
		TPM=tis || true
	@$(call check_phase,boot $(BACKPORT) tis)
	@$(MAKE) --no-print-directory check-harness >/dev/null 2>&1 || true
	@$(call check_phase,harness test)
	@$(call check_wait)
	@$(call check_phase,background series check ended)
	@$(personality_tests)
	@$(H)/scripts/verdict.sh $(call results,minimal,tis) \
		$(call results,minimal,crb) $(call results,debug,tis) \
		$(call results,hmac,tis) $(BUILD)/results-$(BACKPORT)-tis \
		$(BUILD)/results-harness/tap $(BUILD)/results-series/tap \
		$(BUILD)/results-personality/tap

# The long tests (TPMRM_EXTENDED=1): both kernels on tpm-tis; the debug
# kernel on tpm-crb runs the fault matrix alone (its fail_function cells
# need the debug kernel, which make check boots on tis only).
check-extended: kernel-minimal kernel-debug selftests initramfs
	@rm -rf $(BUILD)/results-*
	@$(call check_boot,minimal,tis)
	@$(call check_boot,debug,tis)
	@$(call check_boot,debug,crb,tpmrm_fault_matrix_test)
	@$(foreach p,$(PERSONALITIES),$(call personality_boot,$(p));)
	@$(personality_tests)
	@$(H)/personality/report.py \
		$(foreach p,$(PERSONALITIES),$(call pers_results,$(p)))
	@$(H)/scripts/verdict.sh $(call results,minimal,tis) \
		$(call results,debug,tis) $(call results,debug,crb) \
		$(foreach p,$(PERSONALITIES),$(call pers_results,$(p))) \
		$(BUILD)/results-personality/tap

# The personality boots of check-extended alone, of FLAVOUR (base: the old
# RM under the same chips), PERSONALITIES (default all five) and
# REGAP_SAVES: a table per personality (report.py), then the verdict.
# KERNEL=path on the command line boots that bzImage as is (no build).
check-personalities: $(if $(filter command line,$(origin KERNEL)),,kernel) \
	selftests initramfs
	@rm -rf $(foreach p,$(PERSONALITIES),$(call pers_results,$(p)))
	@$(foreach p,$(PERSONALITIES),$(call personality_boot,$(p));)
	@$(H)/personality/report.py \
		$(foreach p,$(PERSONALITIES),$(call pers_results,$(p)))
	@$(H)/scripts/verdict.sh \
		$(foreach p,$(PERSONALITIES),$(call pers_results,$(p)))

# The benchmark (qemu-harness/bench/): builds both flavours in each config
# of BENCH_CONFIGS (minimal: the minimal workloads; hmac: the kernel-mix
# workloads), boots each on a fresh swtpm and reports; not part of check.
# Without an rm kernel it reports base alone.
BENCH_CONFIGS ?= minimal hmac
bench: initramfs
	@for c in $(BENCH_CONFIGS); do \
		$(MAKE) --no-print-directory kernel FLAVOUR=base CONFIG=$$c || exit 1; done
	@fl="base rm"; \
	for c in $(BENCH_CONFIGS); do \
		$(MAKE) --no-print-directory kernel FLAVOUR=rm CONFIG=$$c || fl=base; done; \
	[ "$$fl" = base ] && echo "bench: the rm flavour did not build; base only" >&2; \
	FLAVOURS="$$fl" BENCH_CONFIGS='$(BENCH_CONFIGS)' BUILD=$(BUILD) BASE=$(BASE) \
		REPO=$(R) INITRAMFS=$(INITRAMFS) \
		PERSONALITY='$(PERSONALITY)' PERSONALITY_SEED='$(PERSONALITY_SEED)' \
		$(H)/bench/bench.sh $(R)/results

# assemble keeps commits made in src-rm since its last assembly (for
# refresh), and refuses to move away from them for any other target.
refresh: export TPMRM_KEEP_COMMITS := 1
refresh: assemble
	@$(H)/scripts/refresh.sh $(R) $(BUILD) $(BASE)

# The series a maintainer would get (git format-patch + cover letter, in
# $(BUILD)/series), and its checks: git am on a fresh base, every commit
# built, checkpatch --strict, sparse, kernel-doc, get_maintainer.
series: base
	@$(H)/scripts/series.sh write $(R) $(BUILD) $(BASE)

series-check: series
	@mkdir -p $(BUILD)/results-series
	@{ JOBS=$(JOBS) $(H)/scripts/series.sh check $(R) $(BUILD) $(BASE); \
	   echo $$? > $(BUILD)/results-series/rc; } | tee $(BUILD)/results-series/tap
	@exit $$(cat $(BUILD)/results-series/rc)

clean:
	rm -rf $(BUILD)/obj-* $(TESTS) $(INITRAMFS) $(BUILD)/results-*

distclean:
	rm -rf $(BUILD)
