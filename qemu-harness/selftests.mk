# SPDX-License-Identifier: GPL-2.0
#
# Read by the harness after tools/testing/selftests/tpm2/Makefile (make -f
# Makefile -f this): builds every tpmrm_*_test.c the same way, whether or not
# it is listed in TEST_GEN_PROGS yet, so that a new C test needs no harness
# or Makefile change to run in "make check".

HARNESS_TESTS := $(patsubst %.c,$(OUTPUT)/%,$(wildcard tpmrm_*_test.c))
HARNESS_EXTRA := $(filter-out $(TEST_GEN_PROGS),$(HARNESS_TESTS))

.PHONY: harness-tests
harness-tests: all $(HARNESS_EXTRA)

$(HARNESS_EXTRA): $(OUTPUT)/%: %.c tpm2_lib.c tpm2_lib.h ../kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c,$^) $(LDLIBS) -o $@
