# Phony Linux test guests (images/phony-linux/): tiny disks with enough
# of RHEL 7/8/9, SLES 12/15 and Ubuntu 20.04/22.04 for inspection and
# every Linux fixup, traps seeded, stub tools that log their arguments.
# Built without an appliance in a few seconds.
PHONY_LINUX := rhel7 rhel8 rhel9 sles12 sles15 ubuntu2004 ubuntu2204
# Bad inputs (each a good guest with one thing broken, families.sh).
PHONY_LINUX_BAD := bad_distro bad_nokernel bad_notool bad_tool bad_fstab \
  bad_full
PHONY_LINUX_IMGS := $(PHONY_LINUX:%=$(BUILD)/images/phony-%.img) \
  $(PHONY_LINUX_BAD:%=$(BUILD)/images/phony-%.img)
PHONY_STUB := $(BUILD)/images/phony-linux-stub

.PHONY: phony-linux-images
images: phony-linux-images
phony-linux-images: $(PHONY_LINUX_IMGS)

$(PHONY_STUB): images/phony-linux/stub.c
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -Wall -o $@ $<

$(BUILD)/images/phony-%.img: images/phony-linux/build.sh \
    images/phony-linux/families.sh $(PHONY_STUB)
	@mkdir -p $(dir $@)
	bash images/phony-linux/build.sh $* $@ $(PHONY_STUB)
