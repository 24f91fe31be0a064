package main

// Session idle timeout.  vCenter ends a session that has made no call for
// its idle timeout (30 minutes by default); afterwards every call on it
// faults with NotAuthenticated and the client must log in again.  Any
// call renews the session, so SessionManager.SessionIsActive or
// ServiceInstance.CurrentTime serve as keep-alives.  Here only SOAP calls
// renew: /folder requests with the session's cookie are authenticated by
// it but do not keep it alive (a long read must not hide an idle SOAP
// session), and once it has expired they get HTTP 401.
//
// govmomi's simulator has SessionIdleTimeout, but checks it only every
// timeout period; the front end keeps its own table so that a session
// ends exactly when its idle time is up, and logs the simulator's session
// out then.

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
)

type sessions struct {
	idle  time.Duration
	inner http.Handler
	stats *stats

	mu   sync.Mutex
	last map[string]time.Time // live sessions: cookie -> last call
}

func newSessions(idle time.Duration, inner http.Handler, st *stats) *sessions {
	return &sessions{idle: idle, inner: inner, stats: st,
		last: make(map[string]time.Time)}
}

func (s *sessions) add(cookie string) {
	s.mu.Lock()
	s.last[cookie] = time.Now()
	s.mu.Unlock()
}

func (s *sessions) remove(cookie string) {
	s.mu.Lock()
	delete(s.last, cookie)
	s.mu.Unlock()
}

// Whether the session is alive; if it is, a call renews it.
func (s *sessions) touch(cookie string) bool {
	if !s.alive(cookie) {
		return false
	}
	s.add(cookie)
	return true
}

// Whether the session is alive, without renewing it (/folder).
func (s *sessions) alive(cookie string) bool {
	s.expire()
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.last[cookie]
	return ok
}

// End the sessions idle for longer than the timeout.
func (s *sessions) expire() {
	now := time.Now()
	var gone []string
	s.mu.Lock()
	for c, t := range s.last {
		if now.Sub(t) > s.idle {
			gone = append(gone, c)
			delete(s.last, c)
		}
	}
	s.mu.Unlock()
	for _, c := range gone {
		s.stats.sessionsExpired.Add(1)
		s.logout(c)
	}
}

// Log the simulator's session out, so that it too forgets it
// (SessionIsActive from another session then answers false).
func (s *sessions) logout(cookie string) {
	const body = envelopeStart +
		`<Logout xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this></Logout>` +
		envelopeEnd
	r := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(body))
	r.AddCookie(&http.Cookie{Name: soap.SessionCookieName, Value: cookie})
	s.inner.ServeHTTP(httptest.NewRecorder(), r)
}

// Expire sessions on time even when no request comes.
func (s *sessions) reap() {
	tick := s.idle / 8
	if tick > time.Second {
		tick = time.Second
	}
	for range time.Tick(tick) {
		s.expire()
	}
}
