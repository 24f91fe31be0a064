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
//   a running VM).  The simulator writes no delta disks, so: while a
//   powered-on VM has no snapshot, a GET or HEAD of its disk's descriptor
//   or flat extent is refused with HTTP 500 and a body naming the lock;
//   with a snapshot, or powered off, it is served.  (The HTTP status
//   ESXi's /folder gives is not documented; the body names the lock.)
//   PUT is the tests' stand-in for the guest's writes and never refused.
// - Sessions: a request with an ended session's cookie gets 401 (ESXi's
//   /folder answers 401 Unauthorized without a valid session or basic
//   credentials).  Requests without a cookie are served, as before, so
//   that tests can use curl.
// - Faults injected by the tests (POST /azprep-test/fault): TCP resets
//   and 503s.
// - Counters: requests, body bytes sent, lock refusals.

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
}

func (f *faults) add(kind, match string, count int) {
	f.mu.Lock()
	f.pending = append(f.pending, &fault{kind, match, count})
	f.mu.Unlock()
}

// The kind of fault this request gets, or "".
func (f *faults) take(p string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.pending {
		if strings.Contains(p, x.match) {
			x.count--
			if x.count == 0 {
				f.pending = append(f.pending[:i], f.pending[i+1:]...)
			}
			return x.kind
		}
	}
	return ""
}

// The datastore file a /folder URL names.
func folderFile(r *http.Request) dsFile {
	p := strings.TrimPrefix(r.URL.Path, "/folder")
	return dsFile{r.URL.Query().Get("dsName"), path.Clean(strings.TrimPrefix(p, "/"))}
}

func (fe *frontend) folder(w http.ResponseWriter, r *http.Request) {
	fe.stats.folderRequests.Add(1)
	switch fe.faults.take(r.URL.Path) {
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
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if vm := lockedBy(f); vm != "" {
			fe.stats.lockedRefusals.Add(1)
			http.Error(w, fmt.Sprintf(
				"Unable to access file [%s] %s since it is locked (VM %s is powered on and has no snapshot)",
				f.ds, f.path, vm), http.StatusInternalServerError)
			return
		}
	}
	if r.Method == http.MethodPut {
		if local, ok := localPath(f); ok && f.ds != "" {
			if err := sparsePut(local, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			diskWritten(f)
			return
		}
	}
	cw := &countingWriter{ResponseWriter: w, n: &fe.stats.folderBytes}
	fe.inner.ServeHTTP(cw, r)
	if r.Method == http.MethodPut && cw.status < 300 {
		diskWritten(f)
	}
}

// PUT as a thin disk stores it: blocks of zeros are left as holes (the
// simulator's own PUT writes every byte), so that digesting a large disk
// at each snapshot skips what was never written.
func sparsePut(local string, body io.Reader) error {
	if err := os.MkdirAll(path.Dir(local), 0700); err != nil {
		return err
	}
	f, err := os.Create(local)
	if err != nil {
		return err
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
					return err2
				}
			} else if _, err2 := f.Write(buf[:n]); err2 != nil {
				return err2
			}
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Close()
}

// The name of the powered-on VM without a snapshot whose disk f is, or "".
func lockedBy(f dsFile) string {
	vm, _ := diskOwner(f)
	if vm == nil {
		return ""
	}
	name := ""
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn &&
			(vm.Snapshot == nil || len(vm.Snapshot.RootSnapshotList) == 0) {
			name = vm.Name
		}
	})
	return name
}

// After a PUT of a disk's flat extent: the disk's capacity is the file's
// size (the test made a disk of that size).
func diskWritten(f dsFile) {
	vm, d := diskOwner(f)
	if vm == nil || !strings.HasSuffix(f.path, "-flat.vmdk") {
		return
	}
	local, ok := localPath(dsFile{f.ds, f.path})
	if f.ds == "" {
		_, flat, _ := diskFiles(flatBacking(d).FileName)
		local, ok = localPath(flat)
	}
	st, err := os.Stat(local)
	if !ok || err != nil {
		return
	}
	simulator.Map.WithLock(vm, func() {
		d.CapacityInBytes = st.Size()
		d.CapacityInKB = (st.Size() + 1023) / 1024
	})
}

type countingWriter struct {
	http.ResponseWriter
	n      *atomic.Int64
	status int
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
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
		panic("cannot hijack")
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
