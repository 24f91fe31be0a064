package main

// Finding VMs, their virtual disks and the datastore files behind them in
// the simulator's inventory.  Callers hold the VM's lock
// (simulator.Map.WithLock) when they read or change a VM.

import (
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

// "[LocalDS_0] VM/disk1.vmdk" -> the descriptor and the flat extent
// ("VM/disk1-flat.vmdk"), the two files /folder serves for one disk.
func diskFiles(fileName string) (desc, flat dsFile, ok bool) {
	var p object.DatastorePath
	if !p.FromString(fileName) || !strings.HasSuffix(p.Path, ".vmdk") {
		return desc, flat, false
	}
	desc = dsFile{p.Datastore, path.Clean(p.Path)}
	flat = dsFile{p.Datastore,
		strings.TrimSuffix(desc.path, ".vmdk") + "-flat.vmdk"}
	return desc, flat, true
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

// The VM and disk whose descriptor or flat extent is the datastore file f
// (ds "" matches any datastore, as /folder without dsName does).
func diskOwner(f dsFile) (*simulator.VirtualMachine, *types.VirtualDisk) {
	for _, vm := range allVMs() {
		var found *types.VirtualDisk
		simulator.Map.WithLock(vm, func() {
			for _, d := range disksOf(vm.Config.Hardware.Device) {
				desc, flat, ok := diskFiles(flatBacking(d).FileName)
				if !ok {
					continue
				}
				for _, c := range []dsFile{desc, flat} {
					if c.path == f.path && (f.ds == "" || c.ds == f.ds) {
						found = d
					}
				}
			}
		})
		if found != nil {
			return vm, found
		}
	}
	return nil, nil
}
