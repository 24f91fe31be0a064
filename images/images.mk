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

DEBIAN_IMAGES := $(addprefix $(IMAGES)/,debian-bios.img debian-bios-data.img \
                   debian-uefi.img debian-uefi-vars.fd debian-dracut.img)
# The debootstrap tarball every Debian guest derives from (not published).
DEBIAN_BASE := $(IMAGES)/work/base.tar
DEBIAN_DEPS := images/debian.sh images/lib.sh $(DEBIAN_BASE)

.PHONY: images images-bad images-debian images-publish
ifneq ($(wildcard $(IMAGES)/PUBLISHED),)
images images-bad images-debian:
	@echo "images: $(IMAGES) holds published images: used as they are"
else
images: images-bad images-debian
images-bad: $(BAD_IMAGES)
images-debian: $(DEBIAN_IMAGES)

$(BAD_IMAGES) &: images/bad.sh images/lib.sh
	images/bad.sh $(IMAGES)/bad

$(DEBIAN_BASE): images/base.sh
	@mkdir -p $(dir $@)
	images/base.sh $@

$(IMAGES)/debian-bios.img $(IMAGES)/debian-bios-data.img &: $(DEBIAN_DEPS)
	images/debian.sh bios $(DEBIAN_BASE) $(IMAGES)

$(IMAGES)/debian-uefi.img $(IMAGES)/debian-uefi-vars.fd &: $(DEBIAN_DEPS) \
    images/efivars.pl
	images/debian.sh uefi $(DEBIAN_BASE) $(IMAGES)

$(IMAGES)/debian-dracut.img: $(DEBIAN_DEPS)
	images/debian.sh dracut $(DEBIAN_BASE) $(IMAGES)
endif

images-publish: images
	images/publish.sh $(IMAGES) $(IMAGES_PUBLISH)
