package main

// The tests' control paths, /azprep-test/... on the simulator's port (no
// authentication; tests/lib/vcsim.sh has vcsim_ctl and vcsim_stats):
//
//   POST /azprep-test/fault?kind=reset|503&count=N[&path=SUBSTR]
//   POST /azprep-test/cbt-invalidate?vm=NAME
//   POST /azprep-test/power?vm=NAME&state=on|off
//   GET  /azprep-test/stats          (JSON counters)
//   POST /azprep-test/stats-reset

import (
	"encoding/json"
	"net/http"
	"strconv"

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
		if err != nil || n < 1 || (kind != "reset" && kind != "503") {
			http.Error(w, "kind=reset|503&count=N (N >= 1) expected", http.StatusBadRequest)
			return
		}
		fe.faults.add(kind, q.Get("path"), n)
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
