# The nbdkit plugin that serves a page blob as a block device (used by
# test-migrate and migrate to hydrate blobs where they lie).  A shared
# object compiled with -fPIC from its own file, the page I/O layer, the
# replicate module's blob client and prep/common's util.c, file.c,
# url.c and xml.c; logging goes to nbdkit's (the plugin defines
# azp_error() and friends).  Once linked, nbdkit loads it
# (--dump-plugin), so that a symbol left undefined fails the build,
# not the first test-migrate.
NBDKIT_PLUGIN := $(BUILD)/nbdkit-azblob.so
NBDKIT_SRCS := replicate/nbdkit/nbdkit-azblob.c replicate/nbdkit/pageio.c \
  prep/common/util.c prep/common/file.c prep/common/url.c \
  prep/common/xml.c prep/common/secrets.c \
  $(filter-out %/test-blob.c,$(wildcard replicate/azure/blob*.c)) \
  $(wildcard replicate/azure/auth.c replicate/azure/creds.c \
             replicate/azure/token.c \
             replicate/azure/ranges.c)
NBDKIT_OBJS := $(NBDKIT_SRCS:%.c=$(BUILD)/pic/%.o)
NBDKIT_PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags nbdkit 2>/dev/null)
PLUGINDIR ?= $(PREFIX)/lib/azprep
# A sanitized plugin (make check-asan) loads only into a process that
# has libasan first: nbdkit is given it with LD_PRELOAD, here and by
# azprep's spawn (replicate/nbdkit/spawn.c).
ifneq ($(findstring address,$(SANITIZE)),)
ASAN_PRELOAD := $(shell $(CC) -print-file-name=libasan.so)
NBDKIT_ENV := LD_PRELOAD=$(ASAN_PRELOAD) ASAN_OPTIONS=detect_leaks=0
$(BUILD)/obj/replicate/nbdkit/spawn.o: \
  ALL_CFLAGS += -DAZPREP_ASAN_PRELOAD='"$(ASAN_PRELOAD)"'
endif

# Built with azprep once the blob client is there.
ifneq ($(wildcard replicate/azure/blob.c),)
all: $(NBDKIT_PLUGIN)
endif

$(NBDKIT_PLUGIN): $(NBDKIT_OBJS)
	$(CC) $(ALL_LDFLAGS) -shared -o $@.tmp $^ $(LIBS)
	@if command -v nbdkit >/dev/null; then \
	  $(NBDKIT_ENV) nbdkit --dump-plugin ./$@.tmp >/dev/null || \
	  { rm -f $@.tmp; exit 1; }; fi
	mv $@.tmp $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NBDKIT_PC_CFLAGS) -fPIC -fvisibility=hidden \
	  -c -o $@ $<

.PHONY: install-nbdkit-plugin
install: install-nbdkit-plugin
install-nbdkit-plugin: $(NBDKIT_PLUGIN)
	install -D -m 0755 $(NBDKIT_PLUGIN) \
	  $(DESTDIR)$(PLUGINDIR)/nbdkit-azblob.so

-include $(NBDKIT_OBJS:.o=.d)

$(BUILD)/obj/replicate/migrate/blob-export.o: ALL_CFLAGS += -DAZPREP_PLUGINDIR='"$(PLUGINDIR)"'
