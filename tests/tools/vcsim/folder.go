package main

// The /folder datastore endpoint (vSphere Web Services SDK Programming
// Guide, "HTTP Access to vSphere Server Files", "Datastore Access
// (/folder)": GET, HEAD, PUT, DELETE of
// /folder/PATH?dcPath=DC&dsName=DS), with what ESXi adds:
//
// - The exclusive lock.  A powered-on VM's running disk is opened by its
//   VMX process with an exclusive VMFS lock; other openers fail with
//   "Failed to lock the file" and the API reports FileLocked, "Unable to
//   access file [ds] path since it is locked" (vSphere Web Services API,
//   fault FileLocked; seen e.g. in vmware/govmomi issue 2039).  Once a
//   snapshot exists, the VM writes to a delta disk and the base disk is
//   opened read-only, so it can be read (this is how backup software reads
//   a running VM).  So here: while a powered-on VM has no snapshot, a GET,
//   HEAD or DELETE of its disk's descriptor or flat extent is refused with HTTP
//   500 and a body naming the lock; with a snapshot, the base is served
//   as it was when the first snapshot was taken, and the delta
//   (VM/disk1-000001-delta.vmdk) is the locked one; powered off, all is
//   served.  (The HTTP status ESXi's /folder gives is not documented; the
//   body names the lock.)  PUT of a disk's flat extent is the tests'
//   stand-in for the guest's writes and is never refused: with a snapshot
//   it goes to the delta, which is merged into the base when the last
//   snapshot is removed (consolidation) and dropped on a revert.
// - Sessions: a request with an ended session's cookie gets 401 (ESXi's
//   /folder answers 401 Unauthorized without a valid session or basic
//   credentials).  Requests without a cookie are served, as before, so
//   that tests can use curl.
// - Faults injected by the tests (POST /azprep-test/fault): TCP resets,
//   503s, and slow replies (kind=slow&ms=D: served after D ms).
// - Counters: requests, body bytes sent, lock refusals.

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type stats struct {
	folderBytes, folderRequests, lockedRefusals atomic.Int64
	sessionsExpired, logins                     atomic.Int64
}

// Pending injected faults: kind "reset" or "503", how many, on paths
// containing match.
type faults struct {
	mu      sync.Mutex
	pending []*fault
}

type fault struct {
	kind, match string
	count       int
	delay       time.Duration // kind "slow": served after this
}

func (f *faults) add(kind, match string, count int, delay time.Duration) {
	f.mu.Lock()
	f.pending = append(f.pending, &fault{kind, match, count, delay})
	f.mu.Unlock()
}

// Drop the pending faults (POST /azprep-test/fault-clear).
func (f *faults) clear() {
	f.mu.Lock()
	f.pending = nil
	f.mu.Unlock()
}

// The fault this request gets (its kind, "" for none).
func (f *faults) take(p string) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.pending {
		if strings.Contains(p, x.match) {
			x.count--
			if x.count == 0 {
				f.pending = append(f.pending[:i], f.pending[i+1:]...)
			}
			return *x
		}
	}
	return fault{}
}

// The datastore file a /folder URL names.
func folderFile(r *http.Request) dsFile {
	// Cleaned from the root: "/folder/../x" names x, not a file outside
	// the datastore.
	p := path.Clean("/" + strings.TrimPrefix(r.URL.Path, "/folder"))
	return dsFile{r.URL.Query().Get("dsName"), strings.TrimPrefix(p, "/")}
}

func (fe *frontend) folder(w http.ResponseWriter, r *http.Request) {
	fe.stats.folderRequests.Add(1)
	switch f := fe.faults.take(r.URL.Path); f.kind {
	case "slow":
		time.Sleep(f.delay) // a slow datastore: served late
	case "reset":
		fe.reset(w, r)
		return
	case "503":
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	if c := sessionCookie(r); c != "" && !fe.sessions.alive(c) {
		w.Header().Set("WWW-Authenticate", `Basic realm="VMware HTTP server"`)
		http.Error(w, "401 Unauthorized: the session is not authenticated",
			http.StatusUnauthorized)
		return
	}
	f := folderFile(r)
	if r.Method == http.MethodGet || r.Method == http.MethodHead ||
		r.Method == http.MethodDelete {
		if why := lockedBy(f); why != "" {
			fe.stats.lockedRefusals.Add(1)
			http.Error(w, fmt.Sprintf("Unable to access file [%s] %s since it is locked (%s)",
				f.ds, f.path, why), http.StatusInternalServerError)
			return
		}
	}
	if r.Method == http.MethodPut {
		fe.cbt.settle() // the file may change: its digests first
		if fe.put(w, r, f) {
			return
		}
	}
	fe.inner.ServeHTTP(&countingWriter{ResponseWriter: w, n: &fe.stats.folderBytes}, r)
}

// A PUT: the test writing a disk, as the running guest would.  A disk's
// flat extent goes to its delta while the VM has a snapshot (the
// snapshot's base stays as it was), else to the flat extent itself, and
// the disk's capacity becomes the size written.  Other files are stored
// as they are.  false: left to the simulator (no datastore named).
func (fe *frontend) put(w http.ResponseWriter, r *http.Request, f dsFile) bool {
	vm, d, paths := diskOwner(f)
	target := f
	if vm != nil && f.path == paths.flat.path {
		target = paths.flat
		simulator.Map.WithLock(vm, func() {
			if hasSnapshot(vm) {
				target = paths.delta
			}
		})
	} else {
		vm = nil
	}
	local, ok := localPath(target)
	if !ok {
		return false
	}
	size, err := sparsePut(local, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	if vm != nil {
		simulator.Map.WithLock(vm, func() {
			d.CapacityInBytes = size
			d.CapacityInKB = (size + 1023) / 1024
		})
	}
	return true
}

// PUT as a thin disk stores it: blocks of zeros are left as holes (the
// simulator's own PUT writes every byte), so that digesting a large disk
// at each snapshot skips what was never written.
func sparsePut(local string, body io.Reader) (int64, error) {
	if err := os.MkdirAll(path.Dir(local), 0700); err != nil {
		return 0, err
	}
	f, err := os.Create(local)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, cbtBlock)
	var size int64
	for {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			if isZero(buf[:n]) {
				_, err2 := f.Seek(int64(n), io.SeekCurrent)
				if err2 != nil {
					return 0, err2
				}
			} else if _, err2 := f.Write(buf[:n]); err2 != nil {
				return 0, err2
			}
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if err := f.Truncate(size); err != nil {
		return 0, err
	}
	return size, f.Close()
}

// Why ESXi would refuse to open f, a disk file of a powered-on VM: its
// running disk is locked (the base while it has no snapshot, the delta
// always); or "".
func lockedBy(f dsFile) string {
	vm, _, paths := diskOwner(f)
	if vm == nil {
		return ""
	}
	why := ""
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			return
		}
		if f.path == paths.delta.path {
			why = fmt.Sprintf("VM %s is powered on and writes this delta disk", vm.Name)
		} else if !hasSnapshot(vm) {
			why = fmt.Sprintf("VM %s is powered on and has no snapshot", vm.Name)
		}
	})
	return why
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// A TCP reset: for a GET with a body, after the status line, the headers
// and part of the body (a connection lost mid-transfer); else at once.
func (fe *frontend) reset(w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // not HTTP/1 (the server offers only http/1.1)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer resetConn(conn)
	if r.Method != http.MethodGet || lockedBy(folderFile(r)) != "" {
		return
	}
	rw := &rawWriter{buf: buf.Writer, h: make(http.Header),
		n: &fe.stats.folderBytes}
	fe.inner.ServeHTTP(rw, r)
	_ = buf.Flush()
}

func resetConn(conn net.Conn) {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// Writes a response straight to a hijacked connection, and stops after
// half its body (at most 64 KiB).
type rawWriter struct {
	buf     *bufio.Writer
	h       http.Header
	started bool
	left    int64
	n       *atomic.Int64
}

func (w *rawWriter) Header() http.Header { return w.h }

func (w *rawWriter) WriteHeader(code int) {
	if w.started {
		return
	}
	w.started = true
	size, _ := strconv.ParseInt(w.h.Get("Content-Length"), 10, 64)
	w.left = size / 2
	if w.left > 64<<10 {
		w.left = 64 << 10
	}
	if w.left == 0 {
		return // nothing to cut short: reset before the reply
	}
	fmt.Fprintf(w.buf, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	w.h.Set("Connection", "close")
	_ = w.h.Write(w.buf)
	w.buf.WriteString("\r\n")
}

func (w *rawWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if int64(len(p)) > w.left {
		p = p[:w.left]
	}
	n, _ := w.buf.Write(p)
	w.left -= int64(n)
	w.n.Add(int64(n))
	if w.left == 0 {
		return n, fmt.Errorf("connection reset (injected)")
	}
	return n, nil
}

// After a snapshot's removal: a VM left without snapshots has its delta
// consolidated into the base disk (RemoveSnapshot_Task,
// RemoveAllSnapshots_Task).  After a revert, the delta's writes are
// discarded (RevertToSnapshot_Task; exact for the first snapshot, whose
// base is the flat extent).
func consolidate(revert bool) {
	for _, vm := range allVMs() {
		simulator.Map.WithLock(vm, func() {
			if hasSnapshot(vm) && !revert {
				return
			}
			for _, d := range disksOf(vm.Config.Hardware.Device) {
				p, _ := pathsOf(d)
				delta, ok1 := localPath(p.delta)
				flat, ok2 := localPath(p.flat)
				if _, err := os.Stat(delta); !ok1 || !ok2 || err != nil {
					continue
				}
				if revert {
					_ = os.Remove(delta)
				} else if err := os.Rename(delta, flat); err != nil {
					log.Printf("consolidating %s: %s", delta, err)
				}
			}
		})
	}
}
