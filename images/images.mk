# Test guests: recipes in images/, built into $(IMAGES) and cached there.
# An image is rebuilt only when its recipe changed (make dependencies on
# the recipe files).  See images/README.md for what each image is.
#
#   make images            build what is missing or out of date
#   make images-bad        only the cheap bad inputs
#   make images-publish    copy the built images to $(IMAGES_PUBLISH)
#
# A folder holding published images (it has a PUBLISHED file) is never
# rebuilt: `make check IMAGES=/work/cache/images` only uses them.

IMAGES ?= $(BUILD)/images
IMAGES_PUBLISH ?= /work/cache/images

BAD_IMAGES := $(addprefix $(IMAGES)/bad/,zero.img random.img no-os.img \
                truncated.qcow2 two-os.img luks-root.img luks-root.key)

.PHONY: images images-bad images-publish
ifneq ($(wildcard $(IMAGES)/PUBLISHED),)
images images-bad:
	@echo "images: $(IMAGES) holds published images: used as they are"
else
images: images-bad
images-bad: $(BAD_IMAGES)

$(BAD_IMAGES) &: images/bad.sh images/lib.sh
	images/bad.sh $(IMAGES)/bad
endif

images-publish: images
	images/publish.sh $(IMAGES) $(IMAGES_PUBLISH)
