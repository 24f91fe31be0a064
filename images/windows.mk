# Phony Windows test images (images/windows/build.sh; README there).
# One stamp for the whole set: the recipe rebuilds all of them in a few
# seconds, without an appliance.
WIN_IMAGES_DIR ?= $(BUILD)/images
WIN_PHONY := $(BUILD)/images-tools/phony
WIN_IMAGE_INPUTS := $(wildcard images/windows/*.in) images/windows/build.sh

.PHONY: images windows-images
images: windows-images
windows-images: $(WIN_IMAGES_DIR)/windows.stamp

$(WIN_PHONY): images/windows/phony.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -o $@ $<

$(WIN_IMAGES_DIR)/windows.stamp: $(WIN_PHONY) $(WIN_IMAGE_INPUTS)
	images/windows/build.sh $(WIN_IMAGES_DIR) $(WIN_PHONY)
	touch $@
