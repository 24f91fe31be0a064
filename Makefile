# azprep: see README.md.  GNU make.
#
# Each folder may add a fragment (images/images.mk, prep/check/check.mk,
# replicate/nbdkit/nbdkit.mk, tests/vcsim.mk): they are included below.
# Sources live in subfolders; includes are path-qualified from the
# repository root (-I. only).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
CC ?= gcc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config
BUILD ?= build

PKGS := libguestfs libxml-2.0 libpcre2-8 libcurl libcjson hivex libnbd libcrypto
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
        -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANITIZE) \
             -I. $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANITIZE)
LIBS = $(PKG_LIBS) -lpthread -lm

SRC_DIRS := prep fixups distros windows replicate
# Unit tests are test-*.c beside the code they test (not in a cmd/
# folder, where replicate/cmd/test-migrate.c is a command).
ALL_C := $(sort $(shell find $(SRC_DIRS) -name '*.c'))
IS_UNIT = $(and $(filter test-%,$(notdir $(1))),$(if $(findstring /cmd/,$(1)),,y))
SRCS := $(filter-out prep/main.c %/nbdkit-azblob.c, \
          $(foreach f,$(ALL_C),$(if $(call IS_UNIT,$(f)),,$(f))))
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(foreach f,$(ALL_C),$(if $(call IS_UNIT,$(f)),$(f)))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/unit/%)

.PHONY: all check check-unit check-asan check-style bench demo install \
        clean deps images man
all: azprep man

azprep: $(BUILD)/obj/prep/main.o $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: %.c $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)

# The manual: one POD per command family, joined in a fixed order.
MAN_PODS := prep/azprep.pod $(sort $(wildcard fixups/*.pod distros/*.pod \
              windows/*.pod replicate/*.pod)) prep/check.pod \
              prep/azprep-end.pod
man: $(BUILD)/azprep.1
$(BUILD)/azprep.1: $(MAN_PODS)
	@mkdir -p $(BUILD)
	cat $(MAN_PODS) > $(BUILD)/azprep.pod
	podchecker $(BUILD)/azprep.pod
	pod2man --section=1 --center=azprep --release=azprep \
	  --name=AZPREP $(BUILD)/azprep.pod > $@

check-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "unit: $$t"; $$t; \
	  rc=$$?; [ $$rc = 0 ] || [ $$rc = 77 ] || exit 1; done

# Everything offline: the house style, unit tests, then the shell tests
# on real images.
check: deps all $(UNIT_BINS) images
	tests/check-style
	$(MAKE) check-fuzz
	tests/run

# The suite under ASan and UBSan, built apart in build/asan (the normal
# build is left alone): azprep, the nbdkit plugin (nbdkit runs it with
# libasan preloaded), the unit tests, the fuzz corpora, then the shell
# tests ASAN_TESTS (default all; CI runs the host-side ones).  gcc.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
ASAN_ENV := ASAN_OPTIONS=detect_leaks=0 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_MAKE = $(MAKE) BUILD=build/asan SANITIZE="$(ASAN_FLAGS)" CFLAGS="-O1 -g"
ASAN_TESTS ?= $(wildcard tests/test-*.sh)
check-asan:
	+$(ASAN_MAKE) azprep-asan build/asan/nbdkit-azblob.so \
	  $(UNIT_BINS:$(BUILD)/%=build/asan/%) fuzz-replay
	$(ASAN_ENV) AZPREP=$(CURDIR)/azprep-asan \
	  AZPREP_NBDKIT_PLUGIN=$(CURDIR)/build/asan/nbdkit-azblob.so \
	  tests/run $(UNIT_BINS:$(BUILD)/%=build/asan/%) $(ASAN_TESTS)

# The sanitized azprep, beside ./azprep: it finds the tree's data files
# (the Azure size table) where ./azprep does.
azprep-asan: $(BUILD)/obj/prep/main.o $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

check-style:
	tests/check-style

bench: all
	tests/bench/run

demo: deps all
	tests/demo

deps:
	.ci/install-deps

install: all
	install -D -m 0755 azprep $(DESTDIR)$(BINDIR)/azprep
	install -D -m 0644 $(BUILD)/azprep.1 $(DESTDIR)$(MANDIR)/man1/azprep.1

clean:
	rm -rf $(BUILD)/obj $(BUILD)/unit $(BUILD)/azprep.1 $(BUILD)/azprep.pod \
	  $(BUILD)/asan $(BUILD)/libfuzzer azprep azprep-asan

-include $(sort $(wildcard images/*.mk tests/*.mk) \
             $(shell find $(SRC_DIRS) -name '*.mk'))
-include $(OBJS:.o=.d) $(BUILD)/obj/prep/main.d
