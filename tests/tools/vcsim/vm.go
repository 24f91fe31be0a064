package main

// Finding VMs, their virtual disks and the datastore files behind them in
// the simulator's inventory.  Callers hold the VM's lock
// (simulator.Map.WithLock) when they read or change a VM.

import (
	"os"
	"path"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func vmByName(name string) *simulator.VirtualMachine {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok && vm.Name == name {
			return vm
		}
	}
	return nil
}

func allVMs() []*simulator.VirtualMachine {
	var vms []*simulator.VirtualMachine
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok {
			vms = append(vms, vm)
		}
	}
	return vms
}

// The flat-file backing of a virtual disk (the simulator's disks are all
// VirtualDiskFlatVer2BackingInfo), or nil.
func flatBacking(d *types.VirtualDisk) *types.VirtualDiskFlatVer2BackingInfo {
	b, _ := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	return b
}

func disksOf(devices []types.BaseVirtualDevice) []*types.VirtualDisk {
	var disks []*types.VirtualDisk
	for _, d := range devices {
		if disk, ok := d.(*types.VirtualDisk); ok && flatBacking(disk) != nil {
			disks = append(disks, disk)
		}
	}
	return disks
}

func diskCapacity(d *types.VirtualDisk) int64 {
	if d.CapacityInBytes > 0 {
		return d.CapacityInBytes
	}
	return d.CapacityInKB * 1024
}

// A datastore file: the datastore's name and the path in it.
type dsFile struct {
	ds, path string
}

// The files of one virtual disk: for "[LocalDS_0] VM/disk1.vmdk", the
// descriptor VM/disk1.vmdk and flat extent VM/disk1-flat.vmdk that /folder
// serves, and VM/disk1-000001-delta.vmdk, the delta the running VM writes
// while it has a snapshot (ESXi's name for the first snapshot's delta).
type diskPaths struct {
	desc, flat, delta dsFile
}

func pathsOf(d *types.VirtualDisk) (diskPaths, bool) {
	var p object.DatastorePath
	if !p.FromString(flatBacking(d).FileName) || !strings.HasSuffix(p.Path, ".vmdk") {
		return diskPaths{}, false
	}
	stem := strings.TrimSuffix(path.Clean(p.Path), ".vmdk")
	return diskPaths{dsFile{p.Datastore, stem + ".vmdk"},
		dsFile{p.Datastore, stem + "-flat.vmdk"},
		dsFile{p.Datastore, stem + "-000001-delta.vmdk"}}, true
}

// The local file that holds a datastore file.
func localPath(f dsFile) (string, bool) {
	for _, e := range simulator.Map.All("Datastore") {
		ds, ok := e.(*simulator.Datastore)
		if ok && ds.Name == f.ds {
			return path.Join(ds.Info.GetDatastoreInfo().Url, f.path), true
		}
	}
	return "", false
}

// The local file with the disk's current content: the delta while there
// is one, else the flat extent.
func liveFile(d *types.VirtualDisk) (string, bool) {
	p, ok := pathsOf(d)
	if !ok {
		return "", false
	}
	if delta, ok := localPath(p.delta); ok {
		if _, err := os.Stat(delta); err == nil {
			return delta, true
		}
	}
	return localPath(p.flat)
}

func hasSnapshot(vm *simulator.VirtualMachine) bool {
	return vm.Snapshot != nil && len(vm.Snapshot.RootSnapshotList) > 0
}

// The VM and disk one of whose files is the datastore file f (ds ""
// matches any datastore, as /folder without dsName does), and those files.
func diskOwner(f dsFile) (*simulator.VirtualMachine, *types.VirtualDisk, diskPaths) {
	for _, vm := range allVMs() {
		var found *types.VirtualDisk
		var paths diskPaths
		simulator.Map.WithLock(vm, func() {
			for _, d := range disksOf(vm.Config.Hardware.Device) {
				p, ok := pathsOf(d)
				if !ok {
					continue
				}
				for _, c := range []dsFile{p.desc, p.flat, p.delta} {
					if c.path == f.path && (f.ds == "" || c.ds == f.ds) {
						found, paths = d, p
					}
				}
			}
		})
		if found != nil {
			return vm, found, paths
		}
	}
	return nil, nil, diskPaths{}
}
