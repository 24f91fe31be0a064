package main

// The tests' control paths, /azprep-test/... on the simulator's port (no
// authentication; tests/lib/vcsim.sh has vcsim_ctl and vcsim_stats):
//
//   POST /azprep-test/fault?kind=reset|503|slow&count=N[&ms=D][&path=SUBSTR]
//   POST /azprep-test/fault-clear    (drops the pending faults)
//   POST /azprep-test/cbt-invalidate?vm=NAME
//   POST /azprep-test/power?vm=NAME&state=on|off
//   POST /azprep-test/task-delay?method=NAME&seconds=S[&count=N] (tasks.go)
//   GET  /azprep-test/stats          (JSON counters)
//   POST /azprep-test/stats-reset

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func (fe *frontend) control(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	what := r.URL.Path[len("/azprep-test/"):]
	if what == "stats" {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int64{
			"folder_bytes":     fe.stats.folderBytes.Load(),
			"folder_requests":  fe.stats.folderRequests.Load(),
			"locked_refusals":  fe.stats.lockedRefusals.Load(),
			"sessions_expired": fe.stats.sessionsExpired.Load(),
			"logins":           fe.stats.logins.Load(),
		})
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var vm *simulator.VirtualMachine
	if what == "cbt-invalidate" || what == "power" {
		if vm = vmByName(q.Get("vm")); vm == nil {
			http.Error(w, "no VM named "+strconv.Quote(q.Get("vm")), http.StatusNotFound)
			return
		}
	}
	switch what {
	case "fault":
		n, err := strconv.Atoi(q.Get("count"))
		kind := q.Get("kind")
		ms, err2 := strconv.Atoi(q.Get("ms"))
		if kind != "slow" {
			ms, err2 = 0, nil
		}
		if err != nil || err2 != nil || n < 1 || ms < 0 ||
			(kind != "reset" && kind != "503" && kind != "slow") {
			http.Error(w, "kind=reset|503|slow&count=N (N >= 1)[&ms=D] expected",
				http.StatusBadRequest)
			return
		}
		fe.faults.add(kind, q.Get("path"), n, time.Duration(ms)*time.Millisecond)
	case "fault-clear":
		fe.faults.clear()
	case "task-delay":
		secs, err := strconv.ParseFloat(q.Get("seconds"), 64)
		n := 1
		if c := q.Get("count"); c != "" {
			n, _ = strconv.Atoi(c)
		}
		if err != nil || secs <= 0 || n < 1 || !strings.HasSuffix(q.Get("method"), "_Task") {
			http.Error(w, "method=NAME_Task&seconds=S (S > 0)[&count=N] expected",
				http.StatusBadRequest)
			return
		}
		fe.delays.add(q.Get("method"), time.Duration(secs*float64(time.Second)), n)
	case "cbt-invalidate":
		fe.cbt.invalidate(vm)
	case "power":
		state := map[string]types.VirtualMachinePowerState{
			"on":  types.VirtualMachinePowerStatePoweredOn,
			"off": types.VirtualMachinePowerStatePoweredOff,
		}[q.Get("state")]
		if state == "" {
			http.Error(w, "state=on|off expected", http.StatusBadRequest)
			return
		}
		simulator.Map.WithLock(vm, func() {
			simulator.Map.Update(vm, []types.PropertyChange{
				{Name: "runtime.powerState", Val: state},
				{Name: "summary.runtime.powerState", Val: state},
			})
		})
	case "stats-reset":
		for _, c := range []interface{ Store(int64) }{&fe.stats.folderBytes,
			&fe.stats.folderRequests, &fe.stats.lockedRefusals,
			&fe.stats.sessionsExpired, &fe.stats.logins} {
			c.Store(0)
		}
	default:
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
