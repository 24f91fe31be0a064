# azprep check: the Azure size table is data, installed beside the
# manual; the binary looks for it there (after ./prep/check/ next to itself).
DATADIR ?= $(PREFIX)/share/azprep
$(BUILD)/obj/prep/check/sizes.o: ALL_CFLAGS += -DAZPREP_DATADIR='"$(DATADIR)"'

.PHONY: install-check-data
install: install-check-data
install-check-data:
	install -D -m 0644 prep/check/azure-sizes.json \
	  $(DESTDIR)$(DATADIR)/azure-sizes.json
