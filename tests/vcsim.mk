# The vCenter simulator the vSphere tests use (tests/vcsim.sh builds it
# on demand too).  Offline: Debian's golang-github-vmware-govmomi-dev.
vcsim: $(BUILD)/vcsim
$(BUILD)/vcsim: tests/vcsim/main.go
	@mkdir -p $(BUILD)/vcsim-gopath
	GO111MODULE=off GOPATH=$(abspath $(BUILD))/vcsim-gopath:/usr/share/gocode \
	  GOCACHE=$(abspath $(BUILD))/vcsim-gopath/cache \
	  go build -o $@ ./tests/vcsim
.PHONY: vcsim
