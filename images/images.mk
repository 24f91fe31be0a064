# Test guests: recipes in images/, built into $(BUILD)/images and cached.
# (Filled in by the images recipes.)
.PHONY: images
images:
