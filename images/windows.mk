# Phony Windows test images (images/windows/build.sh; README there),
# built into $(IMAGES)/windows.  One stamp for the whole set: the
# recipe rebuilds all of them in about 30 seconds, without an appliance.
# A published images folder (PUBLISHED file) is used as it is.
IMAGES ?= $(BUILD)/images
WIN_PHONY := $(BUILD)/images-tools/phony
WIN_IMAGE_INPUTS := $(wildcard images/windows/*.in) images/windows/build.sh \
  $(wildcard tests/data/windows/regipy-win10-1709-*.reg)

.PHONY: windows-images
ifeq ($(wildcard $(IMAGES)/PUBLISHED),)
images: windows-images
windows-images: $(IMAGES)/windows/stamp

$(IMAGES)/windows/stamp: $(WIN_PHONY) $(WIN_IMAGE_INPUTS)
	images/windows/build.sh $(IMAGES)/windows $(WIN_PHONY)
	touch $@
else
windows-images:
	@echo "images: $(IMAGES) holds published images: used as they are"
endif

# Also used by windows/test-hive (the empty hive generator).
$(WIN_PHONY): images/windows/phony.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -o $@ $<

# The hive unit test builds its hives from the empty one.
$(BUILD)/unit/windows/test-hive: $(WIN_PHONY)
$(BUILD)/unit/windows/test-regvariants: $(WIN_PHONY)
