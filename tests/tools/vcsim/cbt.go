package main

// Changed Block Tracking (CBT), after VMware's documentation:
//
// - VirtualMachineConfigSpec.changeTrackingEnabled turns CBT on or off;
//   the change takes effect after the VM's next stun-unstun cycle
//   (snapshot creation, power on, resume, migration; VMware KB 1020128,
//   "Changed Block Tracking (CBT) on virtual machines").  Here: at the
//   next snapshot.  Turning it off discards the tracking data, so the old
//   changeIds are no longer valid.
// - With CBT on, each virtual disk's backing has a changeId
//   (VirtualDiskFlatVer2BackingInfo.changeId: "The change ID of the
//   virtual disk for the corresponding snapshot or virtual machine. This
//   can be used to track incremental changes to a virtual disk.").  Real
//   ones look like "52 3c 8b 6d 26 18 a5 a5-e2 bd 70 b4 1e d6 50 5a/16":
//   the tracking file's UUID and a sequence number; the UUID changes when
//   tracking is reset (storage vMotion, restore, CBT off and on), which
//   invalidates every earlier changeId.
// - VirtualMachine.QueryChangedDiskAreas(snapshot, deviceKey, startOffset,
//   changeId) returns a DiskChangeInfo: the areas of the disk as of the
//   snapshot that changed since the point changeId names, within
//   [startOffset, startOffset+length); "Typically, callers will make
//   multiple calls to this function, starting with startOffset 0 and then
//   examine the length property in the returned DiskChangeInfo structure,
//   repeatedly calling queryChangedDiskAreas until a map for the entire
//   virtual disk has been obtained."  changeId "*" asks for the areas in
//   use (allocated) instead.  Without a snapshot argument the changes are
//   computed against the current state, which works only for a powered-off
//   VM.  Faults (the method's reference page): FileFault when the disk
//   files cannot be accessed or the changeId is not valid (what ESXi
//   answers for a changeId from a reset tracking file, "Error caused by
//   file ..."), NotFound for a snapshot or device that does not exist,
//   InvalidArgument for a bad argument.
//
// The simulator keeps, for each changeId, a digest of every 64 KiB block
// of the flat extent as it was at that snapshot, and reports the blocks
// whose digests differ (so it reports content changes: a real host
// reports blocks written, a superset).  "*" reports the blocks that are
// not all zeros.

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const cbtBlock = 64 << 10

type digest [16]byte

var zeroDigest = digestOf(make([]byte, cbtBlock))

func digestOf(b []byte) digest {
	var d digest
	s := sha256.Sum256(b)
	copy(d[:], s[:])
	return d
}

// A disk's content at one snapshot.
type diskPoint struct {
	changeID string
	capacity int64
	blocks   []digest
}

type diskKey struct {
	vm  string // VirtualMachine reference value
	key int32  // device key
}

// A disk's tracking: the tracking file's UUID and sequence, and the points
// its changeIds name.
type chain struct {
	uuid   string
	seq    int
	points map[string]*diskPoint
}

type cbt struct {
	page int64

	mu     sync.Mutex
	chains map[diskKey]*chain
	snaps  map[string]map[int32]*diskPoint // snapshot ref -> device key
}

func newCBT(page int64) *cbt {
	return &cbt{page: page, chains: make(map[diskKey]*chain),
		snaps: make(map[string]map[int32]*diskPoint)}
}

// "52 xx xx xx xx xx xx xx-xx xx xx xx xx xx xx xx", as ESXi prints the
// tracking file's UUID.
func newTrackingUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[0] = 0x52
	var s strings.Builder
	for i, x := range b {
		if i == 8 {
			s.WriteByte('-')
		} else if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", x)
	}
	return s.String()
}

// Digests of the disk's flat extent, capacity bytes (a missing or short
// file reads as zeros, as a thin disk does).
func readBlocks(d *types.VirtualDisk) []digest {
	capacity := diskCapacity(d)
	blocks := make([]digest, (capacity+cbtBlock-1)/cbtBlock)
	var f *os.File
	if _, flat, ok := diskFiles(flatBacking(d).FileName); ok {
		if local, ok := localPath(flat); ok {
			f, _ = os.Open(local)
		}
	}
	if f != nil {
		defer f.Close()
	}
	buf := make([]byte, cbtBlock)
	for i := range blocks {
		for j := range buf {
			buf[j] = 0
		}
		if f != nil {
			_, _ = io.ReadFull(f, buf)
		}
		blocks[i] = digestOf(buf)
	}
	return blocks
}

// After CreateSnapshot_Task on vm: give the snapshot's disks (and the
// VM's) their changeIds when CBT is on, and keep the snapshot's disks
// apart from the VM's (the simulator's snapshot shares the VM's device
// objects).
func (c *cbt) snapshotTaken(ref types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(vm, func() {
		if vm.Snapshot == nil || vm.Snapshot.CurrentSnapshot == nil {
			return
		}
		snap, ok := simulator.Map.Get(*vm.Snapshot.CurrentSnapshot).(*simulator.VirtualMachineSnapshot)
		if !ok {
			return
		}
		on := vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		devices := copyDisks(vm.Config.Hardware.Device)
		snap.Config.Hardware.Device = devices
		points := make(map[int32]*diskPoint)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, d := range disksOf(devices) {
			k := diskKey{vm.Self.Value, d.Key}
			live := liveDisk(vm, d.Key)
			if !on {
				delete(c.chains, k)
				flatBacking(d).ChangeId = ""
				if live != nil {
					flatBacking(live).ChangeId = ""
				}
				continue
			}
			ch := c.chains[k]
			if ch == nil {
				ch = &chain{uuid: newTrackingUUID(),
					points: make(map[string]*diskPoint)}
				c.chains[k] = ch
			}
			ch.seq++
			p := &diskPoint{changeID: fmt.Sprintf("%s/%d", ch.uuid, ch.seq),
				capacity: diskCapacity(d), blocks: readBlocks(d)}
			ch.points[p.changeID] = p
			points[d.Key] = p
			flatBacking(d).ChangeId = p.changeID
			if live != nil {
				flatBacking(live).ChangeId = p.changeID
			}
		}
		c.snaps[snap.Self.Value] = points
	})
}

func liveDisk(vm *simulator.VirtualMachine, key int32) *types.VirtualDisk {
	for _, d := range disksOf(vm.Config.Hardware.Device) {
		if d.Key == key {
			return d
		}
	}
	return nil
}

// The device list with its virtual disks and their backings copied.
func copyDisks(devices []types.BaseVirtualDevice) []types.BaseVirtualDevice {
	out := make([]types.BaseVirtualDevice, len(devices))
	for i, dev := range devices {
		out[i] = dev
		if d, ok := dev.(*types.VirtualDisk); ok && flatBacking(d) != nil {
			nd := *d
			nb := *flatBacking(d)
			nd.Backing = &nb
			out[i] = &nd
		}
	}
	return out
}

// The tracking is reset (POST /azprep-test/cbt-invalidate): a new tracking
// UUID at the next snapshot; every changeId issued so far is invalid.
func (c *cbt) invalidate(vm *simulator.VirtualMachine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.chains {
		if k.vm == vm.Self.Value {
			delete(c.chains, k)
		}
	}
}

type faultErr struct {
	msg    string
	detail types.BaseMethodFault
}

func (c *cbt) query(req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, *faultErr) {
	vm, ok := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	if !ok {
		return nil, &faultErr{"managed object not found: " + req.This.String(),
			&types.ManagedObjectNotFound{Obj: req.This}}
	}
	var snap types.ManagedObjectReference
	var msg string
	simulator.Map.WithLock(vm, func() {
		switch {
		case req.Snapshot != nil:
			snap = *req.Snapshot
		case vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff:
			msg = "without a snapshot, changes can be computed only for a powered-off VM"
		case vm.Snapshot == nil || vm.Snapshot.CurrentSnapshot == nil:
			msg = "no snapshot given and the VM has no current snapshot"
		default:
			snap = *vm.Snapshot.CurrentSnapshot
		}
	})
	if msg != "" {
		return nil, &faultErr{msg, &types.InvalidArgument{InvalidProperty: "snapshot"}}
	}
	s, ok := simulator.Map.Get(snap).(*simulator.VirtualMachineSnapshot)
	if !ok || s.Vm != vm.Self {
		return nil, &faultErr{"managed object not found: " + snap.String(),
			&types.ManagedObjectNotFound{Obj: snap}}
	}
	return c.changes(vm, s, req)
}

func (c *cbt) changes(vm *simulator.VirtualMachine, s *simulator.VirtualMachineSnapshot,
	req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, *faultErr) {
	var disk *types.VirtualDisk
	simulator.Map.WithLock(vm, func() {
		for _, d := range disksOf(s.Config.Hardware.Device) {
			if d.Key == req.DeviceKey {
				disk = d
			}
		}
	})
	if disk == nil {
		return nil, &faultErr{fmt.Sprintf("no virtual disk with key %d in %s",
			req.DeviceKey, s.Self), &types.NotFound{}}
	}
	file := flatBacking(disk).FileName
	fileFault := func(why string) *faultErr {
		return &faultErr{"Error caused by file " + file + ": " + why,
			&types.FileFault{File: file}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.snaps[s.Self.Value][req.DeviceKey]
	if p == nil {
		return nil, fileFault("change tracking was not enabled on this disk at this snapshot")
	}
	if req.StartOffset < 0 || req.StartOffset >= p.capacity {
		return nil, &faultErr{fmt.Sprintf("startOffset %d is not within the disk (%d bytes)",
			req.StartOffset, p.capacity), &types.InvalidArgument{InvalidProperty: "startOffset"}}
	}
	var old *diskPoint
	if req.ChangeId != "*" {
		ch := c.chains[diskKey{vm.Self.Value, req.DeviceKey}]
		if ch == nil || ch.points[p.changeID] != p || ch.points[req.ChangeId] == nil {
			return nil, fileFault(fmt.Sprintf("changeId %q is not valid for this disk "+
				"(change tracking was reset, or it was never issued)", req.ChangeId))
		}
		old = ch.points[req.ChangeId]
	}
	end := req.StartOffset + c.page
	if end > p.capacity || end < 0 {
		end = p.capacity
	}
	info := &types.DiskChangeInfo{StartOffset: req.StartOffset,
		Length: end - req.StartOffset}
	for i := req.StartOffset / cbtBlock; i*cbtBlock < end; i++ {
		var changed bool
		if old == nil {
			changed = p.blocks[i] != zeroDigest
		} else {
			changed = i >= int64(len(old.blocks)) || old.blocks[i] != p.blocks[i]
		}
		if !changed {
			continue
		}
		a, b := i*cbtBlock, (i+1)*cbtBlock
		if a < req.StartOffset {
			a = req.StartOffset
		}
		if b > end {
			b = end
		}
		n := len(info.ChangedArea)
		if n > 0 && info.ChangedArea[n-1].Start+info.ChangedArea[n-1].Length == a {
			info.ChangedArea[n-1].Length += b - a
		} else {
			info.ChangedArea = append(info.ChangedArea,
				types.DiskChangeExtent{Start: a, Length: b - a})
		}
	}
	return info, nil
}
