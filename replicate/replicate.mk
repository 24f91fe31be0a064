# make replicate-demo DISK=IMAGE: replicate IMAGE to a local Azurite
# (needs `make deps` for the npm packages).
.PHONY: replicate-demo
DISK ?= $(or $(IMAGES),build/images)/debian-bios.img
replicate-demo: azprep
	tests/replicate-demo.sh $(DISK)
