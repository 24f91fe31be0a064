# The vCenter simulator the vSphere tests use (tests/lib/vcsim.sh builds it
# on demand too).  Offline: Debian's golang-github-vmware-govmomi-dev.
vcsim: $(BUILD)/vcsim
$(BUILD)/vcsim: tests/tools/vcsim/main.go
	@if ! command -v go >/dev/null || \
	   ! [ -d /usr/share/gocode/src/github.com/vmware/govmomi ]; then \
	  echo "vcsim: go or govmomi missing: the vSphere tests will skip"; \
	  exit 0; fi; \
	mkdir -p $(BUILD)/vcsim-gopath && \
	GO111MODULE=off GOPATH=$(abspath $(BUILD))/vcsim-gopath:/usr/share/gocode \
	  GOCACHE=$(abspath $(BUILD))/vcsim-gopath/cache \
	  go build -o $@ ./tests/tools/vcsim
.PHONY: vcsim

# A driver for replication cycles on the simulator (tests/test-vsphere-cycle.sh).
$(BUILD)/vsphere-cycle: tests/tools/vsphere-cycle.c $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(OBJS) $(LIBS)
check: $(BUILD)/vcsim $(BUILD)/vsphere-cycle
