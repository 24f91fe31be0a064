package main

// Long tasks.  On vCenter a method whose name ends in _Task returns a
// Task at once and runs in the background; its TaskInfo (vSphere Web
// Services API, data object TaskInfo) is "queued", then "running" with
// progress ("Task progress, in percent, if the task reports progress")
// rising, then "success" or "error".  A snapshot removal that
// consolidates a large delta runs for minutes or hours this way.
// govmomi's simulator runs every task to completion before it answers.
//
// POST /azprep-test/task-delay?method=NAME&seconds=S[&count=N] makes the
// next N (default 1) calls of method NAME (e.g. RemoveSnapshot_Task)
// behave like that: the reply names a new Task at once; the task is
// "running" for S seconds with info.progress rising from 0 towards 100;
// then the simulator runs the call itself and the task takes its
// outcome (state, result, error).  Every change goes through
// simulator.Map.Update, as vCenter publishes TaskInfo changes: a client
// waiting in PropertyCollector.WaitForUpdatesEx sees each one (the
// simulator batches them every 250 ms) rather than only its polls.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type taskDelays struct {
	mu      sync.Mutex
	pending map[string][]time.Duration // method -> delays, oldest first
}

func (t *taskDelays) add(method string, d time.Duration, count int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = make(map[string][]time.Duration)
	}
	for i := 0; i < count; i++ {
		t.pending[method] = append(t.pending[method], d)
	}
}

// The delay for this call of method, or 0.
func (t *taskDelays) take(method string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.pending[method]
	if len(q) == 0 {
		return 0
	}
	t.pending[method] = q[1:]
	return q[0]
}

var innerTask = regexp.MustCompile(`<returnval type="Task">([^<]+)</returnval>`)

// Answer a _Task call with a running task, and run the call after d.
func (fe *frontend) slowTask(w http.ResponseWriter, r *http.Request, body []byte,
	method *simulator.Method, cookie string, d time.Duration) {
	name := strings.TrimSuffix(method.Name, "_Task")
	task := simulator.CreateTask(method.This, strings.ToLower(name[:1])+name[1:],
		func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, nil })
	simulator.Map.WithLock(task, func() {
		simulator.Map.Update(task, []types.PropertyChange{
			{Name: "info.startTime", Val: time.Now()},
			{Name: "info.state", Val: types.TaskInfoStateRunning},
			{Name: "info.progress", Val: int32(0)},
		})
	})
	writeResult(w, method.Name+"Response", task.Self)

	replay := r.Clone(context.Background())
	go func() {
		const steps = 20
		for i := 1; i < steps; i++ {
			time.Sleep(d / steps)
			p := int32(100 * i / steps)
			simulator.Map.WithLock(task, func() {
				simulator.Map.Update(task, []types.PropertyChange{
					{Name: "info.progress", Val: p}})
			})
		}
		time.Sleep(d / steps)
		replay.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		fe.inner.ServeHTTP(rec, replay)
		res := rec.Result()
		state, fault := types.TaskInfoStateError, &types.LocalizedMethodFault{
			Fault:            &types.SystemError{Reason: "the call failed"},
			LocalizedMessage: "the call failed"}
		var result types.AnyType
		if m := innerTask.FindSubmatch(rec.Body.Bytes()); res.StatusCode == http.StatusOK && m != nil {
			ref := types.ManagedObjectReference{Type: "Task", Value: string(m[1])}
			if t, ok := simulator.Map.Get(ref).(*simulator.Task); ok {
				simulator.Map.WithLock(t, func() {
					state, result = t.Info.State, t.Info.Result
					fault = t.Info.Error
				})
			}
			fe.afterCall(method, cookie, res)
		}
		// As the simulator's own Task.Run: the fault as a value.
		changes := []types.PropertyChange{
			{Name: "info.completeTime", Val: time.Now()},
			{Name: "info.result", Val: result},
		}
		if state == types.TaskInfoStateSuccess {
			changes = append(changes, types.PropertyChange{Name: "info.progress", Val: int32(100)})
		} else if fault != nil {
			changes = append(changes, types.PropertyChange{Name: "info.error", Val: *fault})
		}
		// The state last: a client that sees it has the rest.
		changes = append(changes, types.PropertyChange{Name: "info.state", Val: state})
		simulator.Map.WithLock(task, func() { simulator.Map.Update(task, changes) })
	}()
}
