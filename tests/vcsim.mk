# The vCenter simulator the vSphere tests use (tests/lib/vcsim.sh builds it
# on demand too).  Offline: Debian's golang-github-vmware-govmomi-dev.
# Without go or govmomi the vSphere tests skip; in CI (CI=true), which
# installs both, that fails the build instead.
vcsim: $(BUILD)/vcsim
$(BUILD)/vcsim: $(wildcard tests/tools/vcsim/*.go)
	@if ! command -v go >/dev/null || \
	   ! [ -d /usr/share/gocode/src/github.com/vmware/govmomi ]; then \
	  if [ "$${CI:-}" = true ]; then \
	    echo "vcsim: go or govmomi missing in CI (.ci/apt-packages)" >&2; \
	    exit 1; fi; \
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
