package main

// Changed Block Tracking (CBT), as VMware documents it:
//
// - VirtualMachineConfigSpec.changeTrackingEnabled turns CBT on or off;
//   the change takes effect after the VM's next stun-unstun cycle
//   (snapshot creation or removal, power on, resume, migration; VMware KB
//   1020128, "Changed Block Tracking (CBT) on virtual machines").  Here: at
//   the next snapshot, whose disks are the first to carry a changeId.
//   Turning it off discards the tracking file, and with it every changeId.
// - With CBT on, each virtual disk's backing has a changeId
//   (VirtualDiskFlatVer2BackingInfo.changeId, vSphere Web Services API:
//   the change ID of the disk for the corresponding snapshot or VM, used to
//   track incremental changes).  ESXi's look like
//   "52 3c 8b 6d 26 18 a5 a5-e2 bd 70 b4 1e d6 50 5a/16": the tracking
//   file's UUID, "/", a sequence number.  Resetting the tracking (storage
//   vMotion, restore, CBT off and on) gives a new UUID; a changeId from
//   before is then refused with a FileFault ("Error caused by file ..."),
//   which backup tools answer with a full backup.
// - VirtualMachine.QueryChangedDiskAreas(snapshot, deviceKey, startOffset,
//   changeId) (vSphere Web Services API reference): the areas of the disk
//   modified between the point changeId names and the snapshot.  The reply,
//   a DiskChangeInfo, describes [startOffset, startOffset+length) and the
//   changedArea extents in it; callers start at 0 and call again from
//   startOffset+length until the whole disk is covered.  "The result may
//   contain false positives ... it is guaranteed that no changes will be
//   missed."  Without a snapshot it works only for a powered-off VM.
// - changeId "*" asks for the areas in use (VDDK Programming Guide, "About
//   Changed Block Tracking" and "Changed Block Tracking on Virtual Disks":
//   a first full backup queries "*" to skip unallocated areas).
//
// The simulator keeps, for each changeId, a digest of every 64 KiB block
// of the flat extent as it was at that snapshot, and reports the blocks
// whose digests differ: content changes, a subset of what a host reports
// (blocks written) but never missing one.  "*" reports the blocks that are
// not all zeros.  Faults here: FileFault for a changeId it cannot use (not
// issued, reset) or a disk without CBT at that snapshot; NotFound for a
// device key that is not a disk of the snapshot; ManagedObjectNotFound for
// an unknown snapshot; InvalidArgument for a startOffset outside the disk.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"hash/maphash"
	"os"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const cbtBlock = 64 << 10

// A block's digest: 0 for a block of zeros, else a 64-bit hash of it
// (never 0).  maphash is fast enough to digest a 4 GiB disk at each
// snapshot of the benchmark; its seed is per process, as the digests are.
type digest uint64

var seed = maphash.MakeSeed()

func digestOf(b []byte) digest {
	if isZero(b) {
		return 0
	}
	if h := maphash.Bytes(seed, b); h != 0 {
		return digest(h)
	}
	return 1
}

var zeros = make([]byte, cbtBlock)

// Whether b (at most one block) is all zeros.
func isZero(b []byte) bool {
	return bytes.Equal(b, zeros[:len(b)])
}

// A disk's content at one snapshot.  Its digests are computed after
// CreateSnapshot_Task has answered (a host tracks changes as the guest
// writes, and a snapshot costs it nothing for CBT; the simulator, which
// does not see the guest's writes, digests the frozen base instead, off
// the task's path): ready is closed once blocks is set.
type diskPoint struct {
	changeID string
	capacity int64
	blocks   []digest
	ready    chan struct{}
}

// The digests, once computed.
func (p *diskPoint) digests() []digest {
	<-p.ready
	return p.blocks
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

	pendingMu sync.Mutex
	pending   []chan struct{} // ready channels of digests being computed

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

// Wait until every snapshot's digests are computed: before the disk's
// files change (a write, a consolidation).
func (c *cbt) settle() {
	c.pendingMu.Lock()
	waits := append([]chan struct{}(nil), c.pending...)
	c.pendingMu.Unlock()
	for _, ready := range waits {
		<-ready
	}
	c.pendingMu.Lock()
	left := c.pending[:0]
	for _, ready := range c.pending {
		select {
		case <-ready:
		default:
			left = append(left, ready)
		}
	}
	c.pending = left
	c.pendingMu.Unlock()
}

// The disk's current content, opened now (nil: none, all zeros).  A
// consolidation renames the delta over the flat file: what is open
// stays the content as it was.
func openBlocks(d *types.VirtualDisk) *os.File {
	if local, ok := liveFile(d); ok {
		if f, err := os.Open(local); err == nil {
			return f
		}
	}
	return nil
}

// Digests of f, capacity bytes (a missing or short file reads as zeros,
// as a thin disk does), into p in the background; closes f.  Holes in
// the sparse file are zeros without being read (lseek SEEK_DATA).
func (c *cbt) digestLater(p *diskPoint, f *os.File) {
	p.ready = make(chan struct{})
	c.pendingMu.Lock()
	c.pending = append(c.pending, p.ready)
	c.pendingMu.Unlock()
	go func() {
		p.blocks = readBlocks(f, p.capacity)
		close(p.ready)
	}()
}

func readBlocks(f *os.File, capacity int64) []digest {
	blocks := make([]digest, (capacity+cbtBlock-1)/cbtBlock)
	if f == nil {
		return blocks
	}
	defer f.Close()
	buf := make([]byte, cbtBlock)
	const seekData = 3 // SEEK_DATA, Linux
	for i := int64(0); i < int64(len(blocks)); i++ {
		data, err := f.Seek(i*cbtBlock, seekData)
		if err != nil {
			break // no data after this: zeros (ENXIO), or no SEEK_DATA
		}
		if data >= (i+1)*cbtBlock {
			i = data/cbtBlock - 1
			continue
		}
		n, _ := f.ReadAt(buf, i*cbtBlock)
		for j := n; j < len(buf); j++ {
			buf[j] = 0
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
				capacity: diskCapacity(d)}
			c.digestLater(p, openBlocks(d))
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
	now := p.digests()
	var before []digest
	if old != nil {
		before = old.digests()
	}
	for i := req.StartOffset / cbtBlock; i*cbtBlock < end; i++ {
		var changed bool
		if old == nil {
			changed = now[i] != 0
		} else {
			changed = i >= int64(len(before)) || before[i] != now[i]
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
