package main

// The front end: every request passes here before govmomi's simulator.
// SOAP calls (/sdk) are read whole, so that the session idle timeout can
// be applied, QueryChangedDiskAreas answered (the simulator does not
// implement it) and snapshots given their changeIds once
// CreateSnapshot_Task has run.  /folder goes to folder.go,
// /azprep-test/ to control.go.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type frontend struct {
	inner    http.Handler
	sessions *sessions
	cbt      *cbt
	faults   faults
	delays   taskDelays
	stats    stats
}

func newFrontend(inner http.Handler, idle time.Duration, page int64) *frontend {
	fe := &frontend{inner: inner, cbt: newCBT(page)}
	fe.sessions = newSessions(idle, inner, &fe.stats)
	return fe
}

func (fe *frontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/azprep-test/"):
		fe.control(w, r)
	case strings.HasPrefix(p, "/folder"):
		fe.folder(w, r)
	case r.Method == http.MethodPost &&
		(p == simulator.Map.Path || strings.HasPrefix(p, simulator.Map.Path+"/")):
		fe.soap(w, r)
	default:
		fe.inner.ServeHTTP(w, r)
	}
}

// Methods that need no session, as on vCenter (and in the simulator's
// own list): the client calls them before it has one.
func sessionless(method string) bool {
	switch method {
	case "RetrieveServiceContent", "Login", "LoginByToken",
		"LoginExtensionByCertificate", "CloneSession":
		return true
	}
	return false
}

func (fe *frontend) soap(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		// Let the simulator answer a request it cannot parse.
		r.Body = io.NopCloser(bytes.NewReader(body))
		fe.inner.ServeHTTP(w, r)
		return
	}
	cookie := sessionCookie(r)
	if cookie != "" && !fe.sessions.touch(cookie) {
		if !sessionless(method.Name) {
			writeFault(w, "The session is not authenticated.",
				notAuthenticated(method.This))
			return
		}
		// A new login over an expired session's cookie.
		dropCookie(r)
		cookie = ""
	}
	if method.Name == "QueryChangedDiskAreas" {
		if cookie == "" {
			writeFault(w, "The session is not authenticated.",
				notAuthenticated(method.This))
			return
		}
		req := method.Body.(*types.QueryChangedDiskAreas)
		info, fault := fe.cbt.query(req)
		if fault != nil {
			writeFault(w, fault.msg, fault.detail)
			return
		}
		writeResult(w, "QueryChangedDiskAreasResponse", info)
		return
	}

	if d := fe.delays.take(method.Name); d > 0 {
		fe.slowTask(w, r, body, method, cookie, d)
		return
	}
	rec := httptest.NewRecorder()
	r.Body = io.NopCloser(bytes.NewReader(body))
	fe.inner.ServeHTTP(rec, r)
	res := rec.Result()
	if res.StatusCode == http.StatusOK {
		fe.afterCall(method, cookie, res)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(rec.Body.Bytes())
}

// What the front end adds to a call the simulator has answered.
func (fe *frontend) afterCall(method *simulator.Method, cookie string, res *http.Response) {
	switch method.Name {
	case "Login", "LoginByToken", "LoginExtensionByCertificate", "CloneSession":
		for _, c := range res.Cookies() {
			if c.Name == soap.SessionCookieName {
				fe.sessions.add(c.Value)
				fe.stats.logins.Add(1)
			}
		}
	case "Logout":
		fe.sessions.remove(cookie)
	case "CreateSnapshot_Task":
		fe.cbt.snapshotTaken(method.This)
	case "RemoveSnapshot_Task", "RemoveAllSnapshots_Task":
		fe.cbt.settle()
		consolidate(false)
	case "RevertToSnapshot_Task", "RevertToCurrentSnapshot_Task":
		fe.cbt.settle()
		consolidate(true)
	}
}

func sessionCookie(r *http.Request) string {
	if c, err := r.Cookie(soap.SessionCookieName); err == nil {
		return c.Value
	}
	return ""
}

// Remove the session cookie from a request, keeping any other cookie.
func dropCookie(r *http.Request) {
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name != soap.SessionCookieName {
			r.AddCookie(c)
		}
	}
}

// A fault as vCenter sends it: HTTP 500, a SOAP Fault whose detail is a
// <KindFault xsi:type="Kind"> element in the urn:vim25 namespace (the
// shape the simulator gives its own faults).
type faultDetail struct {
	fault types.BaseMethodFault
}

func (d faultDetail) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	kind := fmt.Sprintf("%T", d.fault)
	kind = kind[strings.LastIndex(kind, ".")+1:]
	start.Name = xml.Name{Local: kind + "Fault"}
	start.Attr = []xml.Attr{
		{Name: xml.Name{Local: "xmlns"}, Value: "urn:vim25"},
		{Name: xml.Name{Local: "xsi:type"}, Value: kind},
	}
	return e.EncodeElement(d.fault, start)
}

const envelopeStart = xml.Header +
	`<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"` +
	` xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"` +
	` xmlns:xsd="http://www.w3.org/2001/XMLSchema"` +
	` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`
const envelopeEnd = `</soapenv:Body></soapenv:Envelope>`

func writeFault(w http.ResponseWriter, msg string, detail types.BaseMethodFault) {
	var b bytes.Buffer
	b.WriteString(envelopeStart)
	b.WriteString("<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>")
	_ = xml.EscapeText(&b, []byte(msg))
	b.WriteString("</faultstring><detail>")
	if err := xml.NewEncoder(&b).Encode(faultDetail{detail}); err != nil {
		panic(err)
	}
	b.WriteString("</detail></soapenv:Fault>" + envelopeEnd)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(b.Bytes())
}

// <NameResponse xmlns="urn:vim25"><returnval>...</returnval></NameResponse>
func writeResult(w http.ResponseWriter, name string, val interface{}) {
	var b bytes.Buffer
	b.WriteString(envelopeStart)
	fmt.Fprintf(&b, `<%s xmlns="urn:vim25">`, name)
	if err := xml.NewEncoder(&b).EncodeElement(val,
		xml.StartElement{Name: xml.Name{Local: "returnval"}}); err != nil {
		panic(err)
	}
	fmt.Fprintf(&b, "</%s>%s", name, envelopeEnd)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// NotAuthenticated, as vCenter answers a call on a session that has
// ended (vSphere Web Services API, fault NotAuthenticated: "thrown when
// an operation is denied because the session has not yet successfully
// logged in").
func notAuthenticated(this types.ManagedObjectReference) types.BaseMethodFault {
	return &types.NotAuthenticated{NoPermission: types.NoPermission{
		Object: this, PrivilegeId: "System.View"}}
}
