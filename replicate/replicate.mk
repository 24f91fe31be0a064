# make replicate-demo DISK=IMAGE: replicate IMAGE to a local Azurite
# (needs `make deps` for the npm packages).
.PHONY: replicate-demo
replicate-demo: azprep
	tests/replicate-demo.sh $(DISK)
