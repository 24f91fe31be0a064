# Fuzzing (tests/fuzz/README.md).  Each tests/fuzz/fuzz-NAME.c is one
# target, linked with azprep's objects (never into azprep):
#   make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="ova vmx"]: libFuzzer (clang),
#     FUZZ_TIME seconds per target, built in build/libfuzzer (crashes
#     in build/fuzz-crashes/, new inputs in build/fuzz-corpus/NAME/);
#   make check-fuzz: replay each checked-in corpus tests/fuzz/corpus/NAME/
#     under ASan and UBSan (any compiler), in build/asan.
FUZZ_ALL := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_TIME ?= 60
FUZZ_HELPERS := tests/fuzz/fuzz.c
# ASAN_FLAGS, ASAN_ENV, ASAN_MAKE: see check-asan in the Makefile.

.PHONY: fuzz check-fuzz fuzz-replay fuzz-libfuzzer
$(BUILD)/fuzz/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c \
                        $(FUZZ_HELPERS) $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c,$^) $(OBJS) $(LIBS)

$(BUILD)/fuzz/libfuzzer-%: tests/fuzz/fuzz-%.c $(FUZZ_HELPERS) $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ \
	  $(filter %.c,$^) $(OBJS) $(LIBS)

# Each corpus replayed, quietly: the parsers' messages go to a log shown
# when a target fails.
fuzz-replay: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay-%)
	@for t in $(FUZZ_TARGETS); do \
	  log=$(BUILD)/fuzz/replay-$$t.log; \
	  if $(ASAN_ENV) FUZZ_FD_STRICT=1 $(BUILD)/fuzz/replay-$$t tests/fuzz/corpus/$$t \
	       >$$log 2>&1; then echo "fuzz corpus: $$t: $$(tail -1 $$log)"; \
	  else tail -40 $$log; echo "FAIL: fuzz corpus: $$t ($$log)"; \
	    exit 1; fi; done

check-fuzz:
	+$(ASAN_MAKE) fuzz-replay

fuzz-libfuzzer: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/libfuzzer-%)
	@mkdir -p build/fuzz-crashes
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz-corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_TIME)s"; \
	  $(ASAN_ENV) $(BUILD)/fuzz/libfuzzer-$$t -max_total_time=$(FUZZ_TIME) \
	    -close_fd_mask=2 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build/fuzz-crashes/$$t- \
	    build/fuzz-corpus/$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz:
	$(MAKE) BUILD=build/libfuzzer CC=clang CFLAGS="-O1 -g" \
	  SANITIZE="$(ASAN_FLAGS) -fsanitize=fuzzer-no-link" fuzz-libfuzzer
